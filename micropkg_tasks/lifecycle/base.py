"""The files of a micro-package exactly as its last pull installed them: the base of a three-way
merge and the left side of ``doit diff``. Re-made from the pulled archive, taken from the cache
(``store/cache``) or, when the cache lacks it, fetched again from the recorded source; either way
checked against the sha256 the lock records, so a merge never runs on an unverified base."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..config.manifest import DEFAULT_LIMITS, Limits, PullSpec, source_kind
from ..config.project import Project
from ..core.graph import read_dependencies
from ..core.imports import rename_files
from ..core.install import plan_install
from ..credentials import lock_safe
from ..errors import SourceError, where
from ..store import cache
from ..store.lock import LockEntry
from ..store.tarball import extract

if TYPE_CHECKING:
    from packaging.requirements import Requirement


def source_spec(project: Project, entry: LockEntry, fs_args: str | None = None, fetching: bool = False) -> PullSpec:
    """The pull that installed ``entry``, as a spec: a requirement source pinned to the recorded
    version (``name==version``: the range would now pick a newer one); fs-args from the manifest
    entry of the same source when the caller has none.

    A requirement pulled ad hoc or along with a dependant is resolved at the index the lock
    records, if the project still names it (its ``index`` or a pull entry's, a trailing slash
    aside), with that entry's fs-args; one it does not name is never asked: with ``fetching``
    (``outdated``, a base to fetch again) that is a one-line SourceError, otherwise (only the
    install's layout is wanted) it does not matter."""
    source = f"{entry.name}=={entry.version}" if source_kind(entry.source) == "index" else entry.source
    specs = project.manifest.pulls
    manifest = next((s for s in specs if lock_safe(s.source) == entry.source), None)  # the lock's: no credentials
    if manifest is not None and source_kind(source) != "index":
        source = manifest.source  # as the manifest spells it, credentials included
    index = manifest.index if manifest else project.manifest.index_for(entry.source)
    if fs_args is None:
        fs_args = manifest.fs_args if manifest else None
    if manifest is None and entry.index and source_kind(entry.source) == "index":
        recorded = entry.index.rstrip("/")  # as the lock records it: without credentials
        naming = next((s for s in specs if s.index and lock_safe(s.index).rstrip("/") == recorded), None)
        if naming is not None:
            index = naming.index
            fs_args = fs_args or naming.fs_args
        elif index is None or lock_safe(index).rstrip("/") != recorded:
            if fetching:
                raise SourceError(f"{where('pull', entry.source)}: micropkg.lock records index {entry.index!r}, which "
                                  f"[{project.table}] no longer names (its index, or a pull entry's); refusing to "
                                  "ask it (name it again, or pull with --force)")
            index = None
    return PullSpec(source=source, kind=source_kind(source), alias=entry.alias or None,
                    destination=entry.destination or None, env=entry.env, fs_args=fs_args,
                    index=index if source_kind(source) == "index" else None)


def pulled_archive(project: Project, entry: LockEntry, workdir: Path, limits: Limits = DEFAULT_LIMITS,
                   fs_args: str | None = None) -> Path:
    """The archive the lock entry records, in ``workdir``: from the cache, else fetched again and
    verified (a source whose bytes changed is refused: it is not what was pulled)."""
    from ..sources import fetch

    archive = workdir / "base.tar.gz"
    if cache.get(project, entry.sha256, archive, limits.max_size):
        return archive
    label = where("pull", entry.source)
    fetched_dir = workdir / "refetch"
    fetched_dir.mkdir()
    try:
        fetched = fetch(project, source_spec(project, entry, fs_args, fetching=True), fetched_dir, limits)
    except SourceError as exc:
        raise SourceError(f"{exc} (the archive {entry.name} {entry.version} was pulled from, needed as the base of "
                          "your edits, is not cached in .micropkg/cache either)") from None
    if fetched.sha256 != entry.sha256:
        raise SourceError(f"{label}: its sha256 is now {fetched.sha256}, not the {entry.sha256} micropkg.lock records "
                          f"for {entry.name} {entry.version}; it is not what was pulled, so it cannot be the base of a "
                          "merge, and nothing was changed (restore the source, or pull with --force)")
    cache.put(project, fetched.path, fetched.sha256)
    fetched.path.rename(archive)
    return archive


def pulled_files(project: Project, entry: LockEntry, workdir: Path, limits: Limits = DEFAULT_LIMITS,
                 fs_args: str | None = None) -> dict[str, bytes]:
    """Project-relative path -> the bytes the last pull of ``entry`` installed there."""
    archive = pulled_archive(project, entry, workdir, limits, fs_args)
    (workdir / "base").mkdir()
    label = where("pull", entry.source)
    sdist = extract(archive, workdir / "base", label, limits.max_size)
    files = plan_install(project, source_spec(project, entry, fs_args), sdist).files
    renames = dependency_renames(project, entry, read_dependencies(sdist.root, label))
    return rename_files(files, renames, label) if renames else files


def dependency_renames(project: Project, entry: LockEntry, requires: list[Requirement]) -> list[tuple[str, str]]:
    """The renames the pull applied to the imports of the micro-packages ``entry`` depends on: each
    requirement to the installed module the lock records among its ``dependencies`` (the pull
    rewrote ``<dependency>.x`` to ``<project package>.<that module>.x``), so the base is the very
    bytes that were installed."""
    if not requires or not entry.dependencies:
        return []
    from packaging.utils import canonicalize_name

    from ..store.lock import read_lock

    entries = read_lock(project)
    renames = []
    for req in requires:
        modules = sorted(m for m in entry.dependencies
                         if m in entries and canonicalize_name(entries[m].name) == canonicalize_name(req.name))
        if modules:
            renames.append((req.name, f"{project.package_name}.{modules[0]}"))
    return renames
