"""``[tool.kedro.micropkg.package]`` / ``[tool.kedro.micropkg.pull]`` -> validated, frozen specs.

The same checks serve manifest entries and ad hoc command-line options, so both fail the same
way: a one-line ManifestError that names the entry and says what would be valid.
"""
from __future__ import annotations

import keyword
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Mapping

from .errors import ManifestError

MODULE_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
PACKAGE_OPTIONS = ("alias", "destination", "env")
PULL_OPTIONS = ("alias", "destination", "env", "fs_args", "sha256")
SDIST_SUFFIXES = (".tar.gz", ".tgz")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Sub-task name of the final compile step; no pull entry may take it.
COMPILE_TASK = "pip-compile"


@dataclass(frozen=True)
class PackageSpec:
    """One micro-package to package: a module path relative to the project package."""

    module_path: str
    alias: str | None = None
    destination: str | None = None
    env: str = "base"

    @property
    def name(self) -> str:
        """The name the sdist carries: the alias, else the last part of the module path."""
        return self.alias or self.module_path.rsplit(".", 1)[-1]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PullSpec:
    """One sdist to pull: a local path, an fsspec URL or a requirement on a PyPI-like index."""

    source: str
    alias: str | None = None
    destination: str | None = None
    env: str = "base"
    fs_args: str | None = None
    sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_kind(source: str, root: Path) -> str:
    """``url``, ``path`` or ``index``: the one place that decides how a pull source is read."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source):
        return "url"
    if source.endswith(SDIST_SUFFIXES) or "/" in source or os.sep in source or (root / source).exists():
        return "path"
    return "index"


def check_alias(alias: Any, where: str) -> str:
    if not isinstance(alias, str) or not alias:
        raise ManifestError(f"{where}: alias must be a non-empty string")
    if not alias.isidentifier() or keyword.iskeyword(alias):
        raise ManifestError(f"{where}: alias {alias!r} is not a valid Python package name (letters, digits, underscores; not a keyword)")
    if len(alias) < 2:
        raise ManifestError(f"{where}: alias {alias!r} must be at least 2 characters long")
    return alias


def check_module_path(module_path: str, where: str) -> str:
    if not MODULE_PATH.match(module_path) or any(keyword.iskeyword(p) for p in module_path.split(".")):
        raise ManifestError(f"{where}: {module_path!r} is not a Python module path such as 'pipelines.cleaning'")
    return module_path


def check_env(env: Any, where: str) -> str:
    if not isinstance(env, str) or not re.match(r"^[\w][\w.-]*$", env) or ".." in env:
        raise ManifestError(f"{where}: env {env!r} must be the name of one folder in conf/ (no '/', no '..')")
    return env


def check_relative(path: Any, where: str, what: str) -> str:
    """A POSIX path that stays inside the project."""
    if not isinstance(path, str) or not path.strip():
        raise ManifestError(f"{where}: {what} must be a non-empty string")
    p = PurePosixPath(path)
    if p.is_absolute() or "\\" in path or re.match(r"^[A-Za-z]:", path) or ".." in p.parts:
        raise ManifestError(f"{where}: {what} {path!r} must be a relative POSIX path inside the project (no '..', not absolute)")
    return p.as_posix()


def check_pull_destination(dest: Any, where: str) -> str:
    """A location under the project package: ``pipelines/lib`` (dots accepted as separators)."""
    dest = check_relative(dest, where, "destination")
    parts = dest.replace(".", "/").split("/")
    if not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts):
        raise ManifestError(f"{where}: destination {dest!r} must be package names separated by '/' such as 'pipelines/lib'")
    return "/".join(parts)


def _options(key: str, value: Any, allowed: tuple[str, ...], section: str) -> dict[str, Any]:
    where = f"[tool.kedro.micropkg.{section}] {key!r}"
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where}: the value must be a table of options such as {{}} or {{alias = \"x\"}}")
    opts = {k.replace("-", "_"): v for k, v in value.items()}
    for opt, val in opts.items():
        if opt in allowed:
            if val is not None and not isinstance(val, str):
                raise ManifestError(f"{where}: option {opt!r} must be a string, not {type(val).__name__}")
            continue
        if isinstance(val, Mapping):
            raise ManifestError(
                f"{where}: looks like an unquoted dotted key; write \"{key}.{opt}\" = {{...}} with quotes"
            )
        raise ManifestError(f"{where}: unknown option {opt!r}; valid options: {', '.join(allowed)}")
    return opts


def _section(project_micropkg: Mapping[str, Any], section: str) -> Mapping[str, Any]:
    entries = project_micropkg.get(section, {})
    if not isinstance(entries, Mapping):
        raise ManifestError(f"[tool.kedro.micropkg.{section}] must be a table of entries")
    return entries


def package_spec(module_path: str, *, alias=None, destination=None, env=None, where: str | None = None) -> PackageSpec:
    where = where or f"package {module_path!r}"
    check_module_path(module_path, where)
    return PackageSpec(
        module_path=module_path,
        alias=check_alias(alias, where) if alias else None,
        destination=check_relative(destination, where, "destination") if destination else None,
        env=check_env(env, where) if env else "base",
    )


def pull_spec(source: str, *, alias=None, destination=None, env=None, fs_args=None, sha256=None,
              where: str | None = None) -> PullSpec:
    where = where or f"pull {source!r}"
    if not isinstance(source, str) or not source.strip():
        raise ManifestError(f"{where}: the source must be a path, a URL or a requirement")
    if source == COMPILE_TASK:
        raise ManifestError(f"{where}: {COMPILE_TASK!r} is reserved for the final compile task")
    if sha256 is not None and not SHA256.match(sha256):
        raise ManifestError(f"{where}: sha256 must be 64 lower-case hex digits")
    return PullSpec(
        source=source.strip(),
        alias=check_alias(alias, where) if alias else None,
        destination=check_pull_destination(destination, where) if destination else None,
        env=check_env(env, where) if env else "base",
        fs_args=check_relative(fs_args, where, "fs_args") if fs_args else None,
        sha256=sha256,
    )


def package_specs(micropkg: Mapping[str, Any]) -> list[PackageSpec]:
    """Every entry of ``[tool.kedro.micropkg.package]``, in file order."""
    specs = []
    for key, value in _section(micropkg, "package").items():
        where = f"[tool.kedro.micropkg.package] {key!r}"
        specs.append(package_spec(key, where=where, **_options(key, value, PACKAGE_OPTIONS, "package")))
    _no_duplicates([(s.name, s.destination or "dist") for s in specs], "package", "write to the same sdist name")
    return specs


def pull_specs(micropkg: Mapping[str, Any]) -> list[PullSpec]:
    """Every entry of ``[tool.kedro.micropkg.pull]``, in file order."""
    specs = []
    for key, value in _section(micropkg, "pull").items():
        where = f"[tool.kedro.micropkg.pull] {key!r}"
        specs.append(pull_spec(key, where=where, **_options(key, value, PULL_OPTIONS, "pull")))
    return specs


def _no_duplicates(keys: list, section: str, what: str) -> None:
    seen = set()
    for key in keys:
        if key in seen:
            raise ManifestError(f"[tool.kedro.micropkg.{section}]: two entries {what} {key[0]!r}; give one an alias")
        seen.add(key)
