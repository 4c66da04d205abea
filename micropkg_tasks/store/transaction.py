"""Apply a set of file writes and deletions to a project all-or-nothing.

New contents are staged beside the project (same file system), a journal is written, then each
target is moved aside and the staged file renamed in. A crash at any point leaves a journal;
``recover`` (run by the next doit command) rolls back an unfinished transaction or finishes the
clean-up of a committed one. Renames are atomic, so every file is always whole.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import uuid
from pathlib import Path

from ..errors import ApplyError
from .files import atomic_write_bytes
from ..config.project import Project

JOURNAL = "journal.json"
#: Test-only fault injection, read once: SIGKILL at the N-th point between two file operations
#: of an apply, or meet a full disk there. Never set these outside the test suite.
_KILL_AT = int(os.environ.get("_MICROPKG_TEST_KILL_AT", "0") or 0)
_FAIL_AT = int(os.environ.get("_MICROPKG_TEST_FAIL_AT", "0") or 0)


class _Points:
    """Counts the points between two file operations of one apply (fault-injection tests)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        if self.count == _KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)
        if self.count == _FAIL_AT:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def apply(project: Project, writes: dict[str, bytes], deletes: list[str]) -> None:
    """Write ``writes`` (project-relative path -> bytes) and delete ``deletes``, atomically.
    An error half-way (full disk, permissions, a folder where a file should go) rolls back
    what was done and becomes a one-line MicropkgError."""
    try:
        _apply(project, writes, deletes)
    except OSError as exc:
        recover(project)
        where = f" ({exc.filename})" if exc.filename else ""
        raise ApplyError(f"could not apply the pull: {exc.strerror or exc}{where}; the project was left as it was") from None


def _apply(project: Project, writes: dict[str, bytes], deletes: list[str]) -> None:
    _step = _Points()
    state = project.state_dir
    state.mkdir(parents=True, exist_ok=True)
    tx = state / f"tx-{uuid.uuid4().hex}"
    (tx / "new").mkdir(parents=True)
    (tx / "old").mkdir()
    ops = []
    for i, (path, data) in enumerate(sorted(writes.items())):
        staged = tx / "new" / str(i)
        with staged.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        ops.append({"target": path, "staged": f"new/{i}", "existed": (project.root / path).exists()})
    for path in sorted(deletes):
        ops.append({"target": path, "staged": None, "existed": True})
    _fsync_dir(tx / "new")
    journal = {"tx": tx.name, "state": "prepared", "ops": ops}
    _step()
    atomic_write_bytes(state / JOURNAL, json.dumps(journal).encode())
    for i, op in enumerate(ops):
        target = project.root / op["target"]
        _step()
        if op["existed"] and target.exists():
            os.replace(target, tx / "old" / str(i))
            _step()
        if op["staged"]:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tx / op["staged"], target)
    _step()
    journal["state"] = "committed"
    atomic_write_bytes(state / JOURNAL, json.dumps(journal).encode())
    try:  # the pull is complete from here on; clean-up left undone is finished by ``recover``
        _step()
        _finish(project, journal)
    except OSError:
        pass


def _finish(project: Project, journal: dict) -> None:
    for op in journal["ops"]:
        if op["staged"] is None:
            _prune_empty(project, (project.root / op["target"]).parent)
    shutil.rmtree(project.state_dir / journal["tx"], ignore_errors=True)
    (project.state_dir / JOURNAL).unlink(missing_ok=True)


def _prune_empty(project: Project, folder: Path) -> None:
    """Remove folders a deletion left empty, up to the roots a pull installs into."""
    stops = {project.root, project.package_dir, project.conf_dir, project.tests_root(), project.root / project.source_dir}
    while folder not in stops and project.root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def pending(state: Path) -> bool:
    """Whether an interrupted transaction (a journal or staged files) is waiting in ``state``."""
    return (state / JOURNAL).exists() or (state.is_dir() and any(state.glob("tx-*")))


def recover(project: Project) -> str | None:
    """Finish or roll back a transaction a crash interrupted; say which, None if none was."""
    path = project.state_dir / JOURNAL
    try:
        journal = json.loads(path.read_text())
    except FileNotFoundError:
        for stray in project.state_dir.glob("tx-*"):  # staged before any journal: nothing was applied
            shutil.rmtree(stray, ignore_errors=True)
        return None
    except ValueError:  # torn journal: it was never complete, so no rename had happened
        path.unlink()
        return "removed an incomplete journal of an interrupted pull (no file had been changed)"
    tx = project.state_dir / journal["tx"]
    if journal["state"] == "committed":
        _finish(project, journal)
        return "finished the clean-up of a pull that had completed"
    for i, op in reversed(list(enumerate(journal["ops"]))):
        target, backup = project.root / op["target"], tx / "old" / str(i)
        if backup.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(backup, target)
        elif not op["existed"] and op["staged"] and not (tx / op["staged"]).exists() and target.exists():
            target.unlink()
            _prune_empty(project, target.parent)
    shutil.rmtree(tx, ignore_errors=True)
    path.unlink()
    return "rolled back a pull that was interrupted; the project is as it was before it"
