"""The graph of micro-packages: ``edges[a]`` lists the micro-packages ``a`` imports. Cycles,
an order that puts every dependency before what needs it, and the graph as text, Graphviz dot
or Mermaid. Pure."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import one_line

if TYPE_CHECKING:
    from packaging.requirements import Requirement

Edges = Mapping[str, Sequence[str]]


def find_cycle(edges: Edges) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or None. Depth-first, in sorted order: the same cycle
    is named every time."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in on_path:
            return path[path.index(node):] + [node]
        if node in done:
            return None
        path.append(node)
        on_path.add(node)
        for dep in sorted(edges.get(node, ())):
            cycle = visit(dep)
            if cycle:
                return cycle
        path.pop()
        on_path.discard(node)
        done.add(node)
        return None

    for start in sorted(edges):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def topological(edges: Edges, nodes: Sequence[str] | None = None) -> list[str]:
    """``nodes`` (default: every node) with each one's dependencies first, otherwise in the given
    order. Raises ValueError naming a cycle."""
    cycle = find_cycle(edges)
    if cycle:
        raise ValueError(" -> ".join(cycle))
    order: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> None:
        if node in seen:
            return
        seen.add(node)
        for dep in edges.get(node, ()):
            visit(dep)
        order.append(node)

    for node in nodes if nodes is not None else list(edges):
        visit(node)
    return order


def render(edges: Edges, labels: Mapping[str, str], fmt: str, title: str) -> str:
    """The graph in ``fmt``: ``text`` (an indented tree from what nothing imports), ``dot`` or
    ``mermaid``. ``labels``: what to print for a node (default: the node)."""
    nodes = sorted(set(edges) | {d for deps in edges.values() for d in deps})
    label = {n: labels.get(n, n) for n in nodes}
    if fmt == "dot":
        lines = [f"digraph {json.dumps(title)} {{", "  rankdir=LR;"]
        lines += [f"  {json.dumps(n)} [label={json.dumps(label[n])}];" for n in nodes]
        lines += [f"  {json.dumps(a)} -> {json.dumps(b)};" for a in nodes for b in sorted(edges.get(a, ()))]
        return "\n".join(lines + ["}"])
    if fmt == "mermaid":
        ids = {n: f"n{i}" for i, n in enumerate(nodes)}
        lines = [f"%% {title}", "graph LR"]
        lines += [f"  {ids[n]}[{json.dumps(label[n])}]" for n in nodes]
        lines += [f"  {ids[a]} --> {ids[b]}" for a in nodes for b in sorted(edges.get(a, ()))]
        return "\n".join(lines)
    return "\n".join([f"{title}:"] + _tree(edges, nodes, label))


def _tree(edges: Edges, nodes: list[str], label: Mapping[str, str]) -> list[str]:
    needed = {d for deps in edges.values() for d in deps}
    roots = [n for n in nodes if n not in needed] or nodes[:1]
    lines: list[str] = []
    shown: set[str] = set()

    def walk(node: str, depth: int, trail: tuple[str, ...]) -> None:
        prefix = "  " * depth + ("└─ " if depth else "")
        deps = sorted(edges.get(node, ()))
        if node in trail:
            lines.append(f"{prefix}{label[node]} (cycle)")
            return
        if node in shown and deps:
            lines.append(f"{prefix}{label[node]} (see above)")
            return
        shown.add(node)
        lines.append(f"{prefix}{label[node]}")
        for dep in deps:
            walk(dep, depth + 1, trail + (node,))

    for root in roots:
        walk(root, 0, ())
    for node in nodes:  # nodes only on a cycle have no root
        if node not in shown:
            walk(node, 0, ())
    return ["  " + line for line in lines] if lines else ["  (no micro-packages)"]


def read_dependencies(root: Path, label: str) -> list[Requirement]:
    """The micro-packages an extracted sdist imports: ``[tool.micropkg] dependencies`` of its
    pyproject.toml (absent: none, as in Kedro's sdists). Each is ``<package name><specifier>``."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    from packaging.requirements import InvalidRequirement, Requirement

    from ..errors import ArchiveError
    from .layout import PYPROJECT, name_problem

    path = root / PYPROJECT
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    if "micropkg" not in text:
        return []
    try:
        value = tomllib.loads(text).get("tool", {}).get("micropkg", {}).get("dependencies", [])
    except (tomllib.TOMLDecodeError, AttributeError):
        raise ArchiveError(f"{label}: its pyproject.toml is not valid TOML with a [tool.micropkg] table") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ArchiveError(f"{label}: [tool.micropkg] dependencies of its pyproject.toml must be a list of strings")
    out = []
    for text in value:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            req = None
        if req is None or req.url or req.marker or req.extras or name_problem(req.name):
            raise ArchiveError(f"{label}: {one_line(repr(text), 100)} in [tool.micropkg] dependencies is not a "
                               "micro-package name with a version specifier such as 'cleaning>=0.3'")
        out.append(req)
    return out
