"""One exception family: every user mistake is a MicropkgError with a one-line message.

Raised deep inside with a message that names the entry, the file and the fix; converted once,
at the doit edge (task creators -> InvalidDodoFile, actions -> TaskFailed).
"""


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


class CompileError(MicropkgError):
    """pip-compile (or the configured compiler) failed."""
