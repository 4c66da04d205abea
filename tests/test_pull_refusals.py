"""Issue #9, pull side: what a hostile sdist (or a careless manifest) cannot do. Every refusal is
one line from a real ``doit pull``, exit code 1 (3 for a bad option), no traceback, and the
project is byte-for-byte unchanged."""
import io
import tarfile

import pytest
from conftest import (
    add_manifest,
    doit,
    make_consumer,
    make_tar,
    sdist_entries,
    snapshot,
)

from micropkg_tasks.core.requirements import append_block
from micropkg_tasks.errors import LockError
from micropkg_tasks.store.lock import LockEntry, render_lock

SHA = "0" * 64


def refused(project, archive, fragment, *args, code=1):
    """``doit pull --source=archive`` fails with ``fragment`` on one line and changes nothing."""
    before = snapshot(project)
    proc = doit(project, "pull", f"--source={archive}", *args, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    assert any(fragment in line for line in out.splitlines()), out
    assert "Traceback" not in out
    assert snapshot(project) == before
    return proc


def tidy(tmp_path, *, name="tidy", requires=(), files=None, tests=None, extra=(), version="1.0", pkg_info=None):
    entries = sdist_entries(name, version, tuple(requires), files=files, tests=tests)
    if pkg_info is not None:
        entries[0] = (entries[0][0], pkg_info.encode())
    return make_tar(tmp_path / f"{name}-{version}.tar.gz", [*entries, *extra])


# -- 1. no code runs at compile time: requirements we write are ours --------------------------

@pytest.mark.parametrize("requirement", [
    "evil @ file:///tmp/evil-folder",
    "evil @ https://example.com/evil-1.0.tar.gz",
    "evil @ git+https://example.com/evil.git",
    "evil[x] @ file:///tmp/evil ; python_version > '3'",
])
def test_direct_references_are_refused(consumer, tmp_path, requirement):
    refused(consumer, tidy(tmp_path, requires=[requirement]), "a direct reference that pip-compile would fetch")


def test_direct_references_are_accepted_when_the_project_opts_in(consumer, tmp_path):
    add_manifest(consumer, "")
    text = (consumer / "pyproject.toml").read_text().replace("compile = false\n",
                                                             "compile = false\nallow-direct-references = true\n")
    (consumer / "pyproject.toml").write_text(text)
    doit(consumer, "pull", f"--source={tidy(tmp_path, requires=['evil @ https://example.com/e.whl'])}")
    assert "evil @ https://example.com/e.whl\n" in (consumer / "requirements.in").read_text()


@pytest.mark.parametrize("value", ['"yes"', "1", "[true]"])
def test_allow_direct_references_must_be_a_boolean(consumer, tmp_path, value):
    text = (consumer / "pyproject.toml").read_text().replace(
        "compile = false\n", f"compile = false\nallow-direct-references = {value}\n")
    (consumer / "pyproject.toml").write_text(text)
    # checked with every other option when the project is loaded (it used to wait for a pull to run)
    refused(consumer, tidy(tmp_path), "allow-direct-references must be true or false", code=3)


@pytest.mark.parametrize("requires_dist", [
    'foo; os_name == "a\x0cb"',  # a form feed splits the line for pip
    'foo; os_name == "a\x0bb"',
    'foo; os_name == "a\u2028b"',
    "foo\n --index-url https://evil.example",  # a folded header
    'foo; os_name == "x --index-url=https://evil.example"',  # pip reads " --..." as an option
    'foo; os_name == "x #"',
    "--index-url https://evil.example",
    "-e .",
])
def test_requirement_lines_are_parsed_and_rendered_never_copied(consumer, tmp_path, requires_dist):
    pkg_info = f"Metadata-Version: 2.2\nName: tidy\nVersion: 1.0\nRequires-Dist: {requires_dist}\n"
    refused(consumer, tidy(tmp_path, pkg_info=pkg_info), "PKG-INFO Requires-Dist")
    assert not (consumer / "requirements.in").exists()


def test_append_block_writes_what_packaging_renders():
    text = append_block("", "tidy", ["Foo_Bar [b,a] >= 1 ; os_name=='posix'"])
    assert text == '# Requirements from micro-package `tidy`:\nFoo_Bar[a,b]>=1; os_name == "posix"\n'
    with pytest.raises(ValueError):
        append_block("", "tidy", ["--index-url https://evil.example"])


def test_pip_compile_never_sees_a_direct_reference(tmp_path):
    """The review's attack: a direct reference to a folder with a build backend. With the
    default compiler (pip-compile), ``doit pull`` fails at the pull and never compiles."""
    consumer = make_consumer(tmp_path / "consumer")
    (consumer / "pyproject.toml").write_text((consumer / "pyproject.toml").read_text().replace("compile = false\n", ""))
    marker = tmp_path / "backend-ran"
    evil = tmp_path / "evil"
    evil.mkdir()
    hook = f"open({str(marker)!r}, 'w').write('ran')\n"
    (evil / "backend.py").write_text(hook + "def __getattr__(name):\n    " + hook.strip() + "\n    raise AttributeError(name)\n")
    (evil / "pyproject.toml").write_text('[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
                                         '[project]\nname = "evil"\nversion = "1"\n')
    archive = tidy(tmp_path, requires=[f"evil @ {evil.as_uri()}"])
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{archive}" = {{}}')
    before = snapshot(consumer)
    proc = doit(consumer, "pull", check=False, timeout=300)
    assert proc.returncode == 1 and "a direct reference that pip-compile would fetch" in proc.stdout
    assert ".  pull:pip-compile" not in proc.stdout  # doit never started the compile
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not marker.exists()
    assert snapshot(consumer) == before and not (consumer / "requirements.in").exists()


# -- 2. a user's identical file is never adopted, so never deleted ----------------------------

def test_identical_user_files_are_never_owned_nor_removed(consumer, tmp_path):
    params = "tidy:\n  shared: 1\n"
    (consumer / "conf/base/parameters_tidy.yml").write_text(params)
    (consumer / "src/consumer/tidy").mkdir()
    (consumer / "src/consumer/tidy/helpers.py").write_text("X = 1\n")
    v1 = tidy(tmp_path, files={"config/parameters_tidy.yml": params, "helpers.py": "X = 1\n", "a.py": "A = 1\n"})
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{v1}" = {{}}')
    out = doit(consumer, "pull").stdout
    assert "left 2 identical file(s) already in the project as they were" in out
    lock = (consumer / "micropkg.lock").read_text()
    assert "parameters_tidy.yml" not in lock and "helpers.py" not in lock and "tidy/a.py" in lock
    # an upgrade that drops them leaves them
    v2 = tidy(tmp_path, version="2.0", files={"a.py": "A = 2\n"})
    doit(consumer, "pull", f"--source={v2}")
    assert (consumer / "conf/base/parameters_tidy.yml").read_text() == params
    assert (consumer / "src/consumer/tidy/helpers.py").read_text() == "X = 1\n"
    # and so does every way of removing the pull
    doit(consumer, "pull", f"--source={v1}")
    doit(consumer, "clean", f"pull:{v1}")
    assert not (consumer / "src/consumer/tidy/a.py").exists()
    assert (consumer / "conf/base/parameters_tidy.yml").read_text() == params
    assert (consumer / "src/consumer/tidy/helpers.py").read_text() == "X = 1\n"
    doit(consumer, "pull", f"--source={v1}")
    doit(consumer, "unpull", "--module=tidy")
    assert (consumer / "conf/base/parameters_tidy.yml").read_text() == params
    assert (consumer / "src/consumer/tidy/helpers.py").read_text() == "X = 1\n"


def test_an_upgrade_that_changes_a_shared_file_is_a_conflict(consumer, tmp_path):
    (consumer / "conf/base/parameters_tidy.yml").write_text("mine: 1\n")
    v1 = tidy(tmp_path, files={"config/parameters_tidy.yml": "mine: 1\n"})
    doit(consumer, "pull", f"--source={v1}")
    v2 = tidy(tmp_path, version="2.0", files={"config/parameters_tidy.yml": "theirs: 2\n"})
    refused(consumer, v2, "conf/base/parameters_tidy.yml (not installed by a pull)")


# -- 3. names the lock could not hold ----------------------------------------------------------

def _raw_name_tar(path, entries, odd_name: str):
    """A GNU tar whose ``odd_name`` is written as raw bytes (surrogates -> undecodable bytes)."""
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as tar:
        for name, data in [*entries, (odd_name, b"X = 1\n")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_non_utf8_member_names_are_refused(consumer, tmp_path):
    archive = _raw_name_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy"), "tidy-1.0/tidy/caf\udce9.py")
    refused(consumer, archive, "has a name that is not valid UTF-8")


def test_non_utf8_names_never_reach_the_lock_after_a_good_pull(consumer, tmp_path):
    doit(consumer, "pull", f"--source={tidy(tmp_path)}")
    archive = _raw_name_tar(tmp_path / "tidy-2.0.tar.gz", sdist_entries("tidy", "2.0"), "tidy-2.0/tidy/\udcff.py")
    refused(consumer, archive, "not valid UTF-8")
    doit(consumer, "pull", f"--source={tidy(tmp_path, version='3.0')}")  # the lock still reads


def test_render_lock_refuses_what_toml_cannot_read():
    entry = LockEntry(module="tidy", source="x.tar.gz", sha256=SHA, name="tidy", version="1",
                      files={"src/p/tidy/\udcff.py": SHA})
    with pytest.raises(LockError, match="not valid UTF-8"):
        render_lock({"tidy": entry})


@pytest.mark.parametrize("odd", ["a\nb.py", "a\rb.py", "\x1b[31mred.py", "a\x7fb.py", "a\u2028b.py", "a\x85b.py"])
def test_control_characters_in_member_names_are_refused(consumer, tmp_path, odd):
    archive = make_tar(tmp_path / "tidy-1.0.tar.gz", [*sdist_entries("tidy"), (f"tidy-1.0/tidy/{odd}", b"")])
    refused(consumer, archive, "has a NUL, newline or other control character")


# -- 4. too long for the file system; names a micro-package may take --------------------------

def test_a_member_component_too_long_for_the_file_system(consumer, tmp_path):
    archive = make_tar(tmp_path / "tidy-1.0.tar.gz", [*sdist_entries("tidy"), (f"tidy-1.0/tidy/{'a' * 300}.py", b"")])
    refused(consumer, archive, "has a part longer than 255 bytes")


def test_a_member_path_too_long_to_extract(consumer, tmp_path):
    """Over PATH_MAX in all: refused by the member checks (the rule the manifest and the lock
    apply too), before extraction would fail on it."""
    deep = "/".join(["d" * 250] * 20)
    archive = make_tar(tmp_path / "tidy-1.0.tar.gz", [*sdist_entries("tidy"), (f"tidy-1.0/tidy/{deep}/x.py", b"")])
    refused(consumer, archive, "(or is over 4096); no file system takes it")


def test_a_member_path_too_long_for_the_project(tmp_path):
    consumer = make_consumer(tmp_path / ("p" * 200) / "consumer")
    # a path that extracts under /tmp/micropkg-pull-*/ but is over PATH_MAX under this project
    length = 4096 - len(str(consumer / "src/consumer/tidy")) + 8
    deep = "/".join(["d" * 199] * (length // 200) + ["e" * (length % 200 or 1)])
    assert len(f"/tmp/micropkg-pull-12345678/x/tidy-1.0/tidy/{deep}/x.py") < 4000
    archive = make_tar(tmp_path / "tidy-1.0.tar.gz", [*sdist_entries("tidy"), (f"tidy-1.0/tidy/{deep}/x.py", b"")])
    refused(consumer, archive, "is too long a path for the project's file system")


@pytest.mark.parametrize("alias,message", [
    ("a" * 300, "is longer than 100 characters"),
    ("ｏｓ", "is a standard-library module name (it normalises to 'os')"),
    ("json", "is a standard-library module name"),
    ("__init__", "is reserved by Python"),
    ("__pycache__", "is reserved by Python"),
    ("class", "not a valid Python package name"),
    ("café", "must be ASCII"),
])
def test_bad_aliases_on_the_command_line_and_in_the_manifest(consumer, tmp_path, alias, message):
    archive = tidy(tmp_path)
    proc = refused(consumer, archive, message, f"--alias={alias}", code=3)
    assert len(proc.stderr.strip().splitlines()) == 1 and len(proc.stderr) < 400
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{archive}" = {{alias = "{alias}"}}')
    before = snapshot(consumer)
    proc = doit(consumer, "pull", check=False)
    assert proc.returncode == 3 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(consumer) == before


def test_the_project_package_name_is_not_a_micro_package_name(consumer, tmp_path):
    refused(consumer, tidy(tmp_path), "alias 'consumer' is the project's own package", "--alias=consumer")
    refused(consumer, tidy(tmp_path, name="consumer"), "package 'consumer' is the project's own package")


@pytest.mark.parametrize("package,message", [
    ("os", "package folder 'os' is a standard-library module name"),
    ("typing", "package folder 'typing' is a standard-library module name"),
    ("__init__", "package folder '__init__' is reserved by Python"),
])
def test_bad_package_folders_in_the_sdist(consumer, tmp_path, package, message):
    refused(consumer, tidy(tmp_path, name=package), message)


# -- 5. PKG-INFO Name ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,message", [
    ("other", "PKG-INFO Name 'other' is not the package folder 'tidy'"),
    ("tidy\n fake: output", "PKG-INFO Name or Version has a line break or control characters"),
    ("ti\x1bdy", "PKG-INFO Name or Version has a line break or control characters"),
])
def test_pkg_info_name_must_be_the_package_folder(consumer, tmp_path, name, message):
    pkg_info = f"Metadata-Version: 2.2\nName: {name}\nVersion: 1.0\n"
    refused(consumer, tidy(tmp_path, pkg_info=pkg_info), message)


@pytest.mark.parametrize("name", ["Tidy_Pkg", "tidy-pkg", "tidy.pkg"])
def test_pkg_info_name_is_compared_as_pep503(consumer, tmp_path, name):
    pkg_info = f"Metadata-Version: 2.2\nName: {name}\nVersion: 1.0\n"
    doit(consumer, "pull", f"--source={tidy(tmp_path, name='tidy_pkg', pkg_info=pkg_info)}")
    assert (consumer / "src/consumer/tidy_pkg/__init__.py").is_file()


# -- 6. config/ ships parameters only ------------------------------------------------------------

@pytest.mark.parametrize("member", [
    "credentials.yml", "catalog.yml", "catalog_tidy.yml", "logging.yml", "parameters_other.yml",
    "parameters/other/x.yml", "parameters/tidy/credentials.yml", "tidy/catalog.yml", "spark.yml",
])
def test_config_members_that_are_not_parameters_are_refused(consumer, tmp_path, member):
    archive = tidy(tmp_path, files={f"config/{member}": "x: 1\n"})
    refused(consumer, archive, f"tidy/config/{member} is not a parameter file of 'tidy'")


KEDRO_MARKS = [("tidy-1.0/setup.cfg", b"[egg_info]\ntag_build = \n"), ("tidy-1.0/tidy.egg-info/PKG-INFO", b"Name: tidy\n")]


@pytest.mark.parametrize("members", [
    ["parameters/other/x.yml", "parameters/cleaning/y.yml"],   # two names besides the package's
    ["parameters/cleaning/credentials.yml"],                   # Kedro's loader reads these as credentials...
    ["parameters/cleaning/catalog.yml"],
    ["parameters/cleaning/logging.yml"],
    ["credentials/cleaning/parameters_x.yml"],                 # ... catalog, logging, globals (top folder)
    ["catalog_x/cleaning/parameters.yml"],
    ["globals/cleaning/parameters.yml"],
    ["parameters/evil.yml"],                                   # a parameters* folder is no micro-package
    ["cleaning/spark.yml"],                                    # no parameters part
    ["parameters/os/x.yml"],                                   # not a name a micro-package can have
])
def test_kedro_made_sdists_ship_parameters_of_one_original_name_only(consumer, tmp_path, members):
    """An sdist with setuptools' marks (as Kedro's) may carry the parameter folders of one other
    name (Kedro's --alias keeps it), and still nothing else."""
    files = {"config/parameters_tidy.yml": "a: 1\n", **{f"config/{m}": "x: 1\n" for m in members}}
    archive = tidy(tmp_path, files=files, extra=KEDRO_MARKS)
    proc = refused(consumer, archive, "is not a parameter file of 'tidy'")
    assert any(f"tidy/config/{m} is not" in proc.stdout + proc.stderr for m in members)


def test_the_original_name_is_accepted_only_in_sdists_kedro_made(consumer, tmp_path):
    files = {"config/parameters_tidy.yml": "a: 1\n", "config/parameters/cleaning/x.yml": "x: 1\n"}
    refused(consumer, tidy(tmp_path, files=files), "tidy/config/parameters/cleaning/x.yml is not a parameter file")
    doit(consumer, "pull", f"--source={tidy(tmp_path, files=files, extra=KEDRO_MARKS)}")
    assert (consumer / "conf/base/parameters/cleaning/x.yml").read_text() == "x: 1\n"


def test_config_parameter_files_are_installed(consumer, tmp_path):
    files = {"config/parameters_tidy.yml": "a: 1\n", "config/parameters/tidy/b.yml": "b: 1\n",
             "config/parameters/tidy.yml": "c: 1\n"}
    doit(consumer, "pull", f"--source={tidy(tmp_path, files=files)}")
    for rel in ("parameters_tidy.yml", "parameters/tidy/b.yml", "parameters/tidy.yml"):
        assert (consumer / "conf/base" / rel).is_file()


# -- 7. tests/ files stay in the micro-package's own tests folder -------------------------------

@pytest.mark.parametrize("destination,where", [(None, "tests/tidy"), ("pipelines", "tests/pipelines/tidy")])
def test_a_shipped_conftest_lands_in_the_micro_packages_tests(consumer, tmp_path, destination, where):
    conftest = "import pytest\n"
    archive = tidy(tmp_path, tests={"conftest.py": conftest, "__init__.py": ""},
                   extra=[("tidy-1.0/conftest.py", b"raise SystemExit('sdist root conftest ran')\n")])
    doit(consumer, "pull", f"--source={archive}", *([f"--destination={destination}"] if destination else []))
    assert (consumer / where / "conftest.py").read_text() == conftest
    assert not (consumer / "tests/conftest.py").exists() and not (consumer / "conftest.py").exists()
    assert sorted(p.relative_to(consumer).as_posix() for p in consumer.rglob("conftest.py")) == [f"{where}/conftest.py"]


@pytest.mark.parametrize("member", ["tidy-1.0/tests/../../conftest.py", "tidy-1.0/tests/../conftest.py/x",
                                    "/tests/conftest.py"])
def test_a_tests_member_trying_to_escape_is_refused(consumer, tmp_path, member):
    archive = tidy(tmp_path, extra=[(member, b"raise SystemExit\n")])
    refused(consumer, archive, repr(member))
    assert not (tmp_path / "conftest.py").exists() and not (consumer / "tests/conftest.py").exists()


def test_kedro_sdists_still_pull(consumer):
    from conftest import KEDRO_SDISTS

    for sdist in sorted(KEDRO_SDISTS.glob("*.tar.gz")):
        doit(consumer, "pull", f"--source={sdist}")
    assert (consumer / "src/consumer/cleaning/nodes.py").is_file()
    assert (consumer / "conf/base/parameters_cleaning.yml").is_file()


def test_force_adopts_identical_files_and_no_removal_ever_deletes_them(consumer, tmp_path):
    """After deleting a corrupt lock, the pulled files are on disk but owned by nobody:
    ``--force`` records them as the pull's, as *adopted*: tracked (status, upgrades), but they
    were in the project before the pull, so unpull, clean and an upgrade that drops them leave
    them in place, and say so."""
    (consumer / "conf/base/parameters_tidy.yml").write_text("a: 1\n")
    v1 = tidy(tmp_path, files={"config/parameters_tidy.yml": "a: 1\n"})
    doit(consumer, "pull", f"--source={v1}")
    assert "parameters_tidy.yml" not in (consumer / "micropkg.lock").read_text()
    out = doit(consumer, "pull", f"--source={v1}", "--force").stdout
    assert "adopted 1 file(s) that were in the project before the pull" in out
    lock = (consumer / "micropkg.lock").read_text()
    assert '"conf/base/parameters_tidy.yml" = ' in lock and 'adopted = ["conf/base/parameters_tidy.yml"]' in lock
    assert "version = 3" in lock
    out = doit(consumer, "unpull", "--module=tidy").stdout
    assert "left 1 adopted file(s) in place (they were in the project before the pull): " \
           "conf/base/parameters_tidy.yml" in out
    assert (consumer / "conf/base/parameters_tidy.yml").read_text() == "a: 1\n"
    assert not (consumer / "src/consumer/tidy").exists()
    # an upgrade that drops an adopted file leaves it too, and no longer tracks it
    doit(consumer, "pull", f"--source={v1}", "--force")
    out = doit(consumer, "pull", f"--source={tidy(tmp_path, version='2.0')}").stdout
    assert "left 1 adopted file(s) in place that this version drops" in out
    assert (consumer / "conf/base/parameters_tidy.yml").read_text() == "a: 1\n"
    assert "parameters_tidy.yml" not in (consumer / "micropkg.lock").read_text()
    doit(consumer, "pull", f"--source={v1}", "--force")
    assert '"conf/base/parameters_tidy.yml" = ' in (consumer / "micropkg.lock").read_text()
