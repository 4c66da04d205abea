"""What drifted since each pull, from hashes only: files changed, deleted, or still holding the
conflict markers an upgrade wrote. Pure: the caller hashes the files."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..store.lock import LockEntry


@dataclass(frozen=True)
class Drift:
    """One lock entry against the project: its identity and the files that differ."""

    module: str
    name: str
    version: str
    source: str
    changed: tuple[str, ...]
    deleted: tuple[str, ...]
    conflicted: tuple[str, ...]

    @property
    def drifted(self) -> bool:
        return bool(self.changed or self.deleted or self.conflicted)


def drift(entry: LockEntry, current: Mapping[str, str | None], marked: set[str]) -> Drift:
    """``current``: path -> sha256 on disk (None: missing); ``marked``: files that still hold
    conflict markers (only the lock's ``conflicted`` files are read for that)."""
    changed = tuple(p for p, sha in sorted(entry.files.items()) if current.get(p) not in (None, sha))
    deleted = tuple(p for p in sorted(entry.files) if current.get(p) is None)
    conflicted = tuple(p for p in sorted(entry.conflicted) if p in marked)
    return Drift(entry.module, entry.name, entry.version, entry.source, changed, deleted, conflicted)


def report(drifts: list[Drift], package: str) -> list[str]:
    """The lines ``doit status`` prints: one per micro-package, then one per drifted file."""
    if not drifts:
        return ["no micro-packages pulled (micropkg.lock is empty or missing)"]
    lines = []
    for d in drifts:
        counts = [f"{len(files)} {what}" for what, files in
                  (("changed", d.changed), ("deleted", d.deleted), ("conflicted", d.conflicted)) if files]
        lines.append(f"{package}.{d.module}: {d.name} {d.version} from {d.source}: "
                     f"{', '.join(counts) if counts else 'unchanged since the pull'}")
        for path in d.conflicted:
            lines.append(f"  conflicted  {path} (resolve the conflict markers)")
        for path in d.changed:
            if path not in d.conflicted:
                lines.append(f"  changed     {path}")
        for path in d.deleted:
            lines.append(f"  deleted     {path}")
    return lines
