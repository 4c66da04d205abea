"""Credentials: sent the way pip and twine send them (an Authorization header, from a URL's
user-info or ``.netrc``; never in the request line, never to another host), and never shown: not
in a message, a warning, a task doc or name, nor in ``micropkg.lock``. Real servers on 127.0.0.1:
an index that wants a token, pypiserver behind a password (twine, ``.pypirc``), a web folder
behind Basic auth, moto's S3 server."""
from __future__ import annotations

import base64
import urllib.parse

import pytest
from conftest import add_manifest, clean_env, doit, make_tar, sdist_entries, snapshot
from hypothesis import given
from hypothesis import strategies as st
from servers import http_server, index_server

from micropkg_tasks.credentials import auth_for, lock_safe, redact, split_auth

TOKEN = "pypi-AgEIcHlwaS5vcmcCJGQ4ZjM5"  # what a private index's token looks like
WRONG = "pypi-WrongTokenWrongToken0042"
PASSWORD = "Tr0ub4dor-and-3"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def with_token(index: str, token: str = TOKEN, user: str = "__token__") -> str:
    return index.replace("http://", f"http://{user}:{token}@", 1)


@pytest.fixture
def index_root(tmp_path):
    root = tmp_path / "index"
    (root / "files").mkdir(parents=True)
    for version in ["0.1", "0.2", "1.0"]:
        make_tar(root / "files" / f"tidy-{version}.tar.gz", sdist_entries("tidy", version))
    return root


def shown(proc) -> str:
    return proc.stdout + proc.stderr


# -- the rule: redact and split_auth ----------------------------------------------------------

def test_redact_hides_user_info_and_secret_looking_query_parameters():
    assert redact(f"index http://__token__:{TOKEN}@h:8/simple/ answered 401") == "index http://***@h:8/simple/ answered 401"
    assert redact(f"https://{TOKEN}@pypi.fury.io/team/") == "https://***@pypi.fury.io/team/"
    assert redact("https://u:p@ss@h/x") == "https://***@h/x"  # an unencoded '@': the last one ends it
    signed = "https://b.s3.amazonaws.com/x.tar.gz?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123&v=2"
    assert redact(signed) == "https://b.s3.amazonaws.com/x.tar.gz?X-Amz-Credential=***&X-Amz-Signature=***&v=2"
    assert redact("http://h/simple/?token=abc&api_key=def&page=2") == "http://h/simple/?token=***&api_key=***&page=2"
    assert redact("pull 'tidy>=1' from s3://micropkgs/team/") == "pull 'tidy>=1' from s3://micropkgs/team/"
    assert redact("twine said: password s3cret! was refused", ("s3cret!",)) == "twine said: password *** was refused"
    assert redact("s3cret%21 in a URL", ("s3cret!",)) == "*** in a URL"  # as it travels, percent-encoded


_SECRET = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"), min_size=8,
                  max_size=40)
_PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#@ \"'<>"),
                     max_size=12)


@given(secret=_SECRET, user=_PRINTABLE, host=st.sampled_from(["h", "127.0.0.1:8080", "pypi.example.org"]),
       scheme=st.sampled_from(["http", "https", "s3", "git+https"]),
       name=st.sampled_from(["token", "access_token", "api_key", "password", "secret", "sig", "X-Amz-Signature",
                             "X-Amz-Credential", "X-Amz-Security-Token", "private_token", "apiKey"]),
       before=st.text(max_size=20), after=st.text(max_size=20))
def test_a_secret_in_user_info_or_a_secret_looking_query_never_survives(secret, user, host, scheme, name, before,
                                                                          after):
    for url in (f"{scheme}://{user}:{secret}@{host}/simple/", f"{scheme}://{secret}@{host}/x.tar.gz",
                f"{scheme}://{host}/x.tar.gz?v=1&{name}={secret}", f"{scheme}://{host}/x?{name}={secret}#frag"):
        text = f"{before} {url} {after}"
        assert secret not in redact(text).replace(before, "").replace(after, "")
        assert secret not in lock_safe(url)
        assert redact(redact(text)) == redact(text)


@given(secret=st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), min_size=8, max_size=40),
       user=st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_"), max_size=12),
       host=st.sampled_from(["h", "pypi.example.org"]), cut=st.integers(min_value=10, max_value=120),
       control=st.sampled_from(["", "\n", "\x00", "\x1b"]))
def test_a_url_cut_short_or_holding_control_characters_keeps_no_part_of_its_secret(secret, user, host, cut, control):
    """Messages cap what they show (one_line, a repr) and escape control characters: whatever
    the cut, no four characters of the secret in user-info remain."""
    from micropkg_tasks.config.manifest import shown as manifest_shown
    from micropkg_tasks.errors import one_line

    url = f"https://{user}:{secret[:4]}{control}{secret[4:]}@{host}/simple/"
    for text in (one_line(f"index {url} answered 401", cut), manifest_shown(url), f"index {url} answered 401"):
        assert secret[:4] not in redact(text)


def test_split_auth_sends_user_info_as_a_basic_header_percent_decoded_as_pip_does(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    assert split_auth(f"https://__token__:{TOKEN}@h/simple/") == ("https://h/simple/", basic("__token__", TOKEN))
    assert split_auth("https://me%40corp:p%3Ass@h/simple/") == ("https://h/simple/", basic("me@corp", "p:ss"))
    assert split_auth(f"https://{TOKEN}@h/") == ("https://h/", basic(TOKEN, ""))  # a token alone
    assert split_auth("https://h/simple/") == ("https://h/simple/", None)


def test_netrc_gives_the_header_of_its_host_only(tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login __token__ password {TOKEN}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert split_auth("http://127.0.0.1:9/simple/") == ("http://127.0.0.1:9/simple/", basic("__token__", TOKEN))
    assert split_auth("http://localhost:9/simple/")[1] is None
    assert split_auth("http://u:p@127.0.0.1:9/")[1] == basic("u", "p")  # user-info first


def test_an_index_lends_its_credentials_to_its_own_host_only(tmp_path, monkeypatch):
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    index = f"https://__token__:{TOKEN}@pkgs.example.org/simple/"
    assert auth_for("https://pkgs.example.org/files/x.tar.gz", index)[1] == basic("__token__", TOKEN)
    assert auth_for("https://pkgs.example.org:443/files/x.tar.gz", index)[1] == basic("__token__", TOKEN)
    assert auth_for("https://cdn.example.org/files/x.tar.gz", index) == ("https://cdn.example.org/files/x.tar.gz", None)
    assert auth_for("https://pkgs.example.org:8443/x.tar.gz", index)[1] is None
    assert auth_for("http://pkgs.example.org/x.tar.gz", index)[1] is None  # port 80 is another origin


# -- a private index with token auth: pip's usual set-up --------------------------------------

def test_pull_by_name_with_a_token_in_pip_index_url(consumer, index_root):
    """PIP_INDEX_URL=http://__token__:<token>@host/simple/ works: the token goes in an
    Authorization header, to the page and to the file, never in the request line or the lock."""
    seen: list = []
    with index_server(index_root, auth=("__token__", TOKEN), seen=seen) as index:
        add_manifest(consumer, '[tool.micropkg.pull]\n"tidy<1" = {}')
        out = doit(consumer, "pull", env=clean_env(PIP_INDEX_URL=with_token(index))).stdout
    assert "pulled tidy 0.2 into consumer.tidy" in out and TOKEN not in out
    assert [line for line, _ in seen] == ["GET /simple/tidy/ HTTP/1.1", "GET /files/tidy-0.2.tar.gz HTTP/1.1"]
    assert all(headers["Authorization"] == basic("__token__", TOKEN) for _, headers in seen)
    lock = (consumer / "micropkg.lock").read_text()
    assert TOKEN not in lock and f'url = "{index.rsplit("/", 1)[0]}/files/tidy-0.2.tar.gz"' in lock


def test_a_refused_token_is_a_one_line_error_that_never_shows_it(consumer, index_root):
    with index_server(index_root, auth=("__token__", TOKEN)) as index:
        add_manifest(consumer, '[tool.micropkg.pull]\n"tidy<1" = {}')
        before = snapshot(consumer)
        proc = doit(consumer, "pull", env=clean_env(PIP_INDEX_URL=with_token(index, WRONG)), check=False)
        ad_hoc = doit(consumer, "pull", "--source=tidy==0.1", env=clean_env(PIP_INDEX_URL=with_token(index, WRONG)),
                      check=False)
    for run in (proc, ad_hoc):
        assert run.returncode == 1 and WRONG not in shown(run) and "Traceback" not in shown(run)
        assert f"index {index.replace('http://', 'http://***@')} answered 401" in shown(run)
        assert "credentials missing or refused" in shown(run)
    assert snapshot(consumer) == before


def test_outdated_warns_without_the_token_and_asks_with_it(consumer, index_root):
    with index_server(index_root, auth=("__token__", TOKEN)) as index:
        env = clean_env(PIP_INDEX_URL=with_token(index))
        doit(consumer, "pull", "--source=tidy==0.1", env=env)
        current = doit(consumer, "outdated", env=env)
        assert "tidy" in current.stdout and "1.0 (newer)" in current.stdout and not current.stderr
    gone = doit(consumer, "outdated", env=env)  # the index is down: a warning, exit 0
    assert "warning: consumer.tidy: newest version unknown: cannot read the index http://***@127.0.0.1:" in gone.stderr
    assert TOKEN not in shown(gone)
    as_json = doit(consumer, "-r", "zero", "outdated", "--json", env=env)
    assert TOKEN not in shown(as_json)


def test_netrc_authenticates_an_index_without_user_info(consumer, index_root, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1\n  login __token__\n  password {TOKEN}\n")
    netrc.chmod(0o600)
    with index_server(index_root, auth=("__token__", TOKEN)) as index:
        out = doit(consumer, "pull", "--source=tidy<1", env=clean_env(PIP_INDEX_URL=index, NETRC=str(netrc))).stdout
        refused = doit(consumer, "pull", "--source=tidy==0.1", env=clean_env(PIP_INDEX_URL=index,
                                                                              NETRC=str(tmp_path / "none")), check=False)
    assert "pulled tidy 0.2 into consumer.tidy" in out
    assert refused.returncode == 1 and "answered 401" in refused.stdout


def test_a_named_index_with_a_token_never_reaches_the_lock_and_the_lock_fetches_with_it(consumer, index_root):
    """The lock records the index and URL without the token; pulling again fetches the locked URL
    with the credentials of the index the manifest names."""
    seen: list = []
    with index_server(index_root, auth=("__token__", TOKEN), seen=seen) as index:
        add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy<1" = {{index = "{with_token(index)}/"}}')
        listed = doit(consumer, "list", "--all").stdout
        listed += doit(consumer, "info", "pull:tidy<1", check=False).stdout  # its configuration, as doit shows it
        doit(consumer, "pull")
        lock = (consumer / "micropkg.lock").read_text()
        assert TOKEN not in lock and f'index = "{index}/"' in lock
        seen.clear()
        doit(consumer, "forget")
        (consumer / "src/consumer/tidy/__init__.py").unlink()
        again = doit(consumer, "pull").stdout  # the lock's URL, with the index's token, restores the file
        status = doit(consumer, "status")
    assert TOKEN not in listed + again + shown(status)
    state = b"".join(p.read_bytes() for p in (consumer / ".micropkg").rglob("*") if p.is_file())
    assert TOKEN.encode() not in state  # doit's database keeps only a digest of a task's configuration
    assert [line for line, _ in seen] == ["GET /files/tidy-0.2.tar.gz HTTP/1.1"]
    assert seen[0][1]["Authorization"] == basic("__token__", TOKEN)
    assert (consumer / "src/consumer/tidy/__init__.py").is_file()


def test_credentials_never_go_to_another_host(tmp_path, index_root, monkeypatch):
    """An index page that lists a file on another host: the file is fetched without the token."""
    import json

    from micropkg_tasks.sources import index as index_api

    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    make_tar(elsewhere / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
    with http_server(elsewhere) as (other, other_seen):
        other = other.replace("127.0.0.1", "localhost")  # another host name for the same machine
        (index_root / "files").joinpath("tidy-1.0.tar.gz").unlink()
        real = index_api.parse_page

        def page(body, ctype, final, index):
            data = json.loads(body)
            data["files"].append({"filename": "tidy-1.0.tar.gz", "url": f"{other}/tidy-1.0.tar.gz"})
            return real(json.dumps(data).encode(), ctype, final, index)

        monkeypatch.setattr(index_api, "parse_page", page)
        with index_server(index_root, auth=("__token__", TOKEN)) as index:
            got = index_api.fetch_from_index("tidy", with_token(index), tmp_path)
    assert got.path.read_bytes() == (elsewhere / "tidy-1.0.tar.gz").read_bytes()
    assert other_seen and all("Authorization" not in headers for headers in other_seen)


# -- a web folder behind Basic auth, a signed S3 URL ------------------------------------------

def test_a_web_folder_url_with_user_info_is_never_shown(consumer, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    for version in ["1.0", "1.1"]:
        make_tar(served / f"tidy-{version}.tar.gz", sdist_entries("tidy", version))
    with http_server(served, {"Authorization": basic("reader", PASSWORD)}) as (url, _):
        source = f"{url.replace('http://', f'http://reader:{PASSWORD}@')}/tidy-1.0.tar.gz"
        add_manifest(consumer, f'[tool.micropkg.pull]\n"{source}" = {{}}')
        listed = doit(consumer, "list", "--all")
        pulled = doit(consumer, "pull")
        missing = doit(consumer, "pull", f"--source={source.replace('1.0', '9.9')}", check=False)
    gone = doit(consumer, "outdated")
    assert "pulled tidy 1.0" in pulled.stdout
    assert "pull:http://127.0.0.1:" in listed.stdout
    assert missing.returncode == 1 and "not found" in missing.stdout
    assert "warning: consumer.tidy: newest version unknown" in gone.stderr
    for proc in (listed, pulled, missing, gone):
        assert PASSWORD not in shown(proc)


def test_a_signed_s3_url_is_pulled_and_its_signature_never_shown(consumer):
    import boto3
    from botocore.config import Config
    from servers import s3_server

    with s3_server() as endpoint:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=Config(signature_version="s3v4"),
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        s3.create_bucket(Bucket="micropkgs")
        archive = make_tar(consumer.parent / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
        s3.upload_file(str(archive), "micropkgs", "team/tidy-1.0.tar.gz")
        signed = s3.generate_presigned_url("get_object", Params={"Bucket": "micropkgs", "Key": "team/tidy-1.0.tar.gz"})
        signature = urllib.parse.parse_qs(urllib.parse.urlsplit(signed).query)["X-Amz-Signature"][0]
        pulled = doit(consumer, "pull", f"--source={signed}")
        listed = doit(consumer, "list", "--all")
        s3.delete_object(Bucket="micropkgs", Key="team/tidy-1.0.tar.gz")
        missing = doit(consumer, "pull", f"--source={signed}", "--force", check=False)
    assert "pulled tidy 1.0" in pulled.stdout
    assert missing.returncode == 1 and "X-Amz-Signature=***" in missing.stdout
    for proc in (pulled, listed, missing):
        assert signature not in shown(proc)


# -- publishing: a password in the publish URL, a token in simple, .pypirc ---------------------

def test_doit_list_and_a_failed_publish_never_show_a_publish_password_or_a_simple_token(acme, index_root):
    from test_publish import SDIST

    with index_server(index_root, auth=("reader", TOKEN)) as simple:
        add_manifest(acme, f'[tool.micropkg]\npublish = {{url = "http://team:{PASSWORD}@127.0.0.1:9/", '
                           f'simple = "{with_token(simple, user="reader")}/"}}\n'
                           '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
        listed = doit(acme, "list", "--all")
        info = doit(acme, "info", "publish:pipelines.cleaning", check=False)
        failed = doit(acme, "publish", check=False)  # the simple index is read (with its token), twine's upload fails
    assert f"upload {SDIST} -> http://***@127.0.0.1:9/" in listed.stdout
    assert failed.returncode == 1 and "twine upload to http://***@127.0.0.1:9/ failed" in failed.stdout
    assert "config_changed" in info.stdout
    for proc in (listed, info, failed):
        assert PASSWORD not in shown(proc) and TOKEN not in shown(proc)


def test_publish_sends_a_publish_urls_user_info_to_twine_as_its_credentials(acme, tmp_path):
    from test_publish import SDIST, TWINE, pypiserver

    with pypiserver(tmp_path / "index", password=True) as url:
        user, password = TWINE["TWINE_USERNAME"], TWINE["TWINE_PASSWORD"]
        add_manifest(acme, f'[tool.micropkg]\npublish = "{url.replace("http://", f"http://{user}:{password}@")}/"\n'
                           '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
        out = doit(acme, "publish").stdout
    assert f"published {SDIST} -> http://***@127.0.0.1:" in out and password not in out
    assert (tmp_path / "index" / "cleaning-0.3.1.tar.gz").read_bytes() == (acme / SDIST).read_bytes()


def test_a_pypirc_publish_failure_never_shows_the_password(acme, tmp_path):
    """A refused .pypirc password, also written in the repository URL: twine prints that URL,
    and so did our message."""
    from test_publish import TWINE, pypiserver

    home = tmp_path / "home"
    home.mkdir()
    with pypiserver(tmp_path / "index", password=True) as url:
        repository = url.replace("http://", f"http://team:{PASSWORD}@")
        (home / ".pypirc").write_text(f"[distutils]\nindex-servers = private\n\n[private]\nrepository = {repository}/\n"
                                      f"username = {TWINE['TWINE_USERNAME']}\npassword = {PASSWORD}\n")
        add_manifest(acme, '[tool.micropkg]\npublish = {repository = "private"}\n'
                           '[tool.micropkg.package]\n"pipelines.cleaning" = {}')
        failed = doit(acme, "publish", env=clean_env(HOME=str(home)), check=False)
    assert failed.returncode == 1 and "twine upload to" in failed.stdout and "Traceback" not in shown(failed)
    assert PASSWORD not in shown(failed)
    assert not list((tmp_path / "index").glob("*.tar.gz"))


def test_twine_output_is_redacted_with_every_password_in_use(tmp_path, monkeypatch):
    """Whatever twine prints (a URL, a password it echoes), a known password never survives."""
    from micropkg_tasks.publish.index import known_secrets

    home = tmp_path / "home"
    home.mkdir()
    (home / ".pypirc").write_text(f"[private]\nrepository = http://h/\nusername = u\npassword = {PASSWORD}\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TWINE_PASSWORD", "env-Secret-99")
    secrets = known_secrets("http://u:url%2Fpass@h/")
    said = f"ERROR Invalid credentials u:{PASSWORD} env-Secret-99 url/pass url%2Fpass"
    assert redact(said, secrets) == "ERROR Invalid credentials u:*** *** *** ***"



def test_an_ad_hoc_url_with_user_info_is_recorded_without_it_and_pulls_again_as_a_no_op(consumer, tmp_path):
    """The lock is committed: a source typed with credentials on the command line is recorded
    without them, and the next pull of the same source still finds its install."""
    served = tmp_path / "served"
    served.mkdir()
    make_tar(served / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
    with http_server(served, {"Authorization": basic("reader", PASSWORD)}) as (url, _):
        source = f"--source={url.replace('http://', f'http://reader:{PASSWORD}@')}/tidy-1.0.tar.gz"
        doit(consumer, "pull", source)
        again = doit(consumer, "pull", source).stdout
    lock = (consumer / "micropkg.lock").read_text()
    assert PASSWORD not in lock and f'source = "{url}/tidy-1.0.tar.gz"' in lock
    assert "-- pull:http://127.0.0.1:" in again  # up to date: the lock's entry is this source's install


def test_the_kedro_plugins_pull_never_shows_the_token(consumer, index_root, tmp_path):
    """``kedro micropkg pull`` (micropkg_tasks/kedro_cli.py, its click command run here in a
    process of its own, without Kedro) runs the same tasks: a refused token is not shown."""
    import subprocess
    import sys

    plugin = ("import sys, types; from micropkg_tasks.kedro_cli import micropkg; "
              "micropkg(sys.argv[2:], obj=types.SimpleNamespace(project_path=sys.argv[1]))")

    def kedro_micropkg(*args: str, index: str):
        return subprocess.run([sys.executable, "-c", plugin, str(consumer), *args], capture_output=True, text=True,
                              env=clean_env(PIP_INDEX_URL=index, NETRC=str(tmp_path / "none")), timeout=120,
                              stdin=subprocess.DEVNULL)

    with index_server(index_root, auth=("__token__", TOKEN)) as index:
        refused = kedro_micropkg("pull", "tidy<1", "--verbose", index=with_token(index, WRONG))
        pulled = kedro_micropkg("pull", "tidy<1", index=with_token(index))
    assert refused.returncode == 1 and "answered 401" in refused.stdout and "Traceback" not in shown(refused)
    assert WRONG not in shown(refused)
    assert pulled.returncode == 0 and "pulled tidy 0.2" in pulled.stdout and TOKEN not in shown(pulled)


def test_a_signed_file_url_on_an_index_is_locked_without_its_signature_and_found_again(consumer, index_root):
    """An index that lists signed file URLs (``?X-Amz-Signature=…``): the lock hides the
    signature; pulling again from the lock finds the file anew on the index by its name."""
    seen: list = []
    with index_server(index_root, seen=seen, query="?X-Amz-Expires=60&X-Amz-Signature=SIGNED0123456789") as index:
        add_manifest(consumer, f'[tool.micropkg.pull]\n"tidy<1" = {{index = "{index}/"}}')
        first = doit(consumer, "pull")
        lock = (consumer / "micropkg.lock").read_text()
        assert "SIGNED0123456789" not in lock and "tidy-0.2.tar.gz?X-Amz-Expires=60&X-Amz-Signature=***" in lock
        seen.clear()
        doit(consumer, "forget")
        (consumer / "src/consumer/tidy/__init__.py").unlink()
        again = doit(consumer, "pull")
    assert [line for line, _ in seen] == ["GET /simple/tidy/ HTTP/1.1",
                                         "GET /files/tidy-0.2.tar.gz?X-Amz-Expires=60&X-Amz-Signature=SIGNED0123456789 "
                                         "HTTP/1.1"]
    assert (consumer / "src/consumer/tidy/__init__.py").is_file()
    assert "SIGNED0123456789" not in shown(first) + shown(again)


def test_credentials_follow_a_redirect_on_their_host_only(tmp_path, monkeypatch):
    """A redirect within the index's host keeps the Authorization header; one to another host
    (a CDN) drops it, as requests does."""
    import hashlib
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from servers import serving

    from micropkg_tasks.sources import index as index_api

    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    cdn_dir = tmp_path / "cdn"
    cdn_dir.mkdir()
    archive = make_tar(cdn_dir / "tidy-1.0.tar.gz", sdist_entries("tidy", "1.0"))
    seen: list = []

    class Index(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            if self.headers.get("Authorization") != basic("__token__", TOKEN):
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/old/tidy/":  # moved within the host
                self.send_response(301)
                self.send_header("Location", "/simple/tidy/")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path == "/simple/tidy/":
                body = json.dumps({"meta": {"api-version": "1.0"}, "name": "tidy", "files": [
                    {"filename": "tidy-1.0.tar.gz", "url": "/download/tidy-1.0.tar.gz",
                     "hashes": {"sha256": hashlib.sha256(archive.read_bytes()).hexdigest()}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:  # the file lives on a CDN
                self.send_response(302)
                self.send_header("Location", f"{cdn}/tidy-1.0.tar.gz")
                self.send_header("Content-Length", "0")
                self.end_headers()

    with http_server(cdn_dir) as (cdn, cdn_seen):
        cdn = cdn.replace("127.0.0.1", "localhost")  # another host name for the same machine
        with serving(ThreadingHTTPServer(("127.0.0.1", 0), Index)) as url:
            got = index_api.fetch_from_index("tidy", f"{with_token(url)}/old", tmp_path)
    assert got.path.read_bytes() == archive.read_bytes()
    assert [path for path, _ in seen] == ["/old/tidy/", "/simple/tidy/", "/download/tidy-1.0.tar.gz"]
    assert all(auth == basic("__token__", TOKEN) for _, auth in seen)
    assert cdn_seen and all("Authorization" not in headers for headers in cdn_seen)


def test_whatever_doit_reports_is_redacted_too():
    """doit's own report (a crashed task's traceback names what it was given) goes through the
    same rule as our messages."""
    import io

    from micropkg_tasks.tasks.console import Reporter

    out = io.StringIO()
    Reporter(out, {}).write(f"InvalidURL: nonnumeric port: '__token__:{TOKEN}@127.0.0.1:8080' in http://__token__:{TOKEN}@h/\n")
    assert TOKEN not in out.getvalue() and "http://***@h/" in out.getvalue()


@pytest.mark.parametrize("index", [
    f"http://__token__:{TOKEN}@[::1/simple/",  # urllib refuses it
    f"http://__token__:{TOKEN}\n@127.0.0.1:1/simple/",  # a control character in the user-info
    f"http://__token__:{TOKEN}@127.0.0.1:notaport/simple/",
    f"http://__token__:{TOKEN}@127.0.0.1:1/simple/?token={TOKEN}",
])
def test_a_hostile_credentialed_index_url_is_one_line_without_the_token(consumer, index):
    before = snapshot(consumer)
    proc = doit(consumer, "pull", "--source=tidy<1", env=clean_env(PIP_INDEX_URL=index), check=False)
    assert proc.returncode == 1 and "Traceback" not in shown(proc)
    assert [line for line in proc.stdout.splitlines() if line.startswith("ERROR")]
    assert TOKEN not in shown(proc) and TOKEN[:8] not in shown(proc)
    assert snapshot(consumer) == before
