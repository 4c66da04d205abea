"""``doit publish``: one ``publish:<module path>`` per package entry, after its ``package:`` task,
uploading its sdist (and wheel, with ``[tool.micropkg] wheel``) to ``[tool.micropkg] publish``
or ``--to``. Creating the tasks reads pyproject.toml and walks folders only: no network."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from doit import task_params

from ..config import manifest
from ..config.project import Project
from ..credentials import redact
from .edge import action, loading, message_task, option, redacted
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


def publish_tasks(project: Project, specs: list[manifest.PackageSpec], dest: manifest.Publish,
                  wheel: bool) -> Iterator[dict[str, Any]]:
    from doit.tools import config_changed

    from ..errors import where

    limits = project.manifest.limits
    for spec in specs:
        mp = collected(project, spec)
        files = [mp.target]
        if wheel:
            from ..actions.wheel import wheel_target

            files.append(wheel_target(mp.target))
        yield {
            "name": spec.module_path,
            "doc": redact(f"upload {' + '.join(files)} -> {dest.shown}"),
            "actions": [(publish_action, [project, files, dest, where("publish", spec.module_path), limits])],
            "file_dep": files,
            "task_dep": [f"package:{spec.module_path}"],
            "uptodate": [config_changed(redacted({"to": [dest.url, dest.repository, dest.simple, dest.fs_args]}))],
            "verbosity": 2,
        }


@task_params(PUBLISH_PARAMS)
def task_publish(to: str) -> Any:
    """Upload built micro-packages to [tool.micropkg] publish (or --to); a published version is never replaced."""
    with loading():
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
