"""Local paths never block and never follow a link they were not given: a pull source or an
fs-args file that is a FIFO is one line at once, and a folder index lists regular files only."""
import os
import shutil

from conftest import add_manifest, doit, make_tar, sdist_entries, snapshot


def test_a_fifo_as_a_pull_source_is_one_line_at_once(consumer):
    os.mkfifo(consumer / "tidy-1.0.tar.gz")
    before = snapshot(consumer)
    proc = doit(consumer, "pull", "--source=tidy-1.0.tar.gz", check=False, timeout=30)
    assert proc.returncode == 1
    assert "ERROR: pull 'tidy-1.0.tar.gz': tidy-1.0.tar.gz is not a regular file (a FIFO, device or socket)" in proc.stdout
    assert snapshot(consumer) == before


def test_a_fifo_as_fs_args_is_one_line_at_once(consumer, tmp_path):
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy"))
    os.mkfifo(consumer / "s3.yml")
    proc = doit(consumer, "pull", f"--source=file://{sdist}", "--fs-args=s3.yml", check=False, timeout=30)
    assert proc.returncode != 0
    assert "fs_args file s3.yml is not a regular file" in proc.stdout + proc.stderr


def test_a_pull_source_that_is_a_link_the_user_made_is_followed(consumer, tmp_path):
    sdist = make_tar(tmp_path / "tidy-1.0.tar.gz", sdist_entries("tidy"))
    (consumer / "tidy-1.0.tar.gz").symlink_to(sdist)
    doit(consumer, "pull", "--source=tidy-1.0.tar.gz")
    assert (consumer / "src/consumer/tidy/__init__.py").is_file()


def test_a_folder_index_lists_regular_files_only(consumer, tmp_path):
    registry = consumer / "registry"
    registry.mkdir()
    make_tar(registry / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
    elsewhere = make_tar(tmp_path / "tidy-9.0.tar.gz", sdist_entries("tidy", "9.0", files={"evil.py": "x = 1\n"}))
    (registry / "tidy-9.0.tar.gz").symlink_to(elsewhere)  # newer, but a link: not part of the index
    (registry / "tidy-8.0.tar.gz").symlink_to(tmp_path / "nowhere.tar.gz")  # dangling
    os.mkfifo(registry / "tidy-7.0.tar.gz")
    add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy>=1" = {{index = "{registry}"}}')
    doit(consumer, "pull")
    assert 'version = "1.0"' in (consumer / "micropkg.lock").read_text()
    assert not (consumer / "src/consumer/tidy/evil.py").exists()
    shutil.rmtree(registry)
