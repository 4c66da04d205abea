"""docs/reference.md is made from the definitions the code runs on and cannot drift from them;
the manifest knows exactly the keys the reference lists."""
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import doit

from micropkg_tasks.config.manifest import read_manifest
from micropkg_tasks.errors import ManifestError
from micropkg_tasks.reference import render

REFERENCE = Path(__file__).parent.parent / "docs" / "reference.md"


def test_the_committed_reference_is_the_generated_one():
    assert REFERENCE.read_text() == render(), "stale: run `python -m micropkg_tasks.reference > docs/reference.md`"


def test_every_command_and_option_is_in_the_reference():
    import micropkg_tasks

    text = REFERENCE.read_text()
    for name in (n for n in micropkg_tasks.__all__ if n.startswith("task_")):
        assert f"### `doit {name[5:]}`" in text
        for param in getattr(micropkg_tasks, name)._task_creator_params:
            assert f"--{param['long']}" in text


def test_the_module_prints_it():
    proc = subprocess.run([sys.executable, "-m", "micropkg_tasks.reference"], capture_output=True, text=True, check=True)
    assert proc.stdout == render()


@pytest.mark.parametrize("key", ["compiel", "packages", "Pull"])
def test_a_key_the_reference_does_not_list_is_refused(key):
    with pytest.raises(ManifestError, match=f"unknown key '{key}'; valid keys: package, pull, compile"):
        read_manifest({key: {}})


def test_a_misspelt_key_stops_every_command_with_one_line(consumer):
    (consumer / "pyproject.toml").write_text((consumer / "pyproject.toml").read_text().replace("compile = false", "compiel = false"))
    proc = doit(consumer, "list", check=False)
    assert proc.returncode == 3
    assert proc.stderr.strip() == ("ERROR: [tool.micropkg]: unknown key 'compiel'; valid keys: package, pull, compile, "
                                   "timeout, max-size, allow-direct-references, publish, index, wheel, name")
