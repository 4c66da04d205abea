"""What an input may be, written once: module paths, env and destination names, micro-package
names, safe relative POSIX paths, control characters, name and path lengths, size limits,
timeouts, URL schemes and sha256 digests.

The manifest, the command-line options, the lock reader, the archive checks and the sources all
ask here, so what one layer accepts no other refuses later (a non-ASCII env used to be accepted
by the manifest, written into the lock, and refused by every later command reading it back).
The bottom layer: the standard library and ``errors`` only. Each check returns why a value is
refused as a phrase (``"has a NUL, newline or other control character"``), or None; the caller
names the entry and raises its own error, so every message keeps its one line.

Names are ASCII: a module path, an env, a destination part and a micro-package name are ASCII
identifiers (an env may also hold ``.`` and ``-``), as Kedro's package names and folder names
are in practice; NFKC look-alikes such as fullwidth ``ｂａｓｅ`` are refused before anything is
written. Paths (archive members, files recorded in the lock, destinations of sdists) may be any
printable UTF-8.
"""
from __future__ import annotations

import keyword
import math
import re
import sys
import unicodedata
from typing import Any

#: The longest file name most file systems take (ext4, xfs, btrfs, tmpfs, APFS; NTFS in UTF-16
#: units), in bytes, and the longest path Linux takes.
NAME_MAX = 255
PATH_MAX = 4096
#: A micro-package's name (alias or package folder): short enough for any tooling that shows it.
MAX_NAME = 100
RESERVED_NAMES = frozenset({"__init__", "__pycache__", "__main__"})
#: What an sdist file name ends with.
SDIST_SUFFIXES = (".tar.gz", ".tgz")
#: One limit on both sides: packaging refuses an sdist whose files add up to more, and pull
#: refuses an archive, or its unpacked contents, over it (``[tool.micropkg] max-size``).
DEFAULT_MAX_SIZE = 256 << 20
#: Seconds for the whole download of one sdist (``[tool.micropkg] timeout``).
DEFAULT_TIMEOUT = 300.0

CONTROL = "has a NUL, newline or other control character"
TOO_LONG = f"has a part longer than {NAME_MAX} bytes (or is over {PATH_MAX}); no file system takes it"

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ENV = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")  # with fullmatch: "$" would pass "x\n"
_DRIVE = re.compile(r"[A-Za-z]:")
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}
_SIZE = re.compile(r"(\d{1,15}) ?([A-Za-z]{0,3})")


# -- characters and lengths ----------------------------------------------------------------------

def has_control(text: str) -> bool:
    """Whether ``text`` holds anything that is not printable on one line: control characters,
    NUL, line and paragraph separators, non-ASCII spaces, lone surrogates (undecodable bytes)."""
    return not text.isprintable()


def is_utf8(text: str) -> bool:
    """Whether ``text`` encodes to UTF-8 (no lone surrogates smuggled from undecodable bytes)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def too_long(parts: list[str]) -> bool:
    """Whether a path of these parts has one over NAME_MAX bytes, or all over PATH_MAX."""
    sizes = [len(p.encode("utf-8", "surrogateescape")) for p in parts]
    return any(size > NAME_MAX for size in sizes) or sum(sizes) + len(sizes) > PATH_MAX


# -- names -----------------------------------------------------------------------------------------

def is_identifier(part: str) -> bool:
    """An ASCII Python identifier that is not a keyword: a module path part, a destination part."""
    return part.isascii() and part.isidentifier() and not keyword.iskeyword(part)


def module_path_problem(text: str) -> str | None:
    """Why ``text`` is not a dotted module path such as ``pipelines.cleaning``, or None."""
    parts = text.split(".")
    if not all(is_identifier(p) for p in parts):
        return "is not a Python module path such as 'pipelines.cleaning' (ASCII identifiers separated by dots)"
    if too_long(parts):
        return TOO_LONG
    return None


def env_problem(env: str) -> str | None:
    """Why ``env`` cannot name one folder of ``conf/``, or None: ASCII letters, digits, ``_``,
    ``.`` and ``-``, not starting with ``.`` or ``-``, no ``..``."""
    if not _ENV.fullmatch(env) or ".." in env:
        return ("must be the name of one folder in conf/ (ASCII letters, digits, '_', '.', '-'; "
                "no '/', no '..')")
    if too_long([env]):
        return TOO_LONG
    return None


def destination_problem(dest: str) -> str | None:
    """Why ``dest`` (already a safe relative path, ``/`` or ``.`` between parts) cannot be where a
    pull lands under the project package, or None."""
    if not all(is_identifier(p) for p in dest.replace(".", "/").split("/")):
        return "must be package names separated by '/' such as 'pipelines/lib' (ASCII identifiers)"
    return None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a micro-package's folder (a pulled package or an alias), or None.

    NFKC-normalised first, as Python normalises identifiers (fullwidth ``ｏｓ`` is ``os``): an
    ASCII identifier of at most ``MAX_NAME`` characters that is not a keyword, not a reserved
    dunder and not a standard-library module (the import rename would rewrite its imports).
    The project's own package name is checked where the project is known (``core/install``)."""
    if len(name) > MAX_NAME:
        return f"is longer than {MAX_NAME} characters"
    norm = unicodedata.normalize("NFKC", name)
    also = f" (it normalises to {norm!r})" if norm != name else ""
    if not norm.isidentifier() or keyword.iskeyword(norm):
        return f"is not a valid Python package name (letters, digits, underscores; not a keyword){also}"
    if norm in RESERVED_NAMES:
        return f"is reserved by Python{also}"
    if norm in sys.stdlib_module_names:
        return f"is a standard-library module name{also}"
    if not name.isascii():
        return f"must be ASCII letters, digits and underscores{also}"
    return None


# -- paths -----------------------------------------------------------------------------------------

def path_problem(path: str) -> str | None:
    """Why ``path`` is not a safe relative POSIX path, or None: the one rule for archive members,
    files the lock records, and folders the manifest names. Not empty, UTF-8, no control
    character, no backslash, not absolute (``/x``, ``C:x``), no ``..``, ``.``, empty or blank
    part, no part over NAME_MAX bytes."""
    if not path:
        return "is empty"
    if not is_utf8(path):
        return "has a name that is not valid UTF-8"
    if has_control(path):
        return CONTROL
    if "\\" in path:
        return "has a backslash (paths are POSIX, '/' between parts)"
    if path.startswith("/") or _DRIVE.match(path):
        return "is an absolute path"
    parts = path.split("/")
    if any(p in ("..", ".") or not p.strip() for p in parts):  # "a/ /b": a blank part is empty too
        return "has a '..', '.' or empty path component"
    if too_long(parts):
        return TOO_LONG
    return None


def folder_problem(path: str) -> str | None:
    """Why ``path`` cannot be an output folder (where an sdist is written: relative, absolute or
    ``~/...``, inside the project or not), or None: printable, POSIX (no backslash, no drive
    letter), no part over NAME_MAX bytes."""
    if has_control(path):
        return CONTROL
    if "\\" in path or _DRIVE.match(path):
        return "must be a POSIX path ('/' separators)"
    if too_long([p for p in path.split("/") if p]):
        return TOO_LONG
    return None


def normal_path(path: str) -> str:
    """A relative path as the user may write it (``./dist/``, ``a//b``) in the one spelling
    ``path_problem`` accepts (``dist``, ``a/b``); anything else is left for it to refuse."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return "/".join(parts) if parts and not path.startswith("/") else path


# -- URLs and digests -------------------------------------------------------------------------------

def url_scheme(text: str) -> str | None:
    """The scheme of ``scheme://...`` in lower case, None when ``text`` is not a URL (a path,
    a requirement): the one spelling test of a URL."""
    match = _SCHEME.match(text)
    return match[1].lower() if match else None


def is_url(text: str) -> bool:
    return url_scheme(text) is not None


def is_http(text: str) -> bool:
    return url_scheme(text) in ("http", "https")


def is_sha256(text: Any) -> bool:
    """64 lower-case hex digits, the whole string."""
    return isinstance(text, str) and _SHA256.fullmatch(text) is not None


# -- limits ------------------------------------------------------------------------------------------

def parse_size(value: Any) -> int | None:
    """A positive number of bytes from an int or a string such as "256MiB" or "1GB" (B, kB/MB/GB
    powers of 1000, KiB/MiB/GiB powers of 1024); None when it is anything else."""
    size = None
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value)) and match[2].lower() in _UNITS:
        size = int(match[1]) * _UNITS[match[2].lower()]
    return size if size is not None and size > 0 else None


def format_size(size: int) -> str:
    """Bytes as people read them: 300.0 MiB, 12 KiB, 17 bytes."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def parse_timeout(value: Any) -> float | None:
    """A positive, finite number of seconds; None when it is anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        return None
    return float(value)
