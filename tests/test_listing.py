"""Listing the sdists beside a source: a local folder, a bucket (memory://, moto S3 in other
tests) and a web folder served on 127.0.0.1; PEP 440 order through the one version choice."""
import fsspec
import pytest
from conftest import make_tar, sdist_entries
from servers import http_server

from micropkg_tasks.errors import SourceError
from micropkg_tasks.sources.choose import parse_requirement, pick_sdist
from micropkg_tasks.sources.listing import archive_name, folder_files, folder_of


def _folder(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    for version in ["0.9", "0.10", "1.0rc1"]:
        make_tar(folder / f"tidy-{version}.tar.gz", sdist_entries("tidy", version))
    make_tar(folder / "other-5.0.tar.gz", sdist_entries("other", "5.0"))
    (folder / "notes.txt").write_text("x")
    (folder / "tidy-latest.tar.gz").write_text("not a version")
    return folder


def _newest(files, requirement="tidy"):
    return pick_sdist(parse_requirement(requirement), files, "test").filename


def test_archive_names():
    assert archive_name("Tidy_Kit-1.0.tar.gz") == ("tidy-kit", "1.0")
    assert archive_name("tidy-latest.tar.gz") is None and archive_name("tidy-1.0.whl") is None
    assert folder_of("s3://b/x/tidy-1.0.tar.gz") == "s3://b/x" and folder_of("tidy-1.0.tar.gz") == "."


def test_a_local_folder_in_pep440_order(tmp_path):
    _folder(tmp_path)
    files = folder_files("shared", tmp_path)
    assert [f.filename for f in files] == ["other-5.0.tar.gz", "tidy-0.10.tar.gz", "tidy-0.9.tar.gz", "tidy-1.0rc1.tar.gz"]
    assert _newest(files) == "tidy-0.10.tar.gz"  # 0.10 > 0.9, and no pre-release unless asked
    assert _newest(files, "tidy>=1.0rc1") == "tidy-1.0rc1.tar.gz"


def test_a_bucket_through_fsspec(tmp_path):
    folder = _folder(tmp_path)
    fs = fsspec.filesystem("memory")
    for path in folder.iterdir():
        fs.pipe(f"/bucket/shared/{path.name}", path.read_bytes())
    files = folder_files("memory://bucket/shared", tmp_path)
    assert _newest(files) == "tidy-0.10.tar.gz"
    assert next(f for f in files if f.filename == "tidy-0.10.tar.gz").url == "memory://bucket/shared/tidy-0.10.tar.gz"


def test_a_web_folder(tmp_path):
    folder = _folder(tmp_path)
    with http_server(folder) as (url, _):
        files = folder_files(f"{url}/", tmp_path)
    chosen = next(f for f in files if f.filename == _newest(files))
    assert chosen.filename == "tidy-0.10.tar.gz" and chosen.url.startswith("http://127.0.0.1:")


def test_an_unreadable_folder_is_one_line(tmp_path):
    with pytest.raises(SourceError, match="cannot list nope"):
        folder_files("nope", tmp_path)
