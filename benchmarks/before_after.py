"""Time two versions of micropkg-tasks side by side, interleaved, on the same generated project:
`doit list --all`, a no-op `doit package`, one file edited, and a cold build.

    python benchmarks/before_after.py REV [N ...] [--rounds R]

REV (e.g. 5c19ece, the flat layout) is exported with `git archive` to a temporary folder and
put first on PYTHONPATH for its runs; the working tree's code runs the others. Prints medians
and the ratio now/before for each N. The project is /work/shared/bench/gen_project.py's (a
Kedro 0.19.15-style project with the legacy [tool.kedro.micropkg.package] table both read).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
GEN = Path(os.environ.get("MICROPKG_BENCH_GEN", REPO.parent / "shared" / "bench" / "gen_project.py"))
OPS = ("list", "noop", "one", "cold")


def export(rev: str, dest: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "micropkg_tasks"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def timed(project: Path, pythonpath: str, *args: str) -> float:
    env = dict(os.environ, PYTHONPATH=pythonpath)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "doit", *args], cwd=project, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"doit {' '.join(args)} failed:\n{(proc.stdout + proc.stderr)[-2000:]}")
    return elapsed


def measure(n: int, rounds: int, sides: dict[str, str]) -> dict[str, dict[str, float]]:
    project = Path(tempfile.mkdtemp(prefix=f"mpt-ba-{n}-"))
    shutil.rmtree(project)
    subprocess.run([sys.executable, str(GEN), str(project), str(n), "--manifest"], check=True, capture_output=True)
    edit = project / "src/bench/pipelines/p0001/mod3.py"
    got: dict[str, dict[str, list[float]]] = {s: {op: [] for op in OPS} for s in sides}
    for r in range(rounds):
        for side, path in sides.items():  # interleaved: both sides meet the same noise
            for leftover in ("dist", ".micropkg"):
                shutil.rmtree(project / leftover, ignore_errors=True)
            got[side]["cold"].append(timed(project, path, "package"))
            got[side]["noop"].append(timed(project, path, "package"))
            edit.write_text(edit.read_text() + f"\nEDIT_{side}_{r} = {r}\n")
            got[side]["one"].append(timed(project, path, "package"))
            got[side]["list"].append(timed(project, path, "list", "--all"))
    shutil.rmtree(project, ignore_errors=True)
    return {s: {op: statistics.median(v) for op, v in d.items()} for s, d in got.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev")
    parser.add_argument("n", nargs="*", type=int, default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"before": str(export(args.rev, Path(tmp))), "now": str(REPO)}
        for n in args.n:
            med = measure(n, args.rounds, sides)
            print(f"N={n} ({args.rounds} rounds, medians in s; before = {args.rev})")
            for op in OPS:
                print(f"  {op:5s} before {med['before'][op]:.3f}  now {med['now'][op]:.3f}  "
                      f"now/before {med['now'][op] / med['before'][op]:.2f}")


if __name__ == "__main__":
    main()
