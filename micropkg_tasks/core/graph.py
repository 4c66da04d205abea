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
    is named every time. Iterative: a chain of thousands of micro-packages is no recursion."""
    done: set[str] = set()
    for start in sorted(edges):
        if start in done:
            continue
        path: list[str] = [start]
        on_path: set[str] = {start}
        stack = [iter(sorted(edges.get(start, ())))]
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if dep in on_path:
                return path[path.index(dep):] + [dep]
            if dep in done:
                continue
            path.append(dep)
            on_path.add(dep)
            stack.append(iter(sorted(edges.get(dep, ()))))
    return None


def topological(edges: Edges, nodes: Sequence[str] | None = None) -> list[str]:
    """``nodes`` (default: every node) with each one's dependencies first, otherwise in the given
    order. Raises ValueError naming a cycle."""
    cycle = find_cycle(edges)
    if cycle:
        raise ValueError(" -> ".join(cycle))
    order: list[str] = []
    seen: set[str] = set()
    for node in nodes if nodes is not None else list(edges):
        if node in seen:
            continue
        seen.add(node)
        stack = [(node, iter(edges.get(node, ())))]
        while stack:  # post-order without recursion: dependencies first
            current, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                order.append(current)
            elif dep not in seen:
                seen.add(dep)
                stack.append((dep, iter(edges.get(dep, ()))))
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

    def walk(start: str) -> None:  # pre-order without recursion
        stack: list[tuple[str, int, frozenset[str]]] = [(start, 0, frozenset())]
        while stack:
            node, depth, trail = stack.pop()
            prefix = "  " * depth + ("└─ " if depth else "")
            deps = sorted(edges.get(node, ()))
            if node in trail:
                lines.append(f"{prefix}{label[node]} (cycle)")
                continue
            if node in shown and deps:
                lines.append(f"{prefix}{label[node]} (see above)")
                continue
            shown.add(node)
            lines.append(f"{prefix}{label[node]}")
            stack.extend((dep, depth + 1, trail | {node}) for dep in reversed(deps))

    for root in roots:
        walk(root)
    for node in nodes:  # nodes only on a cycle have no root
        if node not in shown:
            walk(node)
    return ["  " + line for line in lines] if lines else ["  (no micro-packages)"]


MAX_DEPENDENCY_DEPTH = 32  # micro-packages pulled along one chain of imports, the first included


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
    from ..rules import name_problem
    from .layout import PYPROJECT

    path = root / PYPROJECT
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    if "micropkg" not in text:
        return []
    try:
        value = tomllib.loads(text).get("tool", {}).get("micropkg", {}).get("dependencies", [])
    except (tomllib.TOMLDecodeError, AttributeError, RecursionError):  # nested thousands deep: refused too
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
