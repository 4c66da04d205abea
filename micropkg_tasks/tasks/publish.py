"""``doit publish``: one ``publish:<module path>`` per package entry, after its ``package:`` task,
uploading its sdist (and wheel, with ``[tool.micropkg] wheel``) to ``[tool.micropkg] publish``
or ``--to``. Creating the tasks reads pyproject.toml and walks folders only: no network.

A publish task depends on its package task through doit's implicit dependency (its file_dep is
that task's target), not a named task_dep: ``doit package --micropkg x`` makes only the ad hoc
package task, and a named dependency on a manifest task that does not exist in that run stopped
every command. It is up to date only while its files are unchanged and one listing of the
registry still shows them (a registry that lost a file is published to again)."""
from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from doit import task_params
from doit.tools import config_changed

from ..config import manifest
from ..config.project import Project
from ..credentials import redact
from .edge import action, current_workspace, loading, message_task, option, redacted
from .edge import project as current_project
from .package import collected

PUBLISH_PARAMS = [
    option("to", "where to upload ad hoc (instead of [tool.micropkg] publish): a folder, an fsspec URL "
           "such as s3://bucket/micropkgs/, or a package index upload URL"),
]


@action
def publish_action(project: Project, files: list[str], dest: manifest.Publish, label: str,
                   limits: manifest.Limits) -> list[str]:
    from ..publish import publish

    return publish(project, files, dest, label, limits)


class PublishUptodate(config_changed):  # type: ignore[misc]  # doit's class carries no types
    """Up to date while the destination is the same (doit's config_changed) and the registry,
    asked with one listing, holds every file as packaging recorded it (``publish.held``)."""

    __signature__ = inspect.Signature([inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                       for name in ("task", "values")])

    def __init__(self, project: Project, files: list[str], dest: manifest.Publish, label: str,
                 limits: manifest.Limits) -> None:
        super().__init__(redacted({"to": [dest.url, dest.repository, dest.simple, dest.fs_args]}))  # doit info shows it
        self.args = project, files, dest, label, limits

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        from ..publish import held

        return bool(super().__call__(task, values)) and held(*self.args)


def publish_tasks(project: Project, specs: list[manifest.PackageSpec], dest: manifest.Publish,
                  wheel: bool) -> Iterator[dict[str, Any]]:
    from ..errors import where
    from .after_pull import installing_pulls, publish_after_pull_task

    limits = project.manifest.limits
    after_pull = installing_pulls(project, specs)
    for spec in specs:
        if spec.module_path in after_pull:  # its sdist's name is known once the pull ran
            yield publish_after_pull_task(project, spec, dest, wheel, limits)
            continue
        mp = collected(project, spec)
        files = [mp.target]
        if wheel:
            from ..actions.wheel import wheel_target

            files.append(wheel_target(mp.target))
        label = where("publish", spec.module_path)
        yield {
            "name": spec.module_path,
            "doc": redact(f"upload {' + '.join(files)} -> {dest.shown}"),
            "actions": [(publish_action, [project, files, dest, label, limits])],
            "file_dep": files,  # targets of package:<module path>: doit runs it first when it exists
            "uptodate": [PublishUptodate(project, files, dest, label, limits)],
            "verbosity": 2,
        }


@task_params(PUBLISH_PARAMS)
def task_publish(to: str) -> Any:
    """Upload built micro-packages to [tool.micropkg] publish (or --to); a published version is never replaced."""
    with loading():
        ws = current_workspace()
        if ws is not None:
            from . import workspace

            return workspace.eager(workspace.publish_family(ws, lambda project, skip: _member_publish(project, to, skip),
                                                      str(task_publish.__doc__)))
        project = current_project()
        dest = (manifest.publish_destination(to, project.table, where="publish --to") if to
                else project.manifest.publish)
        if dest is None:
            return message_task(task_publish.__doc__, f"Nowhere to publish: set [{project.table}] publish = "
                                "\"s3://bucket/micropkgs/\" (a folder, bucket or index upload URL), or use --to.")
        specs = list(project.manifest.packages)
        if not specs:
            return message_task(task_publish.__doc__, f"Nothing to publish: add entries to [{project.table}.package].")
        wheel = project.manifest.wheel
        return (task for task in list(publish_tasks(project, specs, dest, wheel)))


def _member_publish(project: Project, to: str, skip: set[str]) -> list[dict[str, Any]]:
    """A workspace member's publish tasks: none when it publishes nowhere or packages nothing."""
    dest = (manifest.publish_destination(to, project.table, where="publish --to") if to
            else project.manifest.publish)
    specs = [spec for spec in project.manifest.packages if spec.module_path not in skip]
    if dest is None or not specs:
        return []
    return list(publish_tasks(project, specs, dest, project.manifest.wheel))
