"""Where a pull's sdist comes from: a local path, any fsspec URL, or a requirement resolved on
a PyPI-like index. Always ends as a file in a temporary folder with its sha256, within one
deadline and size limit, never by running code from the archive."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.fs_args import fs_args_path, load_fs_args
from ..config.manifest import DEFAULT_LIMITS, Limits, PullSpec, registry_kind
from ..config.project import Project
from ..credentials import has_hidden_query, lock_safe, origin, redact
from ..errors import SourceError, where
from ..rules import is_url
from .choose import IndexFile, parse_requirement, pick_sdist
from .download import Deadline, Fetched, copy_stream, http_deadline
from .listing import folder_files

__all__ = ["Fetched", "available", "fetch", "local_path", "locked_url"]


def local_path(project: Project, spec: PullSpec) -> Path:
    """The file a ``path`` source names: relative to the project, absolute, or ``~/...``."""
    return fs_args_path(project.root, spec.source)


def fetch(project: Project, spec: PullSpec, workdir: Path, limits: Limits = DEFAULT_LIMITS,
          locked: tuple[str, str] | None = None) -> Fetched:
    """Copy the sdist named by ``spec`` into ``workdir``; check the pinned digest if any.
    ``locked``: the (url, sha256) the lock recorded for this requirement, fetched again instead of
    resolving anew, so the same lock gives the same files (a changed archive is refused)."""
    label = where("pull", spec.source)
    deadline = Deadline(limits.timeout, limits.max_size)
    try:
        if locked and spec.kind == "index" and locked_url(spec, locked[0]):
            fetched = _fetch_locked(project, spec, locked[0], workdir, label, deadline)
            if fetched.sha256 != locked[1]:
                raise SourceError(f"{label}: {redact(locked[0])} has sha256 {fetched.sha256}, not the {locked[1]} that "
                                  f"{project.lock_path.name} records; the archive was replaced on the index, nothing was changed")
        elif spec.kind == "path":
            fetched = _fetch_path(project, local_path(project, spec), workdir, label, deadline)
        elif spec.kind == "url":
            fetched = _fetch_url(spec.source, load_fs_args(project.root, spec.fs_args, label), workdir, label, deadline)
        elif spec.index:
            fetched = _fetch_named(project, spec, workdir, label, deadline)
        else:
            from .index import fetch_from_index
            from .pipconf import index_url

            fetched = fetch_from_index(spec.source, index_url(), workdir, deadline, label)
    except SourceError as exc:  # every failure says which pull it is, network ones included
        raise exc if str(exc).startswith(label) else SourceError(f"{label}: {exc}") from None
    finally:
        deadline.close()
    fetched = Fetched(fetched.path, fetched.sha256, lock_safe(fetched.url))  # the lock never records credentials
    if locked and fetched.sha256 != locked[1] and _file_name(fetched.url) == _file_name(locked[0]):
        # resolved anew (the locked URL is not on the index: PyPI's files live on another host) to the very
        # file the lock records: a locked version's bytes must be the lock's
        raise SourceError(f"{label}: {_file_name(fetched.url)} has sha256 {fetched.sha256} on the index, not the "
                          f"{locked[1]} that {project.lock_path.name} records; the archive was replaced, nothing was changed")
    if spec.sha256 and fetched.sha256 != spec.sha256:
        raise SourceError(f"{label}: sha256 is {fetched.sha256}, the manifest pins {spec.sha256}")
    return fetched


def available(project: Project, spec: PullSpec, deadline: Deadline | None = None) -> list[IndexFile]:
    """What a requirement source can resolve to: the files its named index (or the project's)
    lists, else pip's index's; never another index's. For pulls and for outdated checks."""
    label = where("pull", spec.source)
    requirement = parse_requirement(spec.source)
    if spec.index and registry_kind(spec.index) == "bucket":
        options = load_fs_args(project.root, spec.fs_args, label)
        return folder_files(spec.index, project.root, options, label, deadline)
    from .index import index_files
    from .pipconf import index_url

    return index_files(requirement.name, spec.index or index_url(), deadline)


def _fetch_named(project: Project, spec: PullSpec, workdir: Path, label: str, deadline: Deadline) -> Fetched:
    """A requirement resolved on the index its entry (or the project) names, and nowhere else:
    a PEP 691/503 index over http(s), else the newest matching sdist in a folder or bucket."""
    assert spec.index is not None
    if registry_kind(spec.index) == "index":
        from .index import fetch_from_index

        return fetch_from_index(spec.source, spec.index, workdir, deadline, label)
    chosen = pick_sdist(parse_requirement(spec.source), available(project, spec, deadline), label,
                        f"the index {redact(spec.index)}")
    url = f"{spec.index.rstrip('/')}/{chosen.filename}"  # as the project spells it: the lock stays portable
    return _fetch_archive(project, url, load_fs_args(project.root, spec.fs_args, label), workdir, label, deadline)


def _fetch_locked(project: Project, spec: PullSpec, url: str, workdir: Path, label: str,
                  deadline: Deadline) -> Fetched:
    """The archive the lock recorded (``url``, without credentials), fetched with the credentials
    of the index the spec names: its host's for an index file (a signed URL, whose signature the
    lock hid, is found anew on the index by its file name); the folder as configured for a bucket."""
    assert spec.index is not None
    options = load_fs_args(project.root, spec.fs_args, label)
    filename = url.split("?", 1)[0].rsplit("/", 1)[-1]
    if registry_kind(spec.index) == "index":
        if has_hidden_query(url):
            from .index import index_files

            files = index_files(parse_requirement(spec.source).name, spec.index, deadline)
            url = next((f.url for f in files if f.filename == filename), url)
        return _fetch_archive(project, url, options, workdir, label, deadline, spec.index)
    return _fetch_archive(project, f"{spec.index.rstrip('/')}/{filename}", options, workdir, label, deadline)


def _fetch_archive(project: Project, url: str, options: dict[str, Any], workdir: Path, label: str,
                   deadline: Deadline, index: str | None = None) -> Fetched:
    """One archive of an index or folder: an http(s) file (with ``index``'s credentials on its
    host), any fsspec URL, or a local path."""
    if registry_kind(url) == "index":
        from .index import fetch_file

        fetched = fetch_file(url, workdir, deadline, index=index)
    elif is_url(url):
        fetched = _fetch_url(url, options, workdir, label, deadline)
    else:
        fetched = _fetch_path(project, fs_args_path(project.root, url), workdir, label, deadline)
    return Fetched(fetched.path, fetched.sha256, url)


def _file_name(url: str) -> str:
    import urllib.parse

    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])


def locked_url(spec: PullSpec, url: str) -> bool:
    """Whether ``url`` (what the lock recorded for this pull) lies on the index the spec names
    now: a lock never takes a file from an index the manifest no longer names."""
    import urllib.parse

    from ..config.manifest import registry_kind

    if not spec.index or not url:
        return False
    if registry_kind(spec.index) == "index":  # the host: the lock holds no user-info, the manifest may
        # and the index's own part of it: files live beside its simple page's folder (pypiserver:
        # /simple/ and /packages/; devpi: /user/index/+simple/ and /user/index/+f/), so a forged lock
        # cannot send a pull to another index on the same server
        files_root = urllib.parse.urlsplit(spec.index).path.rstrip("/").rsplit("/", 1)[0] + "/"
        return urllib.parse.urlsplit(url).scheme == urllib.parse.urlsplit(spec.index).scheme and \
            origin(url) == origin(spec.index) and urllib.parse.urlsplit(url).path.startswith(files_root)
    return lock_safe(url).rsplit("/", 1)[0].rstrip("/") == lock_safe(spec.index).rstrip("/")


def _fetch_path(project: Project, path: Path, workdir: Path, label: str, deadline: Deadline) -> Fetched:
    from ..store.files import NotRegular, open_regular

    shown = project.shown(path)
    try:
        with open_regular(path) as fh:
            return copy_stream(fh, workdir / "sdist.tar.gz", label, deadline)
    except NotRegular:
        raise SourceError(f"{label}: {shown} is not a regular file (a FIFO, device or socket); refusing it") from None
    except FileNotFoundError:
        raise SourceError(f"{label}: sdist {shown} not found") from None
    except IsADirectoryError:
        raise SourceError(f"{label}: {shown} is a folder, not an sdist") from None
    except PermissionError:
        raise SourceError(f"{label}: sdist {shown} cannot be read (permission denied)") from None


def _fetch_url(url: str, storage_options: dict[str, Any], workdir: Path, label: str, deadline: Deadline) -> Fetched:
    import fsspec
    from fsspec.registry import known_implementations

    protocol = url.split("://", 1)[0]
    try:
        if protocol in ("http", "https"):
            storage_options = http_deadline(storage_options, deadline)
        fs, path = fsspec.core.url_to_fs(url, **storage_options)
    except ImportError:
        hint = known_implementations.get(protocol, {}).get("err", "")
        needs = hint or "see the fsspec documentation"
        raise SourceError(f"{label}: {protocol}:// needs an extra package: {needs}".strip()) from None
    except ValueError as exc:
        raise SourceError(f"{label}: cannot open {redact(url)}: {redact(str(exc))}") from None
    except TypeError as exc:
        raise SourceError(f"{label}: cannot open {redact(url)}: its fs_args hold an option this file system does not "
                          f"take ({type(exc).__name__})") from None
    try:
        with fs.open(path, "rb") as fh:
            return copy_stream(fh, workdir / "sdist.tar.gz", label, deadline)
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError(f"{label}: {redact(url)} not found") from None
    except TimeoutError:  # aiohttp's total timeout: the deadline, met inside one read
        deadline.check(label)
        raise SourceError(f"{label}: the server stopped answering") from None
    except Exception as exc:  # network, auth and protocol errors of any fsspec backend
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise SourceError(redact(f"{label}: cannot download {url}: {type(exc).__name__}: {first}")) from None

