"""Real servers on 127.0.0.1 for the pull tests: static HTTP (recording headers), a PyPI-like
simple index (PEP 691 JSON and PEP 503 HTML by content negotiation), and moto's S3 server."""
from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import socketserver
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    required: dict[str, str] = {}
    seen: list[dict[str, str]]

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        for key, value in self.required.items():
            if self.headers.get(key) != value:
                self.send_error(401, "missing credentials")
                return
        super().do_GET()


@contextlib.contextmanager
def serving(server: socketserver.ThreadingTCPServer):
    """Run ``server`` (bound to 127.0.0.1) in a thread; yields its base URL; always stops it."""
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def http_server(directory: Path, required_headers: dict[str, str] | None = None):
    """Serve ``directory``; yields (base URL, list of request header dicts)."""
    seen: list[dict[str, str]] = []
    handler = type("H", (_Handler,), {"required": required_headers or {}, "seen": seen})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))) as url:
        yield url, seen


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _IndexHandler(SimpleHTTPRequestHandler):
    files_dir: Path
    yanked: set
    auth: str | None = None
    seen: list
    query: str = ""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append((self.requestline, dict(self.headers)))
        if self.auth is not None and self.headers.get("Authorization") != self.auth:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="index"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        match = re.fullmatch(r"/simple/([^/]+)/", self.path)
        if not match:
            return super().do_GET()
        project = match.group(1)
        files = [f for f in sorted(self.files_dir.iterdir())
                 if _normalise(re.split(r"-\d", f.name, maxsplit=1)[0]) == project]
        if not files:
            return self.send_error(404)
        entries = [{"filename": f.name, "url": f"../../files/{f.name}{self.query}",
                    "hashes": {"sha256": hashlib.sha256(f.read_bytes()).hexdigest()},
                    "yanked": f.name in self.yanked} for f in files]
        if "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", ""):
            body = json.dumps({"meta": {"api-version": "1.0"}, "name": project, "files": entries}).encode()
            ctype = "application/vnd.pypi.simple.v1+json"
        else:
            links = "".join(
                f'<a href="{html.escape(e["url"])}#sha256={e["hashes"]["sha256"]}"'
                f'{" data-yanked" if e["yanked"] else ""}>{html.escape(e["filename"])}</a>\n' for e in entries)
            body = f"<!DOCTYPE html><html><body>{links}</body></html>".encode()
            ctype = "text/html"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def index_server(root: Path, yanked: set | None = None, auth: tuple[str, str] | None = None,
                 seen: list | None = None, query: str = ""):
    """A PyPI-like index over ``root/files``: yields the ``.../simple`` URL. With ``auth`` (user,
    password), every page and file needs that Basic Authorization header (else 401); ``seen``
    collects (request line, headers) of every request; ``query`` is added to every file URL."""
    import base64

    header = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode() if auth else None
    handler = type("I", (_IndexHandler,), {"files_dir": root / "files", "yanked": yanked or set(), "auth": header,
                                           "seen": seen if seen is not None else [], "query": query})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))) as url:
        yield f"{url}/simple"


@contextlib.contextmanager
def s3_server():
    """moto's S3 in server mode (s3fs talks to it over HTTP with aiobotocore): yields the endpoint."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its buckets in this process, across servers: start every server empty
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    try:
        yield endpoint
    finally:
        server.stop()
