"""A corpus of hostile and broken sdists. Each is refused with one line naming the problem,
nothing is written outside a temporary folder, and the project is unchanged."""
import gzip
import io
import tarfile
import uuid
from pathlib import Path

import pytest
from conftest import doit, make_tar, sdist_entries, snapshot

from micropkg_tasks.actions.pull import pull
from micropkg_tasks.config.manifest import pull_spec
from micropkg_tasks.config.project import load_project
from micropkg_tasks.errors import ArchiveError
from micropkg_tasks.rules import DEFAULT_MAX_SIZE
from micropkg_tasks.store import tarball as extract_mod

MARKER = f"evil-{uuid.uuid4().hex}"
GOOD = sdist_entries("tidy", "1.0")


def info(name, kind=tarfile.REGTYPE, linkname="", size=0):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname, ti.size = kind, linkname, size
    return ti


def regular(name, data=b"x"):
    return (name, data)


CASES = {
    "dotdot": ([*GOOD, regular(f"../{MARKER}")], "'..'"),
    "nested-dotdot": ([*GOOD, regular(f"tidy-1.0/a/../../../{MARKER}")], "'..'"),
    "absolute": ([*GOOD, regular(f"/tmp/{MARKER}")], "is an absolute path"),
    "drive-letter": ([*GOOD, regular(f"C:/{MARKER}")], "is an absolute path"),
    "backslash": ([*GOOD, regular(f"tidy-1.0\\..\\..\\{MARKER}")], "backslash"),
    "symlink-absolute": ([*GOOD, info("tidy-1.0/tidy/link", tarfile.SYMTYPE, "/tmp")], "is a symlink"),
    "symlink-relative-escape": ([*GOOD, info("tidy-1.0/tidy/up", tarfile.SYMTYPE, "../../..")], "is a symlink"),
    "symlink-chain": ([info("tidy-1.0/a", tarfile.SYMTYPE, "b"), info("tidy-1.0/b", tarfile.SYMTYPE, "/"), *GOOD],
                      "is a symlink"),
    "file-through-symlink": ([info("tidy-1.0/l", tarfile.SYMTYPE, "/tmp"), regular(f"tidy-1.0/l/{MARKER}"), *GOOD],
                             "is a symlink"),
    "hardlink": ([*GOOD, info("tidy-1.0/tidy/h", tarfile.LNKTYPE, "/etc/passwd")], "is a hardlink"),
    "char-device": ([*GOOD, info("tidy-1.0/tidy/tty", tarfile.CHRTYPE)], "is a character device"),
    "block-device": ([*GOOD, info("tidy-1.0/tidy/sda", tarfile.BLKTYPE)], "is a block device"),
    "fifo": ([*GOOD, info("tidy-1.0/tidy/pipe", tarfile.FIFOTYPE)], "is a FIFO"),
    "duplicate": ([*GOOD, regular("tidy-1.0/tidy/__init__.py", b"X = 2\n")], "appears twice"),
    "case-collision": ([*GOOD, regular("tidy-1.0/tidy/Nodes.py"), regular("tidy-1.0/tidy/nodes.py")],
                       "differ only in case"),
    "two-top-folders": ([*GOOD, regular("other-1.0/x.py")], "two top folders"),
    "top-is-a-file": ([regular("tidy-1.0")], "is a file"),
    "no-package": ([regular("tidy-1.0/PKG-INFO", b"Name: tidy\nVersion: 1.0\n"), regular("tidy-1.0/tests/t.py")],
                   "exactly one package folder"),
    "two-packages": ([*GOOD, regular("tidy-1.0/extra/__init__.py")], "found ['extra', 'tidy']"),
    "no-pkg-info": ([m for m in GOOD if not m[0].endswith("PKG-INFO")], "no PKG-INFO"),
    "bad-pkg-info": ([regular("tidy-1.0/PKG-INFO", b"Metadata-Version: 2.2\nName: tidy\n"), GOOD[1]],
                     "PKG-INFO has no Name or Version"),
    "bad-requires-dist": ([regular("tidy-1.0/PKG-INFO", b"Name: t\nVersion: 1\nRequires-Dist: -e .\n"), GOOD[1]],
                          "is not a PEP 508 requirement"),
    "empty": ([], "the archive is empty"),
    "control-character": ([*GOOD, regular("tidy-1.0/tidy/a\nb.py")], "has a NUL, newline or other control character"),
    "long-component": ([*GOOD, regular(f"tidy-1.0/tidy/{'x' * 256}")], "longer than 255 bytes"),
    "credentials-in-config": ([*GOOD, regular("tidy-1.0/tidy/config/credentials.yml")],
                              "tidy/config/credentials.yml is not a parameter file of 'tidy'"),
    "name-is-not-the-folder": ([regular("tidy-1.0/PKG-INFO", b"Name: other\nVersion: 1\n"), GOOD[1]],
                               "PKG-INFO Name 'other' is not the package folder 'tidy'"),
    "stdlib-package": (sdist_entries("os", "1.0"), "package folder 'os' is a standard-library module name"),
    "direct-reference": (sdist_entries("tidy", "1.0", requires=("x @ file:///tmp",)), "a direct reference"),
}


@pytest.fixture
def project(consumer):
    return load_project(consumer)


def _assert_refused(project, archive, message):
    before = snapshot(project.root)
    with pytest.raises(ArchiveError) as err:
        pull(project, pull_spec(str(archive)))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert snapshot(project.root) == before
    assert not (Path("/tmp") / MARKER).exists()
    assert not list(project.root.parent.rglob(MARKER))


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_archive_is_refused(project, tmp_path, case):
    entries, message = CASES[case]
    _assert_refused(project, make_tar(tmp_path / "x.tar.gz", entries), message)


def test_nul_in_a_member_name(project, tmp_path):
    """A ustar name stops at NUL, but a PAX ``path`` record can carry one."""
    nul = info("tidy-1.0/tidy/ab.py")
    nul.pax_headers = {"path": "tidy-1.0/tidy/a\x00b.py"}
    with tarfile.open(tmp_path / "x.tar.gz", "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in GOOD:
            ti = info(name, size=len(data))
            tar.addfile(ti, io.BytesIO(data))
        tar.addfile(nul, io.BytesIO(b""))
    _assert_refused(project, tmp_path / "x.tar.gz", "has a NUL, newline or other control character")


def test_gzip_bomb_is_refused_at_its_header(project, tmp_path, monkeypatch):
    """A member whose declared size is over the budget stops the check before its data is read."""
    header = info("tidy-1.0/tidy/zeros.bin", size=DEFAULT_MAX_SIZE + 1)
    raw = io.BytesIO()
    raw.write(header.tobuf(tarfile.PAX_FORMAT))
    raw.write(b"\0" * 4096)  # the declared gigabytes are never there: we must not need them
    (tmp_path / "bomb.tar.gz").write_bytes(gzip.compress(raw.getvalue()))
    _assert_refused(project, tmp_path / "bomb.tar.gz", "unpacks to more than 256.0 MiB, the max-size limit")


def test_member_count_bomb(project, tmp_path):
    entries = [*GOOD] + [regular(f"tidy-1.0/tidy/f{i}.txt", b"") for i in range(extract_mod.MAX_MEMBERS)]
    _assert_refused(project, make_tar(tmp_path / "many.tar.gz", entries), "more than 10000 members")


def test_truncated_and_non_gzip_files(project, tmp_path):
    good = make_tar(tmp_path / "good.tar.gz", GOOD + [regular("tidy-1.0/tidy/big.bin", bytes(range(256)) * 400)])
    (tmp_path / "cut.tar.gz").write_bytes(good.read_bytes()[:-200])
    _assert_refused(project, tmp_path / "cut.tar.gz", "not a readable .tar.gz")
    (tmp_path / "plain.tar.gz").write_bytes(b"PK\x03\x04 this is a zip, not a tar.gz")
    _assert_refused(project, tmp_path / "plain.tar.gz", "not a readable .tar.gz")
    make_tar(tmp_path / "nogzip.tar.gz", GOOD, gz=False)
    _assert_refused(project, tmp_path / "nogzip.tar.gz", "not a readable .tar.gz")


def test_build_code_in_the_sdist_never_runs(consumer, tmp_path):
    """Kedro ran the sdist's build backend to read its requirements (CVE-2024-12215)."""
    marker = tmp_path / "pwned"
    payload = f"open({str(marker)!r}, 'w').write('ran')\n".encode()
    entries = [*sdist_entries("tidy", "1.0", requires=("pyyaml",)),
               regular("tidy-1.0/setup.py", payload),
               regular("tidy-1.0/backend.py", payload + b"def prepare_metadata_for_build_wheel(*a): pass\n"),
               regular("tidy-1.0/pyproject.toml",
                       b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n')]
    archive = make_tar(tmp_path / "tidy-1.0.tar.gz", entries)
    doit(consumer, "pull", f"--source={archive}")
    assert not marker.exists()
    assert (consumer / "src/consumer/tidy/__init__.py").is_file()
    assert "pyyaml" in (consumer / "requirements.in").read_text()


def test_doit_shows_the_refusal_as_one_line(consumer, tmp_path):
    archive = make_tar(tmp_path / "x.tar.gz", CASES["symlink-absolute"][0])
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={archive}", check=False)
    assert proc.returncode == 1
    assert f"pull '{archive}': member 'tidy-1.0/tidy/link' is a symlink" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(consumer) == before
