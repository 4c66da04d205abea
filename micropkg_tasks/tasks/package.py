"""``doit package``: one task per manifest entry (or ``--micropkg``), wired from the core."""
from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from doit import task_params
from doit.tools import config_changed

from ..config import manifest
from ..config.project import Project
from ..core.collect import MicroPackage, collect
from ..errors import ManifestError
from ..scope import command_dict
from .edge import action, current_workspace, loading, message_task, option, say
from .edge import project as current_project

PACKAGE_PARAMS = [
    option("micropkg", "module path to package ad hoc, e.g. pipelines.cleaning (instead of the manifest)"),
    option("alias", "name to publish the micro-package under"),
    option("env", "conf/<env> to take parameters from (base)"),
    option("destination", "folder for the sdist: relative to the project (dist), or absolute"),
    option("wheel", "also build a wheel of each sdist with pypa's build ([tool.micropkg] wheel)", kind=bool),
    {**option("allow", "with --micropkg: a project module outside any micro-package it may import, e.g. "
              "acme.utils (the manifest's allow); repeat it, or separate names with commas"), "type": list,
     "default": []},
]


@action
def package_action(project: Project, mp: MicroPackage, max_size: int) -> dict[str, Any]:
    from ..actions.package import package

    mp, lines, written = package(project, mp, max_size)
    for line in lines:
        say(line)
    return {"requires": [[d.module_path, d.name, d.version] for d in mp.requires],
            **record(project, mp.target, written, mp.spec.module_path)}


def record(project: Project, target: str, written: Any, module_path: str) -> dict[str, Any]:
    """Keep what was written (``store.outputs``): the values the task saves, and the record
    publish reads."""
    from ..errors import PackageError, one_line, where
    from ..store.outputs import save

    try:
        return save(project.root, target, written)
    except OSError as exc:
        raise PackageError(f"{where('package', module_path)}: cannot record {one_line(target)} in "
                           f"{project.state_dir.name}/ ({exc.strerror})") from None


def requires_unchanged(task: Any, values: dict[str, Any], project: Project, versions: dict[str, list[str]]) -> bool:
    """Up to date while the micro-packages it imported when last packaged keep their published
    name and version (what it reads of them: their version files, their alias). Found when the
    action ran, so creating tasks (``doit list``) scans no file."""
    from ..core.collect import manifest_index
    from ..errors import MicropkgError

    for path, name, version in values.get("requires") or ():
        now = versions.get(path)
        if now is None:  # --micropkg: the manifest's entry
            try:
                spec = manifest_index(project)[0].get(path)
                found = collect(project, spec) if spec else None
            except MicropkgError:
                found = None
            now = [found.name, found.version] if found else None
        if now != [name, version]:
            return False
    return True


@action
def wheel_action(project: Project, mp: MicroPackage, target: str) -> dict[str, Any]:
    from ..actions.wheel import build_wheel
    from ..errors import where

    how, written = build_wheel(project.root / mp.target, project.root / target, where("package", mp.spec.module_path))
    say(f"built {target} ({how})")
    return record(project, target, written, mp.spec.module_path)


def collected(project: Project, spec: manifest.PackageSpec) -> MicroPackage:
    """``collect``, once per doit command for each spec (package and publish both need it)."""
    key = (project, spec)
    if key not in _collected:
        _collected[key] = collect(project, spec)
    return _collected[key]


_collected: dict[tuple[Project, manifest.PackageSpec], MicroPackage] = command_dict()


def package_tasks(project: Project, specs: list[manifest.PackageSpec], wheel: bool = False) -> Iterator[dict[str, Any]]:
    from ..core.sdist import FORMAT_VERSION
    from .after_pull import installing_pulls, package_after_pull_tasks

    max_size = project.manifest.limits.max_size
    after_pull = installing_pulls(project, specs)  # their folders may not be there yet
    mps = [collected(project, spec) for spec in specs if spec.module_path not in after_pull]
    versions = {mp.spec.module_path: [mp.name, mp.version] for mp in mps}
    for spec in specs:
        if spec.module_path in after_pull:
            uptodate = PackageUptodate(spec, project, FORMAT_VERSION, versions, [])  # outputs: sdist_present
            yield from package_after_pull_tasks(project, spec, after_pull[spec.module_path], max_size, wheel, uptodate)
    for mp in mps:
        spec = mp.spec
        wheels = []
        if wheel:
            from ..actions.wheel import wheel_target

            wheels = [wheel_target(mp.target)]
        yield {
            "name": spec.module_path,
            "doc": f"sdist of {project.package_name}.{spec.module_path} -> {mp.target}" + "".join(f" + {w}" for w in wheels),
            "actions": [(package_action, [project, mp, max_size])] + [(wheel_action, [project, mp, w]) for w in wheels],
            "file_dep": mp.file_dep,
            "targets": [mp.target, *wheels],
            "uptodate": [PackageUptodate(spec, project, FORMAT_VERSION, versions, [mp.target, *wheels])],
            "clean": True,
            "verbosity": 2,
        }


class PackageUptodate(config_changed):  # type: ignore[misc]  # doit's class carries no types
    """A package task is up to date while its entry, the project package and the sdist format are
    what they were (doit's config_changed), the micro-packages it imported keep their name and
    version (``requires_unchanged``), and its outputs are the files it wrote (doit only asks
    that a target exists): one ``lstat`` each and of its record, hashed only when the stamp
    moved (``store.outputs.intact``). One callable, its signature given: doit inspects every
    uptodate callable of every task on every command, which cost more than the checks."""

    __signature__ = inspect.Signature([inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                       for name in ("task", "values")])

    def __init__(self, spec: manifest.PackageSpec, project: Project, format_version: str,
                 versions: dict[str, list[str]], outputs: list[str]) -> None:
        super().__init__({"spec": spec.as_dict(), "package": project.package_name, "format": format_version})
        self.project, self.versions, self.outputs = project, versions, outputs

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        from ..store.outputs import intact

        root = str(self.project.root)
        return (bool(super().__call__(task, values))
                and requires_unchanged(task, values, self.project, self.versions)
                and all(intact(root, out, values) for out in self.outputs))


@task_params(PACKAGE_PARAMS)
def task_package(micropkg: str, alias: str, env: str, destination: str, wheel: bool, allow: list[str]) -> Any:
    """Package micro-packages into sdists ([tool.micropkg.package], or --micropkg)."""
    with loading():
        ws = current_workspace()
        if ws is not None:  # every member's package tasks, one graph
            from . import workspace

            workspace.refuse_ad_hoc("package", bool(micropkg or alias or env or destination))
            return workspace.eager(workspace.package_family(ws, wheel))
        project = current_project()
        allowed = [name.strip() for value in allow for name in value.split(",") if name.strip()]
        if micropkg:
            specs = [manifest.package_spec(micropkg, alias=alias or None, env=env or None,
                                           destination=destination or None, allow=allowed or None)]
        elif alias or env or destination or allowed:
            raise ManifestError("package: --alias, --env, --destination and --allow need --micropkg <module path>")
        else:
            specs = list(project.manifest.packages)
        if not specs:
            return message_task(task_package.__doc__, "Nothing to package: add entries to "
                                f"[{project.table}.package] in pyproject.toml, or use --micropkg.")
        wheel = wheel or project.manifest.wheel
        return (task for task in list(package_tasks(project, specs, wheel)))  # errors surface here, at load
