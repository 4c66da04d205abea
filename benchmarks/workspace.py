"""Time a workspace no-op at the root against running each member's doit separately.

    python benchmarks/workspace.py [--members 20] [--repeat 5]

Generates (twice) a workspace of M members (``projects/m00``...): each packages two micro-packages
(5 code files, a parameter file and a test each), and each member after the first pulls the
first micro-package of the member before it (``compile = false``). Builds one copy at the root
and the other member by member (each member's own dodo.py and database), then times, as separate
processes, the median of ``--repeat`` runs of:

- ``doit`` at the root (every member's package and pull tasks, one graph, one database);
- ``doit package pull`` in each member folder, one after the other (what users run today).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOIT = [sys.executable, "-m", "doit"]


def generate(root: Path, members: int) -> list[Path]:
    (root / "pyproject.toml").write_text('[tool.micropkg.workspace]\nmembers = ["projects/*"]\ncompile = false\n')
    (root / "dodo.py").write_text("from micropkg_tasks import *\n")
    out = []
    for i in range(members):
        name, package = f"m{i:02d}", f"pkg{i:02d}"
        member = root / "projects" / name
        src = member / "src" / package / "pipelines"
        (member / "conf" / "base").mkdir(parents=True)
        (member / "tests").mkdir()
        (member / "tests" / "__init__.py").write_text("")
        src.mkdir(parents=True)
        (member / "src" / package / "__init__.py").write_text('__version__ = "0.1"\n')
        (src / "__init__.py").write_text("")
        for j in range(2):
            mp = src / f"p{i:02d}_{j}"
            mp.mkdir()
            (mp / "__init__.py").write_text(f'__version__ = "1.{j}"\n')
            for k in range(5):
                (mp / f"mod{k}.py").write_text(f"VALUE = {i * 100 + j * 10 + k}\n")
            (member / "conf" / "base" / f"parameters_p{i:02d}_{j}.yml").write_text(f"p{i:02d}_{j}: {{x: {j}}}\n")
            tests = member / "tests" / "pipelines" / f"p{i:02d}_{j}"
            tests.mkdir(parents=True)
            (tests / "test_mod.py").write_text(f"from {package}.pipelines.p{i:02d}_{j}.mod0 import VALUE\n")
        manifest = (f'[tool.kedro]\npackage_name = "{package}"\nproject_name = "{package}"\nsource_dir = "src"\n\n'
                    "[tool.micropkg]\ncompile = false\n\n[tool.micropkg.package]\n"
                    + "".join(f'"pipelines.p{i:02d}_{j}" = {{}}\n' for j in range(2)))
        if i:
            manifest += f'\n[tool.micropkg.pull]\n"../m{i - 1:02d}/dist/p{i - 1:02d}_0-1.0.tar.gz" = {{destination = "pipelines"}}\n'
        (member / "pyproject.toml").write_text(manifest)
        (member / "dodo.py").write_text("from micropkg_tasks import *\n")
        out.append(member)
    return out


def run(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} in {cwd} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="micropkg-ws-bench-"))
    try:
        # two copies: a member's own database and the root's each take the other's rewrite of an
        # sdist for a foreign one (it is rebuilt), so the two ways never share a folder
        root, other = tmp / "ws", tmp / "separate"
        root.mkdir()
        other.mkdir()
        generate(root, args.members)
        members = generate(other, args.members)
        run(DOIT, root)  # cold, at the root
        for member in members:  # cold, member by member
            run([*DOIT, "package", "pull"], member)
        check = subprocess.run(DOIT, cwd=root, capture_output=True, text=True).stdout
        assert not [line for line in check.splitlines() if line.startswith(".  ")], check
        root_times, separate_times = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same machine
            root_times.append(run(DOIT, root))
            separate_times.append(sum(run([*DOIT, "package", "pull"], m) for m in members))
        a, b = statistics.median(root_times), statistics.median(separate_times)
        print(f"members: {args.members}, runs: {args.repeat} (median seconds)")
        print(f"workspace no-op at the root (doit):                    {a:.3f}")
        print(f"each member's doit package pull, one after the other:  {b:.3f}")
        print(f"ratio: {b / a:.1f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
