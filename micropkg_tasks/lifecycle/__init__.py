"""The life of a pulled micro-package after the pull: what drifted (status), how (diff), whether
upstream moved on (outdated), and upgrades that merge local edits three ways (merge, base).
status/diff/merge are pure; base and outdated do the reading and fetching."""
from __future__ import annotations

from ..errors import MicropkgError


class CheckFailed(MicropkgError):
    """``--check`` found drift or a newer upstream: the task fails (exit 1) with one line."""
