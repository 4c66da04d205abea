"""An upgrade over local edits: which files need a three-way merge, their verified base, and the
merged contents, computed before anything is written (the pull applies them in its one
transaction with the other files, requirements.in and the lock)."""
from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..config.manifest import PullSpec
from ..config.project import Project
from ..errors import ConflictError, where
from ..store.files import sha256_bytes
from ..store.lock import LockEntry
from .merge import Merged, has_markers, merge_edits, to_merge

MARKERS = "markers"


@dataclass(frozen=True)
class Upgrade:
    """``merged``: path -> bytes to write instead of the new version's; ``assume``: path -> the
    recorded hash, so the plan's decision treats those files as unedited (their merge is in
    ``merged``); ``clean`` and ``conflicted``: for the messages and the lock; ``unresolved``:
    edited files left to the usual conflict (no markers asked, or not text)."""

    merged: Mapping[str, bytes]
    assume: Mapping[str, str]
    clean: tuple[str, ...] = ()
    conflicted: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()


NOTHING = Upgrade({}, {})


def merge_step(project: Project, spec: PullSpec, entry: LockEntry | None, new_name: str, new_version: str,
               files: Mapping[str, bytes], plan_hashes: Mapping[str, str], current: Mapping[str, str | None],
               owners: Mapping[str, str], module: str, mode: str) -> Upgrade:
    """Merge every edited file the new version also changes (see ``merge.to_merge``)."""
    if entry is None:
        return NOTHING
    label = where("pull", spec.source)
    still = [p for p in entry.conflicted if current.get(p) and has_markers((project.root / p).read_bytes())]
    if still:
        raise ConflictError(f"{label}: {', '.join(still)} still hold(s) the conflict markers of the last pull; resolve "
                            "them first (doit status lists them), or pull with --force. Nothing was changed")
    paths = to_merge(plan_hashes, entry.files, current, owners, module)
    if not paths:
        return NOTHING
    with tempfile.TemporaryDirectory(prefix="micropkg-base-") as tmp:
        from .base import pulled_files

        fs_args = spec.fs_args if spec.kind == "url" else None
        bases = pulled_files(project, entry, Path(tmp), project.manifest.limits, fs_args)
    verified = [p for p in paths if p in bases and sha256_bytes(bases[p]) == entry.files[p]]
    ours = {p: (project.root / p).read_bytes() for p in verified}
    merged: Merged = merge_edits(bases, ours, files, ("local", f"{new_name} {new_version}"), mode == MARKERS)
    written = {p: data for p, data in merged.files.items()}
    unresolved = tuple(sorted(set(paths) - set(written)))
    return Upgrade(written, {p: entry.files[p] for p in written}, merged.clean,
                   tuple(p for p in merged.conflicted if p in written), unresolved)


def merged_messages(upgrade: Upgrade) -> list[str]:
    lines = []
    if upgrade.clean:
        lines.append(f"merged your edits into {len(upgrade.clean)} file(s): {', '.join(upgrade.clean)}")
    if upgrade.conflicted:
        lines.append(f"wrote conflict markers into {len(upgrade.conflicted)} file(s): {', '.join(upgrade.conflicted)}; "
                     "resolve them (doit status --check fails until then)")
    return lines
