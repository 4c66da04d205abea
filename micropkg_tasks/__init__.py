"""micropkg-tasks: Kedro micro-packaging as a doit task graph.

A project's ``dodo.py`` is one line, ``from micropkg_tasks import *``, which gives doit the
task creators and DOIT_CONFIG below. Nothing heavy is imported here, so ``doit list`` is fast.
"""
from .tasks import (
    DOIT_CONFIG,
    task_diff,
    task_graph,
    task_migrate,
    task_outdated,
    task_package,
    task_publish,
    task_pull,
    task_status,
    task_unpull,
)

__version__ = "0.2.0"
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
