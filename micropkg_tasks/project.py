"""The Kedro project as the tasks see it: root, package, source, conf and tests folders.

Read from ``pyproject.toml`` ``[tool.kedro]`` without importing any project code.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ManifestError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

STATE_DIR = ".micropkg"
CONF_DIR = "conf"
LOCK_FILE = "micropkg.lock"


@dataclass(frozen=True)
class Project:
    """Where things live in one Kedro project. Paths are absolute; ``rel`` makes doit paths."""

    root: Path
    package_name: str
    source_dir: str = "src"
    micropkg: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

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

    def tests_root(self) -> Path:
        """``tests/`` (Kedro 0.19.4+) unless only the older ``src/tests/`` exists."""
        new, old = self.root / "tests", self.root / self.source_dir / "tests"
        return old if old.is_dir() and not new.is_dir() else new

    def rel(self, path: Path | str) -> str:
        """The POSIX path relative to the root: the one spelling doit sees for a file."""
        return Path(path).relative_to(self.root).as_posix()


def read_pyproject(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ManifestError(f"{path.name} not found in {path.parent}: run doit from a Kedro project") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path.name} is not valid TOML: {exc}") from None


def load_project(root: Path) -> Project:
    """Read ``[tool.kedro]`` from ``root/pyproject.toml``."""
    data = read_pyproject(root / "pyproject.toml")
    kedro = data.get("tool", {}).get("kedro")
    if not isinstance(kedro, dict) or not kedro.get("package_name"):
        raise ManifestError("pyproject.toml has no [tool.kedro] package_name: is this a Kedro project?")
    package_name = kedro["package_name"]
    source_dir = kedro.get("source_dir", "src")
    if not isinstance(package_name, str) or not package_name.isidentifier():
        raise ManifestError(f"[tool.kedro] package_name {package_name!r} is not a Python identifier")
    if not isinstance(source_dir, str) or not _inside(source_dir):
        raise ManifestError(f"[tool.kedro] source_dir {source_dir!r} must be a relative path inside the project")
    micropkg = kedro.get("micropkg", {})
    if not isinstance(micropkg, dict):
        raise ManifestError("[tool.kedro.micropkg] must be a table")
    return Project(root=root.resolve(), package_name=package_name, source_dir=source_dir, micropkg=micropkg)


def _inside(relpath: str) -> bool:
    p = Path(relpath)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in relpath
