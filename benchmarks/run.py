"""Benchmark micropkg-tasks (and, with --kedro, Kedro 0.19.15 on the same project, in the same run).

    python benchmarks/run.py                 # N=100 operations + scaling series 10/100/1000
    python benchmarks/run.py --kedro         # ... and Kedro side by side (cached venv, needs PyPI)
    python benchmarks/run.py --smoke         # N=3, one repetition: the test suite runs this

Every figure is the median wall time of separate processes, as a user would run them.
Also, in the same run: `doit -n 1` against `doit -n 2` cold package (--parallel-n, default
N=1000), and ours against the floor (--floor, default N=100,1000): floor_dodo.py, a toy dodo
that does the least a correct incremental packager must do over the same files.
Writes results.json, results.md and scaling.png to --out (default benchmarks/results).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from project import REQUIREMENTS, generate, name

KEDRO_VERSION = "0.19.15"
KEDRO_VENV = Path(os.environ.get("MICROPKG_BENCH_CACHE", Path.home() / ".cache" / "micropkg-bench")) / f"kedro-{KEDRO_VERSION}"
DOIT = [sys.executable, "-m", "doit"]
FLOOR_DODO = Path(__file__).parent / "floor_dodo.py"
FLOOR_OPS = ("cold package", "no-op package", "one file edited", "list --all")


def quiet_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, KEDRO_DISABLE_TELEMETRY="1", DO_NOT_TRACK="1", **extra)
    return env


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env or quiet_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def median_of(repeat: int, prepare, cmd: list[str], cwd: Path) -> float:
    """Median time of ``cmd`` over ``repeat`` runs, ``prepare(run_index)`` before each (untimed)."""
    times = []
    for rep in range(repeat):
        prepare(rep)
        times.append(timed(cmd, cwd))
    return statistics.median(times)


def consumer_project(root: Path, package: str = "consumer", manifest: str = "") -> Path:
    (root / "src" / package).mkdir(parents=True)
    (root / "src" / package / "__init__.py").write_text('__version__ = "0.1"\n')
    (root / "src" / package / "settings.py").write_text("")
    (root / "conf" / "base").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        f'[tool.kedro]\npackage_name = "{package}"\nproject_name = "{package}"\nkedro_init_version = "{KEDRO_VERSION}"\n'
        f'source_dir = "src"\n\n[tool.kedro.micropkg]\ncompile = false\n{manifest}')  # Kedro 0.19's table: both read it
    (root / "dodo.py").write_text("from micropkg_tasks import *\n")
    return root


def ours(work: Path, n: int, repeat: int, full: bool) -> dict:
    """Our operations on one N-micro-package project (full: every operation; else the scaling trio)."""
    project = generate(work / f"ours-{n}", n)
    res = {}

    def fresh(_):
        shutil.rmtree(project / "dist", ignore_errors=True)
        shutil.rmtree(project / ".micropkg", ignore_errors=True)

    res["cold package"] = median_of(repeat, fresh, DOIT + ["package"], project)
    res["no-op package"] = median_of(repeat, lambda _: None, DOIT + ["package"], project)
    res["list --all"] = median_of(repeat, lambda _: None, DOIT + ["list", "--all"], project)
    if not full:
        return res
    edited = project / "src/bench/pipelines" / name(0) / "nodes_0.py"
    base = edited.read_text()
    res["one file edited"] = median_of(repeat, lambda rep: edited.write_text(f"{base}# edit {rep}\n"),
                                       DOIT + ["package"], project)
    res["one file added"] = median_of(
        repeat, lambda rep: (project / "src/bench/pipelines" / name(0) / f"added_{rep}.py").write_text("X = 1\n"),
        DOIT + ["package"], project)
    sdists = sorted((project / "dist").glob("*.tar.gz"))
    manifest = "\n[tool.kedro.micropkg.pull]\n" + "".join(f'"{s}" = {{destination = "pipelines"}}\n' for s in sdists)
    pull_root = work / f"pull-{n}"

    def fresh_consumer(rep):
        shutil.rmtree(pull_root, ignore_errors=True)
        consumer_project(pull_root, manifest=manifest)

    res["cold pull (all N)"] = median_of(repeat, fresh_consumer, DOIT + ["pull"], pull_root)
    res["no-op pull"] = median_of(repeat, lambda _: None, DOIT + ["pull"], pull_root)
    alias_root = work / f"alias-{n}"

    def fresh_alias(rep):
        shutil.rmtree(alias_root, ignore_errors=True)
        consumer_project(alias_root)

    res["one pull with alias"] = median_of(
        repeat, fresh_alias, DOIT + ["pull", f"--source={sdists[0]}", "--alias=aliased", "--destination=pipelines"],
        alias_root)
    res["pip-compile (separately)"] = time_pip_compile(work, repeat)
    return res


def parallel(work: Path, n: int, repeat: int) -> dict:
    """Cold ``doit -n 1 package`` against ``doit -n 2 package`` (worker processes), alternated
    on one N-micro-package project so both see the same machine noise."""
    project = generate(work / f"par-{n}", n)
    times = {"-n 1": [], "-n 2": []}
    for _ in range(repeat):
        for flag in times:
            shutil.rmtree(project / "dist", ignore_errors=True)
            shutil.rmtree(project / ".micropkg", ignore_errors=True)
            times[flag].append(timed(DOIT + flag.split() + ["package"], project))
    return {flag: statistics.median(t) for flag, t in times.items()}


def floor(work: Path, n: int, repeat: int) -> dict:
    """Ours against floor_dodo.py on the same project, interleaved operation by operation."""
    project = generate(work / f"floor-{n}", n)
    shutil.copyfile(FLOOR_DODO, project / "floor_dodo.py")
    edited = project / "src/bench/pipelines" / name(0) / "nodes_0.py"
    base = edited.read_text()
    got = {side: {op: [] for op in FLOOR_OPS} for side in ("ours", "floor")}
    for rep in range(repeat):
        for side, dodo in (("ours", "dodo.py"), ("floor", "floor_dodo.py")):
            for path in ("dist", "floor-dist", ".micropkg"):
                shutil.rmtree(project / path, ignore_errors=True)
            for db in project.glob(".floor.db*"):
                db.unlink()
            run = DOIT + ["-f", dodo]
            got[side]["cold package"].append(timed(run + ["package"], project))
            got[side]["no-op package"].append(timed(run + ["package"], project))
            edited.write_text(f"{base}# edit {side} {rep}\n")
            got[side]["one file edited"].append(timed(run + ["package"], project))
            got[side]["list --all"].append(timed(run + ["list", "--all"], project))
    return {side: {op: statistics.median(t) for op, t in ops.items()} for side, ops in got.items()}


def time_pip_compile(work: Path, repeat: int) -> float:
    """pip-compile of the micro-packages' requirements against local wheels (no network)."""
    wheels = work / "wheels"
    for req in REQUIREMENTS:
        dist = req.split(">")[0].split("=")[0].strip()
        src = work / f"wheel-src-{dist}"
        (src / dist).mkdir(parents=True, exist_ok=True)
        (src / dist / "__init__.py").write_text('"""x"""\n__version__ = "1.0"\n')
        (src / "pyproject.toml").write_text('[build-system]\nrequires = ["flit_core"]\nbuild-backend = "flit_core.buildapi"\n'
                                           f'[project]\nname = "{dist}"\nversion = "1.0"\ndescription = "x"\n')
        timed([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
               "-w", str(wheels), str(src)], work)
    (work / "requirements.in").write_text("\n".join(REQUIREMENTS) + "\n")
    env = quiet_env(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    cmd = [sys.executable, "-m", "piptools", "compile", "--quiet", "--no-header", "requirements.in", "-o", "out.txt"]
    return statistics.median(timed(cmd, work, env) for _ in range(repeat))


def kedro_bin() -> Path:
    kedro = KEDRO_VENV / "bin" / "kedro"
    if not kedro.exists():
        print(f"creating {KEDRO_VENV} with kedro=={KEDRO_VERSION} (once; cached outside the repository)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(KEDRO_VENV)], check=True)
        subprocess.run([str(KEDRO_VENV / "bin" / "pip"), "install", "-q", f"kedro=={KEDRO_VERSION}"], check=True)
    return kedro


def kedro(work: Path, n: int, repeat: int, full: bool, pulls: int = 3) -> dict:
    """Kedro 0.19.15 on the same generated project: package --all, and pulls with an alias.
    Kedro builds each sdist in an isolated environment, so it needs the package index."""
    exe = str(kedro_bin())
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    project = generate(work / f"kedro-{n}", n)
    res = {"cold package": median_of(repeat, lambda _: shutil.rmtree(project / "dist", ignore_errors=True),
                                     [exe, "micropkg", "package", "--all"], project)}
    built = len(list((project / "dist").glob("*.tar.gz")))
    if built != n:  # a Kedro that read no manifest would "package" nothing in a second
        raise SystemExit(f"Kedro {KEDRO_VERSION} built {built} sdists of {n}: its figures would mean nothing")
    # Kedro has no incremental mode: every --all repackages everything.
    res["no-op package"] = res["cold package"]
    if not full:
        return res
    # After an edit a Kedro user would repackage just that micro-package, by name.
    res["one file edited"] = median_of(repeat, lambda _: None,
                                       [exe, "micropkg", "package", f"pipelines.{name(0)}"], project)
    sdists = sorted((project / "dist").glob("*.tar.gz"))[:pulls]
    times = []
    for i, sdist in enumerate(sdists):
        root = work / f"kedro-pull-{n}-{i}"
        consumer_project(root)
        start = time.perf_counter()
        proc = subprocess.run([exe, "micropkg", "pull", str(sdist), "--alias", "aliased", "--destination", "pipelines"],
                              cwd=root, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"kedro pull failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    res["one pull with alias"] = statistics.median(times)
    return res


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def markdown(results: dict) -> str:
    main, n = results["main"], results["n"]
    k = results.get("kedro", {}).get("main", {})
    lines = [f"Machine: {results['machine']}. Median of {results['repeat']} runs, N = {n} micro-packages.", "",
             "| operation | micropkg-tasks (s) | Kedro 0.19.15 (s) | ours / Kedro |", "|---|---:|---:|---:|"]
    for op, t in main.items():
        kt = k.get(op)
        ratio = f"{t / kt:.4f} ({kt / t:.0f}x faster)" if kt else "–"
        lines.append(f"| {op} | {t:.3f} | {f'{kt:.2f}' if kt else '–'} | {ratio} |")
    lines += ["", "Scaling (median seconds):", "", "| N | cold package | no-op package | list --all | Kedro package --all |",
              "|---:|---:|---:|---:|---:|"]
    kscale = results.get("kedro", {}).get("scaling", {})
    for n_, row in results["scaling"].items():
        kt = kscale.get(n_, {}).get("cold package")
        lines.append(f"| {n_} | {row['cold package']:.3f} | {row['no-op package']:.3f} | {row['list --all']:.3f} | "
                     f"{f'{kt:.1f}' if kt else '–'} |")
    par = results.get("parallel")
    if par:
        lines += ["", f"Parallel cold package, N = {par['n']} (median seconds, alternated in one run):", "",
                  "| doit -n 1 | doit -n 2 | speed-up |", "|---:|---:|---:|",
                  f"| {par['-n 1']:.3f} | {par['-n 2']:.3f} | {par['-n 1'] / par['-n 2']:.2f}x |"]
    if results.get("floor"):
        lines += ["", "Ours against the floor (benchmarks/floor_dodo.py; median seconds, interleaved; ratio ours/floor):", "",
                  "| N | " + " | ".join(FLOOR_OPS) + " |", "|---:|" + "---:|" * len(FLOOR_OPS)]
        for n_, sides in results["floor"].items():
            cells = [f"{sides['ours'][op]:.3f} / {sides['floor'][op]:.3f} = {sides['ours'][op] / sides['floor'][op]:.2f}"
                     for op in FLOOR_OPS]
            lines.append(f"| {n_} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ns = sorted(int(n) for n in results["scaling"])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for op, style in [("cold package", "o-"), ("no-op package", "s-"), ("list --all", "^-")]:
        ax.plot(ns, [results["scaling"][str(n)][op] for n in ns], style, label=f"micropkg-tasks: {op}")
    kscale = results.get("kedro", {}).get("scaling", {})
    kns = sorted(int(n) for n in kscale)
    if kns:
        ax.plot(kns, [kscale[str(n)]["cold package"] for n in kns], "x--", color="black",
                label="Kedro 0.19.15: micropkg package --all")
    ax.set_xscale("log"), ax.set_yscale("log")
    ax.set_xlabel("micro-packages in the project (N)"), ax.set_ylabel("seconds (median)")
    ax.set_title("doit package vs kedro micropkg package --all")
    ax.grid(True, which="both", alpha=0.3), ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--scaling", default="10,100,1000")
    ap.add_argument("--kedro", action="store_true", help=f"also run Kedro {KEDRO_VERSION} (cached venv, needs PyPI)")
    ap.add_argument("--kedro-repeat", type=int, default=1, help="Kedro takes ~2.4 s per micro-package: fewer runs")
    ap.add_argument("--kedro-scaling", default="10", help="N values for Kedro's scaling points (besides --n)")
    ap.add_argument("--parallel-n", type=int, default=1000, help="N for -n 1 against -n 2 cold package (0: skip)")
    ap.add_argument("--floor", default="100,1000", help="N values for ours against floor_dodo.py ('': skip)")
    ap.add_argument("--smoke", action="store_true", help="N=3, one run, no Kedro: proves the benchmark still runs")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args(argv)
    if args.smoke:
        args.n, args.repeat, args.scaling, args.kedro, args.parallel_n, args.floor = 3, 1, "2,3", False, 3, "3"
    args.out.mkdir(parents=True, exist_ok=True)
    # Byte-code for our package, as `pip install` leaves it: with PYTHONDONTWRITEBYTECODE set
    # a source checkout would otherwise be recompiled by every timed process.
    import compileall

    import micropkg_tasks
    compileall.compile_dir(os.path.dirname(micropkg_tasks.__file__), quiet=1)
    results = {"machine": machine(), "n": args.n, "repeat": args.repeat,
               "when": time.strftime("%Y-%m-%d", time.gmtime())}
    with tempfile.TemporaryDirectory(prefix="micropkg-bench-") as tmp:
        work = Path(tmp)
        print(f"N={args.n}: our operations", flush=True)
        results["main"] = ours(work, args.n, args.repeat, full=True)
        results["scaling"] = {}
        for n in [int(x) for x in args.scaling.split(",")]:
            print(f"scaling N={n}", flush=True)
            results["scaling"][str(n)] = (ours(work / "s", n, args.repeat, full=False) if n != args.n else
                                          {k: results["main"][k] for k in ("cold package", "no-op package", "list --all")})
        if args.parallel_n:
            print(f"parallel: -n 1 against -n 2, N={args.parallel_n}", flush=True)
            results["parallel"] = {"n": args.parallel_n, **parallel(work / "p", args.parallel_n, args.repeat)}
        results["floor"] = {}
        for n in [int(x) for x in args.floor.split(",") if x]:
            print(f"floor N={n}", flush=True)
            results["floor"][str(n)] = floor(work / "f", n, args.repeat)
        if args.kedro:
            print(f"Kedro {KEDRO_VERSION}, N={args.n}", flush=True)
            kmain = kedro(work, args.n, args.kedro_repeat, full=True)
            results["kedro"] = {"main": kmain, "scaling": {str(args.n): {"cold package": kmain["cold package"]}}}
            for n in [int(x) for x in args.kedro_scaling.split(",") if x and int(x) != args.n]:
                print(f"Kedro scaling N={n}", flush=True)
                results["kedro"]["scaling"][str(n)] = kedro(work / "ks", n, args.kedro_repeat, full=False)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    plotted = plot(results, args.out / "scaling.png")
    print(markdown(results))
    print(f"wrote {args.out}/results.json, results.md" + (", scaling.png" if plotted else " (no matplotlib: no plot)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
