"""`doit pull` into a consumer project: Kedro's layout, import rewriting, requirements, the lock
(re-pull, upgrade, conflicts, --force) and all-or-nothing application."""
import hashlib
import subprocess
import sys
import tarfile

import pytest
from conftest import KEDRO_SDISTS, add_manifest, clean_env, doit, make_consumer, make_tar, sdist_entries, snapshot

from micropkg_tasks.actions.pull import pull
from micropkg_tasks.config.manifest import pull_spec
from micropkg_tasks.config.project import load_project
from micropkg_tasks.core.requirements import append_block, new_requirements
from micropkg_tasks.errors import ConflictError, SourceError

CLEANING = KEDRO_SDISTS / "cleaning-0.3.1.tar.gz"
SCORING = KEDRO_SDISTS / "scoring-0.1.tar.gz"


def ran(proc):
    return sorted(line[3:] for line in proc.stdout.splitlines() if line.startswith(".  "))


def files_under(root, rel):
    base = root / rel
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())


def test_kedro_sdists_land_in_kedros_layout(consumer):
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{CLEANING}" = {{}}\n"{SCORING}" = {{env = "local"}}')
    out = doit(consumer, "pull").stdout
    assert "pulled cleaning 0.3.1 into consumer.cleaning" in out
    assert files_under(consumer, "src/consumer/cleaning") == [
        "README.md", "__init__.py", "nodes.py", "pipeline.py", "utils/__init__.py", "utils/text.py"]
    assert files_under(consumer, "tests/cleaning") == ["__init__.py", "test_nodes.py"]
    assert (consumer / "conf/base/parameters_cleaning.yml").read_text() == "cleaning:\n  min_length: 2\n"
    assert (consumer / "conf/base/parameters/cleaning/thresholds.yml").is_file()
    assert (consumer / "conf/local/parameters_scoring.yml").is_file()
    assert not (consumer / "conf/base/parameters_scoring.yml").exists()
    nodes = (consumer / "src/consumer/cleaning/nodes.py").read_text()
    assert nodes.startswith("import consumer.cleaning.utils.text as text_utils\nfrom consumer.cleaning.utils import text\n")
    assert "from consumer.scoring.pipeline import create_pipeline" in (consumer / "src/consumer/scoring/__init__.py").read_text()
    assert "from consumer.cleaning.nodes import clean_names" in (consumer / "tests/cleaning/test_nodes.py").read_text()
    assert not any("egg-info" in str(p) or p.name in ("setup.cfg", "MANIFEST.in") for p in consumer.rglob("*"))


@pytest.mark.parametrize("alias,destination,env", [
    (None, None, None), ("beta", None, None), ("beta", "pipelines", "local"), (None, "pipelines/nested", None),
])
def test_our_sdist_round_trips_with_alias_destination_and_env(acme, tmp_path, alias, destination, env):
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {alias = "alpha"}')
    doit(acme, "package")
    consumer = make_consumer(tmp_path / "c")
    args = [f"--source={acme / 'dist/alpha-0.3.1.tar.gz'}"]
    args += [f"--alias={alias}"] * bool(alias) + [f"--destination={destination}"] * bool(destination)
    args += [f"--env={env}"] * bool(env)
    doit(consumer, "pull", *args)
    name = alias or "alpha"
    module = ".".join(filter(None, [(destination or "").replace("/", "."), name]))
    where = module.replace(".", "/")
    code, tests = consumer / "src/consumer" / where, consumer / "tests" / where
    assert sorted(p.name for p in code.iterdir()) == [
        "README.md", "__init__.py", "nodes.py", "pipeline.py", "requirements.txt", "sql", "utils"]
    assert f"import consumer.{module}.utils.text as text_utils" in (code / "nodes.py").read_text()
    test_text = (tests / "test_nodes.py").read_text()
    assert f'mock.patch("consumer.{module}.nodes.helper"' in test_text
    assert f"from consumer.{module}.nodes import clean_names" in test_text
    params = consumer / "conf" / (env or "base") / f"parameters_{name}.yml"
    assert params.read_bytes() == (acme / "conf/base/parameters_cleaning.yml").read_bytes()
    assert (consumer / "conf" / (env or "base") / "parameters" / name / "thresholds.yml").is_file()
    # the pulled tests pass in their new place (kedro itself is stood in for by a two-line stub)
    stub = tmp_path / "stub" / "kedro"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("")
    (stub / "pipeline.py").write_text("def node(*a, **k):\n    return a\n\n\nclass Pipeline(list):\n    pass\n")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"tests/{where}"],
                          cwd=consumer, env=clean_env(PYTHONPATH=f"{consumer / 'src'}:{stub.parent}"),
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "2 passed" in proc.stdout, proc.stdout + proc.stderr


def test_tests_go_to_src_tests_where_the_project_keeps_them_there(tmp_path):
    consumer = make_consumer(tmp_path / "old", tests="src/tests")
    pull(load_project(consumer), pull_spec(str(CLEANING)))
    assert (consumer / "src/tests/cleaning/test_nodes.py").is_file() and not (consumer / "tests").exists()


def test_sdist_without_tests_or_config(consumer, tmp_path):
    bare = make_tar(tmp_path / "bare-1.0.tar.gz", sdist_entries("bare", "1.0", files={"nodes.py": "X = 1\n"}))
    pull(load_project(consumer), pull_spec(str(bare)))
    assert files_under(consumer, "src/consumer/bare") == ["__init__.py", "nodes.py"]
    assert not (consumer / "tests/bare").exists()
    assert list((consumer / "conf/base").iterdir()) == []


# -- requirements ----------------------------------------------------------------------------

SIMPLE = ["pandas>=1.0", "Foo_Bar[b,a]>=1,<2", 'numpy; python_version < "3.13"', "requests @ https://example.com/r.whl"]


def test_requirement_equivalence_is_pep508_not_text():
    existing = "foo-bar[a,b]<2,>=1\n-r other.txt\n--extra-index-url https://x\n./local.whl\npandas>=1.0 # pinned\n"
    assert new_requirements(existing, SIMPLE) == ['numpy; python_version < "3.13"', "requests @ https://example.com/r.whl"]
    assert new_requirements("", ["a", "A", "b>=1"]) == ["a", "b>=1"]


def test_merging_is_idempotent_and_keeps_what_it_does_not_understand():
    existing = "-r base.txt\nflask\n"
    once = append_block(existing, "tidy", new_requirements(existing, SIMPLE))
    assert once.startswith(existing) and "# Requirements from micro-package `tidy`:\n" in once
    assert new_requirements(once, SIMPLE) == []


def _with_requirements(tmp_path, requires):
    return make_tar(tmp_path / "req-1.0.tar.gz", sdist_entries("req", "1.0", requires=tuple(requires)))


def test_requirements_in_is_started_from_requirements_txt(consumer, tmp_path):
    (consumer / "requirements.txt").write_text("flask==3.0\n-r other.txt\n")
    said = pull(load_project(consumer), pull_spec(str(_with_requirements(tmp_path, ["flask==3.0", "pyyaml>=6"]))))
    assert ("requirements.in starts as a copy of your requirements.txt and holds the new requirements; compiling is "
            "off ([tool.micropkg] compile = false), so requirements.txt stays as you wrote it: add them there, or "
            "compile it yourself") in said  # the consumer fixture sets compile = false
    assert (consumer / "requirements.in").read_text() == (
        "flask==3.0\n-r other.txt\n\n# Requirements from micro-package `req`:\npyyaml>=6\n")
    assert (consumer / "requirements.txt").read_text() == "flask==3.0\n-r other.txt\n"


def test_the_first_compiled_pull_says_what_compiling_does(consumer, tmp_path):
    (consumer / "pyproject.toml").write_text((consumer / "pyproject.toml").read_text().replace("compile = false\n", ""))
    (consumer / "requirements.txt").write_text("flask==3.0\n")
    said = pull(load_project(consumer), pull_spec(str(_with_requirements(tmp_path, ["pyyaml>=6"]))))
    line = next(line for line in said if line.startswith("requirements.in starts as a copy"))
    assert "from now on requirements.txt is compiled from requirements.in, which holds your original lines" in line
    assert "compiling pins every dependency, transitive ones included, and pip-compile can take tens of seconds" in line


def test_requirements_in_keeps_its_crlf_line_endings(consumer, tmp_path):
    (consumer / "requirements.in").write_bytes(b"flask==3.0\r\n")
    pull(load_project(consumer), pull_spec(str(_with_requirements(tmp_path, ["pyyaml>=6"]))))
    assert (consumer / "requirements.in").read_bytes() == (
        b"flask==3.0\r\n\r\n# Requirements from micro-package `req`:\r\npyyaml>=6\r\n")


def test_covered_requirements_leave_the_file_byte_identical(consumer, tmp_path):
    (consumer / "requirements.in").write_text("PyYAML >= 6  # yaml\n")
    pull(load_project(consumer), pull_spec(str(_with_requirements(tmp_path, ["pyyaml>=6"]))))
    assert (consumer / "requirements.in").read_text() == "PyYAML >= 6  # yaml\n"


def test_no_requirements_creates_no_file(consumer, tmp_path):
    pull(load_project(consumer), pull_spec(str(_with_requirements(tmp_path, []))))
    assert not (consumer / "requirements.in").exists()


# -- the lock: re-pull, upgrade, conflicts ---------------------------------------------------


def _version(tmp_path, version, files, requires=()):
    return make_tar(tmp_path / f"tidy-{version}.tar.gz", sdist_entries("tidy", version, requires, files=files,
                                                                      tests={"test_a.py": "from tidy import a\n"}))


def test_repull_is_a_noop_and_doit_does_not_rerun(consumer, tmp_path):
    sdist = _version(tmp_path, "1.0", {"a.py": "A = 1\n"}, ["pyyaml"])
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{sdist}" = {{}}')
    doit(consumer, "pull")
    before = snapshot(consumer)
    assert ran(doit(consumer, "pull")) == []
    assert pull(load_project(consumer), pull_spec(str(sdist))) == ["tidy: tidy 1.0 is already installed and unchanged"]
    assert snapshot(consumer) == before
    lock = (consumer / "micropkg.lock").read_text()
    assert f'sha256 = "{hashlib.sha256(sdist.read_bytes()).hexdigest()}"' in lock
    assert '"src/consumer/tidy/a.py" = "' in lock and 'requirements = ["pyyaml"]' in lock and 'added = ["pyyaml"]' in lock


def test_upgrade_replaces_files_and_removes_dropped_ones_then_downgrade(consumer, tmp_path):
    project = load_project(consumer)
    v1 = _version(tmp_path, "1.0", {"a.py": "A = 1\n", "old/b.py": "B = 1\n"})
    v2 = _version(tmp_path, "2.0", {"a.py": "A = 2\n", "c.py": "C = 2\n"})
    pull(project, pull_spec(str(v1)))
    first = snapshot(consumer)
    assert pull(project, pull_spec(str(v2)))[0].startswith("updated from 1.0 to tidy 2.0")
    assert files_under(consumer, "src/consumer/tidy") == ["__init__.py", "a.py", "c.py"]
    assert (consumer / "src/consumer/tidy/a.py").read_text() == "A = 2\n"
    assert not (consumer / "src/consumer/tidy/old").exists()  # emptied folders go too
    pull(project, pull_spec(str(v1)))
    after = snapshot(consumer)
    assert {k: v for k, v in after.items() if k != "micropkg.lock"} == {k: v for k, v in first.items() if k != "micropkg.lock"}


def test_edited_file_is_a_conflict_that_changes_nothing_unless_forced(consumer, tmp_path):
    project = load_project(consumer)
    pull(project, pull_spec(str(_version(tmp_path, "1.0", {"a.py": "A = 1\n"}))))
    (consumer / "src/consumer/tidy/a.py").write_text("A = 'mine'\n")
    before = snapshot(consumer)
    v2 = _version(tmp_path, "2.0", {"a.py": "A = 2\n"})
    with pytest.raises(ConflictError, match=r"src/consumer/tidy/a.py \(changed since it was pulled\).*--force"):
        pull(project, pull_spec(str(v2)))
    assert snapshot(consumer) == before
    pull(project, pull_spec(str(v2)), force=True)
    assert (consumer / "src/consumer/tidy/a.py").read_text() == "A = 2\n"


def test_existing_files_not_from_a_pull_are_a_conflict(consumer, tmp_path):
    (consumer / "src/consumer/tidy").mkdir()
    (consumer / "src/consumer/tidy/a.py").write_text("handwritten\n")
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={_version(tmp_path, '1.0', {'a.py': 'A = 1'})}", check=False)
    assert proc.returncode != 0 and "not installed by a pull" in proc.stdout
    assert snapshot(consumer) == before
    doit(consumer, "pull", f"--source={tmp_path / 'tidy-1.0.tar.gz'}", "--force")
    assert (consumer / "src/consumer/tidy/a.py").read_text() == "A = 1"


def test_another_pulls_files_are_not_taken_over(consumer, tmp_path):
    project = load_project(consumer)
    pull(project, pull_spec(str(CLEANING)))
    # Kedro's pattern 3 selects parameters/cleaning/thresholds.yml for a package named thresholds
    other = make_tar(tmp_path / "thresholds-1.0.tar.gz", [
        *sdist_entries("thresholds", "1.0"),
        ("thresholds-1.0/thresholds/config/parameters/cleaning/thresholds.yml", b"x: 1\n")])
    with pytest.raises(ConflictError, match=r"conf/base/parameters/cleaning/thresholds.yml \(installed by cleaning\)"):
        pull(project, pull_spec(str(other)))


def test_failed_download_changes_nothing(consumer):
    before = snapshot(consumer)
    with pytest.raises(SourceError):
        pull(load_project(consumer), pull_spec("memory://nowhere/x.tar.gz"))
    assert snapshot(consumer) == before


# -- doit wiring -----------------------------------------------------------------------------


def test_list_info_and_the_compile_task_order(consumer):
    (consumer / "pyproject.toml").write_text((consumer / "pyproject.toml").read_text().replace("compile = false\n", ""))
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{CLEANING}" = {{}}\n"{SCORING}" = {{}}')
    listed = doit(consumer, "list", "--all").stdout
    assert f"pull:{CLEANING}" in listed and "pull:pip-compile" in listed
    info = doit(consumer, "info", "pull:pip-compile", check=False).stdout  # exit 1: it would run (never compiled)
    assert f"pull:{CLEANING}" in info and f"pull:{SCORING}" in info


def test_empty_pull_manifest_is_a_friendly_message(consumer):
    assert "Nothing to pull" in doit(consumer, "pull").stdout


@pytest.mark.parametrize("args,message", [
    (["--source=x.tar.gz", "--alias=bad-alias"], "not a valid Python package name"),
    (["--alias=beta"], "need --source"),
    (["--source=x.tar.gz", "--destination=../out"], "inside the project"),
    (["--source=x.tar.gz", "--env=a/b"], "env 'a/b'"),
])
def test_bad_pull_options(consumer, args, message):
    before = snapshot(consumer)
    proc = doit(consumer, "pull", *args, check=False)
    assert proc.returncode == 3 and proc.stderr.startswith("ERROR: ") and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert snapshot(consumer) == before


def test_clean_uninstalls_unchanged_files_and_keeps_edited_ones(consumer, tmp_path):
    sdist = _version(tmp_path, "1.0", {"a.py": "A = 1\n", "b.py": "B = 1\n"})
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{sdist}" = {{}}')
    pristine = snapshot(consumer)
    doit(consumer, "pull")
    dry = doit(consumer, "clean", "-n", f"pull:{sdist}").stdout
    assert "would remove tidy 1.0" in dry and (consumer / "src/consumer/tidy/a.py").exists()
    (consumer / "src/consumer/tidy/b.py").write_text("B = 'mine'\n")
    out = doit(consumer, "clean", f"pull:{sdist}").stdout
    assert "kept 1 file(s) changed since the pull: src/consumer/tidy/b.py" in out
    assert files_under(consumer, "src/consumer/tidy") == ["b.py"]
    assert not (consumer / "micropkg.lock").exists() and not (consumer / "tests/tidy").exists()
    (consumer / "src/consumer/tidy/b.py").unlink()
    (consumer / "src/consumer/tidy").rmdir()
    assert snapshot(consumer) == pristine  # exactly as before the pull
    doit(consumer, "pull")  # and it can be pulled again
    assert (consumer / "src/consumer/tidy/b.py").read_text() == "B = 1\n"


def test_pull_applies_the_same_max_size_as_packaging(consumer, tmp_path):
    """One limit on both sides: [tool.micropkg] max-size bounds the archive a pull downloads and
    what it unpacks to, as it bounds what `doit package` writes."""
    big = make_tar(tmp_path / "big-1.0.tar.gz", sdist_entries("big", "1.0", files={"data.csv": "x" * 50_000}))
    text = (consumer / "pyproject.toml").read_text().replace("compile = false", 'compile = false\nmax-size = "16KiB"')
    (consumer / "pyproject.toml").write_text(text)
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={big}", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "unpacks to more than 16.0 KiB, the max-size limit; refusing it" in proc.stdout
    assert snapshot(consumer) == before
    text = (consumer / "pyproject.toml").read_text().replace('max-size = "16KiB"', 'max-size = "100"')
    (consumer / "pyproject.toml").write_text(text)
    proc = doit(consumer, "pull", f"--source={big}", check=False)
    assert proc.returncode == 1 and "is larger than 100 bytes, the max-size limit; refusing it" in proc.stdout
    text = (consumer / "pyproject.toml").read_text().replace('max-size = "100"', 'max-size = "1MiB"')
    (consumer / "pyproject.toml").write_text(text)
    assert "pulled big 1.0" in doit(consumer, "pull", f"--source={big}").stdout


# -- Kedro-made aliased sdists: the original name stays in parameter folders ---------------------

KEDRO_ALIASED = KEDRO_SDISTS / "aliased"
TIDY_CONF = ["parameters/cleaning/stages/strict.yml", "parameters/cleaning/thresholds.yml",
             "parameters_extra/cleaning/deep.yml", "pipelines/cleaning/parameters_io.yml"]
#: Where Kedro 0.19.15's own ``kedro micropkg pull`` put them (run on these files; see
#: examples/kedro-0.19.15/aliased/README.md, and test_kedro.py, which runs it again).
KEDRO_PULL_LAYOUT = {
    ("tidy-0.3.1.tar.gz", ()): ["conf/base/parameters_tidy.yml", *(f"conf/base/{r}" for r in TIDY_CONF),
                                 "src/consumer/tidy/README.md", "src/consumer/tidy/__init__.py",
                                 "src/consumer/tidy/nodes.py", "src/consumer/tidy/pipeline.py",
                                 "src/consumer/tidy/utils/__init__.py", "src/consumer/tidy/utils/text.py",
                                 "tests/tidy/__init__.py", "tests/tidy/test_nodes.py"],
    ("tidy-0.3.1.tar.gz", ("--alias=neat", "--destination=pipelines")): [
        "conf/base/parameters_neat.yml", *(f"conf/base/{r}" for r in TIDY_CONF),
        "src/consumer/pipelines/neat/README.md", "src/consumer/pipelines/neat/__init__.py",
        "src/consumer/pipelines/neat/nodes.py", "src/consumer/pipelines/neat/pipeline.py",
        "src/consumer/pipelines/neat/utils/__init__.py", "src/consumer/pipelines/neat/utils/text.py",
        "tests/pipelines/neat/__init__.py", "tests/pipelines/neat/test_nodes.py"],
    ("scoring_kit-0.1.tar.gz", ()): ["conf/base/parameters/scoring/weights.yml", "conf/base/parameters_scoring_kit.yml",
                                      "src/consumer/scoring_kit/__init__.py", "src/consumer/scoring_kit/pipeline.py",
                                      "tests/scoring_kit/__init__.py", "tests/scoring_kit/test_pipeline.py"],
    ("scoring_kit-0.1.tar.gz", ("--alias=scorer", "--env=local")): [
        "conf/local/parameters/scoring/weights.yml", "conf/local/parameters_scorer.yml",
        "src/consumer/scorer/__init__.py", "src/consumer/scorer/pipeline.py",
        "tests/scorer/__init__.py", "tests/scorer/test_pipeline.py"],
}


def pulled_files(project, before) -> list[str]:
    return sorted(rel for rel in snapshot(project) if rel not in before and rel not in ("micropkg.lock", "requirements.in"))


@pytest.mark.parametrize("sdist,args", sorted(KEDRO_PULL_LAYOUT), ids=lambda v: "-".join(v) if isinstance(v, tuple) else v)
def test_kedro_made_aliased_sdists_land_where_kedro_puts_them(consumer, sdist, args):
    """Kedro 0.19.15 packaged ``cleaning`` as ``tidy`` keeping ``config/parameters/cleaning/``:
    the parameter files of both names are installed, where Kedro's own pull installs them."""
    before = snapshot(consumer)
    doit(consumer, "pull", f"--source={KEDRO_ALIASED / sdist}", *args)
    assert pulled_files(consumer, before) == sorted(KEDRO_PULL_LAYOUT[(sdist, args)])
    conf = "conf/local" if "--env=local" in args else "conf/base"
    with tarfile.open(KEDRO_ALIASED / sdist) as source:
        for member in source.getmembers():
            inner = member.name.split("/config/", 1)[-1]
            if "/config/" in member.name and member.isfile() and not inner.startswith("parameters_"):
                assert (consumer / conf / inner).read_bytes() == source.extractfile(member).read()


# -- task names a user reads, types back, and doit never misreads -------------------------------

def _shelf(folder, name="tidy", version="1.0"):
    folder.mkdir(parents=True, exist_ok=True)
    return make_tar(folder / f"{name}-{version}.tar.gz", sdist_entries(name, version))


def test_requirement_pull_tasks_are_named_so_clean_forget_and_info_take_them_back(consumer, tmp_path):
    shelf = tmp_path / "shelf"
    _shelf(shelf)
    add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy>=1.0,<2" = {{index = "{shelf}"}}')
    names = [line.split()[0] for line in doit(consumer, "list", "--all").stdout.splitlines()]
    assert "pull:tidy" in names and not any("=" in name or "%" in name for name in names)
    doit(consumer, "pull")
    assert (consumer / "src/consumer/tidy/__init__.py").is_file()
    assert "pull:tidy" in doit(consumer, "info", "pull:tidy").stdout
    doit(consumer, "forget", "pull:tidy")
    again = doit(consumer, "pull").stdout
    assert ".  pull:tidy" in again and "already installed and unchanged" in again  # forgotten: re-checked
    doit(consumer, "clean", "pull:tidy")
    assert not (consumer / "src/consumer/tidy").exists()


def test_two_requirements_of_one_project_are_told_apart_by_where_they_go(consumer, tmp_path):
    shelf = tmp_path / "shelf"
    _shelf(shelf)
    add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy>=1.0" = {{index = "{shelf}"}}\n'
                           f'"tidy<2" = {{index = "{shelf}", alias = "neat", destination = "pipelines"}}')
    names = [line.split()[0] for line in doit(consumer, "list", "--all").stdout.splitlines()]
    assert "pull:tidy@tidy" in names and "pull:tidy@pipelines/neat" in names
    doit(consumer, "pull:tidy@pipelines/neat")
    assert (consumer / "src/consumer/pipelines/neat/__init__.py").is_file()
    assert not (consumer / "src/consumer/tidy").exists()


@pytest.mark.parametrize("command", ["clean", "forget", "info", "run", ""])
def test_a_task_name_doit_would_read_as_a_variable_is_refused_naming_the_task(acme, tmp_path, command):
    """``doit clean "pull:tidy==1.0"``: doit takes the word as a variable and, with no task left,
    cleaned the default tasks (every sdist). It is refused with one line, nothing touched."""
    shelf = tmp_path / "shelf"
    _shelf(shelf)
    add_manifest(acme, f'[tool.micropkg.pull]\n"tidy==1.0" = {{index = "{shelf}"}}')
    doit(acme, "package")
    before = snapshot(acme)
    proc = doit(acme, *([command] if command else []), "pull:tidy==1.0", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert out.strip().splitlines() == ["ERROR: pull:tidy==1.0 holds '=', which doit reads as a variable assignment, "
                                        "not a task name: the task is pull:tidy (doit list --all shows every task name)"]
    assert snapshot(acme) == before


def test_a_path_with_doit_special_characters_keeps_a_name_doit_reads_back(consumer, tmp_path):
    odd = tmp_path / "a=b*c"
    _shelf(odd)
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{odd}/tidy-1.0.tar.gz" = {{}}')
    name = f"pull:{tmp_path}/a%3Db%2Ac/tidy-1.0.tar.gz"
    assert name in doit(consumer, "list", "--all").stdout
    doit(consumer, name)
    doit(consumer, "clean", name)
    assert not (consumer / "src/consumer/tidy").exists()
