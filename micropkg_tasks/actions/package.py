"""One package task end to end: plan the sdist's members, then write them atomically."""
from __future__ import annotations

from ..config.project import Project
from ..core.collect import MicroPackage
from ..core.sdist import plan_sdist
from ..store.tarball import write_sdist


def package(project: Project, mp: MicroPackage) -> list[str]:
    """Write ``mp``'s sdist; return the lines to tell the user."""
    write_sdist(plan_sdist(project, mp), project.root / mp.target)
    shown = f" as {mp.spec.alias!r}" if mp.spec.alias else ""
    return [f"packaged '{project.package_name}.{mp.spec.module_path}'{shown} -> {mp.target}"]
