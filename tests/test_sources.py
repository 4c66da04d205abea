"""Fetching sdists: local paths, fsspec URLs (a real HTTP server, moto's S3 server, memory://),
and a PyPI-like index, each started here on 127.0.0.1."""
import hashlib
import shutil

import pytest
from conftest import KEDRO_SDISTS, add_manifest, clean_env, doit, make_tar, sdist_entries, snapshot
from servers import http_server, index_server, s3_server

from micropkg_tasks import sources
from micropkg_tasks.config.manifest import pull_spec, source_kind
from micropkg_tasks.config.project import load_project
from micropkg_tasks.errors import ManifestError, SourceError
from micropkg_tasks.sources import index as index_api
from micropkg_tasks.sources import pipconf

CLEANING = KEDRO_SDISTS / "cleaning-0.3.1.tar.gz"
CLEANING_SHA = hashlib.sha256(CLEANING.read_bytes()).hexdigest()


def test_kind_of_source(tmp_path):
    assert source_kind("s3://b/x.tar.gz") == "url"
    assert source_kind("dist/x.tar.gz") == "path"
    assert source_kind("x.tgz") == "path"
    assert source_kind("cleaning>=0.3") == "index"
    assert source_kind("cleaning") == "index"


def test_https_pull_sends_fs_args_headers(consumer, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(CLEANING, served)
    (consumer / "http.yml").write_text("client_kwargs:\n  headers:\n    Authorization: token s3cret\n")
    with http_server(served, {"Authorization": "token s3cret"}) as (url, seen):
        add_manifest(consumer, f'[tool.micropkg.pull]\n"{url}/cleaning-0.3.1.tar.gz" = {{fs-args = "http.yml"}}')
        doit(consumer, "pull")
        assert any(h.get("Authorization") == "token s3cret" for h in seen)
    assert (consumer / "src/consumer/cleaning/nodes.py").is_file()


@pytest.mark.parametrize("spelling", ["absolute", "home"])
def test_fs_args_may_live_outside_the_project(consumer, tmp_path, spelling):
    """Credentials usually live outside the project: --fs-args takes an absolute path or ~/..."""
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(CLEANING, served)
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    creds = home / ".config" / "http.yml"
    creds.write_text("client_kwargs:\n  headers:\n    Authorization: token s3cret\n")
    given = str(creds) if spelling == "absolute" else "~/.config/http.yml"
    with http_server(served, {"Authorization": "token s3cret"}) as (url, seen):
        doit(consumer, "pull", f"--source={url}/cleaning-0.3.1.tar.gz", f"--fs-args={given}", env=clean_env(HOME=str(home)))
        assert any(h.get("Authorization") == "token s3cret" for h in seen)
    assert (consumer / "src/consumer/cleaning/nodes.py").is_file()


def test_https_pull_without_credentials_is_a_clean_error(consumer, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(CLEANING, served)
    with http_server(served, {"Authorization": "token s3cret"}) as (url, _):
        add_manifest(consumer, f'[tool.micropkg.pull]\n"{url}/cleaning-0.3.1.tar.gz" = {{}}')
        before = snapshot(consumer)
        proc = doit(consumer, "pull", check=False)
    assert proc.returncode != 0 and "cannot download" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(consumer) == before


def test_s3_pull_through_moto_server(consumer):
    import boto3

    with s3_server() as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="micropkgs")
        s3.upload_file(str(CLEANING), "micropkgs", "team/cleaning-0.3.1.tar.gz")
        (consumer / "s3.yml").write_text(
            f"key: testing\nsecret: testing\nclient_kwargs:\n  endpoint_url: {endpoint}\n  region_name: us-east-1\n")
        add_manifest(consumer, '[tool.micropkg.pull]\n"s3://micropkgs/team/cleaning-0.3.1.tar.gz" = '
                               '{fs_args = "s3.yml", alias = "tidy"}')
        doit(consumer, "pull")
        missing = doit(consumer, "pull", "--source=s3://micropkgs/nope.tar.gz", "--fs-args=s3.yml", check=False)
    assert (consumer / "src/consumer/tidy/pipeline.py").is_file()
    assert missing.returncode != 0 and "s3://micropkgs/nope.tar.gz not found" in missing.stdout


def test_memory_and_file_urls(consumer, tmp_path):
    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem

    project = load_project(consumer)
    try:
        with fsspec.open("memory://bucket/cleaning.tar.gz", "wb") as fh:
            fh.write(CLEANING.read_bytes())
        got = sources.fetch(project, pull_spec("memory://bucket/cleaning.tar.gz"), tmp_path)
        assert got.sha256 == CLEANING_SHA
    finally:
        MemoryFileSystem.store.clear()
        MemoryFileSystem.pseudo_dirs[:] = [""]
    got = sources.fetch(project, pull_spec(f"file://{CLEANING}"), tmp_path)
    assert got.sha256 == CLEANING_SHA


def test_protocol_without_its_extra_names_the_package(consumer, tmp_path):
    pytest.importorskip("fsspec")
    try:
        import gcsfs  # noqa: F401
        pytest.skip("gcsfs is installed")
    except ImportError:
        pass
    with pytest.raises(SourceError, match="gcsfs"):
        sources.fetch(load_project(consumer), pull_spec("gs://bucket/x.tar.gz"), tmp_path)
    with pytest.raises(SourceError, match="cannot open unknownproto://x"):
        sources.fetch(load_project(consumer), pull_spec("unknownproto://x.tar.gz"), tmp_path)


@pytest.mark.parametrize("content,message", [
    (None, "fs_args file args.yml not found"),
    ("- a\n- b\n", "must hold a mapping"),
    ("a: [\n", "is not valid YAML"),
])
def test_bad_fs_args(consumer, tmp_path, content, message):
    if content is not None:
        (consumer / "args.yml").write_text(content)
    with pytest.raises(ManifestError, match=message):
        sources.fetch(load_project(consumer), pull_spec("memory://x/y.tar.gz", fs_args="args.yml"), tmp_path)


def test_sha256_pin(consumer, tmp_path):
    project = load_project(consumer)
    ok = pull_spec(str(CLEANING), sha256=CLEANING_SHA)
    assert sources.fetch(project, ok, tmp_path).sha256 == CLEANING_SHA
    with pytest.raises(SourceError, match="the manifest pins"):
        sources.fetch(project, pull_spec(str(CLEANING), sha256="0" * 64), tmp_path)


def test_a_wheel_that_is_not_ours_is_refused_with_the_reason(consumer, tmp_path):
    """Wheels are fetched like sdists; only ours unpack (tests/test_publish.py has the cases)."""
    from micropkg_tasks.errors import ArchiveError
    from micropkg_tasks.store.tarball import extract_wheel

    (consumer / "tidy-1.0-py3-none-any.whl").write_bytes(b"PK")
    fetched = sources.fetch(load_project(consumer), pull_spec("tidy-1.0-py3-none-any.whl"), tmp_path)
    (tmp_path / "x").mkdir()
    with pytest.raises(ArchiveError, match="not a readable wheel"):
        extract_wheel(fetched.path, tmp_path / "x", "pull 'tidy-1.0-py3-none-any.whl'")


def test_missing_local_file(consumer, tmp_path):
    with pytest.raises(SourceError, match="not found"):
        sources.fetch(load_project(consumer), pull_spec("dist/nope-1.0.tar.gz"), tmp_path)


@pytest.fixture
def index_root(tmp_path):
    root = tmp_path / "index"
    (root / "files").mkdir(parents=True)
    for version in ["0.1", "0.2", "0.3b1", "1.0"]:
        make_tar(root / "files" / f"tidy-{version}.tar.gz", sdist_entries("tidy", version))
    (root / "files" / "tidy-2.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    (root / "files" / "wheelonly-1.0-py3-none-any.whl").write_bytes(b"w")
    return root


@pytest.mark.parametrize("requirement,version", [
    ("tidy", "1.0"), ("tidy<1", "0.2"), ("tidy==0.1", "0.1"), ("tidy>=0.3b1,<1", "0.3b1"), ("Tidy", "1.0"),
])
def test_index_picks_the_best_matching_sdist(index_root, tmp_path, requirement, version):
    with index_server(index_root) as index:
        got = index_api.fetch_from_index(requirement, index, tmp_path)
    expected = (index_root / "files" / f"tidy-{version}.tar.gz").read_bytes()
    assert got.path.read_bytes() == expected


def test_index_html_api_and_yanked_files(index_root, tmp_path, monkeypatch):
    with index_server(index_root, yanked={"tidy-1.0.tar.gz"}) as index:
        files = index_api.index_files("tidy", index)
        assert {f.filename for f in files if f.yanked} == {"tidy-1.0.tar.gz"}
        got = index_api.fetch_from_index("tidy", index, tmp_path)
        assert got.path.read_bytes() == (index_root / "files" / "tidy-0.2.tar.gz").read_bytes()
        # the HTML flavour of the same index gives the same answer
        assert index_api.index_files("tidy", index, accept="text/html") == files


@pytest.mark.parametrize("requirement,message", [
    ("wheelonly", "only wheels"), ("nothere", "not found on the index"), ("tidy>5", "no sdist matching"),
])
def test_index_errors(index_root, tmp_path, requirement, message):
    with index_server(index_root) as index:
        with pytest.raises(SourceError, match=message):
            index_api.fetch_from_index(requirement, index, tmp_path)


def test_index_digest_mismatch(index_root, tmp_path, monkeypatch):
    import dataclasses

    real = index_api.index_files
    monkeypatch.setattr(index_api, "index_files", lambda *a: [dataclasses.replace(f, sha256="0" * 64) for f in real(*a)])
    with index_server(index_root) as index:
        with pytest.raises(SourceError, match="does not match the index"):
            index_api.fetch_from_index("tidy", index, tmp_path)


def test_index_url_follows_pip_configuration(tmp_path, monkeypatch):
    assert pipconf.index_url() == pipconf.DEFAULT_INDEX  # PIP_CONFIG_FILE=/dev/null: none
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nindex-url = http://127.0.0.1:1/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    assert pipconf.index_url() == "http://127.0.0.1:1/simple"
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:2/simple")
    assert pipconf.index_url() == "http://127.0.0.1:2/simple"


def test_doit_pull_by_name_from_the_index(consumer, index_root):
    with index_server(index_root) as index:
        add_manifest(consumer, '[tool.micropkg.pull]\n"tidy<1" = {destination = "pipelines"}')
        out = doit(consumer, "pull", env=clean_env(PIP_INDEX_URL=index)).stdout
    assert "pulled tidy 0.2 into consumer.pipelines.tidy" in out
    assert (consumer / "src/consumer/pipelines/tidy/__init__.py").read_text() == '__version__ = "0.2"\n'
