"""A content-addressed cache of pulled archives, ``.micropkg/cache/<sha256>.tar.gz``: the base of
a later three-way merge and of ``doit diff``. Written atomically; every read is checked against
its sha256 (a changed or torn file is removed and reported as a miss), so a cached archive is
exactly the one the lock records."""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from pathlib import Path
from typing import IO

from ..config.project import Project
from ..rules import DEFAULT_MAX_SIZE, is_sha256
from .files import CHUNK, atomic_write_via, sha256_file

CACHE_DIR = "cache"
SUFFIX = ".tar.gz"


def cache_path(project: Project, sha256: str) -> Path:
    return project.state_dir / CACHE_DIR / f"{sha256}{SUFFIX}"


def put(project: Project, archive: Path, sha256: str) -> None:
    """Keep ``archive`` (whose sha256 the caller computed) unless it is cached already. The copy
    is hashed as it is written; a mismatch (the file changed under us) caches nothing."""
    target = cache_path(project, sha256)
    if target.is_file() or (target.parent.exists() and not _usable(project)):
        return  # cached already, or the cache folder is not ours to write into

    def write(out: IO[bytes]) -> None:
        digest = hashlib.sha256()
        with archive.open("rb") as src:
            for chunk in iter(lambda: src.read(CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ValueError("changed while cached")

    with contextlib.suppress(ValueError, OSError):  # a cache is best effort: the pull stands without it
        atomic_write_via(target, write)


def _usable(project: Project) -> bool:
    """The cache folder is a real folder of the state folder, not a link leading elsewhere."""
    try:
        return stat.S_ISDIR(os.lstat(project.state_dir / CACHE_DIR).st_mode) and \
            stat.S_ISDIR(os.lstat(project.state_dir).st_mode)
    except OSError:
        return False


def get(project: Project, sha256: str, dest: Path, limit: int = DEFAULT_MAX_SIZE) -> bool:
    """Copy the cached archive of ``sha256`` to ``dest`` and check the copy; False (and nothing
    at ``dest``) when it is not cached, is not a regular file of at most ``limit`` bytes, or does
    not match its name (then it is removed)."""
    source = cache_path(project, sha256)
    try:
        st = os.lstat(source)
        if not _usable(project) or not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return False
        shutil.copyfile(source, dest)
    except OSError:
        return False
    if sha256_file(dest) == sha256:
        return True
    dest.unlink()
    with contextlib.suppress(OSError):
        source.unlink()
    return False


def prune(project: Project, keep: set[str]) -> None:
    """Remove cached archives no lock entry records (called under the project lock)."""
    if not _usable(project):
        return
    try:
        entries = list(os.scandir(project.state_dir / CACHE_DIR))
    except OSError:
        return
    for entry in entries:
        sha = entry.name.removesuffix(SUFFIX)
        if entry.name.endswith(SUFFIX) and is_sha256(sha) and sha not in keep and not entry.is_symlink():
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
