"""``micropkg.lock``: what each pull installed, so a re-pull is a no-op, an upgrade replaces
exactly the files it owns, and user edits are noticed. TOML, written in a stable order."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import MicropkgError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

LOCK_VERSION = 1


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


_cache: dict[Path, tuple[tuple[int, int, int], dict[str, LockEntry]]] = {}


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


def read_lock(path: Path) -> dict[str, LockEntry]:
    """The entries of ``micropkg.lock`` by module; parsed once per version of the file."""
    key = identity(path)
    if key is None:
        return {}
    cached = _cache.get(path)
    if cached and cached[0] == key:
        return dict(cached[1])
    entries = _parse(path)
    remember(path, entries)
    return entries


def _parse(path: Path) -> dict[str, LockEntry]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MicropkgError(f"{path.name} is corrupt ({exc}); restore it from version control or delete it and pull again") from None
    try:
        entries = {}
        for raw in data.get("micropkg", []):
            raw = dict(raw)
            raw["requirements"] = tuple(raw.get("requirements", ()))
            raw["added"] = tuple(raw.get("added", ()))
            entry = LockEntry(**raw)
            entries[entry.module] = entry
        return entries
    except TypeError as exc:
        raise MicropkgError(f"{path.name} has an unexpected layout ({exc}); delete it and pull again") from None


def render_lock(entries: dict[str, LockEntry]) -> str:
    q = json.dumps  # JSON strings are valid TOML basic strings
    out = ["# Written by micropkg-tasks: what each pull installed. Commit it; do not edit by hand.",
           f"version = {LOCK_VERSION}", ""]
    for module in sorted(entries):
        entry = entries[module]
        files = entry.files
        out.append("[[micropkg]]")
        for key, value in ((f.name, getattr(entry, f.name)) for f in fields(entry) if f.name != "files"):
            if isinstance(value, (list, tuple)):
                out.append(f"{key} = [{', '.join(q(v) for v in value)}]")
            else:
                out.append(f"{key} = {q(value)}")
        out.append("")
        out.append("[micropkg.files]")
        out += [f"{q(path)} = {q(files[path])}" for path in sorted(files)]
        out.append("")
    return "\n".join(out)
