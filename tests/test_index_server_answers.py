"""Hostile index servers (issue #9): malformed pages, truncated answers, error codes and a
server that drips bytes. A scripted server on 127.0.0.1 plays each part to a real ``doit pull``;
every case is one line, no traceback, nothing changed, within ``[tool.micropkg] timeout``."""
import contextlib
import hashlib
import json
import socketserver
import time

import pytest
from conftest import add_manifest, clean_env, doit, make_tar, sdist_entries, snapshot
from servers import serving

TIMEOUT = 2  # seconds: [tool.micropkg] timeout in these projects
DRIP_EVERY = 0.5  # seconds between two dripped bytes
MAX_DRIP = 40  # bytes: every drip stops after this many (bounded loops), i.e. after 20 s


def _json_page(files):
    return 200, "application/vnd.pypi.simple.v1+json", json.dumps({"meta": {"api-version": "1.0"}, "files": files}).encode()


def _listing(name, url="../../files/{name}-1.0.tar.gz"):
    return _json_page([{"filename": f"{name}-1.0.tar.gz", "url": url.format(name=name)}])


class _Script(socketserver.StreamRequestHandler):
    """Reads one request and plays the part its path names (see ``PARTS``)."""

    sdist: bytes = b""

    def handle(self) -> None:
        request = self.rfile.readline().decode("latin-1")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        path = request.split(" ")[1] if " " in request else ""
        part = self.server.parts.get(path)  # type: ignore[attr-defined]
        if part is None:
            return self._send(404, "text/plain", b"not found")
        if callable(part):
            return part(self)
        self._send(*part)

    def _send(self, code, ctype, body, length=None):
        head = (f"HTTP/1.1 {code} X\r\nContent-Type: {ctype}\r\nContent-Length: {len(body) if length is None else length}"
                "\r\nConnection: close\r\n\r\n")
        self.wfile.write(head.encode() + body)

    def drip(self, data: bytes) -> None:
        for byte in data[:MAX_DRIP]:
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return  # the client gave up
            time.sleep(DRIP_EVERY)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def scripted_index(sdist: bytes):
    """A PyPI-like index whose projects misbehave, each in one way; yields its ``/simple`` URL."""
    good_sha = hashlib.sha256(sdist).hexdigest()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    parts = {
        "/simple/badjson/": (200, "application/vnd.pypi.simple.v1+json", b"{not json"),
        "/simple/alist/": (200, "application/vnd.pypi.simple.v1+json", b"[]"),
        "/simple/nofilename/": _json_page([{"url": "../../files/nofilename-1.0.tar.gz"}]),
        "/simple/control/": _listing("control", "../../files/{name}-1.0.tar.gz\u0001"),
        "/simple/truncpage/": lambda h: h._send(200, "application/vnd.pypi.simple.v1+json", b'{"files": [', 4000),
        "/simple/err500/": (500, "text/plain", b"boom"),
        "/simple/drippage/": lambda h: (h.wfile.write(head.replace(b"octet-stream", b"vnd.pypi.simple.v1+json")),
                                        h.drip(b'{"files": []}' + b" " * 100)),
        "/simple/driphead/": lambda h: h.drip(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + b"X-Pad: y\r\n" * 10),
        "/simple/truncfile/": _listing("truncfile"),
        "/files/truncfile-1.0.tar.gz": lambda h: h._send(200, "application/octet-stream", sdist[:100], len(sdist)),
        "/simple/missingfile/": _listing("missingfile"),
        "/simple/file500/": _listing("file500"),
        "/files/file500-1.0.tar.gz": (500, "text/plain", b"boom"),
        "/simple/dripfile/": _json_page([{"filename": "dripfile-1.0.tar.gz", "url": "../../files/dripfile-1.0.tar.gz",
                                          "hashes": {"sha256": good_sha}}]),
        "/files/dripfile-1.0.tar.gz": lambda h: (h.wfile.write(head), h.drip(sdist)),
        "/urls/drip.tar.gz": lambda h: (h.wfile.write(head.replace(b"Connection", b"Content-Length: %d\r\nConnection"
                                                                   % len(sdist))), h.drip(sdist)),
    }
    server = _Server(("127.0.0.1", 0), _Script)
    server.parts = parts  # type: ignore[attr-defined]
    with serving(server) as url:
        yield f"{url}/simple"


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    sdist = make_tar(tmp_path_factory.mktemp("sdist") / "x.tar.gz", sdist_entries("tidy", "1.0")).read_bytes()
    with scripted_index(sdist) as url:
        yield url


@pytest.fixture
def project(consumer):
    add_manifest(consumer, "")
    text = (consumer / "pyproject.toml").read_text().replace("compile = false", f"compile = false\ntimeout = {TIMEOUT}")
    (consumer / "pyproject.toml").write_text(text)
    return consumer


@pytest.mark.parametrize("name,message", [
    ("badjson", "gave a malformed JSON page"),
    ("alist", "gave a malformed JSON page (no 'files' list)"),
    ("nofilename", "gave a malformed JSON page (a file entry without 'filename' or 'url')"),
    ("control", "lists a file at an unusable URL"),
    ("truncpage", "the connection closed 3989 bytes before the end of the answer"),
    ("err500", "answered 500 for 'err500'"),
    ("nothere", "'nothere' not found on the index"),
    ("truncfile", "the connection closed"),
    ("missingfile", "missingfile-1.0.tar.gz: the server answered 404"),
    ("file500", "file500-1.0.tar.gz: the server answered 500"),
    ("drippage", f"no complete answer within {TIMEOUT} s; giving up"),
    ("driphead", f"no complete answer within {TIMEOUT} s; giving up"),
    ("dripfile", f"no complete answer within {TIMEOUT} s; giving up"),
])
def test_a_misbehaving_index_is_one_line_within_the_deadline(project, index, name, message):
    before = snapshot(project)
    start = time.monotonic()
    proc = doit(project, "pull", f"--source={name}", env=clean_env(PIP_INDEX_URL=index), check=False)
    took = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    errors = [line for line in proc.stdout.splitlines() if message in line]
    assert len(errors) == 1, out
    assert took < TIMEOUT + 8  # one overall deadline, however slowly the bytes come
    assert snapshot(project) == before


@pytest.mark.parametrize("value", ["0", "-1", '"fast"', "true", "nan", "inf", "[1]"])
def test_the_timeout_option_is_checked(project, value):
    text = (project / "pyproject.toml").read_text().replace(f"timeout = {TIMEOUT}", f"timeout = {value}")
    (project / "pyproject.toml").write_text(text)
    proc = doit(project, "pull", "--source=tidy", env=clean_env(PIP_INDEX_URL="http://127.0.0.1:9/simple"), check=False)
    assert proc.returncode == 3 and "[tool.micropkg] timeout must be a positive number of seconds" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_dripping_url_source_is_bounded_by_the_same_deadline(project, index):
    """An https?:// source goes through fsspec and aiohttp, not our index client: the same
    overall deadline applies."""
    before = snapshot(project)
    url = index.replace("/simple", "/urls/drip.tar.gz")
    start = time.monotonic()
    proc = doit(project, "pull", f"--source={url}", check=False)
    took = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in out, out
    assert f"no complete answer within {TIMEOUT} s; giving up" in proc.stdout, out
    assert took < TIMEOUT + 8
    assert snapshot(project) == before
