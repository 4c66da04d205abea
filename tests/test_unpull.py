"""Undo: `doit clean pull:<source>` removes exactly the install its task made, and
`doit unpull --module M` removes any install recorded in the lock, ad hoc ones included."""
from conftest import add_manifest, doit, make_tar, sdist_entries, snapshot


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
