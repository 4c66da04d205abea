"""The state folder ``.micropkg/``: doit's database, the inter-process lock, transactions.

It is made (and git-ignores itself) the first time doit opens the database; a database that is
not SQLite is moved aside; a transaction a crash interrupted is finished or rolled back before
anything else reads the project."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..config.project import Project

#: The journal of an unfinished transaction, and the staging folders of transactions.
JOURNAL = "journal.json"
TX_PREFIX = "tx-"


def pending(state: Path) -> bool:
    """Whether an interrupted transaction (a journal or staged files) is waiting in ``state``."""
    return (state / JOURNAL).exists() or (state.is_dir() and any(state.glob(f"{TX_PREFIX}*")))


def prepare(db: Path) -> None:
    """Make the folder of doit's database (git-ignoring itself) and set aside a corrupt one."""
    state = db.parent
    if not state.is_dir():
        state.mkdir(parents=True, exist_ok=True)
        (state / ".gitignore").write_text("*\n")
    set_aside_if_corrupt(db)


def set_aside_if_corrupt(db: Path) -> None:
    """A database that is not SQLite would stop every doit command with a traceback; move it
    aside instead. doit then runs each task once: packaging rebuilds identical sdists and
    pulls find their files already installed (micropkg.lock), so nothing is lost."""
    try:
        with db.open("rb") as fh:
            header = fh.read(16)
    except FileNotFoundError:
        return
    if header and header != b"SQLite format 3\x00":
        aside = db.with_name(f"{db.name}.corrupt")
        os.replace(db, aside)
        print(f"micropkg: {db} was corrupt; moved it to {aside}. Every task runs once to rebuild it.",
              file=sys.stderr)


def recover_if_interrupted(project: Project) -> str | None:
    """Finish or roll back a pull a crash interrupted (cheap when there is none)."""
    if not pending(project.state_dir):
        return None  # the common case, without importing the transaction machinery
    from .files import project_lock
    from .transaction import recover

    with project_lock(project.state_dir):
        return recover(project)




