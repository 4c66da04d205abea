"""Where a pull's sdist comes from: a local path, any fsspec URL, or a requirement resolved on
a PyPI-like index. Always ends as a file in a temporary folder with its sha256, within one
deadline and size limit, never by running code from the archive."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.fs_args import fs_args_path, load_fs_args
from ..config.manifest import DEFAULT_LIMITS, Limits, PullSpec
from ..config.project import Project
from ..errors import SourceError, where
from .download import Deadline, Fetched, copy_stream

__all__ = ["Fetched", "fetch", "local_path"]


def local_path(project: Project, spec: PullSpec) -> Path:
    """The file a ``path`` source names: relative to the project, absolute, or ``~/...``."""
    return fs_args_path(project.root, spec.source)


def fetch(project: Project, spec: PullSpec, workdir: Path, limits: Limits = DEFAULT_LIMITS) -> Fetched:
    """Copy the sdist named by ``spec`` into ``workdir``; check the pinned digest if any."""
    label = where("pull", spec.source)
    deadline = Deadline(limits.timeout, limits.max_size)
    try:
        if spec.kind == "path":
            fetched = _fetch_path(local_path(project, spec), workdir, label, deadline)
        elif spec.kind == "url":
            fetched = _fetch_url(spec.source, load_fs_args(project.root, spec.fs_args, label), workdir, label, deadline)
        elif spec.index:
            fetched = _fetch_named(project, spec, workdir, label, deadline)
        else:
            from .index import fetch_from_index
            from .pipconf import index_url

            fetched = fetch_from_index(spec.source, index_url(), workdir, deadline, label)
    finally:
        deadline.close()
    if spec.sha256 and fetched.sha256 != spec.sha256:
        raise SourceError(f"{label}: sha256 is {fetched.sha256}, the manifest pins {spec.sha256}")
    return fetched


def _fetch_named(project: Project, spec: PullSpec, workdir: Path, label: str, deadline: Deadline) -> Fetched:
    """A requirement resolved on the index its entry (or the project) names, and nowhere else:
    a PEP 691/503 index over http(s), else the newest matching sdist in a folder or bucket."""
    from ..config.manifest import registry_kind

    assert spec.index is not None
    if registry_kind(spec.index) == "index":
        from .index import fetch_from_index

        return fetch_from_index(spec.source, spec.index, workdir, deadline, label)
    from .choose import parse_requirement, pick_sdist
    from .listing import folder_files

    options = load_fs_args(project.root, spec.fs_args, label)
    chosen = pick_sdist(parse_requirement(spec.source), folder_files(spec.index, project.root, options, label), label)
    if "://" in chosen.url:
        fetched = _fetch_url(chosen.url, options, workdir, label, deadline)
    else:
        fetched = _fetch_path(Path(chosen.url), workdir, label, deadline)
    return Fetched(fetched.path, fetched.sha256, chosen.url)


def _fetch_path(path: Path, workdir: Path, label: str, deadline: Deadline) -> Fetched:
    try:
        with path.open("rb") as fh:
            return copy_stream(fh, workdir / "sdist.tar.gz", label, deadline)
    except FileNotFoundError:
        raise SourceError(f"{label}: sdist {path} not found") from None
    except IsADirectoryError:
        raise SourceError(f"{label}: {path} is a folder, not an sdist") from None
    except PermissionError:
        raise SourceError(f"{label}: sdist {path} cannot be read (permission denied)") from None


def _fetch_url(url: str, storage_options: dict[str, Any], workdir: Path, label: str, deadline: Deadline) -> Fetched:
    import fsspec
    from fsspec.registry import known_implementations

    protocol = url.split("://", 1)[0]
    try:
        if protocol in ("http", "https"):
            storage_options = _http_deadline(storage_options, deadline)
        fs, path = fsspec.core.url_to_fs(url, **storage_options)
    except ImportError:
        hint = known_implementations.get(protocol, {}).get("err", "")
        needs = hint or "see the fsspec documentation"
        raise SourceError(f"{label}: {protocol}:// needs an extra package: {needs}".strip()) from None
    except ValueError as exc:
        raise SourceError(f"{label}: cannot open {url}: {exc}") from None
    except TypeError as exc:
        raise SourceError(f"{label}: cannot open {url}: bad fs_args ({exc})") from None
    try:
        with fs.open(path, "rb") as fh:
            return copy_stream(fh, workdir / "sdist.tar.gz", label, deadline)
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError(f"{label}: {url} not found") from None
    except TimeoutError:  # aiohttp's total timeout: the deadline, met inside one read
        deadline.check(label)
        raise SourceError(f"{label}: the server stopped answering") from None
    except Exception as exc:  # network, auth and protocol errors of any fsspec backend
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise SourceError(f"{label}: cannot download {url}: {type(exc).__name__}: {first}") from None


def _http_deadline(storage_options: dict[str, Any], deadline: Deadline) -> dict[str, Any]:
    """fsspec's HTTP filesystem reads through aiohttp, whose one read can wait for a dripping
    server for ever: give its session the time left as a total timeout (unless the fs-args set
    one), and a fresh filesystem instance, so the deadline bounds the whole download."""
    import aiohttp

    client_kwargs = dict(storage_options.get("client_kwargs") or {})
    client_kwargs.setdefault("timeout", aiohttp.ClientTimeout(total=max(0.1, deadline.left())))
    return {**storage_options, "client_kwargs": client_kwargs, "skip_instance_cache": True}
