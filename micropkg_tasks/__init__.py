"""micropkg-tasks: Kedro micro-packaging as a doit task graph.

A project's ``dodo.py`` is one line, ``from micropkg_tasks import *``, which gives doit the
task creators and DOIT_CONFIG below. Nothing heavy is imported here, so ``doit list`` is fast.
"""
from .tasks import *  # noqa: F403  (the task creators and DOIT_CONFIG)
from .tasks import __all__ as __all__

__version__ = "0.2.0"
