"""One package task end to end: plan the sdist's members, then write them atomically.

Every input is stamped (size, mtime and ctime in ns, inode) before anything is read and again once the tarball
is complete, before it replaces the old one: a file edited meanwhile fails the task, so doit
does not record the new text as built into a stale sdist, and the next run rebuilds it."""
from __future__ import annotations

import os

from ..config.project import Project
from ..core.collect import MicroPackage, Read, check_imports, reader
from ..core.sdist import plan_sdist
from ..errors import PackageError, one_line
from ..errors import where as entry
from ..rules import DEFAULT_MAX_SIZE, format_size
from ..store.outputs import Written
from ..store.tarball import write_sdist

Stamp = tuple[int, int, int, int]


def package(project: Project, mp: MicroPackage,
            max_size: int = DEFAULT_MAX_SIZE) -> tuple[MicroPackage, list[str], Written]:
    """Check what ``mp`` imports, write its sdist; return it with the micro-packages it imports
    (``requires``), the lines to tell the user and the sdist's record (``store.outputs``). Every
    file is read once, after it is stamped."""
    where = entry("package", mp.spec.module_path)
    inputs = mp.file_dep
    root = str(project.root)
    before = [_stamp(f"{root}/{src}", src, where) for src in inputs]
    shipped = {src for src, _ in mp.code + mp.config + mp.tests}
    check_size([(src, stamp[0]) for src, stamp in zip(inputs, before) if src in shipped], max_size, where)

    def unchanged() -> None:
        for src, stamp in zip(inputs, before):
            try:
                now = _stamp(f"{root}/{src}", src, where)
            except PackageError:
                now = None
            if now != stamp:
                raise PackageError(f"{where}: {one_line(src)} changed while it was packaged; "
                                   "run doit package again")

    read = reader(project, mp)
    check_markers(mp, read, where)
    mp, warnings = check_imports(project, mp, read)  # self-contained? its dependencies
    try:
        written = write_sdist(plan_sdist(project, mp, read), project.root / mp.target, max_size, unchanged)
    except OSError as exc:
        folder = mp.target.rsplit("/", 1)[0]
        raise PackageError(f"{where}: cannot write {one_line(mp.target)} ({exc.strerror}); "
                           f"{one_line(folder)} must be a writable folder") from None
    shown = f" as {mp.spec.alias!r}" if mp.spec.alias else ""
    recorded = [f"it imports micro-package {d.module_path}: recorded as the dependency {d.requirement} "
                f"([tool.micropkg] dependencies of its pyproject.toml; a pull brings it along)" for d in mp.requires]
    return mp, [*warnings, *recorded, f"packaged '{project.package_name}.{mp.spec.module_path}'{shown} -> {mp.target}"], \
        written


def check_markers(mp: MicroPackage, read: Read, where: str) -> None:
    """Refuse a micro-package whose parameter files or Python files still hold git-style conflict
    markers (an upgrade with --merge=markers left them): it would ship them. Python files are read
    once anyway (the import check); parameter files are small."""
    from ..lifecycle.merge import has_markers

    for src, _ in [*mp.config, *(item for item in mp.code + mp.tests if item[0].endswith(".py"))]:
        if has_markers(read(src)):
            raise PackageError(f"{where}: {one_line(src)} still holds conflict markers (<<<<<<< ... >>>>>>>); "
                               "resolve them, then package again")


def check_size(sizes: list[tuple[str, int]], max_size: int, where: str) -> None:
    """Refuse, naming the biggest files, an sdist whose files add up to more than ``max_size``:
    pull refuses such archives, so they are never written."""
    total = sum(size for _, size in sizes)
    if total <= max_size:
        return
    biggest = sorted(sizes, key=lambda item: (-item[1], item[0]))[:3]
    shown = ", ".join(f"{one_line(src)} ({format_size(size)})" for src, size in biggest)
    raise PackageError(f"{where}: its files add up to {format_size(total)}, over the max-size limit of "
                       f"{format_size(max_size)} that pull also applies (biggest: {shown}); "
                       "move data out of the micro-package or raise [tool.micropkg] max-size")


def _stamp(path: str, src: str, where: str) -> Stamp:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise PackageError(f"{where}: {one_line(src)} cannot be read ({exc.strerror})") from None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino  # ctime: an edit that restores the mtime
