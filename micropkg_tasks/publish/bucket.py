"""Publishing to a folder: a local path, ``file://`` or any fsspec URL (``s3://``, ``gs://``,
``memory://``...) with optional fs-args. A folder needs no index server: pulls by name list it."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..config.fs_args import load_fs_args
from ..config.manifest import Limits, Publish
from ..config.project import Project
from ..credentials import redact
from ..errors import PublishError, one_line
from ..rules import is_url
from . import Registry

_CHUNK = 1 << 20


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

    def upload(self, paths: list[Path]) -> None:
        for path in paths:
            target = self._path(path.name)
            try:
                if self.local:
                    _link_in(path, Path(target))
                else:  # one PUT: an object store shows the whole object or none
                    self.fs.pipe_file(target, path.read_bytes())
            except PublishError as exc:
                raise PublishError(f"{self.label}: {exc}") from None
            except Exception as exc:
                raise PublishError(f"{self.label}: cannot upload {path.name} to {one_line(self.where(path.name))}: "
                                   f"{_first(exc)}") from None


def _link_in(path: Path, target: Path) -> None:
    """Write a copy beside ``target``, then hard-link it in: the file appears whole or not at all,
    and a publisher that got there first (with other bytes) is never overwritten."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(path.read_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, target)
        except FileExistsError:
            if target.read_bytes() != path.read_bytes():
                raise PublishError(f"{target.name} was published meanwhile with other bytes; nothing was replaced") from None
    finally:
        os.unlink(tmp)


def _first(exc: BaseException) -> str:
    text: Any = str(exc).strip().splitlines()
    return one_line(redact(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__), 200)
