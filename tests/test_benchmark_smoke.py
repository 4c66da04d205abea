"""The benchmark must keep running: a tiny N=3 run, its JSON, its table (and plot if it can)."""
import json
import subprocess
import sys
from pathlib import Path

from conftest import clean_env

BENCH = Path(__file__).parent.parent / "benchmarks" / "run.py"


def test_benchmark_smoke_run(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH), "--smoke", "--out", str(tmp_path)], env=clean_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["n"] == 3 and set(results["scaling"]) == {"2", "3"}
    for op in ["cold package", "no-op package", "one file edited", "one file added", "list --all",
               "cold pull (all N)", "no-op pull", "one pull with alias", "pip-compile (separately)"]:
        assert results["main"][op] > 0
    assert results["parallel"]["n"] == 3 and results["parallel"]["-n 1"] > 0 and results["parallel"]["-n 2"] > 0
    assert set(results["floor"]) == {"3"}
    assert all(results["floor"]["3"][side]["no-op package"] > 0 for side in ("ours", "floor"))
    md = (tmp_path / "results.md").read_text()
    assert "| cold package |" in md and "| doit -n 1 | doit -n 2 |" in md and "Ours against the floor" in md
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
