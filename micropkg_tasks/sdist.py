"""MicroPackage -> sdist: what goes in (a plan, plain data) and a deterministic writer.

The same inputs give the same bytes whatever the files' times, modes, owners, umask or the
checkout path: members sorted, fixed mtime/mode/owner, gzip header without name or time.
The tarball appears under its final name only when complete (temporary file, then rename).
"""
from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

from .collect import MicroPackage
from .errors import PackageError
from .fsutil import atomic_write_via
from .metadata import read_requirements, render_pkg_info
from .project import Project

#: Bumped whenever the produced bytes change for the same inputs, so doit rebuilds.
FORMAT_VERSION = "1"
BUILD_REQUIRES = "flit_core>=3.4,<5"
DEFAULT_EPOCH = 946684800  # 2000-01-01: after 1980, so wheels built from the sdist can zip it


@dataclass(frozen=True)
class Member:
    """One tar member: bytes, or a file to read (with an optional module rename for .py)."""

    name: str
    data: bytes | None = None
    path: Path | None = None
    rename: tuple[str, str] | None = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        raw = self.path.read_bytes()
        if self.rename and self.name.endswith(".py"):
            from .rewrite import rename_module_bytes

            try:
                return rename_module_bytes(raw, *self.rename)
            except (SyntaxError, ValueError) as exc:
                line = f" (line {exc.lineno})" if getattr(exc, "lineno", None) else ""
                raise PackageError(f"{self.path}: cannot rewrite its imports, it is not valid UTF-8 Python{line}") from None
        return raw


def render_pyproject(name: str, version: str, requirements: list[str]) -> str:
    """A static pyproject: flit_core builds a wheel of ``<name>/`` (config included, no tests)."""
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
    )


def plan_sdist(project: Project, mp: MicroPackage) -> list[Member]:
    """Every member of the sdist, sorted by name. Pure but for reading requirements.txt."""
    root = f"{mp.target.rsplit('/', 1)[-1][: -len('.tar.gz')]}"
    rename = (f"{project.package_name}.{mp.spec.module_path}", mp.name)
    requirements = read_requirements(project.root / mp.requirements_file) if mp.requirements_file else []
    members = [
        Member(f"{root}/PKG-INFO", data=render_pkg_info(mp.name, mp.version, requirements).encode()),
        Member(f"{root}/pyproject.toml", data=render_pyproject(mp.name, mp.version, requirements).encode()),
    ]
    members += [Member(f"{root}/{mp.name}/{rel}", path=project.root / src, rename=rename) for src, rel in mp.code]
    members += [Member(f"{root}/{mp.name}/config/{rel}", path=project.root / src) for src, rel in mp.config]
    members += [Member(f"{root}/tests/{rel}", path=project.root / src, rename=rename) for src, rel in mp.tests]
    members.sort(key=lambda m: m.name)
    names = [m.name for m in members]
    clash = next((a for a, b in zip(names, names[1:]) if a == b), None)
    if clash:
        raise PackageError(f"package {mp.spec.module_path!r}: two files would both be {clash!r} in the sdist")
    return members


def source_date_epoch() -> int:
    try:
        return max(int(os.environ["SOURCE_DATE_EPOCH"]), 315619200)  # 1980-01-02
    except (KeyError, ValueError):
        return DEFAULT_EPOCH


def write_tar_gz(members: list[Member], fileobj) -> None:
    """Write ``members`` as a reproducible gzip'd PAX tar to a binary file object."""
    mtime = source_date_epoch()
    with gzip.GzipFile(filename="", mode="wb", fileobj=fileobj, mtime=0, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for member in members:
                data = member.read()
                info = tarfile.TarInfo(member.name)
                info.size, info.mtime, info.mode = len(data), mtime, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))


def write_sdist(members: list[Member], target: Path) -> None:
    atomic_write_via(target, lambda fh: write_tar_gz(members, fh))
