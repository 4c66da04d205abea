"""The Kedro project as the tasks see it: root, package, source, conf and tests folders, and
where its micro-packaging manifest is.

Project facts come from ``[tool.kedro]``; the manifest from ``[tool.micropkg]`` (Kedro 1.x
refuses any unknown key under ``[tool.kedro]``), or from the legacy ``[tool.kedro.micropkg]``
that Kedro 0.19 projects carry, validated once into ``Project.manifest``. Nothing of the project
is imported.
"""
from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManifestError, one_line
from ..rules import is_identifier, normal_path, path_problem
from .manifest import LEGACY_TABLE as LEGACY_TABLE
from .manifest import TABLE as TABLE
from .manifest import Manifest, read_manifest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

STATE_DIR = ".micropkg"
CONF_DIR = "conf"
LOCK_FILE = "micropkg.lock"
REQUIREMENTS_IN = "requirements.in"
REQUIREMENTS_TXT = "requirements.txt"


class LegacyManifestError(ManifestError):
    """The legacy table in a Kedro 1.x project: only ``doit migrate`` may run."""


@dataclass(frozen=True)
class Project:
    """Where things live in one Kedro project. Paths are absolute; ``rel`` makes doit paths."""

    root: Path
    package_name: str
    source_dir: str = "src"
    micropkg: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)  # the raw table
    table: str = TABLE  # where the manifest was read from, for messages
    manifest: Manifest = field(default_factory=Manifest, compare=False, hash=False, repr=False)  # validated at load
    # (not in the repr, nor is the raw table: doit info prints a task's arguments, an index's token with them)

    @property
    def package_dir(self) -> Path:
        return self.root / self.source_dir / self.package_name

    @property
    def conf_dir(self) -> Path:
        return self.root / CONF_DIR

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def lock_path(self) -> Path:
        return self.root / LOCK_FILE

    @property
    def requirements_in(self) -> Path:
        return self.root / REQUIREMENTS_IN

    @property
    def requirements_txt(self) -> Path:
        return self.root / REQUIREMENTS_TXT

    def tests_root(self) -> Path:
        """``tests/`` (Kedro 0.19.4+) unless only the older ``src/tests/`` exists."""
        new, old = self.root / "tests", self.root / self.source_dir / "tests"
        return old if old.is_dir() and not new.is_dir() else new

    def rel(self, path: Path | str) -> str:
        """The POSIX path relative to the root: the one spelling doit sees for a file."""
        return Path(path).relative_to(self.root).as_posix()

    def shown(self, path: Path | str) -> str:
        """A path as messages show it: project-relative when inside the project."""
        try:
            return self.rel(path)
        except ValueError:
            return str(path)


def read_pyproject(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except FileNotFoundError:
        raise ManifestError(f"{path.name} not found in {path.parent}: run doit from a Kedro project") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path.name} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path.name} cannot be read: {exc}") from None


def _table(data: Mapping[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            raise ManifestError(f"[{dotted.rsplit('.', 1)[0]}] must be a table")
        node = node.get(part)
        if node is None:
            return None
    return node


def kedro_major(init_version: Any) -> int | None:
    """The major version of ``kedro_init_version`` ("1.7.0" -> 1), None when absent or odd."""
    if not isinstance(init_version, str):
        return None
    head = init_version.strip().split(".", 1)[0]
    return int(head) if head.isdigit() else None


def load_project(root: Path, allow_legacy: bool = False, member: bool = False) -> Project:
    """Read ``[tool.kedro]`` and the manifest from ``root/pyproject.toml``. ``member``: the
    project is a workspace member, whose ``member = ...`` pull entries the workspace resolves."""
    data = read_pyproject(root / "pyproject.toml")
    kedro = _table(data, "tool.kedro")
    if not isinstance(kedro, Mapping) or not kedro.get("package_name"):
        raise ManifestError("pyproject.toml has no [tool.kedro] package_name: is this a Kedro project?")
    package_name = kedro["package_name"]
    source_dir = kedro.get("source_dir", "src")
    if not isinstance(package_name, str) or not is_identifier(package_name):
        raise ManifestError(f"[tool.kedro] package_name {_shown(package_name)} is not a Python identifier")
    if not isinstance(source_dir, str) or not _inside(source_dir):
        raise ManifestError(f"[tool.kedro] source_dir {_shown(source_dir)} must be a relative path inside the project")
    new, legacy = _table(data, TABLE), kedro.get("micropkg")
    if new is not None and legacy is not None:
        raise ManifestError(f"pyproject.toml has both [{TABLE}] and [{LEGACY_TABLE}]; keep one "
                            f"(run `doit migrate` to move the second into the first)")
    table, micropkg = (LEGACY_TABLE, legacy) if legacy is not None else (TABLE, new if new is not None else {})
    if not isinstance(micropkg, dict):
        raise ManifestError(f"[{table}] must be a table")
    major = kedro_major(kedro.get("kedro_init_version"))
    if legacy is not None and major is not None and major >= 1 and not allow_legacy:
        raise LegacyManifestError(
            f"[{LEGACY_TABLE}] is in a Kedro {one_line(str(kedro['kedro_init_version']), 40)} project, and Kedro 1.x refuses "
            f"unknown keys under [tool.kedro] (every kedro command fails); run `doit migrate` to move it to [{TABLE}]")
    checked = micropkg
    pulls = micropkg.get("pull")
    if isinstance(pulls, Mapping) and any(isinstance(v, Mapping) and "member" in v for v in pulls.values()):
        from .workspace import without_member_sources

        checked = without_member_sources(micropkg, table, member)
    return Project(root=root.resolve(), package_name=package_name, source_dir=source_dir, micropkg=micropkg,
                   table=table, manifest=read_manifest(checked, table))


def _inside(relpath: str) -> bool:
    """A safe relative path (``rules.path_problem``) as the user may spell it (``./src/``), or
    ``.``: the project root itself."""
    return relpath in (".", "./") or path_problem(normal_path(relpath)) is None


def _shown(value: Any) -> str:
    return one_line(repr(value), 80)
