"""Three-way merges of the files a user edited since the pull, as plain data in and out: base =
the file as previously pulled, ours = the local file, theirs = the new version. merge3 (the
merge of bzr/breezy) does the line merging; nothing here reads or writes files."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Merged:
    """``files``: path -> merged bytes (clean, or with markers when asked); ``clean``: the paths
    merged without conflict; ``conflicted``: the paths that kept conflicting hunks (written with
    markers only in markers mode, else left out of ``files``)."""

    files: Mapping[str, bytes] = field(default_factory=dict)
    clean: tuple[str, ...] = ()
    conflicted: tuple[str, ...] = ()


def has_markers(data: bytes) -> bool:
    """Whether ``data`` still holds a git-style conflict: a line starting ``<<<<<<< ``, then a later
    line starting ``>>>>>>> ``. Two ``find`` calls, linear in the size of the file whatever it holds
    (a regular expression with two ``.*`` was cubic: 15 KB of marker-like lines took 47 s)."""
    start = _line_starting(data, b"<<<<<<< ", 0)
    return start >= 0 and _line_starting(data, b">>>>>>> ", start + 1) >= 0


def _line_starting(data: bytes, prefix: bytes, start: int) -> int:
    """Where the first line at or after ``start`` that begins with ``prefix`` begins, or -1."""
    if start == 0 and data.startswith(prefix):
        return 0
    found = data.find(b"\n" + prefix, max(start - 1, 0))
    return found + 1 if found >= 0 else -1


def to_merge(plan_hashes: Mapping[str, str], recorded: Mapping[str, str], current: Mapping[str, str | None],
             owners: Mapping[str, str], module: str) -> list[str]:
    """The paths an upgrade must merge: installed by this module's last pull, edited since,
    changed upstream too, and not identical to the new version already."""
    return sorted(
        path for path, new in plan_hashes.items()
        if path in recorded and owners.get(path, module) == module
        and current.get(path) not in (None, recorded[path], new) and recorded[path] != new
    )


def merge_file(base: bytes, ours: bytes, theirs: bytes, ours_label: str, theirs_label: str) -> tuple[bytes, bool]:
    """(merged bytes, clean?). Conflicting hunks are framed by git-style markers. A file with NUL
    bytes is not text: never merged line by line, it is one conflict."""
    if b"\0" in base + ours + theirs:
        return ours, False
    import merge3

    m = merge3.Merge3(base.splitlines(keepends=True), ours.splitlines(keepends=True), theirs.splitlines(keepends=True))
    clean = all(group[0] != "conflict" for group in m.merge_groups())
    lines = m.merge_lines(name_a=ours_label.encode(), name_b=theirs_label.encode())
    return b"".join(_ended(lines)), clean


def _ended(lines: Iterable[bytes]) -> list[bytes]:
    """merge3's lines, with a newline after a last line that lacks one before a marker."""
    out: list[bytes] = []
    for line in lines:
        if out and not out[-1].endswith((b"\n", b"\r")) and line.startswith((b"=======", b">>>>>>> ")):
            out[-1] += b"\n"
        out.append(line)
    return out


def merge_edits(bases: Mapping[str, bytes], ours: Mapping[str, bytes], theirs: Mapping[str, bytes],
                labels: tuple[str, str], markers: bool) -> Merged:
    """Merge every path of ``ours`` (the edited files) three ways; see ``Merged``."""
    files: dict[str, bytes] = {}
    clean, conflicted = [], []
    for path in sorted(ours):
        data, ok = merge_file(bases[path], ours[path], theirs[path], *labels)
        if ok:
            clean.append(path)
            files[path] = data
        else:
            conflicted.append(path)
            if markers and b"\0" not in data:
                files[path] = data
    return Merged(files, tuple(clean), tuple(conflicted))
