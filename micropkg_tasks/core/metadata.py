"""Metadata without running code: ``__version__`` by parsing, requirements.txt -> PEP 508,
and PKG-INFO written and read as plain text.
"""
from __future__ import annotations

import ast
import re
import unicodedata
from email.parser import HeaderParser
from pathlib import Path

from ..errors import ArchiveError, PackageError
from ..rules import has_control

METADATA_VERSION = "2.2"


def _plain_before(head: str) -> bool:
    """Whether no bracket is left open and no line continued before the version line (else it
    could be a keyword argument or part of a string): a check, not a parse, so a file with a
    syntax error elsewhere still gives its version line, as before."""
    return "\\" not in head and all(head.count(a) == head.count(b) for a, b in ("()", "[]", "{}"))


def read_version(init_file: str | Path, shown: str = "") -> str | None:
    """The string assigned to a top-level ``__version__`` in ``init_file``, never importing it;
    messages name the file ``shown`` (by default its path)."""
    try:
        with open(init_file, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return None
    shown = shown or str(init_file)
    if "__version__" not in text:
        return None
    simple = list(_SIMPLE_VERSION.finditer(text))
    doc_end = _LEADING_DOCSTRING.match(text).end()  # type: ignore[union-attr]  # it matches ""
    body = text[doc_end:]
    if (len(simple) == 1 and simple[0].start() >= doc_end and text.count("__version__") == 1
            and '"""' not in body and "'''" not in body and _plain_before(text[doc_end:simple[0].start()])
            and (text.isascii() or unicodedata.is_normalized("NFKC", text))):
        return simple[0][2]  # one plain top-level line: what the parser would find, without it
    try:
        tree = ast.parse(text, filename=shown)
    except SyntaxError as exc:
        raise PackageError(f"{shown}: cannot read __version__, the file has a syntax error (line {exc.lineno})") from None
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "__version__" for t in targets):
            assert isinstance(node, (ast.Assign, ast.AnnAssign))
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                return value.value
            raise PackageError(f"{shown}: __version__ must be a string literal to be read without running code")
    return None


#: ``__version__ = "1.2"`` at the start of a line (top level), a plain string, maybe a comment after.
_SIMPLE_VERSION = re.compile(r"""^__version__[ \t]*(?::[ \t]*str[ \t]*)?=[ \t]*(["'])([^"'\\\n]*)\1[ \t]*(?:#[^\n]*)?$""", re.M)
#: Blank and comment lines, then maybe a module docstring without quotes or backslashes inside
#: (a starter's ``"""Pipeline x."""``): what a file may start with and keep the fast path.
_LEADING_DOCSTRING = re.compile(r'''(?:[ \t]*(?:#[^\n]*)?\n)*(?:(?:"""[^"\\]*"""|\'\'\'[^\'\\]*\'\'\')[ \t]*(?:\n|\Z))?''')
_CANONICAL = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")


def normalise_version(version: str, where: str) -> str:
    if _CANONICAL.fullmatch(version):  # already PEP 440's normal form: no need to import packaging
        return version
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        raise PackageError(f"{where}: __version__ {version!r} is not a PEP 440 version") from None




_RELEASE = r"(?:0|[1-9][0-9]*)"
#: The common requirement line packaging renders unchanged: a PEP 508 name, maybe one comparison
#: with a plain release (``~=`` needs two parts). Tests check it against packaging's rendering.
_RENDERED = re.compile(rf"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
                       rf"(?:(?:[<>]=?|[=!]=){_RELEASE}(?:\.{_RELEASE})*|~={_RELEASE}(?:\.{_RELEASE})+)?")


def render_requirement(text: str) -> str:
    """``text`` parsed as PEP 508 and rendered by ``packaging``: the only spelling of a
    requirement we ever write into a requirements file. Raises ValueError (one line) for
    anything else: options, control characters (a form feed in a marker string splits a line
    for pip), or what pip would read as an option or comment (`` -x`` / `` #``) or a line
    continuation inside the rendered text."""
    if _RENDERED.fullmatch(text):  # already what packaging renders: no need to import it
        return text
    from packaging.requirements import InvalidRequirement, Requirement

    if has_control(text):
        raise ValueError("it has control characters")
    try:
        rendered = str(Requirement(text))
    except InvalidRequirement as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    if has_control(rendered) or re.search(r"\s[-#]", rendered) or rendered.endswith("\\"):
        raise ValueError("pip would read part of it as an option, a comment or a line continuation")
    return rendered


def parse_requirement_line(line: str) -> str | None:
    """One requirements.txt line -> its normalised PEP 508 string, None for blank/comment lines.

    Raises ValueError (with the parser's reason) for anything that is not a requirement.
    """
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    stripped = re.split(r"\s#", stripped, maxsplit=1)[0].strip()
    if stripped.startswith("-") or stripped.endswith("\\"):
        raise ValueError("options, -r/-e lines and line continuations are not requirements")
    return render_requirement(stripped)


def parse_requirements(text: str, shown: str) -> list[str]:
    """PEP 508 lines of a micro-package's ``requirements.txt`` (its text, deduplicated); anything
    else is a PackageError naming ``shown`` (the file) and the line."""
    result = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            req = parse_requirement_line(line)
        except ValueError as exc:
            raise PackageError(f"{shown}:{number}: {line.strip()!r} is not a PEP 508 requirement ({exc})") from None
        if req and req not in result:
            result.append(req)
    return result


def render_pkg_info(name: str, version: str, requirements: list[str]) -> str:
    lines = [
        f"Metadata-Version: {METADATA_VERSION}",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: Micro-package `{name}`",
    ]
    lines += [f"Requires-Dist: {req}" for req in requirements]
    return "\n".join(lines) + "\n"


def parse_pkg_info(text: str, where: str) -> tuple[str, str, list[str]]:
    """(name, version, requirements) from PKG-INFO text; malformed metadata is an ArchiveError."""
    from packaging.version import InvalidVersion, Version

    msg = HeaderParser().parsestr(text)
    name, version = msg.get("Name"), msg.get("Version")
    if not name or not version:
        raise ArchiveError(f"{where}: PKG-INFO has no Name or Version")
    name, version = name.strip(), version.strip()
    if has_control(name) or has_control(version):
        raise ArchiveError(f"{where}: PKG-INFO Name or Version has a line break or control characters")
    try:
        Version(version)
    except InvalidVersion:
        raise ArchiveError(f"{where}: PKG-INFO Version {version!r} is not a PEP 440 version") from None
    requirements = []
    for raw in msg.get_all("Requires-Dist") or []:
        try:
            requirements.append(render_requirement(raw.strip()))
        except ValueError as exc:
            raise ArchiveError(f"{where}: PKG-INFO Requires-Dist {raw!r} is not a PEP 508 requirement we can "
                               f"write to requirements.in ({exc})") from None
    return name, version, requirements
