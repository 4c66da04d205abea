"""``[tool.micropkg.workspace]``: a monorepo's root names its member projects, and one ``doit``
at the root runs every member's tasks as one graph.

```toml
[tool.micropkg.workspace]
members = ["projects/*"]           # globs of folders, relative to the root, each a Kedro project
exclude = ["projects/sandbox-*"]   # optional globs
base = "origin/main"               # optional: the default REF to compare against
compile = false                    # optional: [tool.micropkg] compile for members that set none
```

A member is named by its folder, or by its own ``[tool.micropkg] name``. Everything wrong here is
one ``ManifestError`` line, raised before any task exists (so nothing runs, nothing is written).
"""
from __future__ import annotations

import glob
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import ManifestError, one_line
from .project import TABLE, Project, _table, load_project, read_pyproject

WORKSPACE_TABLE = f"{TABLE}.workspace"
WORKSPACE_OPTIONS = ("members", "exclude", "base", "compile")
MEMBER_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
#: doit's own commands (doit 0.37 ``DoitMain.DOIT_CMDS`` and its bundled plugins' names) and our
#: top-level tasks: a member named like one would make ``doit <name>`` mean two things.
DOIT_COMMANDS = ("auto", "clean", "dumpdb", "forget", "help", "ignore", "info", "list", "reset-dep", "run",
                 "strace", "tabcompletion")
OUR_TASKS = ("affected", "diff", "graph", "migrate", "outdated", "package", "publish", "pull", "status", "unpull")
RESERVED = frozenset(DOIT_COMMANDS + OUR_TASKS)


@dataclass(frozen=True)
class Member:
    """One member project: its name, its folder relative to the workspace root (POSIX), and
    the project read from its pyproject.toml."""

    name: str
    path: str
    project: Project


@dataclass(frozen=True)
class Workspace:
    root: Path
    members: tuple[Member, ...]
    base: str | None = None
    compile: Any = None  # the raw [tool.micropkg.workspace] compile value; None when absent

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)

    def owner(self, relpath: str) -> Member | None:
        """The member whose folder holds ``relpath`` (root-relative, normalised), if any."""
        best = None
        for m in self.members:
            if (relpath == m.path or relpath.startswith(m.path + "/")) and (best is None or len(m.path) > len(best.path)):
                best = m
        return best


def workspace_table(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ``[tool.micropkg.workspace]`` table of a parsed pyproject.toml, or None."""
    try:
        table = _table(data, WORKSPACE_TABLE)
    except ManifestError:
        return None
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise ManifestError(f"[{WORKSPACE_TABLE}] must be a table")
    return table


def _globs(table: Mapping[str, Any], key: str, required: bool) -> list[str]:
    where = f"[{WORKSPACE_TABLE}] {key}"
    value = table.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not value or not all(isinstance(g, str) and g.strip() for g in value):
        raise ManifestError(f"{where} must be a non-empty list of folder globs such as [\"projects/*\"]")
    for pattern in value:
        p = PurePosixPath(pattern)
        if (not pattern.isprintable() or p.is_absolute() or "\\" in pattern or re.match(r"[A-Za-z]:", pattern)
                or ".." in p.parts or pattern.strip() in (".", "./")):
            raise ManifestError(f"{where}: {one_line(repr(pattern), 80)} must be a relative POSIX glob inside the "
                                "workspace root (no '..', not absolute, not the root itself)")
    return [PurePosixPath(g).as_posix() for g in value]


def _matches(root: Path, patterns: list[str]) -> dict[str, str]:
    """Folder (root-relative, POSIX) -> the first pattern that matched it."""
    found: dict[str, str] = {}
    for pattern in patterns:
        for match in sorted(glob.glob(pattern, root_dir=str(root))):
            rel = PurePosixPath(match).as_posix().rstrip("/")
            if (root / rel).is_dir() or os.path.islink(root / rel):
                found.setdefault(rel, pattern)
    return found


def _check_inside(root: Path, rel: str, pattern: str) -> None:
    """No member through a symlink, none outside the root."""
    where = f"[{WORKSPACE_TABLE}] members {one_line(repr(pattern), 80)}"
    parts = PurePosixPath(rel).parts
    for i in range(1, len(parts) + 1):
        if os.path.islink(root.joinpath(*parts[:i])):
            raise ManifestError(f"{where}: {one_line(rel, 120)} is reached through the symlink "
                                f"{one_line('/'.join(parts[:i]), 120)}; a member must be a real folder inside the root")
    resolved = (root / rel).resolve()
    if resolved == root or root not in resolved.parents:
        raise ManifestError(f"{where}: {one_line(rel, 120)} is outside the workspace root")


def _member_name(project: Project, rel: str) -> str:
    configured = project.micropkg.get("name")
    if configured is None:
        name = PurePosixPath(rel).name
        where = f"member folder {one_line(rel, 120)}"
        fix = "set [tool.micropkg] name in its pyproject.toml"
    else:
        name = configured
        where = f"member {one_line(rel, 120)}: [{project.table}] name"
        fix = "choose another"
    if not isinstance(name, str) or not MEMBER_NAME.fullmatch(name):
        raise ManifestError(f"{where} {one_line(repr(name), 80)} is not a member name (a letter, then letters, digits, "
                            f"'_', '.' or '-', at most 64); {fix}")
    if name in RESERVED:
        raise ManifestError(f"{where} {name!r} is a doit command or a micropkg task group, so `doit {name}` would be "
                            f"ambiguous; {fix}")
    return name


def load_workspace(root: Path, table: Mapping[str, Any], allow_legacy: bool = False) -> Workspace:
    """Validate the table and read every member's pyproject.toml (once each)."""
    root = root.resolve()
    unknown = [k for k in table if k not in WORKSPACE_OPTIONS]
    if unknown:
        raise ManifestError(f"[{WORKSPACE_TABLE}]: unknown option {one_line(repr(unknown[0]), 80)}; valid options: "
                            f"{', '.join(WORKSPACE_OPTIONS)}")
    members = _globs(table, "members", required=True)
    excluded = set(_matches(root, _globs(table, "exclude", required=False)))
    base = table.get("base")
    if base is not None and (not isinstance(base, str) or not base.strip() or not base.isprintable()):
        raise ManifestError(f"[{WORKSPACE_TABLE}] base must be a git revision such as \"origin/main\"")
    compile_value = table.get("compile")
    if compile_value is not None:
        from .manifest import compile_command

        compile_command({"compile": compile_value}, WORKSPACE_TABLE)  # the same rules as a member's
    found: list[Member] = []
    for rel, pattern in _matches(root, members).items():
        if rel in excluded:
            continue
        _check_inside(root, rel, pattern)
        pyproject = root / rel / "pyproject.toml"
        where = f"[{WORKSPACE_TABLE}] members {one_line(repr(pattern), 80)} matches {one_line(rel, 120)}"
        if not pyproject.is_file():
            raise ManifestError(f"{where}, which has no pyproject.toml; exclude it or narrow the glob")
        data = read_pyproject(pyproject)
        kedro = _table(data, "tool.kedro")
        if not isinstance(kedro, Mapping) or not kedro.get("package_name"):
            raise ManifestError(f"{where}, whose pyproject.toml has no [tool.kedro] package_name (not a Kedro project); "
                                "exclude it or narrow the glob")
        try:
            project = load_project(root / rel, allow_legacy=allow_legacy, member=True)
        except ManifestError as exc:
            raise type(exc)(f"member {one_line(rel, 120)}: {exc}") from None
        found.append(Member(_member_name(project, rel), rel, project))
    if not found:
        raise ManifestError(f"[{WORKSPACE_TABLE}] members {', '.join(members)} match no member folder")
    by_name: dict[str, Member] = {}
    for m in found:
        other = by_name.get(m.name)
        if other is not None:
            raise ManifestError(f"workspace: {one_line(other.path, 120)} and {one_line(m.path, 120)} are both member "
                                f"{m.name!r}; give one another [tool.micropkg] name")
        by_name[m.name] = m
    return Workspace(root=root, members=tuple(sorted(found, key=lambda m: m.path)), base=base, compile=compile_value)


def member_compile(member: Member, workspace: Workspace) -> Mapping[str, Any]:
    """The member's manifest with the workspace's default compiler when it sets none."""
    micropkg = member.project.micropkg
    if "compile" in micropkg or workspace.compile is None:
        return micropkg
    return {**micropkg, "compile": workspace.compile}


def without_member_sources(micropkg: Mapping[str, Any], table: str, member: bool) -> dict[str, Any]:
    """A member's manifest without its ``member = ...`` pull entries (the workspace resolves them).
    Outside a workspace such an entry names nothing: one line, before anything runs."""
    entries = micropkg["pull"]
    for key, value in entries.items():
        if isinstance(value, Mapping) and "member" in value and not member:
            raise ManifestError(f"[{table}.pull] {one_line(repr(key), 80)}: member = ... names a sibling project of a "
                                f"workspace, and no [{WORKSPACE_TABLE}] is in this folder's pyproject.toml; run doit at "
                                "the workspace root")
    rest = {k: v for k, v in entries.items() if not (isinstance(v, Mapping) and "member" in v)}
    return {**micropkg, "pull": rest}
