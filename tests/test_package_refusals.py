"""`doit package` under attack (issue #9, package side): links, special files, names that are not
UTF-8, unreadable files and folders, a read-only dist/, files edited while packaging, the size
limit. Each is one line, exit non-zero, and nothing is written."""
import functools
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

import pytest
from conftest import add_manifest, clean_env, doit, snapshot

CLEANING = "src/acme/pipelines/cleaning"
SCORING = "src/acme/pipelines/scoring"
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- not for sdists"


def one_error(proc, code, message):
    """Exactly one line names the problem; no traceback; exit ``code``."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == code, out
    assert "Traceback" not in out, out
    hits = [line for line in out.splitlines() if message in line]
    assert len(hits) == 1, out
    if code == 3:  # a load-time error: doit's one `ERROR:` line and nothing else
        assert proc.stderr.strip().splitlines() == [hits[0]] and hits[0].startswith("ERROR: "), out


def no_sdist(project):
    dist = project / "dist"
    assert not dist.exists() or not list(dist.iterdir())


def all_sdist_bytes(project):
    blobs = []
    for path in project.rglob("*.tar.gz"):
        with tarfile.open(path) as tar:
            blobs += [tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()]
    return b"".join(blobs)


@pytest.fixture
def secret(tmp_path):
    home = tmp_path / "home" / ".ssh"
    home.mkdir(parents=True)
    (home / "id_rsa").write_bytes(SECRET)
    return home / "id_rsa"


def _link(project, rel, target):
    path = project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)


LINKS = [
    # (link, target: absolute, or relative to the link, or "SECRET"), expected message
    (f"{CLEANING}/id_rsa", "SECRET", f"{CLEANING}/id_rsa is a symlink to outside the project"),
    ("tests/pipelines/cleaning/passwd", "/etc/passwd", "tests/pipelines/cleaning/passwd is a symlink to outside the project"),
    ("conf/base/parameters/cleaning/creds_link.yml", "../../../local/credentials.yml",
     "conf/base/parameters/cleaning/creds_link.yml is a symlink into conf/local"),
    ("conf/base/parameters/cleaning/db.yml", "../../credentials.yml",
     "conf/base/parameters/cleaning/db.yml is a symlink to a credentials file"),
    (f"{CLEANING}/copy.py", "nodes.py", f"{CLEANING}/copy.py is a symlink (to {CLEANING}/nodes.py); sdists carry regular files only"),
    (f"{CLEANING}/gone.py", "nowhere.py", f"{CLEANING}/gone.py is a dangling symlink"),
    (f"{CLEANING}/loop.py", "loop.py", f"{CLEANING}/loop.py is a symlink loop"),
    (f"{CLEANING}/keys", "SECRET_DIR", f"{CLEANING}/keys is a symlink to outside the project"),
    ("conf/base/shared", "SECRET_DIR", "conf/base/shared is a symlink to outside the project"),
    ("tests/pipelines/cleaning", "SECRET_DIR", "tests/pipelines/cleaning is a symlink to outside the project"),
]


@pytest.mark.parametrize("rel,target,message", LINKS, ids=[rel for rel, _, _ in LINKS])
def test_links_are_refused_naming_the_link_and_nothing_leaks(acme, secret, rel, target, message):
    (acme / "conf/local").mkdir()
    (acme / "conf/local/credentials.yml").write_text("password: hunter2\n")
    (acme / "conf/base/credentials.yml").write_text("password: hunter3\n")
    if rel == "tests/pipelines/cleaning":
        shutil.rmtree(acme / rel)
    target = {"SECRET": str(secret), "SECRET_DIR": str(secret.parent)}.get(target, target)
    _link(acme, rel, target)
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    before = snapshot(acme)
    one_error(doit(acme, "package", check=False), 3, message)
    assert snapshot(acme) == before
    no_sdist(acme)


def test_a_micropackage_folder_that_is_a_link_outside_the_project_is_refused(acme, tmp_path):
    outside = tmp_path / "elsewhere" / "stolen"
    outside.mkdir(parents=True)
    (outside / "__init__.py").write_text('__version__ = "1.0"\n')
    (outside / "id_rsa").write_bytes(SECRET)
    os.symlink(outside, acme / "src/acme/pipelines/stolen")
    proc = doit(acme, "package", "--micropkg", "pipelines.stolen", check=False)
    one_error(proc, 3, "src/acme/pipelines/stolen is a symlink to outside the project")
    no_sdist(acme)


def test_a_link_that_is_not_the_micropackages_is_left_alone(acme):
    """Refusal is for what would be packaged: another micro-package's link, or a catalog link,
    does not stop this one, and is not shipped."""
    _link(acme, "conf/base/catalog_link.yml", "/etc/passwd")
    _link(acme, "conf/base/parameters_scoring.yml.bak", "/etc/passwd")
    doit(acme, "package", "--micropkg", "pipelines.cleaning")
    assert b"root:" not in all_sdist_bytes(acme)


def test_a_fifo_is_refused_instead_of_hanging(acme):
    os.mkfifo(acme / CLEANING / "pipe.sql")
    proc = doit(acme, "package", "--micropkg", "pipelines.cleaning", check=False, timeout=60)
    one_error(proc, 3, f"{CLEANING}/pipe.sql is not a regular file or folder")


@pytest.mark.parametrize("where", [CLEANING, f"{CLEANING}/sql", "conf/base/parameters/cleaning", "tests/pipelines/cleaning"])
def test_names_that_are_not_utf8_are_refused_escaped(acme, where):
    folder = os.fsencode(acme / where)
    with open(folder + b"/caf\xe9.yml", "wb") as fh:
        fh.write(b"x: 1\n")
    before = snapshot(acme)
    proc = doit(acme, "package", "--micropkg", "pipelines.cleaning", check=False)
    one_error(proc, 3, f"{where}/caf\\udce9.yml has a name that is not UTF-8")
    assert snapshot(acme) == before


def test_a_folder_whose_name_is_not_utf8_is_refused(acme):
    os.mkdir(os.fsencode(acme / CLEANING) + b"/d\xff")
    proc = doit(acme, "package", "--micropkg", "pipelines.cleaning", check=False)
    one_error(proc, 3, f"{CLEANING}/d\\udcff has a name that is not UTF-8")


def test_an_init_that_is_not_utf8_is_one_line(acme):
    (acme / SCORING / "__init__.py").write_bytes(b'__version__ = "0.2"\n# caf\xe9\n')
    proc = doit(acme, "package", "--micropkg", "pipelines.scoring", check=False)
    one_error(proc, 3, f"{SCORING}/__init__.py is not UTF-8 text")
    no_sdist(acme)


def test_requirements_that_are_not_utf8_are_one_line(acme):
    (acme / CLEANING / "requirements.txt").write_bytes(b"caf\xe9\n")
    proc = doit(acme, "package", "--micropkg", "pipelines.cleaning", check=False)
    one_error(proc, 1, f"{CLEANING}/requirements.txt is not UTF-8 text")
    no_sdist(acme)


@pytest.mark.parametrize("destination,message", [
    ("pyproject.toml", "destination 'pyproject.toml' cannot hold the sdist: pyproject.toml is a file"),
    ("pyproject.toml/sub", "destination 'pyproject.toml/sub' cannot hold the sdist: pyproject.toml is a file"),
])
def test_a_file_where_the_sdist_folder_should_be(acme, destination, message):
    before = snapshot(acme)
    proc = doit(acme, "package", "--micropkg", "pipelines.scoring", "--destination", destination, check=False)
    one_error(proc, 3, message)
    assert snapshot(acme) == before


# -- as an unprivileged user: permissions only bind there -------------------------------------------

NOBODY = 65534


@pytest.fixture
def shared(acme):
    """``acme`` copied to a folder that user ``nobody`` owns; root's tmp_path is private."""
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    if not nobody_can_run_doit():
        pytest.skip("user nobody cannot enter this checkout or its virtual environment (a private folder): "
                    "permissions cannot be tested here")
    top = tempfile.mkdtemp(prefix="micropkg-nobody-")
    project = shutil.copytree(acme, os.path.join(top, "acme"), symlinks=True)
    if os.geteuid() == 0:
        for dirpath, dirnames, filenames in os.walk(top):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.lchown(name, NOBODY, NOBODY)
    yield type(acme)(project)
    for dirpath, dirnames, _ in os.walk(top):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o755)
    shutil.rmtree(top)


@functools.cache
def nobody_can_run_doit() -> bool:
    """Whether ``nobody`` can start this interpreter and import doit and micropkg_tasks: not when the
    clone (or its virtual environment) sits in a folder only its owner can enter."""
    if os.geteuid() != 0:
        return True
    proc = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", sys.executable,
                           "-c", "import doit, micropkg_tasks"], cwd="/", env=clean_env(HOME="/"),
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    return proc.returncode == 0


def doit_unprivileged(project, *args):
    prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, sys.executable, "-m", "doit", *args], cwd=project, env=clean_env(HOME=str(project)),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)


def test_the_unprivileged_run_works_at_all(shared):
    proc = doit_unprivileged(shared, "package", "--micropkg", "pipelines.scoring")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (shared / "dist/scoring-0.1.tar.gz").is_file()


@pytest.mark.parametrize("rel,code,message", [
    (f"{SCORING}/pipeline.py", 1, f"{SCORING}/pipeline.py cannot be read (Permission denied)"),
    (f"{SCORING}/__init__.py", 3, f"{SCORING}/__init__.py cannot be read (Permission denied)"),
    ("tests/pipelines/scoring/test_pipeline.py", 1, "tests/pipelines/scoring/test_pipeline.py cannot be read"),
    ("conf/base/parameters_scoring.yml", 1, "conf/base/parameters_scoring.yml cannot be read"),
])
def test_an_unreadable_file_is_one_line(shared, rel, code, message):
    os.chmod(shared / rel, 0)
    one_error(doit_unprivileged(shared, "package", "--micropkg", "pipelines.scoring"), code, message)
    no_sdist(shared)


def test_an_unreadable_subfolder_is_refused_not_left_out(shared):
    os.chmod(shared / CLEANING / "sql", 0)
    proc = doit_unprivileged(shared, "package", "--micropkg", "pipelines.cleaning")
    one_error(proc, 3, f"{CLEANING}/sql cannot be read (Permission denied)")
    no_sdist(shared)


def test_a_read_only_dist_is_one_line(shared):
    (shared / "dist").mkdir()
    os.chmod(shared / "dist", 0o555)
    proc = doit_unprivileged(shared, "package", "--micropkg", "pipelines.scoring")
    one_error(proc, 1, "cannot write dist/scoring-0.1.tar.gz (Permission denied); dist must be a writable folder")
    assert os.listdir(shared / "dist") == []


# -- a file edited while it is packaged ------------------------------------------------------------

EDIT_WHILE_READING = """
import os

from micropkg_tasks import *
from micropkg_tasks.core import collect

_reader = collect.reader


def reader(project, mp):  # another writer edits nodes.py right after the packager read it
    read = _reader(project, mp)

    def edit_after(src):
        data = read(src)
        path = os.path.join(project.root, src)
        if src.endswith("cleaning/nodes.py") and b"# edited" not in data:
            st = os.stat(path)
            edited = EDIT(data)
            with open(path, "wb") as fh:
                fh.write(edited)
            if len(edited) == len(data):  # same size, and the old mtime put back
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return data
    return edit_after


collect.reader = reader  # before the package action imports it
"""
EDITS = {"appended": 'lambda data: data + b"# edited meanwhile\\n"',
         "same-size-old-mtime": 'lambda data: b"# edited" + data[len(b"# edited"):]'}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_file_edited_while_packaged_fails_the_task_and_the_next_run_rebuilds(acme, edit):
    (acme / "dodo.py").write_text(EDIT_WHILE_READING.replace("EDIT(", f"({EDITS[edit]})("))
    proc = doit(acme, "package", "--micropkg", "pipelines.cleaning", check=False)
    one_error(proc, 1, f"{CLEANING}/nodes.py changed while it was packaged; run doit package again")
    no_sdist(acme)  # no stale sdist, and doit recorded nothing as built
    doit(acme, "package", "--micropkg", "pipelines.cleaning")
    with tarfile.open(acme / "dist/cleaning-0.3.1.tar.gz") as tar:
        assert b"# edited" in tar.extractfile("cleaning-0.3.1/cleaning/nodes.py").read()


# -- one size limit, the one pull applies -----------------------------------------------------------

def test_an_sdist_over_the_limit_is_refused_naming_the_biggest_files(acme):
    with open(acme / CLEANING / "big.bin", "wb") as fh:
        fh.truncate(300 << 20)  # sparse: 300 MB on paper, no disk used
    proc = doit(acme, "package", "--micropkg", "pipelines.cleaning", check=False)
    one_error(proc, 1, "over the max-size limit of 256.0 MiB that pull also applies (biggest: "
                       f"{CLEANING}/big.bin (300.0 MiB)")
    no_sdist(acme)


def test_the_limit_is_configurable(acme):
    (acme / SCORING / "data.bin").write_bytes(os.urandom(3000))
    add_manifest(acme, '[tool.micropkg]\nmax-size = "2KiB"')
    proc = doit(acme, "package", "--micropkg", "pipelines.scoring", check=False)
    one_error(proc, 1, "over the max-size limit of 2.0 KiB")
    no_sdist(acme)
    (acme / "pyproject.toml").write_text((acme / "pyproject.toml").read_text().replace('"2KiB"', "1_000_000"))
    doit(acme, "package", "--micropkg", "pipelines.scoring")


def test_a_bad_limit_is_a_load_time_error(acme):
    add_manifest(acme, '[tool.micropkg]\nmax-size = "lots"')
    one_error(doit(acme, "package", "--micropkg", "pipelines.scoring", check=False), 3,
              "[tool.micropkg] max-size 'lots' must be a positive number of bytes")


# -- manifest and options, through doit: load-time errors are exit 3, one line ----------------------

@pytest.mark.parametrize("manifest,message", [
    (f'[tool.micropkg.pull]\n"{"a" * 300}.tar.gz" = {{}}', "the source path has a part longer than 255 bytes"),
    ('[tool]\nmicropkg = "x"', "[tool.micropkg] must be a table"),
    ('[tool.micropkg.pull]\n"dist/x.tar.gz" = {env = "local\\n"}', "env 'local\\n' must be the name of one folder"),
    ('[tool.micropkg.package]\n"pipelines.cleaning" = {destination = "out\\u0000x"}', "has a NUL, newline or other control"),
    ('[tool.micropkg.pull]\n"dist/x.tar.gz" = {fs-args = "creds\\u0000.yml"}', "fs_args must be the path of a YAML file"),
    ("[tool.micropkg]\ncompile = \"pip-compile 'x\"\n[tool.micropkg.pull]\n\"dist/x.tar.gz\" = {}",
     "is not a valid command line (No closing quotation)"),
    (f'[tool.micropkg.package]\n"pipelines.cleaning" = {{destination = "{"d" * 10_000_000}"}}',
     "destination has a part longer than 255 bytes"),
], ids=["long-pull-key", "micropkg-not-a-table", "env-newline", "destination-nul", "fs-args-nul", "compile-quote",
        "10MB-destination"])
def test_hostile_manifests_stop_every_command_with_one_line(acme, manifest, message):
    add_manifest(acme, manifest)
    before = snapshot(acme)
    for command in ("list", "pull"):
        proc = doit(acme, command, check=False)
        one_error(proc, 3, message)
        assert len(proc.stderr) < 1000
    assert snapshot(acme) == before
    assert sorted(os.listdir(acme / "conf")) == ["base"]


def test_the_writer_enforces_the_limit_on_contents_and_on_the_archive(tmp_path):
    """The last line of defence (a renamed .py can grow past its file's size; random data
    compresses to more than it holds): over the limit, no tarball and no folder is left."""
    from micropkg_tasks.core.sdist import Member
    from micropkg_tasks.errors import PackageError
    from micropkg_tasks.store.tarball import write_sdist

    target = tmp_path / "out" / "deep" / "x-1.0.tar.gz"
    with pytest.raises(PackageError, match="would unpack to more than 1000 bytes"):
        write_sdist([Member("x-1.0/x/a.bin", data=b"\0" * 1001)], target, limit=1000)
    with pytest.raises(PackageError, match="the sdist is over 1100 bytes"):
        write_sdist([Member("x-1.0/x/a.bin", data=os.urandom(1000))], target, limit=1100)
    assert not (tmp_path / "out").exists()
    write_sdist([Member("x-1.0/x/a.bin", data=os.urandom(1000))], target, limit=4000)
    assert target.is_file()
