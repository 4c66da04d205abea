"""The caches that last one doit command, and the one place that ends them.

Task creators, up-to-date checks and actions of one command ask the same questions many times
(the project, the manifest's specs, each micro-package's files, the conf index of parameter
files, the lock): the answers are cached, for speed, **for that command only**. A ``doit``
process runs one command, but the Kedro plugin runs doit in the caller's process, once per
``kedro micropkg ...`` call: a cache kept past its command would build the next sdist from the
files the project had before (parameter files added since left out, deleted ones failing).

Every such cache is made here (``per_command`` for a function, ``command_dict`` for a dict) and
emptied by ``reset_caches``. ``enter`` is called where a command starts (``tasks.edge.project``,
which every task creator calls first) with doit's handle of that command, its dependency
manager, which doit makes anew for every command, before any task creator runs: the same
mechanism for doit processes and in-process calls. Pure memos (compiled regexes) need none of this.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

_clearers: list[Callable[[], None]] = []
_command: list[object] = [None]  # what identifies the command the caches belong to


def per_command(func: F) -> F:
    """``functools.cache`` emptied at the start of every doit command."""
    cached = functools.cache(func)
    _clearers.append(cached.cache_clear)
    return cached  # type: ignore[return-value]


def command_dict() -> dict[Any, Any]:
    """A dict emptied at the start of every doit command."""
    store: dict[Any, Any] = {}
    _clearers.append(store.clear)
    return store


def reset_caches() -> None:
    """Forget every per-command answer: the next question reads the project as it is now."""
    for clear in _clearers:
        clear()


def enter(command: object) -> None:
    """Called at the start of (and then throughout) a command: the caches are reset when
    ``command`` is not the one they were filled for. ``None`` (no doit command, e.g. a direct
    call from Python) always starts afresh."""
    if command is None or command is not _command[0]:
        reset_caches()
        _command[0] = command
