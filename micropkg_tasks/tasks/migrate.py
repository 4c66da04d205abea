"""``doit migrate``: the legacy manifest table moves to ``[tool.micropkg]`` (Kedro 1.x)."""
from __future__ import annotations

from typing import Any

from doit import task_params

from ..config.project import Project
from .edge import action, loading, option
from .edge import project as current_project


@action
def migrate_action(project: Project, dry_run: bool) -> list[str]:
    from ..config.migrate import migrate_text, unified_diff
    from ..store.files import atomic_write_bytes

    path = project.root / "pyproject.toml"
    before = path.read_text(encoding="utf-8")
    after = migrate_text(before)
    if after == before:
        return ["pyproject.toml has no [tool.kedro.micropkg] table: nothing to migrate"]
    if dry_run:
        return [unified_diff(before, after).rstrip("\n"), "(dry run: pyproject.toml was not changed)"]
    atomic_write_bytes(path, after.encode("utf-8"))
    return ["moved [tool.kedro.micropkg] to [tool.micropkg] in pyproject.toml (comments and order kept)"]


@task_params([option("dry_run", "print the change as a diff, change nothing", long="dry-run", kind=bool, short="n")])
def task_migrate(dry_run: bool) -> Any:
    """Move [tool.kedro.micropkg] to [tool.micropkg] (Kedro 1.x refuses the old table); -n: show the diff."""
    with loading():
        project = current_project()
        return {"actions": [(migrate_action, [project, dry_run])], "uptodate": [False], "verbosity": 2}
