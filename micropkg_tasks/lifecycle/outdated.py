"""The newest version at each lock entry's source: an index by its simple API, a path or fsspec
URL by the sibling archives in its folder (``<name>-<version>.tar.gz``); PEP 440 order through
the one version choice (``sources.choose.pick_sdist``). An unreachable source is a warning for
that entry only."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from ..config.manifest import DEFAULT_LIMITS, Limits
from ..config.project import Project
from ..credentials import redact
from ..errors import MicropkgError, one_line, where
from ..sources.choose import IndexFile
from ..store.lock import LockEntry


@dataclass(frozen=True)
class Newest:
    """One lock entry and the newest version its source offers (None: unknown, see ``error``)."""

    module: str
    name: str
    installed: str
    newest: str | None
    source: str
    behind: bool
    error: str | None = None


def newest_version(name: str, files: list[IndexFile], label: str) -> str:
    """The highest PEP 440 version of ``name`` among ``files`` (pre-releases only if nothing else)."""
    from ..rules import SDIST_SUFFIXES
    from ..sources.choose import parse_requirement, pick_sdist
    from ..sources.listing import archive_name

    chosen = pick_sdist(parse_requirement(name), [f for f in files if f.filename.endswith(SDIST_SUFFIXES)], label)
    found = archive_name(chosen.filename)
    assert found is not None  # pick_sdist took only parseable names
    return found[1]


def compare(entry: LockEntry, newest: str) -> Newest:
    from packaging.version import Version

    return Newest(entry.module, entry.name, entry.version, newest, redact(entry.source),
                  Version(newest) > Version(entry.version))


def listing(project: Project, entry: LockEntry, limits: Limits = DEFAULT_LIMITS) -> list[IndexFile]:
    """What the entry's source offers: the index page of its name, or the folder it lies in."""
    from .base import source_spec

    label = where("pull", entry.source)
    spec = source_spec(project, entry, fetching=True)
    if spec.kind == "index":  # the index the entry (or the project) names, else pip's: never another
        from ..sources import available
        from ..sources.download import Deadline

        deadline = Deadline(limits.timeout, limits.max_size)
        try:
            return available(project, spec, deadline)
        finally:
            deadline.close()
    from ..config.fs_args import load_fs_args
    from ..sources.listing import folder_files, folder_of

    options = load_fs_args(project.root, spec.fs_args, label) if spec.kind == "url" else None
    from ..sources.download import Deadline

    return folder_files(folder_of(spec.source), project.root, options, label, Deadline(limits.timeout, limits.max_size))


def outdated(project: Project, entries: dict[str, LockEntry], limits: Limits = DEFAULT_LIMITS) -> list[Newest]:
    out = []
    for module in sorted(entries):
        entry = entries[module]
        label = where("pull", entry.source)
        try:
            out.append(compare(entry, newest_version(entry.name, listing(project, entry, limits), label)))
        except MicropkgError as exc:
            out.append(Newest(entry.module, entry.name, entry.version, None, redact(entry.source), False,
                              one_line(redact(str(exc)))))
    return out


def table(rows: list[Newest], package: str) -> list[str]:
    if not rows:
        return ["no micro-packages pulled (micropkg.lock is empty or missing)"]
    cells = [("module", "installed", "newest", "source")]
    cells += [(f"{package}.{r.module}", r.installed, (r.newest or "?") + (" (newer)" if r.behind else ""), r.source)
              for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    return [" ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + " " + row[3] for row in cells]


def as_json(rows: list[Newest]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)

