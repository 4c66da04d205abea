"""``micropkg.lock``: what each pull installed, so a re-pull is a no-op, an upgrade replaces
exactly the files it owns, and user edits are noticed. TOML, written in a stable order."""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
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


def read_lock(path: Path) -> dict[str, LockEntry]:
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
        entry = asdict(entries[module])
        files = entry.pop("files")
        out.append("[[micropkg]]")
        for key, value in entry.items():
            if isinstance(value, (list, tuple)):
                out.append(f"{key} = [{', '.join(q(v) for v in value)}]")
            else:
                out.append(f"{key} = {q(value)}")
        out.append("")
        out.append("[micropkg.files]")
        out += [f"{q(path)} = {q(files[path])}" for path in sorted(files)]
        out.append("")
    return "\n".join(out)
