"""`doit package` driven as a user would: a real doit process on a copy of the acme project."""
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest
from conftest import KEDRO_SDISTS, add_manifest, clean_env, copy_tree, doit, snapshot

MANIFEST = """
[tool.micropkg.package]
"pipelines.cleaning" = {}
"pipelines.scoring" = {}
"""
KEDRO_ONLY = ("setup.cfg", "MANIFEST.in", ".egg-info/")


def members(path):
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def ran(proc):
    """The tasks doit executed (". name"), not the up-to-date ones ("-- name")."""
    return sorted(line[3:] for line in proc.stdout.splitlines() if line.startswith(".  "))


@pytest.fixture
def packaged(acme):
    add_manifest(acme, MANIFEST)
    doit(acme, "package")
    return acme


def test_list_shows_one_subtask_per_entry_with_its_doc(acme):
    add_manifest(acme, MANIFEST)
    out = doit(acme, "list", "--all").stdout
    assert "package:pipelines.cleaning" in out and "dist/cleaning-0.3.1.tar.gz" in out
    assert "package:pipelines.scoring" in out and "dist/scoring-0.1.tar.gz" in out


def test_members_match_kedro_apart_from_its_build_files_and_our_data_files(packaged):
    for ours, kedro in [("cleaning-0.3.1", "cleaning-0.3.1"), ("scoring-0.1", "scoring-0.1")]:
        mine = set(members(packaged / "dist" / f"{ours}.tar.gz"))
        theirs = {n for n in members(KEDRO_SDISTS / f"{kedro}.tar.gz") if not any(k in n for k in KEDRO_ONLY)}
        extra = {"cleaning-0.3.1/cleaning/sql/query.sql", "cleaning-0.3.1/cleaning/requirements.txt"}
        assert mine - extra == theirs
    cleaning = members(packaged / "dist" / "cleaning-0.3.1.tar.gz")
    kedro = members(KEDRO_SDISTS / "cleaning-0.3.1.tar.gz")
    for name in ["cleaning/nodes.py", "cleaning/pipeline.py", "cleaning/config/parameters_cleaning.yml"]:
        assert cleaning[f"cleaning-0.3.1/{name}"] == kedro[f"cleaning-0.3.1/{name}"]
    # Kedro's rope left the patched string behind; we rewrite it.
    assert b'mock.patch("cleaning.nodes.helper"' in cleaning["cleaning-0.3.1/tests/test_nodes.py"]
    assert not any("catalog" in name for name in cleaning)


def test_pkg_info_is_static_metadata_with_requirements(packaged):
    pkg_info = members(packaged / "dist" / "cleaning-0.3.1.tar.gz")["cleaning-0.3.1/PKG-INFO"].decode()
    assert pkg_info.splitlines()[:3] == ["Metadata-Version: 2.2", "Name: cleaning", "Version: 0.3.1"]
    assert "Dynamic" not in pkg_info
    assert [line for line in pkg_info.splitlines() if line.startswith("Requires-Dist")] == [
        "Requires-Dist: pyyaml>=6.0", 'Requires-Dist: packaging>=21; python_version >= "3.8"',
        "Requires-Dist: attrs[tests]>=22.1"]


def test_second_run_does_nothing(packaged):
    before = (packaged / "dist" / "cleaning-0.3.1.tar.gz").stat().st_mtime_ns
    assert ran(doit(packaged, "package")) == []
    assert (packaged / "dist" / "cleaning-0.3.1.tar.gz").stat().st_mtime_ns == before


def _truncate(path):
    path.write_bytes(b"")


def _same_size_other_bytes_same_mtime(path):
    st = path.stat()
    data = path.read_bytes()
    path.write_bytes(bytes(b ^ 0xFF for b in data[:64]) + data[64:])  # in place: same inode and size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the mtime put back


def _link_to_a_private_file(path):
    private = path.parent.parent / "private.key"
    private.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")
    path.unlink()
    path.symlink_to(private)


def _fifo(path):
    path.unlink()
    os.mkfifo(path)


@pytest.mark.parametrize("output", ["dist/cleaning-0.3.1.tar.gz", "dist/cleaning-0.3.1-py2.py3-none-any.whl"])
@pytest.mark.parametrize("damage", [_truncate, _same_size_other_bytes_same_mtime, _link_to_a_private_file, _fifo],
                         ids=["truncated", "rewritten-same-size-and-mtime", "symlink", "fifo"])
def test_a_replaced_output_is_rebuilt(acme, output, damage):
    """doit only asks that a target exists; the package task checks it is the file it wrote
    (its stamp, then its bytes when only the stamp moved) and rebuilds anything else."""
    add_manifest(acme, "[tool.micropkg]\nwheel = true\n" + MANIFEST)
    doit(acme, "package")
    good = {name: (acme / name).read_bytes() for name in ["dist/cleaning-0.3.1.tar.gz", "dist/scoring-0.1.tar.gz",
                                                          "dist/cleaning-0.3.1-py2.py3-none-any.whl"]}
    damage(acme / output)
    assert ran(doit(acme, "package", timeout=60)) == ["package:pipelines.cleaning"]
    assert {name: (acme / name).read_bytes() for name in good} == good
    assert not (acme / output).is_symlink()
    if (acme / "private.key").exists():
        assert (acme / "private.key").read_bytes() == b"-----BEGIN PRIVATE KEY-----\n"  # written through: never
    assert ran(doit(acme, "package")) == []


def test_an_output_whose_stamp_alone_moved_is_hashed_not_rebuilt(packaged):
    sdist = packaged / "dist" / "cleaning-0.3.1.tar.gz"
    os.utime(sdist, (1_000_000, 1_000_000))
    copy = sdist.read_bytes()
    sdist.unlink()
    sdist.write_bytes(copy)  # another inode, the same bytes
    assert ran(doit(packaged, "package")) == []


@pytest.mark.parametrize("change", [
    lambda p: (p / "src/acme/pipelines/cleaning/nodes.py").write_text("# edited\n", "utf-8"),
    lambda p: (p / "src/acme/pipelines/cleaning/new_module.py").write_text("X = 1\n"),
    lambda p: (p / "src/acme/pipelines/cleaning/sql/query.sql").unlink(),
    lambda p: (p / "conf/base/parameters_cleaning.yml").write_text("cleaning: {min_length: 3}\n"),
    lambda p: (p / "conf/base/parameters/cleaning/more.yml").write_text("a: 1\n"),
    lambda p: (p / "tests/pipelines/cleaning/test_nodes.py").write_text("def test(): pass\n"),
], ids=["edit-code", "add-code", "delete-data", "edit-params", "add-params", "edit-test"])
def test_one_changed_file_rebuilds_that_micropackage_alone(packaged, change):
    change(packaged)
    assert ran(doit(packaged, "package")) == ["package:pipelines.cleaning"]
    assert ran(doit(packaged, "package")) == []


def test_one_subtask_can_be_run_alone(acme):
    add_manifest(acme, MANIFEST)
    assert ran(doit(acme, "package:pipelines.scoring")) == ["package:pipelines.scoring"]
    assert sorted(p.name for p in (acme / "dist").iterdir()) == ["scoring-0.1.tar.gz"]


def test_changing_an_entry_rebuilds_it_alone(packaged):
    text = (packaged / "pyproject.toml").read_text().replace('"pipelines.scoring" = {}', '"pipelines.scoring" = {env = "base"}')
    (packaged / "pyproject.toml").write_text(text)
    assert ran(doit(packaged, "package")) == []  # same options spelled differently: nothing to do
    text = text.replace('{env = "base"}', '{alias = "scorer"}')
    (packaged / "pyproject.toml").write_text(text)
    assert ran(doit(packaged, "package")) == ["package:pipelines.scoring"]
    assert (packaged / "dist" / "scorer-0.1.tar.gz").is_file()


def test_info_says_why_and_clean_removes_the_tarballs(packaged):
    (packaged / "src/acme/pipelines/scoring/pipeline.py").write_text("# changed\n")
    info = doit(packaged, "info", "package:pipelines.scoring", check=False)
    assert info.returncode == 1 and "src/acme/pipelines/scoring/pipeline.py" in info.stdout
    doit(packaged, "clean", "package")
    assert not list((packaged / "dist").glob("*.tar.gz"))
    doit(packaged, "forget", "package")
    assert ran(doit(packaged, "package")) == ["package:pipelines.cleaning", "package:pipelines.scoring"]


def test_sdist_bytes_do_not_depend_on_times_modes_umask_or_path(packaged, tmp_path):
    other = copy_tree(packaged, tmp_path / "somewhere" / "else")
    shutil.rmtree(other / "dist"), shutil.rmtree(other / ".micropkg")
    for i, path in enumerate(sorted(p for p in other.rglob("*") if p.is_file())):
        os.utime(path, (1_000_000 + i * 7919, 1_000_000 + i * 7919))
        path.chmod(0o600 if i % 2 else 0o755)
    env = clean_env()
    proc = subprocess.run(f"umask 077 && {sys.executable} -m doit package", shell=True, cwd=other, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in ["cleaning-0.3.1.tar.gz", "scoring-0.1.tar.gz"]:
        assert (other / "dist" / name).read_bytes() == (packaged / "dist" / name).read_bytes()


def test_alias_renames_package_imports_strings_and_parameter_names(acme):
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {alias = "tidy", destination = "out/sdists"}')
    doit(acme, "package")
    got = members(acme / "out/sdists/tidy-0.3.1.tar.gz")
    assert set(got) >= {"tidy-0.3.1/tidy/nodes.py", "tidy-0.3.1/tidy/config/parameters_tidy.yml",
                        "tidy-0.3.1/tidy/config/parameters/tidy/thresholds.yml", "tidy-0.3.1/tests/test_nodes.py"}
    assert got["tidy-0.3.1/tidy/nodes.py"].startswith(b"import tidy.utils.text as text_utils\nfrom tidy.utils import text\n")
    assert b"from tidy.nodes import (  # the public nodes" in got["tidy-0.3.1/tidy/pipeline.py"]
    test = got["tidy-0.3.1/tests/test_nodes.py"]
    assert b"from tidy.nodes import clean_names" in test and b'mock.patch("tidy.nodes.helper"' in test
    assert b"acme.pipelines" not in b"".join(v for k, v in got.items() if k.endswith(".py"))


def test_wheel_built_from_the_sdist_holds_the_package_and_config_not_tests(packaged, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-w", str(tmp_path / "wheels"), str(packaged / "dist" / "cleaning-0.3.1.tar.gz")],
                          env=clean_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = (tmp_path / "wheels").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cleaning/config/parameters_cleaning.yml" in names and "cleaning/sql/query.sql" in names
    assert not any(n.startswith("tests/") for n in names)


def test_adhoc_package_with_options(acme):
    doit(acme, "package", "--micropkg", "pipelines.cleaning.utils", "--alias", "text_utils")
    # utils has no __version__ of its own: the project's 0.1 applies (not its parent's)
    got = members(acme / "dist" / "text_utils-0.1.tar.gz")
    assert "text_utils-0.1/text_utils/text.py" in got


def test_nested_module_without_version_takes_the_project_version(acme):
    (acme / "src/acme/pipelines/scoring/extra").mkdir()
    (acme / "src/acme/pipelines/scoring/extra/__init__.py").write_text("")
    doit(acme, "package", "--micropkg", "pipelines.scoring.extra")
    assert set(members(acme / "dist" / "extra-0.1.tar.gz")) == {
        "extra-0.1/PKG-INFO", "extra-0.1/pyproject.toml", "extra-0.1/extra/__init__.py"}


def test_old_layout_tests_under_src_tests(acme):
    shutil.move(acme / "tests", acme / "src" / "tests")
    doit(acme, "package", "--micropkg", "pipelines.scoring")
    assert "scoring-0.1/tests/test_pipeline.py" in members(acme / "dist" / "scoring-0.1.tar.gz")


def test_empty_manifest_is_a_friendly_message(acme):
    proc = doit(acme, "package")
    assert "Nothing to package" in proc.stdout


def test_a_parallel_run_builds_the_same(packaged, tmp_path):
    before = {p.name: p.read_bytes() for p in (packaged / "dist").iterdir()}
    doit(packaged, "clean", "package")
    doit(packaged, "-n", "2", "package")
    assert {p.name: p.read_bytes() for p in (packaged / "dist").iterdir()} == before


BAD = [
    ('[tool.micropkg.package]\npipelines.cleaning = {}', "unquoted dotted key"),
    ('[tool.micropkg.package]\n"pipelines.cleaning" = {aliases = "x"}', "unknown option 'aliases'; valid options: alias, destination, env"),
    ('[tool.micropkg.package]\n"pipelines.cleaning" = {alias = "bad name"}', "not a valid Python package name"),
    ('[tool.micropkg.package]\n"pipelines.nope" = {}', "src/acme/pipelines/nope not found"),
    ('[tool.micropkg.package]\n"pipelines.claening" = {}', "src/acme/pipelines/claening not found (did you mean pipelines.cleaning?)"),
    ('[tool.micropkg.package]\n"scoring" = {}', "src/acme/scoring not found (did you mean pipelines.scoring?)"),
    ('[tool.micropkg.package]\n"pipelines.cleaning.nodes" = {}', "is a file, not a package folder"),
    ('[tool.micropkg.package]\n"pipelines.empty" = {}', "is an empty folder"),
    ('[tool.micropkg.package]\n"pipelines.cleaning" = {env = "prod"}', "env 'prod' has no folder conf/prod"),
]


@pytest.mark.parametrize("manifest,message", BAD, ids=[m for _, m in BAD])
def test_bad_input_is_one_error_line_and_writes_nothing(acme, manifest, message):
    (acme / "src/acme/pipelines/empty").mkdir()
    add_manifest(acme, manifest)
    before = snapshot(acme)
    proc = doit(acme, "package", check=False)
    assert proc.returncode != 0
    assert proc.stderr.startswith("ERROR: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert snapshot(acme) == before


def test_invalid_toml_fails_before_anything_is_written(acme):
    """doit itself parses pyproject.toml (for [tool.doit]) before our code runs, so the message
    is doit's TOMLDecodeError, with doit's traceback; our own reading says it in one line
    (test_manifest.test_bad_project_files). Either way nothing is written."""
    add_manifest(acme, "[tool.micropkg.package\n")
    before = snapshot(acme)
    proc = doit(acme, "package", check=False)
    assert proc.returncode != 0 and "TOMLDecodeError" in proc.stderr
    assert snapshot(acme) == before


@pytest.mark.parametrize("setup,message", [
    (lambda p: (p / "src/acme/__init__.py").write_text("x = 1\n"), "no __version__ in src/acme/pipelines/scoring/__init__.py nor in src/acme/__init__.py"),
    (lambda p: (p / "src/acme/pipelines/scoring/requirements.txt").write_text("ok\n-r other.txt\n"), "requirements.txt:2: '-r other.txt' is not a PEP 508 requirement"),
    (lambda p: (p / "src/acme/pipelines/scoring/broken.py").write_text("import acme.pipelines.scoring.x\ndef (:\n"), "cannot rewrite the imports of src/acme/pipelines/scoring/broken.py: it is not valid UTF-8 Python 3 (line 2)"),
])
def test_bad_version_or_requirements_are_clear_errors(acme, setup, message):
    setup(acme)
    proc = doit(acme, "package", "--micropkg", "pipelines.scoring", check=False)
    assert proc.returncode != 0 and message in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (acme / "dist").exists() or not list((acme / "dist").iterdir())


def test_a_file_with_conflict_markers_is_never_packaged(acme):
    params = acme / "conf/base/parameters_cleaning.yml"
    rel = "conf/base/parameters_cleaning.yml"
    text = params.read_text()
    params.write_text("<<<<<<< local\nthreshold: 1\n=======\nthreshold: 2\n>>>>>>> cleaning 0.4\n" + text)
    proc = doit(acme, "package", "--micropkg", "pipelines.cleaning", check=False)
    assert proc.returncode == 1
    assert f"ERROR: package 'pipelines.cleaning': {rel} still holds conflict markers (<<<<<<< ... >>>>>>>); " \
           "resolve them, then package again" in proc.stdout
    assert not (acme / "dist").exists() or not list((acme / "dist").glob("cleaning-*"))
    params.write_text(text)  # resolved
    assert "packaged 'acme.pipelines.cleaning'" in doit(acme, "package", "--micropkg", "pipelines.cleaning").stdout


# -- packaging a micro-package that a pull of the same manifest installs --------------------------

def _pulls_what_it_packages(acme, pull_options='{destination = "pipelines"}'):
    """A project that gets ``pipelines.cleaning`` from Kedro's sdist (a fresh clone: not there yet)
    and packages it, as it packages ``pipelines.scoring``."""
    for rel in ("src/acme/pipelines/cleaning", "tests/pipelines/cleaning", "conf/base/parameters"):
        shutil.rmtree(acme / rel)
    (acme / "conf/base/parameters_cleaning.yml").unlink()
    add_manifest(acme, f'[tool.micropkg]\ncompile = false\n\n[tool.micropkg.package]\n"pipelines.cleaning" = {{}}\n'
                       f'"pipelines.scoring" = {{}}\n\n[tool.micropkg.pull]\n'
                       f'"{KEDRO_SDISTS / "cleaning-0.3.1.tar.gz"}" = {pull_options}')
    return f"pull:{KEDRO_SDISTS / 'cleaning-0.3.1.tar.gz'}"


@pytest.mark.parametrize("command", [["list", "--all"], ["pull"], ["pull", "package"], ["package"]])
def test_a_package_entry_a_pull_installs_waits_for_that_pull(acme, command):
    """On a fresh clone every command stopped at load ("src/acme/pipelines/cleaning not found")."""
    pull_task = _pulls_what_it_packages(acme)
    proc = doit(acme, *command)
    if command[0] == "list":
        assert "package:pipelines.cleaning" in proc.stdout and not (acme / "src/acme/pipelines/cleaning").exists()
        return
    assert (acme / "src/acme/pipelines/cleaning/nodes.py").is_file()
    if "package" not in command:
        assert not (acme / "dist/cleaning-0.3.1.tar.gz").exists()
        return
    out = proc.stdout
    assert out.index(f".  {pull_task}") < out.index(".  package:pipelines.cleaning\n")
    names = members(acme / "dist/cleaning-0.3.1.tar.gz")  # collected after the pull, in the same run
    assert {"cleaning-0.3.1/cleaning/nodes.py", "cleaning-0.3.1/cleaning/config/parameters_cleaning.yml",
            "cleaning-0.3.1/cleaning/config/parameters/cleaning/thresholds.yml",
            "cleaning-0.3.1/tests/test_nodes.py"} <= set(names)
    again = doit(acme, "package").stdout
    assert "-- package:pipelines.cleaning\n" in again and "-- package:pipelines.scoring" in again
    (acme / "src/acme/pipelines/cleaning/nodes.py").write_text("X = 1\n")
    assert ".  package:pipelines.cleaning\n" in doit(acme, "package").stdout
    (acme / "dist/cleaning-0.3.1.tar.gz").unlink()
    assert ".  package:pipelines.cleaning\n" in doit(acme, "package").stdout
    doit(acme, "clean", "package:pipelines.cleaning")
    assert not (acme / "dist/cleaning-0.3.1.tar.gz").exists() and (acme / "dist/scoring-0.1.tar.gz").exists()
    if command == ["package"]:  # a wheel asked for later is built, though the sdist is up to date
        doit(acme, "package")
        assert ".  package:pipelines.cleaning\n" in doit(acme, "package", "--wheel").stdout
        assert [p.name for p in (acme / "dist").glob("cleaning-0.3.1-*.whl")]


def test_a_package_entry_a_pull_installs_can_be_published_from_a_fresh_clone(acme, tmp_path):
    _pulls_what_it_packages(acme)
    text = (acme / "pyproject.toml").read_text()
    (acme / "pyproject.toml").write_text(text.replace("compile = false\n", f'compile = false\npublish = "{tmp_path / "shelf"}"\n'))
    doit(acme, "publish")
    assert sorted(p.name for p in (tmp_path / "shelf").rglob("*.tar.gz")) == ["cleaning-0.3.1.tar.gz", "scoring-0.1.tar.gz"]


def test_a_missing_folder_no_pull_installs_is_still_one_line(acme):
    _pulls_what_it_packages(acme, '{alias = "tidy", destination = "pipelines"}')  # installs pipelines.tidy
    for command in (["list"], ["pull"], ["package"]):
        proc = doit(acme, *command, check=False)
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert proc.stderr.strip().splitlines() == [
            "ERROR: package 'pipelines.cleaning': src/acme/pipelines/cleaning not found"], proc.stderr
