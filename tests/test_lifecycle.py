"""The life of a pulled micro-package: `doit status`, `doit diff`, `doit outdated` and upgrades
that merge local edits three ways, with real sdists of three versions served from a local
folder, a real HTTP server and a local index (tests/servers.py)."""
import hashlib
import json
import shutil

import pytest
from conftest import clean_env, doit, make_tar, sdist_entries, snapshot
from servers import http_server, index_server

from micropkg_tasks.config.project import load_project
from micropkg_tasks.errors import LockError
from micropkg_tasks.lifecycle.merge import has_markers, merge_file
from micropkg_tasks.store import cache
from micropkg_tasks.store.lock import parse_lock

LINES = [f"def step_{i}():\n    return {i}\n\n\n" for i in range(8)]
NODES = "src/consumer/tidy/nodes.py"
TEST = "tests/tidy/test_nodes.py"


def nodes(version: str, last: str | None = None) -> str:
    """nodes.py of a version: the last function returns something new in each version."""
    return "".join(LINES[:-1]) + (last or f"def step_7():\n    return '{version}'\n")


def build(folder, version, nodes_text=None):
    folder.mkdir(exist_ok=True)
    files = {"nodes.py": nodes_text or nodes(version), "config/parameters_tidy.yml": f"tidy:\n  v: '{version}'\n"}
    return make_tar(folder / f"tidy-{version}.tar.gz",
                    sdist_entries("tidy", version, files=files, tests={"test_nodes.py": "from tidy import nodes\n"}))


@pytest.fixture
def shelf(tmp_path):
    """A folder with tidy 1.0, 2.0 and 3.0 (each changes the last function of nodes.py)."""
    folder = tmp_path / "shelf"
    for version in ("1.0", "2.0", "3.0"):
        build(folder, version)
    return folder


def edit_first_function(project):
    path = project / NODES
    path.write_text(path.read_text().replace("return 0", "return 'mine'"))


def said(proc):
    return proc.stdout + proc.stderr


def test_status_and_diff_after_edits_and_deletions(consumer, shelf):
    listed = doit(consumer, "list").stdout
    assert all(f"{task} " in listed for task in ("status", "diff", "outdated"))
    doit(consumer, "pull", f"--source={shelf / 'tidy-1.0.tar.gz'}")
    assert "unchanged since the pull" in doit(consumer, "status").stdout
    assert doit(consumer, "status", "--check").returncode == 0
    assert "no local changes since the pull" in doit(consumer, "diff").stdout

    edit_first_function(consumer)
    (consumer / TEST).unlink()
    out = doit(consumer, "status").stdout
    assert "consumer.tidy: tidy 1.0 from" in out and "1 changed, 1 deleted" in out
    assert f"changed     {NODES}" in out and f"deleted     {TEST}" in out
    proc = doit(consumer, "status", "--check", check=False)
    assert proc.returncode == 1 and "status: 1 micro-package(s) changed since the pull: tidy" in said(proc)

    shutil.rmtree(consumer / ".micropkg" / "cache")  # the base comes back from the recorded source
    for args in ((), ("--module=tidy",)):
        diff = doit(consumer, "diff", *args).stdout
        assert f"--- a/{NODES}\n+++ b/{NODES}\n" in diff
        assert "-    return 0\n+    return 'mine'\n" in diff
        assert f"--- a/{TEST}\n+++ /dev/null\n" in diff and "-from consumer.tidy import nodes" in diff
    proc = doit(consumer, "diff", "--module=nope", check=False)
    assert proc.returncode == 1 and "diff: nope is not in micropkg.lock; installed modules: tidy" in said(proc)


def test_outdated_across_a_folder_a_web_server_and_an_index(consumer, shelf, tmp_path):
    index_root = tmp_path / "index"
    shutil.copytree(shelf, index_root / "files")
    with http_server(shelf) as (url, _), index_server(index_root) as index:
        env = clean_env(PIP_INDEX_URL=index)
        doit(consumer, "pull", f"--source={shelf / 'tidy-1.0.tar.gz'}", "--alias=by_path", env=env)
        doit(consumer, "pull", f"--source={url}/tidy-2.0.tar.gz", "--alias=by_http", env=env)
        doit(consumer, "pull", "--source=tidy==1.0", "--alias=by_index", env=env)
        table = doit(consumer, "outdated", env=env).stdout
        assert table.splitlines()[1].split() == ["module", "installed", "newest", "source"]
        assert "consumer.by_http  2.0       3.0 (newer)" in table
        rows = json.loads(doit(consumer, "-r", "zero", "outdated", "--json", env=env).stdout)
        assert [(r["module"], r["installed"], r["newest"], r["behind"]) for r in rows] == [
            ("by_http", "2.0", "3.0", True), ("by_index", "1.0", "3.0", True), ("by_path", "1.0", "3.0", True)]
        proc = doit(consumer, "outdated", "--check", env=env, check=False)
        assert proc.returncode == 1 and "outdated: 3 micro-package(s) behind their source" in said(proc)

        for folder in (shelf, index_root / "files"):  # only the installed versions are left
            for version in ("2.0", "3.0"):
                (folder / f"tidy-{version}.tar.gz").unlink()
        build(index_root / "files", "1.0rc9")  # a pre-release is not newer, nor chosen
        proc = doit(consumer, "-r", "zero", "outdated", "--check", "--json", env=env)
        assert [(r["newest"], r["behind"]) for r in json.loads(proc.stdout)] == [("1.0", False)] * 3

    build(shelf, "2.0")
    proc = doit(consumer, "-r", "zero", "outdated", "--json", env=env, check=False)  # both servers are gone
    assert proc.returncode == 0
    rows = {r["module"]: r for r in json.loads(proc.stdout)}
    assert rows["by_path"]["newest"] == "2.0" and rows["by_http"]["newest"] is None and rows["by_index"]["newest"] is None
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2 and "consumer.by_http: newest version unknown" in said(proc)
    proc = doit(consumer, "outdated", "--check", env=env, check=False)
    assert proc.returncode == 1 and "by_path 1.0 < 2.0" in said(proc) and "Traceback" not in said(proc)


def test_an_upgrade_merges_a_non_conflicting_edit(consumer, shelf):
    doit(consumer, "pull", f"--source={shelf / 'tidy-1.0.tar.gz'}")
    edit_first_function(consumer)
    out = doit(consumer, "pull", f"--source={shelf / 'tidy-2.0.tar.gz'}").stdout
    assert "updated from 1.0 to tidy 2.0" in out and f"merged your edits into 1 file(s): {NODES}" in out
    text = (consumer / NODES).read_text()
    assert "return 'mine'" in text and "return '2.0'" in text and "return '1.0'" not in text
    assert (consumer / "conf/base/parameters_tidy.yml").read_text() == "tidy:\n  v: '2.0'\n"
    status = doit(consumer, "status").stdout
    assert "tidy 2.0" in status and f"changed     {NODES}" in status  # still your edit, now on 2.0
    diff = doit(consumer, "diff").stdout
    assert "+    return 'mine'" in diff and "2.0" not in diff.replace("tidy 2.0", "")
    v2_sha = hashlib.sha256((shelf / "tidy-2.0.tar.gz").read_bytes()).hexdigest()
    assert [p.name for p in (consumer / ".micropkg/cache").iterdir()] == [f"{v2_sha}.tar.gz"]  # 1.0's is dropped


def test_a_merge_is_applied_all_or_nothing(consumer, shelf):
    doit(consumer, "pull", f"--source={shelf / 'tidy-1.0.tar.gz'}")
    edit_first_function(consumer)
    before = snapshot(consumer)
    for point in (2, 4, 6):  # a full disk between two file operations of the upgrade's transaction
        proc = doit(consumer, "pull", f"--source={shelf / 'tidy-2.0.tar.gz'}", check=False,
                    env=clean_env(_MICROPKG_TEST_FAIL_AT=str(point)))
        assert proc.returncode == 1 and "the project was left as it was" in said(proc)
        assert snapshot(consumer) == before
    proc = doit(consumer, "pull", f"--source={shelf / 'tidy-2.0.tar.gz'}", "--merge=theirs", check=False)
    assert proc.returncode != 0 and "--merge=theirs is not known; --merge=markers writes conflict markers" in said(proc)


def test_a_conflicting_edit_changes_nothing_then_markers_then_force(consumer, shelf):
    doit(consumer, "pull", f"--source={shelf / 'tidy-1.0.tar.gz'}")
    path = consumer / NODES
    path.write_text(path.read_text().replace("return '1.0'", "return 'mine'"))
    before = snapshot(consumer)
    v2 = f"--source={shelf / 'tidy-2.0.tar.gz'}"
    proc = doit(consumer, "pull", v2, check=False)
    assert proc.returncode == 1 and f"{NODES} (changed since it was pulled)" in said(proc)
    assert "--merge=markers" in said(proc)
    assert snapshot(consumer) == before

    out = doit(consumer, "pull", v2, "--merge=markers").stdout
    assert f"wrote conflict markers into 1 file(s): {NODES}" in out
    text = path.read_text()
    assert "<<<<<<< local\n    return 'mine'\n=======\n    return '2.0'\n>>>>>>> tidy 2.0\n" in text
    assert f'conflicted = ["{NODES}"]' in (consumer / "micropkg.lock").read_text()
    assert f"conflicted  {NODES}" in doit(consumer, "status").stdout
    assert doit(consumer, "status", "--check", check=False).returncode == 1
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={shelf / 'tidy-3.0.tar.gz'}", check=False)  # resolve first
    assert proc.returncode == 1 and "still hold(s) the conflict markers" in said(proc)
    assert snapshot(consumer) == before

    doit(consumer, "pull", v2, "--force")
    assert path.read_text() == nodes("2.0")
    assert "conflicted" not in (consumer / "micropkg.lock").read_text()
    assert doit(consumer, "status", "--check").returncode == 0


def test_resolving_the_markers_by_hand_clears_the_conflict(consumer, shelf):
    doit(consumer, "pull", f"--source={shelf / 'tidy-1.0.tar.gz'}")
    path = consumer / NODES
    path.write_text(path.read_text().replace("return '1.0'", "return 'mine'"))
    doit(consumer, "pull", f"--source={shelf / 'tidy-2.0.tar.gz'}", "--merge=markers")
    path.write_text(nodes("2.0", "def step_7():\n    return 'mine'\n"))
    status = doit(consumer, "status").stdout
    assert "conflicted" not in status and f"changed     {NODES}" in status
    out = doit(consumer, "pull", f"--source={shelf / 'tidy-3.0.tar.gz'}", "--merge=markers").stdout
    assert "wrote conflict markers" in out  # 3.0 changes the same line again


@pytest.mark.parametrize("kind", ["http", "index"])
def test_a_base_not_cached_is_fetched_again_and_verified(consumer, shelf, tmp_path, kind):
    root = tmp_path / "index"
    files = root / "files" if kind == "index" else shelf
    if kind == "index":  # 1.0 only, pulled as plain "tidy": its base is fetched as tidy==1.0, not the newest
        files.mkdir(parents=True)
        shutil.copy(shelf / "tidy-1.0.tar.gz", files)
    with http_server(shelf) as (url, seen), index_server(root) as index:
        env = clean_env(PIP_INDEX_URL=index)
        source = (lambda v: f"{url}/tidy-{v}.tar.gz") if kind == "http" else (lambda v: f"tidy=={v}")
        doit(consumer, "pull", f"--source={source('1.0') if kind == 'http' else 'tidy'}", env=env)
        if kind == "index":
            for version in ("2.0", "3.0"):
                shutil.copy(shelf / f"tidy-{version}.tar.gz", files)
        cached = list((consumer / ".micropkg" / "cache").iterdir())
        assert len(cached) == 1
        if kind == "http":
            shutil.rmtree(consumer / ".micropkg" / "cache")
        else:  # a cached archive that does not match its name is never used
            cached[0].write_bytes(b"not the archive")
        edit_first_function(consumer)
        seen.clear()
        out = doit(consumer, "pull", f"--source={source('2.0')}", env=env).stdout
        assert "merged your edits into 1 file(s)" in out
        if kind == "http":
            assert [h for h in seen if h]  # both archives came from the server again
        text = (consumer / NODES).read_text()
        assert "return 'mine'" in text and "return '2.0'" in text

        shutil.rmtree(consumer / ".micropkg" / "cache")
        build(files, "2.0", nodes("2.0") + "# tampered\n")  # the source no longer holds what was pulled
        before = snapshot(consumer)
        proc = doit(consumer, "pull", f"--source={source('3.0')}", env=env, check=False)
    assert proc.returncode == 1
    errors = [line for line in (said(proc)).splitlines() if "is not what was pulled" in line
              or "it is not what was pulled" in line]
    assert len(errors) == 1 and "micropkg.lock records for tidy 2.0" in errors[0]
    assert "Traceback" not in said(proc)
    assert snapshot(consumer) == before


def test_the_cache_checks_every_read(consumer, tmp_path):
    project = load_project(consumer)
    archive = build(tmp_path / "shelf", "1.0")
    sha = hashlib.sha256(archive.read_bytes()).hexdigest()
    cache.put(project, archive, sha)
    assert cache.get(project, sha, tmp_path / "copy") and (tmp_path / "copy").read_bytes() == archive.read_bytes()
    cache.cache_path(project, sha).write_bytes(b"changed")
    assert not cache.get(project, sha, tmp_path / "again") and not (tmp_path / "again").exists()
    assert not cache.cache_path(project, sha).exists()
    cache.put(project, archive, "0" * 64)  # bytes that do not match the name are not kept
    assert not cache.cache_path(project, "0" * 64).exists()


def test_merges_are_line_merges_of_text_only():
    merged, clean = merge_file(b"a\nb\nc\nd\n", b"A\nb\nc\nd\n", b"a\nb\nc\nD\n", "local", "tidy 2.0")
    assert clean and merged == b"A\nb\nc\nD\n"
    merged, clean = merge_file(b"a\nb", b"a\nX", b"a\nY", "local", "tidy 2.0")
    assert not clean and merged == b"a\n<<<<<<< local\nX\n=======\nY\n>>>>>>> tidy 2.0\n" and has_markers(merged)
    assert merge_file(b"\0a\n", b"\0b\n", b"\0a\nc\n", "l", "t") == (b"\0b\n", False)
    assert not has_markers(b"<<<<<<< only an opening line\n")


def test_the_lock_records_conflicts_only_for_its_files(consumer):
    project = load_project(consumer)
    sha = "a" * 64
    text = (f'version = 1\n[[micropkg]]\nmodule = "tidy"\nsource = "x.tar.gz"\nsha256 = "{sha}"\nname = "tidy"\n'
            f'version = "1.0"\nconflicted = ["src/consumer/tidy/b.py"]\n[micropkg.files]\n"src/consumer/tidy/a.py" = "{sha}"\n')
    with pytest.raises(LockError, match="'conflicted' of 'tidy' lists a file it does not install"):
        parse_lock(text, project)
    assert parse_lock(text.replace("b.py", "a.py"), project)["tidy"].conflicted == ("src/consumer/tidy/a.py",)
    assert parse_lock(text.replace('conflicted = ["src/consumer/tidy/b.py"]\n', ""), project)["tidy"].conflicted == ()


def test_outdated_asks_only_the_index_the_entry_names(consumer, shelf, tmp_path):
    """A requirement entry with `index` (here a folder used as a bucket) is checked there only:
    pip's index (unreachable here) is never asked, so no warning, and its newer versions count."""
    from conftest import add_manifest

    add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy>=1.0,<2" = {{index = "{shelf}", alias = "named"}}')
    env = clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple")
    assert "pulled tidy 1.0 into consumer.named" in doit(consumer, "pull", env=env).stdout
    proc = doit(consumer, "-r", "zero", "outdated", "--json", env=env)
    rows = json.loads(proc.stdout)
    assert [(r["module"], r["installed"], r["newest"], r["behind"]) for r in rows] == [("named", "1.0", "3.0", True)]
    assert "warning" not in proc.stderr


def test_an_upgrade_keeps_your_deletions_and_a_changed_deleted_file_is_a_conflict(consumer, shelf):
    """A pulled file you deleted is one of your edits: an upgrade that does not change it leaves
    it deleted (status still says so); one that changes it stops, as git's modify/delete, until
    --force. Re-pulling the same archive is a repair: it restores the file."""
    v1, v2, v3 = (f"--source={shelf / f'tidy-{v}.tar.gz'}" for v in ("1.0", "2.0", "3.0"))
    doit(consumer, "pull", v1)
    (consumer / TEST).unlink()
    assert "re-pulled tidy 1.0" in doit(consumer, "pull", v1).stdout and (consumer / TEST).is_file()

    (consumer / TEST).unlink()
    upgraded = doit(consumer, "pull", v2).stdout
    assert "updated from 1.0 to tidy 2.0" in upgraded and "left deleted 1 file(s) you deleted since the pull" in upgraded
    assert not (consumer / TEST).exists() and "return '2.0'" in (consumer / NODES).read_text()
    assert f"deleted     {TEST}" in doit(consumer, "status").stdout

    (consumer / NODES).unlink()  # 3.0 changes nodes.py: deleted here, changed there
    before = snapshot(consumer)
    refused = doit(consumer, "pull", v3, check=False)
    assert refused.returncode != 0 and "Traceback" not in said(refused)
    assert f"{NODES} (deleted since it was pulled; the new version changes it)" in said(refused)
    assert snapshot(consumer) == before
    forced = doit(consumer, "pull", v3, "--force")
    assert forced.returncode == 0 and "return '3.0'" in (consumer / NODES).read_text() and (consumer / TEST).is_file()


def test_a_deletion_an_upgrade_kept_survives_the_next_pulls_until_force(consumer, shelf):
    """The lock remembers the deletions an upgrade kept: the next `doit pull` of the manifest
    finds the install complete (nothing restored), a re-pull of the same archive keeps them,
    and only --force brings them back."""
    from conftest import add_manifest

    source = consumer / "tidy.tar.gz"
    shutil.copy(shelf / "tidy-1.0.tar.gz", source)
    add_manifest(consumer, '[tool.micropkg.pull]\n"tidy.tar.gz" = {}')
    doit(consumer, "pull")
    (consumer / TEST).unlink()
    shutil.copy(shelf / "tidy-2.0.tar.gz", source)
    assert "left deleted 1 file(s)" in doit(consumer, "pull").stdout
    assert f'deleted = ["{TEST}"]' in (consumer / "micropkg.lock").read_text()
    again = doit(consumer, "pull").stdout
    assert "-- pull:tidy.tar.gz" in again and not (consumer / TEST).exists()  # up to date: not run at all
    repulled = doit(consumer, "--always-execute", "pull", "--source=tidy.tar.gz").stdout  # the same archive again
    assert "already installed and unchanged" in repulled and not (consumer / TEST).exists()
    doit(consumer, "pull", "--source=tidy.tar.gz", "--force")
    assert (consumer / TEST).is_file() and "deleted = " not in (consumer / "micropkg.lock").read_text()
