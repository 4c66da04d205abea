"""Where a pulled sdist's files go (a plan, plain data), and what applying it would change
given the lock and the files on disk (a Decision). No I/O but reading the extracted tree."""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

from ..config.manifest import PullSpec
from ..config.project import CONF_DIR, Project
from ..errors import ArchiveError, ManifestError, where
from .layout import (
    CONFIG,
    TESTS,
    is_parameter_file,
    kedro_original_name,
    rename_config,
    renamed,
    split_package_file,
    walk_files,
)


@dataclass(frozen=True)
class Sdist:
    """An extracted, checked sdist: its root folder, the one package in it and its metadata."""

    root: Path
    package: str
    name: str
    version: str
    requirements: tuple[str, ...]


@dataclass(frozen=True)
class InstallPlan:
    """The files a pull installs (project-relative path -> bytes) under one module path."""

    module: str
    files: dict[str, bytes]


@dataclass(frozen=True)
class Decision:
    """What applying a plan changes: paths to write, paths to delete, and the conflicts that
    stop it (each ``"<path> (<why>)"``); all sorted. ``shared``: planned files already in the
    project, byte-identical, that no pull installed (a starter's ``catalog.yml``, a shared
    parameters file): left alone and never owned, so nothing of this pull ever deletes them.
    ``owned``: what the lock records for this pull (path -> sha256), the rest of the plan.
    ``conflicts`` are what ``--force`` replaces; ``blocked`` (files another pull owns) it never does."""

    writes: tuple[str, ...]
    deletes: tuple[str, ...]
    conflicts: tuple[str, ...]
    shared: tuple[str, ...] = ()
    owned: Mapping[str, str] = field(default_factory=dict)
    kept_deleted: tuple[str, ...] = ()  # kept deleted (``keep_deleted``): the user deleted them
    adopted: tuple[str, ...] = ()  # owned files that were in the project before a pull: never removed
    released: tuple[str, ...] = ()  # adopted files the new version drops: left in place, no longer owned
    blocked: tuple[str, ...] = ()  # ``"<path> (installed by <module>)"``: another pull's, even with --force


def target_module(spec: PullSpec, package: str) -> str:
    """The module path, under the project package, that a pull of ``package`` lands at."""
    dest = spec.destination.split("/") if spec.destination else []
    return ".".join(dest + [spec.alias or package])


def kedro_made(sdist: Sdist) -> bool:
    """Whether setuptools built the sdist, as Kedro 0.19's ``micropkg package`` did (its
    ``setup.cfg`` and ``<package>.egg-info/``; ours have neither). Such an sdist made with an
    alias keeps the original name in its parameter folders (``kedro_original_name``). Anyone
    can add the two, so this only widens the check to the parameter files of one more name."""
    return (sdist.root / "setup.cfg").is_file() and (sdist.root / f"{sdist.package}.egg-info").is_dir()


def plan_install(project: Project, spec: PullSpec, sdist: Sdist) -> InstallPlan:
    """Code to ``<src>/<pkg>/[<dest>/]<name>``, tests to ``<tests>/[<dest>/]<name>``,
    ``<name>/config/...`` to ``conf/<env>/...``; imports rewritten to the new location."""
    label = where("pull", spec.source)
    module = target_module(spec, sdist.package)
    name = spec.alias or sdist.package
    if name == project.package_name:
        error = ManifestError if spec.alias else ArchiveError
        raise error(f"{label}: {'alias' if spec.alias else 'package'} {name!r} is the project's own package; "
                    f"{'choose another alias' if spec.alias else 'pull it with an alias'}")
    parts = module.split(".")
    rename = (sdist.package, f"{project.package_name}.{module}")
    code_root = project.rel(project.package_dir.joinpath(*parts))
    tests_root = project.rel(project.tests_root().joinpath(*parts))
    conf_root = f"{CONF_DIR}/{spec.env}"
    files: dict[str, bytes] = {}
    package_dir = sdist.root / sdist.package
    rels = walk_files(package_dir)
    configs = [inner for role, inner in map(split_package_file, rels) if role == CONFIG]
    original = kedro_original_name(configs, sdist.package) if kedro_made(sdist) else None
    for rel in rels:
        role, inner = split_package_file(rel)
        if role == CONFIG:
            if not is_parameter_file(inner, sdist.package) and original is None:
                raise ArchiveError(f"{label}: {sdist.package}/{rel} is not a parameter file of {sdist.package!r} "
                                   "(Kedro's parameter patterns); a micro-package ships only those")
            files[f"{conf_root}/{rename_config(inner, sdist.package, spec.alias)}"] = (package_dir / rel).read_bytes()
        else:
            files[f"{code_root}/{rel}"] = renamed((package_dir / rel).read_bytes(), rel, rename, label)
    for rel in walk_files(sdist.root / TESTS):
        files[f"{tests_root}/{rel}"] = renamed((sdist.root / TESTS / rel).read_bytes(), rel, rename, label)
    return InstallPlan(module=module, files=files)


def decide(plan_hashes: Mapping[str, str], recorded: Mapping[str, str], current: Mapping[str, str | None],
           owners: Mapping[str, str], module: str, adopt: bool = False,
           keep_deleted: AbstractSet[str] = frozenset(), adopted: AbstractSet[str] = frozenset()) -> Decision:
    """What to write and delete, and what conflicts, from hashes only.

    ``plan_hashes``: what the pull installs; ``recorded``: what the last pull of this module
    installed (path -> sha256); ``current``: what is on disk now (None: missing); ``owners``:
    files other pulled micro-packages own; ``adopt`` (``--force``): the user says files already
    there that no pull installed are this pull's to track (after deleting a corrupt lock, or to
    take a version over theirs): they are recorded as *adopted* (with ``adopted``, those the
    lock already records so), never removed by an undo or an upgrade that drops them
    (``released``). A conflict is a file the user changed since the last pull, or a file this
    pull would overwrite that no pull installed; a file another pull owns is ``blocked``.

    ``keep_deleted``: recorded files whose deletion is the user's edit, to keep (on an upgrade,
    every recorded file; on a re-pull of the same archive, those an upgrade kept deleted; with
    ``--force``, none). One missing that the plan leaves as it was stays deleted
    (``kept_deleted``; the lock still records it, so ``status`` shows it deleted); one the plan
    changes is a conflict, as git's modify/delete. Any other missing file is restored.
    """
    writes, deletes, conflicts, shared, kept, blocked, released = [], [], [], [], [], [], []
    owned = {}
    ours = set(adopted)
    for path, new in sorted(plan_hashes.items()):
        now = current.get(path)
        if owners.get(path, module) != module:
            blocked.append(f"{path} (installed by {owners[path]})")
            continue
        if now is not None and path not in recorded:
            ours.add(path)  # the user's file: owned only when adopted (--force), then never removed
        if now is None and path in recorded and path in keep_deleted:
            owned[path] = new
            if recorded[path] == new:
                kept.append(path)
            else:
                conflicts.append(f"{path} (deleted since it was pulled; the new version changes it)")
                writes.append(path)  # what --force does
            continue
        elif now is not None and now == new and path not in recorded and not adopt:
            shared.append(path)  # the user's identical file: theirs, not this pull's
            continue
        elif now is not None and now != new and now != recorded.get(path):
            conflicts.append(f"{path} ({'changed since it was pulled' if path in recorded else 'not installed by a pull'})")
        owned[path] = new
        if now != new:
            writes.append(path)
    for path, old in sorted(recorded.items()):
        if path in plan_hashes:
            continue
        now = current.get(path)
        if path in adopted:
            if now is not None:
                released.append(path)  # it was the user's before the pull: it stays theirs
        elif now is not None:
            if now != old:
                conflicts.append(f"{path} (changed since it was pulled)")
            deletes.append(path)
    return Decision(tuple(writes), tuple(deletes), tuple(conflicts), tuple(shared), owned, tuple(kept),
                    tuple(sorted(ours & set(owned))), tuple(released), tuple(blocked))
