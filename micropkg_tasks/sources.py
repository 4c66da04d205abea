"""Where a pull's sdist comes from: a local path, any fsspec URL, or a requirement resolved on
a PyPI-like index (PEP 691 JSON or PEP 503 HTML). Always ends as a file in a temporary folder
with its sha256, never by running code from the archive."""
from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .errors import ManifestError, SourceError
from .fsutil import CHUNK
from .manifest import SDIST_SUFFIXES, PullSpec, source_kind
from .project import Project

MAX_ARCHIVE = 512 << 20
DEFAULT_INDEX = "https://pypi.org/simple"



@dataclass(frozen=True)
class Fetched:
    path: Path
    sha256: str


def load_fs_args(project: Project, spec: PullSpec) -> dict:
    if not spec.fs_args:
        return {}
    import yaml

    path = project.root / spec.fs_args
    where = f"pull {spec.source!r}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{where}: fs_args file {spec.fs_args} not found") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{where}: fs_args file {spec.fs_args} is not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ManifestError(f"{where}: fs_args file {spec.fs_args} must hold a mapping of storage options")
    return data


def fetch(project: Project, spec: PullSpec, workdir: Path) -> Fetched:
    """Copy the sdist named by ``spec`` into ``workdir``; check the pinned digest if any."""
    if spec.source.split("?", 1)[0].endswith(".whl"):
        raise SourceError(f"pull {spec.source!r}: a wheel holds no tests or parameters; pull needs the sdist (.tar.gz)")
    how = source_kind(spec.source, project.root)
    if how == "path":
        fetched = _fetch_path(project.root / spec.source, workdir)
    elif how == "url":
        fetched = _fetch_url(spec.source, load_fs_args(project, spec), workdir)
    else:
        fetched = fetch_from_index(spec.source, index_url(), workdir)
    if spec.sha256 and fetched.sha256 != spec.sha256:
        raise SourceError(f"pull {spec.source!r}: sha256 is {fetched.sha256}, the manifest pins {spec.sha256}")
    return fetched


def _copy_stream(src, dest: Path, what: str, expected: str | None = None) -> Fetched:
    digest, size = hashlib.sha256(), 0
    with dest.open("wb") as out:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            size += len(chunk)
            if size > MAX_ARCHIVE:
                raise SourceError(f"{what} is larger than {MAX_ARCHIVE >> 20} MiB; refusing it")
            digest.update(chunk)
            out.write(chunk)
    sha = digest.hexdigest()
    if expected and sha != expected:
        raise SourceError(f"{what}: sha256 {sha} does not match the index's {expected}")
    return Fetched(dest, sha)


def _fetch_path(path: Path, workdir: Path) -> Fetched:
    if not path.is_file():
        raise SourceError(f"sdist {path} not found")
    with path.open("rb") as fh:
        return _copy_stream(fh, workdir / "sdist.tar.gz", str(path))


def _fetch_url(url: str, storage_options: dict, workdir: Path) -> Fetched:
    import fsspec
    from fsspec.registry import known_implementations

    protocol = url.split("://", 1)[0]
    try:
        fs, path = fsspec.core.url_to_fs(url, **storage_options)
    except ImportError:
        hint = known_implementations.get(protocol, {}).get("err", "")
        raise SourceError(f"{protocol}:// needs an extra package: {hint or 'see the fsspec documentation'}".strip()) from None
    except ValueError as exc:
        raise SourceError(f"cannot open {url}: {exc}") from None
    except TypeError as exc:
        raise SourceError(f"cannot open {url}: bad fs_args ({exc})") from None
    try:
        with fs.open(path, "rb") as fh:
            return _copy_stream(fh, workdir / "sdist.tar.gz", url)
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError(f"{url} not found") from None
    except Exception as exc:  # network, auth and protocol errors of any fsspec backend
        raise SourceError(f"cannot download {url}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None


# -- PyPI-like index -------------------------------------------------------------------------


def index_url() -> str:
    """The index pip would use: PIP_INDEX_URL, else pip's config files, else PyPI."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    found = None
    for path in _pip_config_files():
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except configparser.Error:
            continue
        for section in ("global", "download"):
            if parser.has_option(section, "index-url"):
                found = parser.get(section, "index-url")
    return found or DEFAULT_INDEX


def _pip_config_files() -> list[str]:
    """pip's files in its order (later wins); PIP_CONFIG_FILE=/dev/null (os.devnull) means none."""
    env_file = os.environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files = [os.path.join(d, "pip", "pip.conf") for d in xdg_dirs] + ["/etc/pip.conf"]
    home = os.path.expanduser("~")
    files += [os.path.join(home, ".pip", "pip.conf"),
              os.path.join(os.environ.get("XDG_CONFIG_HOME", os.path.join(home, ".config")), "pip", "pip.conf")]
    if os.environ.get("VIRTUAL_ENV"):
        files.append(os.path.join(os.environ["VIRTUAL_ENV"], "pip.conf"))
    if env_file:
        files.append(env_file)
    return [f for f in files if os.path.isfile(f)]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            a = dict(attrs)
            if a.get("href"):
                self.links.append(a)


def _get(url: str, accept: str) -> tuple[bytes, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "micropkg-tasks"})
    with urllib.request.urlopen(request, timeout=60) as resp:
        return resp.read(), resp.headers.get("Content-Type", ""), resp.geturl()


def index_files(project_name: str, index: str) -> list[dict]:
    """[{filename, url, sha256, yanked}] for one project, from the JSON or HTML simple API."""
    from packaging.utils import canonicalize_name

    url = f"{index.rstrip('/')}/{canonicalize_name(project_name)}/"
    accept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
    try:
        body, ctype, final = _get(url, accept)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise SourceError(f"{project_name!r} not found on the index {index}") from None
        raise SourceError(f"index {index} answered {exc.code} for {project_name!r}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise SourceError(f"cannot reach the index {index}: {getattr(exc, 'reason', exc)}") from None
    files = []
    if "json" in ctype:
        for f in json.loads(body).get("files", []):
            files.append({"filename": f["filename"], "url": urllib.parse.urljoin(final, f["url"]),
                          "sha256": f.get("hashes", {}).get("sha256"), "yanked": bool(f.get("yanked"))})
        return files
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    for link in parser.links:
        href = urllib.parse.urljoin(final, link["href"])
        base, _, fragment = href.partition("#")
        sha = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        filename = urllib.parse.unquote(base.rsplit("/", 1)[-1])
        files.append({"filename": filename, "url": base, "sha256": sha, "yanked": "data-yanked" in link})
    return files


def _requirement(text: str):
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement:
        raise ManifestError(f"pull {text!r}: not a path, a URL or a requirement such as 'name>=1.0'") from None


def pick_sdist(requirement: str, files: list[dict]) -> dict:
    """The best sdist for ``requirement``: highest matching version, not yanked unless pinned."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    req = _requirement(requirement)
    name = canonicalize_name(req.name)
    pinned = any(s.operator in ("==", "===") for s in req.specifier)
    candidates = []
    for f in files:
        if not f["filename"].endswith(SDIST_SUFFIXES):
            continue
        stem = re.sub(r"\.(tar\.gz|tgz)$", "", f["filename"])
        dist, _, version = stem.rpartition("-")
        try:
            v = Version(version)
        except InvalidVersion:
            continue
        if canonicalize_name(dist) != name or (f["yanked"] and not pinned):
            continue
        candidates.append((v, f))
    allowed = set(req.specifier.filter(v for v, _ in candidates))  # PEP 440 pre-release rules
    candidates = [(v, f) for v, f in candidates if v in allowed]
    if not candidates:
        wheels = any(f["filename"].endswith(".whl") for f in files)
        what = "only wheels" if wheels and not any(f["filename"].endswith(SDIST_SUFFIXES) for f in files) else "no sdist"
        raise SourceError(f"pull {requirement!r}: {what} matching it on the index; pull needs a source distribution (.tar.gz)")
    return max(candidates, key=lambda c: c[0])[1]


def fetch_from_index(requirement: str, index: str, workdir: Path) -> Fetched:
    chosen = pick_sdist(requirement, index_files(_requirement(requirement).name, index))
    try:
        request = urllib.request.Request(chosen["url"], headers={"User-Agent": "micropkg-tasks"})
        with urllib.request.urlopen(request, timeout=120) as resp:
            return _copy_stream(resp, workdir / "sdist.tar.gz", chosen["filename"], chosen["sha256"])
    except (urllib.error.URLError, OSError) as exc:
        raise SourceError(f"cannot download {chosen['url']}: {getattr(exc, 'reason', exc)}") from None
