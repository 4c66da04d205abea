"""Uploading built micro-packages to a registry: an fsspec folder or bucket (``bucket.py``) or a
package index through twine (``index.py``).

Only what ``doit package`` wrote is uploaded: every file is read once, as a regular file opened
without following links (never a FIFO), and its bytes must be the ones packaging recorded
(``store.outputs``); those very bytes are uploaded. A link, a truncated or replaced file, or one
without a record is refused with one line and nothing is uploaded.

Versions are immutable: every file is compared with what the registry already holds before
anything is uploaded. The same bytes are a no-op; other bytes under a published file name stop
the whole publish with one line, and nothing is uploaded or replaced."""
from __future__ import annotations

from pathlib import Path

from ..config.manifest import DEFAULT_LIMITS, Limits, Publish
from ..config.project import Project
from ..errors import PublishError, one_line

__all__ = ["Registry", "held", "publish"]


def publish(project: Project, files: list[str], dest: Publish, label: str,
            limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Upload the project-relative ``files`` to ``dest``; return the lines to tell the user."""
    local = {rel: packaged(project, rel, label) for rel in files}
    registry = open_registry(project, dest, label, limits)
    there = {rel: registry.lookup(Path(rel).name) for rel in files}
    clashes = [rel for rel, sha in there.items() if sha is not None and sha != local[rel][0]]
    if clashes:
        shown = ", ".join(f"{Path(rel).name} (sha256 {str(there[rel])[:12]}…, yours {local[rel][0][:12]}…)" for rel in clashes)
        raise PublishError(f"{label}: {shown} already published at {dest.shown} with other bytes; versions are "
                           "immutable, so nothing was uploaded: raise __version__ and package again")
    missing = [rel for rel, sha in there.items() if sha is None]
    if missing:
        registry.upload({Path(rel).name: local[rel][1] for rel in missing})
    lines = [f"published {rel} -> {registry.where(Path(rel).name)}" for rel in missing]
    lines += [f"{rel} is already at {registry.where(Path(rel).name)} with the same bytes" for rel in files
              if rel not in missing]
    return lines


def packaged(project: Project, rel: str, label: str) -> tuple[str, bytes]:
    """The sha256 and bytes of ``rel``, which must be the regular file doit package wrote."""
    import os

    from ..store.outputs import load, read_regular

    path = f"{project.root}/{rel}"
    shown = one_line(rel)
    if not os.path.lexists(path):
        raise PublishError(f"{label}: {shown} is missing; run doit package first")
    written = load(project.root, rel)
    if written is None:
        raise PublishError(f"{label}: {shown} has no record of what doit package wrote; nothing was uploaded: "
                           "run doit package")
    try:
        data, sha = read_regular(path, written.size)
    except ValueError as exc:
        raise PublishError(f"{label}: {shown} {exc}; nothing was uploaded: run doit package") from None
    except OSError as exc:
        raise PublishError(f"{label}: cannot read {shown} ({exc.strerror}); nothing was uploaded") from None
    if sha != written.sha256:
        raise PublishError(f"{label}: {shown} is not what doit package wrote (sha256 {sha[:12]}…, written "
                           f"{written.sha256[:12]}…); nothing was uploaded: run doit package")
    return sha, data


def held(project: Project, files: list[str], dest: Publish, label: str, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether ``dest`` holds every file as packaging recorded it, as far as one listing of it
    shows (names and sizes of a folder, names and digests of an index page): ``doit publish``
    is up to date only then. Never raises: anything unclear means "publish again" (the upload
    compares bytes before writing anything)."""
    from ..store.outputs import load

    expected = {}
    for rel in files:
        written = load(project.root, rel)
        if written is None:
            return False
        expected[Path(rel).name] = (written.size, written.sha256)
    try:
        return open_registry(project, dest, label, limits).holds(expected)
    except Exception:  # doit would print a traceback for an uptodate check that raises
        return False


def open_registry(project: Project, dest: Publish, label: str, limits: Limits) -> Registry:
    if dest.kind == "bucket":
        from .bucket import Folder

        return Folder(project, dest, label, limits)
    from .index import Index

    return Index(project, dest, label, limits)


class Registry:
    """One destination: what it holds, and how files get there."""

    def lookup(self, filename: str) -> str | None:
        """The sha256 of ``filename`` at the destination, None when it is not there."""
        raise NotImplementedError

    def holds(self, expected: dict[str, tuple[int, str]]) -> bool:
        """Whether one listing shows every file name with its (size, sha256) as far as it tells."""
        raise NotImplementedError

    def upload(self, files: dict[str, bytes]) -> None:
        """Upload these bytes under these file names."""
        raise NotImplementedError

    def where(self, filename: str) -> str:
        raise NotImplementedError
