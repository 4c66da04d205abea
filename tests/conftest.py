"""Shared fixtures: copies of the shared Kedro fixtures, a consumer project, and a real
``doit`` process to drive them. pip never reads this machine's configuration here."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Time limits belong to benchmarks/: a property that took 1.2 s once on a loaded 2-core machine
# is not a failure (Hypothesis's default 200 ms deadline made such runs flaky).
settings.register_profile("micropkg", deadline=None)
settings.load_profile("micropkg")

HERE = Path(__file__).parent
ACME = HERE / "fixtures" / "acme-project"  # a pristine copy of shared/fixtures/acme-project
KEDRO_SDISTS = HERE.parent / "examples" / "kedro-0.19.15"  # made by Kedro 0.19.15 from it


def clean_env(**extra: str) -> dict[str, str]:
    """os.environ without any PIP_* setting of this machine, pip config off, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    env.pop("AWS_PROFILE", None)
    env.update(extra)
    return env


# -- the fast tier --------------------------------------------------------------------------------
# `pytest --fast` runs every test up to the point where it would start a process (a real doit, pip,
# git or Kedro, a server in a subprocess): there the test is skipped, and the full suite runs it.
# The tier is defined by what a test does, not by a list that could drift from the tests.
FAST_SKIP = "starts a process: runs in the full suite (pytest without --fast)"


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true",
                     help="the fast tier: in-process tests only; a test is skipped where it would start a process")


def pytest_configure(config):
    if config.getoption("--fast"):
        config.option.reportchars = "fE"  # the skipped half is the full suite's, not news


def pytest_collection_modifyitems(config, items):
    if config.getoption("--fast"):
        for item in items:
            if item.get_closest_marker("kedro"):
                item.add_marker(pytest.mark.skip(reason=FAST_SKIP))


@pytest.fixture(autouse=True)
def _fast_tier(request, monkeypatch):
    if request.config.getoption("--fast"):
        def refuse(self, *args, **kwargs):
            pytest.skip(FAST_SKIP)

        monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture(autouse=True)
def _hermetic_pip(monkeypatch):
    for key in [k for k in os.environ if k.startswith("PIP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)


def copy_tree(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    for dirpath, dirnames, filenames in os.walk(dest):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    os.chmod(dest, os.stat(dest).st_mode | stat.S_IWUSR)
    return dest


def add_manifest(project: Path, text: str) -> None:
    with (project / "pyproject.toml").open("a") as fh:
        fh.write("\n" + text.strip() + "\n")


@pytest.fixture
def acme(tmp_path) -> Path:
    """A writable copy of the acme project with the one-line dodo.py."""
    project = copy_tree(ACME, tmp_path / "acme")
    (project / "dodo.py").write_text("from micropkg_tasks import *\n")
    return project


def make_consumer(root: Path, package: str = "consumer", tests: str = "tests") -> Path:
    """An empty Kedro-style project to pull into."""
    (root / "src" / package).mkdir(parents=True)
    (root / "src" / package / "__init__.py").write_text('__version__ = "0.1"\n')
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (root / tests).mkdir(parents=True)
    (root / tests / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        f'[tool.kedro]\npackage_name = "{package}"\nproject_name = "{package}"\nsource_dir = "src"\n'
        "\n[tool.micropkg]\ncompile = false\n"
    )
    (root / "dodo.py").write_text("from micropkg_tasks import *\n")
    return root


@pytest.fixture
def consumer(tmp_path) -> Path:
    return make_consumer(tmp_path / "consumer")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` but doit's and our state, for "nothing changed" checks."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(".micropkg/"):
            out[rel] = path.read_bytes()
    return out


def doit(project: Path, *args: str, env: dict | None = None, check: bool = True,
         timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a real ``doit`` process in ``project``."""
    proc = subprocess.run([sys.executable, "-m", "doit", *args], cwd=project, env=env or clean_env(),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"doit {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_tar(path: Path, entries: list, gz: bool = True) -> Path:
    """A tarball from (name, bytes) pairs or ready TarInfo objects (with optional bytes)."""
    import io
    import tarfile

    with tarfile.open(path, "w:gz" if gz else "w") as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
                continue
            name, data = entry[0], entry[1]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return path


def sdist_entries(name: str = "tidy", version: str = "1.0", requires: tuple = (), files: dict | None = None,
                  tests: dict | None = None) -> list:
    """Members of a minimal sdist of package ``name``."""
    root = f"{name}-{version}"
    meta = "".join(f"Requires-Dist: {r}\n" for r in requires)
    entries = [(f"{root}/PKG-INFO", f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n{meta}".encode())]
    files = {"__init__.py": f'__version__ = "{version}"\n', **(files or {})}
    entries += [(f"{root}/{name}/{rel}", text.encode()) for rel, text in files.items()]
    entries += [(f"{root}/tests/{rel}", text.encode()) for rel, text in (tests or {}).items()]
    return entries
