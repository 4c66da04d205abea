"""One rule for each input (``micropkg_tasks/rules.py``): the manifest, the command-line options,
the lock reader and the archive checks accept exactly the same names and paths, so nothing a
pull writes is refused when it is read back (issue 17.4: a non-ASCII ``--env`` or
``--destination`` used to be accepted, installed, and written into a lock every later command
refused)."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from conftest import doit, make_consumer, make_tar, sdist_entries, snapshot
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from micropkg_tasks import rules
from micropkg_tasks.config import manifest
from micropkg_tasks.config.project import load_project
from micropkg_tasks.errors import LockError, ManifestError
from micropkg_tasks.sources import download
from micropkg_tasks.store import cache, tarball
from micropkg_tasks.store.lock import LockEntry, parse_lock, render_lock

PACKAGE = Path(rules.__file__).parent
#: Characters that tell the rules apart: ASCII name characters, separators, look-alikes
#: (fullwidth, accented), spaces that are not ASCII, control characters, a lone surrogate.
TRICKY = list("abzAZ_09.-/ :\\") + ["ｂ", "ａ", "ï", "é", "\n", "\x00", "\x7f", "\u0085", "\u3000", "\u00a0",
                                     "\u2028", "\ud800", "..", "class", "os"]
names = st.one_of(st.lists(st.sampled_from(TRICKY), max_size=8).map("".join), st.text(max_size=6))
settings_ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return load_project(make_consumer(tmp_path_factory.mktemp("rules") / "consumer"))


def accepted(call) -> bool:
    try:
        call()
    except ManifestError:
        return False
    return True


def lock_reads_back(project, module: str, **fields) -> bool:
    """Whether a lock entry as a pull would write it is read back: rendered, then parsed."""
    env = fields.get("env", "base")
    parts = module.split(".")
    files = {f"src/consumer/{'/'.join(parts)}/__init__.py": "0" * 64, f"tests/{'/'.join(parts)}/__init__.py": "1" * 64,
             f"conf/{env}/parameters_tidy.yml": "2" * 64}
    entry = LockEntry(module=module, source="dist/tidy-1.0.tar.gz", sha256="3" * 64, name="tidy", version="1.0",
                      files=files, **fields)
    try:
        parse_lock(render_lock({module: entry}), project)
    except LockError:
        return False
    return True


@settings_
@given(env=names)
@example(env="ｂａｓｅ")
@example(env="base")
@example(env="uat.eu-1")
@example(env="..")
@example(env="_x")
def test_an_env_the_manifest_accepts_is_one_the_lock_reads_back(project, env):
    in_manifest = accepted(lambda: manifest.pull_spec("dist/tidy-1.0.tar.gz", env=env))
    as_option = accepted(lambda: manifest.package_spec("pipelines.x", env=env))  # `doit package --env`
    assume(env)  # an empty option means the default env
    assert in_manifest == as_option == lock_reads_back(project, "tidy", env=env)


@settings_
@given(dest=names)
@example(dest="pïpelines")
@example(dest="pipelines/lib")
@example(dest="pipelines.lib")
@example(dest="./x/")
def test_a_destination_the_manifest_accepts_is_one_the_lock_reads_back(project, dest):
    assume(dest)  # an empty option means no destination
    try:
        written = manifest.pull_spec("dist/tidy-1.0.tar.gz", destination=dest).destination or ""
    except ManifestError:
        written = None
    as_written = written if written is not None else rules.normal_path(dest)  # what a laxer rule would write
    module = ".".join([*as_written.replace(".", "/").split("/"), "tidy"])
    assert (written is not None) == lock_reads_back(project, module, destination=as_written)


@settings_
@given(dest=names)
@example(dest="../shared")
@example(dest="C:/out")
@example(dest="~/sdists")
def test_a_package_destination_is_any_posix_folder_by_one_rule(dest):
    """Sdists are outputs (any folder, as Kedro 0.19's --destination); the manifest and the
    --destination option take exactly what rules.folder_problem does."""
    assume(dest)  # an empty option means dist/
    ok = accepted(lambda: manifest.package_spec("pipelines.x", destination=dest))
    assert ok == (bool(dest.strip()) and rules.folder_problem(dest) is None)


@settings_
@given(alias=names)
@example(alias="ｏｓ")
@example(alias="tidy2")
@example(alias="café")
def test_an_alias_the_manifest_accepts_is_a_package_the_archive_and_the_lock_accept(project, alias):
    if accepted(lambda: manifest.pull_spec("dist/tidy-1.0.tar.gz", alias=alias)) and alias:
        assert rules.name_problem(alias) is None  # what inspect_tree asks of a package folder
        assert lock_reads_back(project, alias, alias=alias)


@settings_
@given(path=st.lists(names, min_size=1, max_size=4).map("/".join))
@example(path="a/./b")
@example(path="C:/x")
@example(path="a/ /b")
@example(path="ok/file name.py")
@example(path="🎉/party.txt")  # beyond U+FFFF: the lock once wrote it as a surrogate pair TOML refuses
def test_archive_members_lock_files_and_manifest_paths_follow_one_path_rule(project, path):
    assume(path and not path.endswith("/"))  # a folder member: tarball strips the slash first
    # the same file below the package folder: a member of the sdist, a file the lock records
    assert (tarball.check_name(f"tidy-1.0/tidy/{path}") is None) == _lock_file_ok(project, path)
    if tarball.check_name(path) is None:  # a path on its own: the manifest takes it as written
        assert manifest.check_relative(path, "w", "destination") == path
    elif not accepted(lambda: manifest.check_relative(path, "w", "destination")):
        pass  # refused by all
    else:  # the manifest accepts a spelling it normalises (./dist/, a//b): into one the rule takes
        assert tarball.check_name(manifest.check_relative(path, "w", "destination")) is None


def _lock_file_ok(project, path: str) -> bool:
    entry = LockEntry(module="tidy", source="dist/tidy-1.0.tar.gz", sha256="3" * 64, name="tidy", version="1.0",
                      files={f"src/consumer/tidy/{path}": "0" * 64})
    try:
        parse_lock(render_lock({"tidy": entry}), project)
    except LockError:
        return False
    return True


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.text(max_size=70), st.sampled_from(["0" * 64, "a" * 64, "A" * 64, "0" * 64 + "\n"])))
def test_a_sha256_pin_and_a_lock_digest_follow_one_rule(value):
    pinned = accepted(lambda: manifest.pull_spec("dist/tidy-1.0.tar.gz", sha256=value))
    assert pinned == rules.is_sha256(value) == (len(value) == 64 and all(c in "0123456789abcdef" for c in value))


@pytest.mark.parametrize("source,url", [("s3://b/x.tar.gz", True), ("HTTPS://h/x", True), ("dist/x.tar.gz", False),
                                        ("tidy>=1", False), ("a/b://c", False), ("3s://x", False)])
def test_one_url_rule(source, url):
    assert rules.is_url(source) == url == (manifest.source_kind(source) == "url")


def test_one_default_size_and_timeout_everywhere():
    defaults = {
        "manifest": manifest.DEFAULT_LIMITS.max_size, "max-size": manifest.max_size({}),
        "download": inspect.signature(download.Deadline).parameters["max_size"].default,
        "extract": inspect.signature(tarball.extract).parameters["limit"].default,
        "wheel": inspect.signature(tarball.extract_wheel).parameters["limit"].default,
        "members": inspect.signature(tarball.check_members).parameters["limit"].default,
        "cache": inspect.signature(cache.get).parameters["limit"].default,
    }
    assert set(defaults.values()) == {rules.DEFAULT_MAX_SIZE == 256 << 20 and rules.DEFAULT_MAX_SIZE}
    assert manifest.DEFAULT_LIMITS.timeout == manifest.download_timeout({}) == rules.DEFAULT_TIMEOUT == \
        inspect.signature(download.Deadline).parameters["seconds"].default


def test_rules_is_the_bottom_layer_and_config_never_imports_core():
    tree = ast.parse((PACKAGE / "rules.py").read_text())
    ours = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0]
    assert all(n.module == "errors" for n in ours)
    for path in (PACKAGE / "config").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                assert not (node.module or "").startswith(("core", "store", "sources", "actions", "tasks")), path


# -- the options, through a real doit: refused before anything is written -------------------------------

@pytest.mark.parametrize("option,message", [
    ("--env=ｂａｓｅ", "env 'ｂａｓｅ' must be the name of one folder in conf/ (ASCII letters"),
    ("--destination=pïpelines", "destination 'pïpelines' must be package names separated by '/'"),
])
def test_a_non_ascii_env_or_destination_is_one_line_and_nothing_is_written(tmp_path, option, message):
    consumer = make_consumer(tmp_path / "consumer")
    archive = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", files={"nodes.py": "x = 1\n"}))
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={archive}", option, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(consumer) == before and not (consumer / "micropkg.lock").exists()
    doit(consumer, "pull", f"--source={archive}")  # the lock was never poisoned: an ASCII pull works
    assert "tidy" in (consumer / "micropkg.lock").read_text()
