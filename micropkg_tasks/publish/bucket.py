"""Publishing to a folder: a local path, ``file://`` or any fsspec URL (``s3://``, ``gs://``,
``memory://``...) with optional fs-args. A folder needs no index server: pulls by name list it.

Into a local folder a file is written as a hidden temporary beside its name, then hard-linked
in. A publish killed meanwhile leaves that temporary behind; the next publish to the folder
removes it, with the rule package outputs follow (``store.files.remove_stale_temps``): only our
own names (``.<sdist or wheel>.<8 characters>.tmp``), untouched for a minute, and not locked by
a live writer (each holds an flock on its temporary)."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

from ..config.fs_args import load_fs_args
from ..config.manifest import Limits, Publish
from ..config.project import Project
from ..credentials import redact
from ..errors import PublishError, one_line
from ..rules import is_url
from . import Registry

_CHUNK = 1 << 20
#: The temporaries ``_link_in`` makes (mkstemp: 8 random characters), and no other name.
TEMP_NAME = re.compile(r"\..+\.(tar\.gz|whl)\.[a-z0-9_]{8}\.tmp")


class Folder(Registry):
    def __init__(self, project: Project, dest: Publish, label: str, limits: Limits) -> None:
        import fsspec

        self.label, self.url, self.limits = label, dest.url, limits
        options = load_fs_args(project.root, dest.fs_args, label)
        url = dest.url if is_url(dest.url) else str(project.root / os.path.expanduser(dest.url))
        try:
            self.fs, self.base = fsspec.core.url_to_fs(url, **options)
        except ImportError as exc:
            raise PublishError(f"{label}: cannot open {one_line(redact(dest.url))}: {redact(str(exc))}") from None
        except (ValueError, TypeError) as exc:
            raise PublishError(f"{label}: cannot open {one_line(redact(dest.url))}: {redact(str(exc))}") from None
        self.local = type(self.fs).__name__ == "LocalFileSystem"
        if self.local:
            from ..store.files import remove_stale_temps

            remove_stale_temps(Path(self.base), TEMP_NAME)

    def _path(self, filename: str) -> str:
        return f"{self.base.rstrip('/')}/{filename}"

    def where(self, filename: str) -> str:
        return redact(f"{self.url.rstrip('/')}/{filename}")

    def lookup(self, filename: str) -> str | None:
        path = self._path(filename)
        try:
            if not self.fs.exists(path):
                return None
            kind = self.fs.info(path).get("type")
            if kind != "file":  # a folder, a FIFO (open would wait for ever), a device: never read nor replaced
                raise PublishError(f"{self.label}: {one_line(self.where(filename))} is not a regular file ({kind}); "
                                   "nothing was uploaded")
            digest = hashlib.sha256()
            with self.fs.open(path, "rb") as fh:
                size = 0
                while chunk := fh.read(_CHUNK):
                    size += len(chunk)
                    if size > self.limits.max_size:
                        return "(larger than the max-size limit)"
                    digest.update(chunk)
            return digest.hexdigest()
        except PublishError:
            raise
        except Exception as exc:  # network, auth and protocol errors of any fsspec backend
            raise PublishError(f"{self.label}: cannot read {one_line(self.where(filename))}: {_first(exc)}") from None

    def holds(self, expected: dict[str, tuple[int, str]]) -> bool:
        self.fs.invalidate_cache(self.base)
        listed = {PurePosixPath(entry["name"]).name: entry for entry in self.fs.ls(self.base, detail=True)}
        for name, (size, _) in expected.items():
            entry = listed.get(name)
            if entry is None or entry.get("type") != "file" or entry.get("size") != size:
                return False
        return True

    def upload(self, files: dict[str, bytes]) -> None:
        for name, data in files.items():
            target = self._path(name)
            try:
                if self.local:
                    _link_in(data, Path(target))
                else:  # one PUT: an object store shows the whole object or none
                    self.fs.pipe_file(target, data)
            except PublishError as exc:
                raise PublishError(f"{self.label}: {exc}") from None
            except Exception as exc:
                raise PublishError(f"{self.label}: cannot upload {name} to {one_line(self.where(name))}: "
                                   f"{_first(exc)}") from None


def _link_in(data: bytes, target: Path) -> None:
    """Write ``data`` beside ``target``, then hard-link it in: the file appears whole or not at
    all, and a publisher that got there first (with other bytes) is never overwritten. The
    temporary is flock'd while it is written, so no sweep removes it under us."""
    import contextlib
    import fcntl
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
            try:
                os.link(tmp, target)
            except FileExistsError:
                if target.read_bytes() != data:
                    raise PublishError(f"{target.name} was published meanwhile with other bytes; "
                                       "nothing was replaced") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _first(exc: BaseException) -> str:
    text: Any = str(exc).strip().splitlines()
    return one_line(redact(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__), 200)
