"""Tarballs on disk, both ways.

Writing: the same members give the same bytes whatever the files' times, modes, owners, umask,
the checkout path or the environment (members sorted, fixed mtime/mode/owner, gzip header
without name or time; ``SOURCE_DATE_EPOCH`` is ignored: a published version is immutable, so
bytes that moved with it would make an unchanged micro-package unpublishable), and the tarball
appears under its final name only when complete.

Reading: every member is checked before anything is written, and files are written by us
(contents only, fixed modes) into a temporary folder. Links, devices, escapes, duplicates and
bombs are refused with a message naming the member."""
from __future__ import annotations

import contextlib
import errno
import gzip
import io
import re
import tarfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING

from ..core.metadata import parse_pkg_info
from ..errors import ArchiveError, PackageError
from ..rules import DEFAULT_MAX_SIZE, format_size, name_problem, path_problem
from .outputs import Written, write_output

if TYPE_CHECKING:
    import zipfile

    from ..core.install import Sdist
    from ..core.sdist import Member

MAX_MEMBERS = 10_000
IGNORED_TOP = re.compile(r".*\.egg-info$")
TYPE_NAMES = {tarfile.SYMTYPE: "a symlink", tarfile.LNKTYPE: "a hardlink", tarfile.CHRTYPE: "a character device",
              tarfile.BLKTYPE: "a block device", tarfile.FIFOTYPE: "a FIFO", tarfile.CONTTYPE: "a contiguous file"}
#: The one time of every member of our sdists and wheels, whatever ``SOURCE_DATE_EPOCH`` says:
#: 2000-01-01, after 1980, so wheels built from the sdist can zip it.
EPOCH = 946684800


# -- writing ---------------------------------------------------------------------------------

def write_tar_gz(members: list[Member], fileobj: IO[bytes], limit: int | None = None) -> None:
    """Write ``members`` as a reproducible gzip'd PAX tar to a binary file object; more than
    ``limit`` bytes of contents is a PackageError (what pull would refuse is never written)."""
    mtime = EPOCH
    total = 0
    with gzip.GzipFile(filename="", mode="wb", fileobj=fileobj, mtime=0, compresslevel=9) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for member in members:
                data = member.read()
                total += len(data)
                if limit is not None and total > limit:
                    raise PackageError(f"{member.label or member.name}: the sdist would unpack to more than "
                                       f"{limit} bytes, the max-size limit; nothing was written")
                info = tarfile.TarInfo(member.name)
                info.size, info.mtime, info.mode = len(data), mtime, 0o644
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))


def write_sdist(members: list[Member], target: Path, limit: int | None = None,
                before_replace: Callable[[], None] | None = None) -> Written:
    """Write the sdist atomically; return its record (``store.outputs``). ``before_replace``
    runs once the tarball is complete but not yet in place: raising there leaves nothing behind
    (nor any folder this call made)."""
    def write(fh: IO[bytes]) -> None:
        write_tar_gz(members, fh, limit)
        if limit is not None and fh.tell() > limit:
            raise PackageError(f"{target.name}: the sdist is over {limit} bytes, the max-size limit; nothing was written")
        if before_replace is not None:
            before_replace()

    made = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
    try:
        return write_output(target, write)
    except BaseException:
        for folder in made:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


# -- reading ---------------------------------------------------------------------------------

def check_name(name: str) -> str | None:
    """Why a member name is unsafe, or None: the one safe-path rule (``rules.path_problem``)
    the lock also reads its files with; a folder member may end with ``/``."""
    return path_problem(name[:-1] if name.endswith("/") and not name.startswith("/") else name)


def check_members(members: Iterable[tarfile.TarInfo], archive: str,
                  limit: int = DEFAULT_MAX_SIZE) -> tuple[str, list[tarfile.TarInfo]]:
    """Validate members lazily (stop at the first bad one, before a bomb is read through);
    returns the top folder and the members."""
    seen: dict[str, str] = {}
    top, checked, total = None, [], 0
    for count, m in enumerate(members, 1):
        if count > MAX_MEMBERS:
            raise ArchiveError(f"{archive}: more than {MAX_MEMBERS} members; refusing it")
        why = check_name(m.name)
        if why:
            raise ArchiveError(f"{archive}: member {m.name!r} {why}")
        if not (m.isreg() or m.isdir()):
            raise ArchiveError(f"{archive}: member {m.name!r} is {TYPE_NAMES.get(m.type, 'not a regular file')}")
        total += m.size
        if total > limit:
            raise ArchiveError(f"{archive}: unpacks to more than {format_size(limit)}, the max-size limit; refusing it "
                               "(raise [tool.micropkg] max-size to accept it)")
        name = m.name.rstrip("/")
        first = name.split("/", 1)[0]
        if top is None:
            top = first
        elif first != top:
            raise ArchiveError(f"{archive}: two top folders {top!r} and {first!r}; an sdist has one")
        if name == top and m.isreg():
            raise ArchiveError(f"{archive}: {name!r} is a file; an sdist has one top folder")
        folded = name.casefold()
        if folded in seen:
            other = seen[folded]
            same = other == name
            raise ArchiveError(f"{archive}: member {name!r} appears twice" if same else
                               f"{archive}: members {other!r} and {name!r} differ only in case")
        seen[folded] = name
        checked.append(m)
    if top is None:
        raise ArchiveError(f"{archive}: the archive is empty")
    return top, checked


def _unpack_error(exc: BaseException, label: str, dest: Path, kind: str) -> ArchiveError:
    """Why unpacking an archive (``kind``: ".tar.gz" or "wheel") failed, as one line."""
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return ArchiveError(f"{label}: a member's path is too long for the file system; refusing it")
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return ArchiveError(f"{label}: cannot unpack it into the temporary folder {dest} ({exc.strerror}); "
                            "free space there, or set TMPDIR to a folder with more room")
    if isinstance(exc, (FileExistsError, NotADirectoryError, IsADirectoryError)):
        return ArchiveError(f"{label}: a member collides with another one ({exc.filename})")
    return ArchiveError(f"{label}: not a readable {kind} ({type(exc).__name__}: {exc})")


def extract(archive: Path, dest: Path, label: str, limit: int = DEFAULT_MAX_SIZE) -> Sdist:
    """Check and extract ``archive`` into the empty folder ``dest``; return what it holds."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            top, members = check_members(tar, label, limit)
            for m in members:
                target = dest.joinpath(*PurePosixPath(m.name.rstrip("/")).parts)
                if m.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(m)
                assert src is not None  # a regular file
                with target.open("xb") as out:  # x: never through an existing path
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise _unpack_error(exc, label, dest, ".tar.gz") from None
    return inspect_tree(dest / top, label)


WHEEL_SUFFIX = ".whl"


def is_wheel(source: str) -> bool:
    return source.split("?", 1)[0].endswith(WHEEL_SUFFIX)


def extract_wheel(archive: Path, dest: Path, label: str, limit: int = DEFAULT_MAX_SIZE) -> Sdist:
    """A wheel made by us (one package folder and its ``.dist-info``, nothing else) as the same
    checked tree an sdist gives, without tests: ``<top>/<package>/`` and ``<top>/PKG-INFO`` from
    its METADATA. Anything else (a foreign wheel, a ``.data`` folder, links, escapes, bombs) is
    refused before a byte is written; nothing in it is run."""
    import zipfile

    try:
        with zipfile.ZipFile(archive) as zf:
            infos = _check_wheel_members(zf.infolist(), label, limit)
            packages = sorted({i.filename.split("/", 1)[0] for i in infos} - {_dist_info(infos)})
            top = dest / "wheel"
            for info in infos:
                first, _, rest = info.filename.partition("/")
                if first in packages:
                    target = top.joinpath(*PurePosixPath(info.filename).parts)
                elif rest == "METADATA":
                    target = top / "PKG-INFO"
                else:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, target.open("xb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, OSError, NotImplementedError,
            RuntimeError) as exc:  # RuntimeError: zipfile's word for encryption it was not told of
        raise _unpack_error(exc, label, dest, "wheel") from None
    if not (top / "PKG-INFO").is_file():
        raise ArchiveError(f"{label}: the wheel's .dist-info has no METADATA")
    return inspect_tree(top, label)


def _dist_info(infos: list[zipfile.ZipInfo]) -> str:
    return next((i.filename.split("/", 1)[0] for i in infos if i.filename.split("/", 1)[0].endswith(".dist-info")), "")


def _check_wheel_members(infos: list[zipfile.ZipInfo], label: str, limit: int) -> list[zipfile.ZipInfo]:
    import stat as st

    if len(infos) > MAX_MEMBERS:
        raise ArchiveError(f"{label}: more than {MAX_MEMBERS} members; refusing it")
    seen: dict[str, str] = {}
    total, files = 0, []
    for info in infos:
        why = check_name(info.filename)
        if why:
            raise ArchiveError(f"{label}: member {info.filename!r} {why}")
        if info.flag_bits & 0x1:  # zipfile would raise RuntimeError("... password required") on open
            raise ArchiveError(f"{label}: member {info.filename!r} is encrypted; refusing it")
        mode = info.external_attr >> 16
        if mode and st.S_IFMT(mode) not in (0, st.S_IFREG, st.S_IFDIR):
            raise ArchiveError(f"{label}: member {info.filename!r} is not a regular file (a link or device)")
        folded = info.filename.rstrip("/").casefold()
        if folded in seen:
            raise ArchiveError(f"{label}: member {info.filename!r} appears twice (or differs only in case)")
        seen[folded] = info.filename
        total += info.file_size
        if total > limit:
            raise ArchiveError(f"{label}: unpacks to more than {format_size(limit)}, the max-size limit; refusing it")
        if not info.is_dir():
            files.append(info)
    tops = sorted({i.filename.split("/", 1)[0] for i in files})
    infos_dirs = [t for t in tops if t.endswith(".dist-info")]
    packages = [t for t in tops if not t.endswith(".dist-info")]
    if len(infos_dirs) != 1 or len(packages) != 1 or any("/" not in i.filename for i in files) \
            or not any(i.filename == f"{packages[0]}/__init__.py" for i in files):
        shown = ", ".join(tops[:6]) + (" ..." if len(tops) > 6 else "")
        raise ArchiveError(f"{label}: not a micro-package wheel (top level: {shown or 'nothing'}; one package folder "
                           "and its .dist-info expected); pull needs the micro-package's sdist (.tar.gz)")
    return files


def inspect_tree(root: Path, label: str) -> Sdist:
    """Exactly one package folder beside ``tests/`` (Kedro's egg-info, setup.cfg... ignored)
    and a readable PKG-INFO whose Name is that folder's (PEP 503). Nothing in the tree is run."""
    from packaging.utils import canonicalize_name

    from ..core.install import Sdist  # here: packaging never needs it

    packages = sorted(
        p.name for p in root.iterdir()
        if p.is_dir() and p.name != "tests" and not IGNORED_TOP.match(p.name) and (p / "__init__.py").is_file()
    )
    if len(packages) != 1:
        raise ArchiveError(f"{label}: exactly one package folder was expected beside tests/, found {packages or 'none'}")
    pkg_info = root / "PKG-INFO"
    if not pkg_info.is_file():
        raise ArchiveError(f"{label}: no PKG-INFO; it is not an sdist")
    try:
        text = pkg_info.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ArchiveError(f"{label}: PKG-INFO is not UTF-8 text") from None
    name, version, requirements = parse_pkg_info(text, label)
    package = packages[0]
    why = name_problem(package)
    if why:
        raise ArchiveError(f"{label}: package folder {package!r} {why}")
    if canonicalize_name(name) != canonicalize_name(package):
        raise ArchiveError(f"{label}: PKG-INFO Name {name!r} is not the package folder {package!r}")
    return Sdist(root=root, package=package, name=name, version=version, requirements=tuple(requirements))
