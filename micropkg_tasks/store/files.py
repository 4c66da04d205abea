"""Small careful file operations: atomic replace, hashing, an inter-process lock."""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

CHUNK = 1 << 20


def atomic_write_via(target: Path, write: Callable, mode: int = 0o644) -> None:
    """Call ``write(fh)`` on a hidden temporary file beside ``target``, fsync, then rename it
    into place: readers and a crash never see a half-written ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(target: Path, data: bytes) -> None:
    atomic_write_via(target, lambda fh: fh.write(data))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def project_lock(state_dir: Path, name: str = "lock") -> Iterator[None]:
    """An exclusive advisory lock: a second run on the same project waits for the first."""
    import fcntl

    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / name, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
