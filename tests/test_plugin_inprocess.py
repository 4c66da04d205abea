"""`kedro micropkg` through Kedro 1.x's real CLI, in this process (click's CliRunner), several
calls per test with the project changed between them, as a notebook, a script or a test suite
calling Kedro's CLI would: every call sees the project as it is now, prints where the caller
captures, exits with Kedro 0.19's codes, and has the options its messages name.

Kedro (``kedro>=1.0`` from the ``[test]`` extra) is imported in-process; its subprocess tests,
on real ``kedro new`` projects, are in test_kedro.py.
"""
from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import pytest
from conftest import add_manifest, make_consumer, snapshot

click_testing = pytest.importorskip("click.testing")
kedro_cli = pytest.importorskip("kedro.framework.cli.cli")

import kedro  # noqa: E402

CLEANING = "src/acme/pipelines/cleaning"


@pytest.fixture(autouse=True)
def _no_telemetry(monkeypatch):
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("DO_NOT_TRACK", "1")


def kedro_project(root: Path) -> Path:
    """``root`` as a project of the Kedro running here (Kedro 1.x refuses a 0.19 project)."""
    pyproject = root / "pyproject.toml"
    text = re.sub(r'kedro_init_version = "[^"]*"\n', "", pyproject.read_text())
    text = text.replace("[tool.kedro]\n", f'[tool.kedro]\nkedro_init_version = "{kedro.__version__}"\n', 1)
    if "[tool.micropkg]" not in text:
        text += "\n[tool.micropkg]\ncompile = false\n"
    pyproject.write_text(text)
    return root


@pytest.fixture
def project(acme, monkeypatch) -> Path:
    monkeypatch.chdir(acme)
    return kedro_project(acme)


def kedro_micropkg(root: Path, *args: str):
    """``kedro micropkg <args>`` run by Kedro's own CLI class in this process, from ``root``."""
    cli = kedro_cli.KedroCLI(root)
    return click_testing.CliRunner().invoke(cli, ["micropkg", *args], catch_exceptions=False)


def members(sdist: Path) -> dict[str, bytes]:
    with tarfile.open(sdist) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


SDIST = Path("dist/cleaning-0.3.1.tar.gz")


# -- 1. every call sees the project as it is now, and prints where the caller captures ------------

def test_package_called_again_packages_the_project_as_it_is_now(project):
    first = kedro_micropkg(project, "package", "pipelines.cleaning")
    assert first.exit_code == 0, first.output
    assert ".  package:pipelines.cleaning" in first.output  # doit's reporter writes to the caller's stdout
    assert "cleaning/config/parameters_cleaning.yml" in members(project / SDIST)

    (project / "conf/base/parameters/cleaning/extra.yml").write_text("extra: 1\n")
    second = kedro_micropkg(project, "package", "pipelines.cleaning")
    assert second.exit_code == 0 and ".  package:pipelines.cleaning" in second.output, second.output
    assert "cleaning/config/parameters/cleaning/extra.yml" in members(project / SDIST)

    (project / CLEANING / "sql/query.sql").unlink()
    (project / "conf/base/parameters/cleaning/extra.yml").unlink()
    third = kedro_micropkg(project, "package", "pipelines.cleaning")
    assert third.exit_code == 0, third.output
    files = members(project / SDIST)
    assert "cleaning/sql/query.sql" not in files and "cleaning/config/parameters/cleaning/extra.yml" not in files

    with (project / CLEANING / "nodes.py").open("a") as fh:
        fh.write("\n\ndef added():\n    return 1\n")
    fourth = kedro_micropkg(project, "package", "pipelines.cleaning")
    assert fourth.exit_code == 0, fourth.output
    assert b"def added():" in members(project / SDIST)["cleaning/nodes.py"]

    again = kedro_micropkg(project, "package", "pipelines.cleaning")
    assert "-- package:pipelines.cleaning" in again.output  # and nothing changed: up to date


def test_package_all_called_again_follows_the_manifest_and_new_parameter_files(project):
    add_manifest(project, '[tool.micropkg.package]\n"pipelines.cleaning" = {}\n')
    assert kedro_micropkg(project, "package", "--all").exit_code == 0
    (project / "conf/base/parameters_cleaning_more.yml").write_text("not: selected\n")  # not Kedro's pattern
    (project / "conf/base/cleaning").mkdir()
    (project / "conf/base/cleaning/parameters.yml").write_text("selected: 1\n")
    assert kedro_micropkg(project, "package", "--all").exit_code == 0
    files = members(project / SDIST)
    assert "cleaning/config/cleaning/parameters.yml" in files
    assert "cleaning/config/parameters_cleaning_more.yml" not in files

    text = (project / "pyproject.toml").read_text().replace('"pipelines.cleaning" = {}', '"pipelines.cleaning" = {alias = "tidy"}')
    (project / "pyproject.toml").write_text(text)
    third = kedro_micropkg(project, "package", "--all")
    assert third.exit_code == 0, third.output
    assert "tidy/config/tidy/parameters.yml" in members(project / "dist/tidy-0.3.1.tar.gz")


def test_a_failure_in_a_later_call_reaches_the_callers_output(project):
    assert ".  package:pipelines.cleaning" in kedro_micropkg(project, "package", "pipelines.cleaning").output
    with (project / CLEANING / "nodes.py").open("a") as fh:
        fh.write("\nimport acme.pipelines.scoring\n")
    failed = kedro_micropkg(project, "package", "pipelines.cleaning")
    assert failed.exit_code == 1
    assert "imports acme.pipelines.scoring, which is not part of any micro-package" in failed.output
    assert "Traceback" not in failed.output

    # the option that message names exists here: --allow
    allowed = kedro_micropkg(project, "package", "pipelines.cleaning", "--allow", "acme.pipelines.scoring")
    assert allowed.exit_code == 0, allowed.output
    assert "imports acme.pipelines.scoring" in allowed.output and "listed in allow" in allowed.output
    assert b"import acme.pipelines.scoring" in members(project / SDIST)["cleaning/nodes.py"]


def test_a_file_deleted_since_the_last_call_is_not_a_failure(project):
    assert kedro_micropkg(project, "package", "pipelines.cleaning").exit_code == 0
    (project / CLEANING / "README.md").unlink()
    again = kedro_micropkg(project, "package", "pipelines.cleaning")
    assert again.exit_code == 0, again.output
    assert "cleaning/README.md" not in members(project / SDIST)


# -- 2. --destination outside the project, for package ------------------------------------------

def test_package_destination_outside_the_project(project, tmp_path):
    outside = tmp_path / "shared" / "sdists"
    result = kedro_micropkg(project, "package", "pipelines.cleaning", "-d", str(outside))
    assert result.exit_code == 0, result.output
    assert "cleaning/nodes.py" in members(outside / "cleaning-0.3.1.tar.gz")

    # relative to the current folder, as Kedro 0.19 resolved it
    result = kedro_micropkg(project, "package", "pipelines.cleaning", "--destination", "../rel-out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rel-out" / "cleaning-0.3.1.tar.gz").is_file()

    # an absolute folder inside the project is that folder
    result = kedro_micropkg(project, "package", "pipelines.cleaning", "-d", str(project / "inside"))
    assert result.exit_code == 0 and (project / "inside" / "cleaning-0.3.1.tar.gz").is_file(), result.output

    # a manifest entry may name an absolute folder too
    manifest_out = tmp_path / "from-manifest"
    add_manifest(project, f'[tool.micropkg.package]\n"pipelines.cleaning" = {{destination = "{manifest_out}"}}\n')
    result = kedro_micropkg(project, "package", "--all")
    assert result.exit_code == 0, result.output
    assert (manifest_out / "cleaning-0.3.1.tar.gz").is_file()


def test_pull_destination_stays_inside_the_project_package(project, tmp_path):
    assert kedro_micropkg(project, "package", "pipelines.cleaning").exit_code == 0
    consumer = kedro_project(make_consumer(tmp_path / "consumer"))
    package_dir = consumer / "src" / "consumer"
    (package_dir / "pipelines").mkdir()  # an existing folder, given as an absolute path
    (package_dir / "pipelines" / "__init__.py").write_text("")
    pulled = kedro_micropkg(consumer, "pull", str(project / SDIST), "-d", str(package_dir / "pipelines"))
    assert pulled.exit_code == 0, pulled.output
    assert (package_dir / "pipelines" / "cleaning" / "nodes.py").is_file()

    before = snapshot(consumer)
    outside = kedro_micropkg(consumer, "pull", str(project / SDIST), "-d", str(tmp_path / "elsewhere"))
    assert outside.exit_code == 1
    assert "outside the project package" in outside.output and "Traceback" not in outside.output
    assert snapshot(consumer) == before


# -- 3. exit codes: Kedro's KedroCliError exits 1, click's usage errors 2 ---------------------------

def test_exit_codes_are_kedros(project):
    before = snapshot(project)
    missing = kedro_micropkg(project, "package", "pipelines.nope")
    assert missing.exit_code == 1 and "src/acme/pipelines/nope" in missing.output, missing.output
    (project / "src/acme/pipelines/empty").mkdir()
    empty = kedro_micropkg(project, "package", "pipelines.empty")
    assert empty.exit_code == 1 and "src/acme/pipelines/empty" in empty.output, empty.output
    (project / "src/acme/pipelines/empty").rmdir()

    for args in (["package"], ["pull"], ["package", "pipelines/cleaning"], ["package", "pipelines.cleaning", "--alias", "1x"],
                 ["package", "pipelines.cleaning", "--env", "../x"], ["package", "pipelines.cleaning", "--env", "é\u202e"],
                 ["package", "pipelines.cleaning", "--alias", "é" * 300],
                 ["package", "pipelines.cleaning", "-d", "bad\nname"], ["pull", "missing-0.1.tar.gz"],
                 ["pull", "x-1.0.tar.gz", "--alias", "x\u0000y"], ["package", "pipelines.cleaning", "--allow", "no thing"]):
        result = kedro_micropkg(project, *args)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output
        said = [line for line in result.output.splitlines() if line.strip() and not line.startswith((".  ", "TaskFailed - "))]
        assert len(said) == 1, (args, result.output)  # one line, whoever says it

    (project / "a-file").write_text("")
    for args in (["package", "pipelines.cleaning", "-d", "a-file"], ["pull", "x.tar.gz", "--fs-args", "missing.yml"],
                 ["pull", "x.tar.gz", "--merge", "theirs"], ["package", "--bogus"],
                 ["package", "pipelines.cleaning", "-d", "a\x00b"], ["pull", "x.tar.gz", "-d", "/a\x00b"],
                 ["pull", "x.tar.gz", "--fs-args", "a\x00b"]):
        result = kedro_micropkg(project, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and "Error: " in result.output
    (project / "a-file").unlink()
    assert snapshot(project) == before


# -- 4. the options messages name exist -----------------------------------------------------------

def test_pull_has_force_and_merge_markers(project, tmp_path):
    assert kedro_micropkg(project, "package", "pipelines.cleaning").exit_code == 0
    old = tmp_path / "cleaning-0.3.1.tar.gz"
    old.write_bytes((project / SDIST).read_bytes())
    init = project / CLEANING / "__init__.py"
    init.write_text(init.read_text().replace('"0.3.1"', '"0.4.0"'))
    nodes = project / CLEANING / "nodes.py"
    nodes.write_text(nodes.read_text().replace("return value.strip()", "return value.strip().lower()"))
    assert kedro_micropkg(project, "package", "pipelines.cleaning").exit_code == 0
    new = project / "dist/cleaning-0.4.0.tar.gz"

    consumer = kedro_project(make_consumer(tmp_path / "consumer"))
    assert kedro_micropkg(consumer, "pull", str(old)).exit_code == 0
    pulled = consumer / "src/consumer/cleaning/nodes.py"
    pulled.write_text(pulled.read_text().replace("return value.strip()", "return value.strip().upper()"))

    conflict = kedro_micropkg(consumer, "pull", str(new))
    assert conflict.exit_code == 1
    assert "--force" in conflict.output and "--merge=markers" in conflict.output, conflict.output
    assert "doit" not in conflict.output

    markers = kedro_micropkg(consumer, "pull", str(new), "--merge=markers")
    assert markers.exit_code == 0, markers.output
    assert "<<<<<<<" in pulled.read_text()
    status = kedro_micropkg(consumer, "status", "--check")
    assert status.exit_code == 1 and "doit" not in status.output

    forced = kedro_micropkg(consumer, "pull", str(new), "--force")
    assert forced.exit_code == 0, forced.output
    assert "return value.strip().lower()" in pulled.read_text() and "<<<<<<<" not in pulled.read_text()


def test_messages_name_the_plugins_spelling(project):
    nothing = kedro_micropkg(project, "package", "--all")
    assert nothing.exit_code == 0
    assert "Nothing to package" in nothing.output and "--micropkg" not in nothing.output
    assert "kedro micropkg package <module path>" in nothing.output
    nothing = kedro_micropkg(project, "pull", "--all")
    assert "Nothing to pull" in nothing.output and "--source" not in nothing.output

    helps = {cmd: " ".join(kedro_micropkg(project, cmd, "--help").output.split()) for cmd in ("package", "pull")}
    for option in ("--allow MODULE", "--wheel", "-d, --destination DIRECTORY"):
        assert option in helps["package"]
    for option in ("--force", "--merge [markers]", "-d, --destination PATH", "--fs-args FILE"):
        assert option in helps["pull"]


def test_package_wheel(project):
    result = kedro_micropkg(project, "package", "pipelines.cleaning", "--wheel")
    assert result.exit_code == 0, result.output
    assert list((project / "dist").glob("cleaning-0.3.1-*.whl"))


# -- 5. outdated --json: the JSON alone on stdout ------------------------------------------------

def test_outdated_json_is_the_only_thing_on_stdout(project, tmp_path):
    assert kedro_micropkg(project, "package", "pipelines.cleaning").exit_code == 0
    consumer = kedro_project(make_consumer(tmp_path / "consumer"))
    assert kedro_micropkg(consumer, "pull", str(project / SDIST), "--alias", "tidy").exit_code == 0
    for args in (["--json"], ["--json", "-v"], ["--json", "--check"]):
        result = kedro_micropkg(consumer, "outdated", *args)
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert [(r["module"], r["installed"], r["newest"]) for r in rows] == [("tidy", "0.3.1", "0.3.1")]
    assert "doit outdated --json" in kedro_micropkg(consumer, "outdated", "--json", "-v").stderr

    (consumer / "micropkg.lock").write_text("not = [toml")  # a failure: its line on stderr, stdout empty
    failed = kedro_micropkg(consumer, "outdated", "--json")
    assert failed.exit_code == 1 and failed.stdout == ""
    assert "micropkg.lock is corrupt" in failed.stderr and "Traceback" not in failed.stderr


# -- review: diff and --merge=markers on a micro-package that imports another one ------------------

def test_diff_and_merge_of_a_pull_whose_imports_were_renamed_to_a_dependency(project, tmp_path):
    """scoring imports cleaning: its sdist imports ``cleaning.nodes``, and the pull rewrote that to
    the consumer's module of cleaning. The base of ``diff`` and of an upgrade's merge is those
    installed bytes, so it must be rewritten the same way (it was not: "does not reproduce")."""
    scoring = project / "src/acme/pipelines/scoring/pipeline.py"
    init = project / "src/acme/pipelines/scoring/__init__.py"
    init.write_text(init.read_text() + '__version__ = "1.0"\n')
    scoring.write_text("from acme.pipelines.cleaning.nodes import helper\n" + scoring.read_text())
    add_manifest(project, '[tool.micropkg.package]\n"pipelines.cleaning" = {}\n"pipelines.scoring" = {}\n')
    packaged = kedro_micropkg(project, "package", "--all")
    assert packaged.exit_code == 0, packaged.output
    version = "1.0"
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    for sdist in (project / "dist").glob("*.tar.gz"):
        (shelf / sdist.name).write_bytes(sdist.read_bytes())

    consumer = kedro_project(make_consumer(tmp_path / "consumer"))
    pulled = kedro_micropkg(consumer, "pull", str(shelf / f"scoring-{version}.tar.gz"))
    assert pulled.exit_code == 0, pulled.output
    mine = consumer / "src/consumer/scoring/pipeline.py"
    assert "from consumer.cleaning.nodes import helper" in mine.read_text()
    assert kedro_micropkg(consumer, "diff").exit_code == 0  # nothing edited
    mine.write_text(mine.read_text().replace("return sum(values)", "return sum(values) + 1"))
    diff = kedro_micropkg(consumer, "diff")
    assert diff.exit_code == 0, diff.output
    assert "-    return sum(values)\n+    return sum(values) + 1" in diff.output

    init.write_text(init.read_text().replace('"1.0"', '"9.0"'))
    scoring.write_text(scoring.read_text().replace("return Pipeline(", "return  Pipeline("))
    assert kedro_micropkg(project, "package", "--all").exit_code == 0
    merged = kedro_micropkg(consumer, "pull", str(project / "dist/scoring-9.0.tar.gz"), "--merge=markers")
    assert merged.exit_code == 0, merged.output
    text = mine.read_text()
    assert "return sum(values) + 1" in text and "return  Pipeline(" in text and "<<<<<<<" not in text


def test_a_failure_reaches_a_caller_without_standalone_mode(project, capsys):
    """``KedroCLI(...).main(args, standalone_mode=False)`` (a script, a notebook): Kedro's own
    commands and 0.19's ``kedro micropkg`` raise on a refusal (KedroCliError, or ``sys.exit(1)``);
    ours returned None, so the caller could not tell a failure from a success."""
    cli = kedro_cli.KedroCLI(project)
    for args in (["package", "pipelines.nope"], ["package"], ["pull"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(["micropkg", *args], standalone_mode=False)
        assert exited.value.code == 1, args
    assert cli.main(["micropkg", "package", "pipelines.cleaning"], standalone_mode=False) is None
    assert "not found" in capsys.readouterr().err


def test_pull_all_force_names_the_plugins_positional_package_path(project, tmp_path):
    """A bare --force with several manifest entries is refused naming how to aim it at one: through
    the plugin that is ``kedro micropkg pull --force <path>`` (it has no --source option)."""
    assert kedro_micropkg(project, "package", "pipelines.cleaning").exit_code == 0
    assert kedro_micropkg(project, "package", "pipelines.scoring").exit_code == 0
    consumer = kedro_project(make_consumer(tmp_path / "consumer"))
    (consumer / "dist").mkdir()
    for sdist in (project / "dist").glob("*.tar.gz"):
        (consumer / "dist" / sdist.name).write_bytes(sdist.read_bytes())
    entries = "".join(f'"dist/{sdist.name}" = {{}}\n' for sdist in sorted((consumer / "dist").iterdir()))
    add_manifest(consumer, "[tool.micropkg.pull]\n" + entries)
    before = snapshot(consumer)
    refused = kedro_micropkg(consumer, "pull", "--all", "--force")
    assert refused.exit_code == 1
    assert "kedro micropkg pull --force <one of dist/" in refused.output, refused.output
    assert "--source" not in refused.output and "doit" not in refused.output
    assert snapshot(consumer) == before


def test_package_destination_inside_the_micro_package_itself_is_refused(project):
    """-d into the micro-package's own code or tests folder: the sdist would be packaged into the
    next sdist of it (data files are packaged), and once it was there doit refused the task as
    'Cyclic/recursive dependencies'. Refused up front, naming the folder; nothing written."""
    for folder in (CLEANING, "tests/pipelines/cleaning", f"{CLEANING}/utils"):
        before = snapshot(project)
        refused = kedro_micropkg(project, "package", "pipelines.cleaning", "-d", folder)
        assert refused.exit_code == 1, refused.output
        assert "inside the micro-package it packages" in refused.output and "Cyclic" not in refused.output
        assert snapshot(project) == before
    assert kedro_micropkg(project, "package", "pipelines.cleaning", "-d", "src/acme").exit_code == 0


def test_a_pyproject_broken_between_calls_is_one_line(project):
    """In-process, Kedro's CLI object keeps the metadata it read, so a later call reaches the
    plugin with a pyproject.toml that no longer parses: doit's config reading raised
    TOMLDecodeError (a traceback, nothing in the output). One line, exit 1, nothing written."""
    cli = kedro_cli.KedroCLI(project)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(text + "\n[tool.micropkg\nbroken\n")
    before = snapshot(project)
    result = click_testing.CliRunner().invoke(cli, ["micropkg", "package", "pipelines.cleaning"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith("ERROR: pyproject.toml is not valid TOML: ") and result.output.count("\n") == 1
    assert snapshot(project) == before
    pyproject.write_text(text)
    assert click_testing.CliRunner().invoke(cli, ["micropkg", "package", "pipelines.cleaning"]).exit_code == 0
