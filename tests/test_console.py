"""What doit prints, in our words: a refused task is one ``ERROR:`` line (not doit's
``TaskFailed - taskid:``), option errors list options as typed (not ``CmdOption({...})``), and
machine output (``graph --format dot|mermaid``, ``outdated --json``) is alone on stdout."""
import json

from conftest import doit
from test_graph import DIAMOND, producer


def test_a_refused_task_is_one_error_line(consumer):
    proc = doit(consumer, "pull", "--source=nothere.tar.gz", check=False)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [".  pull:nothere.tar.gz",
                                        "ERROR: pull 'nothere.tar.gz': sdist nothere.tar.gz not found"]
    assert "taskid" not in proc.stdout + proc.stderr


def test_an_option_error_lists_options_as_typed(acme):
    proc = doit(acme, "package", "--env", check=False)
    assert proc.returncode == 3
    assert "option --env requires argument (parsing options: [--micropkg, --alias, --env, --destination, --wheel" \
        in proc.stderr
    assert "CmdOption" not in proc.stdout + proc.stderr


def test_graph_formats_for_programs_are_alone_on_stdout(tmp_path, consumer):
    project = producer(tmp_path / "acme", DIAMOND)
    dot = doit(project, "graph", "--format", "dot").stdout
    assert dot.startswith("digraph ") and dot.rstrip().endswith("}")
    assert doit(project, "graph", "--format", "mermaid").stdout.startswith("%% ")
    assert doit(project, "graph").stdout.startswith(".  graph\n")  # text for people keeps doit's line
    empty = doit(consumer, "graph", "--format", "dot")
    assert empty.stdout.startswith("digraph ") and empty.stdout.rstrip().endswith("}")
    assert "No micro-packages" in empty.stderr


def test_outdated_json_is_alone_on_stdout(consumer):
    assert json.loads(doit(consumer, "outdated", "--json").stdout) == []
