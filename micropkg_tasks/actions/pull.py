"""One pull, end to end: fetch -> check and extract -> plan -> decide against the lock ->
apply atomically. The shell around the pure decisions in sources/extract/install."""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.fs_args import load_fs_args
from ..config.manifest import DEFAULT_LIMITS, Limits, PullSpec
from ..config.project import REQUIREMENTS_IN, REQUIREMENTS_TXT, Project
from ..core.imports import rename_files
from ..core.install import Decision, InstallPlan, Sdist, decide, plan_install, target_module
from ..core.requirements import append_block, new_requirements
from ..credentials import lock_safe
from ..errors import ArchiveError, ConflictError, MicropkgError, SourceError, one_line, where
from ..lifecycle.upgrade import MARKERS, NOTHING, Upgrade, merge_step, merged_messages
from ..rules import NAME_MAX, PATH_MAX
from ..sources import fetch
from ..store import cache, transaction
from ..store.files import project_lock, sha256_bytes, sha256_file
from ..store.lock import LockEntry, read_lock, remember, render_lock
from ..store.tarball import extract, extract_wheel, is_wheel

if TYPE_CHECKING:
    from packaging.requirements import Requirement

MAX_LISTED = 8


def _current(project: Project, paths: Iterable[str], label: str = "pull") -> dict[str, str | None]:
    """What is on disk at each path: the sha256 of a regular file, None when nothing is there.
    Anything else (a folder, a link, a FIFO) is never replaced nor removed, even with --force:
    one line, and nothing changes."""
    out: dict[str, str | None] = {}
    blocked = []
    for path in paths:
        full = project.root / path
        try:
            mode = os.lstat(full).st_mode
        except FileNotFoundError:
            out[path] = None
            continue
        except NotADirectoryError:  # a file where one of its folders should be
            blocked.append(path)
            continue
        if not stat.S_ISREG(mode):
            blocked.append(path)
            continue
        out[path] = sha256_file(full)
    if blocked:
        shown = ", ".join(one_line(p, 120) for p in sorted(blocked)[:MAX_LISTED])
        raise ConflictError(f"{label}: {shown} {'is' if len(blocked) == 1 else 'are'} not a regular file (a folder, "
                            "a link, or a file where one of its folders must go, is in the way) where the pull "
                            "installs or removes a file; move it away first. Nothing was changed")
    return out


def requirements_text(project: Project) -> str:
    """requirements.in, or the requirements.txt it starts from when it does not exist yet."""
    for name in (REQUIREMENTS_IN, REQUIREMENTS_TXT):
        path = project.root / name
        if path.is_file():
            return path.read_bytes().decode("utf-8")  # not read_text: it turns CRLF into LF
    return ""


def pull(project: Project, spec: PullSpec, force: bool = False, limits: Limits = DEFAULT_LIMITS,
         merge: str = "") -> list[str]:
    """Pull ``spec`` into ``project``; return the lines to tell the user. All or nothing.
    ``merge="markers"``: edits that conflict with the new version get conflict markers."""
    messages = []
    # Fetching, checking, extracting and planning touch only a temporary folder, so the pulls
    # of a ``doit -n N`` run do them at once; deciding against the lock and applying are serialised.
    with tempfile.TemporaryDirectory(prefix="micropkg-pull-") as tmp:
        fetched = fetch(project, spec, Path(tmp), limits, locked_archive(project, spec))
        (Path(tmp) / "x").mkdir()
        wheel = is_wheel(spec.source)
        sdist = (extract_wheel if wheel else extract)(fetched.path, Path(tmp) / "x", where("pull", spec.source),
                                                      limits.max_size)
        check_requirements(project, spec, sdist)
        check_asked_for(spec, sdist)
        first, renames = resolve_dependencies(project, spec, sdist, Path(tmp), limits)
        plan = plan_install(project, spec, sdist)
        plan = InstallPlan(plan.module, rename_files(plan.files, renames, where("pull", spec.source)))
        check_path_lengths(project, spec, plan)
        it = Pending(spec, sdist, plan, fetched.sha256, fetched.path, fetched.url, _modules(project, renames))
        with project_lock(project.state_dir):
            recovered = transaction.recover(project)
            if recovered:
                messages.append(recovered)
            staged = Staged()  # the dependencies it brings along, then it: one transaction
            for dep in first:  # --force is aimed at the entry pulled, never at what it brings along
                messages += _install(project, dep, False, merge, staged=staged, defer=True)
            messages += _install(project, it, force, merge, staged=staged)
            for dep in first:
                keep_archive(project, dep.archive, dep.sha256)
            keep_archive(project, fetched.path, fetched.sha256)
    if wheel:
        messages.append(f"{sdist.name} {sdist.version} came as a wheel: code and parameters only, a wheel has no tests")
    return messages


def locked_archive(project: Project, spec: PullSpec) -> tuple[str, str] | None:
    """The (url, sha256) the lock records for this requirement, while its version still meets
    it: pulling again reproduces those files (change the requirement to move on)."""
    if spec.kind != "index":
        return None
    from packaging.requirements import Requirement

    try:
        entry = installed_by(read_lock(project), spec)
    except MicropkgError:
        return None  # the install reads the lock again and says what is wrong with it, in one line
    if entry is None or not entry.url or not Requirement(spec.source).specifier.contains(entry.version, prereleases=True):
        return None
    return entry.url, entry.sha256


@dataclass
class Staged:
    """The changes of the pulls made so far in one all-or-nothing pull, not applied yet."""

    entries: dict[str, LockEntry] | None = None
    changes: dict[str, bytes] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pending:
    """A dependency fetched and planned, to install before the micro-package that imports it."""

    spec: PullSpec
    sdist: Sdist
    plan: InstallPlan
    sha256: str
    archive: Path  # kept in the cache, as every pulled archive is
    url: str = ""  # the archive a requirement resolved to, recorded in the lock
    requires: tuple[str, ...] = ()  # the installed module paths its imports land on (the lock's dependencies)


def _modules(project: Project, renames: list[tuple[str, str]]) -> tuple[str, ...]:
    """The module paths (under the project package) that a pull's imports were renamed to."""
    prefix = f"{project.package_name}."
    return tuple(sorted({target[len(prefix):] for _, target in renames if target.startswith(prefix)}))


def resolve_dependencies(project: Project, spec: PullSpec, sdist: Sdist, tmp: Path, limits: Limits,
                         chain: tuple[str, ...] = (), planned: dict[str, str] | None = None,
                         ) -> tuple[list[Pending], list[tuple[str, str]]]:
    """The micro-packages ``sdist`` imports ([tool.micropkg] dependencies): each one the lock has
    in a satisfying version is where its imports are rewritten to; any other is fetched first
    (its manifest entry, else from where ``spec`` came from: its folder, bucket or index) and
    installed with it. Returns (what to install first, in order; module renames)."""
    from packaging.utils import canonicalize_name

    from ..core.graph import MAX_DEPENDENCY_DEPTH, read_dependencies

    label = where("pull", spec.source)
    requires = read_dependencies(sdist.root, label)
    if not requires:
        return [], []
    planned = {} if planned is None else planned  # dependency name -> module, across the recursion
    chain = chain + (canonicalize_name(sdist.name),)
    if len(chain) > MAX_DEPENDENCY_DEPTH:  # a hostile index can serve a chain thousands long
        raise ArchiveError(f"{label}: micro-packages that depend on each other more than {MAX_DEPENDENCY_DEPTH} deep "
                           f"({' -> '.join(chain[:3])} -> ...); refusing them, nothing was changed")
    entries = read_lock(project)
    first: list[Pending] = []
    renames = []
    for req in requires:
        name = canonicalize_name(req.name)
        if name in chain:
            cycle = " -> ".join(chain[chain.index(name):] + (name,))
            raise ArchiveError(f"{label}: micro-packages depend on each other in a cycle: {cycle}; nothing was changed")
        if name in planned:
            renames.append((req.name, f"{project.package_name}.{planned[name]}"))
            continue
        installed = sorted(e.module for e in entries.values()
                           if canonicalize_name(e.name) == name and req.specifier.contains(e.version, prereleases=True))
        if installed:
            renames.append((req.name, f"{project.package_name}.{installed[0]}"))
            continue
        dep_spec = _dependency_spec(project, spec, req, label, limits)
        folder = tmp / f"dep-{len(planned)}"
        (folder / "x").mkdir(parents=True)
        try:
            fetched = fetch(project, dep_spec, folder, limits)
        except SourceError as exc:
            raise SourceError(f"{label}: it imports micro-package {req}, which is not installed and could not be "
                              f"fetched ({exc}); pull it first") from None
        dep = extract(fetched.path, folder / "x", where("pull", dep_spec.source), limits.max_size)
        if canonicalize_name(dep.name) != name or not req.specifier.contains(dep.version, prereleases=True):
            raise SourceError(f"{label}: it imports micro-package {req}, but {dep_spec.source} is {dep.name} "
                              f"{dep.version}; pull a matching version first")
        check_requirements(project, dep_spec, dep)
        planned[name] = target_module(dep_spec, dep.package)
        sub_first, sub_renames = resolve_dependencies(project, dep_spec, dep, tmp, limits, chain, planned)
        plan = plan_install(project, dep_spec, dep)
        plan = InstallPlan(plan.module, rename_files(plan.files, sub_renames, where("pull", dep_spec.source)))
        check_path_lengths(project, dep_spec, plan)
        first += sub_first + [Pending(dep_spec, dep, plan, fetched.sha256, fetched.path, fetched.url,
                                      _modules(project, sub_renames))]
        renames.append((dep.package, f"{project.package_name}.{planned[name]}"))
    return first, renames


def _dependency_spec(project: Project, spec: PullSpec, req: Requirement, label: str,
                     limits: Limits = DEFAULT_LIMITS) -> PullSpec:
    """Where to pull a missing dependency from: its entry in the manifest, else the place ``spec``
    came from (the same folder or bucket, the same index), into the same destination and env."""
    from dataclasses import replace

    from packaging.utils import canonicalize_name

    from ..sources.choose import parse_requirement, pick_sdist
    from ..sources.listing import archive_name, folder_files, folder_of

    name = canonicalize_name(req.name)
    for entry in project.manifest.pulls:
        known = (parse_requirement(entry.source).name, None) if entry.kind == "index" else \
            archive_name(entry.source.split("?", 1)[0].rsplit("/", 1)[-1])
        if known and canonicalize_name(known[0]) == name:
            return entry
    if spec.kind == "index":
        return replace(spec, source=str(req), alias=None, sha256=None)
    folder = folder_of(spec.source)
    options = load_fs_args(project.root, spec.fs_args, label) if spec.kind == "url" else {}
    try:
        from ..sources.download import Deadline

        chosen = pick_sdist(req, folder_files(folder, project.root, options, label,
                                              Deadline(limits.timeout, limits.max_size)), label)
    except SourceError:
        raise SourceError(f"{label}: it imports micro-package {req}, which is not installed and not in {folder}; "
                          f"pull it first (doit pull --source=<its sdist>)") from None
    source = chosen.url if spec.kind == "url" else (chosen.filename if folder == "." else f"{folder}/{chosen.filename}")
    return replace(spec, source=source, alias=None, sha256=None)


def check_asked_for(spec: PullSpec, sdist: Sdist) -> None:
    """A requirement source must bring what it names, in a version it allows, whatever an index,
    a folder or a (forged) lock led to: anything else is refused before it is planned."""
    if spec.kind != "index":
        return
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    req = Requirement(spec.source)
    if canonicalize_name(sdist.name) != canonicalize_name(req.name) or \
            not req.specifier.contains(sdist.version, prereleases=True):
        raise SourceError(f"{where('pull', spec.source)}: the archive it resolved to is {one_line(sdist.name, 80)} "
                          f"{one_line(sdist.version, 40)}, not what the requirement asks for; nothing was changed")


def check_requirements(project: Project, spec: PullSpec, sdist: Sdist) -> None:
    """A direct reference (``name @ url``, any scheme) would make pip-compile fetch and build
    whatever it points at, running its build backend: refused, as PyPI refuses them in uploads,
    unless the project opts in with ``[tool.micropkg] allow-direct-references = true``."""
    from packaging.requirements import Requirement

    allowed = project.manifest.allow_direct_references
    direct = [req for req in sdist.requirements if Requirement(req).url]
    if direct and not allowed:
        raise ArchiveError(f"{where('pull', spec.source)}: PKG-INFO requires {one_line(direct[0], 200)}, a direct "
                           f"reference that pip-compile would fetch and build; nothing was changed (set "
                           f"[{project.table}] allow-direct-references = true to accept them)")


def check_path_lengths(project: Project, spec: PullSpec, plan: InstallPlan) -> None:
    """Every planned path fits the project's file system (component and whole-path limits)."""
    root = os.fspath(project.root)
    try:
        name_max, path_max = os.pathconf(root, "PC_NAME_MAX"), os.pathconf(root, "PC_PATH_MAX")
    except (OSError, ValueError, AttributeError):  # not POSIX: the usual limits
        name_max, path_max = NAME_MAX, PATH_MAX
    for path in plan.files:
        full = os.fsencode(os.path.join(root, path))
        if len(full) >= path_max or any(len(os.fsencode(p)) > name_max for p in path.split("/")):
            raise ArchiveError(f"{where('pull', spec.source)}: {one_line(path, 120)} is too long a path for the "
                               "project's file system; nothing was changed")


def keep_archive(project: Project, archive: Path, sha256: str) -> None:
    """Cache the pulled archive (the base of a later merge) and drop those no entry records."""
    cache.put(project, archive, sha256)
    cache.prune(project, {entry.sha256 for entry in read_lock(project).values()})


def _listed(paths: Iterable[str]) -> str:
    paths = list(paths)
    return ", ".join(paths[:MAX_LISTED]) + (f" and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else "")


def _refuse(spec: PullSpec, decision: Decision, force: bool, hint: str, dependency: bool) -> None:
    """Stop the pull, nothing changed: another pull's files (even with --force), or conflicts."""
    label = where("pull", spec.source)
    if decision.blocked:
        raise ConflictError(f"{label}: would overwrite {'; '.join(decision.blocked[:MAX_LISTED])}, another pull's "
                            "file(s); --force never takes them (unpull that micro-package first). Nothing was changed")
    if decision.conflicts and not force:
        conflicts = decision.conflicts
        shown = "; ".join(conflicts[:MAX_LISTED]) + (f"; and {len(conflicts) - MAX_LISTED} more" if len(conflicts) > MAX_LISTED else "")
        aim = (" (--force takes only the entry it names, not the micro-packages pulled along with it: pull "
               f"{one_line(spec.source, 200)} first, with --force)") if dependency else ""
        raise ConflictError(f"{label}: would overwrite {shown}. Nothing was changed; use --force to replace them{aim}{hint}")


def _install(project: Project, it: Pending, force: bool, merge: str = "", staged: Staged | None = None,
             defer: bool = False) -> list[str]:
    spec, sdist, plan, archive_sha = it.spec, it.sdist, it.plan, it.sha256
    label = where("pull", spec.source)
    staged = staged or Staged()
    entries = read_lock(project) if staged.entries is None else staged.entries
    entry = entries.get(plan.module)
    owners = {path: module for module, other in entries.items() if module != plan.module for path in other.files}
    plan_hashes = {path: sha256_bytes(data) for path, data in plan.files.items()}
    current = _current(project, set(plan_hashes) | set(entry.files if entry else ()), label)
    upgrade = NOTHING if force else merge_step(project, spec, entry, sdist.name, sdist.version, plan.files,
                                               plan_hashes, current, owners, plan.module, merge)
    current = {**current, **upgrade.assume}  # merged files: written below as merged, not as conflicts
    # deletions are edits: an upgrade keeps them all, a re-pull of the same archive (a repair)
    # only those an upgrade kept; --force restores everything
    keep = (set() if force or entry is None else set(entry.files) if entry.sha256 != archive_sha
            else set(entry.deleted))
    decision = decide(plan_hashes, entry.files if entry else {}, current, owners, plan.module, adopt=force,
                      keep_deleted=keep, adopted=set(entry.adopted) if entry else set())
    hint = "; or --merge=markers to merge your edits with conflict markers" if upgrade.unresolved and merge != MARKERS else ""
    _refuse(spec, decision, force, hint, dependency=defer)
    writes, deletes = decision.writes, list(decision.deletes)

    changes = {**staged.changes, **{path: upgrade.merged.get(path, plan.files[path]) for path in writes}}
    deletes += staged.deletes
    req_text = (staged.changes[REQUIREMENTS_IN].decode("utf-8") if REQUIREMENTS_IN in staged.changes
                else requirements_text(project))
    started_from_txt = bool(req_text) and not project.requirements_in.exists()
    added = new_requirements(req_text, list(sdist.requirements))
    if added:
        changes[REQUIREMENTS_IN] = append_block(req_text, plan.module, added).encode("utf-8")

    new_entry = LockEntry(
        module=plan.module, source=spec.source, sha256=archive_sha, name=sdist.name, version=sdist.version,
        alias=spec.alias or "", destination=spec.destination or "", env=spec.env,
        requirements=tuple(sdist.requirements),
        added=tuple(sorted(set(entry.added if entry else ()) | set(added))),
        files=dict(decision.owned), conflicted=upgrade.conflicted, url=it.url,
        index=(spec.index or "") if spec.kind == "index" else "", deleted=decision.kept_deleted,
        adopted=decision.adopted, dependencies=it.requires,
    )
    if entry == new_entry and not changes and not deletes:
        return [f"{plan.module}: {sdist.name} {sdist.version} is already installed and unchanged"]
    new_entries = {**entries, plan.module: new_entry}
    if new_entry != entry:
        changes[project.rel(project.lock_path)] = render_lock(new_entries).encode("utf-8")
    if defer:
        staged.entries, staged.changes, staged.deletes = new_entries, changes, deletes
    else:
        transaction.apply(project, changes, deletes)
        remember(project.lock_path, new_entries)

    verb = "pulled" if entry is None else f"updated from {entry.version} to" if entry.version != sdist.version else "re-pulled"
    messages = [f"{verb} {sdist.name} {sdist.version} into {project.package_name}.{plan.module} "
                f"({len(writes)} written, {len(deletes)} removed)"]
    if added:
        messages.append(f"added to {REQUIREMENTS_IN}: {', '.join(added)}")
        if started_from_txt and project.manifest.compile is None:
            messages.append(f"{REQUIREMENTS_IN} starts as a copy of your {REQUIREMENTS_TXT} and holds the new "
                            f"requirements; compiling is off ([tool.micropkg] compile = false), so {REQUIREMENTS_TXT} "
                            "stays as you wrote it: add them there, or compile it yourself")
        elif started_from_txt:
            messages.append(f"{REQUIREMENTS_IN} starts as a copy of your {REQUIREMENTS_TXT}: from now on "
                            f"{REQUIREMENTS_TXT} is compiled from {REQUIREMENTS_IN}, which holds your original lines; "
                            "compiling pins every dependency, transitive ones included, and pip-compile can take tens "
                            "of seconds (compile = \"uv pip compile\" is faster; compile = false turns it off)")
    return messages + _decision_messages(decision, entry, upgrade)


def _decision_messages(decision: Decision, entry: LockEntry | None, upgrade: Upgrade) -> list[str]:
    """What the pull left alone, kept, merged or forced, one line each."""
    messages = []
    if decision.shared:
        messages.append(f"left {len(decision.shared)} identical file(s) already in the project as they were (not "
                        f"owned by this pull, never removed by it): {_listed(decision.shared)}; if they are this "
                        "pull's (the lock was deleted), pull again with --force to record them (as adopted: "
                        "tracked, never removed)")
    newly = [p for p in decision.adopted if not entry or p not in entry.adopted]
    if newly:
        messages.append(f"adopted {len(newly)} file(s) that were in the project before the pull (tracked from now "
                        f"on; unpull, clean and upgrades leave them in place): {_listed(newly)}")
    if decision.released:
        messages.append(f"left {len(decision.released)} adopted file(s) in place that this version drops (they were "
                        f"in the project before the pull; no longer tracked): {_listed(decision.released)}")
    if decision.kept_deleted:
        messages.append(f"left deleted {len(decision.kept_deleted)} file(s) you deleted since the pull (this version "
                        f"does not change them): {_listed(decision.kept_deleted)}; pull with --force to restore them")
    messages += merged_messages(upgrade)
    if decision.conflicts:
        paths = [c.split(" (", 1)[0] for c in decision.conflicts]
        messages.append(f"forced over {len(paths)} conflicting file(s), your edits replaced by the pulled version: "
                        f"{', '.join(paths)}")
    return messages


def installed_by(entries: dict[str, LockEntry], spec: PullSpec) -> LockEntry | None:
    """The install a pull spec made: same source, alias, destination (the module path is
    ``[destination.]<alias or the sdist's package>``, so these three identify it)."""
    return next((e for e in entries.values() if e.source == lock_safe(spec.source) and e.alias == (spec.alias or "")
                 and e.destination == (spec.destination or "")), None)


def is_installed(project: Project, spec: PullSpec) -> bool:
    """Whether the lock records this spec's install with all its files present (but those you
    deleted that upgrades keep deleted) and the micro-packages it imports installed: doit's cheap
    up-to-date check (``read_lock`` parses the lock once per version of the file, whatever the
    number of tasks). A lock that cannot be read is "not installed": the task runs, and its
    action says what is wrong in one line."""
    try:
        entries = read_lock(project)
    except MicropkgError:
        return False
    entry = installed_by(entries, spec)
    return (entry is not None and all(dep in entries for dep in entry.dependencies)  # else: reinstall what it imports
            and all(path in entry.deleted or (project.root / path).is_file() for path in entry.files))


def unpull_spec(project: Project, spec: PullSpec, dryrun: bool = False) -> list[str]:
    """``doit clean pull:<source>``: remove exactly the install this task made (the manifest
    entry stays: cleaning a task is undone by running it again, as doit's clean always is)."""
    with project_lock(project.state_dir):
        transaction.recover(project)
        entries = read_lock(project)
        entry = installed_by(entries, spec)
        if entry is None:
            return [f"{where('pull', spec.source)}: nothing recorded in {project.lock_path.name}, nothing to remove"]
        _refuse_dependents(entries, [entry.module], f"{where('pull', spec.source)}: {entry.module}", "doit clean")
        return _remove(project, [entry.module], dryrun)


def unpull(project: Project, module: str, dryrun: bool = False, with_dependents: bool = False) -> list[str]:
    """``doit unpull --module M``: remove any recorded install, from the manifest or ad hoc,
    and its manifest entry (else the next ``doit pull`` brings it back). One that other pulled
    micro-packages import is refused, naming them, unless ``with_dependents`` removes them too."""
    with project_lock(project.state_dir):
        transaction.recover(project)
        entries = read_lock(project)
        if module not in entries:
            known = ", ".join(sorted(entries)) or "none"
            raise MicropkgError(f"unpull: {one_line(module, 80) or '(no --module)'} is not in {project.lock_path.name}; "
                                f"installed modules: {known}")
        modules = dependents(entries, module) + [module]
        if not with_dependents:
            _refuse_dependents(entries, [module], f"unpull: {module}", "--with-dependents")
        return _remove(project, modules, dryrun, unlist=True)


def dependents(entries: dict[str, LockEntry], module: str) -> list[str]:
    """The installed micro-packages whose imports land on ``module``, directly or not, as the
    lock records them (``dependencies``), those that import the others first."""
    found: list[str] = []
    todo = [module]
    while todo:
        current = todo.pop()
        for other in sorted(entries):
            if current in entries[other].dependencies and other not in found and other != module:
                found.append(other)
                todo.append(other)
    return found[::-1]


def _refuse_dependents(entries: dict[str, LockEntry], modules: list[str], label: str, option: str) -> None:
    importers = sorted({d for m in modules for d in dependents(entries, m)} - set(modules))
    if importers:
        how = ("unpull them too with --with-dependents, or unpull them first" if option == "--with-dependents"
               else "unpull them first (doit unpull --module ... --with-dependents removes them together)")
        raise MicropkgError(f"{label} is imported by {', '.join(importers)}, which would break without it; "
                            f"{how}. Nothing was changed")


def _remove(project: Project, modules: list[str], dryrun: bool, unlist: bool = False) -> list[str]:
    """Remove what the pulls of ``modules`` installed, in one transaction (the caller holds the
    lock). Files changed since the pull are kept and named, so are adopted files (they were in
    the project before it); requirements.in is left as it is. ``unlist``: their manifest
    entries go too, in the same transaction."""
    entries = read_lock(project)
    messages: list[str] = []
    deletes: list[str] = []
    for module in modules:
        messages += _removal(project, entries[module], dryrun, deletes)
    writes: dict[str, bytes] = {}
    if unlist:
        writes, said = _unlisted(project, [entries[m] for m in modules], dryrun)
        messages += said
    if dryrun:
        return messages
    rest = {m: e for m, e in entries.items() if m not in modules}
    if rest:
        writes[project.rel(project.lock_path)] = render_lock(rest).encode("utf-8")
    elif project.lock_path.exists():
        deletes.append(project.rel(project.lock_path))
    transaction.apply(project, writes, deletes)
    return messages


def _removal(project: Project, entry: LockEntry, dryrun: bool, deletes: list[str]) -> list[str]:
    """What removing one install deletes (appended to ``deletes``), and the lines saying so."""
    current = _current(project, entry.files)
    adopted = sorted(p for p in entry.adopted if current[p] is not None)
    mine = sorted(p for p, sha in entry.files.items() if current[p] == sha and p not in entry.adopted)
    kept = sorted(p for p, sha in entry.files.items() if current[p] not in (None, sha) and p not in entry.adopted)
    deletes += mine
    messages = [f"{'would remove' if dryrun else 'removed'} {entry.name} {entry.version} from "
                f"{project.package_name}.{entry.module} ({len(mine)} files)"]
    if kept:
        messages.append(f"kept {len(kept)} file(s) changed since the pull: {', '.join(kept)}")
    if adopted:
        messages.append(f"left {len(adopted)} adopted file(s) in place (they were in the project before the pull): "
                        f"{', '.join(adopted)}")
    return messages


def _unlisted(project: Project, removed: list[LockEntry], dryrun: bool) -> tuple[dict[str, bytes], list[str]]:
    """pyproject.toml without the manifest entries of ``removed`` (none for ad hoc pulls), as a
    write for the transaction, and the line saying so."""
    import sys

    from ..config.manifest import pull_specs
    from ..config.unlist import remove_pull_entries

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    path = project.root / "pyproject.toml"
    try:
        text = path.read_bytes().decode("utf-8")  # no newline translation: CRLF files stay CRLF
        micropkg = tomllib.loads(text)
        for part in project.table.split("."):
            micropkg = micropkg.get(part, {})
        keys = list(micropkg.get("pull", {}))
        specs = pull_specs(micropkg, project.table)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError, MicropkgError):
        return {}, []  # no readable manifest: nothing of it to take out
    listed = [key for key, spec in zip(keys, specs)
              if any(e.source == spec.source and e.alias == (spec.alias or "") and e.destination == (spec.destination or "")
                     for e in removed)]
    if not listed:
        return {}, []
    if os.path.islink(path):
        raise MicropkgError("unpull: pyproject.toml is a symbolic link, so its manifest entry cannot be taken out "
                            "safely; nothing was changed (remove the entry by hand, then unpull again)")
    if not os.stat(path).st_mode & stat.S_IWUSR:  # refused, as doit migrate refuses it
        raise MicropkgError("unpull: pyproject.toml is read-only; make it writable (chmod u+w pyproject.toml) and "
                            "run again; nothing was changed")
    new = remove_pull_entries(text, project.table, listed).encode("utf-8")
    line = (f"{'would take' if dryrun else 'took'} {', '.join(one_line(repr(k), 120) for k in listed)} out of [{project.table}.pull] "
            "in pyproject.toml, so the next doit pull does not bring it back")
    return {project.rel(path): new}, [line]
