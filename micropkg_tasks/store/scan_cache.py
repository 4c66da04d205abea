"""``.micropkg/mentions.json``: what the text pre-filter found in each Python file of the
micro-packages (``core.imports.mentions``), keyed by the file's stat, so task creation reads
only the files that changed since the last doit command. A cache: lost or corrupt, it is rebuilt."""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAME = "mentions.json"
VERSION = 1


class MentionCache:
    def __init__(self, root: Path, state_dir: Path, package: str) -> None:
        self.root = os.fspath(root)
        self.path = state_dir / NAME
        self.package = package
        self.dirty = False
        self.files: dict[str, list[Any]] = {}
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("version") == VERSION and data.get("package") == package:
                self.files = data["files"]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self.dirty = True

    def get(self, src: str, scan: Callable[[str], set[str]]) -> set[str]:
        """What ``scan(text)`` gives for the project file ``src``, from the cache while its stat
        is unchanged. An unreadable file gives nothing (the package action names it)."""
        full = os.path.join(self.root, src)
        try:
            st = os.stat(full)
        except OSError:
            return set()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        cached = self.files.get(src)
        if isinstance(cached, list) and len(cached) == 2 and cached[0] == stamp:
            return set(cached[1])
        try:
            with open(full, encoding="utf-8", errors="replace") as fh:
                found = scan(fh.read())
        except OSError:
            return set()
        self.files[src] = [stamp, sorted(found)]
        self.dirty = True
        return found

    def save(self) -> None:
        """Write the cache when it changed; a read-only state folder just goes without."""
        if not self.dirty or not self.path.parent.is_dir():
            return
        tmp = self.path.with_name(f".{NAME}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps({"version": VERSION, "package": self.package, "files": self.files}),
                           encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
