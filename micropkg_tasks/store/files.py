"""Small careful file operations: atomic replace, hashing, an inter-process lock."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
#: The names ``atomic_write_via`` gives its temporary files (mkstemp: 8 random characters).
TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")
#: A temporary file untouched this long, and locked by no one, was left by a killed run.
STALE_AFTER = 60.0


def remove_stale_temps(folder: Path, pattern: re.Pattern[str] = TEMP_NAME, age: float = STALE_AFTER) -> None:
    """Remove the temporary files an interrupted run left in ``folder``: only names matching
    ``pattern``, untouched for ``age`` seconds, and not locked by a writer (every writer holds
    an flock on its temporary file, which the kernel drops when the writer dies)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat(follow_symlinks=False).st_mtime < age:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(entry.path)
        except OSError:
            pass  # a live writer holds it, or it is gone already
        finally:
            os.close(fd)


def sweep_once(folder: Path) -> None:
    """``remove_stale_temps(folder)``, once per folder and process (listing a folder of a
    thousand sdists for each of them was a tenth of a cold build)."""
    key = os.fspath(folder)  # another spelling of it only costs one more sweep
    if key not in _swept:
        remove_stale_temps(folder)
        _swept.add(key)


def atomic_write_via(target: Path, write: Callable[[IO[bytes]], object], mode: int = 0o644,
                     sync: bool = True) -> None:
    """Call ``write(fh)`` on a hidden temporary file beside ``target``, fsync it, then rename it
    into place: readers and a crash never see a half-written ``target`` (with ``sync=False``
    readers still never do, a crash may). The temporary files a killed run left beside it are
    removed first (``sweep_once``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # ours until the fd closes: no cleaner removes a live write
        sweep_once(target.parent)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


_swept: set[str] = set()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    atomic_write_via(target, lambda fh: fh.write(data))


def rewrite_user_file(path: Path, data: bytes, shown: str) -> None:
    """Replace a file the user owns (``pyproject.toml``, ``requirements.in``) as the user would
    with an editor: through a symlink (the link stays, the file it points at changes), keeping the
    file's mode (a 0600 file stays private), atomically; a read-only file is refused, not
    overwritten. ``shown`` names it in the error."""
    import stat

    from ..errors import ApplyError

    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError as exc:
        raise ApplyError(f"cannot read {shown} ({exc.strerror or exc})") from None
    if not mode & stat.S_IWUSR:
        raise ApplyError(f"{shown} is read-only; make it writable (chmod u+w {shown}) and run again; nothing was changed")
    try:
        atomic_write_via(target, lambda fh: fh.write(data), mode=mode)
    except OSError as exc:
        raise ApplyError(f"cannot write {shown} ({exc.strerror or exc}); nothing was changed") from None


class NotRegular(OSError):
    """What ``open_regular`` found is a FIFO, a device or a socket."""


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading if it is a regular file (through links, as the user named it).
    Opening never blocks: a FIFO is opened non-blocking, seen for what it is, and refused
    (``NotRegular``); a folder is ``IsADirectoryError``, as ``open`` says."""
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise NotRegular(f"{path} is not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


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
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / name, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
