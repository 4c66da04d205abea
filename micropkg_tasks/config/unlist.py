"""``doit unpull``: take an entry out of ``[tool.micropkg.pull]`` (or the legacy table), so the
next ``doit pull`` does not bring back what was just removed.

tomlkit edits the document, so every comment, key order, line ending and byte of the rest of
the file stays as it was; the result is checked by parsing it again: it must be the same data
without those keys, or the file is left alone with a one-line error. Pure: text in, text out."""
from __future__ import annotations

import copy
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import ManifestError
from .migrate import reads_as

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _at(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data[part]
    return data


def remove_pull_entries(text: str, table: str, keys: Sequence[str]) -> str:
    """``text`` without the keys ``keys`` of ``[<table>.pull]`` (``table``: ``tool.micropkg`` or
    ``tool.kedro.micropkg``); ``text`` itself when there are none to remove."""
    if not keys:
        return text
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        before = tomllib.loads(text)
        doc = tomlkit.parse(text)
        section = _at(doc, f"{table}.pull")
        for key in keys:
            del section[key]
    except (tomllib.TOMLDecodeError, TOMLKitError, KeyError, TypeError) as exc:
        raise ManifestError(f"unpull: cannot take the entry out of [{table}.pull] in pyproject.toml ({exc}); "
                            "nothing was changed") from None
    out = tomlkit.dumps(doc)
    expected = copy.deepcopy(before)
    pulls = _at(expected, f"{table}.pull")
    for key in keys:
        del pulls[key]
    if not reads_as(out, expected):
        raise ManifestError(f"unpull: [{table}.pull] is written in a form that cannot be edited automatically; "
                            "nothing was changed (remove the entry by hand, then unpull again)")
    return out
