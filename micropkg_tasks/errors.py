"""One exception family: every user mistake is a MicropkgError with a one-line message.

Raised deep inside with a message that names the entry (``where``), the file and the fix;
converted once, at the doit edge (``tasks/edge.py``: task creators -> InvalidDodoFile,
actions -> TaskFailed) and at the Kedro plugin's edge (a one-line message, exit 1).
"""
from __future__ import annotations


class MicropkgError(Exception):
    """A user-facing problem. ``str(err)`` is the whole message, on one line."""


class ManifestError(MicropkgError):
    """``pyproject.toml`` or a command-line option is malformed."""


class PackageError(MicropkgError):
    """A micro-package cannot be packaged as asked (missing folder, no version, bad requirement)."""


class SourceError(MicropkgError):
    """A pull source cannot be fetched (missing file, download error, no sdist on the index)."""


class ArchiveError(MicropkgError):
    """An sdist is malformed or hostile; nothing was extracted outside a temporary folder."""


class ConflictError(MicropkgError):
    """A pull would overwrite files the user changed or owns; nothing was changed."""


class LockError(MicropkgError):
    """``micropkg.lock`` is unreadable, of an unknown version, or names paths a pull cannot own."""


class ApplyError(MicropkgError):
    """Applying file changes (or rolling them back) failed on the file system."""


class PublishError(MicropkgError):
    """An upload is refused (a published version with other bytes) or fails; nothing was replaced."""


class CompileError(MicropkgError):
    """pip-compile (or the configured compiler) failed."""


def where(kind: str, key: str) -> str:
    """How every message names its entry: ``package 'pipelines.x'``, ``pull 'dist/x.tar.gz'``."""
    return f"{kind} {key!r}"


def one_line(text: str, limit: int = 300) -> str:
    """``text`` safe to print as one line: control characters shown escaped, length capped."""
    if len(text) <= limit and text.isprintable():
        return text
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
