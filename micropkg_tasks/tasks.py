"""doit wiring only: manifest entries -> task dicts. What to do lives in the other modules.

Task creators run on every doit command (list, info, clean...), so they only read
pyproject.toml and walk folders; heavy imports happen inside the actions.
"""
from __future__ import annotations

import os
from pathlib import Path

from doit import task_params
from doit.exceptions import InvalidDodoFile, TaskFailed
from doit.tools import config_changed

from . import manifest
from .collect import collect
from .errors import MicropkgError
from .project import STATE_DIR, Project, load_project

class StateFile(os.PathLike):
    """doit's database path, relative to the project root. doit opens it before any task
    creator runs, so the folder is made the moment the path is used, not when imported."""

    def __init__(self, relpath: str) -> None:
        self.relpath = relpath

    def __fspath__(self) -> str:
        state = Path(self.relpath).parent
        if not state.is_dir():
            state.mkdir(parents=True, exist_ok=True)
            (state / ".gitignore").write_text("*\n")
        return self.relpath

    def __str__(self) -> str:
        return self.relpath

    __repr__ = __str__


DOIT_CONFIG = {
    "backend": "sqlite3",  # the one doit backend that keeps both results of concurrent runs
    "dep_file": StateFile(f"{STATE_DIR}/doit.db"),
    "par_type": "thread",  # doit -n N works with any start method
    "default_tasks": ["package"],
}

PACKAGE_PARAMS = [
    {"name": "micropkg", "long": "micropkg", "type": str, "default": "",
     "help": "module path to package ad hoc, e.g. pipelines.cleaning (instead of the manifest)"},
    {"name": "alias", "long": "alias", "type": str, "default": "", "help": "name to publish the micro-package under"},
    {"name": "env", "long": "env", "type": str, "default": "", "help": "conf/<env> to take parameters from (base)"},
    {"name": "destination", "long": "destination", "type": str, "default": "",
     "help": "folder for the sdist, relative to the project (dist)"},
]


def _project() -> Project:
    return load_project(Path.cwd())


def _message_task(doc: str, message: str) -> dict:
    return {"doc": doc, "actions": [(print, [message])], "uptodate": [False], "verbosity": 2}


def package_action(project: Project, mp) -> TaskFailed | None:
    """Write one sdist (module-level so doit can show and run it as a plain python-action)."""
    from .sdist import plan_sdist, write_sdist

    try:
        write_sdist(plan_sdist(project, mp), project.root / mp.target)
    except MicropkgError as exc:
        return TaskFailed(str(exc))
    shown = f" as {mp.spec.alias!r}" if mp.spec.alias else ""
    print(f"packaged '{project.package_name}.{mp.spec.module_path}'{shown} -> {mp.target}")
    return None


def package_tasks(project: Project, specs: list[manifest.PackageSpec]):
    from .sdist import FORMAT_VERSION

    for spec in specs:
        mp = collect(project, spec)
        yield {
            "name": spec.module_path,
            "doc": f"sdist of {project.package_name}.{spec.module_path} -> {mp.target}",
            "actions": [(package_action, [project, mp])],
            "file_dep": mp.file_dep,
            "targets": [mp.target],
            "uptodate": [config_changed({"spec": spec.as_dict(), "package": project.package_name,
                                         "format": FORMAT_VERSION})],
            "clean": True,
            "verbosity": 2,
        }


@task_params(PACKAGE_PARAMS)
def task_package(micropkg: str, alias: str, env: str, destination: str):
    """Package micro-packages into sdists ([tool.kedro.micropkg.package], or --micropkg)."""
    try:
        project = _project()
        if micropkg:
            specs = [manifest.package_spec(micropkg, alias=alias or None, env=env or None,
                                           destination=destination or None)]
        elif alias or env or destination:
            raise MicropkgError("package: --alias, --env and --destination need --micropkg <module path>")
        else:
            specs = manifest.package_specs(project.micropkg)
        if not specs:
            return _message_task(task_package.__doc__, "Nothing to package: add entries to "
                                 "[tool.kedro.micropkg.package] in pyproject.toml, or use --micropkg.")
        return (task for task in list(package_tasks(project, specs)))  # errors surface here, at load
    except MicropkgError as exc:
        raise InvalidDodoFile(str(exc)) from None
