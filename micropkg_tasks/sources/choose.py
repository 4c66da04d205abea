"""Which file of an index's listing to take for a requirement: PEP 440 order and pre-release
rules, yanked files only when pinned, sdists only. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.requirements import Requirement

from ..errors import ManifestError, SourceError, where
from ..rules import SDIST_SUFFIXES


@dataclass(frozen=True)
class IndexFile:
    """One file of a project's page on a simple index."""

    filename: str
    url: str
    sha256: str | None = None
    yanked: bool = False


def parse_requirement(text: str) -> Requirement:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement:
        raise ManifestError(f"{where('pull', text)}: not a path, a URL or a requirement such as 'name>=1.0'") from None


def pick_sdist(requirement: Requirement, files: list[IndexFile], label: str, where: str = "the index") -> IndexFile:
    """The best sdist for ``requirement`` (a packaging Requirement): highest matching version,
    not yanked unless pinned."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    name = canonicalize_name(requirement.name)
    pinned = any(s.operator in ("==", "===") for s in requirement.specifier)
    candidates = []
    for f in files:
        if not f.filename.endswith(SDIST_SUFFIXES):
            continue
        stem = re.sub(r"\.(tar\.gz|tgz)$", "", f.filename)
        dist, _, version = stem.rpartition("-")
        try:
            v = Version(version)
        except InvalidVersion:
            continue
        if canonicalize_name(dist) != name or (f.yanked and not pinned):
            continue
        candidates.append((v, f))
    allowed = set(requirement.specifier.filter(v for v, _ in candidates))  # PEP 440 pre-release rules
    versions = sorted({v for v, _ in candidates})
    candidates = [(v, f) for v, f in candidates if v in allowed]
    if not candidates:
        wheels = any(f.filename.endswith(".whl") for f in files)
        what = "only wheels" if wheels and not any(f.filename.endswith(SDIST_SUFFIXES) for f in files) else "no sdist"
        has = (f"it has sdists of {', '.join(str(v) for v in versions[-10:])}" if versions
               else f"it has no sdist of {name}")
        raise SourceError(f"{label}: {what} matching it on {where} ({has}); "
                          "pull needs a source distribution (.tar.gz)")
    return max(candidates, key=lambda c: c[0])[1]
