"""``doit migrate``: the legacy manifest table moves to ``[tool.micropkg]`` (Kedro 1.x)."""
from __future__ import annotations

from typing import Any

from doit import task_params

from ..config.project import Project
from .edge import action, current_workspace, loading, option
from .edge import project as current_project


@action
def migrate_action(project: Project, dry_run: bool) -> list[str]:
    from ..config.migrate import migrate_text, unified_diff
    from ..store.files import rewrite_user_file

    path = project.root / "pyproject.toml"
    before = path.read_bytes().decode("utf-8")  # not read_text: it would turn CRLF into LF
    after = migrate_text(before)
    if after == before:
        return ["pyproject.toml has no [tool.kedro.micropkg] table: nothing to migrate"]
    if dry_run:
        return [unified_diff(before, after).rstrip("\n"), "(dry run: pyproject.toml was not changed)"]
    rewrite_user_file(path, after.encode("utf-8"), "pyproject.toml")
    return ["moved [tool.kedro.micropkg] to [tool.micropkg] in pyproject.toml (comments and order kept)"]


@task_params([option("dry_run", "print the change as a diff, change nothing", long="dry-run", kind=bool, short="n")])
def task_migrate(dry_run: bool) -> Any:
    """Move [tool.kedro.micropkg] to [tool.micropkg] (Kedro 1.x refuses the old table); -n: show the diff."""
    with loading():
        ws = current_workspace()
        if ws is not None:
            from . import workspace

            return workspace.eager(workspace.per_member(ws, "migrate", lambda project: {
                "actions": [(migrate_action, [project, dry_run])], "uptodate": [False], "verbosity": 2},
                str(task_migrate.__doc__)))
        project = current_project()
        return {"actions": [(migrate_action, [project, dry_run])], "uptodate": [False], "verbosity": 2}
