"""Package entries whose folder a pull of the same manifest installs (a project that pulls
``cleaning`` into ``pipelines/`` and packages ``pipelines.cleaning``). On a fresh clone the folder
is not there yet, so such a task cannot collect its files when doit loads the tasks: it runs after
the pull that installs it (``task_dep``), and a ``<module path>:files`` task collects them then,
as doit's ``calc_dep`` (its result is the package task's ``file_dep``). The sdist's name needs the
pulled ``__version__``, so it is the action's saved value, not a declared target."""
from __future__ import annotations

import re
from typing import Any

from ..config import manifest
from ..config.project import Project
from ..errors import MicropkgError
from .edge import action, clean_action, say

SUFFIXES = (".tar.gz", ".tgz", ".whl")


def _folded(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def pulled_name(spec: manifest.PullSpec) -> str | None:
    """The package name a pull entry installs, as far as its spelling tells (the alias, else a
    requirement's name, else ``<name>-<version>.tar.gz``'s name), folded as PEP 503 folds it."""
    if spec.alias:
        return _folded(spec.alias)
    if spec.kind == "index":
        from .pull import REQUIREMENT_NAME

        match = REQUIREMENT_NAME.match(spec.source)
        return _folded(match.group(0)) if match else None
    base = spec.source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    for suffix in SUFFIXES:
        if base.endswith(suffix):
            return _folded(base[: -len(suffix)].split("-", 1)[0])
    return None


def installing_pulls(project: Project, specs: list[manifest.PackageSpec]) -> dict[str, str]:
    """Package entry module path -> the pull task that installs it (its destination and its
    alias or name are that module path), for the manifest's pull entries."""
    pulls = list(project.manifest.pulls)
    if not pulls:
        return {}
    from .pull import task_names

    installs = {}
    for pull, name in zip(pulls, task_names(pulls)):
        leaf = pulled_name(pull)
        if leaf:
            installs[".".join([*(pull.destination.split("/") if pull.destination else []), leaf])] = f"pull:{name}"
    found = {}
    for spec in specs:
        parts = spec.module_path.split(".")
        key = ".".join([*parts[:-1], _folded(parts[-1])])
        if key in installs:
            found[spec.module_path] = installs[key]
    return found


def _collect(project: Project, spec: manifest.PackageSpec) -> Any:
    """``collect`` now, not with what this process listed before the pull ran."""
    from ..core.collect import collect
    from ..scope import reset_caches

    reset_caches()  # the conf listing, links... as they were when the tasks were made
    return collect(project, spec)


@action
def files_action(project: Project, spec: manifest.PackageSpec) -> dict[str, Any]:
    """The calc_dep: the micro-package's files, now that the pull installed them."""
    return {"file_dep": _collect(project, spec).file_dep}


@action
def package_after_pull_action(project: Project, spec: manifest.PackageSpec, max_size: int,
                              wheel: bool) -> dict[str, Any]:
    from ..actions.package import package
    from .package import record

    mp, lines, written = package(project, _collect(project, spec), max_size)
    for line in lines:
        say(line)
    values = record(project, mp.target, written, spec.module_path)  # what publish reads
    targets = [mp.target]
    if wheel:
        from ..actions.wheel import build_wheel, wheel_target
        from ..errors import where

        target = wheel_target(mp.target)
        how, wrote = build_wheel(project.root / mp.target, project.root / target, where("package", spec.module_path))
        say(f"built {target} ({how})")
        values.update(record(project, target, wrote, spec.module_path))
        targets.append(target)
    return {**values, "requires": [[d.module_path, d.name, d.version] for d in mp.requires], "targets": targets}


def sdist_present(task: Any, values: dict[str, Any], project: Project, wheel: bool) -> bool:
    """Up to date only while what the last run wrote is still there, a wheel too if one is asked
    for now (doit checks declared targets itself; these are known once the action ran)."""
    targets = values.get("targets") or []
    return len(targets) == 1 + wheel and all((project.root / t).is_file() for t in targets)


@clean_action
def clean_after_pull_action(project: Project, spec: manifest.PackageSpec, dryrun: bool) -> list[str]:
    """``doit clean``: remove the sdist (and wheel) of the micro-package as it is now, if any."""
    from ..actions.wheel import wheel_target

    try:
        mp = _collect(project, spec)
    except MicropkgError:
        return []  # not pulled yet: nothing was packaged
    lines = []
    for target in (mp.target, wheel_target(mp.target)):
        path = project.root / target
        if path.is_file():
            if not dryrun:
                path.unlink()
            lines.append(f"{'would remove' if dryrun else 'removed'} {target}")
    return lines


def package_after_pull_tasks(project: Project, spec: manifest.PackageSpec, pull_task: str, max_size: int,
                             wheel: bool, uptodate: Any) -> list[dict[str, Any]]:
    module = spec.module_path
    return [
        {
            "name": f"{module}:files",
            "doc": f"collect the files of {project.package_name}.{module} once {pull_task} installed them",
            "actions": [(files_action, [project, spec])],
            "task_dep": [pull_task],
            "uptodate": [False],
            "verbosity": 2,
        },
        {
            "name": module,
            "doc": f"sdist of {project.package_name}.{module}, after {pull_task} installs it",
            "actions": [(package_after_pull_action, [project, spec, max_size, wheel])],
            "task_dep": [pull_task],
            "calc_dep": [f"package:{module}:files"],
            "uptodate": [uptodate, (sdist_present, [project, wheel])],
            "clean": [(clean_after_pull_action, [project, spec])],
            "verbosity": 2,
        },
    ]


@action
def publish_after_pull_action(project: Project, spec: manifest.PackageSpec, dest: manifest.Publish, wheel: bool,
                              limits: manifest.Limits) -> list[str]:
    from ..errors import where
    from ..publish import publish

    mp = _collect(project, spec)
    files = [mp.target]
    if wheel:
        from ..actions.wheel import wheel_target

        files.append(wheel_target(mp.target))
    return publish(project, files, dest, where("publish", spec.module_path), limits)


def publish_after_pull_task(project: Project, spec: manifest.PackageSpec, dest: manifest.Publish, wheel: bool,
                            limits: manifest.Limits) -> dict[str, Any]:
    """Its files are known once the package task ran: it always runs (publishing the same bytes
    again is a no-op)."""
    return {
        "name": spec.module_path,
        "doc": f"upload the sdist of {project.package_name}.{spec.module_path} -> {dest.shown}",
        "actions": [(publish_after_pull_action, [project, spec, dest, wheel, limits])],
        "task_dep": [f"package:{spec.module_path}"],
        "uptodate": [False],
        "verbosity": 2,
    }
