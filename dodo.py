"""Developer tasks for this repository (a project that *uses* micropkg-tasks has a one-line
dodo.py instead: ``from micropkg_tasks import *``).

    doit test        the whole test suite
    doit bench       the benchmark at N=100 with the scaling series (add Kedro: doit bench --kedro)
    doit example     package and pull in the bundled example project
"""
import sys

from doit import task_params

DOIT_CONFIG = {"default_tasks": ["test"], "verbosity": 2}


def task_test():
    """Run the test suite."""
    return {"actions": [[sys.executable, "-m", "pytest"]], "uptodate": [False]}


@task_params([{"name": "kedro", "long": "kedro", "type": bool, "default": False,
               "help": "also time Kedro 0.19.15 (a cached venv, needs PyPI)"}])
def task_bench(kedro):
    """Run the benchmark; results in benchmarks/results/."""
    return {"actions": [[sys.executable, "benchmarks/run.py"] + (["--kedro"] if kedro else [])], "uptodate": [False]}


def task_example():
    """Package every micro-package of examples/acme-project and pull Kedro's sdist into it."""
    return {"actions": [[sys.executable, "-m", "doit", "-d", "examples/acme-project", "-f",
                         "examples/acme-project/dodo.py", "package", "pull"]], "uptodate": [False]}
