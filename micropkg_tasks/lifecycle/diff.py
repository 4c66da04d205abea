"""Unified diffs of local files against the version that was pulled, with git's ``a/``/``b/``
project-relative paths. Pure: bytes in, text out."""
from __future__ import annotations

import difflib


def _text(data: bytes) -> list[str] | None:
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def unified(path: str, pulled: bytes, local: bytes | None) -> str:
    """The diff of ``path`` from ``pulled`` to ``local`` (None: deleted), git-style headers."""
    old, new = _text(pulled), _text(local or b"")
    if old is None or new is None:
        return f"diff a/{path} b/{path}\nBinary files a/{path} and {'/dev/null' if local is None else 'b/' + path} differ\n"
    to = "/dev/null" if local is None else f"b/{path}"
    lines = difflib.unified_diff(old, new, f"a/{path}", to)
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
