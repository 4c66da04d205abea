"""Real Kedro, run as `kedro` processes from virtual environments built from PyPI (kedro_envs.py).

Kedro 1.x: `kedro micropkg package/pull` come from our plugin (micropkg_tasks/kedro_cli.py) and
share doit's state with `doit package`; a pipeline packaged from one `kedro new` project, pulled
into another, runs with `kedro run` and its tests pass. Kedro 0.19.15: its own `kedro micropkg`
is untouched by the plugin and pulls our sdists.
"""
from __future__ import annotations

import re
import tarfile
from pathlib import Path

import pytest
from kedro_envs import KEDRO_019, KEDRO_1, KedroEnv, kedro_env

pytestmark = pytest.mark.kedro

# -- environments and projects -----------------------------------------------------------------

@pytest.fixture(scope="session")
def kedro1() -> KedroEnv:
    return kedro_env(KEDRO_1, extras=("pytest",))  # pytest: to run the pulled tests


@pytest.fixture(scope="session")
def kedro019() -> KedroEnv:
    return kedro_env(KEDRO_019)


def kedro_new(env: KedroEnv, where: Path, name: str) -> Path:
    """A project from `kedro new`'s built-in template (works offline), with a tests/ folder."""
    where.mkdir(parents=True, exist_ok=True)
    env.kedro_run("new", "--name", name, "--tools", "none", "--example", "n", cwd=where)
    project = where / name
    assert (project / "src" / name / "pipeline_registry.py").is_file()
    (project / "tests").mkdir(exist_ok=True)
    return project


def add_pipeline(project: Path, package: str) -> None:
    """The official starters' shape: src/<pkg>/pipelines/data_processing/, parameters in
    conf/base/parameters_data_processing.yml, tests in tests/pipelines/data_processing/ WITHOUT
    __init__.py. Absolute imports, so that packaging and pulling must rewrite them."""
    code = project / "src" / package / "pipelines" / "data_processing"
    code.mkdir(parents=True)
    (code / "__init__.py").write_text(
        '"""Numbers, scaled by a parameter, summed."""\n'
        "from .pipeline import create_pipeline\n\n"
        '__all__ = ["create_pipeline"]\n'
        '__version__ = "0.1"\n'
    )
    (code / "nodes.py").write_text(
        "def make_numbers(count: int) -> list:\n"
        "    return list(range(1, count + 1))\n\n\n"
        "def scale(numbers: list, factor: int) -> list:\n"
        "    return [n * factor for n in numbers]\n\n\n"
        "def total(numbers: list) -> int:\n"
        "    value = sum(numbers)\n"
        '    print(f"data_processing total = {value}")\n'
        "    return value\n"
    )
    (code / "pipeline.py").write_text(
        "from kedro.pipeline import Pipeline, node\n\n"
        f"from {package}.pipelines.data_processing.nodes import make_numbers, scale, total\n\n\n"
        "def create_pipeline(**kwargs) -> Pipeline:\n"
        "    return Pipeline([\n"
        '        node(make_numbers, "params:data_processing.count", "numbers", name="make_numbers_node"),\n'
        '        node(scale, ["numbers", "params:data_processing.factor"], "scaled", name="scale_node"),\n'
        '        node(total, "scaled", "total", name="total_node"),\n'
        "    ])\n"
    )
    tests = project / "tests" / "pipelines" / "data_processing"
    tests.mkdir(parents=True)
    (tests / "test_pipeline.py").write_text(
        f"from {package}.pipelines.data_processing.nodes import scale\n"
        f"from {package}.pipelines.data_processing.pipeline import create_pipeline\n\n\n"
        "def test_scale():\n"
        "    assert scale([1, 2], 3) == [3, 6]\n\n\n"
        "def test_pipeline_end_to_end():\n"
        '    data = {"params:data_processing.count": 3, "params:data_processing.factor": 2}\n'
        "    for n in create_pipeline().nodes:  # in topological order\n"
        "        data.update(n.run({name: data[name] for name in n.inputs}))\n"
        '    assert data["total"] == 12\n'
    )
    (project / "conf" / "base" / "parameters_data_processing.yml").write_text(
        "data_processing:\n  count: 3\n  factor: 2\n"
    )
    (project / "dodo.py").write_text("from micropkg_tasks import *\n")


def add_tool_micropkg(project: Path, package_entries: bool = True) -> None:
    text = "\n[tool.micropkg]\ncompile = false\n"
    if package_entries:
        text += '\n[tool.micropkg.package]\n"pipelines.data_processing" = {}\n'
    with (project / "pyproject.toml").open("a") as fh:
        fh.write(text)


@pytest.fixture
def demo(kedro1, tmp_path) -> Path:
    """A Kedro 1.x project with the starter-shaped pipeline and a [tool.micropkg] manifest."""
    project = kedro_new(kedro1, tmp_path / "a", "demo")
    add_pipeline(project, "demo")
    add_tool_micropkg(project)
    return project


def output(proc) -> str:
    return proc.stdout + proc.stderr


def flat(text: str) -> str:
    return " ".join(text.split())


def members(sdist: Path) -> dict[str, str]:
    with tarfile.open(sdist) as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers() if m.isfile()}


SDIST = Path("dist") / "data_processing-0.1.tar.gz"
BUILT = ".  package:pipelines.data_processing"  # doit's line for a task it ran
UP_TO_DATE = "-- package:pipelines.data_processing"  # ... and for one it found up to date


# -- Kedro 1.x -----------------------------------------------------------------------------------

def test_kedro1_accepts_the_project_and_has_our_micropkg_commands(kedro1, demo):
    registry = kedro1.kedro_run("registry", "list", cwd=demo)  # Kedro accepts [tool.micropkg]
    assert "data_processing" in registry.stdout

    group = kedro1.kedro_run("micropkg", "--help", cwd=demo).stdout
    assert re.search(r"^\s+package\s", group, re.MULTILINE) and re.search(r"^\s+pull\s", group, re.MULTILINE)
    assert "micropkg" in kedro1.kedro_run("--help", cwd=demo).stdout

    package_help = flat(kedro1.kedro_run("micropkg", "package", "--help", cwd=demo).stdout)
    assert "kedro micropkg package [OPTIONS] [MODULE_PATH]" in package_help
    for text in ["-e, --env TEXT Environment where the micro-package configuration lives. Defaults to `base`.",
                 "--alias TEXT Alternative name to package under.",
                 ("-d, --destination DIRECTORY Location where to create the source distribution file. "
                  "Defaults to `dist/`."),
                 "-a, --all Package all micro-packages in the `pyproject.toml` package manifest section."]:
        assert text in package_help

    pull_help = flat(kedro1.kedro_run("micropkg", "pull", "--help", cwd=demo).stdout)
    assert "kedro micropkg pull [OPTIONS] [PACKAGE_PATH]" in pull_help
    for text in ["-a, --all Pull and unpack all micro-packages in the `pyproject.toml` package manifest section.",
                 "-e, --env TEXT Environment to install the micro-package configuration to. Defaults to `base`.",
                 "--alias TEXT Rename the package.",
                 "-d, --destination PATH Module location where to unpack under.",
                 ("--fs-args FILE Location of a configuration file for the fsspec filesystem used to pull "
                  "the package.")]:
        assert text in pull_help


def test_kedro1_package_one_micropkg_shares_doit_state(kedro1, demo):
    first = kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", cwd=demo)
    assert BUILT in first.stdout
    sdist = demo / SDIST
    files = members(sdist)
    root = "data_processing-0.1/"
    for name in ["PKG-INFO", "data_processing/__init__.py", "data_processing/nodes.py",
                 "data_processing/pipeline.py", "data_processing/config/parameters_data_processing.yml",
                 "tests/test_pipeline.py"]:
        assert root + name in files
    assert "from data_processing.nodes import make_numbers, scale, total" in files[root + "data_processing/pipeline.py"]
    test_code = files[root + "tests/test_pipeline.py"]
    assert "from data_processing.pipeline import create_pipeline" in test_code and "demo." not in test_code
    built = sdist.stat().st_mtime_ns

    again = kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", cwd=demo)
    assert UP_TO_DATE in again.stdout and BUILT not in again.stdout
    assert kedro1.doit("package", "--micropkg", "pipelines.data_processing", cwd=demo).stdout.startswith(UP_TO_DATE)
    assert sdist.stat().st_mtime_ns == built

    # the other way round: doit rebuilds an edited micro-package, then Kedro finds it up to date
    with (demo / "src/demo/pipelines/data_processing/nodes.py").open("a") as fh:
        fh.write("\n# edited\n")
    assert BUILT in kedro1.doit("package", "--micropkg", "pipelines.data_processing", cwd=demo).stdout
    assert "# edited" in members(sdist)[root + "data_processing/nodes.py"]
    rebuilt = sdist.stat().st_mtime_ns
    assert UP_TO_DATE in kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", cwd=demo).stdout
    assert sdist.stat().st_mtime_ns == rebuilt

    # options map to doit's: an alias is another task, with its own sdist
    aliased = kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", "--alias", "dp",
                               "-d", "shared", "-v", cwd=demo)
    assert "doit package --micropkg=pipelines.data_processing --alias=dp --destination=shared" in aliased.stdout
    assert "dp-0.1/dp/nodes.py" in members(demo / "shared" / "dp-0.1.tar.gz")


def test_doit_never_imports_kedro(kedro1, demo):
    proc = kedro1.run("python", "-X", "importtime", "-m", "doit", "package", "--micropkg",
                      "pipelines.data_processing", cwd=demo)
    assert BUILT in proc.stdout
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "micropkg_tasks" in imported
    assert not {m for m in imported if m.split(".")[0] in ("kedro", "click")}


def test_kedro1_package_all_twice_rebuilds_nothing_and_doit_agrees(kedro1, demo):
    first = kedro1.kedro_run("micropkg", "package", "--all", cwd=demo)
    assert BUILT in first.stdout
    sdist = demo / SDIST
    built = sdist.stat().st_mtime_ns

    second = kedro1.kedro_run("micropkg", "package", "--all", cwd=demo)
    assert UP_TO_DATE in second.stdout and BUILT not in second.stdout
    assert UP_TO_DATE in kedro1.doit("package", cwd=demo).stdout
    assert sdist.stat().st_mtime_ns == built

    (demo / "conf/base/parameters_data_processing.yml").write_text("data_processing:\n  count: 4\n  factor: 2\n")
    assert BUILT in kedro1.doit("package", cwd=demo).stdout
    assert "count: 4" in members(sdist)["data_processing-0.1/data_processing/config/parameters_data_processing.yml"]
    assert UP_TO_DATE in kedro1.kedro_run("micropkg", "package", "--all", cwd=demo).stdout


def test_kedro1_errors_are_one_line_and_exit_non_zero(kedro1, demo):
    missing = kedro1.kedro_run("micropkg", "package", "pipelines.nope", cwd=demo, check=False)
    assert missing.returncode != 0
    assert "Traceback" not in output(missing)
    errors = [line for line in output(missing).splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "pipelines.nope" in errors[0], output(missing)
    assert not (demo / "dist").exists()

    nothing = kedro1.kedro_run("micropkg", "package", cwd=demo, check=False)
    assert nothing.returncode == 1
    assert ("Please specify a micro-package name or add '--all' to package all micro-packages in the "
            "'pyproject.toml' package manifest section.") in nothing.stdout

    nothing = kedro1.kedro_run("micropkg", "pull", cwd=demo, check=False)
    assert nothing.returncode == 1
    assert ("Please specify a package path or add '--all' to pull all micro-packages in the "
            "'pyproject.toml' package manifest section.") in nothing.stdout

    bad_path = kedro1.kedro_run("micropkg", "package", "pipelines/data_processing", cwd=demo, check=False)
    assert bad_path.returncode == 1 and "Traceback" not in output(bad_path)
    assert "The micro-package location you provided is not a valid Python module path" in output(bad_path)

    bad_alias = kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", "--alias", "1x",
                                 cwd=demo, check=False)
    assert bad_alias.returncode == 1
    assert "'1x' is not a valid Python package name. It must start with a letter or underscore." in output(bad_alias)

    no_sdist = kedro1.kedro_run("micropkg", "pull", "missing-0.1.tar.gz", cwd=demo, check=False)
    assert no_sdist.returncode != 0 and "Traceback" not in output(no_sdist)
    assert "missing-0.1.tar.gz not found" in output(no_sdist)
    assert not (demo / "micropkg.lock").exists()


def test_kedro1_round_trip_pull_then_kedro_run_and_pytest(kedro1, demo, tmp_path):
    kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", cwd=demo)
    sdist = demo / SDIST
    consumer = kedro_new(kedro1, tmp_path / "b", "consumer")
    add_tool_micropkg(consumer, package_entries=False)

    pulled = kedro1.kedro_run("micropkg", "pull", str(sdist), "--alias", "dp", "--destination", "pipelines",
                              cwd=consumer)
    assert "pulled data_processing 0.1 into consumer.pipelines.dp" in pulled.stdout
    code = consumer / "src/consumer/pipelines/dp"
    for name in ["__init__.py", "nodes.py", "pipeline.py"]:
        assert (code / name).is_file()
    assert "from consumer.pipelines.dp.nodes import make_numbers, scale, total" in (code / "pipeline.py").read_text()
    test_file = consumer / "tests/pipelines/dp/test_pipeline.py"
    assert "from consumer.pipelines.dp.pipeline import create_pipeline" in test_file.read_text()
    assert "demo" not in test_file.read_text() + (code / "pipeline.py").read_text()
    assert "factor: 2" in (consumer / "conf/base/parameters_dp.yml").read_text()
    assert (consumer / "micropkg.lock").is_file()

    # find_pipelines discovers it; the parameters it brought are read; every node runs
    assert "- dp" in kedro1.kedro_run("registry", "list", cwd=consumer).stdout
    run = kedro1.kedro_run("run", "--pipeline", "dp", cwd=consumer)
    assert "data_processing total = 12" in run.stdout
    assert "Completed 3 out of 3 tasks" in flat(output(run))

    tests = kedro1.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/pipelines/dp",
                       cwd=consumer, env={"PYTHONPATH": "src"})
    assert "2 passed" in tests.stdout

    # pulling the same sdist again changes nothing
    before = {p: p.read_bytes() for p in code.rglob("*.py")}
    again = kedro1.kedro_run("micropkg", "pull", str(sdist), "--alias", "dp", "--destination", "pipelines",
                             cwd=consumer)
    assert "Traceback" not in output(again)
    assert {p: p.read_bytes() for p in code.rglob("*.py")} == before


def test_kedro1_pull_passes_fs_args_as_an_absolute_path(kedro1, demo, tmp_path):
    kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", cwd=demo)
    consumer = kedro_new(kedro1, tmp_path / "b", "consumer")
    add_tool_micropkg(consumer, package_entries=False)
    fs_args = tmp_path / "outside" / "fs.yml"  # outside the project, as credentials usually are
    fs_args.parent.mkdir()
    fs_args.write_text("{}\n")
    pulled = kedro1.kedro_run("micropkg", "pull", str(demo / SDIST), "--fs-args", str(fs_args), "-v", cwd=consumer)
    assert f"--fs-args={fs_args}" in pulled.stdout
    assert (consumer / "src/consumer/data_processing/nodes.py").is_file()


# -- Kedro 0.19.15 -------------------------------------------------------------------------------

WHICH_MICROPKG = """
import json
from pathlib import Path

import click
from kedro.framework.cli.cli import KedroCLI
from kedro.framework.cli.utils import load_entry_points

cli = KedroCLI(Path.cwd())
ours = [g for g in load_entry_points("project") if g.callback.__module__ == "micropkg_tasks.kedro_cli"]
ctx = click.Context(cli, obj=None)
group = cli.get_command(ctx, "micropkg")
print(json.dumps({
    "ours": [sorted(g.commands) for g in ours],
    "pull": group.get_command(ctx, "pull").callback.__module__,
    "package": group.get_command(ctx, "package").callback.__module__,
}))
"""


def test_kedro019_keeps_its_own_micropkg(kedro019, tmp_path):
    import json

    project = kedro_new(kedro019, tmp_path, "legacy")
    which = json.loads(kedro019.run("python", "-c", WHICH_MICROPKG, cwd=project).stdout.strip().splitlines()[-1])
    assert which["ours"] == [[]]  # our plugin is loaded, and adds no command on Kedro < 1.0
    assert which["pull"] == which["package"] == "kedro.framework.cli.micropkg"

    pull_help = flat(kedro019.kedro_run("micropkg", "pull", "--help", cwd=project).stdout)
    assert "(DEPRECATED) Pull and unpack a modular pipeline and other micro-packages in your project." in pull_help
    package = kedro019.kedro_run("micropkg", "package", cwd=project, check=False)
    assert package.returncode == 1
    assert "DeprecationWarning: Command 'kedro micropkg package' is deprecated" in package.stdout


@pytest.fixture(scope="module")
def sdist_for_kedro019(kedro019, tmp_path_factory) -> Path:
    """Our sdist of the starter-shaped pipeline, made by `doit package` in a Kedro 0.19 project."""
    project = kedro_new(kedro019, tmp_path_factory.mktemp("producer"), "legacy")
    assert 'kedro_init_version = "0.19.15"' in (project / "pyproject.toml").read_text()
    add_pipeline(project, "legacy")
    assert BUILT in kedro019.doit("package", "--micropkg", "pipelines.data_processing", cwd=project).stdout
    return project / SDIST


@pytest.mark.parametrize("alias", [None, "dp2"], ids=["no-alias", "alias"])
def test_kedro019_pulls_our_sdist(kedro019, sdist_for_kedro019, tmp_path, alias):
    project = kedro_new(kedro019, tmp_path, "consumer19")
    args = ["--alias", alias, "--destination", "pipelines"] if alias else []
    pulled = kedro019.kedro_run("micropkg", "pull", str(sdist_for_kedro019), *args, cwd=project, timeout=600)
    shown = f" as '{alias}'" if alias else ""
    assert f"Micro-package {sdist_for_kedro019} pulled and unpacked{shown}!" in flat(pulled.stdout)

    module = f"pipelines.{alias}" if alias else "data_processing"
    code = project / "src" / "consumer19" / Path(*module.split("."))
    tests = project / "tests" / Path(*module.split("."))
    for name in ["__init__.py", "nodes.py", "pipeline.py"]:
        assert (code / name).is_file()
    assert (tests / "test_pipeline.py").is_file()
    assert f"from consumer19.{module}.nodes import make_numbers, scale, total" in (code / "pipeline.py").read_text()
    assert f"from consumer19.{module}.pipeline import create_pipeline" in (tests / "test_pipeline.py").read_text()
    params = project / "conf" / "base" / f"parameters_{alias or 'data_processing'}.yml"
    assert "factor: 2" in params.read_text()
    if alias:  # under pipelines/, find_pipelines finds it
        run = kedro019.kedro_run("run", "--pipeline", alias, cwd=project)
        assert "data_processing total = 12" in run.stdout


def test_kedro1_life_cycle_commands_status_diff_outdated(kedro1, demo, tmp_path):
    """`kedro micropkg status/diff/outdated` run the same doit tasks: a pulled file edited shows
    in status (and --check fails), in diff, and outdated --json prints the JSON alone."""
    import json

    kedro1.kedro_run("micropkg", "package", "pipelines.data_processing", cwd=demo)
    consumer = kedro_new(kedro1, tmp_path / "b", "consumer")
    add_tool_micropkg(consumer, package_entries=False)
    kedro1.kedro_run("micropkg", "pull", str(demo / SDIST), "--alias", "dp", "--destination", "pipelines", cwd=consumer)
    clean = kedro1.kedro_run("micropkg", "status", "--check", cwd=consumer)
    assert "consumer.pipelines.dp: data_processing 0.1 from" in clean.stdout and "unchanged" in clean.stdout

    nodes = consumer / "src/consumer/pipelines/dp/nodes.py"
    nodes.write_text(nodes.read_text().replace("return list(range(1, count + 1))", "return list(range(count))"))
    status = kedro1.kedro_run("micropkg", "status", "--check", cwd=consumer, check=False)
    assert status.returncode != 0 and "changed     src/consumer/pipelines/dp/nodes.py" in status.stdout
    assert "Traceback" not in output(status)
    diff = kedro1.kedro_run("micropkg", "diff", "--module", "pipelines.dp", cwd=consumer).stdout
    assert "-    return list(range(1, count + 1))" in diff and "+    return list(range(count))" in diff

    out = kedro1.kedro_run("micropkg", "outdated", "--json", cwd=consumer).stdout
    rows = json.loads(out[out.index("\n[\n") + 1:])  # after Kedro's own log line about its logging set-up
    assert [(r["module"], r["installed"], r["newest"], r["behind"]) for r in rows] == [("pipelines.dp", "0.1", "0.1", False)]

    # Kedro logs that line while `kedro` starts, before any plugin loads; the README's way round it
    logging_yml = tmp_path / "stderr-logging.yml"
    logging_yml.write_text("version: 1\ndisable_existing_loggers: false\n"
                           'handlers:\n  err: {class: logging.StreamHandler, stream: "ext://sys.stderr"}\n'
                           "root: {handlers: [err]}\n")
    alone = kedro1.kedro_run("micropkg", "outdated", "--json", "-v", cwd=consumer,
                             env={"KEDRO_LOGGING_CONFIG": str(logging_yml)})
    assert json.loads(alone.stdout) == rows and "doit outdated --json" in alone.stderr


def _installed(project: Path) -> list[str]:
    return sorted(p.relative_to(project).as_posix() for top in ("conf", "src", "tests") for p in (project / top).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


@pytest.mark.parametrize("sdist,args", [("tidy-0.3.1.tar.gz", ()),
                                        ("tidy-0.3.1.tar.gz", ("--alias=neat", "--destination=pipelines")),
                                        ("scoring_kit-0.1.tar.gz", ("--alias=scorer", "--env=local"))])
def test_kedro019_and_we_pull_its_aliased_sdists_to_the_same_place(kedro019, tmp_path, sdist, args):
    """Kedro 0.19.15's aliased sdists keep the original name in their parameter folders; our pull
    installs every file where Kedro 0.19.15's own ``kedro micropkg pull`` does."""
    from conftest import KEDRO_SDISTS, doit, make_consumer

    archive = KEDRO_SDISTS / "aliased" / sdist
    theirs = make_consumer(tmp_path / "theirs")
    text = (theirs / "pyproject.toml").read_text()  # Kedro 0.19 needs kedro_init_version; it ignores [tool.micropkg]
    (theirs / "pyproject.toml").write_text(text.replace('source_dir = "src"\n',
                                                        'source_dir = "src"\nkedro_init_version = "0.19.15"\n'))
    kedro019.kedro_run("micropkg", "pull", str(archive), *args, cwd=theirs, timeout=600)
    ours = make_consumer(tmp_path / "ours")
    doit(ours, "pull", f"--source={archive}", *args)
    assert _installed(ours) == _installed(theirs)
    for rel in _installed(theirs):
        if rel.startswith("conf/"):
            assert (ours / rel).read_bytes() == (theirs / rel).read_bytes(), rel
