"""Rename a module prefix in Python source: imports of every form, attribute chains and dotted
string references (``mock.patch("pkg.mod.attr")``).

The stdlib parser (C, fast) finds *where* the names are; the edit is a splice of exactly those
bytes, so formatting, comments and everything else survive untouched. ``old`` and ``new`` are
dotted module names matched only at dot boundaries: renaming ``cleaning`` never touches
``cleaning_extra``. Relative imports are left alone: they stay right wherever the package goes.
"""
from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from typing import Any


def rename_module_bytes(raw: bytes, old: str, new: str) -> bytes:
    """``rename_module`` on a file's bytes. Raises ValueError (bad UTF-8, NUL) or SyntaxError."""
    return rename_module(raw.decode("utf-8"), old, new).encode("utf-8")


def rename_module(source: str, old: str, new: str) -> str:
    """``source`` with the module ``old`` (and its sub-modules) renamed to ``new``.
    Raises SyntaxError when the parser is needed and ``source`` is not Python (a file whose
    only mentions of ``old`` are ``from old... import`` lines is renamed without parsing: the
    common case, and most of a cold build's time otherwise)."""
    if old == new or old.rpartition(".")[2] not in source:  # cheap test before parsing
        return source
    simple = _only_from_imports(source, old, new)
    if simple is not None:
        return simple
    return rename_module_parsed(source, old, new)


def _only_from_imports(source: str, old: str, new: str) -> str | None:
    """The rename without parsing, for the common file whose every mention of ``old`` is a
    ``from old[.sub] import ...`` line; None whenever the parser is needed. A line that starts
    with ``from <name> import`` is an import statement unless a triple-quoted string or a
    line continuation spans it, so files with either always take the parser's path. Gives
    exactly what the parser's path gives (tests compare the two). The patterns are the same
    for every module name: nothing is compiled per micro-package."""
    if '"""' in source or "'''" in source or "\\\n" in source or "\\\r" in source:
        return None  # a triple-quoted string or a continued line may hold a ``from`` line
    if not (source.isascii() or unicodedata.is_normalized("NFKC", source)):
        return None  # the parser reads identifiers NFKC-normalised (fullwidth letters): let it
    prefix = old + "."
    spans = []
    for match in _FROM_LINE.finditer(source):
        module = match[2]
        if module == old or module.startswith(prefix):
            if not _IMPORT_CLAUSE.match(source, match.end(2)):
                return None  # ``from old .sub import``, ``from old. import``: the parser decides
            spans.append(match.start(2))
    if not spans:
        return None
    leaf = old.rpartition(".")[2]
    leaf_at = len(old) - len(leaf)
    expected = [at + leaf_at for at in spans]
    found: list[int] = []
    at = source.find(leaf)
    while at != -1:  # every mention of the last part as a word must be one of those lines'
        end = at + len(leaf)
        if not (at and _WORD.match(source, at - 1)) and not _WORD.match(source, end):
            found.append(at)
            if len(found) > len(expected):
                return None
        at = source.find(leaf, at + 1)
    if found != expected:
        return None
    parts, last = [], 0
    for at in spans:
        parts += [source[last:at], new]
        last = at + len(old)
    parts.append(source[last:])
    return "".join(parts)


_FROM_LINE = re.compile(r"^([ \t]*from[ \t]+)(\w+(?:\.\w+)*)", re.M)
_IMPORT_CLAUSE = re.compile(r"[ \t]+import\b")
_WORD = re.compile(r"\w")


def rename_module_parsed(source: str, old: str, new: str) -> str:
    """``rename_module`` always through the parser: the reference the fast path is tested
    against. Raises SyntaxError when ``source`` is not Python."""
    tree = ast.parse(source)
    data = source.encode("utf-8")
    offsets = _line_offsets(data)
    edits = list(_edits(tree, data, offsets, old, new))
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text.encode("utf-8") + data[end:]
    return data.decode("utf-8")


def _line_offsets(data: bytes) -> list[int]:
    offsets, pos = [0, 0], 0  # ast lines are 1-based
    for line in data.splitlines(keepends=True):
        pos += len(line)
        offsets.append(pos)
    return offsets


def _swap(name: str | None, old: str, new: str) -> str | None:
    if name is not None and (name == old or name.startswith(old + ".")):
        return new + name[len(old):]
    return None


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        left = _dotted(node.value)
        return None if left is None else f"{left}.{node.attr}"
    return None


def _statements(tree: ast.AST) -> list[ast.AST]:
    """Every statement of ``tree``, nested ones included (function and class bodies, branches,
    handlers, match cases), without descending into expressions."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                pending.extend(child for child in children if isinstance(child, ast.AST))
    return found


def _edits(tree: ast.AST, data: bytes, offsets: list[int], old: str, new: str) -> Iterator[tuple[int, int, str]]:
    def span(node: Any) -> tuple[int, int]:
        return offsets[node.lineno] + node.col_offset, offsets[node.end_lineno] + node.end_col_offset

    old_parent, _, old_leaf = old.rpartition(".")
    new_parent, _, new_leaf = new.rpartition(".")
    # Imports are statements: walking statements only is a fraction of a full walk. Expressions
    # matter only for attribute chains ``old.x.y`` (bound by a plain ``import old...``) and for
    # string literals that hold ``old`` (a quote right before it): only then walk everything.
    nodes = _statements(tree)
    chains = any(isinstance(n, ast.Import) and any(a.asname is None and _swap(a.name, old, old) for a in n.names)
                 for n in nodes)
    text_source = data.decode("utf-8")
    if chains or re.search(r"""[\'"]""" + re.escape(old) + r"""[.\'"]""", text_source):
        nodes = list(ast.walk(tree))
    in_fstrings = {id(c) for n in nodes if isinstance(n, ast.JoinedStr) for c in ast.walk(n)}

    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                swapped = _swap(alias.name, old, new)
                start, end = span(alias)
                if swapped and data[start:end].decode().startswith(alias.name):
                    yield start, start + len(alias.name.encode()), swapped
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            start, end = span(node)
            text = data[start:end].decode()
            swapped = _swap(node.module, old, new)
            match = re.match(r"from\s+", text)
            if swapped and match and text[match.end():].startswith(node.module):
                at = start + match.end()
                yield at, at + len(node.module.encode()), swapped
            elif old_parent and node.module == old_parent and len(node.names) == 1 and node.names[0].name == old_leaf:
                # ``from <old parent> import <old leaf> [as x]``: the module itself is imported
                bound = node.names[0].asname or old_leaf
                as_part = "" if bound == new_leaf else f" as {bound}"
                yield start, end, (f"from {new_parent} import {new_leaf}{as_part}" if new_parent
                                   else f"import {new_leaf}{as_part}")
        elif isinstance(node, ast.Attribute) and chains:
            if "." in old and _dotted(node) == old:
                yield (*span(node), new)
            elif "." not in old and isinstance(node.value, ast.Name) and node.value.id == old:
                yield (*span(node.value), new)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings:
            value = node.value
            if not (value.startswith(old + ".") or (value == old and "." in old)):
                continue
            start, end = span(node)
            literal = data[start:end].decode()
            match = re.match(r"([rRuU]?)('''|\"\"\"|'|\")", literal)
            if match and literal[match.end():len(literal) - len(match.group(2))] == value:  # one plain literal
                at = start + match.end()
                yield at, at + len(value.encode()), new + value[len(old):]
