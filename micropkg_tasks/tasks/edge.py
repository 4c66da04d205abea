"""The one place where our errors become doit's: task creators raise InvalidDodoFile (doit
prints one ``ERROR:`` line and exits 3), python-actions return TaskFailed (exit 1). Every
message and line printed here passes through ``credentials.redact``: no credential is shown."""
from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from doit.exceptions import InvalidDodoFile, TaskFailed

from ..config.project import LegacyManifestError, Project, load_project
from ..credentials import redact
from ..errors import MicropkgError
from ..scope import command_dict, enter


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Around a task creator: a MicropkgError becomes doit's one-line load error, and so does a
    task name doit misread as a variable assignment (checked before any task is made)."""
    try:
        refuse_misread_task_names()
        yield
    except MicropkgError as exc:
        raise InvalidDodoFile(redact(str(exc))) from None


def refuse_misread_task_names() -> None:
    """doit reads any word holding ``=`` as a variable (``doit clean "pull:x==1"`` sets ``pull:x``
    and cleans the default tasks): a variable named like a task is refused, naming the task."""
    from doit import doit_cmd

    variables = getattr(doit_cmd, "_CMDLINE_VARS", None) or {}
    if not any(":" in name for name in variables):
        return
    from .pull import misread_task, task_names

    try:
        known = task_names(list(project().manifest.pulls))
    except MicropkgError:
        known = []
    message = misread_task(dict(variables), known)
    if message:
        raise InvalidDodoFile(message)


def action(func: Callable[..., Any]) -> Callable[..., Any]:
    """A python-action: prints the lines ``func`` returns (a dict is doit's saved values),
    and a MicropkgError becomes a failed task with its one line."""
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = func(*args, **kwargs)
        except MicropkgError as exc:
            return TaskFailed(redact(str(exc)))
        if isinstance(result, dict):
            return result
        for line in result or ():
            say(line)
        return None
    return run


def clean_action(func: Callable[..., Any]) -> Callable[..., Any]:
    """A ``doit clean`` action: doit ignores their results and hides their stderr, so a
    MicropkgError is printed to stdout."""
    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            for line in func(*args, **kwargs) or ():
                print(redact(line))
        except MicropkgError as exc:
            print(redact(f"ERROR: {exc}"))  # doit clean shows an action's stdout only
    return run


def running(command: str) -> bool:
    """Whether this doit process was asked to run ``command`` (doit loads every task creator
    whatever the command; a creator uses this to stay quiet for another command's sake)."""
    return command in sys.argv[1:]


def project() -> Project:
    """The project in the current folder (doit runs from the dodo file's folder), read once per
    doit command whatever the number of task creators. A legacy manifest in a Kedro 1.x project
    stops every command but ``doit migrate``.

    Every task creator calls this first: it is where a command starts, so it begins the
    command's cache scope (``scope.enter`` with doit's per-command dependency manager): a second
    command in the same process (the Kedro plugin's calls) sees the project as it is now."""
    from doit.globals import Globals

    enter(Globals.dep_manager)
    root = Path.cwd()
    try:
        stamp = (root / "pyproject.toml").stat()
        key = (str(root), stamp.st_mtime_ns, stamp.st_size, stamp.st_ino)
    except OSError:
        key = None
    if key is not None and _loaded.get("key") == key:
        return _loaded["project"]  # type: ignore[no-any-return]
    try:
        loaded = load_project(root)
    except LegacyManifestError:
        if not running("migrate"):
            raise
        loaded = load_project(root, allow_legacy=True)
    _loaded.update(key=key, project=loaded)
    return loaded


_loaded: dict[str, Any] = command_dict()


def current_workspace() -> Any:
    """The workspace rooted in the current folder (``[tool.micropkg.workspace]``), or None. A
    project pays one stat of pyproject.toml per command (and one read of its bytes): the
    workspace modules are imported only when those bytes mention ``workspace``."""
    path = Path.cwd() / "pyproject.toml"
    try:
        stamp = path.stat()
    except OSError:
        return None
    key = (str(path), stamp.st_mtime_ns, stamp.st_size, stamp.st_ino)
    if _probe.get("key") != key:
        try:
            maybe = b"workspace" in path.read_bytes()
        except OSError:
            maybe = False
        _probe.update(key=key, maybe=maybe)
    if not _probe["maybe"]:
        return None
    from .workspace import current

    return current()


_probe: dict[str, Any] = command_dict()


def option(name: str, help: str, long: str | None = None, kind: type = str, short: str = "") -> dict[str, Any]:
    """A doit creator parameter: ``--<long>``, empty (or False) when not given."""
    opt: dict[str, Any] = {"name": name, "long": long or name, "type": kind,
                           "default": False if kind is bool else "", "help": help}
    if short:
        opt["short"] = short
    return opt


def redacted(value: Any) -> Any:
    """A task's configuration for ``config_changed``, credentials hidden: ``doit info`` prints
    it (a new token alone does not make a pull stale; any other change does)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted(item) for item in value]
    return value


def say(message: str) -> None:
    """One line in one flushed write: lines of tasks running at once in ``doit -n N`` worker
    processes never split or merge (print() writes the text and the newline separately)."""
    sys.stdout.write(f"{redact(message)}\n")
    sys.stdout.flush()


def warn(message: str) -> None:
    """One line on stderr, credentials hidden."""
    sys.stderr.write(f"{redact(message)}\n")


def message_task(doc: str | None, message: str) -> dict[str, Any]:
    return {"doc": doc, "actions": [(say, [message])], "uptodate": [False], "verbosity": 2}
