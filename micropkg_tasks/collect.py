"""Which files make up a micro-package: its folder, its parameter files, its tests.

Pure decisions over file listings; the only I/O is walking folders (one stat-free walk each).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

from .errors import PackageError
from .manifest import PackageSpec
from .metadata import normalise_version, read_version, sdist_basename
from .project import Project

IGNORED_DIRS = {"__pycache__"}
IGNORED_SUFFIXES = (".pyc", ".pyo")
DEFAULT_DESTINATION = "dist"
NEVER_PACKAGED = ("catalog", "credentials")


@dataclass(frozen=True)
class MicroPackage:
    """A spec resolved in a project. Each file is (project-relative path, path inside its role)."""

    spec: PackageSpec
    name: str
    version: str
    code: tuple[tuple[str, str], ...]
    config: tuple[tuple[str, str], ...]
    tests: tuple[tuple[str, str], ...]
    version_file: str
    target: str

    @property
    def file_dep(self) -> list[str]:
        files = [src for src, _ in self.code + self.config + self.tests]
        if self.version_file not in files:
            files.append(self.version_file)
        return files

    @property
    def requirements_file(self) -> str | None:
        return next((src for src, rel in self.code if rel == "requirements.txt"), None)


def walk_files(folder: Path) -> list[str]:
    """Sorted POSIX paths relative to ``folder`` of every file we would ship, hidden ones and
    byte-code left out. Missing folder: empty list."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d not in IGNORED_DIRS and not d.startswith(".")]
        rel = os.path.relpath(dirpath, folder)
        for fname in filenames:
            if fname.startswith(".") or fname.endswith(IGNORED_SUFFIXES):
                continue
            found.append(fname if rel == "." else f"{rel}/{fname}".replace(os.sep, "/"))
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


@lru_cache(maxsize=None)
def _conf_index(conf_env: Path) -> dict[str, tuple[str, ...]]:
    """name -> its parameter files in one env, from one walk: collecting N micro-packages stays
    linear in the number of files, not N times it."""
    index: dict[str, list[str]] = {}
    for rel in walk_files(conf_env):
        for name in parameter_names(rel):
            index.setdefault(name, []).append(rel)
    return {name: tuple(rels) for name, rels in index.items()}


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


def collect(project: Project, spec: PackageSpec) -> MicroPackage:
    """Resolve ``spec`` in ``project``: the files, the version and the tarball to write."""
    where = f"package {spec.module_path!r}"
    module_parts = spec.module_path.split(".")
    folder = project.package_dir.joinpath(*module_parts)
    if not folder.is_dir():
        kind = "a file, not a package folder" if folder.with_suffix(".py").is_file() else "not found"
        raise PackageError(f"{where}: {project.rel(folder)} is {kind}; give the module path of a package folder")
    code = walk_files(folder)
    if not code:
        raise PackageError(f"{where}: {project.rel(folder)} is an empty folder")
    if "__init__.py" not in code:
        raise PackageError(f"{where}: {project.rel(folder)} has no __init__.py, so it is not a Python package")

    init = folder / "__init__.py"
    version = read_version(init)
    version_file = init
    if version is None:
        version_file = project.package_dir / "__init__.py"
        version = read_version(version_file)
    if version is None:
        raise PackageError(
            f"{where}: no __version__ in {project.rel(init)} nor in {project.rel(version_file)}; add __version__ = \"0.1\""
        )
    version = normalise_version(version, project.rel(version_file))

    conf_env = project.conf_dir / spec.env
    if spec.env != "base" and not conf_env.is_dir():
        raise PackageError(f"{where}: env {spec.env!r} has no folder {project.rel(conf_env)}")
    leaf = module_parts[-1]
    conf_prefix = project.rel(conf_env)  # paths are joined as strings: one parse per folder, not per file
    config = [(f"{conf_prefix}/{rel}", rename_config(rel, leaf, spec.alias))
              for rel in _conf_index(conf_env).get(leaf, ())]
    tests_dir = project.tests_root().joinpath(*module_parts)
    tests_prefix = project.rel(tests_dir)
    tests = [(f"{tests_prefix}/{rel}", rel) for rel in walk_files(tests_dir)]

    name = spec.name
    code_prefix = project.rel(folder)
    destination = spec.destination or DEFAULT_DESTINATION
    return MicroPackage(
        spec=spec,
        name=name,
        version=version,
        code=tuple((f"{code_prefix}/{rel}", rel) for rel in code),
        config=tuple(config),
        tests=tuple(tests),
        version_file=project.rel(version_file),
        target=f"{destination}/{sdist_basename(name, version)}.tar.gz",
    )
