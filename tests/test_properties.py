"""Properties (hypothesis): merging, renaming, reproducibility and upgrade/downgrade."""
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import ACME, copy_tree, make_consumer, make_tar, sdist_entries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micropkg_tasks.actions.pull import pull
from micropkg_tasks.config.manifest import PackageSpec, pull_spec
from micropkg_tasks.config.project import load_project
from micropkg_tasks.core.collect import collect
from micropkg_tasks.core.layout import walk_files
from micropkg_tasks.core.requirements import append_block, existing_keys, new_requirements, requirement_key
from micropkg_tasks.core.rewrite import rename_module, rename_module_parsed
from micropkg_tasks.core.sdist import plan_sdist
from micropkg_tasks.store.tarball import write_tar_gz

ident = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in {"as", "if", "in", "is", "or", "and", "def", "del", "for", "not", "try", "from", "with",
                        "else", "elif", "pass", "None", "True", "class", "while", "yield", "break", "raise",
                        "async", "await", "global", "import", "lambda", "return", "assert", "except", "finally",
                        "continue", "nonlocal", "false", "true"})
requirement = st.builds(
    lambda name, extras, spec, marker: f"{name}{extras}{spec}{marker}",
    st.sampled_from(["pandas", "PyYAML", "foo_bar", "Foo-Bar", "attrs", "numpy"]),
    st.sampled_from(["", "[a]", "[b,a]"]),
    st.sampled_from(["", ">=1", "<2,>=1", ">=1,<2", "==1.0.*"]),
    st.sampled_from(["", '; python_version < "3.13"', "; sys_platform == 'linux'"]))


@given(st.lists(requirement, max_size=8), st.lists(requirement, max_size=8), st.text(alphabet="ab\n#-r ", max_size=20))
def test_requirement_merging_is_idempotent_and_order_independent(first, second, noise):
    def merged(existing, *batches):
        text = existing
        for i, batch in enumerate(batches):
            text = append_block(text, f"m{i}", new_requirements(text, batch))
        return text

    once = merged(noise, first)
    assert merged(once, first) == once  # idempotent
    ab, ba = merged(noise, first, second), merged(noise, second, first)
    expected = existing_keys(noise) | {requirement_key(r) for r in first + second}
    assert existing_keys(ab) == existing_keys(ba) == expected  # the same requirements, whatever the order
    assert ab.startswith(noise) and ba.startswith(noise)  # what was there is kept verbatim


STATEMENTS = [
    "import {old}", "import {old}.{sub}", "import {old}.{sub} as {x}", "from {old} import {x}",
    "from {old}.{sub} import ({x},  # note\n    {y},\n)", "from . import {x}", "from .{sub} import {y}",
    "value = {old}.{sub}.{x}()", "patch(\"{old}.{sub}.{x}\")", "{x} = '{sub}'", "import {other}",
    "from {old}_extra import {x}",
]


@given(st.lists(ident, min_size=1, max_size=3), ident, st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=8),
       ident, ident, ident, ident)
def test_aliasing_and_back_gives_the_original_text(old_parts, alias, templates, sub, x, y, other):
    old = ".".join(old_parts)
    if alias in old_parts or alias == other or alias.startswith(old_parts[0]) or other == old_parts[0]:
        return  # a clash with a name in the file is a different, ambiguous source
    if {sub, x, y} & {old_parts[0], alias}:
        return
    source = "\n".join(templates).format(old=old, sub=sub, x=x, y=y, other=other) + "\n"
    assert rename_module(rename_module(source, old, alias), alias, old) == source


FAST_PATH_STATEMENTS = STATEMENTS + [
    "from {old} import {x}", "from {old}.{sub} import {x} as {y}", "    from {old} import {x}",
    "if {x}:\n    from {old}.{sub} import {y}\nelse:\n    {y} = None", "\tfrom {old} import ({x}, {y})",
    "# from {old} import {x}", "text = 'from {old} import {x}'", "def {x}():\n    return \"from {old}\"",
    "from {old}.{old_leaf} import {x}", "{old_leaf} = 1", "from {other} import {old_leaf}",
    "doc = \"\"\"\nfrom {old} import {x}\n\"\"\"", "from {old} \\\n    import {x}",
    "from {old} .{sub} import {x}", "from {old}{sub} import {x}", "from {x}.{old} import {y}",
    "from  {old}\timport {x}", "{x} = {old_leaf}{y}",
    "{x} = 'a\\\r\nfrom {old} import {y}'", "from {old}.\uff53{sub} import {x}",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(ident, min_size=1, max_size=3), ident, st.lists(st.sampled_from(FAST_PATH_STATEMENTS), min_size=1, max_size=8),
       ident, ident, ident, ident)
def test_the_rename_without_parsing_gives_what_the_parser_gives(old_parts, new, templates, sub, x, y, other):
    """A file whose only mentions are ``from old import`` lines is renamed without the parser;
    on any valid source, with or without other mentions, the result is the parser's."""
    old = ".".join(old_parts)
    source = "\n".join(templates).format(old=old, old_leaf=old_parts[-1], sub=sub, x=x, y=y, other=other) + "\n"
    try:
        expected = rename_module_parsed(source, old, new)
    except SyntaxError:
        return  # not Python (an identifier drew a keyword): the parser refuses it anyway
    assert rename_module(source, old, new) == expected


requirement_line = st.builds(
    lambda name, op, version: f"{name}{op}{version}",
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,6}", fullmatch=True),
    st.sampled_from(["", ">=", "<=", ">", "<", "==", "!=", "~=", "===", " >= ", "=", ">=="]),
    st.from_regex(r"(0|[1-9][0-9]{0,2}|0[0-9])(\.[0-9]{1,2}){0,3}(\.\*|rc1|\.dev0|a|\+x)?", fullmatch=True))


@settings(max_examples=400, deadline=None)
@given(requirement_line)
def test_requirement_lines_render_as_packaging_renders_them(line):
    """The common line is rendered without importing packaging: always what packaging gives,
    and refused whenever packaging refuses it."""
    from packaging.requirements import InvalidRequirement, Requirement

    from micropkg_tasks.core.metadata import render_requirement

    try:
        expected = str(Requirement(line))
    except InvalidRequirement:
        with pytest.raises(ValueError):
            render_requirement(line)
        return
    assert render_requirement(line) == expected


def test_a_plain_requirement_line_does_not_import_packaging():
    """Packaging costs a one-edited build at N=100 a tenth of its time; plain lines skip it."""
    code = ("import sys; from micropkg_tasks.core.metadata import parse_requirements;"
            "assert parse_requirements('pyyaml>=6\\nkedro~=1.0\\nnumpy\\n', 'r') == ['pyyaml>=6', 'kedro~=1.0', 'numpy'];"
            "assert 'packaging' not in sys.modules, 'imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


INIT_PARTS = ['"""Pipeline x."""', "'''Doc.'''", '"""Doc\n__version__ = \'9\'\n"""', '"""a "quoted" doc"""',
              "# a comment", "", "__version__ = '1.2'", '__version__ = "0.3.1"  # release', "__version__: str = '2'",
              "x = '''\n__version__ = '7'\n'''", "def f():\n    __version__ = '8'", "if x:\n    __version__ = '6'",
              "import os", "y = '__version__'", '"""late doc"""', '"""esc \\""" """']


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(INIT_PARTS), max_size=6))
def test_version_without_the_parser_is_what_the_parser_finds(parts):
    """read_version's shortcut (one plain line, maybe after a docstring) agrees with the parser."""
    import ast

    from micropkg_tasks.core.metadata import read_version

    text = "\n".join(parts) + "\n"
    expected = None
    for node in ast.parse(text).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "__version__" for t in targets):
            expected = node.value.value
            break
    with tempfile.TemporaryDirectory() as tmp:
        init = Path(tmp, "__init__.py")
        init.write_text(text)
        assert read_version(init) == expected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(315_532_800, 2_000_000_000), st.sampled_from([0o600, 0o644, 0o755, 0o444])),
                min_size=30, max_size=30), st.sampled_from([0o022, 0o077, 0o002]))
def test_sdist_bytes_ignore_times_and_permissions(stamps, umask):
    with tempfile.TemporaryDirectory() as tmp:
        project_dir = copy_tree(ACME, Path(tmp) / "p")
        project = load_project(project_dir)
        spec = PackageSpec("pipelines.cleaning", alias="tidy")
        reference = io.BytesIO()
        write_tar_gz(plan_sdist(project, collect(project, spec)), reference)
        files = sorted(p for p in project_dir.rglob("*") if p.is_file())
        for path, (stamp, mode) in zip(files, stamps * (len(files) // len(stamps) + 1)):
            os.utime(path, (stamp, stamp))
            path.chmod(mode)
        previous = os.umask(umask)
        try:
            again = io.BytesIO()
            write_tar_gz(plan_sdist(project, collect(project, spec)), again)
        finally:
            os.umask(previous)
        assert again.getvalue() == reference.getvalue()


files_strategy = st.dictionaries(st.sampled_from(["a.py", "b.py", "sub/c.py", "sub/deep/d.txt", "e.sql",
                                                  "config/parameters_tidy.yml", "config/parameters/tidy/x.yml"]),
                                 st.text(alphabet="xyz\n", max_size=10), max_size=7)


@settings(max_examples=25, deadline=None)
@given(files_strategy, files_strategy)
def test_pull_upgrade_downgrade_leaves_exactly_the_last_versions_files(v1_files, v2_files):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        consumer = make_consumer(root / "c")
        project = load_project(consumer)
        v1 = make_tar(root / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", files=v1_files))
        v2 = make_tar(root / "tidy-2.0.tar.gz", sdist_entries("tidy", "2.0", files=v2_files))
        for sdist in (v1, v2, v1):
            pull(project, pull_spec(str(sdist)))
        code = {f: (consumer / "src/consumer/tidy" / f).read_text() for f in walk_files(consumer / "src/consumer/tidy")}
        expected = {"__init__.py": '__version__ = "1.0"\n', **{k: v for k, v in v1_files.items() if not k.startswith("config/")}}
        assert code == expected
        conf = {f: (consumer / "conf/base" / f).read_text() for f in walk_files(consumer / "conf/base")}
        assert conf == {k[len("config/"):]: v for k, v in v1_files.items() if k.startswith("config/")}
        shutil.rmtree(consumer)
