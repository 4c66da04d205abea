"""Project requirements: which lines of a micro-package are new to ``requirements.in``, and the
text of ``requirements.in`` with them appended. Pure; compiling is ``actions/compile.py``."""
from __future__ import annotations

from typing import Any

from .metadata import parse_requirement_line, render_requirement


def requirement_key(req: str) -> tuple[Any, ...]:
    """What makes two requirements the same: PEP 503 name, extras, specifier set, URL, marker."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    r = Requirement(req)
    return (canonicalize_name(r.name), frozenset(r.extras), r.specifier, r.url, str(r.marker or ""))


def existing_keys(text: str) -> set[tuple[Any, ...]]:
    keys = set()
    for line in text.splitlines():
        try:
            req = parse_requirement_line(line)
        except ValueError:  # -r, --index-url, paths...: kept in the file, not compared
            continue
        if req:
            keys.add(requirement_key(req))
    return keys


def new_requirements(existing_text: str, incoming: list[str]) -> list[str]:
    """The incoming requirements not already in the file (PEP 508 equivalence), sorted, unique,
    each rendered by ``render_requirement`` (ValueError for one we will not write)."""
    seen = existing_keys(existing_text)
    new = {}
    for req in incoming:
        line = render_requirement(req)
        key = requirement_key(line)
        if key not in seen and key not in new:
            new[key] = line
    return sorted(new.values())


def append_block(existing_text: str, name: str, lines: list[str]) -> str:
    """``existing_text`` with a commented block for micro-package ``name`` appended."""
    if not lines:
        return existing_text
    lines = [render_requirement(line) for line in lines]  # never raw text, whoever calls
    eol = "\r\n" if "\r\n" in existing_text else "\n"  # the file's own line endings, as an editor keeps them
    head = existing_text if not existing_text or existing_text.endswith("\n") else existing_text + eol
    sep = eol if head else ""
    return f"{head}{sep}# Requirements from micro-package `{name}`:{eol}" + "".join(f"{line}{eol}" for line in lines)
