"""doit wiring only: manifest entries -> task dicts. What to do lives in the other modules.

Task creators run on every doit command (list, info, clean...), so they only read
pyproject.toml and walk folders; heavy imports happen inside the actions.
"""
from __future__ import annotations

import os
import sys
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
        _set_aside_if_corrupt(Path(self.relpath))
        return self.relpath

    def __str__(self) -> str:
        return self.relpath

    __repr__ = __str__


def _set_aside_if_corrupt(db: Path) -> None:
    """A database that is not SQLite would stop every doit command with a traceback; move it
    aside instead. doit then runs each task once: packaging rebuilds identical sdists and
    pulls find their files already installed (micropkg.lock), so nothing is lost."""
    try:
        with db.open("rb") as fh:
            header = fh.read(16)
    except FileNotFoundError:
        return
    if header and header != b"SQLite format 3\x00":
        aside = db.with_name(f"{db.name}.corrupt")
        os.replace(db, aside)
        print(f"micropkg: {db} was corrupt; moved it to {aside}. Every task runs once to rebuild it.",
              file=sys.stderr)


DOIT_CONFIG = {
    "backend": "sqlite3",  # the one doit backend that keeps both results of concurrent runs
    "dep_file": StateFile(f"{STATE_DIR}/doit.db"),
    "par_type": "thread",  # doit -n N works with any start method
    "default_tasks": ["package"],
}

def _option(name: str, help: str, long: str | None = None, kind: type = str) -> dict:
    """A doit creator parameter: ``--<long>``, empty (or False) when not given."""
    return {"name": name, "long": long or name, "type": kind, "default": False if kind is bool else "", "help": help}


PACKAGE_PARAMS = [
    _option("micropkg", "module path to package ad hoc, e.g. pipelines.cleaning (instead of the manifest)"),
    _option("alias", "name to publish the micro-package under"),
    _option("env", "conf/<env> to take parameters from (base)"),
    _option("destination", "folder for the sdist, relative to the project (dist)"),
]


def _project() -> Project:
    return load_project(Path.cwd())


def say(message: str) -> None:
    print(message)


def _message_task(doc: str, message: str) -> dict:
    return {"doc": doc, "actions": [(say, [message])], "uptodate": [False], "verbosity": 2}


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


# -- pull ------------------------------------------------------------------------------------

PULL_PARAMS = [
    _option("source", "sdist to pull ad hoc: a path, an fsspec URL or a requirement (write --source=name==1.0)"),
    _option("alias", "name to install the micro-package under"),
    _option("env", "conf/<env> to put parameters in (base)"),
    _option("destination", "location under the project package, e.g. pipelines"),
    _option("fs_args", "YAML file of fsspec storage options (credentials, client_kwargs, headers)", long="fs-args"),
    _option("force", "replace files changed since the last pull (or not installed by a pull)", kind=bool),
]


def _recover(project: Project) -> None:
    """Finish or roll back a pull a crash interrupted, whatever doit command runs next."""
    from .transaction import JOURNAL

    state = project.state_dir
    if (state / JOURNAL).exists() or (state.is_dir() and any(state.glob("tx-*"))):
        from .fsutil import project_lock
        from .transaction import recover

        with project_lock(project.state_dir):
            message = recover(project)
        if message:
            print(f"micropkg: {message}", file=sys.stderr)


def pull_action(project: Project, spec: manifest.PullSpec, force: bool) -> TaskFailed | None:
    from .pull import pull

    try:
        for line in pull(project, spec, force):
            print(line)
    except MicropkgError as exc:
        return TaskFailed(str(exc))
    return None


def unpull_action(project: Project, spec: manifest.PullSpec, dryrun: bool) -> None:
    from .pull import unpull

    try:
        for line in unpull(project, spec.source, dryrun):
            print(line)
    except MicropkgError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)


def pulled(project: Project, spec: manifest.PullSpec) -> bool:
    from .pull import is_installed

    return is_installed(project, spec)


def compile_action(project: Project, command: list[str]):
    from .fsutil import sha256_file
    from .requirements import run_compile

    source = project.root / "requirements.in"
    if not source.is_file():
        print("no requirements.in: nothing to compile")
        return {"in_sha": None}
    try:
        run_compile(command, project.root)
    except MicropkgError as exc:
        return TaskFailed(str(exc))
    print("compiled requirements.in -> requirements.txt")
    return {"in_sha": sha256_file(source)}


def requirements_compiled(task, values, project: Project) -> bool:
    """Up to date when requirements.in is what was last compiled (or there is none)."""
    from .fsutil import sha256_file

    source = project.root / "requirements.in"
    if not source.is_file():
        return True
    return (project.root / "requirements.txt").is_file() and values.get("in_sha") == sha256_file(source)


def task_name(source: str) -> str:
    """doit forbids '=' in task names; requirements such as 'x==1' keep a readable name."""
    return source.replace("=", "%3D")


def pull_tasks(project: Project, specs: list[manifest.PullSpec], force: bool, command: list[str] | None):
    names = []
    for spec in specs:
        file_dep = []
        if manifest.source_kind(spec.source, project.root) == "path" and (project.root / spec.source).is_file():
            file_dep.append(spec.source)
        if spec.fs_args and (project.root / spec.fs_args).is_file():
            file_dep.append(spec.fs_args)
        where = f"{spec.destination}/" if spec.destination else ""
        names.append(f"pull:{task_name(spec.source)}")
        yield {
            "name": task_name(spec.source),
            "doc": f"pull {spec.source} into {project.package_name}/{where}{spec.alias or '<its name>'}",
            "actions": [(pull_action, [project, spec, force])],
            "file_dep": file_dep,
            "uptodate": [config_changed(spec.as_dict()), (pulled, [project, spec]), not force],
            "clean": [(unpull_action, [project, spec])],
            "verbosity": 2,
        }
    if command:
        yield {
            "name": manifest.COMPILE_TASK,
            "doc": f"compile requirements.in -> requirements.txt ({command[0] if command[0] != sys.executable else 'pip-compile'})",
            "actions": [(compile_action, [project, command])],
            "task_dep": names,
            "uptodate": [(requirements_compiled, [project])],
            "verbosity": 2,
        }


@task_params(PULL_PARAMS)
def task_pull(source: str, alias: str, env: str, destination: str, fs_args: str, force: bool):
    """Pull micro-packages into the project ([tool.kedro.micropkg.pull], or --source), then pip-compile."""
    from .requirements import compile_command

    try:
        project = _project()
        _recover(project)
        if source:
            specs = [manifest.pull_spec(source, alias=alias or None, env=env or None,
                                        destination=destination or None, fs_args=fs_args or None)]
        elif alias or env or destination or fs_args:
            raise MicropkgError("pull: --alias, --env, --destination and --fs-args need --source <path|url|requirement>")
        else:
            specs = manifest.pull_specs(project.micropkg)
        if not specs:
            return _message_task(task_pull.__doc__, "Nothing to pull: add entries to "
                                 "[tool.kedro.micropkg.pull] in pyproject.toml, or use --source.")
        command = compile_command(project.micropkg.get("compile"))
        return (task for task in list(pull_tasks(project, specs, force, command)))
    except MicropkgError as exc:
        raise InvalidDodoFile(str(exc)) from None
