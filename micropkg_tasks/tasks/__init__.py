"""doit wiring only: manifest entries and options -> task dicts, one module per command family.
Task creators run on every doit command (list, info, clean...), so they only read
pyproject.toml and walk folders; heavy imports happen inside the actions."""
from .graph import task_graph
from .lifecycle import task_diff, task_outdated, task_status
from .migrate import task_migrate
from .package import task_package
from .publish import task_publish
from .pull import task_pull, task_unpull
from .state import DOIT_CONFIG

__all__ = [
    "DOIT_CONFIG",
    "task_diff",
    "task_graph",
    "task_migrate",
    "task_outdated",
    "task_package",
    "task_publish",
    "task_pull",
    "task_status",
    "task_unpull",
]
