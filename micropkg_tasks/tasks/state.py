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


DOIT_CONFIG = {
    "backend": "sqlite3",  # the one doit backend that keeps both results of concurrent runs
    "dep_file": StateFile(f"{STATE_DIR}/doit.db"),
    # doit -n N: worker processes, not threads. doit swaps the process-wide sys.stdout/stderr
    # around every python-action to capture its output; worker threads raced on those swaps
    # (output lost or mixed, and on CPython 3.11 a print on a stream another thread had just
    # replaced and freed: SIGSEGV, issue #9). Each process has its own streams. Tasks pickle
    # (module-level actions, plain dataclasses), so any start method works.
    "par_type": "process",
    "default_tasks": ["package"],
    "reporter": Reporter,  # a refused task is one ERROR line, not doit's TaskFailed - taskid:...
}
