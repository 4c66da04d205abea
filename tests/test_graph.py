"""Micro-packages that depend on each other (issue #12): packaging checks self-containment and
records dependencies; pulls bring them along or land imports on what is installed; doit graph."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import add_manifest, clean_env, doit, make_consumer, make_tar, sdist_entries, snapshot
from servers import index_server


def producer(root: Path, modules: dict[str, str], manifest: str | None = None) -> Path:
    """A project ``acme`` with ``pipelines.<name>`` micro-packages, ``modules``: name -> the
    source of its nodes.py; each has a test importing its own nodes and version 1.<n>."""
    project = make_consumer(root, package="acme")
    pipelines = project / "src" / "acme" / "pipelines"
    pipelines.mkdir()
    (pipelines / "__init__.py").write_text("")
    for n, (name, source) in enumerate(modules.items()):
        (pipelines / name).mkdir()
        (pipelines / name / "__init__.py").write_text(f'__version__ = "1.{n}"\n')
        (pipelines / name / "nodes.py").write_text(source)
        tests = project / "tests" / "pipelines" / name
        tests.mkdir(parents=True)
        (tests / "test_nodes.py").write_text(f"from acme.pipelines.{name}.nodes import VALUE\n")
    add_manifest(project, manifest or "[tool.micropkg.package]\n" + "".join(f'"pipelines.{m}" = {{}}\n' for m in modules))
    return project


def member(sdist: Path, suffix: str) -> str:
    with tarfile.open(sdist) as tar:
        name = next(m for m in tar.getnames() if m.endswith(suffix))
        data = tar.extractfile(name)
        assert data is not None
        return data.read().decode()


# a -> b -> d and a -> c -> d: a three-level chain and a diamond
DIAMOND = {
    "a": "from acme.pipelines.b.nodes import VALUE as B\nfrom acme.pipelines.c import nodes\n\nVALUE = B + nodes.VALUE\n",
    "b": "import acme.pipelines.d.nodes\n\nVALUE = acme.pipelines.d.nodes.VALUE + 1\n",
    "c": "from acme.pipelines.d.nodes import VALUE as D\nimport acme.pipelines.c.nodes\n\nVALUE = D + 10\n",
    "d": "VALUE = 100\n",
}


def test_an_import_outside_any_micro_package_is_refused_then_allowed(tmp_path):
    project = producer(tmp_path / "acme", {"a": "import os\n\nimport acme.utils.io\n\nVALUE = 1\n"})
    (project / "src" / "acme" / "utils").mkdir()
    (project / "src" / "acme" / "utils" / "__init__.py").write_text("")
    (project / "src" / "acme" / "utils" / "io.py").write_text("")
    proc = doit(project, "package", check=False)
    assert proc.returncode != 0
    assert ("src/acme/pipelines/a/nodes.py:3 imports acme.utils.io, which is not part of any micro-package: "
            "package it too, or list it in allow (the entry's allow key, or --allow)\n") in proc.stdout + proc.stderr
    assert not (project / "dist").exists()

    text = (project / "pyproject.toml").read_text().replace('"pipelines.a" = {}', '"pipelines.a" = {allow = ["acme.utils"]}')
    (project / "pyproject.toml").write_text(text)
    proc = doit(project, "package")
    assert "src/acme/pipelines/a/nodes.py:3 imports acme.utils.io, which is not part of the micro-package: " \
           "left as it is (listed in allow)" in proc.stdout
    assert "import acme.utils.io\n" in member(project / "dist" / "a-1.0.tar.gz", "a/nodes.py")


def test_a_dotted_string_of_a_project_module_outside_is_refused(tmp_path):
    source = 'from unittest import mock\n\nPATCH = mock.patch("acme.settings.X")\nLOG = "acme.log"\nVALUE = 1\n'
    project = producer(tmp_path / "acme", {"a": source})
    (project / "src" / "acme" / "settings.py").write_text("X = 1\n")
    proc = doit(project, "package", check=False)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "which is not part" in line]
    assert lines == ["ERROR: src/acme/pipelines/a/nodes.py:3 imports acme.settings.X, which is not part of any "
                     "micro-package: package it too, or list it in allow (the entry's allow key, or --allow)"]  # "acme.log" is no module


def test_a_relative_import_climbing_out_is_refused(tmp_path):
    project = producer(tmp_path / "acme", {"a": "from ..b import nodes\nfrom . import nodes as me\n\nVALUE = 1\n",
                                           "b": "VALUE = 2\n"})
    before = snapshot(project)
    proc = doit(project, "package", check=False)
    assert proc.returncode != 0
    assert ("src/acme/pipelines/a/nodes.py:1 imports acme.pipelines.b with a relative import that climbs out of "
            "the micro-package") in proc.stdout
    assert "nodes.py:2" not in proc.stdout  # a relative import inside it is fine
    assert not (project / "dist" / "a-1.0.tar.gz").exists()
    assert {k: v for k, v in snapshot(project).items() if not k.startswith("dist/")} == before


def test_dependencies_are_recorded_in_our_metadata_and_imports_take_published_names(tmp_path):
    project = producer(tmp_path / "acme", DIAMOND, manifest='[tool.micropkg.package]\n"pipelines.a" = {}\n'
                       '"pipelines.b" = {alias = "bee"}\n"pipelines.c" = {}\n"pipelines.d" = {}\n')
    doit(project, "package")
    a = project / "dist" / "a-1.0.tar.gz"
    pyproject = member(a, "/pyproject.toml")
    assert pyproject.endswith('[tool.micropkg]\ndependencies = [\n    "bee>=1.1",\n    "c>=1.2",\n]\n')
    assert "Requires-Dist" not in member(a, "PKG-INFO")
    assert member(a, "a/nodes.py") == "from bee.nodes import VALUE as B\nfrom c import nodes\n\nVALUE = B + nodes.VALUE\n"
    assert member(project / "dist" / "c-1.2.tar.gz", "c/nodes.py").startswith("from d.nodes import VALUE as D\nimport c.nodes")
    # a micro-package importing nothing else: no [tool.micropkg] table, the sdist as before
    assert "[tool.micropkg]" not in member(project / "dist" / "d-1.3.tar.gz", "/pyproject.toml")

    # package:a depends on b's version: bumping it rebuilds a with the new specifier
    (project / "src/acme/pipelines/b/__init__.py").write_text('__version__ = "2.0"\n')
    proc = doit(project, "package")
    assert "packaged 'acme.pipelines.a'" in proc.stdout and "packaged 'acme.pipelines.c'" not in proc.stdout
    assert '"bee>=2.0"' in member(a, "/pyproject.toml")


def test_a_cycle_is_refused_when_packaging(tmp_path):
    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n",
                                           "b": "from acme.pipelines.a.nodes import VALUE\n"})
    proc = doit(project, "package", check=False)
    assert proc.returncode != 0
    assert ("package 'pipelines.a': micro-packages import each other in a cycle: pipelines.a -> pipelines.b -> "
            "pipelines.a") in proc.stdout
    assert not list((project / "dist").glob("*")) if (project / "dist").exists() else True


def run_pulled(consumer: Path, module: str) -> str:
    """Import a pulled module in a fresh interpreter: its imports must resolve in the consumer."""
    proc = subprocess.run([sys.executable, "-c", f"import {module} as m; print(m.VALUE)"], cwd=consumer,
                          env=clean_env(PYTHONPATH=str(consumer / "src")), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_a_pull_from_a_folder_brings_its_dependencies_along(tmp_path, consumer):
    project = producer(tmp_path / "acme", DIAMOND)
    doit(project, "package")
    shutil.copytree(project / "dist", consumer / "shared")
    proc = doit(consumer, "pull", "--source=shared/a-1.0.tar.gz", "--destination=pipelines")
    assert [line.split(" (")[0] for line in proc.stdout.splitlines() if line.startswith("pulled")] == [
        "pulled d 1.3 into consumer.pipelines.d", "pulled b 1.1 into consumer.pipelines.b",
        "pulled c 1.2 into consumer.pipelines.c", "pulled a 1.0 into consumer.pipelines.a"]
    assert run_pulled(consumer, "consumer.pipelines.a.nodes") == "211"
    assert "consumer.pipelines.d.nodes" in (consumer / "src/consumer/pipelines/b/nodes.py").read_text()
    lock = (consumer / "micropkg.lock").read_text()
    assert 'source = "shared/d-1.3.tar.gz"' in lock
    # every archive of the pull is cached, the dependencies' too: diff and merges have their base
    import hashlib

    cached = {p.name for p in (consumer / ".micropkg" / "cache").iterdir()}
    for name in ("a-1.0", "b-1.1", "c-1.2", "d-1.3"):
        assert f"{hashlib.sha256((consumer / 'shared' / f'{name}.tar.gz').read_bytes()).hexdigest()}.tar.gz" in cached
    # the graph of what the lock installed
    text = doit(consumer, "graph").stdout
    assert "micropkg.lock:\n  pipelines.a (a 1.0)\n    └─ pipelines.b (b 1.1)\n      └─ pipelines.d (d 1.3)\n" \
           "    └─ pipelines.c (c 1.2)\n      └─ pipelines.d (d 1.3)\n" in text


def test_a_pull_from_a_local_index_brings_its_dependency_along(tmp_path, consumer):
    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": "VALUE = 7\n"})
    doit(project, "package")
    shutil.copytree(project / "dist", tmp_path / "index" / "files")
    with index_server(tmp_path / "index") as index:
        proc = doit(consumer, "pull", "--source=a>=1", env=clean_env(PIP_INDEX_URL=index))
    assert "pulled b 1.1 into consumer.b" in proc.stdout and "pulled a 1.0 into consumer.a" in proc.stdout
    assert run_pulled(consumer, "consumer.a.nodes") == "7"
    assert 'source = "b>=1.1"' in (consumer / "micropkg.lock").read_text()


def test_a_dependency_installed_under_an_alias_receives_the_imports(tmp_path, consumer):
    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": "VALUE = 7\n"})
    doit(project, "package")
    doit(consumer, "pull", f"--source={project}/dist/b-1.1.tar.gz", "--alias=tidy", "--destination=pipelines")
    (tmp_path / "only-a").mkdir()
    shutil.copy(project / "dist" / "a-1.0.tar.gz", tmp_path / "only-a")
    proc = doit(consumer, "pull", f"--source={tmp_path}/only-a/a-1.0.tar.gz")
    assert "pulled a 1.0 into consumer.a" in proc.stdout and "pulled b" not in proc.stdout
    assert (consumer / "src/consumer/a/nodes.py").read_text() == "from consumer.pipelines.tidy.nodes import VALUE\n"
    assert run_pulled(consumer, "consumer.a.nodes") == "7"


def test_manifest_pulls_honour_the_dependency_s_entry(tmp_path, consumer):
    """The entry that imports comes first in the manifest: its dependency is pulled as its own
    entry says (alias, destination), once."""
    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": "VALUE = 7\n"})
    doit(project, "package")
    shutil.copytree(project / "dist", consumer / "dist")
    add_manifest(consumer, '[tool.micropkg.pull]\n"dist/a-1.0.tar.gz" = {}\n'
                 '"dist/b-1.1.tar.gz" = {alias = "tidy", destination = "lib"}\n')
    proc = doit(consumer, "pull")
    assert "pulled b 1.1 into consumer.lib.tidy" in proc.stdout
    assert "b 1.1 is already installed and unchanged" in proc.stdout
    assert run_pulled(consumer, "consumer.a.nodes") == "7"
    assert not (consumer / "src/consumer/b").exists()


def test_a_missing_dependency_or_a_cycle_is_one_line_and_nothing_changes(tmp_path, consumer):
    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": "VALUE = 7\n"})
    doit(project, "package")
    (consumer / "alone").mkdir()
    shutil.copy(project / "dist" / "a-1.0.tar.gz", consumer / "alone")
    before = snapshot(consumer)
    proc = doit(consumer, "pull", "--source=alone/a-1.0.tar.gz", check=False)
    assert proc.returncode != 0
    assert "pull 'alone/a-1.0.tar.gz': it imports micro-package b>=1.1, which is not installed and not in alone; " \
           "pull it first" in proc.stdout
    assert snapshot(consumer) == before

    pyproject = '[tool.micropkg]\ndependencies = ["{}>=1"]\n'
    (consumer / "loop").mkdir()
    for name, other in (("x", "y"), ("y", "x")):
        make_tar(consumer / "loop" / f"{name}-1.0.tar.gz", sdist_entries(name) + [
            (f"{name}-1.0/pyproject.toml", pyproject.format(other).encode())])
    before = snapshot(consumer)
    proc = doit(consumer, "pull", "--source=loop/x-1.0.tar.gz", check=False)
    assert proc.returncode != 0
    assert "micro-packages depend on each other in a cycle: x -> y -> x; nothing was changed" in proc.stdout
    assert snapshot(consumer) == before


def test_doit_graph_formats(tmp_path):
    project = producer(tmp_path / "acme", DIAMOND)
    text = doit(project, "graph").stdout
    assert ("[tool.micropkg.package]:\n  pipelines.a (a 1.0)\n    └─ pipelines.b (b 1.1)\n      └─ pipelines.d (d 1.3)\n"
            "    └─ pipelines.c (c 1.2)\n      └─ pipelines.d (d 1.3)\n") in text
    dot = doit(project, "graph", "--format", "dot").stdout
    assert '"pipelines.a" -> "pipelines.b";\n  "pipelines.a" -> "pipelines.c";\n  "pipelines.b" -> "pipelines.d";' in dot
    assert dot.rstrip().endswith("}")
    mermaid = doit(project, "graph", "--format", "mermaid").stdout
    assert 'graph LR\n  n0["pipelines.a (a 1.0)"]' in mermaid and "  n0 --> n1\n  n0 --> n2\n  n1 --> n3\n" in mermaid
    bad = doit(project, "graph", "--format", "png", check=False)
    assert bad.returncode == 3 and "--format 'png' is not one of text, dot, mermaid" in bad.stderr


def test_malformed_dependencies_in_a_pulled_sdist_are_one_line(tmp_path, consumer):
    for i, deps in enumerate(['["x @ https://example.com/x.tar.gz"]', '["os>=1"]', '"x"']):
        archive = make_tar(consumer / f"bad{i}-1.0.tar.gz", sdist_entries(f"bad{i}") + [
            (f"bad{i}-1.0/pyproject.toml", f"[tool.micropkg]\ndependencies = {deps}\n".encode())])
        before = snapshot(consumer)
        proc = doit(consumer, "pull", f"--source={archive.name}", check=False)
        assert proc.returncode != 0
        assert "[tool.micropkg] dependencies" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
        assert snapshot(consumer) == before


def test_ad_hoc_packaging_records_dependencies_and_stays_up_to_date(tmp_path):
    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": "VALUE = 7\n"})
    first = doit(project, "package", "--micropkg", "pipelines.a")
    assert "packaged 'acme.pipelines.a'" in first.stdout
    assert "it imports micro-package pipelines.b: recorded as the dependency b>=1.1" in first.stdout  # said, not silent
    assert '"b>=1.1"' in member(project / "dist" / "a-1.0.tar.gz", "/pyproject.toml")
    assert "packaged" not in doit(project, "package", "--micropkg", "pipelines.a").stdout
    (project / "src/acme/pipelines/b/__init__.py").write_text('__version__ = "1.5"\n')
    assert "packaged 'acme.pipelines.a'" in doit(project, "package", "--micropkg", "pipelines.a").stdout


def test_the_graph_functions_need_no_recursion_for_long_chains():
    from micropkg_tasks.core.graph import find_cycle, render, topological

    chain = {f"p{i:04d}": [f"p{i + 1:04d}"] for i in range(3000)}
    assert find_cycle(chain) is None
    assert topological(chain)[0] == "p3000" and len(topological(chain)) == 3001
    assert len(render(chain, {}, "text", "t").splitlines()) == 3002
    chain["p3000"] = ["p0000"]
    assert len(find_cycle(chain)) == 3002


def test_a_dependency_pulled_along_from_a_named_index_is_checked_there(tmp_path, consumer):
    """The lock records the index a requirement came from, so `outdated` (and the base of a
    merge) ask the dependency's index, not pip's; an index the project does not name, written
    into the lock by hand, is refused rather than asked."""
    import json

    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": "VALUE = 7\n"})
    doit(project, "package")
    bucket = tmp_path / "bucket"
    shutil.copytree(project / "dist", bucket)
    add_manifest(consumer, f'[tool.micropkg.pull]\n"a>=1" = {{index = "{bucket}"}}')
    env = clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple")  # pip's index: unreachable, never asked
    assert "pulled b 1.1 into consumer.b" in doit(consumer, "pull", env=env).stdout
    assert f'index = "{bucket}"' in (consumer / "micropkg.lock").read_text()
    shutil.copy(bucket / "b-1.1.tar.gz", bucket / "b-1.5.tar.gz")  # a newer b appears there (same bytes will do)
    proc = doit(consumer, "-r", "zero", "outdated", "--json", env=env)
    rows = {r["module"]: r for r in json.loads(proc.stdout)}
    assert (rows["b"]["newest"], rows["b"]["behind"], rows["b"]["error"]) == ("1.5", True, None)
    assert (rows["a"]["newest"], rows["a"]["error"]) == ("1.0", None) and "warning" not in proc.stderr

    lock = consumer / "micropkg.lock"
    lock.write_text(lock.read_text().replace(f'index = "{bucket}"', 'index = "https://evil.example/simple"'))
    proc = doit(consumer, "-r", "zero", "outdated", "--json", env=env)
    rows = {r["module"]: r for r in json.loads(proc.stdout)}
    assert rows["b"]["newest"] is None and "no longer names" in rows["b"]["error"] and "Traceback" not in proc.stderr


def _dependency_from_a_folder_index(tmp_path, consumer, b_nodes="VALUE = 7\n"):
    """a (importing b) and b packaged into a folder used as a bucket index, pulled by `a>=1`."""
    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": b_nodes})
    doit(project, "package")
    bucket = tmp_path / "bucket"
    shutil.copytree(project / "dist", bucket)
    add_manifest(consumer, f'[tool.micropkg.pull]\n"a>=1" = {{index = "{bucket}"}}')
    env = clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple")
    doit(consumer, "pull", env=env)
    return project, bucket, env


@pytest.mark.parametrize("respell", ["trailing slash", "moved"])
def test_a_renamed_index_never_blocks_what_needs_no_fetch(tmp_path, consumer, respell):
    """diff reads the cached base: the index the lock records is not asked, so a project that
    respells it (a trailing slash) or moves it still diffs; outdated asks the index only if the
    project still names it (a slash aside), else says so in one line."""
    import json

    _, bucket, env = _dependency_from_a_folder_index(tmp_path, consumer)
    (consumer / "src/consumer/b/nodes.py").write_text("VALUE = 8\n")
    py = consumer / "pyproject.toml"
    new = f"{bucket}/" if respell == "trailing slash" else str(tmp_path / "moved")
    if respell == "moved":
        shutil.copytree(bucket, new)
    py.write_text(py.read_text().replace(f'index = "{bucket}"', f'index = "{new}"'))
    assert "+VALUE = 8" in doit(consumer, "diff", env=env).stdout
    rows = {r["module"]: r for r in json.loads(doit(consumer, "-r", "zero", "outdated", "--json", env=env).stdout)}
    if respell == "trailing slash":
        assert (rows["b"]["newest"], rows["b"]["error"]) == ("1.1", None)
    else:
        assert rows["b"]["newest"] is None and "no longer names" in rows["b"]["error"]


def test_an_upgrade_of_an_edited_dependency_merges_although_its_index_was_respelled(tmp_path, consumer):
    project, bucket, env = _dependency_from_a_folder_index(tmp_path, consumer, "X = 1\n\n\n\n\nVALUE = 7\n")
    (project / "src/acme/pipelines/b/__init__.py").write_text('__version__ = "1.2"\n')
    (project / "src/acme/pipelines/b/nodes.py").write_text("X = 1\n\n\n\n\nVALUE = 9\n")
    (project / "src/acme/pipelines/a/__init__.py").write_text('__version__ = "1.1"\n')
    doit(project, "package")
    for sdist in (project / "dist").iterdir():
        shutil.copy(sdist, bucket / sdist.name)
    nodes = consumer / "src/consumer/b/nodes.py"
    nodes.write_text(nodes.read_text().replace("X = 1", "X = 'mine'"))
    py = consumer / "pyproject.toml"
    py.write_text(py.read_text().replace(f'"a>=1" = {{index = "{bucket}"}}', f'"a>=1.1" = {{index = "{bucket}/"}}'))
    proc = doit(consumer, "pull", env=env)
    assert "merged your edits into 1 file(s)" in proc.stdout
    assert nodes.read_text() == "X = 'mine'\n\n\n\n\nVALUE = 9\n"


def test_a_dependency_pulled_along_from_a_bucket_is_checked_with_the_entrys_fs_args(tmp_path, consumer):
    """outdated asks the dependency's bucket with the fs-args of the entry that names it (here
    moto's endpoint), never the default endpoint (real AWS) without them."""
    import json

    import boto3
    from servers import s3_server

    project = producer(tmp_path / "acme", {"a": "from acme.pipelines.b.nodes import VALUE\n", "b": "VALUE = 7\n"})
    doit(project, "package")
    with s3_server() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="micropkgs")
        for sdist in (project / "dist").iterdir():
            client.put_object(Bucket="micropkgs", Key=f"dep/{sdist.name}", Body=sdist.read_bytes())
        (consumer / "s3.yml").write_text(f"key: testing\nsecret: testing\nclient_kwargs:\n  endpoint_url: {endpoint}\n"
                                         "  region_name: us-east-1\n")
        add_manifest(consumer, '[tool.micropkg.pull]\n"a>=1" = {index = "s3://micropkgs/dep/", fs-args = "s3.yml"}')
        env = clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
                        AWS_EC2_METADATA_DISABLED="true")
        assert "pulled b 1.1 into consumer.b" in doit(consumer, "pull", env=env).stdout
        rows = {r["module"]: r for r in json.loads(doit(consumer, "-r", "zero", "outdated", "--json", env=env).stdout)}
    assert [(rows[m]["newest"], rows[m]["error"]) for m in ("a", "b")] == [("1.0", None), ("1.1", None)]


# -- issue 17, point 2: a dependency is never removed silently from under what imports it -----

def _reporting_with_its_dependency(tmp_path, consumer):
    """reporting imports data_processing; the manifest names reporting only, under pipelines/,
    and data_processing is pulled along with it from the same folder."""
    project = producer(tmp_path / "acme", {"data_processing": "VALUE = 7\n",
                                           "reporting": "from acme.pipelines.data_processing.nodes import VALUE\n"})
    doit(project, "package")
    shutil.copytree(project / "dist", consumer / "dist")
    add_manifest(consumer, '[tool.micropkg.pull]\n"dist/reporting-1.1.tar.gz" = {destination = "pipelines"}\n')
    out = doit(consumer, "pull").stdout
    assert "pulled data_processing 1.0 into consumer.pipelines.data_processing" in out
    assert run_pulled(consumer, "consumer.pipelines.reporting.nodes") == "7"
    assert 'dependencies = ["pipelines.data_processing"]' in (consumer / "micropkg.lock").read_text()


def _import_fails(consumer, module):
    proc = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=consumer,
                          env=clean_env(PYTHONPATH="src"), capture_output=True, text=True)
    return proc.returncode != 0 and "ModuleNotFoundError" in proc.stderr


def test_unpulling_a_dependency_is_refused_naming_what_imports_it(tmp_path, consumer):
    _reporting_with_its_dependency(tmp_path, consumer)
    before = snapshot(consumer)
    proc = doit(consumer, "unpull", "--module=pipelines.data_processing", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert ("unpull: pipelines.data_processing is imported by pipelines.reporting, which would break without it; "
            "unpull them too with --with-dependents, or unpull them first. Nothing was changed") in proc.stdout
    assert snapshot(consumer) == before
    assert not _import_fails(consumer, "consumer.pipelines.reporting.nodes")
    assert doit(consumer, "status", "--check").returncode == 0
    assert "  pipelines.reporting (reporting 1.1)\n    └─ pipelines.data_processing (data_processing 1.0)" in \
        doit(consumer, "graph").stdout

    proc = doit(consumer, "unpull", "--module=pipelines.data_processing", "--with-dependents")
    assert "removed reporting 1.1 from consumer.pipelines.reporting" in proc.stdout
    assert "removed data_processing 1.0 from consumer.pipelines.data_processing" in proc.stdout
    assert "took 'dist/reporting-1.1.tar.gz' out of [tool.micropkg.pull] in pyproject.toml" in proc.stdout
    assert _import_fails(consumer, "consumer.pipelines.reporting.nodes")
    assert not (consumer / "micropkg.lock").exists() and not (consumer / "src/consumer/pipelines").exists()
    assert "Nothing to pull" in doit(consumer, "pull").stdout  # and nothing comes back


def test_a_missing_dependency_fails_status_shows_in_the_graph_and_pull_reinstalls_it(tmp_path, consumer):
    """The dependency is gone but the lock still records what imports it (a lock merged from a
    branch, an older release's unpull): nothing may stay green."""
    from micropkg_tasks.config.project import load_project
    from micropkg_tasks.store.lock import parse_lock, render_lock

    _reporting_with_its_dependency(tmp_path, consumer)
    lock = consumer / "micropkg.lock"
    entries = parse_lock(lock.read_text(), load_project(consumer))
    for path in entries.pop("pipelines.data_processing").files:
        (consumer / path).unlink()
    lock.write_text(render_lock(entries))
    assert _import_fails(consumer, "consumer.pipelines.reporting.nodes")

    proc = doit(consumer, "status", "--check", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "consumer.pipelines.reporting: reporting 1.1 from dist/reporting-1.1.tar.gz: 1 missing dependency" \
        in proc.stdout
    assert "  missing     consumer.pipelines.data_processing, which it imports, is not installed" in proc.stdout
    assert "status: consumer.pipelines.reporting imports consumer.pipelines.data_processing, which is not " \
           "installed (doit pull reinstalls it" in proc.stdout + proc.stderr
    assert "    └─ pipelines.data_processing (not installed)" in doit(consumer, "graph").stdout

    out = doit(consumer, "pull").stdout
    assert "pulled data_processing 1.0 into consumer.pipelines.data_processing" in out
    assert run_pulled(consumer, "consumer.pipelines.reporting.nodes") == "7"
    assert doit(consumer, "status", "--check").returncode == 0
    assert ".  pull:" not in doit(consumer, "pull").stdout  # and then it is up to date again
