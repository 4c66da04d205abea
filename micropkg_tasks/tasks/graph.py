"""``doit graph``: which micro-packages import which, in the manifest and in what the lock
installed, as text, Graphviz dot or Mermaid."""
from __future__ import annotations

import sys
from typing import Any

from doit import task_params

from ..config import manifest
from ..config.project import Project
from ..errors import ManifestError
from .console import MACHINE_OUTPUT
from .edge import action, current_workspace, loading, option
from .edge import project as current_project

FORMATS = ("text", "dot", "mermaid")


@action
def graph_action(project: Project, fmt: str) -> list[str]:
    from ..core.collect import collect
    from ..core.graph import render
    from ..core.imports import import_edges
    from ..store.lock import read_lock

    out = []
    specs = project.manifest.packages
    if specs:
        mps = [collect(project, spec) for spec in specs]
        files = {mp.spec.module_path: [src for src, _ in mp.code + mp.tests] for mp in mps}
        labels = {mp.spec.module_path: f"{mp.spec.module_path} ({mp.name} {mp.version})" for mp in mps}
        out.append(render(import_edges(project.root, project.package_name, files), labels, fmt,
                          f"[{project.table}.package]"))
    entries = read_lock(project)
    if entries:
        files = {module: sorted(entry.files) for module, entry in entries.items()}
        labels = {module: f"{module} ({entry.name} {entry.version})" for module, entry in entries.items()}
        edges = import_edges(project.root, project.package_name, files)
        for module, entry in entries.items():  # what the lock records it imports, installed or not
            edges[module] = sorted(set(edges.get(module, ())) | set(entry.dependencies))
            labels.update({dep: f"{dep} (not installed)" for dep in entry.dependencies if dep not in entries})
        out.append(render(edges, labels, fmt, project.lock_path.name))
    if not out:
        nothing = f"No micro-packages: [{project.table}.package] is empty and nothing was pulled"
        if fmt == "text":
            return [nothing]
        print(nothing, file=sys.stderr)  # stdout stays a graph a program can read: an empty one
        return [render({}, {}, fmt, "micro-packages")]
    return ["\n\n".join(out)]


@task_params([option("format", f"how to draw it: {', '.join(FORMATS)} (text)")])
def task_graph(format: str) -> Any:
    """Show which micro-packages import which (manifest and micropkg.lock): --format text|dot|mermaid."""
    with loading():
        fmt = format or "text"
        if fmt not in FORMATS:
            raise ManifestError(f"graph: --format {manifest.shown(fmt)} is not one of {', '.join(FORMATS)}")
        ws = current_workspace()
        if ws is not None:
            from . import workspace

            return workspace.eager(workspace.per_member(ws, "graph", lambda project: _graph_task(project, fmt),
                                                  str(task_graph.__doc__)))
        return _graph_task(current_project(), fmt)


def _graph_task(project: Project, fmt: str) -> dict[str, Any]:
    return {"actions": [(graph_action, [project, fmt])], "uptodate": [False], "verbosity": 2,
            "meta": {MACHINE_OUTPUT: fmt != "text"}}  # `doit graph --format dot | dot -Tpng`
