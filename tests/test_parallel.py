"""``doit -n N`` must be safe (issue #9): many micro-packages built and pulled in parallel, by
real doit processes, exactly as a user runs them.

doit swaps the process-wide ``sys.stdout`` around every python-action to capture its output;
with worker threads those swaps raced (a print on a stream another thread had just replaced
and freed: ``'Writer' object has no attribute 'writers'``, then SIGSEGV). These tests run
enough small tasks at once that the race showed in most runs before the fix.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from conftest import doit

from micropkg_tasks.config.project import load_project
from micropkg_tasks.store.files import sha256_file
from micropkg_tasks.store.lock import read_lock

#: The manifest table the generated projects list their micro-packages in (one place to switch).
PACKAGE_TABLE = "tool.micropkg.package"
PULL_TABLE = PACKAGE_TABLE.rsplit(".", 1)[0] + ".pull"
MICROPKG_TABLE = PACKAGE_TABLE.rsplit(".", 1)[0]
PACKAGE = "bench"
STRESS_N = 300
STRESS_ROUNDS = 3
PULLS = 20


def generate(root: Path, n: int) -> Path:
    """A Kedro-style project with ``n`` micro-packages (code, a data file, parameters, tests,
    a requirement of its own each), deterministic for a given ``n``."""
    src = root / "src" / PACKAGE
    (src / "pipelines").mkdir(parents=True)
    (src / "__init__.py").write_text('__version__ = "0.1"\n')
    (src / "pipelines" / "__init__.py").write_text("")
    (root / "conf" / "base" / "parameters").mkdir(parents=True)
    (root / "tests" / "pipelines").mkdir(parents=True)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "pipelines" / "__init__.py").write_text("")
    entries = []
    for i in range(n):
        mp = f"p{i:04d}"
        folder = src / "pipelines" / mp
        folder.mkdir()
        (folder / "__init__.py").write_text(f'__version__ = "1.{i % 5}"\n')
        for j in range(3):
            (folder / f"nodes_{j}.py").write_text(
                f"from {PACKAGE}.pipelines.{mp}.nodes_{(j + 1) % 3} import value as other\n\n\n"
                f"def value():\n    return {i * 10 + j}\n")
        (folder / "query.sql").write_text(f"select {i};\n")
        (folder / "requirements.txt").write_text(f"dep-{mp}>=1\n")
        (root / "conf" / "base" / f"parameters_{mp}.yml").write_text(f"{mp}:\n  rate: {i}\n")
        (root / "conf" / "base" / "parameters" / f"{mp}.yml").write_text(f"{mp}_more:\n  depth: {i}\n")
        tests = root / "tests" / "pipelines" / mp
        tests.mkdir()
        (tests / "__init__.py").write_text("")
        (tests / "test_nodes.py").write_text(f"from {PACKAGE}.pipelines.{mp}.nodes_0 import value\n")
        entries.append(f'"pipelines.{mp}" = {{}}\n')
    (root / "pyproject.toml").write_text(
        f'[tool.kedro]\npackage_name = "{PACKAGE}"\nproject_name = "{PACKAGE}"\nsource_dir = "src"\n\n'
        f"[{PACKAGE_TABLE}]\n" + "".join(entries))
    (root / "dodo.py").write_text("from micropkg_tasks import *\n")
    return root


def sdists(project: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((project / "dist").glob("*.tar.gz"))}


def assert_clean(proc) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out[-3000:]}"
    assert "Traceback" not in out and "Error" not in out, out[-3000:]


def test_parallel_package_stress_is_byte_identical_to_serial(tmp_path):
    project = generate(tmp_path / "many", STRESS_N)
    serial = doit(project, "-n", "1", "package", timeout=300)
    assert_clean(serial)
    expected = sdists(project)
    assert len(expected) == STRESS_N
    for round_ in range(STRESS_ROUNDS):
        shutil.rmtree(project / "dist")
        doit(project, "forget")
        proc = doit(project, "-n", "4", "package", check=False, timeout=300)
        assert_clean(proc)
        assert sdists(project) == expected, f"round {round_}: sdists differ from the -n 1 build"
        # every user-facing line is still there, one per micro-package, unmangled
        lines = [line for line in proc.stdout.splitlines() if line.startswith("packaged ")]
        assert sorted(lines) == sorted(f"packaged '{PACKAGE}.pipelines.p{i:04d}' -> dist/p{i:04d}-1.{i % 5}.tar.gz"
                                       for i in range(STRESS_N))
    again = doit(project, "-n", "4", "package")
    assert_clean(again)
    assert "packaged" not in again.stdout  # and the parallel runs recorded their results


def test_parallel_pull_installs_everything_and_compiles_last(tmp_path):
    source = generate(tmp_path / "source", PULLS)
    doit(source, "package")
    archives = sorted((source / "dist").glob("*.tar.gz"))
    assert len(archives) == PULLS

    consumer = tmp_path / "consumer"
    (consumer / "src" / "consumer").mkdir(parents=True)
    (consumer / "src" / "consumer" / "__init__.py").write_text('__version__ = "0.1"\n')
    (consumer / "conf" / "base").mkdir(parents=True)
    (consumer / "tests").mkdir()
    # The compile step stands in for pip-compile and fails unless every pull came before it.
    (consumer / "compile_last.py").write_text(
        "import sys\n"
        "src, out = sys.argv[1], sys.argv[3]\n"
        "lock = open('micropkg.lock').read()\n"
        f"missing = [i for i in range({PULLS}) if f'module = \"pipelines.p{{i:04d}}\"' not in lock]\n"
        "if missing: sys.exit(f'ERROR: compiled before pulls {missing} finished')\n"
        "open(out, 'w').write(open(src).read())\n")
    entries = "".join(f'"{a}" = {{destination = "pipelines"}}\n' for a in archives)
    (consumer / "pyproject.toml").write_text(
        '[tool.kedro]\npackage_name = "consumer"\nproject_name = "consumer"\nsource_dir = "src"\n\n'
        f'[{MICROPKG_TABLE}]\ncompile = ["{sys.executable}", "compile_last.py"]\n\n'
        f"[{PULL_TABLE}]\n{entries}")
    (consumer / "dodo.py").write_text("from micropkg_tasks import *\n")

    proc = doit(consumer, "-n", "4", "pull", check=False, timeout=300)
    assert_clean(proc)
    pulled = [line for line in proc.stdout.splitlines() if line.startswith("pulled ")]
    assert len(pulled) == PULLS, proc.stdout
    assert "compiled requirements.in -> requirements.txt" in proc.stdout

    entries = read_lock(load_project(consumer))
    assert sorted(entries) == [f"pipelines.p{i:04d}" for i in range(PULLS)]
    for entry in entries.values():  # every file each pull recorded is on disk with that hash
        assert entry.files and all(sha256_file(consumer / f) == sha for f, sha in entry.files.items())
    requirements = (consumer / "requirements.txt").read_text()
    for i in range(PULLS):
        mp = f"p{i:04d}"
        assert (consumer / f"src/consumer/pipelines/{mp}/nodes_0.py").read_text().startswith(
            f"from consumer.pipelines.{mp}.nodes_1 import")
        assert (consumer / f"src/consumer/pipelines/{mp}/query.sql").is_file()
        assert (consumer / f"tests/pipelines/{mp}/test_nodes.py").is_file()
        assert (consumer / f"conf/base/parameters_{mp}.yml").is_file()
        assert f"dep-{mp}>=1" in requirements

    noop = doit(consumer, "-n", "4", "pull")
    assert_clean(noop)
    assert "pulled" not in noop.stdout and "compiled" not in noop.stdout
