"""A wheel from a built sdist, with pypa's ``build`` (``build.ProjectBuilder`` on the unpacked,
checked sdist): the sdist's static pyproject.toml names flit_core, which builds a wheel of
``<name>/`` (code and parameter files; tests stay in the sdist).

When the backend is importable here, its hooks run in this process (no virtual environment, no
interpreter start: a few milliseconds a wheel); otherwise ``build`` makes an isolated environment
and installs the backend into it, as ``python -m build`` does. Either way the backend is given
``SOURCE_DATE_EPOCH`` = the sdist's fixed epoch (whatever the environment says: a published
version is immutable) and flit normalises modes, so the same sdist gives the same wheel bytes."""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..errors import PackageError, one_line

if TYPE_CHECKING:
    from ..store.outputs import Written

WHEEL_TAG = "py2.py3-none-any"  # flit_core tags it so: the static pyproject sets no requires-python
_IN_PROCESS = threading.Lock()
Runner = Callable[..., None]  # pyproject_hooks' SubprocessRunner: (cmd, cwd=None, extra_environ=None)


def wheel_target(sdist_target: str) -> str:
    """``dist/<name>-<version>.tar.gz`` -> ``dist/<name>-<version>-py3-none-any.whl``: the sdist's
    top folder is already spelled as a wheel's distribution name (PEP 625 / PEP 427 escaping)."""
    stem = sdist_target[: -len(".tar.gz")] if sdist_target.endswith(".tar.gz") else sdist_target
    return f"{stem}-{WHEEL_TAG}.whl"


def build_wheel(sdist: Path, target: Path, label: str) -> tuple[str, Written]:
    """Build ``target`` from the sdist file ``sdist``; atomically in place; return how it was
    built and its record."""
    from ..store.outputs import write_output
    from ..store.tarball import EPOCH, extract

    epoch = str(EPOCH)
    with tempfile.TemporaryDirectory(prefix="micropkg-wheel-") as tmp:
        (Path(tmp) / "src").mkdir()
        tree = extract(sdist, Path(tmp) / "src", label)
        out = Path(tmp) / "out"
        built, how = _build(tree.root, out, epoch, label)
        if built.name != target.name:
            raise PackageError(f"{label}: the backend built {one_line(built.name)}, not {one_line(target.name)}")

        def write(fh: IO[bytes]) -> None:
            with built.open("rb") as src:
                shutil.copyfileobj(src, fh)

        written = write_output(target, write)
    return how, written


def _build(srcdir: Path, out: Path, epoch: str, label: str) -> tuple[Path, str]:
    import build

    def with_epoch(runner: Runner) -> Runner:
        def run(cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None) -> None:
            runner(cmd, cwd, {**(extra_environ or {}), "SOURCE_DATE_EPOCH": epoch})
        return run

    try:
        builder = build.ProjectBuilder(srcdir, python_executable=sys.executable, runner=with_epoch(in_process_runner))
        backend = builder.build_system_requires
        unmet = [missing for req in backend for missing in build.check_dependency(req)]
        if not unmet and not builder.check_dependencies("wheel"):  # the backend is importable here
            return Path(builder.build("wheel", out)), "in process"
        from build.env import DefaultIsolatedEnv
        from pyproject_hooks import quiet_subprocess_runner

        with DefaultIsolatedEnv() as env:
            builder = build.ProjectBuilder.from_isolated_env(env, srcdir, runner=with_epoch(quiet_subprocess_runner))
            env.install(backend)
            env.install(builder.get_requires_for_build("wheel"))
            return Path(builder.build("wheel", out)), "in an isolated environment"
    except build.BuildException as exc:
        raise PackageError(f"{label}: the wheel cannot be built: {one_line(str(exc), 200)}") from None
    except build.BuildBackendException as exc:
        cause = exc.exception
        lines = str(getattr(cause, "output", None) or cause).strip().splitlines() or [type(cause).__name__]
        raise PackageError(f"{label}: the build backend failed: {one_line(lines[-1], 200)}") from None


def in_process_runner(cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None) -> None:
    """pyproject_hooks' runner, without the subprocess: the hook script's ``main`` runs here, with
    its working folder, environment and argv set for the call and restored after (one call at a
    time)."""
    from pyproject_hooks._in_process import _in_process as hooks  # the script the subprocess would run

    with _IN_PROCESS, _saved_state(cwd, extra_environ or {}):
        sys.argv = [str(cmd[1]), *map(str, cmd[2:])]
        hooks.main()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _saved_state(cwd: str | None, environ: Mapping[str, str]) -> Iterator[None]:
    old_cwd, old_env, old_argv, old_path = os.getcwd(), dict(os.environ), sys.argv, list(sys.path)
    try:
        os.environ.update(environ)
        if cwd:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
        sys.argv, sys.path[:] = old_argv, old_path
