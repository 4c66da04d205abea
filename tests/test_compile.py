"""The final pip-compile task: real pip-compile against wheels built here, no index."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import add_manifest, clean_env, copy_tree, doit, make_tar, sdist_entries, snapshot


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory):
    """Two tiny wheels, built here with flit_core, for pip-compile to resolve offline."""
    root = tmp_path_factory.mktemp("wheelhouse")
    for name, deps in [("alpha", ["beta>=1"]), ("beta", []), ("delta", [])]:
        src = root / f"src-{name}"
        (src / name).mkdir(parents=True)
        (src / name / "__init__.py").write_text('"""x"""\n__version__ = "1.0"\n')
        (src / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["flit_core"]\nbuild-backend = "flit_core.buildapi"\n'
            f'[project]\nname = "{name}"\nversion = "1.0"\ndescription = "x"\ndependencies = {deps!r}\n'.replace("'", '"'))
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                               "-w", str(root / "wheels"), str(src)], env=clean_env(), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    return root / "wheels"


def offline(wheelhouse):
    return clean_env(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheelhouse))


@pytest.fixture
def compiling(consumer):
    text = (consumer / "pyproject.toml").read_text().replace("compile = false\n", "")
    (consumer / "pyproject.toml").write_text(text)
    return consumer


def test_pulls_chain_to_pip_compile_which_reruns_only_when_requirements_in_changes(compiling, wheelhouse, tmp_path):
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", requires=("alpha>=1",)))
    add_manifest(compiling, f'[tool.micropkg.pull]\n"{sdist}" = {{}}')
    out = doit(compiling, "pull", env=offline(wheelhouse)).stdout
    assert out.index(f"pull:{sdist}") < out.index("pull:pip-compile")
    compiled = (compiling / "requirements.txt").read_text()
    assert "alpha==1.0" in compiled and "beta==1.0" in compiled and "find-links" not in compiled
    again = doit(compiling, "pull", env=offline(wheelhouse)).stdout
    assert ".  pull:pip-compile" not in again and "-- pull:pip-compile" in again
    with (compiling / "requirements.in").open("a") as fh:
        fh.write("beta\n")
    assert ".  pull:pip-compile" in doit(compiling, "pull", env=offline(wheelhouse)).stdout


def test_compile_failure_reports_pips_error_lines_and_keeps_the_old_output(compiling, wheelhouse, tmp_path):
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", requires=("gamma>=1",)))
    (compiling / "requirements.txt").write_text("# old\n")
    add_manifest(compiling, f'[tool.micropkg.pull]\n"{sdist}" = {{}}')
    proc = doit(compiling, "pull", env=offline(wheelhouse), check=False)
    assert proc.returncode == 1
    assert "pip-compile failed: Could not find a version that satisfies the requirement gamma>=1" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert (compiling / "requirements.txt").read_text() == "# old\n"
    assert not list(compiling.glob(".requirements.*"))


def test_compile_command_is_configurable(consumer, tmp_path):
    script = tmp_path / "fake_compile.py"
    script.write_text("import sys; out = sys.argv[sys.argv.index('--output-file') + 1]\n"
                      "open(out, 'w').write('compiled by fake from ' + sys.argv[1])\n")
    text = (consumer / "pyproject.toml").read_text().replace(
        "compile = false", f'compile = ["{sys.executable}", "{script}"]')
    (consumer / "pyproject.toml").write_text(text)
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", requires=("alpha",)))
    doit(consumer, "pull", f"--source={sdist}")
    assert (consumer / "requirements.txt").read_text() == "compiled by fake from requirements.in"


def test_bad_compile_setting(consumer):
    text = (consumer / "pyproject.toml").read_text().replace("compile = false", "compile = 3")
    (consumer / "pyproject.toml").write_text(text)
    add_manifest(consumer, '[tool.micropkg.pull]\n"x.tar.gz" = {}')
    before = snapshot(consumer)
    proc = doit(consumer, "pull", check=False)
    assert proc.returncode == 3 and "compile must be a command string" in proc.stderr
    assert snapshot(consumer) == before


def test_a_killed_compile_leaves_no_temporary_output_behind_the_next_run(consumer, tmp_path):
    import os
    import signal
    import time

    script = tmp_path / "slow_compile.py"
    script.write_text("import os, sys, time; out = sys.argv[sys.argv.index('--output-file') + 1]\n"
                      "open(out, 'w').write('partial')\n"
                      "if os.environ.get('SLOW'): time.sleep(60)\n"
                      "open(out, 'w').write('compiled')\n")
    text = (consumer / "pyproject.toml").read_text().replace(
        "compile = false", f'compile = ["{sys.executable}", "{script}"]')
    (consumer / "pyproject.toml").write_text(text)
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", requires=("alpha",)))
    proc = subprocess.Popen([sys.executable, "-m", "doit", "pull", f"--source={sdist}"], cwd=consumer,
                            env=clean_env(SLOW="1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(consumer.glob(".requirements.*.txt")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert list(consumer.glob(".requirements.*.txt")), "the kill came too late to leave a temporary output"
    (consumer / ".requirements.notes.txt").write_text("not ours")
    doit(consumer, "pull", f"--source={sdist}")
    assert (consumer / "requirements.txt").read_text() == "compiled"
    assert [p.name for p in consumer.glob(".requirements.*.txt")] == [".requirements.notes.txt"]


SLOW_WHEN_ALONE = """import re, sys, time
source, out = sys.argv[1], sys.argv[sys.argv.index('--output-file') + 1]
lines = sorted(re.split('[^A-Za-z0-9_.-]', l.strip())[0] for l in open(source) if l.strip() and not l.startswith('#'))
if len(lines) < 2:  # a slow resolve: whoever compiles less finishes last
    time.sleep(2)
open(out, 'w').write(''.join(l + '==1.0\\n' for l in lines))
"""


@pytest.mark.parametrize("compiler", ["pip-compile", "slow-when-alone"])
def test_concurrent_pulls_always_end_with_every_requirement_compiled(compiling, wheelhouse, tmp_path, compiler):
    if compiler != "pip-compile":
        script = tmp_path / "compile.py"
        script.write_text(SLOW_WHEN_ALONE)
        text = (compiling / "pyproject.toml").read_text().replace(
            "[tool.micropkg]\n", f'[tool.micropkg]\ncompile = ["{sys.executable}", "{script}"]\n')
        (compiling / "pyproject.toml").write_text(text)
    tidy = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", requires=("alpha>=1",)))
    other = make_tar(tmp_path / "other-1.0.tar.gz", sdist_entries("other", "1.0", requires=("delta",)))
    pristine = copy_tree(compiling, tmp_path / "pristine")
    expected = ("alpha", "beta", "delta") if compiler == "pip-compile" else ("alpha", "delta")
    for round_ in range(3):
        shutil.rmtree(compiling)
        copy_tree(pristine, compiling)
        procs = [subprocess.Popen([sys.executable, "-m", "doit", "pull", f"--source={src}"], cwd=compiling,
                                  env=offline(wheelhouse), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for src in (tidy, other)]
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, out + err
        compiled = (compiling / "requirements.txt").read_text()
        assert all(f"{name}==1.0" in compiled for name in expected), f"round {round_}: {compiled}"
    with (compiling / "requirements.in").open("a") as fh:
        fh.write("# edited after the last compile\n")
    assert ".  pull:pip-compile" in doit(compiling, "pull", f"--source={tidy}", env=offline(wheelhouse)).stdout
    assert ".  pull:pip-compile" not in doit(compiling, "pull", f"--source={tidy}", env=offline(wheelhouse)).stdout


PIP_COMPILE_FAILURE = """\
  WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError("HTTPConnection(host='127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] Connection refused")': /simple/zzz/
  ERROR: Could not find a version that satisfies the requirement zzz>=9 (from versions: none)
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/pip/_vendor/resolvelib/resolvers/resolution.py", line 434, in resolve
    self._add_to_criteria(self.state.criteria, r, parent=None)
pip._vendor.resolvelib.resolvers.exceptions.RequirementsConflicted: Requirements conflict: SpecifierRequirement('zzz>=9')
pip._internal.exceptions.DistributionNotFound: No matching distribution found for zzz>=9
"""


def test_a_failed_compile_is_named_by_its_cause_not_its_first_long_line():
    from micropkg_tasks.actions.compile import error_cause

    assert error_cause(PIP_COMPILE_FAILURE) == "Could not find a version that satisfies the requirement zzz>=9 (from versions: none)"
    assert error_cause("Traceback (most recent call last):\n  File \"x\", line 1\nValueError: bad input\n") == "ValueError: bad input"
    assert error_cause("") == "no output"


def test_a_new_compiler_makes_the_compile_stale_and_uv_compiles_to_the_same_bytes_twice(compiling, wheelhouse, tmp_path):
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0", requires=("alpha>=1",)))
    add_manifest(compiling, f'[tool.micropkg.pull]\n"{sdist}" = {{}}')
    doit(compiling, "pull", env=offline(wheelhouse))
    assert "-- pull:pip-compile" in doit(compiling, "pull", env=offline(wheelhouse)).stdout

    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is in the [test] extra"
    text = (compiling / "pyproject.toml").read_text()
    (compiling / "pyproject.toml").write_text(text.replace(
        "[tool.micropkg]\n", f'[tool.micropkg]\ncompile = ["{uv}", "pip", "compile", "--no-index", "--find-links", "{wheelhouse}"]\n'))
    out = doit(compiling, "pull", env=offline(wheelhouse)).stdout
    assert ".  pull:pip-compile" in out  # requirements.in unchanged, the compiler changed
    first = (compiling / "requirements.txt").read_bytes()
    assert b"alpha==1.0" in first and b"doit pull" in first and b".requirements." not in first

    doit(compiling, "forget", "pull:pip-compile", env=offline(wheelhouse))
    assert ".  pull:pip-compile" in doit(compiling, "pull", env=offline(wheelhouse)).stdout
    assert (compiling / "requirements.txt").read_bytes() == first  # same inputs, same bytes
