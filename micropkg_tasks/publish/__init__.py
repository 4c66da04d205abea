"""Uploading built micro-packages to a registry: an fsspec folder or bucket (``bucket.py``) or a
package index through twine (``index.py``).

Versions are immutable: every file is compared with what the registry already holds before
anything is uploaded. The same bytes are a no-op; other bytes under a published file name stop
the whole publish with one line, and nothing is uploaded or replaced."""
from __future__ import annotations

from pathlib import Path

from ..config.manifest import DEFAULT_LIMITS, Limits, Publish
from ..config.project import Project
from ..errors import PublishError, one_line
from ..store.files import sha256_file

__all__ = ["Registry", "publish"]


def publish(project: Project, files: list[str], dest: Publish, label: str,
            limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Upload the project-relative ``files`` to ``dest``; return the lines to tell the user."""
    local = {}
    for rel in files:
        path = project.root / rel
        if not path.is_file():
            raise PublishError(f"{label}: {one_line(rel)} is missing; run doit package first")
        local[rel] = sha256_file(path)
    if dest.kind == "bucket":
        from .bucket import Folder

        registry: Registry = Folder(project, dest, label, limits)
    else:
        from .index import Index

        registry = Index(project, dest, label, limits)
    there = {rel: registry.lookup(Path(rel).name) for rel in files}
    clashes = [rel for rel, sha in there.items() if sha is not None and sha != local[rel]]
    if clashes:
        shown = ", ".join(f"{Path(rel).name} (sha256 {str(there[rel])[:12]}…, yours {local[rel][:12]}…)" for rel in clashes)
        raise PublishError(f"{label}: {shown} already published at {dest.shown} with other bytes; versions are "
                           "immutable, so nothing was uploaded: raise __version__ and package again")
    missing = [rel for rel, sha in there.items() if sha is None]
    if missing:
        registry.upload([project.root / rel for rel in missing])
    lines = [f"published {rel} -> {registry.where(Path(rel).name)}" for rel in missing]
    lines += [f"{rel} is already at {registry.where(Path(rel).name)} with the same bytes" for rel in files
              if rel not in missing]
    return lines


class Registry:
    """One destination: what it holds, and how files get there."""

    def lookup(self, filename: str) -> str | None:
        """The sha256 of ``filename`` at the destination, None when it is not there."""
        raise NotImplementedError

    def upload(self, paths: list[Path]) -> None:
        raise NotImplementedError

    def where(self, filename: str) -> str:
        raise NotImplementedError
