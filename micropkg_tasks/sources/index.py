"""A PyPI-like simple index client: PEP 691 JSON or PEP 503 HTML, by content negotiation.
Every answer is checked: a malformed page is one line naming the index, never a traceback."""
from __future__ import annotations

import functools
import http.client
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..credentials import auth_for, origin, redact
from ..errors import SourceError, one_line
from ..rules import has_control, url_scheme
from .choose import IndexFile, parse_requirement, pick_sdist
from .download import Deadline, Fetched, copy_stream

ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
MAX_PAGE = 32 << 20


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            a = dict(attrs)
            if a.get("href"):
                self.links.append(a)


def _safe_url(url: str, index: str) -> str:
    # a page served over http(s) may point at http(s) only: a file:// link would make the pull read
    # this machine's own disk (a FIFO there hung it); only a local (file://) index lists local files
    allowed = ("http", "https") if url_scheme(index) in ("http", "https") else ("http", "https", "file")
    if has_control(url) or url_scheme(url) not in allowed:
        raise SourceError(f"index {redact(index)} lists a file at an unusable URL {redact(url)[:80]!r}")
    return url


class _Watched:
    """A connection whose socket the deadline cuts when time is up."""

    sock: Any

    def __init__(self, deadline: Deadline, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._deadline.watch(self.sock)


class _WatchedHTTP(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, http.client.HTTPSConnection):
    pass


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WatchedHTTP, self.deadline), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline) -> None:
        self.context = ssl.create_default_context()
        super().__init__(context=self.context)
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(functools.partial(_WatchedHTTPS, self.deadline), req, context=self.context)


class _Redirect(urllib.request.HTTPRedirectHandler):
    """A redirect keeps the credentials only while it stays on their host (as requests does)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.unredirected_hdrs.get("Authorization")
        if new is not None and auth and origin(new.full_url) == origin(req.full_url):
            new.add_unredirected_header("Authorization", auth)
        return new


def _open(url: str, deadline: Deadline, accept: str | None = None, index: str | None = None) -> Any:
    """GET ``url`` with every socket read bound by ``deadline`` (headers included). Credentials
    (its user-info, the index's for its host, ``.netrc``) go in an Authorization header that
    never follows a redirect to another host; the request line never holds them."""
    headers = {"User-Agent": "micropkg-tasks"}
    if accept:
        headers["Accept"] = accept
    target, auth = auth_for(url, index)
    request = urllib.request.Request(target, headers=headers)
    if auth:
        request.add_unredirected_header("Authorization", auth)
    opener = urllib.request.build_opener(_HTTP(deadline), _HTTPS(deadline), _Redirect())
    return opener.open(request, timeout=deadline.socket_timeout())


def _failure(exc: BaseException, deadline: Deadline, what: str) -> str:
    """Why a request failed, in words: the deadline first (it cuts the socket), then the cause."""
    if deadline.expired():
        return f"{what}: no complete answer within {deadline.seconds:g} s; giving up"
    reason = getattr(exc, "reason", None) or exc
    return redact(f"{what}: {type(exc).__name__}: {reason}" if not str(reason).strip() else f"{what}: {reason}")


def parse_page(body: bytes, ctype: str, final: str, index: str) -> list[IndexFile]:
    """The files of one project page; anything malformed is a SourceError naming the index."""
    files = []
    if "json" in ctype:
        try:
            data = json.loads(body)
            entries = data["files"] if isinstance(data, dict) else None
            if not isinstance(entries, list):
                raise ValueError("no 'files' list")
            for f in entries:
                if not isinstance(f, dict) or not isinstance(f.get("filename"), str) or not isinstance(f.get("url"), str):
                    raise ValueError("a file entry without 'filename' or 'url'")
                hashes = f.get("hashes")
                sha = hashes.get("sha256") if isinstance(hashes, dict) else None
                files.append(IndexFile(f["filename"], _safe_url(urllib.parse.urljoin(final, f["url"]), index),
                                       sha if isinstance(sha, str) else None, bool(f.get("yanked"))))
        except RecursionError:  # nested hundreds of thousands deep
            raise SourceError(f"index {index} gave a malformed JSON page (nested too deep)") from None
        except (ValueError, TypeError) as exc:
            raise SourceError(f"index {index} gave a malformed JSON page ({exc})") from None
        return files
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    for link in parser.links:
        href = urllib.parse.urljoin(final, link["href"] or "")
        base, _, fragment = href.partition("#")
        sha = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        filename = urllib.parse.unquote(base.rsplit("/", 1)[-1])
        files.append(IndexFile(filename, _safe_url(base, index), sha, "data-yanked" in link))
    return files


def index_files(project_name: str, index: str, deadline: Deadline | None = None,
                accept: str = ACCEPT, missing_ok: bool = False) -> list[IndexFile]:
    """The files of one project on the index (``accept`` chooses the API flavour); a project
    the index does not know is an error, or no files with ``missing_ok``."""
    from packaging.utils import canonicalize_name

    deadline = deadline or Deadline()
    url = f"{index.rstrip('/')}/{canonicalize_name(project_name)}/"
    shown = redact(index)
    try:
        with _open(url, deadline, accept) as resp:
            body = deadline.read_all(resp, MAX_PAGE, f"index {shown}")
            ctype, final = resp.headers.get("Content-Type", ""), resp.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code == 404 and missing_ok:
            return []
        if exc.code == 404:
            raise SourceError(f"{one_line(repr(project_name), 100)} not found on the index {shown}") from None
        raise SourceError(f"index {shown} answered {exc.code}{_refused(exc.code)} for "
                          f"{one_line(repr(project_name), 100)}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise SourceError(_failure(exc, deadline, f"cannot read the index {shown}")) from None
    return parse_page(body, ctype, final, shown)


def fetch_from_index(requirement_text: str, index: str, workdir: Path, deadline: Deadline | None = None,
                     label: str | None = None) -> Fetched:
    """The best sdist for a requirement on ``index``, copied into ``workdir``."""
    deadline = deadline or Deadline()
    label = label or f"pull {requirement_text!r}"
    requirement = parse_requirement(requirement_text)
    chosen = pick_sdist(requirement, index_files(requirement.name, index, deadline), label, f"the index {redact(index)}")
    return fetch_file(chosen.url, workdir, deadline, chosen.sha256, chosen.filename, index)


def fetch_file(url: str, workdir: Path, deadline: Deadline, sha256: str | None = None, what: str = "",
               index: str | None = None) -> Fetched:
    """One file of an index, copied into ``workdir`` (its digest checked when the index gave one);
    the index's credentials go with it when it lies on the index's host."""
    shown = redact(url)
    try:
        with _open(url, deadline, index=index) as resp:
            fetched = copy_stream(resp, workdir / "sdist.tar.gz", what or shown, deadline, sha256)
            return Fetched(fetched.path, fetched.sha256, url)
    except SourceError:
        raise
    except urllib.error.HTTPError as exc:
        raise SourceError(f"cannot download {shown}: the server answered {exc.code}{_refused(exc.code)}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise SourceError(_failure(exc, deadline, f"cannot download {shown}")) from None


def file_sha256(url: str, deadline: Deadline, index: str | None = None) -> str:
    """The sha256 of a file an index lists without a digest, read within ``deadline``."""
    import hashlib

    digest, shown = hashlib.sha256(), redact(url)
    try:
        with _open(url, deadline, index=index) as resp:
            for chunk in deadline.chunks(resp, shown):
                digest.update(chunk)
    except urllib.error.HTTPError as exc:
        raise SourceError(f"cannot download {shown}: the server answered {exc.code}{_refused(exc.code)}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        raise SourceError(_failure(exc, deadline, f"cannot download {shown}")) from None
    return digest.hexdigest()


def _refused(code: int) -> str:
    """What a 401/403 means here: the credentials (user-info, ``.netrc``) are missing or wrong."""
    return (" (credentials missing or refused: put them in the index URL's user-info, "
            "https://__token__:<token>@host/simple/, or in ~/.netrc)") if code in (401, 403) else ""
