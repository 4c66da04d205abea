"""The floor: a toy doit dodo that does the least a correct incremental packager must do over
the benchmark project's files (one task per micro-package, file_dep on the same files as ours,
one tar.gz written with stdlib tarfile at gzip level 9; no renaming, no metadata, no manifest).
benchmarks/run.py times it beside us, so ours/floor says how much of a figure is our own cost
(idea from the team's shared bench/floor.py).

    doit -f floor_dodo.py package      (run in a project made by benchmarks/project.py)
"""
import os
import tarfile

DOIT_CONFIG = {"backend": "sqlite3", "dep_file": ".floor.db", "default_tasks": ["package"], "verbosity": 0}
ROOT = "src/bench/pipelines"
CONF = "conf/base"


def _walk(folder):
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "__pycache__" and not d.startswith(".")]
        found += [f"{dirpath}/{f}" for f in filenames if not f.startswith(".") and not f.endswith(".pyc")]
    return sorted(found)


def _files(name):
    conf = [p for p in (f"{CONF}/parameters_{name}.yml", f"{CONF}/parameters/{name}.yml") if os.path.isfile(p)]
    return _walk(f"{ROOT}/{name}") + conf + _walk(f"{CONF}/parameters/{name}") + _walk(f"tests/pipelines/{name}")


def _tar(name, files, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tarfile.open(target, "w:gz", compresslevel=9) as tar:
        for f in files:
            tar.add(f, arcname=f"{name}/{f}")


def task_package():
    for d in sorted(e.name for e in os.scandir(ROOT) if e.is_dir() and e.name != "__pycache__"):
        files = _files(d)
        target = f"floor-dist/{d}.tar.gz"
        yield {"name": d, "doc": f"toy sdist of {d}", "actions": [(_tar, [d, files, target])],
               "file_dep": files, "targets": [target]}
