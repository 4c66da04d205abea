"""``doit pull`` (one task per source, then ``pull:pip-compile``) and ``doit unpull``."""
from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from typing import Any

from doit import task_params

from ..config import manifest
from ..config.fs_args import fs_args_path
from ..config.project import Project
from ..credentials import redact
from ..errors import ManifestError, one_line
from .edge import action, clean_action, current_workspace, loading, message_task, option, redacted
from .edge import project as current_project

PULL_PARAMS = [
    option("source", "sdist to pull ad hoc: a path, an fsspec URL or a requirement (write --source=name==1.0)"),
    option("alias", "name to install the micro-package under"),
    option("env", "conf/<env> to put parameters in (base)"),
    option("destination", "location under the project package, e.g. pipelines"),
    option("fs_args", "YAML file of fsspec storage options (credentials, client_kwargs, headers): "
           "relative to the project, absolute or ~/...", long="fs-args"),
    option("force", "replace files changed since the last pull (or not installed by a pull); restore those you deleted. "
           "Aimed at one entry: --force --source=<its source in the manifest>", kind=bool),
    option("merge", "--merge=markers: where your edits conflict with the new version, write git-style "
           "conflict markers instead of stopping"),
]
UNPULL_PARAMS = [
    option("module", "installed module path to remove, e.g. pipelines.tidy (see micropkg.lock)"),
    option("with_dependents", "also remove the pulled micro-packages that import it (else unpull refuses, naming "
           "them)", long="with-dependents", kind=bool),
]


def recover(project: Project) -> None:
    """Finish or roll back a pull a crash interrupted, whatever doit command runs next."""
    from ..store.state import recover_if_interrupted

    message = recover_if_interrupted(project)
    if message:
        print(f"micropkg: {message}", file=sys.stderr)


@action
def pull_action(project: Project, spec: manifest.PullSpec, force: bool, limits: manifest.Limits,
                merge: str = "") -> list[str]:
    from ..actions.pull import pull

    return pull(project, spec, force, limits, merge)


@clean_action
def unpull_spec_action(project: Project, spec: manifest.PullSpec, dryrun: bool) -> list[str]:
    from ..actions.pull import unpull_spec

    return unpull_spec(project, spec, dryrun)


@action
def unpull_action(project: Project, module: str, with_dependents: bool = False) -> list[str]:
    from ..actions.pull import unpull

    return unpull(project, module, with_dependents=with_dependents)


def pulled(project: Project, spec: manifest.PullSpec) -> bool:
    from ..actions.pull import is_installed

    return is_installed(project, spec)


class Pulled:
    """A pull task's uptodate check: its install is recorded. ``doit info`` prints uptodate
    checks: this one by its source, credentials hidden."""

    def __init__(self, project: Project, spec: manifest.PullSpec) -> None:
        self.project, self.spec = project, spec

    def __call__(self) -> bool:
        return pulled(self.project, self.spec)

    def __repr__(self) -> str:
        return f"pulled({redact(self.spec.source)!r})"


@action
def compile_action(project: Project, command: list[str]) -> dict[str, Any]:
    from ..actions.compile import compile_requirements

    return compile_requirements(project, command)


def requirements_compiled(task: Any, values: dict[str, Any], project: Project) -> bool:
    """Up to date when requirements.in is what was last compiled (or there is none)."""
    from ..store.files import sha256_file

    source = project.requirements_in
    if not source.is_file():
        return True
    return project.requirements_txt.is_file() and values.get("in_sha") == sha256_file(source)


#: What doit reads specially in a task name typed on its command line: ``=`` makes the word a
#: variable assignment (and doit forbids it in task names), ``*`` a wildcard.
DOIT_SPECIAL = {"=": "%3D", "*": "%2A"}


def task_name(source: str, kind: str = "path") -> str:
    """The name of a source's pull task (after ``pull:``): one a user reads in ``doit list`` and
    types back to ``clean``, ``forget`` or ``info``. A requirement is named by its project name
    alone (``cleaning>=0.3`` -> ``cleaning``: doit would read ``=`` as a variable assignment);
    paths and URLs as written (a URL's credentials left out: ``pull:https://host/x.tar.gz``), with
    the few characters doit reads specially percent-encoded."""
    if kind == "index":
        match = REQUIREMENT_NAME.match(source)
        if match:
            return match.group(0)
    # no credentials in a name: user-info left out, a secret query value reads "redacted" ("***" would be
    # percent-encoded: doit reads "*" as a wildcard)
    source = redact(source).replace("://***@", "://").replace("***", "redacted")
    for char, code in DOIT_SPECIAL.items():
        source = source.replace(char, code)
    return source


REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def task_names(specs: list[manifest.PullSpec]) -> list[str]:
    """Each spec's task name. Two requirements of the same project (say, pulled under two aliases)
    are told apart by where they install: ``cleaning@pipelines/tidy``; two specs that would still
    share a name are a manifest error."""
    names = [task_name(spec.source, spec.kind) for spec in specs]
    shared = {n for n in names if names.count(n) > 1 or n == manifest.COMPILE_TASK}
    for i, spec in enumerate(specs):
        if names[i] in shared and spec.kind == "index":
            names[i] += "@" + "/".join(filter(None, [spec.destination, spec.alias or names[i].replace("-", "_")]))
    for i, name in enumerate(names):
        if name in names[:i] or name == manifest.COMPILE_TASK:
            other = specs[names.index(name)].source if name in names[:i] else manifest.COMPILE_TASK
            raise ManifestError(f"pull: {one_line(specs[i].source, 80)} and {one_line(other, 80)} would both be the "
                                f"task pull:{one_line(name, 80)}; give one an alias or another destination")
    return names


def misread_task(variables: dict[str, str], known: list[str]) -> str | None:
    """The one-line refusal of a task name that doit read as a variable (``name=value``: any
    word holding ``=``), or None. ``doit clean "pull:reporting==0.1"`` would otherwise clean the
    default tasks (every sdist). ``known``: the pull task names (after ``pull:``) of this command."""
    for name, value in variables.items():
        if ":" not in name:
            continue
        word = f"{name}={value}"
        basename, _, source = word.partition(":")
        right = ""
        if basename == "pull" and source:
            kind = manifest.source_kind(source)
            guess = task_name(source, kind)
            matches = [k for k in known if k == guess or k.startswith(f"{guess}@")]
            right = f": the task is {' or '.join(f'pull:{m}' for m in matches) or f'pull:{guess}'}"
        return (f"{one_line(word, 80)} holds '=', which doit reads as a variable assignment, not a task name{right} "
                "(doit list --all shows every task name)")
    return None


def pull_tasks(project: Project, specs: list[manifest.PullSpec], force: bool,
               command: list[str] | None, limits: manifest.Limits, merge: str = "") -> Iterator[dict[str, Any]]:
    from doit.tools import config_changed

    names = []
    for spec, name in zip(specs, task_names(specs)):
        file_dep = []
        for dep in ([spec.source] if spec.kind == "path" else []) + ([spec.fs_args] if spec.fs_args else []):
            path = fs_args_path(project.root, dep)
            if path.is_file():
                file_dep.append(project.shown(path))
        into = f"{spec.destination}/" if spec.destination else ""
        names.append(f"pull:{name}")
        yield {
            "name": name,
            "doc": f"pull {redact(spec.source)} into {project.package_name}/{into}{spec.alias or '<its name>'}",
            "actions": [(pull_action, [project, spec, force, limits, merge])],
            "file_dep": file_dep,
            "uptodate": [config_changed(redacted(spec.as_dict())), Pulled(project, spec), not force],
            "clean": [(unpull_spec_action, [project, spec])],
            "verbosity": 2,
        }
    if command:
        shown = "pip-compile" if command[0] == sys.executable else command[0]
        yield {
            "name": manifest.COMPILE_TASK,
            "doc": f"compile requirements.in -> requirements.txt ({shown})",
            "actions": [(compile_action, [project, command])],
            "task_dep": names,
            "uptodate": [config_changed({"compile": command}), (requirements_compiled, [project])],  # a new compiler reruns
            "verbosity": 2,
        }


@task_params(PULL_PARAMS)
def task_pull(source: str, alias: str, env: str, destination: str, fs_args: str, force: bool, merge: str) -> Any:
    """Pull micro-packages into the project ([tool.micropkg.pull], or --source), then pip-compile."""
    with loading():
        unknown_merge = merge not in ("", "markers")
        ws = current_workspace()
        if ws is not None and not unknown_merge:  # every member's pulls, after the members they pull from
            from . import workspace

            workspace.refuse_ad_hoc("pull", bool(source or alias or env or destination or fs_args))
            return workspace.eager(workspace.pull_family(ws, force, merge))
        if ws is None:
            project = current_project()
            recover(project)
        if unknown_merge:
            raise ManifestError(f"pull: --merge={one_line(merge, 60)} is not known; --merge=markers writes conflict markers")
        plain = source and not (alias or env or destination or fs_args)
        entry = project.manifest.pull_entry(source.strip()) if plain else None
        if entry:
            specs = [entry]  # --source=<a manifest entry's source>: that entry, as the manifest says
        elif source:
            specs = [manifest.pull_spec(source, alias=alias or None, env=env or None,
                                        destination=destination or None, fs_args=fs_args or None,
                                        index=project.manifest.index_for(source))]
        elif alias or env or destination or fs_args:
            raise ManifestError("pull: --alias, --env, --destination and --fs-args need --source <path|url|requirement>")
        else:
            specs = list(project.manifest.pulls)
            if force and len(specs) > 1:
                raise ManifestError(f"pull: --force replaces your edits, so it takes one entry: doit pull --force "
                                    f"--source=<one of {', '.join(one_line(s.source, 80) for s in specs[:8])}"
                                    f"{', ...' if len(specs) > 8 else ''}>; nothing was changed")
        if not specs:
            return message_task(task_pull.__doc__, "Nothing to pull: add entries to "
                                f"[{project.table}.pull] in pyproject.toml, or use --source.")
        command = None if project.manifest.compile is None else list(project.manifest.compile)
        limits = project.manifest.limits
        return (task for task in list(pull_tasks(project, specs, force, command, limits, merge)))


@task_params(UNPULL_PARAMS)
def task_unpull(module: str, with_dependents: bool) -> Any:
    """Remove a pulled micro-package by its installed module path (--module) and its manifest entry; edited files are kept."""
    with loading():
        ws = current_workspace()
        if ws is not None:
            from . import workspace

            if not module:  # `doit unpull` is not asked for: nothing to say
                return None
            workspace.refuse_ad_hoc("unpull", True)
        project = current_project()
        return {"doc": task_unpull.__doc__, "actions": [(unpull_action, [project, module, with_dependents])],
                "uptodate": [False], "verbosity": 2}

