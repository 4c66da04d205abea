"""MicroPackage -> the members of its sdist (a plan, plain data). Writing them is the store's
job (``store/tarball.py``); the format's names come from ``layout``."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ..config.project import Project
from ..errors import PackageError, one_line, where
from .collect import MicroPackage, Read, reader
from .layout import INIT, PKG_INFO, PYPROJECT, code_member, config_member, renamed, sdist_root, tests_member
from .metadata import parse_requirements, render_pkg_info

#: Bumped whenever the produced bytes change for the same inputs, so doit rebuilds.
FORMAT_VERSION = "2"
BUILD_REQUIRES = "flit_core>=3.4,<5"


@dataclass(frozen=True)
class Member:
    """One tar member: its bytes (or how to read them, when the tar writer gets to it), and for a
    project's .py file the module renames to apply."""

    name: str
    data: bytes | Callable[[], bytes]
    rename: tuple[str, str] | None = None
    renames: tuple[tuple[str, str], ...] = ()  # then these: imports of dependencies -> their names
    label: str = ""  # the entry, for messages
    shown: str = ""  # the project-relative source path, for messages

    def read(self) -> bytes:
        data = self.data if isinstance(self.data, bytes) else self.data()
        if self.rename is None:
            return data
        data = renamed(data, self.shown or self.name, self.rename, self.label)
        for pair in self.renames:
            data = renamed(data, self.shown or self.name, pair, self.label)
        return data


def render_pyproject(name: str, version: str, requirements: list[str], dependencies: list[str] | None = None) -> str:
    """A static pyproject: flit_core builds a wheel of ``<name>/`` (config included, no tests).
    Micro-packages it imports are ``[tool.micropkg] dependencies``, never ``[project]``'s: pip
    and pip-compile must not look them up on a public index."""
    q = json.dumps  # a JSON string is a valid TOML basic string
    deps = "".join(f"    {q(r)},\n" for r in requirements)
    return (
        "[build-system]\n"
        f"requires = [{q(BUILD_REQUIRES)}]\n"
        'build-backend = "flit_core.buildapi"\n\n'
        "[project]\n"
        f"name = {q(name)}\n"
        f"version = {q(version)}\n"
        f"description = {q(f'Micro-package `{name}`')}\n"
        f"dependencies = [\n{deps}]\n\n"
        "[tool.flit.module]\n"
        f"name = {q(name)}\n"
    ) + ("\n[tool.micropkg]\n" + "dependencies = [\n" + "".join(f"    {q(d)},\n" for d in dependencies) + "]\n"
         if dependencies else "")


def plan_sdist(project: Project, mp: MicroPackage, read: Read | None = None) -> list[Member]:
    """Every member of the sdist, sorted by name, its files' bytes got from ``read`` (by default
    read from the project).

    A tests folder without ``__init__.py`` (Kedro's starters) gets an empty one, as Kedro's own
    sdists have: Kedro 0.19's pull crashes without it, and pytest needs it to tell two pulled
    copies of the same test module apart."""
    label = where("package", mp.spec.module_path)
    read = read or reader(project, mp)
    root = sdist_root(mp.name, mp.version)
    rename = (f"{project.package_name}.{mp.spec.module_path}", mp.name)
    renames = tuple((f"{project.package_name}.{d.module_path}", d.name)
                    for d in sorted(mp.requires, key=lambda d: -len(d.module_path)))
    requirements = _requirements(project, read, mp.requirements_file, label) if mp.requirements_file else []
    members = [
        Member(f"{root}/{PKG_INFO}", data=render_pkg_info(mp.name, mp.version, requirements).encode()),
        Member(f"{root}/{PYPROJECT}", data=render_pyproject(mp.name, mp.version, requirements,
                                                                  [d.requirement for d in mp.requires]).encode()),
    ]
    members += [Member(code_member(root, mp.name, rel), partial(read, src), rename=rename, renames=renames,
                       label=label, shown=src) for src, rel in mp.code]
    members += [Member(config_member(root, mp.name, rel), partial(read, src), label=label, shown=src)
                for src, rel in mp.config]
    members += [Member(tests_member(root, rel), partial(read, src), rename=rename, renames=renames, label=label,
                       shown=src) for src, rel in mp.tests]
    if mp.tests and not any(rel == INIT for _, rel in mp.tests):
        members.append(Member(tests_member(root, INIT), data=b""))
    members.sort(key=lambda m: m.name)
    names = [m.name for m in members]
    clash = next((a for a, b in zip(names, names[1:]) if a == b), None)
    if clash:
        raise PackageError(f"{label}: two files would both be {clash!r} in the sdist")
    return members


def _requirements(project: Project, read: Read, relpath: str, label: str) -> list[str]:
    try:
        text = read(relpath).decode("utf-8")
    except UnicodeDecodeError:
        raise PackageError(f"{label}: {one_line(relpath)} is not UTF-8 text") from None
    return parse_requirements(text, f"{label}: {one_line(relpath)}")
