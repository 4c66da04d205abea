"""The sdist format, in one place: which files of a folder are shipped, how a micro-package's
files are named inside the sdist (``<name>/``, ``<name>/config/``, ``tests/``, PKG-INFO,
pyproject.toml), how parameter files are recognised and renamed, and how a module is renamed
in Python source. The package side (collect, sdist) and the pull side (install) both ask here.
"""
from __future__ import annotations

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
SDIST_SUFFIXES = (".tar.gz", ".tgz")


def walk_files(folder: str | os.PathLike[str]) -> list[str]:
    """Sorted POSIX paths relative to ``folder`` of every file we would ship, hidden ones and
    byte-code left out. Missing folder: empty list."""
    found = []
    top = os.fspath(folder)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS and not d.startswith(".")]
        rel = dirpath[len(top) + 1:].replace(os.sep, "/")
        for fname in filenames:
            if fname.startswith(".") or fname.endswith(IGNORED_SUFFIXES):
                continue
            found.append(f"{rel}/{fname}" if rel else fname)
    found.sort()
    return found


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
        line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
        raise MicropkgError(f"{label}: cannot rewrite the imports of {relpath}: it is not valid UTF-8 Python 3{line}") from None


# -- names a micro-package may take --------------------------------------------------------------

MAX_NAME = 100
RESERVED_NAMES = frozenset({"__init__", "__pycache__", "__main__"})


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a micro-package's folder (a pulled package or an alias), or None.

    NFKC-normalised first, as Python normalises identifiers (fullwidth ``ｏｓ`` is ``os``): an
    ASCII identifier of at most ``MAX_NAME`` characters that is not a keyword, not a reserved
    dunder and not a standard-library module (the import rename would rewrite its imports).
    The project's own package name is checked where the project is known (``core/install``)."""
    import keyword
    import sys
    import unicodedata

    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    norm = unicodedata.normalize("NFKC", name)
    also = f" (it normalises to {norm!r})" if norm != name else ""
    if not norm.isidentifier() or keyword.iskeyword(norm):
        return f"is not a valid Python package name (letters, digits, underscores; not a keyword){also}"
    if norm in RESERVED_NAMES:
        return f"is reserved by Python{also}"
    if norm in sys.stdlib_module_names:
        return f"is a standard-library module name{also}"
    if not name.isascii():
        return f"must be ASCII letters, digits and underscores{also}"
    return None
