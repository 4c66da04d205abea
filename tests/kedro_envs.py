"""Virtual environments with a real Kedro from PyPI and micropkg-tasks from the repository under
test, for tests/test_kedro.py.

Each environment is built once per test session (a session-scoped fixture calls ``kedro_env``)
under ``$MICROPKG_TEST_CACHE`` (default ``<repo>/.cache/kedro-envs/``), and is reused by later
sessions while its key (Kedro version, extra packages, Python, repository path, pyproject.toml)
is unchanged. micropkg-tasks is installed editable, so the environment always runs the working
tree's code; a change to pyproject.toml (dependencies, entry points) makes a new environment.

pip runs with the machine's own environment (its index and certificates: building needs PyPI).
Kedro processes run with telemetry off. When PyPI cannot be reached, the tests are skipped with
the reason; any other build failure is an error.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KEDRO_1 = "1.7.0"  # the newest Kedro on PyPI when written (`pip index versions kedro`)
KEDRO_019 = "0.19.15"  # the last Kedro with its own `kedro micropkg`

# The environment this process started with, before any fixture strips PIP_* variables.
PLAIN_ENV = dict(os.environ)
NO_TELEMETRY = {"KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
BUILD_TIMEOUT = 600


def cache_root() -> Path:
    return Path(os.environ.get("MICROPKG_TEST_CACHE") or REPO / ".cache" / "kedro-envs").expanduser()


@dataclass(frozen=True)
class KedroEnv:
    version: str
    path: Path
    build_seconds: float  # 0.0 when reused from an earlier session

    @property
    def bin(self) -> Path:
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> str:
        return str(self.bin / ("python.exe" if os.name == "nt" else "python"))

    @property
    def kedro(self) -> str:
        return str(self.bin / ("kedro.exe" if os.name == "nt" else "kedro"))

    def environ(self, **extra: str) -> dict[str, str]:
        """The plain environment, this venv first on PATH, nothing of the outer run's Python."""
        env = {k: v for k, v in PLAIN_ENV.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        env["VIRTUAL_ENV"] = str(self.path)
        env["COLUMNS"] = "200"  # Kedro's rich logging wraps lines at the terminal width
        env.update(NO_TELEMETRY)
        env.update(extra)
        return env

    def run(self, *args: str, cwd: Path, check: bool = True, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run a command of this venv (``kedro`` ..., ``python`` ...) in ``cwd``."""
        exe = {"kedro": self.kedro, "python": self.python}.get(args[0], args[0])
        proc = subprocess.run([exe, *args[1:]], cwd=cwd, env=self.environ(**(env or {})), capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} (Kedro {self.version}) exited {proc.returncode}\n"
                                 f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        return proc

    def kedro_run(self, *args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
        return self.run("kedro", *args, cwd=cwd, **kw)

    def doit(self, *args: str, cwd: Path, **kw) -> subprocess.CompletedProcess:
        return self.run("python", "-m", "doit", *args, cwd=cwd, **kw)


def _key(version: str, extras: tuple[str, ...]) -> str:
    data = {
        "kedro": version,
        "extras": sorted(extras),
        "python": sys.version,
        "repo": str(REPO),
        "pyproject": hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


@contextmanager
def _build_lock(path: Path):
    """One builder per environment across processes (xdist workers, two runs at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pypi_reachable() -> tuple[bool, str]:
    try:
        proc = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "kedro"], env=PLAIN_ENV,
                              capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return False, "pip index versions kedro timed out"
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return proc.returncode == 0, lines[-1] if lines else ""


def _uv() -> str | None:
    """uv beside this interpreter (the [test] extra installs it), else on PATH, else None."""
    here = Path(sys.executable).parent / ("uv.exe" if os.name == "nt" else "uv")
    return str(here) if here.is_file() else shutil.which("uv")


def kedro_env(version: str, extras: tuple[str, ...] = ()) -> KedroEnv:
    """A venv with ``kedro==version``, ``extras`` and micropkg-tasks (editable, from REPO)."""
    path = cache_root() / f"kedro-{version}-{_key(version, extras)}"
    ready = path / ".micropkg-test-ready"
    with _build_lock(path.with_name(path.name + ".lock")):
        if ready.is_file():
            return KedroEnv(version, path, 0.0)
        shutil.rmtree(path, ignore_errors=True)
        start = time.monotonic()
        uv = _uv()
        steps = [  # uv when the test environment has it (the [test] extra does): a minute faster than pip
            [uv, "venv", "--quiet", "--seed", "--python", sys.executable, str(path)],
            [uv, "pip", "install", "--quiet", "--python", str(path / "bin" / "python"),
             f"kedro=={version}", *extras, "-e", str(REPO)],
        ] if uv else [
            [sys.executable, "-m", "venv", str(path)],
            [str(path / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             f"kedro=={version}", *extras, "-e", str(REPO)],
        ]
        for cmd in steps:
            proc = subprocess.run(cmd, env=PLAIN_ENV, capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                                  stdin=subprocess.DEVNULL, check=False)
            if proc.returncode != 0:
                shutil.rmtree(path, ignore_errors=True)
                reachable, why = _pypi_reachable()
                if not reachable:
                    pytest.skip(f"PyPI is unreachable, cannot build a Kedro {version} environment: {why}")
                raise RuntimeError(f"building the Kedro {version} environment failed: {' '.join(cmd)}\n"
                                   f"{proc.stdout}\n{proc.stderr}")
        env = KedroEnv(version, path, time.monotonic() - start)
        got = env.run("python", "-c", "import kedro; print(kedro.__version__)", cwd=path).stdout.strip()
        if got != version:
            raise RuntimeError(f"the Kedro {version} environment has Kedro {got}")
        ready.write_text(json.dumps({"kedro": version, "extras": list(extras),
                                     "build_seconds": round(env.build_seconds, 1)}) + "\n")
        return env
