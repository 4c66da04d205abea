"""Manifest entries and options -> specs; every malformed one is a one-line ManifestError."""
import pytest

from micropkg_tasks.config import manifest
from micropkg_tasks.config.project import load_project
from micropkg_tasks.errors import ManifestError


def test_package_entries_in_file_order_with_defaults():
    specs = manifest.package_specs({"package": {"pipelines.b": {}, "utils": {"alias": "u2", "env": "uat",
                                                                            "destination": "out/x"}}})
    assert [s.module_path for s in specs] == ["pipelines.b", "utils"]
    assert specs[0] == manifest.PackageSpec("pipelines.b")
    assert (specs[1].alias, specs[1].env, specs[1].destination, specs[1].name) == ("u2", "uat", "out/x", "u2")


def test_pull_entries_accept_fs_args_spelled_both_ways():
    specs = manifest.pull_specs({"pull": {"a.tar.gz": {"fs-args": "f.yml"}, "b.tar.gz": {"fs_args": "g.yml"}}})
    assert [s.fs_args for s in specs] == ["f.yml", "g.yml"]


def test_pull_destination_accepts_dots_as_separators():
    assert manifest.pull_spec("x.tar.gz", destination="pipelines.lib").destination == "pipelines/lib"


def test_missing_sections_are_empty():
    assert manifest.package_specs({}) == [] and manifest.pull_specs({}) == []


BAD_PACKAGE = [
    ({"package": {"pipelines": {"cleaning": {}}}}, "unquoted dotted key"),
    ({"package": {"pipelines.x": {"aliass": "y"}}}, "unknown option 'aliass'; valid options: alias, destination, env"),
    ({"package": {"pipelines.x": {"alias": "a"}}}, "at least 2 characters"),
    ({"package": {"pipelines.x": {"alias": "1bad"}}}, "not a valid Python package name"),
    ({"package": {"pipelines.x": {"alias": "bad-name"}}}, "not a valid Python package name"),
    ({"package": {"pipelines.x": {"alias": "class"}}}, "not a valid Python package name"),
    ({"package": {"pipelines.x": {"alias": ""}}}, None),  # empty alias means none
    ({"package": {"pipelines/x": {}}}, "not a Python module path"),
    ({"package": {"": {}}}, "not a Python module path"),
    ({"package": {"pipelines.x": {"destination": "C:\\out"}}}, "must be a POSIX path"),
    ({"package": {"pipelines.x": {"destination": "out\nx"}}}, "control character"),
    ({"package": {"pipelines.x": {"env": "../base"}}}, "env '../base'"),
    ({"package": {"pipelines.x": {"env": "a/b"}}}, "env 'a/b'"),
    ({"package": {"pipelines.x": {"alias": 3}}}, "must be a string, not int"),
    ({"package": {"pipelines.x": "alias"}}, "must be a table of options"),
    ({"package": ["pipelines.x"]}, "must be a table of entries"),
    ({"package": {"a.x": {}, "b.x": {}}}, "two entries write to the same sdist name"),
]


@pytest.mark.parametrize("destination", ["../out", "/abs/out", "~/sdists", "dist/shared"])
def test_package_destination_may_be_any_folder(destination):
    """Sdists are outputs: Kedro 0.19 wrote them wherever --destination said (pulled code stays inside)."""
    assert manifest.package_specs({"package": {"pipelines.x": {"destination": destination}}})[0].destination == destination


@pytest.mark.parametrize("micropkg,message", BAD_PACKAGE)
def test_bad_package_manifests(micropkg, message):
    if message is None:
        assert manifest.package_specs(micropkg)[0].alias is None
        return
    with pytest.raises(ManifestError) as err:
        manifest.package_specs(micropkg)
    text = str(err.value)
    assert message in text and "\n" not in text
    assert "[tool.micropkg.package]" in text


BAD_PULL = [
    ({"pull": {"x.tar.gz": {"alias": "my-alias"}}}, "not a valid Python package name"),
    ({"pull": {"x.tar.gz": {"destination": "../x"}}}, "inside the project"),
    ({"pull": {"x.tar.gz": {"destination": "pipe-lines"}}}, "package names separated by '/'"),
    ({"pull": {"x.tar.gz": {"env": ".."}}}, "env '..'"),
    ({"pull": {"x.tar.gz": {"fs_args": "a\x00b.yml"}}}, "fs_args must be the path of a YAML file"),
    ({"pull": {"not a requirement!": {}}}, "not a path, a URL or a requirement"),
    ({"pull": {"tidy @ https://h/x.tar.gz": {}}}, "direct reference"),
    ({"pull": {"x.tar.gz": {"sha256": "abc"}}}, "64 lower-case hex digits"),
    ({"pull": {"x.tar.gz": {"version": "1"}}}, "unknown option 'version'"),
    ({"pull": {"pip-compile": {}}}, "reserved"),
    ({"pull": {" ": {}}}, "must be a path, a URL or a requirement"),
]


@pytest.mark.parametrize("micropkg,message", BAD_PULL)
def test_bad_pull_manifests(micropkg, message):
    with pytest.raises(ManifestError) as err:
        manifest.pull_specs(micropkg)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("pyproject,message", [
    ("[tool.kedro\n", "not valid TOML"),
    ("[project]\nname='x'\n", "no [tool.kedro] package_name"),
    ("[tool.kedro]\npackage_name = 'my-pkg'\n", "not a Python identifier"),
    ("[tool.kedro]\npackage_name = 'p'\nsource_dir = '../src'\n", "inside the project"),
    ("[tool.kedro]\npackage_name = 'p'\nmicropkg = 3\n", "must be a table"),
])
def test_bad_project_files(tmp_path, pyproject, message):
    (tmp_path / "pyproject.toml").write_text(pyproject)
    with pytest.raises(ManifestError, match=message.replace("[", r"\[")):
        load_project(tmp_path)


def test_missing_pyproject(tmp_path):
    with pytest.raises(ManifestError, match="pyproject.toml not found"):
        load_project(tmp_path)


# -- hardening (issue #9): whole-string matches, control characters, lengths, capped messages ------

HUGE = "a" * 10_000_000
LONG_NAME = "x" * 300

HOSTILE_PACKAGE = [
    ({"package": {"pipelines.x\n": {}}}, "not a Python module path"),
    ({"package": {"pipelines.x": {"env": "local\n"}}}, "env 'local\\n' must be the name of one folder"),
    ({"package": {"pipelines.x": {"destination": "out\x00x"}}}, "destination 'out\\x00x' has a NUL, newline or other control"),
    ({"package": {"pipelines.x": {"destination": "out/\n"}}}, "has a NUL, newline or other control"),
    ({"package": {f"pipelines.{LONG_NAME}": {}}}, "module path has a part longer than 255 bytes"),
    ({"package": {"pipelines.x": {"destination": f"out/{LONG_NAME}"}}}, "destination has a part longer than 255 bytes"),
    ({"package": {"pipelines.x": {"env": LONG_NAME}}}, "env has a part longer than 255 bytes"),
]


@pytest.mark.parametrize("micropkg,message", HOSTILE_PACKAGE)
def test_hostile_package_values(micropkg, message):
    with pytest.raises(ManifestError) as err:
        manifest.package_specs(micropkg)
    assert message in str(err.value) and "\n" not in str(err.value)


HOSTILE_PULL = [
    ({"pull": {"x.tar.gz": {"env": "local\n"}}}, "env 'local\\n'"),
    ({"pull": {"x.tar.gz": {"sha256": "a" * 64 + "\n"}}}, "64 lower-case hex digits"),
    ({"pull": {"x.tar.gz": {"destination": "pipelines\x00"}}}, "has a NUL, newline or other control"),
    ({"pull": {"x.tar.gz": {"fs_args": "creds\x01.yml"}}}, "fs_args must be the path of a YAML file"),
    ({"pull": {"x.tar.gz": {"fs_args": f"{LONG_NAME}.yml"}}}, "fs_args has a part longer than 255 bytes"),
    ({"pull": {f"{LONG_NAME}.tar.gz": {}}}, "the source path has a part longer than 255 bytes"),
    ({"pull": {f"dist/{LONG_NAME}/x.tar.gz": {}}}, "the source path has a part longer than 255 bytes"),
    ({"pull": {"dist/x\x07.tar.gz": {}}}, "has a NUL, newline or other control"),
]


@pytest.mark.parametrize("micropkg,message", HOSTILE_PULL)
def test_hostile_pull_values(micropkg, message):
    with pytest.raises(ManifestError) as err:
        manifest.pull_specs(micropkg)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_long_urls_and_requirements_stay_valid_sources():
    """Only a path is a file name; a long URL or requirement is not refused for its length."""
    assert manifest.pull_spec(f"https://h/{LONG_NAME}.tar.gz").kind == "url"
    assert manifest.pull_spec(f"{LONG_NAME}==1.0").kind == "index"


@pytest.mark.parametrize("call", [
    lambda: manifest.package_specs({"package": {HUGE: {}}}),
    lambda: manifest.package_specs({"package": {"pipelines.x": {"env": HUGE}}}),
    lambda: manifest.package_specs({"package": {"pipelines.x": {"destination": HUGE + "\x00"}}}),
    lambda: manifest.package_specs({"package": {"pipelines.x": {HUGE: "1"}}}),
    lambda: manifest.pull_specs({"pull": {HUGE + "!": {}}}),
    lambda: manifest.pull_specs({"pull": {"x.tar.gz": {"destination": HUGE + "-"}}}),
    lambda: manifest.compile_command({"compile": "'" + HUGE}),
    lambda: manifest.max_size({"max-size": HUGE}),
], ids=["module-path", "env", "destination", "option-name", "pull-key", "pull-destination", "compile", "max-size"])
def test_messages_never_echo_megabytes(call):
    with pytest.raises(ManifestError) as err:
        call()
    assert len(str(err.value)) < 600 and "\n" not in str(err.value)


def test_an_unbalanced_quote_in_compile_is_one_line():
    with pytest.raises(ManifestError, match="is not a valid command line \\(No closing quotation\\)"):
        manifest.compile_command({"compile": "pip-compile 'requirements.in"})


@pytest.mark.parametrize("value,size", [
    (None, 256 << 20), (1000, 1000), ("1000", 1000), ("1000B", 1000), ("2KiB", 2048), ("2 kB", 2000),
    ("256MiB", 256 << 20), ("1GB", 10**9), ("1gib", 1 << 30),
])
def test_max_size_accepts_bytes_and_units(value, size):
    assert manifest.max_size({} if value is None else {"max-size": value}) == size


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "", "1.5GB", "12 parsecs", "256MiB\n", "MiB", [1]])
def test_max_size_refuses_anything_else(value):
    with pytest.raises(ManifestError, match=r"\[tool.micropkg\] max-size .* must be a positive number of bytes"):
        manifest.max_size({"max-size": value})


@pytest.mark.parametrize("pyproject,message", [
    ('tool = "x"\n', r"\[tool\] must be a table"),
    ("tool = [1]\n", r"\[tool\] must be a table"),
    ('[tool.kedro]\npackage_name = "p"\n[tool]\nmicropkg = "x"\n', r"\[tool.micropkg\] must be a table"),
    ('[tool.kedro]\npackage_name = "p"\n[tool]\nmicropkg = [1]\n', r"\[tool.micropkg\] must be a table"),
])
def test_tool_tables_that_are_not_tables(tmp_path, pyproject, message):
    (tmp_path / "pyproject.toml").write_text(pyproject)
    with pytest.raises(ManifestError, match=message):
        load_project(tmp_path)


@pytest.mark.parametrize("kedro,message", [
    (f'package_name = "{"p-" * 3_000_000}"', "is not a Python identifier"),
    (f'package_name = "p"\nsource_dir = "{"../" * 3_000_000}"', "must be a relative path inside the project"),
    ('package_name = "p"\nsource_dir = "src\\n"', "must be a relative path inside the project"),
])
def test_project_facts_are_checked_and_never_echoed_in_full(tmp_path, kedro, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.kedro]\n{kedro}\n")
    with pytest.raises(ManifestError, match=message) as err:
        load_project(tmp_path)
    assert len(str(err.value)) < 300


# -- one validated, frozen, typed Manifest, built once when the project is loaded (issue 20) -------

def test_load_project_validates_the_whole_manifest_once(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "p"\n[tool.micropkg]\ncompile = "uv pip compile"\nmax-size = "1MiB"\n'
        'timeout = 5\nwheel = true\nindex = "https://h/simple/"\npublish = "s3://b/m/"\n'
        '[tool.micropkg.package]\n"pipelines.x" = {alias = "xx", allow = ["p.utils"]}\n'
        '[tool.micropkg.pull]\n"tidy>=1" = {}\n"dist/a-1.0.tar.gz" = {env = "local"}\n')
    m = load_project(tmp_path).manifest
    assert m.packages == (manifest.PackageSpec("pipelines.x", alias="xx", allow=("p.utils",)),)
    assert [(s.source, s.kind, s.index) for s in m.pulls] == [("tidy>=1", "index", "https://h/simple/"),
                                                              ("dist/a-1.0.tar.gz", "path", None)]
    assert m.limits == manifest.Limits(timeout=5.0, max_size=1 << 20)
    assert m.compile == ("uv", "pip", "compile") and m.wheel and not m.allow_direct_references
    assert m.publish == manifest.Publish(url="s3://b/m/", kind="bucket")
    assert m.index_for("tidy") == "https://h/simple/" and m.index_for("dist/a-1.0.tar.gz") is None
    assert m.pull_entry("dist/a-1.0.tar.gz").env == "local" and m.pull_entry("other") is None
    with pytest.raises(AttributeError):
        m.wheel = False  # frozen


@pytest.mark.parametrize("option,message", [
    ('allow-direct-references = "yes"', "allow-direct-references must be true or false"),  # was read only by a pull
    ('[tool.micropkg.pull]\n"x.tar.gz" = {env = "ｌｏｃａｌ"}', "env 'ｌｏｃａｌ' must be the name of one folder"),
    ('publish = {url = "s3://b/", simple = "x"}', "simple applies to a package index"),
])
def test_every_option_is_checked_when_the_project_is_loaded(tmp_path, option, message):
    (tmp_path / "pyproject.toml").write_text(f'[tool.kedro]\npackage_name = "p"\n[tool.micropkg]\n{option}\n')
    with pytest.raises(ManifestError, match=message):
        load_project(tmp_path)
