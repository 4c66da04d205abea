"""The pure decisions: parameter file patterns, alias renames, versions, requirements, PKG-INFO,
import rewriting."""
import pytest

from micropkg_tasks.core.layout import is_parameter_file, rename_config, sdist_root, walk_files
from micropkg_tasks.core.metadata import parse_pkg_info, parse_requirements, read_version, render_pkg_info
from micropkg_tasks.core.rewrite import rename_module
from micropkg_tasks.errors import ArchiveError, PackageError


@pytest.mark.parametrize("rel,expected", [
    ("parameters_x.yml", True),                     # pattern 1 at the env root
    ("deep/er/parameters_x.yml", True),             # pattern 1 at any depth
    ("parameters_x_extra.yml", False),              # the name must match exactly
    ("parameters/x.yml", True),                     # pattern 3
    ("parameters_more/deep/x.yml", True),           # pattern 3, nested
    ("other/x.yml", False),                         # pattern 3 needs a parameters* top folder
    ("parameters/x/a.yml", True),                   # pattern 4
    ("x/parameters_anything.yml", True),            # pattern 2, kept by Kedro's MANIFEST.in
    ("x/catalog.yml", False),                       # pattern 2 but never a catalog file
    ("parameters/x/catalog_x.yml", False),
    ("catalog_x.yml", False),
    ("credentials.yml", False),
    ("parameters_y.yml", False),
])
def test_parameter_patterns(rel, expected):
    assert is_parameter_file(rel, "x") is expected


@pytest.mark.parametrize("rel,expected", [
    ("parameters_clean.yml", "parameters_tidy.yml"),
    ("parameters/clean.yml", "parameters/tidy.yml"),
    ("parameters/clean/deep.yml", "parameters/tidy/deep.yml"),
    ("parameters_clean_extra.yml", "parameters_clean_extra.yml"),   # only contains the name
    ("parameters/clean_more/a.yml", "parameters/clean_more/a.yml"),
])
def test_alias_renames_only_exact_names(rel, expected):
    assert rename_config(rel, "clean", "tidy") == expected


def test_walk_skips_bytecode_and_hidden(tmp_path):
    for rel in ["a.py", "b/c.sql", "__pycache__/a.cpython-311.pyc", ".hidden", "d/.git/x", "e.pyc"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert walk_files(tmp_path) == ["a.py", "b/c.sql"]


def test_version_is_read_without_running_code(tmp_path):
    init = tmp_path / "__init__.py"
    init.write_text('import sys; sys.exit("ran!")\n__version__: str = "1.2"\n')
    assert read_version(init) == "1.2"
    init.write_text("__version__ = get_version()\n")
    with pytest.raises(PackageError, match="string literal"):
        read_version(init)
    init.write_text("x = 1\n")
    assert read_version(init) is None


def test_requirements_are_normalised_and_comments_dropped():
    text = "# c\n\npyyaml>=6.0  # for config\npackaging>=21 ; python_version >= '3.8'\nAttrs[b,a]>=1\npyyaml>=6.0\n"
    assert parse_requirements(text, "r") == ["pyyaml>=6.0", 'packaging>=21; python_version >= "3.8"', "Attrs[a,b]>=1"]
    assert parse_requirements("", "r") == []


@pytest.mark.parametrize("line", ["-r other.txt", "-e .", "--extra-index-url https://x", "./pkg.whl",
                                  "http://some.website.com/package.whl", "pandas \\", "pandas#c"])
def test_non_pep508_requirement_lines_name_file_and_line(line):
    with pytest.raises(PackageError, match=r"requirements.txt:2: .* is not a PEP 508 requirement"):
        parse_requirements(f"ok\n{line}\n", "requirements.txt")


def test_pkg_info_round_trip_and_errors():
    text = render_pkg_info("n", "1.0", ["a>=1", 'b; python_version < "4"'])
    assert parse_pkg_info(text, "x") == ("n", "1.0", ["a>=1", 'b; python_version < "4"'])
    for bad in ["Name: n\n", "Name: n\nVersion: not a version\n", "Name: n\nVersion: 1\nRequires-Dist: -r x\n"]:
        with pytest.raises(ArchiveError):
            parse_pkg_info(bad, "x")


def test_sdist_name_is_pep625():
    assert sdist_root("MyAlias_X", "0.1") == "myalias_x-0.1"
    assert sdist_root("a.b-c", "1.0") == "a_b_c-1.0"


SOURCE = '''"""Doc mentioning acme.pipelines.cleaning stays."""
import acme.pipelines.cleaning.utils.text as text_utils
import acme.pipelines.cleaning.nodes
from acme.pipelines.cleaning.nodes import (  # keep me
    clean_names,
    shout,
)
from acme.pipelines import cleaning as cl
from acme.pipelines.cleaning_extra import other
from . import sibling
from .nodes import helper

x = acme.pipelines.cleaning.nodes.helper
y = acme.pipelines.cleaning_extra.thing
patch("acme.pipelines.cleaning.nodes.helper")
name = "acme.pipelines.cleaning"
prefix = "acme.pipelines.cleaning_extra.z"
data = b"acme.pipelines.cleaning.nodes"
'''


def test_rename_every_import_form_and_keep_formatting():
    out = rename_module(SOURCE, "acme.pipelines.cleaning", "tidy")
    assert out == SOURCE.replace('''import acme.pipelines.cleaning.utils.text as text_utils
import acme.pipelines.cleaning.nodes
from acme.pipelines.cleaning.nodes import (''', '''import tidy.utils.text as text_utils
import tidy.nodes
from tidy.nodes import (''').replace(
        "from acme.pipelines import cleaning as cl", "import tidy as cl").replace(
        "x = acme.pipelines.cleaning.nodes.helper", "x = tidy.nodes.helper").replace(
        'patch("acme.pipelines.cleaning.nodes.helper")', 'patch("tidy.nodes.helper")').replace(
        'name = "acme.pipelines.cleaning"', 'name = "tidy"')


def test_rename_single_name_to_a_nested_location():
    src = ("import cleaning\nfrom cleaning.nodes import f\nfrom cleaning_extra import g\n"
           "cleaning.run()\nkey = 'cleaning'\np = 'cleaning.nodes.f'\n")
    out = rename_module(src, "cleaning", "consumer.pipelines.tidy")
    assert out == ("import consumer.pipelines.tidy\nfrom consumer.pipelines.tidy.nodes import f\n"
                   "from cleaning_extra import g\nconsumer.pipelines.tidy.run()\nkey = 'cleaning'\n"
                   "p = 'consumer.pipelines.tidy.nodes.f'\n")


def test_local_names_are_not_rewritten_without_a_plain_import():
    src = "from cleaning import nodes\ndef f(cleaning):\n    return cleaning.value\n"
    assert rename_module(src, "cleaning", "c.cleaning2") == (
        "from c.cleaning2 import nodes\ndef f(cleaning):\n    return cleaning.value\n")


def test_rename_and_back_is_identity():
    """Every form comes back to the original text, but ``from a.b import c as x``, which comes
    back as its equivalent ``import a.b.c as x``, and a bare one-word string such as "tidy_alias",
    which is never rewritten (it is more often a dataset or parameter name than a module)."""
    source = SOURCE.replace('name = "acme.pipelines.cleaning"\n', "")
    once = rename_module(source, "acme.pipelines.cleaning", "tidy_alias")
    back = rename_module(once, "tidy_alias", "acme.pipelines.cleaning")
    assert back == source.replace("from acme.pipelines import cleaning as cl", "import acme.pipelines.cleaning as cl")


def test_rename_reaches_imports_nested_in_every_kind_of_statement():
    source = (
        "def f():\n    import acme.x.y\n    return acme.x.y.z\n"
        "class C:\n    from acme.x import y\n"
        "try:\n    from acme.x.y import a\nexcept ImportError:\n    from acme.x.y import b\nelse:\n    pass\n"
        "finally:\n    import acme.x as ax\n"
        "with open('f') as fh:\n    from acme.x import y as yy\n"
        "for _ in []:\n    pass\nelse:\n    from acme.x.y import c\n"
        "match 1:\n    case 1:\n        from acme.x.y import d\n"
        "def g():\n    return 'acme.x.y.h'\n"
    )
    renamed = rename_module(source, "acme.x.y", "tidy")
    assert "acme.x.y" not in renamed
    assert "import tidy\n    return tidy.z" in renamed and "import tidy\n" in renamed
    assert "from tidy import a" in renamed and "from tidy import b" in renamed and "from tidy import c" in renamed
    assert "from tidy import d" in renamed and "return 'tidy.h'" in renamed
    assert "import acme.x as ax" in renamed  # the parent module is not the renamed one


@pytest.mark.parametrize("text,expected", [
    ('__version__ = "0.3.1"\n', "0.3.1"),
    ("__version__: str = '1.2'  # the release\n", "1.2"),
    ('"""Doc."""\n__version__ = "2.0"\n', "2.0"),  # a leading docstring: still the fast path
    ('"""Doc.\n__version__ = "9"\n"""\n', None),  # only inside the docstring
    ('"""Doc."""\nx = """\n__version__ = "9"\n"""\n', None),
    ('"""Doc."""\ndict(\n__version__ = "1"\n)\n', None),  # a keyword argument, not an assignment
    ("s = 'a\\\n__version__ = \"1\" #\\\n'\n", None),  # inside a string continued over lines
    ('"""Doc."""\n__\uff56ersion__ = "2"\n__version__ = "1"\n', "2"),  # NFKC: the fullwidth v is a v
    ('def f():\n    __version__ = "9"\n__version__ = "1.0"\n', "1.0"),  # two mentions: the parser's path
    ('x = """\n__version__ = "9"\n"""\n', None),  # only inside a string
    ('if True:\n    __version__ = "9"\n', None),  # not top level
])
def test_version_is_what_the_parser_would_find(tmp_path, text, expected):
    init = tmp_path / "__init__.py"
    init.write_text(text)
    assert read_version(init) == expected


@pytest.mark.parametrize("source,old,new", [
    ('x = "abc\\\r\nfrom old import y"\r\n', "old", "new"),  # a CRLF-continued string holds a from-line
    ("from old.\uff53ub import x\n", "old", "new"),  # the parser reads the fullwidth s as s
    ("from pkg.old import x\nfrom pkg import \uff4fld\n", "pkg.old", "newpkg"),
])
def test_the_rename_without_parsing_defers_to_the_parser_where_they_could_differ(source, old, new):
    from micropkg_tasks.core.rewrite import rename_module_parsed

    assert rename_module(source, old, new) == rename_module_parsed(source, old, new)
