"""``[tool.micropkg.package]`` / ``[tool.micropkg.pull]`` (or the legacy ``[tool.kedro.micropkg.*]``)
-> validated, frozen specs; and the project-wide options under ``[tool.micropkg]``.

The same checks serve manifest entries and ad hoc command-line options, so both fail the same
way: a one-line ManifestError that names the entry and says what would be valid.
"""
from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any

from ..core.layout import SDIST_SUFFIXES, name_problem
from ..errors import ManifestError, one_line
from ..errors import where as entry
from .project import TABLE

MODULE_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
PACKAGE_OPTIONS = ("alias", "destination", "env")
PULL_OPTIONS = ("alias", "destination", "env", "fs_args", "sha256")
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
    kind: str = "path"  # "path", "url" or "index": see source_kind
    alias: str | None = None
    destination: str | None = None
    env: str = "base"
    fs_args: str | None = None
    sha256: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_kind(source: str) -> str:
    """``url``, ``path`` or ``index``: the one place that decides how a pull source is read,
    from its spelling alone (no disk access), once, when the spec is made."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source):
        return "url"
    if re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@", source):
        return "index"  # a direct reference ``name @ url``: refused as a requirement source
    if source.endswith(SDIST_SUFFIXES) or "/" in source or source.startswith(("~", ".")):
        return "path"
    return "index"


def check_alias(alias: Any, where: str) -> str:
    if not isinstance(alias, str) or not alias:
        raise ManifestError(f"{where}: alias must be a non-empty string")
    why = name_problem(alias)
    if why:
        raise ManifestError(f"{where}: alias {one_line(repr(alias[:61]), 60)} {why}")
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


def check_fs_args(path: Any, where: str) -> str:
    """A YAML file of storage options: relative to the project, absolute, or ``~/...``
    (credentials usually live outside the project). Read when the pull runs."""
    if not isinstance(path, str) or not path.strip() or "\x00" in path or "\n" in path:
        raise ManifestError(f"{where}: fs_args must be the path of a YAML file")
    return path


def requirement_source(source: str, where: str) -> str:
    """A pull source that is neither a URL nor a path must be a PEP 508 requirement: checked
    when the manifest is read, so a typo is a load-time error, not a failed task."""
    if _SIMPLE_REQUIREMENT.fullmatch(source):  # the common spellings, without importing packaging
        return source
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(source)
    except InvalidRequirement:
        raise ManifestError(f"{where}: not a path, a URL or a requirement such as 'name>=1.0'") from None
    if req.url:
        raise ManifestError(f"{where}: a direct reference ('name @ url') is not an index requirement; "
                            "write the URL itself as the source")
    return source


_SIMPLE_REQUIREMENT = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
    r"(?:\s*(?:===?|!=|~=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+(?:\s*,\s*(?:===?|!=|~=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+)*)?")


def _options(key: str, value: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
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


def _section(micropkg: Mapping[str, Any], table: str, section: str) -> Mapping[str, Any]:
    entries = micropkg.get(section, {})
    if not isinstance(entries, Mapping):
        raise ManifestError(f"[{table}.{section}] must be a table of entries")
    return entries


def package_spec(module_path: str, *, alias=None, destination=None, env=None, where: str | None = None) -> PackageSpec:
    where = where or entry("package", module_path)
    check_module_path(module_path, where)
    return PackageSpec(
        module_path=module_path,
        alias=check_alias(alias, where) if alias else None,
        destination=check_relative(destination, where, "destination") if destination else None,
        env=check_env(env, where) if env else "base",
    )


def pull_spec(source: str, *, alias=None, destination=None, env=None, fs_args=None, sha256=None,
              where: str | None = None) -> PullSpec:
    where = where or entry("pull", source)
    if not isinstance(source, str) or not source.strip():
        raise ManifestError(f"{where}: the source must be a path, a URL or a requirement")
    source = source.strip()
    if source == COMPILE_TASK:
        raise ManifestError(f"{where}: {COMPILE_TASK!r} is reserved for the final compile task")
    if sha256 is not None and not SHA256.match(sha256):
        raise ManifestError(f"{where}: sha256 must be 64 lower-case hex digits")
    kind = source_kind(source)
    if kind == "index":
        requirement_source(source, where)
    return PullSpec(
        source=source,
        kind=kind,
        alias=check_alias(alias, where) if alias else None,
        destination=check_pull_destination(destination, where) if destination else None,
        env=check_env(env, where) if env else "base",
        fs_args=check_fs_args(fs_args, where) if fs_args else None,
        sha256=sha256,
    )


def package_specs(micropkg: Mapping[str, Any], table: str = TABLE) -> list[PackageSpec]:
    """Every entry of ``[tool.micropkg.package]``, in file order."""
    specs = []
    for key, value in _section(micropkg, table, "package").items():
        where = f"[{table}.package] {key!r}"
        specs.append(package_spec(key, where=where, **_options(key, value, PACKAGE_OPTIONS, where)))
    _no_duplicates([(s.name, s.destination or "dist") for s in specs], f"[{table}.package]",
                   "write to the same sdist name")
    return specs


def pull_specs(micropkg: Mapping[str, Any], table: str = TABLE) -> list[PullSpec]:
    """Every entry of ``[tool.micropkg.pull]``, in file order."""
    specs = []
    for key, value in _section(micropkg, table, "pull").items():
        where = f"[{table}.pull] {key!r}"
        specs.append(pull_spec(key, where=where, **_options(key, value, PULL_OPTIONS, where)))
    return specs


def _no_duplicates(keys: list, section: str, what: str) -> None:
    seen = set()
    for key in keys:
        if key in seen:
            raise ManifestError(f"{section}: two entries {what} {key[0]!r}; give one an alias")
        seen.add(key)


def allow_direct_references(micropkg: Mapping[str, Any], table: str = TABLE) -> bool:
    """``[tool.micropkg] allow-direct-references``: whether a pulled sdist may require
    ``name @ url`` (PyPI refuses them in uploads; pip-compile would fetch and build them)."""
    value = micropkg.get("allow-direct-references", micropkg.get("allow_direct_references", False))
    if not isinstance(value, bool):
        raise ManifestError(f"[{table}] allow-direct-references must be true or false, not {one_line(repr(value), 40)}")
    return value


DEFAULT_COMPILE = ["{python}", "-m", "piptools", "compile", "--quiet", "--no-header", "--strip-extras",
                   "--no-emit-index-url", "--no-emit-trusted-host", "--no-emit-find-links"]


def compile_command(micropkg: Mapping[str, Any], table: str = TABLE) -> list[str] | None:
    """The compiler from ``[tool.micropkg] compile``: a command string, a list, or false
    (default pip-compile from this environment; ``{python}`` is this interpreter)."""
    import shlex
    import sys

    configured = micropkg.get("compile")
    where = f"[{table}] compile"
    if configured is None or configured is True:
        command = list(DEFAULT_COMPILE)
    elif configured is False:
        return None
    elif isinstance(configured, str) and configured.strip() and "\x00" not in configured:
        try:
            command = shlex.split(configured)
        except ValueError as exc:
            raise ManifestError(f"{where}: {configured!r} is not a valid command line ({exc})") from None
    elif isinstance(configured, list) and configured and all(isinstance(a, str) and a and "\x00" not in a
                                                             for a in configured):
        command = list(configured)
    else:
        raise ManifestError(f"{where} must be a command string, a list of strings, or false")
    return [sys.executable if arg == "{python}" else arg for arg in command]


DEFAULT_TIMEOUT = 300.0


def download_timeout(micropkg: Mapping[str, Any], table: str = TABLE) -> float:
    """``[tool.micropkg] timeout``: the overall limit, in seconds, for fetching one sdist."""
    import math

    value = micropkg.get("timeout")
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ManifestError(f"[{table}] timeout must be a positive number of seconds (default "
                            f"{DEFAULT_TIMEOUT:g}), not {value!r}")
    return float(value)
