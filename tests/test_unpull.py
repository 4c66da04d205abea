"""Undo: `doit clean pull:<source>` removes exactly the install its task made, and
`doit unpull --module M` removes any install recorded in the lock, ad hoc ones included."""
import os
import shutil
import stat

import pytest
from conftest import add_manifest, clean_env, copy_tree, doit, make_tar, sdist_entries, snapshot


def _sdist(tmp_path):
    return make_tar(tmp_path / "dp-1.0.tar.gz", sdist_entries(
        "dp", "1.0", files={"nodes.py": "import dp.helpers\n", "helpers.py": "X = 1\n",
                            "config/parameters_dp.yml": "dp: {x: 1}\n"},
        tests={"__init__.py": "", "test_nodes.py": "from dp import nodes\n"}))


def test_clean_of_a_manifest_pull_removes_its_own_install_not_an_ad_hoc_one_of_the_same_sdist(consumer, tmp_path):
    sdist = _sdist(tmp_path)
    doit(consumer, "pull", f"--source={sdist}", "--destination=pipelines")  # ad hoc: pipelines.dp
    after_ad_hoc = snapshot(consumer)
    add_manifest(consumer, f'[tool.micropkg.pull]\n"{sdist}" = {{alias = "dp_b", destination = "pipelines"}}')
    doit(consumer, "pull")
    assert (consumer / "src/consumer/pipelines/dp_b/nodes.py").read_text() == "import consumer.pipelines.dp_b.helpers\n"

    out = doit(consumer, "clean", f"pull:{sdist}").stdout
    assert "removed dp 1.0 from consumer.pipelines.dp_b" in out
    assert not (consumer / "src/consumer/pipelines/dp_b").exists()
    assert (consumer / "src/consumer/pipelines/dp/nodes.py").is_file()  # the other install is untouched
    after = snapshot(consumer)
    after.pop("pyproject.toml"), after_ad_hoc.pop("pyproject.toml")  # the manifest entry was added
    assert after == after_ad_hoc  # back to the ad hoc install alone, lock included


def test_unpull_removes_an_ad_hoc_pull_by_module_keeping_edited_files(consumer, tmp_path):
    before = snapshot(consumer)
    doit(consumer, "pull", f"--source={_sdist(tmp_path)}", "--alias=tidy", "--destination=pipelines")
    edited = consumer / "src/consumer/pipelines/tidy/helpers.py"
    edited.write_text("X = 2  # mine\n")
    out = doit(consumer, "unpull", "--module=pipelines.tidy").stdout
    assert "removed dp 1.0 from consumer.pipelines.tidy (5 files)" in out
    assert "kept 1 file(s) changed since the pull: src/consumer/pipelines/tidy/helpers.py" in out
    after = snapshot(consumer)
    assert after.pop("src/consumer/pipelines/tidy/helpers.py") == b"X = 2  # mine\n"
    assert after == before  # the lock is gone with its last entry


def test_unpull_of_an_unknown_module_names_the_installed_ones(consumer, tmp_path):
    doit(consumer, "pull", f"--source={_sdist(tmp_path)}")
    before = snapshot(consumer)
    proc = doit(consumer, "unpull", "--module=pipelines.nope", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "unpull: pipelines.nope is not in micropkg.lock; installed modules: dp" in proc.stdout
    assert snapshot(consumer) == before


# -- issue 17, point 1: --force aimed at one entry, and a user's file is never deleted ---------

PARAMS = b"data_processing:\n  rows: 10\n"


def _two_entries(consumer, tmp_path):
    """data_processing (shipping a parameters file the user already has, byte for byte) and
    reporting, both under pipelines/, from the manifest; one plain `doit pull`."""
    dist = consumer / "dist"
    dist.mkdir()
    make_tar(dist / "data_processing-1.0.tar.gz", sdist_entries("data_processing", "1.0", files={
        "nodes.py": "VALUE = 1\n", "config/parameters_data_processing.yml": PARAMS.decode()}))
    for version, value in (("1.0", "1"), ("2.0", "2")):
        make_tar(dist / f"reporting-{version}.tar.gz", sdist_entries("reporting", version, files={
            "nodes.py": f"VALUE = {value}\n"}))
    (consumer / "conf/base/parameters_data_processing.yml").write_bytes(PARAMS)
    add_manifest(consumer, '[tool.micropkg.pull]\n"dist/data_processing-1.0.tar.gz" = {destination = "pipelines"}\n'
                 '"dist/reporting-1.0.tar.gz" = {destination = "pipelines"}\n')
    out = doit(consumer, "pull").stdout
    assert "left 1 identical file(s) already in the project as they were" in out


def test_force_aimed_at_one_entry_then_unpull_never_deletes_the_users_file(consumer, tmp_path):
    _two_entries(consumer, tmp_path)
    params = consumer / "conf/base/parameters_data_processing.yml"
    assert "parameters_data_processing" not in (consumer / "micropkg.lock").read_text()
    # the user edits both micro-packages; reporting 2.0 changes the file they edited
    dp_nodes, rep_nodes = (consumer / f"src/consumer/pipelines/{m}/nodes.py" for m in ("data_processing", "reporting"))
    dp_nodes.write_text("VALUE = 'mine'\n")
    rep_nodes.write_text("VALUE = 'mine too'\n")
    py = consumer / "pyproject.toml"
    py.write_text(py.read_text().replace("reporting-1.0", "reporting-2.0"))
    proc = doit(consumer, "pull", check=False)
    assert proc.returncode == 1 and "src/consumer/pipelines/reporting/nodes.py (changed since it was pulled)" in proc.stdout

    # --force alone would replace every entry's edits: it asks for one entry, changing nothing
    before = snapshot(consumer)
    proc = doit(consumer, "pull", "--force", check=False)
    assert proc.returncode == 3 and "--force replaces your edits, so it takes one entry: doit pull --force " \
        "--source=<one of dist/data_processing-1.0.tar.gz, dist/reporting-2.0.tar.gz>" in proc.stderr
    assert snapshot(consumer) == before

    # aimed at the reporting entry: that entry as the manifest says (under pipelines/), nothing else
    proc = doit(consumer, "pull", "--force", "--source=dist/reporting-2.0.tar.gz")
    assert "updated from 1.0 to reporting 2.0 into consumer.pipelines.reporting" in proc.stdout
    assert "forced over 1 conflicting file(s), your edits replaced by the pulled version: " \
           "src/consumer/pipelines/reporting/nodes.py" in proc.stdout
    assert [line for line in proc.stdout.splitlines() if line.startswith(".  pull:")] == [
        ".  pull:dist/reporting-2.0.tar.gz"]
    assert rep_nodes.read_text() == "VALUE = 2\n" and not (consumer / "src/consumer/reporting").exists()
    assert dp_nodes.read_text() == "VALUE = 'mine'\n"  # the other entry's edit is untouched
    assert "parameters_data_processing" not in (consumer / "micropkg.lock").read_text()

    out = doit(consumer, "unpull", "--module=pipelines.data_processing").stdout
    assert "kept 1 file(s) changed since the pull: src/consumer/pipelines/data_processing/nodes.py" in out
    assert "took 'dist/data_processing-1.0.tar.gz' out of [tool.micropkg.pull]" in out
    assert params.read_bytes() == PARAMS  # the user's file, same bytes

    # forced at data_processing itself, the user's identical file is adopted: still never deleted
    (consumer / "src/consumer/pipelines/data_processing/nodes.py").unlink()
    out = doit(consumer, "pull", "--force", "--source=dist/data_processing-1.0.tar.gz", "--destination=pipelines").stdout
    assert "adopted 1 file(s) that were in the project before the pull" in out
    out = doit(consumer, "unpull", "--module=pipelines.data_processing").stdout
    assert "left 1 adopted file(s) in place (they were in the project before the pull): " \
           "conf/base/parameters_data_processing.yml" in out
    assert params.read_bytes() == PARAMS
    assert not (consumer / "src/consumer/pipelines/data_processing").exists()


def test_force_never_takes_a_file_another_entry_owns(consumer, tmp_path):
    first = make_tar(tmp_path / "one-1.0.tar.gz", sdist_entries("one", "1.0", files={
        "config/parameters/two/one.yml": "x: 1\n"}))
    doit(consumer, "pull", f"--source={first}")
    # Kedro's pattern 3 selects parameters/two/one.yml for a package named two... and one's own
    second = make_tar(tmp_path / "two-1.0.tar.gz", sdist_entries("two", "1.0", files={
        "config/parameters/two/one.yml": "x: 2\n"}))
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={second}", "--force", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "conf/base/parameters/two/one.yml (installed by one), another pull's file(s); --force never takes " \
           "them" in proc.stdout
    assert snapshot(consumer) == before


# -- issue 17, point 3: unpull takes the entry out of the manifest, or the next pull undoes it ---

def _crlf_manifest(consumer, tmp_path, table="tool.micropkg"):
    sdist, other = _sdist(tmp_path), make_tar(tmp_path / "other-1.0.tar.gz", sdist_entries("other", "1.0"))
    py = consumer / "pyproject.toml"
    text = py.read_text() + (f'\n# what we pull\n[{table}.pull]\n"{sdist}" = {{alias = "tidy"}}  # the cleaner\n'
                             f'"{other}" = {{}}\n\n[tool.black]\nline-length = 100\n')
    py.write_bytes(text.replace("\n", "\r\n").encode())
    os.chmod(py, 0o640)
    return py, sdist, other


def test_unpull_takes_the_manifest_entry_out_and_the_next_pull_leaves_it_out(consumer, tmp_path):
    py, sdist, _ = _crlf_manifest(consumer, tmp_path)
    pristine = py.read_bytes()
    doit(consumer, "pull")
    out = doit(consumer, "unpull", "--module=tidy").stdout
    assert f"took '{sdist}' out of [tool.micropkg.pull] in pyproject.toml, so the next doit pull does not bring " \
           "it back" in out
    # exactly that line is gone: the rest byte for byte, CRLF line endings and the file's mode kept
    assert py.read_bytes() == pristine.replace(f'"{sdist}" = {{alias = "tidy"}}  # the cleaner\r\n'.encode(), b"")
    assert stat.S_IMODE(py.stat().st_mode) == 0o640
    proc = doit(consumer, "pull")
    assert f"pull:{sdist}" not in proc.stdout and not (consumer / "src/consumer/tidy").exists()
    assert "other" in (consumer / "micropkg.lock").read_text()


@pytest.mark.parametrize("how", ["read-only", "link"])
def test_a_pyproject_that_cannot_be_edited_safely_stops_the_unpull(consumer, tmp_path, how):
    py, _, _ = _crlf_manifest(consumer, tmp_path)
    doit(consumer, "pull")
    if how == "link":
        real = consumer / "real-pyproject.toml"
        py.rename(real)
        py.symlink_to(real.name)
    else:
        os.chmod(py, 0o444)
    before = snapshot(consumer)
    proc = doit(consumer, "unpull", "--module=tidy", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert ("pyproject.toml is read-only" if how == "read-only" else "pyproject.toml is a symbolic link") in \
        proc.stdout + proc.stderr
    assert snapshot(consumer) == before and (consumer / "src/consumer/tidy").is_dir()


def test_unpull_edits_the_legacy_table_too(consumer, tmp_path):
    py, _, other = _crlf_manifest(consumer, tmp_path, table="tool.kedro.micropkg")
    py.write_bytes(py.read_bytes().replace(b"[tool.micropkg]\r\ncompile = false\r\n", b""))
    text = py.read_bytes().replace(b'[tool.kedro.micropkg.pull]', b'[tool.kedro.micropkg]\r\ncompile = false\r\n\r\n'
                                   b'[tool.kedro.micropkg.pull]')
    py.write_bytes(text)
    doit(consumer, "pull")
    out = doit(consumer, "unpull", "--module=other").stdout
    assert f"took '{other}' out of [tool.kedro.micropkg.pull]" in out
    assert py.read_bytes() == text.replace(f'"{other}" = {{}}\r\n'.encode(), b"")


@pytest.mark.parametrize("mode", ["_MICROPKG_TEST_FAIL_AT", "_MICROPKG_TEST_KILL_AT"])
def test_unpull_and_its_manifest_edit_are_one_transaction(consumer, tmp_path, mode):
    """Failing or killed at every point: the files, the lock and pyproject.toml all change, or none."""
    _crlf_manifest(consumer, tmp_path)
    doit(consumer, "pull")
    pristine = copy_tree(consumer, tmp_path / "pristine")
    before = snapshot(consumer)
    doit(consumer, "unpull", "--module=tidy")
    after = snapshot(consumer)
    assert after["pyproject.toml"] != before["pyproject.toml"]
    point = 0
    while True:
        point += 1
        shutil.rmtree(consumer)
        copy_tree(pristine, consumer)
        proc = doit(consumer, "unpull", "--module=tidy", env=clean_env(**{mode: str(point)}), check=False)
        doit(consumer, "list")  # the next command rolls back (or finishes) what was interrupted
        assert snapshot(consumer) in (before, after), f"half an unpull at point {point}"
        if proc.returncode == 0:
            break
        assert "Traceback" not in proc.stdout + proc.stderr
    assert point > 5  # every point between file operations was exercised


def test_remove_pull_entries_keeps_every_other_byte_or_refuses():
    from micropkg_tasks.config.unlist import remove_pull_entries
    from micropkg_tasks.errors import ManifestError

    text = '[tool.micropkg]\npull."a.tar.gz" = {}\npull."b.tar.gz" = {}  # b\n\n[x]\ny = 1\n'
    assert remove_pull_entries(text, "tool.micropkg", ["a.tar.gz"]) == \
        '[tool.micropkg]\npull."b.tar.gz" = {}  # b\n\n[x]\ny = 1\n'
    sub = '[tool.micropkg.pull]\n"b.tar.gz" = {}\n\n[tool.micropkg.pull."a.tar.gz"]\nalias = "x"\n\n[z]\nq = 1\n'
    assert remove_pull_entries(sub, "tool.micropkg", ["a.tar.gz"]) == '[tool.micropkg.pull]\n"b.tar.gz" = {}\n\n[z]\nq = 1\n'
    assert remove_pull_entries(text, "tool.micropkg", []) == text
    with pytest.raises(ManifestError, match="cannot take the entry out"):
        remove_pull_entries(text, "tool.micropkg", ["nope.tar.gz"])
