"""What drifted since each pull, from hashes only: files changed, deleted, or still holding the
conflict markers an upgrade wrote. Pure: the caller hashes the files."""
from __future__ import annotations

from collections.abc import Collection, Mapping
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
    missing: tuple[str, ...] = ()  # micro-packages it imports (the lock's dependencies) that are not installed

    @property
    def drifted(self) -> bool:
        return bool(self.changed or self.deleted or self.conflicted)


def drift(entry: LockEntry, current: Mapping[str, str | None], marked: set[str],
          installed: Collection[str] | None = None) -> Drift:
    """``current``: path -> sha256 on disk (None: missing); ``marked``: files that still hold
    conflict markers (only the lock's ``conflicted`` files are read for that); ``installed``:
    the modules the lock records, to find the dependencies that are not (None: not checked)."""
    changed = tuple(p for p, sha in sorted(entry.files.items()) if current.get(p) not in (None, sha))
    deleted = tuple(p for p in sorted(entry.files) if current.get(p) is None)
    conflicted = tuple(p for p in sorted(entry.conflicted) if p in marked)
    missing = () if installed is None else tuple(d for d in entry.dependencies if d not in installed)
    return Drift(entry.module, entry.name, entry.version, entry.source, changed, deleted, conflicted, missing)


def report(drifts: list[Drift], package: str) -> list[str]:
    """The lines ``doit status`` prints: one per micro-package, then one per drifted file."""
    if not drifts:
        return ["no micro-packages pulled (micropkg.lock is empty or missing)"]
    lines = []
    for d in drifts:
        counts = [f"{len(files)} {what}" for what, files in
                  (("changed", d.changed), ("deleted", d.deleted), ("conflicted", d.conflicted),
                   ("missing dependency" if len(d.missing) == 1 else "missing dependencies", d.missing)) if files]
        lines.append(f"{package}.{d.module}: {d.name} {d.version} from {d.source}: "
                     f"{', '.join(counts) if counts else 'unchanged since the pull'}")
        for path in d.conflicted:
            lines.append(f"  conflicted  {path} (resolve the conflict markers)")
        for path in d.changed:
            if path not in d.conflicted:
                lines.append(f"  changed     {path}")
        for path in d.deleted:
            lines.append(f"  deleted     {path}")
        for module in d.missing:
            lines.append(f"  missing     {package}.{module}, which it imports, is not installed ({REINSTALL})")
    return lines


REINSTALL = "doit pull reinstalls it; for an ad hoc pull, pull its source again"


def missing_line(drifts: list[Drift], package: str) -> str:
    """The ``--check`` failure for micro-packages whose dependencies are not installed."""
    return "; ".join(f"{package}.{d.module} imports {', '.join(f'{package}.{m}' for m in d.missing)}, "
                     f"which {'is' if len(d.missing) == 1 else 'are'} not installed" for d in drifts if d.missing) + \
        f" ({REINSTALL})"
