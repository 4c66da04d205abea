"""package -> publish -> pull by name, against real registries started here on 127.0.0.1:
moto's S3 server (a bucket as a registry), pypiserver (a package index; twine uploads to it),
and pip installing a published wheel into a fresh virtual environment."""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import add_manifest, clean_env, doit, make_tar, sdist_entries, snapshot
from servers import s3_server

from micropkg_tasks.config import manifest
from micropkg_tasks.errors import ManifestError

SDIST = "dist/cleaning-0.3.1.tar.gz"
WHEEL = "dist/cleaning-0.3.1-py2.py3-none-any.whl"
TWINE = {"TWINE_USERNAME": "team", "TWINE_PASSWORD": "s3cret"}  # how twine reads credentials from the environment


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def pypiserver(root: Path, password: bool = False):
    """A real pypiserver over ``root``, no fallback to PyPI; uploads need the TWINE credentials
    (an htpasswd file) with ``password``, else none: yields its URL."""
    root.mkdir(parents=True, exist_ok=True)
    auth = ["-a", ".", "-P", "."]
    if password:
        from passlib.apache import HtpasswdFile

        users = HtpasswdFile(str(root.parent / "htpasswd"), new=True)
        users.set_password(TWINE["TWINE_USERNAME"], TWINE["TWINE_PASSWORD"])
        users.save()
        auth = ["-a", "update", "-P", str(root.parent / "htpasswd")]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port),
                             *auth, "--disable-fallback", str(root)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{url}/simple/", timeout=1).close()
                break
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def s3():
    """moto's S3 server with a bucket ``micropkgs``: yields (endpoint, boto3 client)."""
    import boto3

    with s3_server() as endpoint:
        client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="micropkgs")
        yield endpoint, client


def s3_args(project: Path, endpoint: str) -> None:
    (project / "s3.yml").write_text(f"key: testing\nsecret: testing\nclient_kwargs:\n  endpoint_url: {endpoint}\n"
                                    "  region_name: us-east-1\n")


def objects(client, prefix: str) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket="micropkgs", Prefix=prefix).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket="micropkgs", Key=o["Key"])["Body"].read() for o in listed}


def set_version(acme: Path, version: str) -> None:
    init = acme / "src/acme/pipelines/cleaning/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.3.1"', f'__version__ = "{version}"'))


# -- publishing to a bucket -------------------------------------------------------------------

def test_publish_to_a_bucket_is_incremental_and_never_replaces_a_version(acme, s3):
    endpoint, client = s3
    s3_args(acme, endpoint)
    add_manifest(acme, '[tool.micropkg]\nwheel = true\npublish = {url = "s3://micropkgs/team/", fs-args = "s3.yml"}\n'
                       '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    listed = doit(acme, "list", "--all").stdout
    assert f"publish:pipelines.cleaning   upload {SDIST} + {WHEEL} -> s3://micropkgs/team/" in listed

    first = doit(acme, "publish").stdout
    assert f"published {SDIST} -> s3://micropkgs/team/cleaning-0.3.1.tar.gz" in first
    uploaded = objects(client, "team/")
    assert uploaded == {"team/cleaning-0.3.1.tar.gz": (acme / SDIST).read_bytes(),
                        "team/cleaning-0.3.1-py2.py3-none-any.whl": (acme / WHEEL).read_bytes()}

    assert "-- publish:pipelines.cleaning" in doit(acme, "publish").stdout  # doit: nothing changed
    doit(acme, "forget", "publish:pipelines.cleaning")
    again = doit(acme, "publish").stdout  # asked again: the bucket already holds these bytes
    assert f"{SDIST} is already at s3://micropkgs/team/cleaning-0.3.1.tar.gz with the same bytes" in again

    nodes = acme / "src/acme/pipelines/cleaning/nodes.py"
    nodes.write_text(nodes.read_text() + "\n# changed, but the version was not raised\n")
    refused = doit(acme, "publish", check=False)
    out = refused.stdout + refused.stderr
    assert refused.returncode == 1 and "Traceback" not in out
    line = next(line for line in out.splitlines() if "already published" in line)
    assert line.startswith("ERROR: publish 'pipelines.cleaning': cleaning-0.3.1.tar.gz (sha256 ")  # console.py's one ERROR line
    assert "versions are immutable, so nothing was uploaded: raise __version__" in line
    assert objects(client, "team/") == uploaded  # nothing changed remotely


def test_publish_to_a_local_folder_with_to(acme, tmp_path):
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    shared = tmp_path / "shared"
    assert "Nowhere to publish" in doit(acme, "publish").stdout
    out = doit(acme, "publish", f"--to={shared}").stdout
    assert f"published {SDIST} -> {shared}/cleaning-0.3.1.tar.gz" in out
    assert (shared / "cleaning-0.3.1.tar.gz").read_bytes() == (acme / SDIST).read_bytes()
    assert not list(shared.glob(".*"))  # no temporary file left beside it


# -- pulling by name from a bucket ------------------------------------------------------------

def test_pull_by_name_from_a_bucket_takes_the_newest_match_and_the_lock_reproduces_it(consumer, s3, tmp_path):
    endpoint, client = s3
    s3_args(consumer, endpoint)
    for version in ["0.9", "0.10", "1.0rc1"]:
        data = make_tar(tmp_path / f"tidy-{version}.tar.gz", sdist_entries("tidy", version)).read_bytes()
        client.put_object(Bucket="micropkgs", Key=f"shared/tidy-{version}.tar.gz", Body=data)
    add_manifest(consumer, '[tool.micropkg.pull]\n"tidy>=0.9" = {index = "s3://micropkgs/shared/", fs-args = "s3.yml"}')
    doit(consumer, "pull")
    init = consumer / "src/consumer/tidy/__init__.py"
    assert init.read_text() == '__version__ = "0.10"\n'  # 0.10 > 0.9; no pre-release unless asked
    lock = (consumer / "micropkg.lock").read_text()
    assert 'url = "s3://micropkgs/shared/tidy-0.10.tar.gz"' in lock
    assert f'sha256 = "{sha(tmp_path / "tidy-0.10.tar.gz")}"' in lock

    newer = make_tar(tmp_path / "tidy-0.11.tar.gz", sdist_entries("tidy", "0.11")).read_bytes()
    client.put_object(Bucket="micropkgs", Key="shared/tidy-0.11.tar.gz", Body=newer)
    init.unlink()
    doit(consumer, "pull")  # the lock's archive again, not the newer one
    assert init.read_text() == '__version__ = "0.10"\n'
    assert (consumer / "micropkg.lock").read_text() == lock

    other = make_tar(tmp_path / "other.tar.gz", sdist_entries("tidy", "0.10", files={"x.py": "x = 1\n"})).read_bytes()
    client.put_object(Bucket="micropkgs", Key="shared/tidy-0.10.tar.gz", Body=other)
    init.unlink()
    before = snapshot(consumer)
    replaced = doit(consumer, "pull", check=False)
    assert replaced.returncode == 1 and "the archive was replaced on the index, nothing was changed" in replaced.stdout
    assert snapshot(consumer) == before


# -- a package index: twine uploads, pull by name, pip installs the wheel -----------------------

def test_publish_to_an_index_with_twine_then_pull_by_name_and_pip_install_the_wheel(acme, consumer, tmp_path):
    with pypiserver(tmp_path / "index", password=True) as url:
        add_manifest(acme, f'[tool.micropkg]\nwheel = true\npublish = "{url}/"\n'
                           '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
        wrong = doit(acme, "publish", env=clean_env(TWINE_USERNAME="team", TWINE_PASSWORD="wrong"), check=False)
        assert wrong.returncode == 1 and f"twine upload to {url}/ failed: " in wrong.stdout
        assert not list((tmp_path / "index").iterdir())
        doit(acme, "publish", env=clean_env(**TWINE))
        published = {p.name: p.read_bytes() for p in (tmp_path / "index").iterdir()}
        assert published == {"cleaning-0.3.1.tar.gz": (acme / SDIST).read_bytes(),
                             "cleaning-0.3.1-py2.py3-none-any.whl": (acme / WHEEL).read_bytes()}
        set_version(acme, "0.4.0")
        doit(acme, "publish", env=clean_env(**TWINE))
        set_version(acme, "1.0.0")
        doit(acme, "publish", env=clean_env(**TWINE))

        set_version(acme, "0.4.0")  # 0.4.0 again, other bytes: refused, the index keeps its file
        (acme / "src/acme/pipelines/cleaning/nodes.py").write_text("# other bytes\n")
        kept = (tmp_path / "index" / "cleaning-0.4.0.tar.gz").read_bytes()
        refused = doit(acme, "publish", env=clean_env(**TWINE), check=False)
        assert refused.returncode == 1 and "already published at" in refused.stdout
        assert (tmp_path / "index" / "cleaning-0.4.0.tar.gz").read_bytes() == kept

        add_manifest(consumer, f'[tool.micropkg.pull]\n"cleaning>=0.3,<1" = {{index = "{url}/simple/"}}')
        doit(consumer, "pull")
        assert (consumer / "src/consumer/cleaning/nodes.py").is_file()
        assert (consumer / "tests/cleaning/test_nodes.py").is_file()
        lock = (consumer / "micropkg.lock").read_text()
        assert 'version = "0.4.0"' in lock and f'sha256 = "{hashlib.sha256(kept).hexdigest()}"' in lock
        assert f'url = "{url}/packages/cleaning-0.4.0.tar.gz"' in lock

        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--index-url", f"{url}/simple/",
                        "cleaning==0.3.1"], check=True, env=clean_env())
    shown = subprocess.run([str(python), "-c", "import importlib.metadata as m, importlib.util as u, pathlib; "
                            "p = pathlib.Path(u.find_spec('cleaning').origin).parent; "  # found, not imported (needs kedro)
                            "print(m.version('cleaning'), (p / 'config' / 'parameters_cleaning.yml').is_file())"],
                           capture_output=True, text=True, check=True).stdout
    assert shown.split() == ["0.3.1", "True"]


def test_an_index_named_on_the_entry_is_the_only_one_asked(consumer, tmp_path):
    """The same name on another index (pip's configured one) is never taken: no fallback."""
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    make_tar(ours / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
    make_tar(theirs / "tidy-9.0.tar.gz", sdist_entries("tidy", "9.0", files={"evil.py": "boom = 1\n"}))
    make_tar(theirs / "extra-1.0.tar.gz", sdist_entries("extra", "1.0"))
    with pypiserver(ours) as mine, pypiserver(theirs) as other:
        env = clean_env(PIP_INDEX_URL=f"{other}/simple/")
        add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy" = {{index = "{mine}/simple/"}}')
        doit(consumer, "pull", env=env)
        assert (consumer / "src/consumer/tidy/__init__.py").read_text() == '__version__ = "1.0"\n'
        assert not (consumer / "src/consumer/tidy/evil.py").exists()
        assert f'url = "{mine}/packages/tidy-1.0.tar.gz"' in (consumer / "micropkg.lock").read_text()

        text = (consumer / "pyproject.toml").read_text()
        (consumer / "pyproject.toml").write_text(text.replace("compile = false", f'compile = false\nindex = "{mine}/simple/"'))
        before = snapshot(consumer)
        missing = doit(consumer, "pull", "--source=extra", env=env, check=False)  # only on theirs
        assert missing.returncode == 1 and f"'extra' not found on the index {mine}/simple/" in missing.stdout
        assert snapshot(consumer) == before


# -- wheels -------------------------------------------------------------------------------------

def test_wheel_round_trip(acme, consumer, tmp_path):
    add_manifest(acme, '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    out = doit(acme, "package", "--wheel").stdout
    assert f"built {WHEEL} (in process)" in out
    wheel = (acme / WHEEL).read_bytes()
    names = zipfile.ZipFile(io.BytesIO(wheel)).namelist()
    assert "cleaning/config/parameters_cleaning.yml" in names and not any(n.startswith("tests/") for n in names)
    assert "-- package:pipelines.cleaning" in doit(acme, "package", "--wheel").stdout  # incremental

    for path in (acme / "src").rglob("*.py"):  # new times, a strict umask, another epoch
        os.utime(path, (1e9, 1e9))
    doit(acme, "forget")
    doit(acme, "package", "--wheel", env=clean_env(), check=True)
    assert (acme / WHEEL).read_bytes() == wheel
    doit(acme, "forget")
    subprocess.run(f"umask 077 && {sys.executable} -m doit package --wheel", shell=True, cwd=acme, check=True,
                   env=clean_env(), capture_output=True)
    assert (acme / WHEEL).read_bytes() == wheel
    doit(acme, "forget")
    sdist = (acme / SDIST).read_bytes()
    doit(acme, "package", "--wheel", env=clean_env(SOURCE_DATE_EPOCH="1700000000"))
    assert (acme / WHEEL).read_bytes() == wheel and (acme / SDIST).read_bytes() == sdist  # nor the environment

    pulled = doit(consumer, "pull", f"--source={acme / WHEEL}", "--alias=tidy").stdout
    assert "came as a wheel: code and parameters only, a wheel has no tests" in pulled
    assert (consumer / "conf/base/parameters_tidy.yml").is_file()
    assert "from consumer.tidy" in (consumer / "src/consumer/tidy/pipeline.py").read_text()
    assert not (consumer / "tests/tidy").exists()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


META = b"Metadata-Version: 2.1\nName: tidy\nVersion: 1.0\n"


@pytest.mark.parametrize("members,message", [
    ({"requests/__init__.py": b"", "urllib3/__init__.py": b"", "requests-2.0.dist-info/METADATA": META},
     "not a micro-package wheel (top level: requests, requests-2.0.dist-info, urllib3"),
    ({"tidy/__init__.py": b"", "tidy-1.0.data/scripts/x": b"", "tidy-1.0.dist-info/METADATA": META},
     "not a micro-package wheel"),
    ({"six.py": b"", "six-1.0.dist-info/METADATA": META}, "not a micro-package wheel"),
    ({"tidy/__init__.py": b"", "tidy/../../evil.py": b"", "tidy-1.0.dist-info/METADATA": META},
     "has a '..', '.' or empty path component"),
    ({"tidy/__init__.py": b"", "tidy-1.0.dist-info/WHEEL": b""}, "has no METADATA"),
])
def test_foreign_or_hostile_wheels_are_refused_by_name(consumer, tmp_path, members, message):
    wheel = _zip(tmp_path / "tidy-1.0-py3-none-any.whl", members)
    before = snapshot(consumer)
    proc = doit(consumer, "pull", f"--source={wheel}", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert f"pull '{wheel}': " in proc.stdout and message in proc.stdout
    assert snapshot(consumer) == before


def test_a_symlink_in_a_wheel_is_refused(consumer, tmp_path):
    wheel = tmp_path / "tidy-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("tidy/__init__.py", b"")
        zf.writestr("tidy-1.0.dist-info/METADATA", META)
        link = zipfile.ZipInfo("tidy/link.py")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, b"/etc/passwd")
    proc = doit(consumer, "pull", f"--source={wheel}", check=False)
    assert proc.returncode == 1 and "member 'tidy/link.py' is not a regular file" in proc.stdout


# -- the manifest -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,command,message", [
    ("publish = 3", "publish", "[tool.micropkg] publish must be a URL or folder"),
    ('publish = {url = "s3://b/", bogus = "x"}', "publish", "unknown option 'bogus'"),
    ('publish = {url = "s3://b/", repository = "pypi"}', "publish", "give either url"),
    ('publish = {url = "https://h/", fs-args = "a.yml"}', "publish", "fs-args applies to folders and buckets"),
    ('publish = {url = "s3://b/", simple = "https://h/simple/"}', "publish", "simple applies to a package index"),
    ('wheel = "yes"', "package", "[tool.micropkg] wheel must be true or false"),
    ('wheel = "yes"', "publish", "[tool.micropkg] wheel must be true or false"),
    ("index = 5", "pull", "[tool.micropkg] index: index must be a URL"),
])
def test_bad_project_options_are_one_line_and_exit_3(acme, text, command, message):
    add_manifest(acme, f"[tool.micropkg]\n{text}\n"
                 '[tool.micropkg.package]\n"pipelines.cleaning" = {}\n[tool.micropkg.pull]\n"tidy" = {}')
    if command == "publish" and "publish" not in text:
        (acme / "pyproject.toml").write_text((acme / "pyproject.toml").read_text().replace(
            "[tool.micropkg]\n", '[tool.micropkg]\npublish = "shared"\n', 1))
    before = snapshot(acme)
    proc = doit(acme, command, check=False)
    assert proc.returncode == 3 and message in proc.stderr, proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1
    assert snapshot(acme) == before


def test_index_on_a_pull_entry():
    spec = manifest.pull_spec("tidy>=1", index="s3://b/shared/")
    assert spec.index == "s3://b/shared/"
    with pytest.raises(ManifestError, match="this source is a path or URL already"):
        manifest.pull_spec("dist/tidy-1.0.tar.gz", index="s3://b/shared/")
    with pytest.raises(ManifestError, match="index must be a URL"):
        manifest.pull_spec("tidy", index="")
    default = {"index": "https://h/simple/", "pull": {"tidy": {}, "other": {"index": "s3://b/"}, "dist/x-1.0.tar.gz": {}}}
    assert [s.index for s in manifest.pull_specs(default)] == ["https://h/simple/", "s3://b/", None]


def test_doit_list_is_offline_and_cheap(acme):
    add_manifest(acme, '[tool.micropkg]\npublish = "https://10.255.255.1/upload/"\nwheel = true\n'
                       '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    start = time.monotonic()
    out = doit(acme, "list", "--all").stdout
    assert time.monotonic() - start < 5  # an unreachable host: never contacted
    assert f"publish:pipelines.cleaning   upload {SDIST} + {WHEEL} -> https://10.255.255.1/upload/" in out
    assert f"sdist of acme.pipelines.cleaning -> {SDIST} + {WHEEL}" in out


def test_without_an_importable_backend_the_wheel_is_built_in_an_isolated_environment(acme, tmp_path):
    """flit_core's metadata shown as 1.0 here (the sdist asks for >=3.4): build makes an isolated
    environment and installs the backend from the index, as `python -m build` does; same bytes."""
    add_manifest(acme, '[tool.micropkg]\nwheel = true\n[tool.micropkg.package]\n"pipelines.cleaning" = {}')
    doit(acme, "package")
    wheel = (acme / WHEEL).read_bytes()
    shadow = tmp_path / "shadow" / "flit_core-1.0.dist-info"
    shadow.mkdir(parents=True)
    (shadow / "METADATA").write_text("Metadata-Version: 2.1\nName: flit_core\nVersion: 1.0\n")
    doit(acme, "forget")
    env = clean_env(PYTHONPATH=os.pathsep.join([str(shadow.parent), os.environ.get("PYTHONPATH", "")]))
    out = doit(acme, "package", env=env, timeout=300).stdout
    assert f"built {WHEEL} (in an isolated environment)" in out
    assert (acme / WHEEL).read_bytes() == wheel


def test_publish_to_a_pypirc_repository_by_name(acme, tmp_path):
    """twine reads the URL and the credentials of a named repository from ~/.pypirc."""
    home = tmp_path / "home"
    home.mkdir()
    with pypiserver(tmp_path / "index", password=True) as url:
        (home / ".pypirc").write_text(f"[distutils]\nindex-servers = private\n\n[private]\nrepository = {url}/\n"
                                      f"username = {TWINE['TWINE_USERNAME']}\npassword = {TWINE['TWINE_PASSWORD']}\n")
        add_manifest(acme, '[tool.micropkg]\npublish = {repository = "private"}\n'
                           '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
        assert "-> .pypirc repository 'private'" in doit(acme, "list", "--all", env=clean_env(HOME=str(home))).stdout
        out = doit(acme, "publish", env=clean_env(HOME=str(home))).stdout
    assert f"published {SDIST} -> .pypirc repository 'private' (cleaning-0.3.1.tar.gz)" in out
    assert (tmp_path / "index" / "cleaning-0.3.1.tar.gz").read_bytes() == (acme / SDIST).read_bytes()


def test_a_locked_url_is_reused_only_on_the_index_the_entry_names():
    from micropkg_tasks.sources import locked_url

    bucket = manifest.pull_spec("tidy>=1", index="s3://b/shared/")
    assert locked_url(bucket, "s3://b/shared/tidy-1.0.tar.gz")
    assert not locked_url(bucket, "s3://b/other/tidy-1.0.tar.gz")
    served = manifest.pull_spec("tidy>=1", index="http://127.0.0.1:8080/simple/")
    assert locked_url(served, "http://127.0.0.1:8080/packages/tidy-1.0.tar.gz")
    assert not locked_url(served, "https://files.example.org/tidy-1.0.tar.gz")
    assert not locked_url(manifest.pull_spec("tidy>=1"), "https://pypi.org/packages/tidy-1.0.tar.gz")


def test_what_a_named_folder_offers_is_all_an_outdated_check_sees(consumer, monkeypatch):
    """sources.available: the named folder's files only, even when pip's index is set."""
    from micropkg_tasks import sources
    from micropkg_tasks.config.project import load_project

    shared = consumer / "shared"
    shared.mkdir()
    for version in ["1.0", "1.2"]:
        make_tar(shared / f"tidy-{version}.tar.gz", sdist_entries("tidy", version))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")  # would fail if asked
    files = sources.available(load_project(consumer), manifest.pull_spec("tidy>=1", index="shared"))
    assert [f.filename for f in files] == ["tidy-1.0.tar.gz", "tidy-1.2.tar.gz"]


def test_a_lock_url_with_control_characters_is_refused(consumer):
    from micropkg_tasks.config.project import load_project
    from micropkg_tasks.errors import LockError
    from micropkg_tasks.store.lock import parse_lock

    text = ('version = 1\n[[micropkg]]\nmodule = "tidy"\nsource = "tidy"\nsha256 = "' + "0" * 64 + '"\n'
            'name = "tidy"\nversion = "1.0"\nurl = "http://h/x\\u001b[2J.tar.gz"\n')
    with pytest.raises(LockError, match="url of 'tidy' has control characters"):
        parse_lock(text, load_project(consumer))
    assert parse_lock(text.replace("\\u001b[2J", ""), load_project(consumer))["tidy"].url == "http://h/x.tar.gz"


# -- what is uploaded is what packaging wrote ----------------------------------------------------

def _publish_to_folder(acme: Path, shared: Path, wheel: bool = False) -> None:
    add_manifest(acme, f'[tool.micropkg]\nwheel = {str(wheel).lower()}\npublish = "{shared}"\n'
                       '[tool.micropkg.package]\n"pipelines.cleaning" = {}\n"pipelines.scoring" = {}')


def test_publish_uploads_only_the_regular_file_packaging_wrote(acme, tmp_path):
    """A link, a FIFO, a truncated or rewritten sdist is never uploaded: one line, nothing sent."""
    shared = tmp_path / "shared"
    _publish_to_folder(acme, shared)
    doit(acme, "package")
    good = (acme / SDIST).read_bytes()
    private = tmp_path / "private.key"
    private.write_bytes(b"-----BEGIN PRIVATE KEY-----\n")

    def link(path):
        path.unlink()
        path.symlink_to(private)

    def rewrite(path):
        path.write_bytes(bytes(b ^ 0xFF for b in good[:64]) + good[64:])

    cases = [(link, "is a symbolic link, not the file doit package wrote"),
             (lambda path: (path.unlink(), os.mkfifo(path)), "is not a regular file"),
             (lambda path: path.write_bytes(b""), f"holds 0 bytes, not the {len(good)} doit package wrote"),
             (rewrite, "is not what doit package wrote (sha256 ")]
    for damage, message in cases:
        damage(acme / SDIST)
        # -s: publish:pipelines.cleaning alone, its package task not run first (it would repair dist/)
        proc = doit(acme, "-s", "publish:pipelines.cleaning", check=False, timeout=30)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1 and "Traceback" not in out, out
        line = next(line for line in out.splitlines() if message in line)
        assert line.startswith(f"ERROR: publish 'pipelines.cleaning': {SDIST} ") and "nothing was uploaded" in line
        assert not shared.exists() or not list(shared.iterdir())  # nothing uploaded, no temporary left
        (acme / SDIST).unlink()
        (acme / SDIST).write_bytes(good)  # but not what was recorded: a new inode and mtime, the same bytes

    link(acme / SDIST)
    out = doit(acme, "publish").stdout  # with its package task: the link is replaced by the sdist, then uploaded
    assert ".  package:pipelines.cleaning" in out and f"published {SDIST} -> {shared}/cleaning-0.3.1.tar.gz" in out
    assert (shared / "cleaning-0.3.1.tar.gz").read_bytes() == good
    assert private.read_bytes() == b"-----BEGIN PRIVATE KEY-----\n" and not (acme / SDIST).is_symlink()


def test_an_sdist_without_a_record_is_not_published(acme, tmp_path):
    shared = tmp_path / "shared"
    _publish_to_folder(acme, shared)
    doit(acme, "package")
    shutil.rmtree(acme / ".micropkg" / "outputs")
    proc = doit(acme, "-s", "publish:pipelines.cleaning", check=False)
    assert proc.returncode == 1 and f"{SDIST} has no record of what doit package wrote" in proc.stdout
    assert not shared.exists()
    out = doit(acme, "publish").stdout  # the package task sees its record gone and writes it again
    assert ".  package:pipelines.cleaning" in out and f"published {SDIST}" in out


def test_ad_hoc_packaging_works_with_publish_configured(acme, tmp_path):
    shared = tmp_path / "shared"
    add_manifest(acme, f'[tool.micropkg]\npublish = "{shared}"\n[tool.micropkg.package]\n"pipelines.cleaning" = {{}}')
    doit(acme, "package", "--micropkg", "pipelines.scoring")
    doit(acme, "package", "--micropkg", "pipelines.cleaning", "--alias", "tidy", "--destination", "out")
    assert sorted(p.name for p in (acme / "dist").iterdir()) == ["scoring-0.1.tar.gz"]
    assert (acme / "out/tidy-0.3.1.tar.gz").is_file()
    out = doit(acme, "publish").stdout  # the manifest's package task still runs first
    assert out.index(".  package:pipelines.cleaning") < out.index(".  publish:pipelines.cleaning")
    assert (shared / "cleaning-0.3.1.tar.gz").read_bytes() == (acme / SDIST).read_bytes()
    assert "-- package:pipelines.cleaning" in doit(acme, "publish:pipelines.cleaning").stdout


def test_a_file_the_registry_lost_is_published_again(acme, s3, tmp_path):
    endpoint, client = s3
    s3_args(acme, endpoint)
    shared = tmp_path / "shared"
    _publish_to_folder(acme, shared, wheel=True)
    doit(acme, "publish")
    (shared / "cleaning-0.3.1-py2.py3-none-any.whl").unlink()
    out = doit(acme, "publish").stdout
    assert f"published {WHEEL} -> {shared}/cleaning-0.3.1-py2.py3-none-any.whl" in out
    assert f"{SDIST} is already at {shared}/cleaning-0.3.1.tar.gz with the same bytes" in out
    assert "-- publish:pipelines.scoring" in out  # the other one: one listing, nothing read or sent
    assert (shared / "cleaning-0.3.1-py2.py3-none-any.whl").read_bytes() == (acme / WHEEL).read_bytes()

    text = (acme / "pyproject.toml").read_text()
    (acme / "pyproject.toml").write_text(text.replace(f'publish = "{shared}"',
                                                      'publish = {url = "s3://micropkgs/lost/", fs-args = "s3.yml"}'))
    doit(acme, "publish")
    client.delete_object(Bucket="micropkgs", Key="lost/scoring-0.1.tar.gz")
    out = doit(acme, "publish").stdout
    assert "published dist/scoring-0.1.tar.gz -> s3://micropkgs/lost/scoring-0.1.tar.gz" in out
    assert "-- publish:pipelines.cleaning" in out
    assert objects(client, "lost/")["lost/scoring-0.1.tar.gz"] == (acme / "dist/scoring-0.1.tar.gz").read_bytes()


def test_a_file_an_index_lost_is_published_again(acme, tmp_path):
    env = clean_env(**TWINE)
    with pypiserver(tmp_path / "index", password=True) as url:
        add_manifest(acme, f'[tool.micropkg]\npublish = "{url}/"\n[tool.micropkg.package]\n"pipelines.cleaning" = {{}}')
        doit(acme, "publish", env=env)
        assert "-- publish:pipelines.cleaning" in doit(acme, "publish", env=env).stdout
        (tmp_path / "index" / "cleaning-0.3.1.tar.gz").unlink()
        out = doit(acme, "publish", env=env).stdout
    assert f"published {SDIST} -> {url}/ (cleaning-0.3.1.tar.gz)" in out
    assert (tmp_path / "index" / "cleaning-0.3.1.tar.gz").read_bytes() == (acme / SDIST).read_bytes()


def test_a_killed_publish_leaves_no_temporary_in_the_folder_after_the_next_one(acme, tmp_path):
    """What a publish killed while writing leaves (its hidden temporary, unlocked once the process
    died) is removed by the next publish there; a live writer's, a fresh one and other names stay."""
    shared = tmp_path / "shared"
    shared.mkdir()
    _publish_to_folder(acme, shared)
    an_hour_ago = time.time() - 3600
    left = shared / ".cleaning-0.3.1.tar.gz.k1ll3d_x.tmp"  # tempfile.mkstemp's name, as a killed run left it
    left.write_bytes(b"\0" * 4096)
    live = shared / ".scoring-0.1.tar.gz.l1vewr1t.tmp"
    live.write_bytes(b"being written")
    fresh = shared / ".scoring-0.1.tar.gz.fr3shnow.tmp"
    fresh.write_bytes(b"just started")
    unrelated = [shared / ".notes.tmp", shared / ".index.html.abcd1234.tmp"]  # not ours: never touched
    for path in unrelated:
        path.write_text("mine")
    for path in [left, live, *unrelated]:
        os.utime(path, (an_hour_ago, an_hour_ago))
    hold = ("import fcntl, sys, time; f = open(sys.argv[1], 'rb'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(live)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        doit(acme, "publish")
        assert not left.exists()
        assert live.read_bytes() == b"being written" and fresh.read_bytes() == b"just started"
        assert all(path.read_text() == "mine" for path in unrelated)
    finally:
        holder.kill()
        holder.wait()
    assert (shared / "cleaning-0.3.1.tar.gz").read_bytes() == (acme / SDIST).read_bytes()


def test_an_unchanged_micro_package_republishes_under_another_source_date_epoch(acme, tmp_path):
    """Bytes ignore SOURCE_DATE_EPOCH: a rebuild elsewhere (CI sets it) is the published version."""
    shared = tmp_path / "shared"
    _publish_to_folder(acme, shared, wheel=True)
    doit(acme, "publish")
    doit(acme, "forget", "--all")
    (acme / SDIST).unlink()
    (acme / WHEEL).unlink()
    proc = doit(acme, "publish", env=clean_env(SOURCE_DATE_EPOCH="1700000000"))
    assert f"{SDIST} is already at {shared}/cleaning-0.3.1.tar.gz with the same bytes" in proc.stdout
    assert f"{WHEEL} is already at {shared}/cleaning-0.3.1-py2.py3-none-any.whl with the same bytes" in proc.stdout
