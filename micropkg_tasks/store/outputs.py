"""What packaging wrote, so that nothing else passes for it.

Every sdist and wheel is hashed as it is written, and its record (size, mtime, ctime, inode,
sha256) is kept twice: in doit's values of the package task, which its up-to-date check compares
with the file on disk (one ``lstat``; the file is hashed only when its stamp differs, so a no-op
``doit package`` hashes nothing), and in ``.micropkg/outputs/<hash of the path>.json``, which
``doit publish`` reads (it cannot see another task's values when that task is not in the run).
The values also hold the stamp of the record file, so a lost or damaged record rebuilds the
output rather than leaving publish without one.

Publish uploads only a regular file (opened without following links, never a FIFO) whose bytes
are the recorded ones: a file replaced by a link, truncated or rewritten since is refused."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from ..config.project import STATE_DIR
from .files import atomic_write_via

RECORDS = f"{STATE_DIR}/outputs"
Stamp = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


@dataclass(frozen=True)
class Written:
    """One output as it was written."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    sha256: str


def _stamp(st: os.stat_result) -> Stamp:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


class _Hashing:
    """A binary file object that hashes what goes through it (gzip and shutil need no more)."""

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh, self.digest = fh, hashlib.sha256()

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.fh.write(data)

    def flush(self) -> None:
        self.fh.flush()

    def tell(self) -> int:
        return self.fh.tell()


def write_output(target: Path, write: Callable[[Any], object]) -> Written:
    """``atomic_write_via`` that hashes the bytes as ``write`` writes them and returns the record
    of the file now under ``target``: stamped after the rename when the file there is ours, else
    (another run put its own copy there meanwhile) ours as it was before the rename, which then
    never matches, so the next check hashes what is there."""
    seen: dict[str, Any] = {}

    def hashed(fh: IO[bytes]) -> None:
        proxy = _Hashing(fh)
        write(proxy)
        fh.flush()
        seen["st"], seen["sha256"] = os.fstat(fh.fileno()), proxy.digest.hexdigest()

    atomic_write_via(target, hashed)
    mine: os.stat_result = seen["st"]
    with contextlib.suppress(OSError):
        now = os.lstat(target)
        if (now.st_ino, now.st_dev) == (mine.st_ino, mine.st_dev):
            mine = now  # the rename moved the ctime
    return Written(*_stamp(mine), sha256=seen["sha256"])


def record_path(root: Path | str, rel: str) -> str:
    return f"{root}/{RECORDS}/{hashlib.sha256(rel.encode('utf-8', 'surrogateescape')).hexdigest()[:40]}.json"


def save(root: Path, rel: str, written: Written) -> dict[str, Any]:
    """Keep the record of ``rel`` under .micropkg/outputs/ (atomic, not fsync'd: a record a
    crash damaged no longer matches its stamp, and the output is rebuilt); return the values the
    package task saves for its up-to-date check."""
    path = Path(record_path(root, rel))
    data = json.dumps({"path": rel, **asdict(written)}, sort_keys=True).encode()
    atomic_write_via(path, lambda fh: fh.write(data), sync=False)
    return {"output:" + rel: {**asdict(written), "record": list(_stamp(os.lstat(path)))}}


def load(root: Path, rel: str) -> Written | None:
    """The record of ``rel``; None when there is none or it is not one of ours."""
    try:
        with open(record_path(root, rel), "rb") as fh:
            data = json.loads(fh.read(4096))
        if data.pop("path") != rel:
            return None
        return Written(**data)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def intact(root: str, rel: str, values: dict[str, Any]) -> bool:
    """Whether ``rel`` and its record are what the package task last wrote (``values``): a
    regular file with the recorded stamp, or, when only its stamp moved, the recorded bytes.
    Two ``lstat`` calls on the no-op path, nothing read."""
    saved = values.get("output:" + rel)
    if not isinstance(saved, dict):
        return False
    try:
        rec = os.lstat(record_path(root, rel))
        if [rec.st_size, rec.st_mtime_ns, rec.st_ctime_ns, rec.st_ino] != saved["record"]:
            return False
        st = os.lstat(f"{root}/{rel}")
        size = saved["size"]
        if not stat.S_ISREG(st.st_mode) or st.st_size != size:
            return False
        if st.st_mtime_ns == saved["mtime_ns"] and st.st_ctime_ns == saved["ctime_ns"] and st.st_ino == saved["ino"]:
            return True
        return bool(read_regular(f"{root}/{rel}", size)[1] == saved["sha256"])
    except (OSError, ValueError, TypeError, KeyError):
        return False


def read_regular(path: str, size: int) -> tuple[bytes, str]:
    """The bytes and sha256 of the regular file ``path``, which must hold exactly ``size``
    bytes. Opened without following a link and without blocking (a FIFO never waits); anything
    else is a ValueError saying what it is."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if os.path.islink(path):
            raise ValueError("is a symbolic link, not the file doit package wrote") from None
        raise exc
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("is not a regular file")
        if st.st_size != size:
            raise ValueError(f"holds {st.st_size} bytes, not the {size} doit package wrote")
        data = fh.read(size + 1)
    if len(data) != size:
        raise ValueError(f"holds {len(data)} bytes, not the {size} doit package wrote")
    return data, hashlib.sha256(data).hexdigest()


__all__ = ["Written", "intact", "load", "read_regular", "record_path", "save", "write_output"]
