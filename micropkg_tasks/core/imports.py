"""Which project modules a Python source refers to: absolute imports and dotted strings of
``<package>.<x>`` (what the rename rewrites), and relative imports, resolved against the file's
own package. Parsed with the stdlib ``ast`` (as ``rewrite`` is), never imported. Pure.

``mentions`` is the cheap text pre-filter task creation uses (a regular expression, no parse):
an over-approximation of the absolute references, good enough to order tasks and to declare
the files a package task depends on; the package action decides with ``references``.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True, order=True)
class Reference:
    """``line`` refers to the module ``name`` (absolute, dotted). ``kind``: ``import``,
    ``string`` (a dotted string such as ``mock.patch("acme.x.f")``) or ``relative`` (an import
    with leading dots, resolved against the file's package)."""

    line: int
    name: str
    kind: str = "import"


def references(source: str, package: str, here: tuple[str, ...]) -> list[Reference]:
    """The references of ``source`` to modules of ``package`` (absolute ones), and every relative
    import resolved against ``here``, the dotted parts of the package the file is in (a relative
    import that climbs above the top of ``here`` resolves to ``..`` parts kept in the name).
    Raises SyntaxError when ``source`` is not Python."""
    tree = ast.parse(source)
    in_fstrings = {id(c) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for c in ast.walk(n)}
    found: set[Reference] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _of(alias.name, package):
                    found.add(Reference(node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _climb(here, node.level)
                module = ".".join(base + ((node.module,) if node.module else ()))
                for alias in node.names:
                    name = module if alias.name == "*" or node.module else f"{module}.{alias.name}"
                    found.add(Reference(node.lineno, name, "relative"))
            elif node.module and _of(node.module, package):
                for alias in node.names:
                    found.add(Reference(node.lineno, node.module if alias.name == "*" else f"{node.module}.{alias.name}"))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings
              and node.value.startswith(package + ".") and _DOTTED.fullmatch(node.value)):
            found.add(Reference(node.lineno, node.value, "string"))
    return sorted(found)


_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _of(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _climb(here: tuple[str, ...], level: int) -> tuple[str, ...]:
    """The package ``level`` dots name from a file in ``here``: ``..`` parts past the top."""
    up = level - 1
    return here[:len(here) - up] if up <= len(here) else ("..",) * (up - len(here))


@cache
def _mention(package: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(package)}((?:\.[A-Za-z_]\w*)+)")


def mentions(text: str, package: str, outside: str = "") -> set[str]:
    """Every dotted name ``<package>.<x>...`` written anywhere in ``text`` (imports, strings,
    comments), without the package and but for those inside ``outside``: a regex, no parse."""
    if package not in text:
        return set()
    found = {match[1][1:] for match in _mention(package).finditer(text)}
    return {m for m in found if not (m == outside or m.startswith(outside + "."))} if outside else found


_CLIMB = re.compile(r"from\s+\.\.")  # a relative import of one dot stays in the file's package


@cache
def _bare(package: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){re.escape(package)}(?![\w.])")


def may_leave(text: str, package: str, own: str) -> bool:
    """Whether ``text`` may refer outside the micro-package ``own`` (a module path under
    ``package``): a mention of another module of the package, the package itself (``from acme
    import x``), or a relative import of two dots or more. False: nothing to parse."""
    return bool((package in text and (mentions(text, package, outside=own) or _bare(package).search(text)))
                or _CLIMB.search(text))


class PathIndex:
    """The module paths of a manifest, to tell in time linear in a mention's length which of them
    it may refer to: the ones it lies in (``pipelines.cleaning.nodes``) and, for a mention of a
    parent (``from acme import pipelines``), every one below it."""

    def __init__(self, module_paths: list[str]) -> None:
        self.paths = set(module_paths)
        self.below: dict[str, list[str]] = {}
        for path in module_paths:
            parts = path.split(".")
            for i in range(1, len(parts)):
                self.below.setdefault(".".join(parts[:i]), []).append(path)

    def related(self, mention: str) -> set[str]:
        parts = mention.split(".")
        found = {p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in self.paths}
        return found | set(self.below.get(mention, ()))


def owner(name: str, module_paths: list[str]) -> str | None:
    """The module path of the (innermost) micro-package a dotted name lies in, if any."""
    best = None
    for path in module_paths:
        if (name == path or name.startswith(path + ".")) and (best is None or len(path) > len(best)):
            best = path
    return best


def rename_files(files: dict[str, bytes], renames: list[tuple[str, str]], label: str) -> dict[str, bytes]:
    """``files`` (path -> bytes) with each module ``old`` renamed to ``new`` in the Python ones:
    a pulled micro-package's imports of its dependencies, to where they are installed."""
    from .layout import renamed

    out = dict(files)
    for old, new in sorted(renames, key=lambda pair: -len(pair[0])):
        out = {path: renamed(data, path, (old, new), label) for path, data in out.items()}
    return out


def import_edges(root: Path, package: str, files: dict[str, list[str]]) -> dict[str, list[str]]:
    """module path -> the other module paths of ``files`` (module path -> its project-relative
    files) whose modules its Python files import absolutely or name in dotted strings. Files
    that cannot be read or parsed add nothing: this draws a graph, it checks nothing."""
    paths = list(files)
    edges: dict[str, list[str]] = {}
    for module, srcs in files.items():
        found: set[str] = set()
        for src in srcs:
            if not src.endswith(".py"):
                continue
            try:
                text = (root / src).read_text(encoding="utf-8")
                refs = references(text, package, ()) if package in text else []
            except (OSError, ValueError, SyntaxError):
                continue
            for ref in refs:
                if ref.kind != "relative":
                    found.add(owner(ref.name[len(package) + 1:], paths) or module)
        edges[module] = sorted(found - {module})
    return edges
