"""Publishing to a package index with twine, which reads credentials its own way: the
TWINE_USERNAME / TWINE_PASSWORD environment variables, keyring, or ``.pypirc`` (a repository
named with ``publish = {repository = "<section>"}``). What the index already holds is read
from its simple pages (PEP 691/503) before anything is uploaded."""
from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..config.manifest import Limits, Publish
from ..config.project import Project
from ..credentials import redact, strip_userinfo
from ..errors import PublishError, SourceError, one_line
from ..sources.choose import IndexFile
from . import Registry

#: Upload URLs whose simple index is not ``<upload URL>/simple/``.
KNOWN_SIMPLE = {
    "https://upload.pypi.org/legacy/": "https://pypi.org/simple/",
    "https://test.pypi.org/legacy/": "https://test.pypi.org/simple/",
}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def pypirc_url(repository: str, label: str) -> str:
    """The upload URL of a ``.pypirc`` section (twine's own file, ``~/.pypirc``)."""
    parser = configparser.RawConfigParser()
    path = os.path.expanduser("~/.pypirc")
    try:
        parser.read(path)
    except configparser.Error:
        raise PublishError(f"{label}: {path} is malformed") from None
    if repository == "pypi" and not parser.has_option(repository, "repository"):
        return "https://upload.pypi.org/legacy/"
    if not parser.has_option(repository, "repository"):
        raise PublishError(f"{label}: {path} has no [{repository}] section with a repository URL")
    return parser.get(repository, "repository")


def known_secrets(upload_url: str) -> tuple[str, ...]:
    """Every password twine may be using here, to hide in whatever it prints: TWINE_PASSWORD,
    every ``.pypirc`` password, the upload URL's user-info (as written and decoded)."""
    import urllib.parse

    secrets = [os.environ.get("TWINE_PASSWORD", "")]
    parser = configparser.RawConfigParser()
    try:
        parser.read(os.path.expanduser("~/.pypirc"))
        secrets += [parser.get(section, "password") for section in parser.sections()
                    if parser.has_option(section, "password")]
    except configparser.Error:
        pass
    netloc = urllib.parse.urlsplit(upload_url).netloc
    if "@" in netloc:
        password = netloc.rpartition("@")[0].partition(":")[2]
        secrets += [password, urllib.parse.unquote(password)]
    return tuple(s for s in secrets if s)


def _twine_auth(upload_url: str) -> dict[str, str]:
    """twine reads credentials from TWINE_USERNAME/TWINE_PASSWORD, not from a URL's user-info:
    an upload URL's user-info becomes those (the URL twine gets has none)."""
    import urllib.parse

    netloc = urllib.parse.urlsplit(upload_url).netloc
    if "@" not in netloc:
        return {}
    user, _, password = netloc.rpartition("@")[0].partition(":")
    return {"TWINE_USERNAME": urllib.parse.unquote(user), "TWINE_PASSWORD": urllib.parse.unquote(password)}


def simple_url(upload: str) -> str:
    """Where the index shows its files: a known mapping, else ``<upload URL>/simple/``
    (pypiserver); devpi and others name it with ``publish = {..., simple = "..."}``."""
    key = upload.rstrip("/") + "/"
    return KNOWN_SIMPLE.get(key, f"{upload.rstrip('/')}/simple/")


class Index(Registry):
    def __init__(self, project: Project, dest: Publish, label: str, limits: Limits) -> None:
        self.label, self.dest, self.limits = label, dest, limits
        self.upload_url = dest.url or pypirc_url(dest.repository or "", label)
        self.simple = dest.simple or simple_url(self.upload_url)
        self._files: dict[str, list[IndexFile]] = {}

    def where(self, filename: str) -> str:
        shown = f"{self.dest.shown} ({filename})" if self.dest.repository else f"{self.upload_url.rstrip('/')}/ ({filename})"
        return redact(shown)

    def lookup(self, filename: str) -> str | None:
        from ..sources.download import Deadline
        from ..sources.index import file_sha256

        deadline = Deadline(self.limits.timeout, self.limits.max_size)
        try:
            entry = self._listed(filename, deadline)
            if entry is None:
                return None
            return entry.sha256 or file_sha256(entry.url, deadline, self.simple)
        except SourceError as exc:
            raise PublishError(redact(f"{self.label}: cannot see what {self.simple} holds: {exc}")) from None
        finally:
            deadline.close()

    def holds(self, expected: dict[str, tuple[int, str]]) -> bool:
        from ..sources.download import Deadline

        deadline = Deadline(self.limits.timeout, self.limits.max_size)
        try:
            for filename, (_, sha) in expected.items():
                entry = self._listed(filename, deadline)
                if entry is None or entry.sha256 not in (None, sha):
                    return False
            return True
        finally:
            deadline.close()

    def _listed(self, filename: str, deadline: Any) -> IndexFile | None:
        """The entry of ``filename`` on its project's page (one page per project and run)."""
        from ..sources.index import index_files
        from ..sources.listing import archive_name

        name = archive_name(filename) or _wheel_name(filename)
        if name is None:
            raise PublishError(f"{self.label}: {one_line(filename)} is neither an sdist nor a wheel name")
        if name[0] not in self._files:
            self._files[name[0]] = index_files(name[0], self.simple, deadline, missing_ok=True)
        return next((f for f in self._files[name[0]] if f.filename == filename), None)

    def upload(self, files: dict[str, bytes]) -> None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="micropkg-publish-") as tmp:
            paths = []
            for name, data in files.items():  # twine reads these copies, never dist/ again
                paths.append(Path(tmp) / name)
                paths[-1].write_bytes(data)
            self._twine(paths)

    def _twine(self, paths: list[Path]) -> None:
        target = (["-r", self.dest.repository] if self.dest.repository
                  else ["--repository-url", strip_userinfo(self.upload_url)])
        command = [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
                   *target, *map(str, paths)]
        env = {**os.environ, "NO_COLOR": "1", **({} if self.dest.repository else _twine_auth(self.upload_url))}
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=self.limits.timeout,
                                  env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PublishError(f"{self.label}: twine did not finish within {self.limits.timeout:g} s") from None
        if proc.returncode == 0:
            return
        secrets = known_secrets(self.upload_url)  # twine may echo a URL, a password: none is shown
        output = redact(_ANSI.sub("", proc.stdout + "\n" + proc.stderr), secrets)
        output = re.sub(r"[ \t]+", " ", output)
        if "No module named twine" in output:
            raise PublishError(f"{self.label}: publishing to an index needs twine: pip install 'micropkg-tasks[publish]'")
        lines = [line.strip() for line in output.splitlines() if line.strip()]
        why = next((line for line in lines if line.startswith(("ERROR", "HTTPError", "InvalidDistribution"))),
                   lines[-1] if lines else f"exit {proc.returncode}")
        raise PublishError(redact(f"{self.label}: twine upload to {self.upload_url} failed: {one_line(why, 240)}",
                                  secrets))


def _wheel_name(filename: str) -> tuple[str, str] | None:
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

    try:
        name, version, _, _ = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    return canonicalize_name(name), str(version)
