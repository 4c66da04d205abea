"""Faults and concurrency: a pull killed or failing at every point between two file operations,
a package run killed mid-write, corrupt state files, and two runs at once."""
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time

import pytest
from conftest import (
    add_manifest,
    clean_env,
    copy_tree,
    doit,
    make_tar,
    sdist_entries,
    snapshot,
)


def _versions(tmp_path):
    tests = {"__init__.py": "", "test_a.py": "from tidy import a\n"}
    v1 = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries(
        "tidy", "1.0", ("pyyaml",), files={"a.py": "A = 1\n", "gone.py": "G = 1\n",
                                           "config/parameters_tidy.yml": "a: 1\n"}, tests=tests))
    v2 = make_tar(tmp_path / "tidy-2.0.tar.gz", sdist_entries(
        "tidy", "2.0", ("pyyaml", "attrs"), files={"a.py": "A = 2\n", "new/b.py": "B = 2\n",
                                                   "config/parameters_tidy.yml": "a: 2\n"}, tests=tests))
    return v1, v2


def _faulted_pulls(consumer, pristine, source, mode):
    """Pull ``source`` into a fresh copy of ``pristine`` with a fault (``mode``) injected at
    point 1, 2, ... until a pull gets through (left in ``consumer``); yields (point, the failed
    run) for every point where it did not."""
    point = 0
    while True:
        point += 1
        shutil.rmtree(consumer)
        copy_tree(pristine, consumer)
        proc = doit(consumer, "pull", f"--source={source}", env=clean_env(**{mode: str(point)}), check=False)
        if proc.returncode == 0:
            return
        yield point, proc


@pytest.mark.parametrize("mode", ["_MICROPKG_TEST_KILL_AT", "_MICROPKG_TEST_FAIL_AT"])
def test_upgrade_interrupted_at_every_point_is_before_or_after(consumer, tmp_path, mode):
    v1, v2 = _versions(tmp_path)
    doit(consumer, "pull", f"--source={v1}")
    pristine = tmp_path / "pristine"
    copy_tree(consumer, pristine)
    before = snapshot(consumer)
    doit(consumer, "pull", f"--source={v2}")
    after = snapshot(consumer)
    outcomes = []
    for point, proc in _faulted_pulls(consumer, pristine, v2, mode):
        if mode == "_MICROPKG_TEST_KILL_AT":
            assert proc.returncode == -signal.SIGKILL
            doit(consumer, "list")  # the next doit command finishes or rolls back the pull
        else:  # the failure is met and rolled back in the same run, with one clear line
            assert "No space left on device (injected)" in proc.stdout and "Traceback" not in proc.stdout
        state = snapshot(consumer)
        assert state in (before, after), f"mixed state after a fault at point {point}"
        outcomes.append(state == after)
        assert not list((consumer / ".micropkg").glob("tx-*")) and not (consumer / ".micropkg/journal.json").exists()
        doit(consumer, "pull", f"--source={v2}")
        assert snapshot(consumer) == after  # and a plain re-run completes the upgrade
    assert point >= 10  # every point between file operations was exercised, not a sample
    print(f"{mode}: {point} fault points exercised")
    assert snapshot(consumer) == after
    if mode == "_MICROPKG_TEST_FAIL_AT":
        assert not any(outcomes)


def test_a_file_where_a_folder_must_go_is_refused_before_anything_changes(consumer, tmp_path):
    v1, _ = _versions(tmp_path)
    (consumer / "tests/tidy").mkdir(parents=True)
    (consumer / "src/consumer/tidy").write_text("a file where the package folder must go\n")
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={v1}", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout
    assert "src/consumer/tidy/__init__.py" in proc.stdout and "not a regular file" in proc.stdout
    assert "a file where one of its folders must go" in proc.stdout and "Nothing was changed" in proc.stdout
    assert snapshot(consumer) == before


def _kill_packaging_mid_write(acme):
    """SIGKILL a `doit package` of a ~80 MiB micro-package once its temporary sdist exists."""
    big = acme / "src/acme/pipelines/cleaning/big.bin"
    big.write_bytes(bytes(range(256)) * (80 * 4096))  # ~80 MiB: the write takes a while
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    proc = subprocess.Popen([sys.executable, "-m", "doit", "package"], cwd=acme, env=clean_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list((acme / "dist").glob(".cleaning-*.tmp")):
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_package_killed_mid_write_never_leaves_a_truncated_tarball(acme):
    _kill_packaging_mid_write(acme)
    target = acme / "dist" / "cleaning-0.3.1.tar.gz"
    if target.exists():  # only ever a complete archive under the final name
        with tarfile.open(target) as tar:
            assert len(tar.getmembers()) > 5
    doit(acme, "package")
    with tarfile.open(target) as tar:
        assert "cleaning-0.3.1/cleaning/big.bin" in tar.getnames()


def test_corrupt_doit_database_is_set_aside_with_a_message(acme):
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.scoring" = {}')
    doit(acme, "package")
    tarball = (acme / "dist/scoring-0.1.tar.gz").read_bytes()
    (acme / ".micropkg/doit.db").write_bytes(b"this is not sqlite")
    proc = doit(acme, "package")
    assert "doit.db was corrupt; moved it to" in proc.stderr and "Traceback" not in proc.stderr
    assert (acme / "dist/scoring-0.1.tar.gz").read_bytes() == tarball
    assert ".  package:pipelines.scoring" not in doit(acme, "package").stdout


def test_corrupt_or_deleted_lock(consumer, tmp_path):
    v1, _ = _versions(tmp_path)
    doit(consumer, "pull", f"--source={v1}")
    good = (consumer / "micropkg.lock").read_text()
    (consumer / "micropkg.lock").write_text("[[micropkg]\nbroken")
    proc = doit(consumer, "pull", f"--source={v1}", check=False)
    assert proc.returncode == 1 and "micropkg.lock is corrupt" in proc.stdout and "Traceback" not in proc.stdout
    (consumer / "micropkg.lock").unlink()  # the way back: delete it and pull again
    assert "pull again with --force to record them" in doit(consumer, "pull", f"--source={v1}").stdout
    assert "[micropkg.files]\n\n" in (consumer / "micropkg.lock").read_text() + "\n"  # owns nothing it found
    doit(consumer, "pull", f"--source={v1}", "--force")  # --force: they are the pull's, as adopted files
    relocked = (consumer / "micropkg.lock").read_text()
    files = re.findall(r'^"([^"]+)" = ', good, re.M)
    adopted = "adopted = [" + ", ".join(f'"{f}"' for f in sorted(files)) + "]\n"
    assert relocked == good.replace('added = ["pyyaml"]', "added = []").replace("version = 1", "version = 3") \
        .replace("\n\n[micropkg.files]", f"\n{adopted}\n[micropkg.files]")  # requirements.in had them already


def test_two_pulls_at_once_both_finish_and_lose_nothing(consumer, tmp_path):
    v1, _ = _versions(tmp_path)
    other = make_tar(tmp_path / "other-1.0.tar.gz", sdist_entries("other", "1.0", ("attrs",)))
    procs = [subprocess.Popen([sys.executable, "-m", "doit", "pull", f"--source={src}"], cwd=consumer,
                              env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for src in (v1, other)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, out + err
    lock = (consumer / "micropkg.lock").read_text()
    assert 'module = "tidy"' in lock and 'module = "other"' in lock
    req = (consumer / "requirements.in").read_text()
    assert "pyyaml" in req and "attrs" in req
    assert (consumer / "src/consumer/other/__init__.py").is_file() and (consumer / "src/consumer/tidy/a.py").is_file()


def test_two_package_runs_at_once(acme):
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {}\n"pipelines.scoring" = {}')
    procs = [subprocess.Popen([sys.executable, "-m", "doit", "package"], cwd=acme, env=clean_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, out + err
    built = {p.name: p.read_bytes() for p in (acme / "dist").iterdir()}
    assert sorted(built) == ["cleaning-0.3.1.tar.gz", "scoring-0.1.tar.gz"]
    shutil.rmtree(acme / "dist")
    doit(acme, "forget")
    doit(acme, "package")
    assert {p.name: p.read_bytes() for p in (acme / "dist").iterdir()} == built
    assert ".  " not in doit(acme, "package").stdout


def _folders(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if p.is_dir() and not p.relative_to(root).as_posix().startswith(".micropkg"))


@pytest.mark.parametrize("mode", ["_MICROPKG_TEST_KILL_AT", "_MICROPKG_TEST_FAIL_AT"])
def test_a_rolled_back_first_pull_leaves_no_folder_behind(consumer, tmp_path, mode):
    v1, _ = _versions(tmp_path)
    pristine = copy_tree(consumer, tmp_path / "pristine")
    folders, before = _folders(consumer), snapshot(consumer)
    doit(consumer, "pull", f"--source={v1}")
    after = snapshot(consumer)
    for point, _ in _faulted_pulls(consumer, pristine, v1, mode):
        doit(consumer, "list")  # a killed pull is rolled back (or, once committed, finished) by the next command
        if snapshot(consumer) != after:
            assert snapshot(consumer) == before and _folders(consumer) == folders, f"left behind at point {point}"
    assert point >= 5


def test_the_lock_is_never_ahead_of_the_files(consumer, tmp_path):
    v1, v2 = _versions(tmp_path)
    doit(consumer, "pull", f"--source={v1}")
    pristine = copy_tree(consumer, tmp_path / "pristine")
    old_lock = (consumer / "micropkg.lock").read_bytes()
    doit(consumer, "pull", f"--source={v2}")
    after = snapshot(consumer)
    point, ahead = 0, 0
    while True:
        point += 1
        shutil.rmtree(consumer)
        copy_tree(pristine, consumer)
        proc = doit(consumer, "pull", f"--source={v2}", env=clean_env(_MICROPKG_TEST_KILL_AT=str(point)), check=False)
        if proc.returncode == 0:
            break
        state = snapshot(consumer)  # as the kill left it, before any recovery
        lock = state.pop("micropkg.lock", None)
        if lock != old_lock:  # moved aside or already 2.0: only once every other file is 2.0
            ahead += 1
            assert state == {k: v for k, v in after.items() if k != "micropkg.lock"}, f"kill at point {point}"
    assert point > 10 and ahead >= 1  # the lock renamed in is the last step of the apply


def _chattr(flag, path):
    try:
        return subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


@pytest.fixture
def immutable():
    """Make a folder immutable (even root cannot rename in or out of it): a real EPERM."""
    marked = []

    def mark(path):
        if not _chattr("+i", path):
            pytest.skip("chattr +i is not permitted here (needs root on ext4, xfs or tmpfs)")
        marked.append(path)

    yield mark
    for path in marked:
        _chattr("-i", path)


def test_a_read_only_destination_rolls_the_pull_back_with_one_line(consumer, tmp_path, immutable):
    v1, v2 = _versions(tmp_path)
    doit(consumer, "pull", f"--source={v1}")
    before = snapshot(consumer)
    immutable(consumer / "src/consumer/tidy")
    proc = doit(consumer, "pull", f"--source={v2}", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert ("could not apply the pull: Operation not permitted (src/consumer/tidy/__init__.py); "
            "the project was left as it was") in proc.stdout
    assert snapshot(consumer) == before and not (consumer / ".micropkg/journal.json").exists()


def test_a_blocked_rollback_says_what_to_fix_keeps_the_journal_and_finishes_later(consumer, tmp_path, immutable):
    v1, v2 = _versions(tmp_path)
    doit(consumer, "pull", f"--source={v1}")
    pristine = copy_tree(consumer, tmp_path / "pristine")
    before, old_lock = snapshot(consumer), (consumer / "micropkg.lock").read_bytes()
    journal, a_py = consumer / ".micropkg/journal.json", consumer / "src/consumer/tidy/a.py"
    for point in range(1, 60):  # the first kill that leaves the upgrade half-applied, a.py already 2.0
        shutil.rmtree(consumer)
        copy_tree(pristine, consumer)
        proc = doit(consumer, "pull", f"--source={v2}", env=clean_env(_MICROPKG_TEST_KILL_AT=str(point)), check=False)
        assert proc.returncode == -signal.SIGKILL
        if journal.exists() and a_py.is_file() and a_py.read_text() == "A = 2\n":
            break
    mixed = snapshot(consumer)
    assert mixed["micropkg.lock"] == old_lock  # files are mixed, the lock still says 1.0
    immutable(consumer / "src/consumer/tidy")
    for args in (["list"], ["pull", f"--source={v2}"], ["package"]):
        proc = doit(consumer, *args, check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0 and "Traceback" not in out, out
        lines = [line for line in out.splitlines() if line.strip()]
        assert len(lines) == 1, out
        assert "an interrupted pull cannot be rolled back: cannot put src/consumer/tidy/a.py back" in lines[0]
        assert "make src/consumer/tidy writable" in lines[0] and "run any doit command" in lines[0]
        assert journal.exists() and snapshot(consumer) == mixed
    _chattr("-i", consumer / "src/consumer/tidy")
    proc = doit(consumer, "list")
    assert "rolled back a pull that was interrupted" in proc.stderr
    assert snapshot(consumer) == before and not journal.exists()
    doit(consumer, "pull", f"--source={v2}")
    assert (consumer / "src/consumer/tidy/a.py").read_text() == "A = 2\n"


@pytest.fixture
def small_tmpdir(tmp_path):
    """A real 256 KiB file system to serve as TMPDIR (a tmpfs mount: needs root)."""
    folder = tmp_path / "small-tmp"
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("case", ["copy", "unpack"])
def test_a_full_temporary_folder_is_one_accurate_line(consumer, tmp_path, small_tmpdir, case):
    import random

    if case == "copy":  # 400 KB of random text: the archive itself does not fit
        data = "".join(random.Random(1).choices("0123456789abcdef", k=800_000))
        expected = "cannot copy it to the temporary folder"
    else:  # a 3 KB archive that unpacks to 2 MB
        data = "0" * 2_000_000
        expected = "cannot unpack it into the temporary folder"
    sdist = make_tar(tmp_path / "big-1.0.tar.gz", sdist_entries("big", "1.0", files={"data.txt": data}))
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={sdist}", env=clean_env(TMPDIR=str(small_tmpdir)), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out and "not a readable" not in out, out
    line = next(line for line in proc.stdout.splitlines() if expected in line)
    assert line.startswith(f"ERROR: pull '{sdist}': ") and f"{small_tmpdir}/micropkg-pull-" in line
    assert "(No space left on device); free space there, or set TMPDIR to a folder with more room" in line
    assert snapshot(consumer) == before and not list(small_tmpdir.iterdir())


def test_a_killed_package_run_leaves_no_temporary_file_behind_the_next_run(acme):
    import os

    _kill_packaging_mid_write(acme)
    left = list((acme / "dist").glob(".cleaning-*.tmp"))
    assert left, "the kill came too late to leave a temporary file"
    # a temporary file another live process is writing right now (it holds its flock)
    live = acme / "dist" / ".scoring-0.1.tar.gz.abcd1234.tmp"
    live.write_bytes(b"being written")
    hold = ("import fcntl, sys, time; f = open(sys.argv[1], 'rb'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(live)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        an_hour_ago = time.time() - 3600
        for path in [*left, live]:  # the kill happened long ago
            os.utime(path, (an_hour_ago, an_hour_ago))
        unrelated = acme / "dist" / ".notes.tmp"  # not one of our names: never touched
        unrelated.write_text("mine")
        os.utime(unrelated, (an_hour_ago, an_hour_ago))
        doit(acme, "package")
        assert not any(path.exists() for path in left)
        assert live.read_bytes() == b"being written" and unrelated.read_text() == "mine"
    finally:
        holder.kill()
        holder.wait()
