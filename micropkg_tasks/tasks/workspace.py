"""One doit graph over a workspace's member projects (``[tool.micropkg.workspace]`` in the
pyproject.toml of the folder doit runs in).

Each member's tasks are the ones its own ``doit`` would make (the same creators' code, run on
its ``Project``), renamed ``<member>:<family>:<name>`` and with their paths made relative to the
workspace root, normalised, so that one string names one file whichever member refers to it.
On top of that, edges where bytes flow:

- a pull whose archive is another member's package output runs after that package task;
- a package entry whose module one of the member's own pulls installs runs after that pull and
  collects its files when it runs (on a fresh clone the folder is not there at load);
- every micro-package pulled along (a lock entry from a path inside the workspace that no
  manifest entry names) gets its own pull task, stale when the archive's bytes differ from the
  lock's, so an edit upstream reaches it;
- ``"x" = {member = "a"}``: the archive member ``a`` builds for its entry named (or aliased)
  ``x``, whatever its version.

A task-level cycle is one ``ERROR:`` line before doit sees the graph (doit crashes on one).
Nothing here runs for a project without a workspace table: ``current()`` reads the bytes of the
cwd's pyproject.toml and parses them only when they mention ``workspace``.
"""
from __future__ import annotations

import inspect
import os
import posixpath
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from doit.task import Task, dict_to_task

from ..config import manifest
from ..config.project import Project
from ..config.workspace import Member, Workspace, load_workspace, member_compile, workspace_table
from ..errors import ManifestError
from ..rules import module_path_problem
from ..scope import command_dict, enter
from .edge import action, running, say

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_current: dict[str, Any] = command_dict()


def current() -> Workspace | None:
    """The workspace whose root is the current folder, or None (a standalone project: then this
    costs one read of pyproject.toml's bytes, no parse)."""
    from doit.globals import Globals

    enter(Globals.dep_manager)  # a command starts here at a workspace root (edge.project elsewhere)
    path = Path.cwd() / "pyproject.toml"
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path), st.st_mtime_ns, st.st_size, st.st_ino)
    if _current.get("key") == key:
        return _current["workspace"]  # type: ignore[no-any-return]
    try:
        data = path.read_bytes()
    except OSError:
        return None
    _current.update(key=None)
    if b"workspace" not in data:
        _current.update(key=key, workspace=None)
        return None
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the project loader says what is wrong with it
    table = workspace_table(parsed)
    found = None if table is None else load_workspace(path.parent, table, allow_legacy=running("migrate"))
    _current.update(key=key, workspace=found)
    _plans.clear()
    return found


# -- names and paths -------------------------------------------------------------------------------

def folded(name: str) -> str:
    """A distribution or module name as PEP 503/625 compare them."""
    return re.sub(r"[-_.]+", "_", name).lower()


def archive_name(path: str) -> str | None:
    """``cleaning`` from ``.../cleaning-0.3.1.tar.gz`` (or a wheel), folded; None otherwise."""
    base = path.rsplit("/", 1)[-1]
    for suffix in (".tar.gz", ".tgz", ".whl", ".zip"):
        if base.endswith(suffix) and "-" in base:
            return folded(base[: -len(suffix)].split("-", 1)[0])
    return None


def rooted(ws: Workspace, member: Member, path: str) -> str:
    """A member's path (relative to it, absolute, or ``~/...``) as doit sees it at the root:
    root-relative and normalised when inside the root, else absolute."""
    if path.startswith("~"):
        path = os.path.expanduser(path)
    if os.path.isabs(path):
        try:
            return Path(path).relative_to(ws.root).as_posix()
        except ValueError:
            return path
    return posixpath.normpath(posixpath.join(member.path, path))


def full(member: Member, family: str, name: str | None = None) -> str:
    return f"{member.name}:{family}" + (f":{name}" if name else "")


def as_task(d: Mapping[str, Any], name: str, subtask_of: str | None) -> Task:
    d = dict(d)
    d.pop("basename", None)
    d["name"] = name
    d.setdefault("doc", None)
    task = dict_to_task(d)
    task.subtask_of = subtask_of
    return task


def group(name: str, deps: list[str], doc: str | None, subtask_of: str | None = None) -> Task:
    task = Task(name, None, task_dep=deps, doc=doc, has_subtask=True)
    task.subtask_of = subtask_of
    return task


def namespaced(ws: Workspace, member: Member, family: str, d: Mapping[str, Any]) -> dict[str, Any]:
    """A member task dict as the root graph holds it: task references prefixed by the member,
    paths root-relative."""
    out = dict(d)
    out["name"] = full(member, family, d["name"])
    for key in ("file_dep", "targets"):
        if d.get(key):
            out[key] = [rooted(ws, member, p) for p in d[key]]
    for key in ("task_dep", "calc_dep"):
        if d.get(key):
            out[key] = [f"{member.name}:{t}" for t in d[key]]
    return out


# -- the plan: every member's package and pull tasks, with the edges between them -----------------

@dataclass(frozen=True)
class MemberSource:
    """``"cleaning" = {member = "a", destination = "pipelines"}``: what member ``a`` builds for
    its package entry named (or aliased) ``cleaning``."""

    key: str
    member: str
    spec: manifest.PullSpec  # its options; ``source`` is resolved when the task runs


@dataclass
class Producer:
    member: Member
    spec: manifest.PackageSpec
    task: str


@dataclass
class Plan:
    """Per member: the package specs, the manifest's pull specs, its member sources, the entries
    pulled along; and every producer of an archive, by (folder, folded name)."""

    packages: dict[str, list[manifest.PackageSpec]]
    pulls: dict[str, list[manifest.PullSpec]]
    member_sources: dict[str, list[MemberSource]]
    along: dict[str, list[manifest.PullSpec]]
    producers: dict[tuple[str, str], Producer]
    by_name: dict[tuple[str, str], Producer]
    installs: dict[str, dict[str, str]]  # member -> package module path -> the pull task installing it
    pull_names: dict[str, dict[manifest.PullSpec, str]]  # member -> spec -> task name (after <m>:pull:)
    pulled: dict[str, set[tuple[str, str, str]]]  # member -> (producer task or source, alias, destination) in its lock


_plans: dict[Any, Any] = command_dict()

MEMBER_OPTIONS = ("member", "alias", "destination", "env")


def read_member_sources(member: Member) -> list[MemberSource]:
    """The member's ``member = ...`` pull entries (its Manifest was validated without them)."""
    project = member.project
    micropkg = project.micropkg
    entries = micropkg.get("pull")
    if not isinstance(entries, Mapping) or not any(isinstance(v, Mapping) and "member" in v for v in entries.values()):
        return []
    sources = []
    for key, value in entries.items():
        if not (isinstance(value, Mapping) and "member" in value):
            continue
        where = f"member {member.name}: [{project.table}.pull] {manifest.shown(key)}"
        opts = {k.replace("-", "_"): v for k, v in value.items()}
        for opt, val in opts.items():
            if opt not in MEMBER_OPTIONS:
                raise ManifestError(f"{where}: option {manifest.shown(opt)} does not go with member = ...; valid "
                                    f"options: {', '.join(MEMBER_OPTIONS)}")
            if not isinstance(val, str):
                raise ManifestError(f"{where}: option {manifest.shown(opt)} must be a string")
        name = opts.pop("member")
        if not isinstance(key, str) or module_path_problem(key.replace("-", "_")):
            raise ManifestError(f"{where}: the key must be the name of a package entry of member {name!r}")
        spec = manifest.pull_spec(f"{name}/{key}", where=where, **opts)
        sources.append(MemberSource(key, name, spec))
    return sources


def plan(ws: Workspace) -> Plan:
    if "plan" in _plans:
        return _plans["plan"]  # type: ignore[no-any-return]
    packages, pulls, member_sources, along, installs, pull_names = {}, {}, {}, {}, {}, {}
    producers: dict[tuple[str, str], Producer] = {}
    by_name: dict[tuple[str, str], Producer] = {}
    for m in ws.members:
        try:
            specs = list(m.project.manifest.packages)
            sources = read_member_sources(m)
            manifest_pulls = list(m.project.manifest.pulls)
        except ManifestError as exc:
            if str(exc).startswith("member "):
                raise
            raise ManifestError(f"member {m.name}: {exc}") from None
        packages[m.name], pulls[m.name], member_sources[m.name] = specs, manifest_pulls, sources
        for spec in specs:
            producer = Producer(m, spec, full(m, "package", spec.module_path))
            folder = rooted(ws, m, spec.destination or "dist")
            producers[(folder, folded(spec.name))] = producer
            by_name[(m.name, folded(spec.name))] = producer
    for m in ws.members:
        for src in member_sources[m.name]:
            if ws.member(src.member) is None:
                raise ManifestError(f"member {m.name}: [{m.project.table}.pull] {manifest.shown(src.key)}: no member "
                                    f"named {src.member!r} in this workspace (members: "
                                    f"{', '.join(x.name for x in ws.members)})")
            if (src.member, folded(src.key)) not in by_name:
                raise ManifestError(f"member {m.name}: [{m.project.table}.pull] {manifest.shown(src.key)}: member "
                                    f"{src.member!r} packages no entry named or aliased {src.key!r}")
        from .pull import task_names

        try:
            names = dict(zip(pulls[m.name], task_names(pulls[m.name])))  # as pull_tasks names them
        except ManifestError as exc:
            raise ManifestError(f"member {m.name}: {exc}") from None
        names.update({src.spec: src.spec.source for src in member_sources[m.name]})
        mine = {(by_name[(src.member, folded(src.key))].task, src.spec.alias or "", src.spec.destination or "")
                for src in member_sources[m.name]}
        along[m.name] = _pulled_along(ws, m, pulls[m.name], names, producers, mine)
        names.update({spec: _pull_name(spec) for spec in along[m.name]})
        pull_names[m.name] = names
        installs[m.name] = _installs(m, packages[m.name], pulls[m.name], member_sources[m.name], along[m.name], names)
    pulled = {m.name: _pulled(ws, m, producers) for m in ws.members}
    found = Plan(packages, pulls, member_sources, along, producers, by_name, installs, pull_names, pulled)
    _plans["plan"] = found
    return found


def _pulled(ws: Workspace, m: Member, producers: dict[tuple[str, str], Producer]) -> set[tuple[str, str, str]]:
    """What the member's lock says was pulled: by source, and by producing task for archives a member builds."""
    if not m.project.lock_path.is_file():
        return set()
    from ..store.lock import read_lock

    out = set()
    for entry in read_lock(m.project).values():
        out.add((entry.source, entry.alias, entry.destination))
        path = rooted(ws, m, entry.source)
        producer = producers.get((posixpath.dirname(path), archive_name(path) or ""))
        if producer is not None:
            out.add((producer.task, entry.alias, entry.destination))
    return out


def _pull_name(spec: manifest.PullSpec) -> str:
    from . import pull

    return str(pull.task_name(spec.source, "path"))  # what a lock entry or a member source is: a path


def _pulled_along(ws: Workspace, m: Member, specs: list[manifest.PullSpec], names: dict[manifest.PullSpec, str],
                  producers: dict[tuple[str, str], Producer], mine: set[tuple[str, str, str]]) -> list[manifest.PullSpec]:
    """Lock entries that came along with another pull from a path inside the workspace: each
    gets its own pull task, so a new archive there is pulled (nothing else would notice)."""
    if not m.project.lock_path.is_file():
        return []
    from ..store.lock import read_lock

    entries = read_lock(m.project)
    known = {(s.source, s.alias or "", s.destination or "") for s in specs}
    taken = set(names.values())
    out = []
    for entry in entries.values():
        if (entry.source, entry.alias, entry.destination) in known or manifest.source_kind(entry.source) != "path":
            continue
        path = rooted(ws, m, entry.source)
        if ws.owner(path) is None:
            continue
        producer = producers.get((posixpath.dirname(path), archive_name(path) or ""))
        if producer is not None and (producer.task, entry.alias, entry.destination) in mine:
            continue  # what a member source installed: that task keeps it up to date

        spec = manifest.PullSpec(source=entry.source, kind="path", alias=entry.alias or None,
                                 destination=entry.destination or None, env=entry.env)
        if _pull_name(spec) in taken:
            continue
        taken.add(_pull_name(spec))
        out.append(spec)
    return out


def _installs(m: Member, packages: list[manifest.PackageSpec], pulls: list[manifest.PullSpec],
              sources: list[MemberSource], along: list[manifest.PullSpec],
              names: dict[manifest.PullSpec, str]) -> dict[str, str]:
    """Package module path -> the member's pull task that installs that module (by the pull's
    destination and alias or name; and by the lock, for what a pull brought along)."""
    where: dict[str, str] = {}

    def add(destination: str | None, leaf: str | None, name: str) -> None:
        if leaf:
            where.setdefault(".".join([*(destination.split("/") if destination else []), folded(leaf)]), name)

    for spec in pulls:
        leaf = spec.alias
        if not leaf:
            if spec.kind == "index":
                match = re.match(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?", spec.source)
                leaf = match.group(0) if match else None
            else:
                leaf = archive_name(spec.source.split("?", 1)[0])
        add(spec.destination, leaf, names[spec])
    for src in sources:
        add(src.spec.destination, src.spec.alias or src.key, names[src.spec])
    for spec in along:
        add(spec.destination, spec.alias or archive_name(spec.source), names[spec])
    if m.project.lock_path.is_file():
        from ..store.lock import read_lock

        by_source = {(s.source, s.alias or "", s.destination or ""): n for s, n in names.items()}
        for entry in read_lock(m.project).values():
            name = by_source.get((entry.source, entry.alias, entry.destination))
            if name:
                where.setdefault(".".join(folded(p) for p in entry.module.split(".")), name)
    found = {}
    for package in packages:
        key = ".".join(folded(p) for p in package.module_path.split("."))
        if key in where:
            found[package.module_path] = f"pull:{where[key]}"
    return found


# -- package ---------------------------------------------------------------------------------------

def _signature(project: Project, files: Iterable[str], targets: Iterable[str]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for rel in sorted(files):
        try:
            st = os.stat(project.root / rel)
            out.append([rel, st.st_size, st.st_mtime_ns])
        except OSError:
            out.append([rel, None, None])
    out.append([*sorted(targets)])
    return out


def _fresh(project: Project, spec: manifest.PackageSpec) -> Any:
    from ..core.collect import collect, forget_listings

    forget_listings()
    return collect(project, spec)


@action
def package_after_pull_action(project: Project, spec: manifest.PackageSpec, max_size: int,
                              wheel: bool) -> dict[str, Any]:
    from ..actions.package import package
    from .package import record

    mp, lines, written = package(project, _fresh(project, spec), max_size)
    for line in lines:
        say(line)
    targets = [mp.target]
    values = record(project, mp.target, written, spec.module_path)  # what publish reads, as package_action
    if wheel:
        from ..actions.wheel import build_wheel, wheel_target
        from ..errors import where

        target = wheel_target(mp.target)
        how, wheel_written = build_wheel(project.root / mp.target, project.root / target,
                                         where("package", spec.module_path))
        say(f"built {target} ({how})")
        record(project, target, wheel_written, spec.module_path)
        targets.append(target)
    return {**values, "requires": [[d.module_path, d.name, d.version] for d in mp.requires],
            "files": _signature(project, mp.file_dep, targets), "targets": targets}


class AfterPullUptodate:
    """Up to date while the files the micro-package has now (collected after the pull ran) are
    the ones, unchanged, it was packaged from, and the sdist is there."""

    __signature__ = inspect.Signature([inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                       for name in ("task", "values")])

    def __init__(self, project: Project, spec: manifest.PackageSpec) -> None:
        self.project, self.spec = project, spec

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        from ..errors import MicropkgError

        targets = values.get("targets") or []
        if not targets or not all((self.project.root / t).is_file() for t in targets):
            return False
        try:
            mp = _fresh(self.project, self.spec)
        except MicropkgError:
            return False
        return bool(values.get("files") == _signature(self.project, mp.file_dep, targets))


def _package_dicts(ws: Workspace, wheel: bool) -> dict[str, list[dict[str, Any]]]:
    key = ("package", wheel)
    if key in _plans:
        return _plans[key]  # type: ignore[no-any-return]
    from ..core.sdist import FORMAT_VERSION
    from .package import PackageUptodate, collected, package_tasks

    p = plan(ws)
    out: dict[str, list[dict[str, Any]]] = {}
    for m in ws.members:
        project, specs = m.project, p.packages[m.name]
        if not specs:
            out[m.name] = []
            continue
        member_wheel = wheel or project.manifest.wheel
        after = p.installs[m.name]
        try:
            local = [s for s in specs if s.module_path not in after]
            dicts = list(package_tasks(project, local, member_wheel)) if local else []
            versions = {s.module_path: [collected(project, s).name, collected(project, s).version] for s in local}
        except ManifestError as exc:
            raise ManifestError(f"member {m.name}: {exc}") from None
        except Exception as exc:  # PackageError from collect: the same one line, named by member
            from ..errors import MicropkgError

            if isinstance(exc, MicropkgError):
                raise type(exc)(f"member {m.name}: {exc}") from None
            raise
        max_size = project.manifest.limits.max_size
        for spec in specs:
            if spec.module_path not in after:
                continue
            pull_task = after[spec.module_path]
            dicts.append({
                "name": spec.module_path,
                "doc": f"sdist of {project.package_name}.{spec.module_path}, after {m.name}:{pull_task} installs it",
                "actions": [(package_after_pull_action, [project, spec, max_size, member_wheel])],
                "task_dep": [pull_task],
                "uptodate": [PackageUptodate(spec, project, FORMAT_VERSION, versions, []),  # outputs: known once run
                             AfterPullUptodate(project, spec)],
                "verbosity": 2,
            })
        if after:  # a micro-package may import one a pull installs: every package task runs after those pulls
            pulls = sorted(set(after.values()))
            for d in dicts:
                d["task_dep"] = [*d.get("task_dep", []), *(t for t in pulls if t not in d.get("task_dep", []))]
        out[m.name] = [namespaced(ws, m, "package", d) for d in dicts]
    _plans[key] = out
    return out


def package_family(ws: Workspace, wheel: bool) -> Iterator[Task]:
    check_cycles(ws)
    dicts = _package_dicts(ws, wheel)
    pulls = _pull_dicts(ws, False, "")
    groups = []
    for m in ws.members:
        names = [d["name"] for d in dicts[m.name]]
        for d in dicts[m.name]:
            yield as_task(d, d["name"], m.name)
        if names:
            yield group(full(m, "package"), names, f"package every micro-package of member {m.name}", m.name)
            groups.append(full(m, "package"))
        own = names + [d["name"] for d in pulls[m.name]]
        member_groups = [full(m, f) for f, tasks in (("package", names), ("pull", pulls[m.name])) if tasks]
        yield group(m.name, member_groups + own, f"member {m.name} ({m.path}): its package and pull tasks")
    yield group("package", groups, "Package every member's micro-packages (and what they need upstream).")


# -- pull ------------------------------------------------------------------------------------------

def _archive_path(project: Project, spec: manifest.PullSpec) -> Path:
    from ..config.fs_args import fs_args_path

    return Path(fs_args_path(project.root, spec.source))


class ArchivePulled:
    """A pull from a path inside the workspace is up to date while the lock records this spec's
    install, its files are there, and the archive's bytes are the ones it was pulled from.
    ``producer`` (a member source): the archive is whatever that entry builds now."""

    __signature__ = AfterPullUptodate.__signature__

    def __init__(self, project: Project, spec: manifest.PullSpec, producer: tuple[Project, manifest.PackageSpec] | None
                 = None) -> None:
        self.project, self.spec, self.producer = project, spec, producer

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        from ..actions.pull import installed_by, is_installed
        from ..errors import MicropkgError
        from ..store.files import sha256_file
        from ..store.lock import read_lock

        try:
            spec = resolved(self.project, self.spec, self.producer)
            path = _archive_path(self.project, spec)
            if not path.is_file() or not is_installed(self.project, spec):
                return False
            entry = installed_by(read_lock(self.project), spec)
            return entry is not None and entry.sha256 == sha256_file(path)
        except (MicropkgError, OSError):
            return False


def resolved(project: Project, spec: manifest.PullSpec,
             producer: tuple[Project, manifest.PackageSpec] | None) -> manifest.PullSpec:
    """A member source as the path of the archive its member builds now."""
    if producer is None:
        return spec
    mp = _fresh(*producer)
    source = Path(os.path.relpath(producer[0].root / mp.target, project.root)).as_posix()
    return replace(spec, source=source, kind="path")


@action
def member_pull_action(project: Project, spec: manifest.PullSpec, producer: tuple[Project, manifest.PackageSpec] | None,
                       force: bool, limits: manifest.Limits, merge: str) -> list[str]:
    from ..actions.pull import pull

    return pull(project, resolved(project, spec, producer), force, limits, merge)


def _pull_dicts(ws: Workspace, force: bool, merge: str) -> dict[str, list[dict[str, Any]]]:
    key = ("pull", force, merge)
    if key in _plans:
        return _plans[key]  # type: ignore[no-any-return]
    from doit.tools import config_changed

    from .pull import pull_tasks, recover

    p = plan(ws)
    out: dict[str, list[dict[str, Any]]] = {}
    for m in ws.members:
        project = m.project
        recover(project)
        specs = p.pulls[m.name]
        names = p.pull_names[m.name]
        try:
            command = manifest.compile_command(member_compile(m, ws), project.table)
            limits = project.manifest.limits
        except ManifestError as exc:
            raise ManifestError(f"member {m.name}: {exc}") from None
        local = list(pull_tasks(project, specs, force, None, limits, merge)) if specs else []
        dicts = [namespaced(ws, m, "pull", d) for d in local]
        for spec, d in zip(specs, dicts):
            d["clean"] = [(guarded_unpull, [project, spec, [d["name"]]])]
            if spec.kind != "path":
                continue
            path = rooted(ws, m, spec.source)
            producer = producer_of(ws, p, path)
            if producer is not None and producer.member is not m:  # bytes flow from another member
                # and so may its siblings: a micro-package it imports comes along from the same folder
                first = (spec.source, spec.alias or "", spec.destination or "") not in p.pulled[m.name]
                d["task_dep"] = [*d.get("task_dep", []), *(siblings(p, producer, path) if first else [producer.task])]
                d["file_dep"] = sorted({*d.get("file_dep", []), path})
        extra: list[tuple[manifest.PullSpec, Producer | None, tuple[Project, manifest.PackageSpec] | None]] = []
        for src in p.member_sources[m.name]:
            producer = p.by_name[(src.member, folded(src.key))]
            extra.append((src.spec, producer, (producer.member.project, producer.spec)))
        for spec in p.along[m.name]:
            extra.append((spec, producer_of(ws, p, rooted(ws, m, spec.source)), None))
        for spec, producer, made_by in extra:
            into = f"{spec.destination}/" if spec.destination else ""
            what = (f"what member {producer.member.name} builds for {producer.spec.name!r}" if made_by and producer
                    else f"{spec.source} (pulled along)")
            dicts.append({
                "name": full(m, "pull", names[spec]),
                "doc": f"pull {what} into {project.package_name}/{into}{spec.alias or '<its name>'}",
                "actions": [(member_pull_action, [project, spec, made_by, force, limits, merge])],
                "task_dep": _producer_deps(ws, p, m, spec, producer, made_by is not None),
                # pulled along: its options are the lock's, so only the archive's bytes make it stale
                "uptodate": [*([config_changed(spec.as_dict())] if made_by else []), ArchivePulled(project, spec, made_by),
                             not force],
                "clean": [] if made_by else [(guarded_unpull, [project, spec, [full(m, "pull", names[spec])]])],
                "verbosity": 2,
            })
        if command and dicts:
            compile_dict = namespaced(ws, m, "pull", next(iter(pull_tasks(project, [], force, command, limits, merge))))
            compile_dict["task_dep"] = [d["name"] for d in dicts]
            dicts.append(compile_dict)
        out[m.name] = dicts
    _plans[key] = out
    return out


def guarded_unpull(project: Project, spec: manifest.PullSpec, names: list[str], dryrun: bool) -> None:
    """``doit clean <member>:pull:<source>`` removes that install; a package task's clean, which
    doit follows to the pulls it needs (``doit clean`` cleans the default tasks with their task
    dependencies), never unpulls a micro-package that was not asked for by name."""
    from .pull import unpull_spec_action

    if any(name in sys.argv[1:] for name in names):
        unpull_spec_action(project, spec, dryrun)


def _producer_deps(ws: Workspace, p: Plan, m: Member, spec: manifest.PullSpec, producer: Producer | None,
                   by_member: bool) -> list[str]:
    if producer is None or producer.member is m:
        return []
    key = (producer.task if by_member else spec.source, spec.alias or "", spec.destination or "")
    if key in p.pulled[m.name]:  # pulled before: what came along has its own task now
        return [producer.task]
    return siblings(p, producer, rooted(ws, producer.member, producer.spec.destination or "dist") + "/x")


def siblings(p: Plan, producer: Producer, path: str) -> list[str]:
    """The package tasks that write into the folder of ``path``, ``producer``'s first: on a first
    pull, the micro-packages the archive imports come along from there, not known yet."""
    folder = posixpath.dirname(path)
    return [producer.task, *sorted({x.task for (f, _), x in p.producers.items() if f == folder} - {producer.task})]


def producer_of(ws: Workspace, p: Plan, path: str) -> Producer | None:
    """The package task that writes ``path`` (root-relative), if a member's does: the folder is
    its destination and the archive carries its name (whatever the version)."""
    name = archive_name(path)
    if name is None:
        return None
    return p.producers.get((posixpath.dirname(path), name))


def pull_family(ws: Workspace, force: bool, merge: str) -> Iterator[Task]:
    check_cycles(ws)
    dicts = _pull_dicts(ws, force, merge)
    groups = []
    for m in ws.members:
        for d in dicts[m.name]:
            yield as_task(d, d["name"], m.name)
        if dicts[m.name]:
            yield group(full(m, "pull"), [d["name"] for d in dicts[m.name]], f"pull into member {m.name}", m.name)
            groups.append(full(m, "pull"))
    yield group("pull", groups, "Pull into every member (after the members whose archives they pull), then compile.")


# -- cycles ----------------------------------------------------------------------------------------

def check_cycles(ws: Workspace) -> None:
    """One line naming a task-level cycle, before doit sees it."""
    if "checked" in _plans:
        return
    dicts = [d for family in (_package_dicts(ws, False), _pull_dicts(ws, False, "")) for ds in family.values()
             for d in ds]
    made_by = {t: d["name"] for d in dicts for t in d.get("targets") or ()}
    edges = {d["name"]: [*d.get("task_dep", []), *(made_by[f] for f in d.get("file_dep") or () if f in made_by)]
             for d in dicts}
    cycle = find_cycle(edges)
    if cycle:
        raise ManifestError(f"workspace cycle: {' -> '.join(cycle)}; a member's task needs its own output through "
                            "other members (drop one of these pulls or package entries)")
    _plans["checked"] = True


def find_cycle(edges: Mapping[str, list[str]]) -> list[str] | None:
    """A cycle of ``edges`` (node -> the nodes it needs) as [n0, n1, ..., n0], or None."""
    state: dict[str, int] = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(edges.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if not state.get(dep) and dep in edges:
                state[dep] = 1
                stack.append((dep, iter(edges[dep])))
                path.append(dep)
    return None


# -- the other families: one task per member, and a group ------------------------------------------

def per_member(ws: Workspace, family: str, make: Callable[[Project], dict[str, Any] | None], doc: str) -> Iterator[Task]:
    names = []
    for m in ws.members:
        d = make(m.project)
        if d is None:
            continue
        name = full(m, family)
        names.append(name)
        yield as_task({**d, "doc": f"{m.name}: {d.get('doc') or doc}"}, name, m.name)
    yield group(family, names, doc)


def publish_family(ws: Workspace, make: Callable[[Project, set[str]], Iterable[dict[str, Any]]],
                   doc: str) -> Iterator[Task]:
    """``make(project, skip)``: a member's publish tasks but for the modules in ``skip`` (those a
    pull of the member installs: their sdist is named once the pull ran; publish them from the
    member's folder)."""
    p = plan(ws)
    names = []
    for m in ws.members:
        tasks = [namespaced(ws, m, "publish", d) for d in make(m.project, set(p.installs[m.name]))]
        for d in tasks:
            yield as_task(d, d["name"], m.name)
        if tasks:
            names.append(full(m, "publish"))
            yield group(full(m, "publish"), [d["name"] for d in tasks], f"publish member {m.name}", m.name)
    yield group("publish", names, doc)


def refuse_ad_hoc(command: str, given: bool) -> None:
    if given:
        raise ManifestError(f"{command}: at a workspace root, ad hoc options name no member; run it in the member's "
                            "folder (cd <member> && doit ...)")


def eager(tasks: Iterable[Any]) -> Iterator[Any]:
    """Make every task now, inside the creator's ``loading()`` (an error is one line), and give
    doit the generator it asks for."""
    made = list(tasks)
    return (task for task in made)
