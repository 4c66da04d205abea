"""doit wiring only: manifest entries and options -> task dicts, one module per command family.
Task creators run on every doit command (list, info, clean...), so they only read
pyproject.toml and walk folders; heavy imports happen inside the actions."""
from .graph import task_graph
from .migrate import task_migrate
from .package import task_package
from .pull import task_pull, task_unpull
from .state import DOIT_CONFIG

__all__ = ["DOIT_CONFIG", "task_graph", "task_migrate", "task_package", "task_pull", "task_unpull"]
