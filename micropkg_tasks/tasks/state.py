"""doit's database path. doit opens it before any task creator runs, so the state folder is
prepared (made, git-ignored, a corrupt database set aside) the moment the path is used."""
from __future__ import annotations

import os
from pathlib import Path

from ..config.project import STATE_DIR
from .console import Reporter


class StateFile(os.PathLike[str]):
    def __init__(self, relpath: str) -> None:
        self.relpath = relpath

    def __fspath__(self) -> str:
        from ..store.state import prepare

        prepare(Path(self.relpath))
        return self.relpath

    def __str__(self) -> str:
        return self.relpath

    __repr__ = __str__


class DefaultTasks(list):  # type: ignore[type-arg]
    """``doit`` with no task: ``package`` in a project; at a workspace root ``package`` and
    ``pull`` (a member that only pulls, pulls). Read by doit after the tasks are made, so the
    workspace is known by then (and cached)."""

    def _names(self) -> list[str]:
        from .edge import current_workspace

        try:
            return ["package", "pull"] if current_workspace() is not None else ["package"]
        except Exception:  # the task creators have said what is wrong already
            return ["package"]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        return self._names()[index]

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return repr(self._names())


DOIT_CONFIG = {
    "backend": "sqlite3",  # the one doit backend that keeps both results of concurrent runs
    "dep_file": StateFile(f"{STATE_DIR}/doit.db"),
    # doit -n N: worker processes, not threads. doit swaps the process-wide sys.stdout/stderr
    # around every python-action to capture its output; worker threads raced on those swaps
    # (output lost or mixed, and on CPython 3.11 a print on a stream another thread had just
    # replaced and freed: SIGSEGV, issue #9). Each process has its own streams. Tasks pickle
    # (module-level actions, plain dataclasses), so any start method works.
    "par_type": "process",
    "default_tasks": DefaultTasks(["package"]),
    "reporter": Reporter,  # a refused task is one ERROR line, not doit's TaskFailed - taskid:...
}
