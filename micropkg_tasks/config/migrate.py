"""``doit migrate``: move the legacy ``[tool.kedro.micropkg*]`` tables to ``[tool.micropkg*]``.

tomlkit edits the document and keeps every comment, key order and byte of the rest of the
file: each legacy table keeps its place in the file and only its header is renamed. The
result is checked by parsing it again: the manifest must be the same data under its new name
and nothing else may change, or the file is left alone with a one-line error. Pure: text in,
text out."""
from __future__ import annotations

import sys
from typing import Any

from ..errors import ManifestError
from .manifest import LEGACY_TABLE, TABLE

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def migrate_text(text: str) -> str:
    """``text`` with the legacy manifest moved; ``text`` itself when there is none."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError
    from tomlkit.items import AoT, Table

    try:
        before = tomllib.loads(text)
        doc = tomlkit.parse(text)
    except (tomllib.TOMLDecodeError, TOMLKitError) as exc:
        raise ManifestError(f"pyproject.toml is not valid TOML: {exc}") from None
    tool = before.get("tool")
    kedro = tool.get("kedro") if isinstance(tool, dict) else None
    if not isinstance(kedro, dict) or "micropkg" not in kedro:
        return text
    if "micropkg" in tool:
        raise ManifestError(f"pyproject.toml has both [{TABLE}] and [{LEGACY_TABLE}]; merge them by hand")
    def rename(body: Any) -> None:  # every table of the file, where it stands (out-of-order ones too)
        for _, item in body:
            if isinstance(item, Table):
                name = item.display_name or ""
                if name == LEGACY_TABLE or name.startswith(LEGACY_TABLE + "."):
                    item.display_name = TABLE + name[len(LEGACY_TABLE):]
                rename(item.value.body)
            elif isinstance(item, AoT):
                for table in item.body:
                    rename(table.value.body)

    rename(doc.body)  # each table keeps its place in the file; only its header changes
    out = tomlkit.dumps(doc)
    expected = {**before, "tool": {**tool, "kedro": {k: v for k, v in kedro.items() if k != "micropkg"},
                                   "micropkg": kedro["micropkg"]}}
    if not reads_as(out, expected):
        raise ManifestError(f"[{LEGACY_TABLE}] is written in a form that cannot be moved automatically "
                            f"(inline or dotted keys); rename its headers to [{TABLE}...] by hand")
    return out


def reads_as(text: str, expected: Any) -> bool:
    """Whether an edited file parses to exactly the data the edit meant (tomlkit's output is
    checked by the standard parser before anything is written: migrate, unpull)."""
    try:
        return bool(tomllib.loads(text) == expected)
    except tomllib.TOMLDecodeError:
        return False


def unified_diff(before: str, after: str, name: str = "pyproject.toml") -> str:
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{name}", f"b/{name}"))
