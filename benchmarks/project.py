"""A deterministic synthetic Kedro project with N micro-packages, for the benchmark."""
from __future__ import annotations

from pathlib import Path

CODE_FILES = 10  # __init__.py + 9 modules
REQUIREMENTS = ["alpha>=1", "beta"]  # served as local wheels when pip-compile is timed


def name(i: int) -> str:
    return f"p{i:04d}"


def generate(root: Path, n: int, package: str = "bench") -> Path:
    """Write the project to ``root`` (which must not exist). Same ``n``: same bytes."""
    src = root / "src" / package
    (src / "pipelines").mkdir(parents=True)
    (src / "__init__.py").write_text('__version__ = "0.1"\n')
    (src / "pipelines" / "__init__.py").write_text("")
    (src / "settings.py").write_text("")  # Kedro's project check wants it
    (root / "conf" / "base" / "parameters").mkdir(parents=True)
    (root / "conf" / "local").mkdir()
    (root / "tests" / "pipelines").mkdir(parents=True)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "pipelines" / "__init__.py").write_text("")
    entries = []
    for i in range(n):
        mp = name(i)
        folder = src / "pipelines" / mp
        folder.mkdir()
        (folder / "__init__.py").write_text(f'"""Micro-package {mp}."""\n__version__ = "1.{i % 7}"\n')
        for j in range(CODE_FILES - 1):
            (folder / f"nodes_{j}.py").write_text(
                f"from {package}.pipelines.{mp}.nodes_{(j + 1) % (CODE_FILES - 1)} import value as other\n\n\n"
                f"def value():\n    return {i * 100 + j}\n\n\ndef combined():\n    return value() + other()\n")
        (folder / "requirements.txt").write_text("\n".join(REQUIREMENTS) + "\n")
        (root / "conf" / "base" / f"parameters_{mp}.yml").write_text(f"{mp}:\n  rate: {i}\n")
        (root / "conf" / "base" / "parameters" / mp).mkdir()
        (root / "conf" / "base" / "parameters" / mp / "more.yml").write_text(f"{mp}_more:\n  depth: {i % 5}\n")
        tests = root / "tests" / "pipelines" / mp
        tests.mkdir()
        (tests / "__init__.py").write_text("")
        (tests / "test_nodes.py").write_text(
            f"from unittest import mock\n\nfrom {package}.pipelines.{mp}.nodes_0 import combined\n\n\n"
            f"def test_combined():\n    with mock.patch(\"{package}.pipelines.{mp}.nodes_1.value\", return_value=0):\n"
            f"        assert combined() >= 0\n")
        entries.append(f'"pipelines.{mp}" = {{}}')
    (root / "pyproject.toml").write_text(
        f'[tool.kedro]\npackage_name = "{package}"\nproject_name = "{package}"\nkedro_init_version = "0.19.15"\n'
        # Kedro 0.19's own table: Kedro 0.19.15 runs on this project side by side with us, and
        # it reads only [tool.kedro.micropkg]; we read it too in a Kedro 0.19 project.
        f'source_dir = "src"\n\n[tool.kedro.micropkg]\ncompile = false\n\n'
        "[tool.kedro.micropkg.package]\n" + "\n".join(entries) + "\n")
    (root / "dodo.py").write_text("from micropkg_tasks import *\n")
    return root
