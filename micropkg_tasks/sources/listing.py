"""The sdists in a folder, bucket or web folder: ``<name>-<version>.tar.gz`` files listed through
fsspec (or the local file system), as the same entries an index page gives, so one version
choice (``choose.pick_sdist``) serves indexes, buckets and folders alike."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..credentials import redact
from ..errors import SourceError
from ..rules import SDIST_SUFFIXES, is_http, is_url
from .choose import IndexFile
from .download import Deadline, http_deadline


def folder_of(source: str) -> str:
    """The folder (path or URL) an archive source lives in."""
    return source.rsplit("/", 1)[0] if "/" in source else "."


def archive_name(filename: str) -> tuple[str, str] | None:
    """(PEP 503 name, version) of an sdist file name, None for anything else."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    if not filename.endswith(SDIST_SUFFIXES):
        return None
    stem = re.sub(r"\.(tar\.gz|tgz)$", "", filename)
    name, _, version = stem.rpartition("-")
    if not name:
        return None
    try:
        return canonicalize_name(name), str(Version(version))
    except InvalidVersion:
        return None


def folder_files(folder: str, root: Path, storage_options: dict[str, Any] | None = None,
                 label: str = "", deadline: Deadline | None = None) -> list[IndexFile]:
    """Every sdist in ``folder`` (a path relative to ``root``, absolute or ``~``, or any fsspec
    URL), as index entries. An unreadable folder is a SourceError naming it."""
    label = label or redact(folder)
    shown = redact(folder)
    if not is_url(folder):
        path = root / os.path.expanduser(folder)
        try:
            # regular files only: a link named like an sdist is not one (it pointed anywhere, and one
            # that dangled or looped blocked every pull of that name)
            names = sorted(entry.name for entry in os.scandir(path) if entry.is_file(follow_symlinks=False))
        except OSError as exc:
            raise SourceError(f"{label}: cannot list {shown} ({exc.strerror or exc})") from None
        return [IndexFile(name, str(path / name)) for name in names if archive_name(name)]
    import fsspec

    options = dict(storage_options or {})
    if is_http(folder):  # a web folder: bounded by the deadline
        options = http_deadline(options, deadline or Deadline())
    try:
        fs, base = fsspec.core.url_to_fs(folder, **options)
        listed = fs.ls(base, detail=False)
    except ImportError as exc:
        raise SourceError(f"{label}: cannot list {shown}: {redact(str(exc))}") from None
    except TimeoutError:
        raise SourceError(f"{label}: cannot list {shown}: no complete answer within "
                          f"{(deadline or Deadline()).seconds:g} s; giving up") from None
    except Exception as exc:  # network, auth and protocol errors of any fsspec backend
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"{label}: cannot list {shown}: {redact(first)}") from None
    protocol = folder.split("://", 1)[0]
    files = []
    for item in listed:
        item = str(item).rstrip("/")
        name = item.rsplit("/", 1)[-1]
        if archive_name(name):
            url = item if is_url(item) else f"{protocol}://{item.lstrip('/')}" if protocol != "file" else f"file://{item}"
            files.append(IndexFile(name, url))
    return sorted(files, key=lambda f: f.filename)
