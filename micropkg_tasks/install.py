"""Where a pulled sdist's files go (a plan, plain data), and what applying it would change
given the lock and the files on disk (conflicts, writes, deletions). No I/O but reading."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .collect import rename_config, walk_files
from .extract import Sdist
from .lock import LockEntry
from .manifest import PullSpec
from .project import CONF_DIR, Project
from .rewrite import rename_module_bytes

CONFIG = "config/"


@dataclass(frozen=True)
class InstallPlan:
    """The files a pull installs (project-relative path -> bytes) under one module path."""

    module: str
    files: dict[str, bytes]


def target_module(spec: PullSpec, package: str) -> str:
    """The module path, under the project package, that a pull of ``package`` lands at."""
    dest = spec.destination.split("/") if spec.destination else []
    return ".".join(dest + [spec.alias or package])


def _read(path: Path, rename: tuple[str, str] | None) -> bytes:
    raw = path.read_bytes()
    if rename and path.suffix == ".py":
        try:
            return rename_module_bytes(raw, *rename)
        except (SyntaxError, ValueError):  # not Python 3: installed as it came
            return raw
    return raw


def plan_install(project: Project, spec: PullSpec, sdist: Sdist) -> InstallPlan:
    """Code to ``<src>/<pkg>/[<dest>/]<name>``, tests to ``<tests>/[<dest>/]<name>``,
    ``<name>/config/...`` to ``conf/<env>/...``; imports rewritten to the new location."""
    module = target_module(spec, sdist.package)
    parts = module.split(".")
    rename = (sdist.package, f"{project.package_name}.{module}")
    code_root = project.rel(project.package_dir.joinpath(*parts))
    tests_root = project.rel(project.tests_root().joinpath(*parts))
    conf_root = f"{CONF_DIR}/{spec.env}"
    files: dict[str, bytes] = {}
    package_dir = sdist.root / sdist.package
    for rel in walk_files(package_dir):
        if rel.startswith(CONFIG):
            dest = f"{conf_root}/{rename_config(rel[len(CONFIG):], sdist.package, spec.alias)}"
            files[dest] = (package_dir / rel).read_bytes()
        else:
            files[f"{code_root}/{rel}"] = _read(package_dir / rel, rename)
    for rel in walk_files(sdist.root / "tests"):
        files[f"{tests_root}/{rel}"] = _read(sdist.root / "tests" / rel, rename)
    return InstallPlan(module=module, files=files)


def decide(plan_hashes: dict[str, str], entry: LockEntry | None, current: dict[str, str | None],
           owners: dict[str, str], module: str) -> tuple[list[str], list[str], list[str]]:
    """(paths to write, paths to delete, conflicts), from hashes only.

    ``plan_hashes``: what the pull installs; ``entry``: what the last pull of this module
    installed; ``current``: what is on disk now (None: missing); ``owners``: files other
    pulled micro-packages own. A conflict is a file the user changed since the last pull, a
    file this pull would overwrite that no pull installed, or a file another pull owns.
    """
    recorded = entry.files if entry else {}
    writes, deletes, conflicts = [], [], []
    for path, new in sorted(plan_hashes.items()):
        now = current.get(path)
        if owners.get(path, module) != module:
            conflicts.append(f"{path} (installed by {owners[path]})")
        elif now is not None and now != new and now != recorded.get(path):
            conflicts.append(f"{path} ({'changed since it was pulled' if path in recorded else 'not installed by a pull'})")
        if now != new:
            writes.append(path)
    for path, old in sorted(recorded.items()):
        if path in plan_hashes:
            continue
        now = current.get(path)
        if now is not None:
            if now != old:
                conflicts.append(f"{path} (changed since it was pulled)")
            deletes.append(path)
    return writes, deletes, conflicts
