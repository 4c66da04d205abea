"""Rename a module prefix in Python source: imports of every form, attribute chains and dotted
string references (``mock.patch("pkg.mod.attr")``), keeping formatting and comments (libcst).

The rename is purely syntactic: ``old`` and ``new`` are dotted module names, matched only at
dot boundaries, so ``cleaning_extra`` is never touched when renaming ``cleaning``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # libcst is heavy: imported only when a file really needs rewriting
    import libcst as cst


def rename_module(source: str, old: str, new: str) -> str:
    """``source`` with the module ``old`` (and its sub-modules) renamed to ``new``."""
    if old == new or old.rpartition(".")[2] not in source:  # cheap test before parsing
        return source
    import libcst as cst

    tree = cst.parse_module(source)
    return tree.visit(_Renamer(cst, old, new, _binds_root(cst, tree, old))).code


def _dotted(node) -> str | None:
    import libcst as cst

    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        left = _dotted(node.value)
        return None if left is None else f"{left}.{node.attr.value}"
    return None


def _build(cst, dotted: str):
    parts = dotted.split(".")
    node = cst.Name(parts[0])
    for part in parts[1:]:
        node = cst.Attribute(value=node, attr=cst.Name(part))
    return node


def _swap(name: str | None, old: str, new: str) -> str | None:
    if name is not None and (name == old or name.startswith(old + ".")):
        return new + name[len(old):]
    return None


def _binds_root(cst, tree, old: str) -> bool:
    """Whether a plain ``import old[.sub]`` (no ``as``) binds the chain ``old...`` in this module:
    only then are attribute chains such as ``old.nodes.helper`` references to the module."""
    found = False

    class Finder(cst.CSTVisitor):
        def visit_Import(self, node) -> None:
            nonlocal found
            for alias in node.names:
                if alias.asname is None and _swap(_dotted(alias.name), old, old):
                    found = True

    tree.visit(Finder())
    return found


def _Renamer(cst, old: str, new: str, chains: bool):
    old_parent, _, old_leaf = old.rpartition(".")
    new_parent, _, new_leaf = new.rpartition(".")

    class Renamer(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.import_depth = 0

        def visit_Import(self, node) -> None:
            self.import_depth += 1

        def visit_ImportFrom(self, node) -> None:
            self.import_depth += 1

        def leave_Import(self, original, updated):
            self.import_depth -= 1
            names = []
            for alias in updated.names:
                swapped = _swap(_dotted(alias.name), old, new)
                names.append(alias.with_changes(name=_build(cst, swapped)) if swapped else alias)
            return updated.with_changes(names=names)

        def leave_ImportFrom(self, original, updated):
            self.import_depth -= 1
            if updated.relative or updated.module is None:
                return updated
            module = _dotted(updated.module)
            swapped = _swap(module, old, new)
            if swapped:
                return updated.with_changes(module=_build(cst, swapped))
            # ``from <old parent> import <old leaf> [as x]``: the module itself is imported.
            if old_parent and module == old_parent and not isinstance(updated.names, cst.ImportStar):
                if len(updated.names) == 1 and updated.names[0].name.value == old_leaf:
                    alias = updated.names[0]
                    bound = alias.asname.name.value if alias.asname else old_leaf
                    asname = None if bound == new_leaf else cst.AsName(name=cst.Name(bound))
                    if new_parent:
                        return updated.with_changes(
                            module=_build(cst, new_parent),
                            names=[cst.ImportAlias(name=cst.Name(new_leaf), asname=asname)],
                        )
                    return cst.Import(names=[cst.ImportAlias(name=cst.Name(new_leaf), asname=asname)])
            return updated

        def leave_Attribute(self, original, updated):
            if self.import_depth or not chains:
                return updated
            if _dotted(updated) == old:
                return _build(cst, new)
            if "." not in old and isinstance(updated.value, cst.Name) and updated.value.value == old:
                return updated.with_changes(value=_build(cst, new))
            return updated

        def leave_SimpleString(self, original, updated):
            prefix = updated.prefix.lower()
            if "b" in prefix:
                return updated
            quote = updated.quote
            body = updated.value[len(updated.prefix) + len(quote): len(updated.value) - len(quote)]
            if body.startswith(old + ".") or (body == old and "." in old):
                return updated.with_changes(value=f"{updated.prefix}{quote}{new}{body[len(old):]}{quote}")
            return updated

    return Renamer()
