""""Did you mean ...?": the closest module paths of a project to a mistyped one."""
from __future__ import annotations

import difflib
import os

MAX_DEPTH = 4


def module_paths(package_dir: str | os.PathLike[str]) -> list[str]:
    """Dotted paths of the packages (folders with ``__init__.py``) under the project package."""
    top = os.fspath(package_dir)
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel = dirpath[len(top) + 1:]
        depth = rel.count(os.sep) + 1 if rel else 0
        dirnames[:] = [d for d in dirnames if not d.startswith((".", "__")) and depth < MAX_DEPTH]
        if rel and "__init__.py" in filenames:
            found.append(rel.replace(os.sep, "."))
    return sorted(found)


def did_you_mean(wanted: str, candidates: list[str]) -> str:
    """`` (did you mean pipelines.data_processing?)``, or an empty string when nothing is close."""
    close = difflib.get_close_matches(wanted, candidates, n=2, cutoff=0.85)
    if not close:
        leaf = wanted.rsplit(".", 1)[-1]
        close = [c for c in candidates if c.rsplit(".", 1)[-1] == leaf][:3]
    return f" (did you mean {' or '.join(close)}?)" if close else ""
