"""``doit status``, ``doit diff`` and ``doit outdated``: the life of pulled micro-packages
against what was pulled and against their sources. ``--check`` fails the task (exit 1)."""
from __future__ import annotations

from typing import Any

from doit import task_params

from ..config.project import Project
from ..errors import MicropkgError, one_line
from .console import MACHINE_OUTPUT
from .edge import action, current_workspace, loading, option, say, warn
from .edge import project as current_project
from .pull import recover

CHECK = "exit non-zero when {} (for CI)"


@action
def status_action(project: Project, check: bool) -> list[str]:
    from ..lifecycle import CheckFailed
    from ..lifecycle.merge import has_markers
    from ..lifecycle.status import drift, missing_line, report
    from ..store.files import sha256_file
    from ..store.lock import read_lock

    drifts = []
    entries = read_lock(project)
    for entry in entries.values():
        current = {p: sha256_file(project.root / p) if (project.root / p).is_file() else None for p in entry.files}
        marked = {p for p in entry.conflicted if current.get(p) and has_markers((project.root / p).read_bytes())}
        drifts.append(drift(entry, current, marked, entries))
    lines = report(drifts, project.package_name)
    drifted = [d.module for d in drifts if d.drifted]
    if check and (drifted or any(d.missing for d in drifts)):
        for line in lines:
            say(line)
        problems = [missing_line(drifts, project.package_name)] if any(d.missing for d in drifts) else []
        if drifted:
            problems.append(f"{len(drifted)} micro-package(s) changed since the pull: {', '.join(drifted)} "
                            "(doit diff shows how)")
        raise CheckFailed(f"status: {'; '.join(problems)}")
    return lines


@action
def diff_action(project: Project, module: str) -> list[str]:
    import tempfile
    from pathlib import Path

    from ..lifecycle.base import pulled_files
    from ..lifecycle.diff import unified
    from ..store.files import sha256_bytes, sha256_file
    from ..store.lock import read_lock

    entries = read_lock(project)
    if module and module not in entries:
        raise MicropkgError(f"diff: {one_line(module, 80)} is not in {project.lock_path.name}; installed modules: "
                            f"{', '.join(sorted(entries)) or 'none'}")
    out = []
    for name in sorted([module] if module else entries):
        entry = entries[name]
        edited = sorted(p for p, sha in entry.files.items()
                        if not (project.root / p).is_file() or sha256_file(project.root / p) != sha)
        if not edited:
            continue
        with tempfile.TemporaryDirectory(prefix="micropkg-diff-") as tmp:
            base = pulled_files(project, entry, Path(tmp), project.manifest.limits)
        for path in edited:
            if path not in base or sha256_bytes(base[path]) != entry.files[path]:
                raise MicropkgError(f"diff: the archive of {entry.name} {entry.version} does not reproduce {path} as "
                                    "it was pulled (was the project package renamed?)")
            local = project.root / path
            out.append(unified(path, base[path], local.read_bytes() if local.is_file() else None).rstrip("\n"))
    return out or [f"no local changes since the pull{f' of {module}' if module else ''}"]


@action
def outdated_action(project: Project, check: bool, as_json: bool) -> list[str]:
    from ..lifecycle import CheckFailed
    from ..lifecycle.outdated import as_json as to_json
    from ..lifecycle.outdated import outdated, table
    from ..store.lock import read_lock

    rows = outdated(project, read_lock(project), project.manifest.limits)
    for row in rows:
        if row.error:
            warn(f"warning: {project.package_name}.{row.module}: newest version unknown: {row.error}")
    lines = [to_json(rows)] if as_json else table(rows, project.package_name)
    behind = [f"{r.module} {r.installed} < {r.newest}" for r in rows if r.behind]
    if check and behind:
        for line in lines:
            say(line)
        raise CheckFailed(f"outdated: {len(behind)} micro-package(s) behind their source: {', '.join(behind)}")
    return lines


def _task(doc: str | None, act: Any, args: list[Any], machine: bool = False) -> dict[str, Any]:
    return {"doc": doc, "actions": [(act, args)], "uptodate": [False], "verbosity": 2, "meta": {MACHINE_OUTPUT: machine}}


def _recovered(project: Project, task: dict[str, Any]) -> dict[str, Any]:
    recover(project)
    return task


@task_params([option("check", CHECK.format("a pulled file was changed, deleted or is conflicted"), kind=bool)])
def task_status(check: bool) -> Any:
    """What each pulled micro-package is (module, version, source) and which files changed since the pull."""
    with loading():
        ws = current_workspace()
        if ws is not None:
            from . import workspace

            return workspace.eager(workspace.per_member(ws, "status", lambda project: _recovered(
                project, _task(task_status.__doc__, status_action, [project, check])), str(task_status.__doc__)))
        project = current_project()
        recover(project)
        return _task(task_status.__doc__, status_action, [project, check])


@task_params([option("module", "only this installed module path, e.g. pipelines.tidy (see micropkg.lock)")])
def task_diff(module: str) -> Any:
    """Unified diff of the pulled files you changed, against the version that was pulled (--module M)."""
    with loading():
        ws = current_workspace()
        if ws is not None:
            from . import workspace

            return workspace.eager(workspace.per_member(ws, "diff", lambda project: _recovered(
                project, _task(task_diff.__doc__, diff_action, [project, module])), str(task_diff.__doc__)))
        project = current_project()
        recover(project)
        return _task(task_diff.__doc__, diff_action, [project, module])


@task_params([option("check", CHECK.format("a newer version is available"), kind=bool),
              option("as_json", "print a JSON list instead of the table", long="json", kind=bool)])
def task_outdated(check: bool, as_json: bool) -> Any:
    """The newest version at each pulled micro-package's source (index, folder or bucket); --check, --json."""
    with loading():
        ws = current_workspace()
        if ws is not None:
            from . import workspace

            return workspace.eager(workspace.per_member(ws, "outdated", lambda project: _recovered(
                project, _task(task_outdated.__doc__, outdated_action, [project, check, as_json], machine=as_json)),
                str(task_outdated.__doc__)))
        project = current_project()
        recover(project)
        return _task(task_outdated.__doc__, outdated_action, [project, check, as_json], machine=as_json)
