"""Which files make up a micro-package: its folder, its parameter files, its tests.

Pure decisions over file listings; the only I/O is walking folders (one stat-free walk each).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import PackageError
from ..config.manifest import PackageSpec
from .layout import INIT, REQUIREMENTS, parameter_names, rename_config, sdist_root, walk_files
from .metadata import normalise_version, read_version
from ..config.project import Project

DEFAULT_DESTINATION = "dist"


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
        return next((src for src, rel in self.code if rel == REQUIREMENTS), None)








@lru_cache(maxsize=None)
def _conf_index(conf_env: Path) -> dict[str, tuple[str, ...]]:
    """name -> its parameter files in one env, from one walk: collecting N micro-packages stays
    linear in the number of files, not N times it."""
    index: dict[str, list[str]] = {}
    for rel in walk_files(conf_env):
        for name in parameter_names(rel):
            index.setdefault(name, []).append(rel)
    return {name: tuple(rels) for name, rels in index.items()}




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
        target=f"{destination}/{sdist_root(name, version)}.tar.gz",
    )
