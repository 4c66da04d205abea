"""Credentials in URLs: the one rule for showing them (never) and for sending them (as pip and
twine do: an ``Authorization`` header, never in the request line).

A private index is usually configured with its token in the URL's user-info
(``https://__token__:<token>@host/simple/``), or with no user-info and a ``.netrc`` entry for its
host. ``split_auth`` turns either into a URL without user-info and a Basic ``Authorization``
header; files on the index's host get the index's header (``auth_for``), no other host ever
does. ``redact`` hides user-info and secret-looking query parameters in any text shown: every
message, task doc, warning and log line passes through it, and ``lock_safe`` is what a lock may
record of a URL.

Bottom layer: the standard library and ``errors`` only.
"""
from __future__ import annotations

import base64
import os
import re
import urllib.parse

HIDDEN = "***"

# scheme://user-info@ : the user-info ends at the last '@' before the path, query or fragment (a
# control character in it, raw or escaped, does not end it: a hostile URL hides nothing that way)
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^/?#\s\"'<>]*(?:[\x00-\x1f\x7f][^/?#\s\"'<>]*)*)@")
# user:password@host without a scheme (the netloc a library names in its error: urllib's
# "nonnumeric port: 'user:pass@host'")
_BARE = re.compile(r"(?<![\w/:@.%~+-])[\w.%~+-]+:[^\s/?#@\"'<>]+@(?=[\w.-])")
# scheme://authority… : a URL cut short (one_line, a capped repr) before its user-info ended
_CUT = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s\"'<>@]+…")
# a query (or fragment) parameter whose name looks like a secret, and its value
_SECRET_NAME = r"[\w.-]*(?:token|key|secret|passw(?:or)?d|pwd|sig|signature|credential|auth|session)[\w.-]*"
_SECRET_QUERY = re.compile(rf"(?P<lead>[?&;#](?P<name>{_SECRET_NAME})=)(?P<value>[^&;#\s\"'<>]*)", re.IGNORECASE)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` (a URL or a whole message) safe to show: user-info of every URL becomes ``***``,
    the value of every secret-looking query parameter (``token``, ``api_key``,
    ``X-Amz-Signature``...) becomes ``***``, and each of ``secrets`` (a password known to be in
    use, in any spelling of it we sent) is replaced wherever it appears."""
    shown = _USERINFO.sub(lambda m: f"{m['scheme']}{HIDDEN}@", text)
    shown = _CUT.sub(lambda m: f"{m['scheme']}{HIDDEN}…", shown)
    shown = _BARE.sub(f"{HIDDEN}@", shown)
    shown = _SECRET_QUERY.sub(lambda m: f"{m['lead']}{HIDDEN}" if m["value"] else m[0], shown)
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        for spelling in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            shown = shown.replace(spelling, HIDDEN)
    return shown


_AUTHORITY = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<netloc>[^/?#]*)(?P<rest>.*)$", re.DOTALL)


def _userinfo(url: str) -> tuple[str, str | None]:
    """(``url`` without user-info, the user-info or None), by spelling alone: never raises,
    whatever the URL (urllib refuses some that a message may still hold)."""
    match = _AUTHORITY.match(url)
    if not match or "@" not in match["netloc"]:
        return url, None
    info, _, host = match["netloc"].rpartition("@")
    return f"{match['scheme']}{host}{match['rest']}", info


def strip_userinfo(url: str) -> str:
    """``url`` without its user-info (``https://tok@host/x`` -> ``https://host/x``)."""
    return _userinfo(url)[0]


def lock_safe(url: str) -> str:
    """What a lock (a committed file) may record of ``url``: no user-info, and ``***`` for the
    value of any secret-looking query parameter (a signed file URL is fetched anew from its index).
    Anything but a URL (a path, a requirement) is kept as it is."""
    if "://" not in url:
        return url
    return redact(strip_userinfo(url))


def has_hidden_query(url: str) -> bool:
    """Whether ``lock_safe`` hid a query parameter of ``url``: it can no longer be fetched as is."""
    return any(m["value"] == HIDDEN for m in _SECRET_QUERY.finditer(url))


def origin(url: str) -> tuple[str, int | None]:
    """(host, port) of an http(s) URL, the default port made explicit: what credentials are tied to."""
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "", None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return (host or "").lower(), port or default


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _userinfo_auth(url: str) -> str | None:
    info = _userinfo(url)[1]
    if info is None:
        return None
    user, _, password = info.partition(":")  # a user name alone is a token with an empty password, as pip sends it
    return _basic(urllib.parse.unquote(user), urllib.parse.unquote(password))


def netrc_auth(url: str) -> str | None:
    """The Basic header ``.netrc`` (``$NETRC``, else ``~/.netrc``) holds for ``url``'s host, as
    pip (through requests) reads it; an unreadable or malformed file gives none."""
    import netrc

    host = origin(url)[0]
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if not host or not os.path.isfile(path):
        return None
    try:
        found = netrc.netrc(path).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if not found:
        return None
    login, account, password = found
    return _basic(login or account or "", password or "")


def split_auth(url: str) -> tuple[str, str | None]:
    """(``url`` without user-info, the ``Authorization`` header for it or None): from the
    user-info, percent-decoded, else from ``.netrc`` for its host."""
    header = _userinfo_auth(url)
    clean = strip_userinfo(url)
    return clean, header or netrc_auth(clean)


def auth_for(url: str, index: str | None = None) -> tuple[str, str | None]:
    """(``url`` without user-info, its ``Authorization`` header or None) for a request to ``url``
    on behalf of ``index``: its own user-info first, then the index's credentials when ``url``
    lies on the index's host (pip sends them to that host only), then ``.netrc``."""
    header = _userinfo_auth(url)
    clean = strip_userinfo(url)
    if header is None and index and origin(clean) == origin(index):
        header = split_auth(index)[1]
    return clean, header or netrc_auth(clean)
