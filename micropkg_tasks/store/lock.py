"""``micropkg.lock``: what each pull installed, so a re-pull is a no-op, an upgrade replaces
exactly the files it owns, and user edits are noticed. TOML, written in a stable order.

The lock is committed, so a pull request can forge it: everything read from it is checked
before any decision uses it. A path must be a relative POSIX path inside the places that
entry's pull installs to (its code folder, its tests folder, ``conf/<env>``), and must not pass
through a symlink; otherwise the whole lock is refused with one line and nothing is touched.
"""
from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .. import rules
from ..config.project import CONF_DIR, Project
from ..credentials import lock_safe
from ..errors import LockError
from ..scope import command_dict

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK_VERSION = 3  # written when an entry uses a field of version 3 (``adopted``, ``dependencies``)
VERSION_2 = 2  # written when an entry uses a field of version 2 (``index``, ``deleted``) only; else 1
READ_VERSIONS = (1, 2, 3)  # a release that reads fewer says "upgrade" rather than "unknown field"


@dataclass(frozen=True)
class LockEntry:
    """One pulled micro-package, keyed by where it lives (module path under the project package)."""

    module: str
    source: str
    sha256: str
    name: str
    version: str
    alias: str = ""
    destination: str = ""
    env: str = "base"
    requirements: tuple[str, ...] = ()  # what the micro-package requires (its PKG-INFO)
    added: tuple[str, ...] = ()  # the lines its pulls appended to requirements.in
    files: dict[str, str] = field(default_factory=dict)  # project-relative path -> sha256
    conflicted: tuple[str, ...] = ()  # files written with conflict markers (--merge=markers); omitted when none
    url: str = ""  # the archive a requirement resolved to (with ``sha256``); absent in older locks
    index: str = ""  # the index or bucket a requirement was pulled from, when not pip's; absent in older locks
    deleted: tuple[str, ...] = ()  # files you deleted that upgrades keep deleted; omitted when none
    adopted: tuple[str, ...] = ()  # files that were in the project before the pull: never removed; omitted when none
    dependencies: tuple[str, ...] = ()  # installed module paths its imports were rewritten to; omitted when none

    def __post_init__(self) -> None:  # a lock is committed: it never records credentials
        for key in ("source", "url", "index"):
            object.__setattr__(self, key, lock_safe(getattr(self, key)))


def install_roots(project: Project, module: str, env: str) -> tuple[str, str, str]:
    """The three folders (project-relative, POSIX) a pull of ``module`` installs into."""
    parts = module.split(".")
    return (project.rel(project.package_dir.joinpath(*parts)), project.rel(project.tests_root().joinpath(*parts)),
            f"{CONF_DIR}/{env}")


_cache: dict[Path, tuple[tuple[int, int, int], dict[str, LockEntry]]] = command_dict()  # see scope.py


def identity(path: Path) -> tuple[int, int, int] | None:
    """What changes whenever the file is rewritten (inode, mtime, size); None if it is missing."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def remember(path: Path, entries: dict[str, LockEntry]) -> None:
    """After writing the lock: keep what it says, so the next read in this process (the next
    pull of a ``doit pull`` run) skips parsing. Any other writer changes the file's identity."""
    key = identity(path)
    if key:
        _cache[path] = (key, dict(entries))


def read_lock(project: Project) -> dict[str, LockEntry]:
    """The checked entries of ``micropkg.lock`` by module; parsed once per version of the file."""
    path = project.lock_path
    key = identity(path)
    if key is None:
        return {}
    cached = _cache.get(path)
    if cached and cached[0] == key:
        return dict(cached[1])
    entries = parse_lock(_read_text(path), project)
    remember(path, entries)
    return entries


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LockError(f"{path.name} is corrupt ({exc}); restore it from version control, "
                        "or delete it and pull again with --force") from None
    except OSError as exc:
        raise LockError(f"{path.name} cannot be read ({exc.strerror or exc})") from None


def parse_lock(text: str, project: Project) -> dict[str, LockEntry]:
    """Entries from the lock's text, every field and path checked (see the module's doc)."""
    name = project.lock_path.name
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:  # a forged lock may nest thousands deep
        raise LockError(f"{name} is corrupt ({exc}); restore it from version control, or delete it and pull again with --force") from None
    version = data.get("version")
    if version not in READ_VERSIONS or isinstance(version, bool):
        raise LockError(f"{name} has version {version!r}; this micropkg-tasks reads versions 1 to {LOCK_VERSION} "
                        "(upgrade micropkg-tasks, or delete the lock and pull again with --force)")
    raw_entries = data.get("micropkg", [])
    if not isinstance(raw_entries, list):
        raise LockError(f"{name}: 'micropkg' must be an array of tables")
    entries: dict[str, LockEntry] = {}
    for raw in raw_entries:
        entry = _entry(raw, name)
        if entry.module in entries:
            raise LockError(f"{name}: module {entry.module!r} appears twice")
        _check_paths(entry, project, name)
        entries[entry.module] = entry
    owners: dict[str, str] = {}
    for entry in entries.values():
        for path in entry.files:
            if path in owners:
                raise LockError(f"{name}: {path!r} is claimed by both {owners[path]!r} and {entry.module!r}")
            owners[path] = entry.module
    return entries


def _entry(raw: Any, name: str) -> LockEntry:
    if not isinstance(raw, dict):
        raise LockError(f"{name}: every [[micropkg]] must be a table")
    known = {f.name for f in fields(LockEntry)}
    unknown = set(raw) - known
    if unknown:
        raise LockError(f"{name}: unknown field(s) {', '.join(sorted(unknown))}; delete the lock and pull again with --force")
    values = dict(raw)
    for key in ("module", "source", "sha256", "name", "version", "alias", "destination", "env", "url", "index"):
        if key in values and not isinstance(values[key], str):
            raise LockError(f"{name}: field {key!r} must be a string")
    for key in ("requirements", "added", "conflicted", "deleted", "adopted", "dependencies"):
        value = values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise LockError(f"{name}: field {key!r} must be an array of strings")
        values[key] = tuple(value)
    files = values.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise LockError(f"{name}: [micropkg.files] must map paths to sha256 strings")
    try:
        entry = LockEntry(**values)
    except TypeError as exc:
        raise LockError(f"{name} has an unexpected layout ({exc}); delete it and pull again with --force") from None
    # the rules the manifest and the options were checked with: what a pull wrote, reads back
    if rules.module_path_problem(entry.module):
        raise LockError(f"{name}: module {entry.module!r} is not a dotted Python module path")
    for key in ("url", "index", "source"):  # printed by status, graph and outdated: no terminal escapes
        if rules.has_control(getattr(entry, key)):
            raise LockError(f"{name}: {key} of {entry.module!r} has control characters")
    if not entry.source.strip():
        raise LockError(f"{name}: source of {entry.module!r} is empty")
    if any(rules.has_control(req) for req in (*entry.requirements, *entry.added)):
        raise LockError(f"{name}: a requirement of {entry.module!r} has control characters")
    why = rules.name_problem(entry.name)
    if why:
        raise LockError(f"{name}: name {entry.name[:80]!r} of {entry.module!r} {why}")
    if not _is_version(entry.version):  # outdated compares versions: a forged one was a traceback
        raise LockError(f"{name}: version {entry.version[:80]!r} of {entry.module!r} is not a PEP 440 version")
    why = rules.env_problem(entry.env)
    if why:
        raise LockError(f"{name}: env {entry.env!r} of {entry.module!r} {why}")
    why = entry.destination and (rules.path_problem(entry.destination) or rules.destination_problem(entry.destination))
    if why:
        raise LockError(f"{name}: destination {entry.destination!r} of {entry.module!r} {why}")
    why = entry.alias and rules.name_problem(entry.alias)
    if why:
        raise LockError(f"{name}: alias {entry.alias!r} of {entry.module!r} {why}")
    for key in ("conflicted", "deleted", "adopted"):
        if not set(getattr(entry, key)) <= set(entry.files):
            raise LockError(f"{name}: {key!r} of {entry.module!r} lists a file it does not install")
    for dep in entry.dependencies:
        if rules.module_path_problem(dep) or dep == entry.module:
            raise LockError(f"{name}: dependency {dep[:80]!r} of {entry.module!r} is not the module path of another "
                            "micro-package")
    bad = next((sha for sha in [entry.sha256, *entry.files.values()] if not rules.is_sha256(sha)), None)
    if bad is not None:
        raise LockError(f"{name}: {bad!r} in {entry.module!r} is not a sha256 (64 lower-case hex digits)")
    return entry


def _is_version(text: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        Version(text)
    except InvalidVersion:
        return False
    return text.isascii() and text.isprintable()


def _check_paths(entry: LockEntry, project: Project, name: str) -> None:
    roots = install_roots(project, entry.module, entry.env)
    for path in entry.files:
        why = _bad_path(path, roots) or _through_link(project.root, path)
        if why:
            raise LockError(f"{name}: {entry.module!r} lists {path!r}, which {why}; the lock was refused "
                            "and nothing was changed (restore it from version control)")


def _bad_path(path: str, roots: tuple[str, ...]) -> str | None:
    why = rules.path_problem(path)  # the rule archive members were checked with
    if why:
        return why
    if not any(path.startswith(root + "/") for root in roots):
        return f"is outside the folders that pull installs to ({', '.join(roots)})"
    return None


def _through_link(root: Path, path: str) -> str | None:
    """Whether a component of ``path`` under ``root`` is a symlink (or the file itself is)."""
    current = str(root)
    for part in path.split("/"):
        current = os.path.join(current, part)
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"cannot be checked ({exc.strerror})"
        if stat.S_ISLNK(mode):
            return "passes through a symlink"
    return None


def _quoted(value: str) -> str:
    """A TOML basic string (JSON's, ASCII-escaped); a string TOML cannot hold (a lone surrogate
    from an undecodable file name) is refused, so no lock is written that cannot be read back.
    JSON spells a character beyond U+FFFF (an emoji in a file name) as a surrogate pair, which
    TOML refuses: those are written as ``\\UXXXXXXXX``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise LockError(f"{value.encode('utf-8', 'backslashreplace').decode()!r} is not valid UTF-8; "
                        "it cannot be written to the lock, and nothing was changed") from None
    if value.isascii() or max(value) <= "\uffff":
        return json.dumps(value)
    return '"' + "".join(json.dumps(c)[1:-1] if c <= "\uffff" else f"\\U{ord(c):08x}" for c in value) + '"'


_OMITTED_WHEN_EMPTY = ("conflicted", "url", "index", "deleted", "adopted", "dependencies")


def lock_version(entries: dict[str, LockEntry]) -> int:
    """The oldest version that holds every field these entries use, so older releases read it."""
    if any(e.adopted or e.dependencies for e in entries.values()):
        return LOCK_VERSION
    return VERSION_2 if any(e.index or e.deleted for e in entries.values()) else 1


def render_lock(entries: dict[str, LockEntry]) -> str:
    q = _quoted
    out = ["# Written by micropkg-tasks: what each pull installed. Commit it; do not edit by hand.",
           f"version = {lock_version(entries)}", ""]
    for module in sorted(entries):
        entry = entries[module]
        files = entry.files
        out.append("[[micropkg]]")
        for key, value in ((f.name, getattr(entry, f.name)) for f in fields(entry)
                           if f.name != "files" and (f.name not in _OMITTED_WHEN_EMPTY or getattr(entry, f.name))):
            if isinstance(value, (list, tuple)):
                out.append(f"{key} = [{', '.join(q(v) for v in value)}]")
            else:
                out.append(f"{key} = {q(value)}")
        out.append("")
        out.append("[micropkg.files]")
        out += [f"{q(path)} = {q(files[path])}" for path in sorted(files)]
        out.append("")
    return "\n".join(out)
