"""Apply a set of file writes and deletions to a project all-or-nothing.

New contents are staged beside the project (same file system), a journal is written, then each
target is moved aside and the staged file renamed in; ``micropkg.lock`` always last, so the lock
never says more than the files do. A crash at any point leaves a journal; ``recover`` (run by
the next doit command) rolls back an unfinished transaction (the lock first, then the rest in
reverse) or finishes the clean-up of a committed one. Renames are atomic, so every file is
always whole. A rollback that the file system blocks (permissions, an immutable or read-only
folder, a full disk) stops at the first step it cannot take, keeps the journal, and says in one
line what blocks it; the next doit command carries on once that is fixed.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import uuid
from pathlib import Path
from typing import Any

from ..config.project import Project
from ..errors import ApplyError
from .files import atomic_write_bytes
from .state import JOURNAL, TX_PREFIX

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


class _Blocked(Exception):
    """A rollback step the file system refused: what it was, why, and the folder to fix."""

    def __init__(self, step: str, exc: OSError, fix: str) -> None:
        super().__init__(step)
        self.step, self.reason, self.fix = step, exc.strerror or str(exc), fix


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _blocked_message(project: Project, blocked: _Blocked) -> str:
    return (f"an interrupted pull cannot be rolled back: {blocked.step} ({blocked.reason}); make {blocked.fix} "
            f"writable (permissions, immutable flag, read-only mount or full disk), then run any doit command "
            f"to finish the rollback ({project.rel(project.state_dir / JOURNAL)} keeps what is left to do)")


def apply(project: Project, writes: dict[str, bytes], deletes: list[str]) -> None:
    """Write ``writes`` (project-relative path -> bytes) and delete ``deletes``, atomically.
    An error half-way (full disk, permissions, a folder where a file should go) rolls back
    what was done and becomes a one-line MicropkgError."""
    try:
        _apply(project, writes, deletes)
    except OSError as exc:
        where = f" ({project.shown(exc.filename)})" if isinstance(exc.filename, str) else ""
        what = f"could not apply the pull: {exc.strerror or exc}{where}"
        try:
            _recover(project)
        except _Blocked as blocked:
            raise ApplyError(f"{what}; {_blocked_message(project, blocked)}") from None
        except OSError as again:
            raise ApplyError(f"{what}; cleaning up failed too: {again.strerror or again}") from None
        raise ApplyError(f"{what}; the project was left as it was") from None


def _ordered(project: Project, paths: list[str]) -> list[str]:
    """Sorted, with the lock last: it is renamed in only when every file it describes is."""
    lock = project.rel(project.lock_path)
    return sorted(paths, key=lambda p: (p == lock, p))


def _missing_parents(project: Project, path: str, planned: set[str]) -> list[str]:
    """The folders (project-relative) that writing ``path`` will create, deepest first."""
    made = []
    parent = Path(path).parent
    while parent != Path(".") and not (project.root / parent).exists():
        if parent.as_posix() not in planned:
            made.append(parent.as_posix())
            planned.add(parent.as_posix())
        parent = parent.parent
    return made


def _keep_mode(staged: Path, target: Path) -> None:
    """A file replaced keeps its permissions (pyproject.toml, an executable pulled script)."""
    try:
        mode = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISREG(mode):
        os.chmod(staged, stat.S_IMODE(mode))


def _set_aside(target: Path, backup: Path, replaced: bool) -> None:
    """Keep the old ``target`` as ``backup`` for a rollback. One about to be replaced is hard-linked,
    so it never goes missing (a crash in between leaves the old file in place: pyproject.toml,
    which every doit command needs to start, is always there); one to delete is moved."""
    if replaced:
        try:
            os.link(target, backup, follow_symlinks=False)
            return
        except OSError:  # a file system without hard links: move it, as a deletion does
            pass
    os.replace(target, backup)


def _apply(project: Project, writes: dict[str, bytes], deletes: list[str]) -> None:
    _step = _Points()
    state = project.state_dir
    state.mkdir(parents=True, exist_ok=True)
    tx = state / f"{TX_PREFIX}{uuid.uuid4().hex}"
    (tx / "new").mkdir(parents=True)
    (tx / "old").mkdir()
    ops: list[dict[str, Any]] = []
    made: set[str] = set()
    for i, path in enumerate(_ordered(project, list(writes) + list(deletes))):
        if path in writes:
            staged = tx / "new" / str(i)
            with staged.open("wb") as fh:
                fh.write(writes[path])
                fh.flush()
                os.fsync(fh.fileno())
            _keep_mode(staged, project.root / path)
            ops.append({"target": path, "staged": f"new/{i}", "existed": (project.root / path).exists(),
                        "made": _missing_parents(project, path, made)})
        else:
            ops.append({"target": path, "staged": None, "existed": True, "made": []})
    _fsync_dir(tx / "new")
    journal = {"tx": tx.name, "state": "prepared", "ops": ops}
    _step()
    atomic_write_bytes(state / JOURNAL, json.dumps(journal).encode())
    for i, op in enumerate(ops):
        target = project.root / op["target"]
        _step()
        if op["existed"] and target.exists():
            _set_aside(target, tx / "old" / str(i), replaced=bool(op["staged"]))
            _step()
        if op["staged"]:
            target.parent.mkdir(parents=True, exist_ok=True)
            if op["made"]:
                _step()
            try:
                os.replace(tx / op["staged"], target)
            except OSError as exc:  # name the project's file, not the staged copy
                raise OSError(exc.errno, exc.strerror, os.fspath(target)) from None
    _step()
    journal["state"] = "committed"
    atomic_write_bytes(state / JOURNAL, json.dumps(journal).encode())
    try:  # the pull is complete from here on; clean-up left undone is finished by ``recover``
        _step()
        _finish(project, journal)
    except OSError:
        pass


def _finish(project: Project, journal: dict[str, Any]) -> None:
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



def recover(project: Project) -> str | None:
    """Finish or roll back a transaction a crash interrupted; say which, None if none was.
    A rollback the file system blocks is an ApplyError naming what to fix; the journal stays,
    so the next call carries on from where this one stopped."""
    try:
        return _recover(project)
    except _Blocked as blocked:
        raise ApplyError(_blocked_message(project, blocked)) from None
    except OSError as exc:
        shown = f" ({project.shown(exc.filename)})" if isinstance(exc.filename, str) else ""
        raise ApplyError(f"an interrupted pull cannot be finished: {exc.strerror or exc}{shown}; fix that, "
                         "then run any doit command again") from None


def _recover(project: Project) -> str | None:
    path = project.state_dir / JOURNAL
    try:
        journal = json.loads(path.read_text())
    except FileNotFoundError:
        for stray in project.state_dir.glob(f"{TX_PREFIX}*"):  # staged before any journal: nothing was applied
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
        rel = op["target"]
        target, backup = project.root / rel, tx / "old" / str(i)
        folder = project.shown(target.parent)
        if backup.exists():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(backup, target)
            except OSError as exc:
                raise _Blocked(f"cannot put {rel} back", exc, folder) from None
        elif not op["existed"] and op["staged"] and not (tx / op["staged"]).exists() and target.exists():
            try:
                target.unlink()
            except OSError as exc:
                raise _Blocked(f"cannot remove {rel}, which the pull had added", exc, folder) from None
        for made in op.get("made", []):  # folders this pull created, deepest first, if left empty
            try:
                (project.root / made).rmdir()
            except OSError:
                pass
    shutil.rmtree(tx, ignore_errors=True)
    try:
        path.unlink()
    except OSError as exc:
        raise _Blocked(f"cannot remove {project.rel(path)}", exc, project.rel(project.state_dir)) from None
    return "rolled back a pull that was interrupted; the project is as it was before it"
