"""``doit package``: one task per manifest entry (or ``--micropkg``), wired from the core."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from doit import task_params

from ..config import manifest
from ..config.project import Project
from ..core.collect import MicroPackage, collect
from ..core.collect import mentioned as mentioned_by
from ..core.imports import PathIndex, mentions
from ..errors import ManifestError
from ..store.scan_cache import MentionCache
from .edge import action, loading, message_task, option
from .edge import project as current_project

PACKAGE_PARAMS = [
    option("micropkg", "module path to package ad hoc, e.g. pipelines.cleaning (instead of the manifest)"),
    option("alias", "name to publish the micro-package under"),
    option("env", "conf/<env> to take parameters from (base)"),
    option("destination", "folder for the sdist, relative to the project (dist)"),
]


@action
def package_action(project: Project, mp: MicroPackage, max_size: int, others: tuple[MicroPackage, ...] = ()) -> list[str]:
    from ..actions.package import package
    from ..core.collect import resolve_imports

    mp, warnings = resolve_imports(project, mp, others)  # self-contained? which micro-packages it imports
    return warnings + package(project, mp, max_size)


def package_tasks(project: Project, specs: list[manifest.PackageSpec]) -> Iterator[dict[str, Any]]:
    from ..core.sdist import FORMAT_VERSION

    max_size = manifest.max_size(project.micropkg, project.table)
    mps = {spec.module_path: collect(project, spec) for spec in specs}
    index = PathIndex(list(mps))
    cache = MentionCache(project.root, project.state_dir, project.package_name)
    scan = functools.partial(mentions, package=project.package_name)
    mentioned = {path: mentioned_by(mp, index, functools.partial(cache.get, scan=scan)) for path, mp in mps.items()}
    cache.save()
    for spec in specs:
        mp = mps[spec.module_path]
        others = tuple(mps[p] for p in _closure(mentioned, spec.module_path))
        file_dep = mp.file_dep + sorted({o.version_file for o in others} - set(mp.file_dep))
        yield {
            "name": spec.module_path,
            "doc": f"sdist of {project.package_name}.{spec.module_path} -> {mp.target}",
            "actions": [(package_action, [project, mp, max_size, others])],
            "file_dep": file_dep,  # and the version files of the micro-packages it may import
            "targets": [mp.target],
            "uptodate": [manifest_config_changed(spec, project, FORMAT_VERSION,
                                                 [(o.spec.module_path, o.name, o.version) for o in others])],
            "clean": True,
            "verbosity": 2,
        }


def _closure(edges: dict[str, tuple[str, ...]], start: str) -> list[str]:
    seen: list[str] = []
    todo = list(edges[start])
    while todo:
        path = todo.pop()
        if path not in seen and path != start:
            seen.append(path)
            todo += edges[path]
    return sorted(seen)


def manifest_config_changed(spec: manifest.PackageSpec, project: Project, format_version: str,
                            requires: list[tuple[str, str, str]] | None = None) -> Any:
    from doit.tools import config_changed

    config: dict[str, Any] = {"spec": spec.as_dict(), "package": project.package_name, "format": format_version}
    if requires:  # entries that import no other micro-package keep their task state as it was
        config["requires"] = requires
    return config_changed(config)


@task_params(PACKAGE_PARAMS)
def task_package(micropkg: str, alias: str, env: str, destination: str) -> Any:
    """Package micro-packages into sdists ([tool.micropkg.package], or --micropkg)."""
    with loading():
        project = current_project()
        if micropkg:
            specs = [manifest.package_spec(micropkg, alias=alias or None, env=env or None,
                                           destination=destination or None)]
        elif alias or env or destination:
            raise ManifestError("package: --alias, --env and --destination need --micropkg <module path>")
        else:
            specs = manifest.package_specs(project.micropkg, project.table)
        if not specs:
            return message_task(task_package.__doc__, "Nothing to package: add entries to "
                                f"[{project.table}.package] in pyproject.toml, or use --micropkg.")
        return (task for task in list(package_tasks(project, specs)))  # errors surface here, at load
