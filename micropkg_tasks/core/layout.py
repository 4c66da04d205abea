"""The sdist format, in one place: which files of a folder are shipped, how a micro-package's
files are named inside the sdist (``<name>/``, ``<name>/config/``, ``tests/``, PKG-INFO,
pyproject.toml), how parameter files are recognised and renamed, and how a module is renamed
in Python source. The package side (collect, sdist) and the pull side (install) both ask here.
What a name or path may be (a micro-package name, a safe member path) is ``rules``'.
"""
from __future__ import annotations

import errno
import os
from pathlib import PurePosixPath

IGNORED_DIRS = frozenset({"__pycache__"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
NEVER_PACKAGED = ("catalog", "credentials")
CONFIG = "config"
TESTS = "tests"
PKG_INFO = "PKG-INFO"
PYPROJECT = "pyproject.toml"
INIT = "__init__.py"
REQUIREMENTS = "requirements.txt"


def walk_files(folder: str | os.PathLike[str], special: list[str] | None = None) -> list[str]:
    """Sorted POSIX paths relative to ``folder`` of every file we would ship, hidden ones and
    byte-code left out. Missing folder: empty list.

    Only regular files and real folders are walked (one ``scandir`` per folder, no stat per
    entry). Anything else that would be shipped (a symlink, a FIFO or device, a name that is
    not UTF-8) is appended to ``special`` when given, never to the result: the caller refuses
    it (``special_problem`` says why). A folder that cannot be listed raises the OSError."""
    found: list[str] = []
    pending = [("", os.fspath(folder))]
    while pending:
        rel, path = pending.pop()
        try:
            entries = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            if rel:  # vanished while walked: the top folder's absence is an empty result
                raise
            return []
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name in IGNORED_DIRS or name.endswith(IGNORED_SUFFIXES):
                continue
            sub = f"{rel}/{name}" if rel else name
            if entry.is_dir(follow_symlinks=False) and utf8_name(name):
                pending.append((sub, entry.path))
            elif entry.is_file(follow_symlinks=False) and utf8_name(name):
                found.append(sub)
            else:
                _add(special, sub)
    found.sort()
    return found


def _add(special: list[str] | None, rel: str) -> None:
    if special is not None:
        special.append(rel)


def utf8_name(name: str) -> bool:
    """Whether a name from the file system is text (not bytes smuggled as lone surrogates)."""
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- what is never packaged: links, special files, names that are not UTF-8 --------------------

def special_problem(path: str, project_root: str, private: str) -> str:
    """Why the entry at ``path`` (found by ``walk_files`` as special) cannot be packaged: one
    phrase. Every symlink is refused, whatever its target: sdists carry regular files only, so
    no link can carry a secret (outside the project, under ``private`` (conf/local), a
    credentials file) into one. Checked with lstat/stat/realpath on these entries only."""
    if not utf8_name(path):
        return "has a name that is not UTF-8; rename it"
    if not os.path.islink(path):
        return "is not a regular file or folder (a FIFO, socket or device); remove it"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symlink loop; remove the link"
        if exc.errno == errno.ENOENT:
            return "is a dangling symlink (its target does not exist); remove the link"
        return f"is a symlink that cannot be followed ({exc.strerror}); remove the link"
    target = os.path.realpath(path)
    if not _within(target, project_root):
        return "is a symlink to outside the project; sdists carry regular files only, never a link's target"
    if _within(target, private):
        return f"is a symlink into {os.path.relpath(private, project_root)}; secrets are never packaged"
    if os.path.basename(target).startswith("credentials"):
        return "is a symlink to a credentials file; secrets are never packaged"
    return (f"is a symlink (to {os.path.relpath(target, project_root)}); sdists carry regular files only: "
            "replace the link with a copy of the file")


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def parameter_names(rel: str) -> set[str]:
    """The micro-package names whose parameters ``rel`` (relative to ``conf/<env>``) is: Kedro's
    four patterns, restricted as Kedro's MANIFEST.in did (some part of the path starts with
    ``parameters``), and never a catalog or credentials file.

    1. ``**/parameters_<name>.yml``   2. ``**/<name>/**/*``
    3. ``parameters*/**/<name>.yml``  4. ``parameters*/**/<name>/**/*``
    """
    parts = rel.split("/")
    filename, folders = parts[-1], parts[:-1]
    if filename.startswith(NEVER_PACKAGED) or not any(p.startswith("parameters") for p in parts):
        return set()
    names = set(folders)  # patterns 2 and 4
    if filename.startswith("parameters_") and filename.endswith(".yml"):
        names.add(filename[len("parameters_"):-len(".yml")])  # pattern 1
    if folders and folders[0].startswith("parameters") and filename.endswith(".yml"):
        names.add(filename[:-len(".yml")])  # pattern 3
    return names


def is_parameter_file(rel: str, name: str) -> bool:
    return name in parameter_names(rel)


#: What Kedro's config loader reads as catalog, credentials, logging or globals: a file or top
#: folder named so (its patterns ``X*``, ``X*/**``, ``**/X*``). Never a parameter file.
NOT_PARAMETERS = (*NEVER_PACKAGED, "logging", "globals")


def kedro_original_name(rels: list[str], name: str) -> str | None:
    """The name an aliased sdist made by Kedro keeps in its parameter folders, or None.

    Kedro's ``--alias`` renames parameter *files* whose name contains the micro-package's name,
    never folders: ``cleaning`` packaged as ``tidy`` ships ``config/parameters_tidy.yml`` beside
    ``config/parameters/cleaning/x.yml``. That original name is not recorded anywhere else, so it
    is the one folder name that makes every config file (``rels``, relative to ``config/``) that
    is not a parameter file of ``name`` a parameter file of it (Kedro's patterns 2 and 4). None
    when there is no such file or no such single name, or when one of them is what Kedro's
    config loader reads as catalog, credentials, logging or globals."""
    from ..rules import name_problem

    candidates: set[str] | None = None
    for rel in rels:
        if is_parameter_file(rel, name):
            continue
        parts = rel.split("/")
        if parts[0].startswith(NOT_PARAMETERS) or parts[-1].startswith(NOT_PARAMETERS):
            return None
        names = {p for p in parts[:-1] if p != name and not p.startswith("parameters")
                 and name_problem(p) is None and is_parameter_file(rel, p)}
        candidates = names if candidates is None else candidates & names
        if not candidates:
            return None
    return min(candidates) if candidates else None


def rename_config(rel: str, name: str, alias: str | None) -> str:
    """Give the alias to parameter file and folder names *equal* to the name (not containing it)."""
    if not alias or alias == name:
        return rel
    parts = list(PurePosixPath(rel).parts)
    folders = [alias if p == name else p for p in parts[:-1]]
    filename = parts[-1]
    if filename == f"parameters_{name}.yml":
        filename = f"parameters_{alias}.yml"
    elif filename == f"{name}.yml":
        filename = f"{alias}.yml"
    return "/".join(folders + [filename])


# -- member names inside the sdist ------------------------------------------------------------

def sdist_root(name: str, version: str) -> str:
    """``<name>-<version>``, the sdist's top folder and file stem, as PEP 625 spells it."""
    import re

    return f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"


def code_member(root: str, package: str, rel: str) -> str:
    return f"{root}/{package}/{rel}"


def config_member(root: str, package: str, rel: str) -> str:
    return f"{root}/{package}/{CONFIG}/{rel}"


def tests_member(root: str, rel: str) -> str:
    return f"{root}/{TESTS}/{rel}"


def split_package_file(rel: str) -> tuple[str, str]:
    """A file of the sdist's package folder -> (``"config"`` or ``"code"``, path in that role)."""
    prefix = CONFIG + "/"
    return (CONFIG, rel[len(prefix):]) if rel.startswith(prefix) else ("code", rel)


# -- the module rename, on both sides ------------------------------------------------------------

def renamed(raw: bytes, relpath: str, rename: tuple[str, str] | None, label: str) -> bytes:
    """``raw`` with module ``rename[0]`` renamed to ``rename[1]`` when ``relpath`` is Python.
    A ``.py`` file that is not UTF-8 Python 3 is one error naming it, on both sides."""
    if not rename or not relpath.endswith(".py"):
        return raw
    from ..errors import MicropkgError
    from .rewrite import rename_module_bytes

    try:
        return rename_module_bytes(raw, *rename)
    except (SyntaxError, ValueError) as exc:
        lineno = getattr(exc, "lineno", None)
        line = f" (line {lineno})" if lineno else ""
        raise MicropkgError(f"{label}: cannot rewrite the imports of {relpath}: it is not valid UTF-8 Python 3{line}") from None
