"""Workspaces: one ``doit`` at a monorepo's root runs every member project's tasks as one graph,
and rebuilds exactly what an edit affects across members. Real ``doit`` processes on copies of
``examples/workspace`` (a -> b -> c) and on small generated workspaces."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import clean_env, copy_tree, doit, make_consumer, snapshot

EXAMPLE = Path(__file__).parent.parent / "examples" / "workspace"
A_CLEAN = "a:package:pipelines.cleaning"
B_PULL = "b:pull:../a/dist/cleaning-0.3.1.tar.gz"
B_CLEAN = "b:package:pipelines.cleaning"
B_REPORT = "b:package:pipelines.reporting"
C_PULL = "c:pull:../b/dist/reporting-0.2.0.tar.gz"
C_ALONG = "c:pull:../b/dist/cleaning-0.3.1.tar.gz"  # cleaning came along with reporting


def ran(proc: subprocess.CompletedProcess) -> list[str]:
    """The tasks doit ran, in order (its ``.  <task>`` lines)."""
    return [line[3:] for line in proc.stdout.splitlines() if line.startswith(".  ")]


def up_to_date(proc: subprocess.CompletedProcess) -> list[str]:
    return [line[3:] for line in proc.stdout.splitlines() if line.startswith("-- ")]


@pytest.fixture
def ws(tmp_path) -> Path:
    root = copy_tree(EXAMPLE, tmp_path / "ws")
    for path in root.rglob("dist"):  # a checkout of the example that was run: start clean
        raise AssertionError(f"examples/workspace holds build output: {path}")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


NODES_A = "projects/a/src/acme/pipelines/cleaning/nodes.py"


# -- step 2 and 3: one graph, edges where bytes flow -------------------------------------------

def test_cold_build_runs_every_member_in_graph_order_in_one_command(ws):
    proc = doit(ws)
    order = ran(proc)
    assert set(order) == {A_CLEAN, "a:package:pipelines.scoring", B_PULL, B_CLEAN, B_REPORT, C_PULL}
    assert order.index(A_CLEAN) < order.index(B_PULL) < order.index(B_CLEAN) < order.index(C_PULL)
    assert order.index(B_REPORT) < order.index(C_PULL)
    assert (ws / "projects/b/dist/cleaning-0.3.1.tar.gz").is_file()
    assert (ws / "projects/c/src/charlie/pipelines/cleaning/nodes.py").is_file()
    assert (ws / "projects/c/src/charlie/pipelines/reporting/nodes.py").is_file()
    # one database, at the root; none in the members
    assert (ws / ".micropkg/doit.db").is_file()
    assert not any((ws / "projects" / m / ".micropkg/doit.db").exists() for m in "abc")
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_no_op_touches_nothing(ws):
    doit(ws)
    before = snapshot(ws)
    proc = doit(ws)
    assert ran(proc) == []
    assert set(up_to_date(proc)) == {A_CLEAN, "a:package:pipelines.scoring", B_PULL, B_CLEAN, B_REPORT, C_PULL, C_ALONG}
    assert snapshot(ws) == before


def test_one_edit_reaches_every_consumer_and_nothing_else(ws):
    doit(ws)
    edit(ws / NODES_A, "return value.strip()", "return value.strip().strip('_')")
    proc = doit(ws)
    assert ran(proc) == [A_CLEAN, B_PULL, B_CLEAN, C_ALONG]
    for pulled in ("projects/b/src/bravo", "projects/c/src/charlie"):
        assert "strip('_')" in (ws / pulled / "pipelines/cleaning/nodes.py").read_text()
    assert ran(doit(ws)) == []  # and then it is a no-op again


def test_an_unrelated_edit_stays_local(ws):
    doit(ws)
    edit(ws / "projects/a/src/acme/pipelines/scoring/pipeline.py", "", "# edited\n")
    assert ran(doit(ws)) == ["a:package:pipelines.scoring"]


def test_a_member_runs_with_what_it_needs_upstream_only(ws):
    doit(ws)
    edit(ws / NODES_A, "return value.strip()", "return value.strip().strip('_')")
    edit(ws / "projects/a/src/acme/pipelines/scoring/pipeline.py", "", "# edited\n")
    proc = doit(ws, "c")
    assert ran(proc) == [A_CLEAN, B_PULL, B_CLEAN, C_ALONG]  # not a's scoring: c does not need it
    assert ran(doit(ws)) == ["a:package:pipelines.scoring"]


def test_list_one_member(ws):
    proc = doit(ws, "list", "--all", "b")
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert sorted(names) == sorted(["b", "b:package", "b:pull", B_PULL, B_CLEAN, B_REPORT])
    everything = doit(ws, "list", "--all").stdout
    for name in ("package", "pull", "a", "c", "a:package", C_PULL, "b:status"):
        assert name in everything.split()


def test_a_members_package_of_a_pulled_module_waits_for_the_pull_and_a_missing_one_is_still_an_error(ws):
    # the bootstrap: b packages pipelines.cleaning, which only its pull installs (checked by the cold build);
    # a package entry whose folder no pull installs is still today's one-line error
    edit(ws / "projects/b/pyproject.toml", '"pipelines.reporting" = {}', '"pipelines.reporting" = {}\n"pipelines.nothing" = {}')
    proc = doit(ws, check=False)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == ["ERROR: member b: package 'pipelines.nothing': src/bravo/pipelines/nothing not found"]
    assert ran(proc) == []


# -- step 4: sibling sources by name -------------------------------------------------------------

def test_a_member_source_follows_a_version_bump_without_a_manifest_edit(ws):
    edit(ws / "projects/c/pyproject.toml", '"../b/dist/reporting-0.2.0.tar.gz" = {destination = "pipelines"}',
         '"reporting" = {member = "b", destination = "pipelines"}')
    proc = doit(ws)
    assert "c:pull:b/reporting" in ran(proc)
    assert 'version = "0.2.0"' in (ws / "projects/c/micropkg.lock").read_text()
    assert ran(doit(ws)) == []
    edit(ws / "projects/b/src/bravo/pipelines/reporting/__init__.py", "0.2.0", "0.3.0")
    proc = doit(ws)
    assert ran(proc) == [B_REPORT, "c:pull:b/reporting"]
    assert (ws / "projects/c/src/charlie/pipelines/reporting/__init__.py").read_text() == '__version__ = "0.3.0"\n'
    assert 'version = "0.3.0"' in (ws / "projects/c/micropkg.lock").read_text()
    assert ran(doit(ws)) == []


def test_a_member_source_outside_a_workspace_is_one_line(ws):
    c = ws / "projects/c"
    (c / "dodo.py").write_text("from micropkg_tasks import *\n")
    edit(c / "pyproject.toml", '"../b/dist/reporting-0.2.0.tar.gz" = {destination = "pipelines"}',
         '"reporting" = {member = "b", destination = "pipelines"}')
    before = snapshot(c)
    proc = doit(c, "pull", check=False)
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        "ERROR: [tool.micropkg.pull] 'reporting': member = ... names a sibling project of a workspace, and no "
        "[tool.micropkg.workspace] is in this folder's pyproject.toml; run doit at the workspace root"]
    assert snapshot(c) == before


def test_an_unknown_member_or_entry_is_one_line(ws):
    edit(ws / "projects/c/pyproject.toml", '"../b/dist/reporting-0.2.0.tar.gz" = {destination = "pipelines"}',
         '"reporting" = {member = "z"}')
    proc = doit(ws, "list", check=False)
    assert proc.returncode == 3 and "no member named 'z'" in proc.stderr and len(proc.stderr.splitlines()) == 1
    edit(ws / "projects/c/pyproject.toml", '{member = "z"}', '{member = "a"}')
    proc = doit(ws, "list", check=False)
    assert proc.returncode == 3 and "member 'a' packages no entry named or aliased 'reporting'" in proc.stderr


# -- step 5: each member compiles its own requirements ------------------------------------------

def test_each_member_compiles_its_own_requirements_with_its_own_compiler(ws, tmp_path):
    script = tmp_path / "fake_compile.py"
    script.write_text("import os, sys; out = sys.argv[sys.argv.index('--output-file') + 1]\n"
                      "open(out, 'w').write(sys.argv[1] + ' compiled ' + os.path.basename(os.getcwd()))\n")
    edit(ws / "pyproject.toml", "compile = false", f'compile = ["{sys.executable}", "{script}", "default"]')
    edit(ws / "projects/c/pyproject.toml", "[tool.micropkg.pull]",
         f'[tool.micropkg]\ncompile = ["{sys.executable}", "{script}", "own"]\n\n[tool.micropkg.pull]')
    proc = doit(ws)
    order = ran(proc)
    assert order.index("b:pull:pip-compile") > order.index(B_PULL)
    assert order.index("c:pull:pip-compile") > order.index(C_PULL)
    assert "a:pull:pip-compile" not in order  # a pulls nothing
    assert (ws / "projects/b/requirements.txt").read_text() == "default compiled b"
    assert (ws / "projects/c/requirements.txt").read_text() == "own compiled c"
    assert ran(doit(ws)) == []


# -- step 1: the root manifest's errors: one line, exit 3, nothing written -----------------------

def refused(root: Path, *args: str) -> str:
    before = snapshot(root)
    proc = doit(root, *args, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), proc.stderr
    assert ran(proc) == [] and snapshot(root) == before
    return lines[0]


def test_two_members_with_one_name(ws):
    edit(ws / "projects/c/pyproject.toml", "[tool.micropkg.pull]", '[tool.micropkg]\nname = "b"\n\n[tool.micropkg.pull]')
    assert refused(ws) == ("ERROR: workspace: projects/b and projects/c are both member 'b'; give one another "
                           "[tool.micropkg] name")


@pytest.mark.parametrize("name", ["list", "package", "pull", "forget"])
def test_a_member_named_like_a_command_or_a_task_group(ws, name):
    edit(ws / "projects/c/pyproject.toml", "[tool.micropkg.pull]", f'[tool.micropkg]\nname = "{name}"\n\n[tool.micropkg.pull]')
    assert f"name {name!r} is a doit command or a micropkg task group" in refused(ws, "list")


def test_a_glob_matching_a_folder_that_is_no_kedro_project(ws):
    (ws / "projects/docs").mkdir()
    assert refused(ws) == ("ERROR: [tool.micropkg.workspace] members 'projects/*' matches projects/docs, which has no "
                           "pyproject.toml; exclude it or narrow the glob")
    (ws / "projects/docs/pyproject.toml").write_text("[tool.black]\n")
    assert "whose pyproject.toml has no [tool.kedro] package_name" in refused(ws)
    edit(ws / "pyproject.toml", 'members = ["projects/*"]', 'members = ["projects/*"]\nexclude = ["projects/docs"]')
    assert ran(doit(ws, "c"))  # excluded: the rest works


def test_a_member_outside_the_root_or_through_a_symlink(ws, tmp_path):
    edit(ws / "pyproject.toml", 'members = ["projects/*"]', 'members = ["projects/*", "../elsewhere"]')
    assert "must be a relative POSIX glob inside the workspace root" in refused(ws)
    edit(ws / "pyproject.toml", ', "../elsewhere"', "")
    outside = make_consumer(tmp_path / "outside", package="delta")
    os.symlink(outside, ws / "projects/d")
    assert refused(ws) == ("ERROR: [tool.micropkg.workspace] members 'projects/*': projects/d is reached through the "
                           "symlink projects/d; a member must be a real folder inside the root")
    os.unlink(ws / "projects/d")
    os.symlink(ws / "projects/c", ws / "projects/d")  # inside the root, but a second way to the same member
    assert "is reached through the symlink projects/d" in refused(ws)


def test_a_cycle_between_members_is_one_line_before_doit_sees_it(ws):
    # a pulls b's copy of cleaning back into the module it packages: a -> b -> a
    edit(ws / "projects/a/pyproject.toml", '"pipelines.scoring" = {alias = "scoring_kit"}',
         '"pipelines.scoring" = {alias = "scoring_kit"}\n\n[tool.micropkg.pull]\n'
         '"../b/dist/cleaning-0.3.1.tar.gz" = {destination = "pipelines"}')
    assert refused(ws) == (
        "ERROR: workspace cycle: a:package:pipelines.cleaning -> a:pull:../b/dist/cleaning-0.3.1.tar.gz -> "
        "b:package:pipelines.cleaning -> b:pull:../a/dist/cleaning-0.3.1.tar.gz -> a:package:pipelines.cleaning; "
        "a member's task needs its own output through other members (drop one of these pulls or package entries)")


def test_ad_hoc_options_at_the_root_are_one_line(ws):
    assert "ad hoc options name no member" in refused(ws, "package", "--micropkg", "pipelines.cleaning")


# -- standalone projects are unchanged -----------------------------------------------------------

def test_a_standalone_project_keeps_its_names_and_its_database(ws):
    a = ws / "projects/a"
    (a / "dodo.py").write_text("from micropkg_tasks import *\n")
    names = [line.split()[0] for line in doit(a, "list", "--all").stdout.splitlines()]
    assert "package:pipelines.cleaning" in names and not any(n.startswith("a:") for n in names)
    assert ran(doit(a)) == ["package:pipelines.cleaning", "package:pipelines.scoring"]
    assert (a / ".micropkg/doit.db").is_file() and not (ws / ".micropkg").exists()


def test_the_workspace_word_alone_does_not_make_a_workspace(tmp_path):
    project = make_consumer(tmp_path / "p")
    (project / "pyproject.toml").write_text((project / "pyproject.toml").read_text() + "# not a workspace\n")
    proc = doit(project, "list", "--all")
    assert proc.stdout.split()[0] in ("diff", "graph", "migrate")


def test_doit_commands_are_all_reserved():
    from doit.doit_cmd import DoitMain

    from micropkg_tasks.config.workspace import RESERVED
    from micropkg_tasks.tasks import __all__ as creators

    assert {cmd.get_name() for cmd in DoitMain.DOIT_CMDS} <= RESERVED
    assert {c[len("task_"):] for c in creators if c.startswith("task_")} <= RESERVED


def test_find_cycle():
    from micropkg_tasks.tasks.workspace import find_cycle

    assert find_cycle({"a": ["b"], "b": ["c"], "c": []}) is None
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"x": ["x"]}) == ["x", "x"]


def test_clean_at_the_root_removes_sdists_and_unpulls_only_by_name(ws):
    doit(ws)
    proc = doit(ws, "clean")
    assert not (ws / "projects/a/dist/cleaning-0.3.1.tar.gz").exists()
    assert (ws / "projects/b/src/bravo/pipelines/cleaning/nodes.py").is_file(), proc.stdout  # not unpulled
    doit(ws, "clean", B_PULL)
    assert not (ws / "projects/b/src/bravo/pipelines/cleaning").exists()


def test_publish_at_the_root_on_a_fresh_checkout(ws, tmp_path):
    for m in "ab":
        edit(ws / f"projects/{m}/pyproject.toml", "[tool.micropkg.package]",
             f'[tool.micropkg]\npublish = "{tmp_path / "pub"}"\n\n[tool.micropkg.package]')
    names = doit(ws, "list", "--all").stdout.split()  # b's cleaning is not there yet: the list is made all the same
    assert {"a:publish", "b:publish", "a:publish:pipelines.cleaning", "b:publish:pipelines.reporting"} <= set(names)
    doit(ws, "publish")
    assert sorted(p.name for p in (tmp_path / "pub").iterdir()) == ["cleaning-0.3.1.tar.gz", "reporting-0.2.0.tar.gz",
                                                                     "scoring_kit-0.1.tar.gz"]


def test_sibling_paths_never_reach_a_published_sdist(ws):
    import tarfile

    edit(ws / "projects/c/pyproject.toml", '"../b/dist/reporting-0.2.0.tar.gz" = {destination = "pipelines"}',
         '"reporting" = {member = "b", destination = "pipelines"}')
    doit(ws)
    sdists = sorted((ws / "projects").glob("*/dist/*.tar.gz"))
    assert len(sdists) == 4
    for sdist in sdists:
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                data = tar.extractfile(member).read() if member.isfile() else b""
                assert b"../" not in data and b"projects/" not in data and b"member =" not in data, (sdist, member.name)


@pytest.mark.parametrize(("table", "message"), [
    ({"members": "projects/*"}, "members must be a non-empty list of folder globs"),
    ({"members": []}, "members must be a non-empty list of folder globs"),
    ({"members": ["/abs/*"]}, "must be a relative POSIX glob inside the workspace root"),
    ({"members": ["projects/\x00"]}, "must be a relative POSIX glob inside the workspace root"),
    ({"members": ["."]}, "must be a relative POSIX glob inside the workspace root"),
    ({"members": ["nothing/*"]}, "match no member folder"),
    ({"members": ["projects/*"], "exclude": "x"}, "exclude must be a non-empty list"),
    ({"members": ["projects/*"], "compile": 3}, "compile must be a command string"),
    ({"members": ["projects/*"], "base": ""}, "base must be a git revision"),
    ({"members": ["projects/*"], "memebrs": []}, "unknown option 'memebrs'"),
])
def test_the_root_table_is_checked(ws, table, message):
    from micropkg_tasks.config.workspace import load_workspace
    from micropkg_tasks.errors import ManifestError

    with pytest.raises(ManifestError) as err:
        load_workspace(ws, table)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_member_named_by_its_manifest(ws):
    from micropkg_tasks.config.workspace import load_workspace

    edit(ws / "projects/c/pyproject.toml", "[tool.micropkg.pull]", '[tool.micropkg]\nname = "charlie-app"\n\n[tool.micropkg.pull]')
    found = load_workspace(ws, {"members": ["projects/*"], "exclude": ["projects/a"]})
    assert [(m.name, m.path) for m in found.members] == [("b", "projects/b"), ("charlie-app", "projects/c")]
    assert found.owner("projects/c/dist/x.tar.gz").name == "charlie-app" and found.owner("projects/cc") is None


def test_a_project_imports_no_workspace_module(tmp_path):
    project = make_consumer(tmp_path / "p")
    code = ("import sys; from doit.doit_cmd import DoitMain; from doit.cmd_base import ModuleTaskLoader; "
            "import micropkg_tasks; DoitMain(ModuleTaskLoader(vars(micropkg_tasks))).run(['list', '--all']); "
            "print([m for m in sys.modules if m.endswith('.workspace')])")
    proc = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True, env=clean_env())
    assert proc.stdout.splitlines()[-1] == "[]", proc.stdout + proc.stderr
    assert "package" in proc.stdout
