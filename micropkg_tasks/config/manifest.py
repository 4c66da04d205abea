"""``[tool.micropkg]`` (or the legacy ``[tool.kedro.micropkg]``) -> one validated, frozen, typed
``Manifest``: package entries, pull entries (their source kind a ``Literal``), limits, the compile
command, the publish target, the default index, allow lists. ``read_manifest`` builds it once,
when the project is loaded (``config.project.load_project``); nothing parses the table again.

The same checks serve manifest entries and ad hoc command-line options, so both fail the same
way: a one-line ManifestError that names the entry and says what would be valid. What a name,
a path, a size or a URL may be is ``rules``'.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import PurePosixPath
from typing import Any, Literal

from .. import rules
from ..errors import ManifestError, one_line
from ..errors import where as entry
from ..rules import DEFAULT_MAX_SIZE, DEFAULT_TIMEOUT, SDIST_SUFFIXES, name_problem

TABLE = "tool.micropkg"
LEGACY_TABLE = "tool.kedro.micropkg"
#: How a pull source is read: a local path, an fsspec URL, or a requirement resolved on an index.
SourceKind = Literal["path", "url", "index"]
#: Where ``doit publish`` uploads: an fsspec folder or bucket, or a package index (twine).
RegistryKind = Literal["bucket", "index"]
#: Every key of the manifest with what it does: the validation's lists of known keys and the
#: reference (docs/reference.md, ``python -m micropkg_tasks.reference``) are both made from these.
PROJECT_KEYS = {
    "package": "table: one entry per micro-package to package, keyed by its module path under the project package",
    "pull": "table: one entry per sdist to pull, keyed by its source: a path, any fsspec URL, or a requirement",
    "compile": "the compiler for requirements.in: a command string or list (\"uv pip compile\"), or false; "
               "default: pip-compile of this environment",
    "timeout": f"seconds for the whole download of one sdist (default {DEFAULT_TIMEOUT:g})",
    "max-size": "the most an sdist may hold, packaged or pulled: bytes, or kB/MB/GB/KiB/MiB/GiB (default \"256MiB\")",
    "allow-direct-references": "accept `name @ url` requirements from pulled sdists (default false: "
                               "pip-compile would fetch and build them)",
    "publish": "where `doit publish` uploads: a folder or fsspec URL, an index upload URL, or a table of the "
               "publish keys below",
    "index": "where requirement sources are resolved unless their entry names another: a folder, bucket or "
             "PEP 691/503 index (default: pip's configured index)",
    "wheel": "also build a wheel of every sdist, and publish it (default false)",
    "name": "the project's member name in a workspace ([tool.micropkg.workspace] at the monorepo's root; "
            "default: its folder's name)",
}
PACKAGE_KEYS = {
    "alias": "the name to package it under (the sdist's name, and the folder its code lands in when pulled)",
    "destination": "the folder the sdist is written to, inside the project or not (default dist)",
    "env": "the conf/<env> its parameter files are taken from (default base)",
    "allow": "project modules outside any micro-package it may import on purpose (left as they are, with a warning)",
}
PULL_KEYS = {
    "alias": "the name to install it under",
    "destination": "the location under the project package, e.g. pipelines",
    "env": "the conf/<env> its parameter files go to (default base)",
    "fs-args": "a YAML file of fsspec storage options (credentials, client_kwargs, headers): relative to the "
               "project, absolute or ~/...",
    "sha256": "the archive's sha256: any other bytes are refused",
    "index": "the only folder, bucket or index a requirement source is resolved on",
}
PUBLISH_KEYS = {
    "url": "the folder, fsspec URL or index upload URL",
    "fs-args": "a YAML file of fsspec storage options for a folder or bucket",
    "repository": "a .pypirc section to upload to with twine",
    "simple": "the index's simple API, when it is not <url>/simple/",
}
PACKAGE_OPTIONS = tuple(key.replace("-", "_") for key in PACKAGE_KEYS)
PULL_OPTIONS = tuple(key.replace("-", "_") for key in PULL_KEYS)
#: Sub-task name of the final compile step; no pull entry may take it.
COMPILE_TASK = "pip-compile"


@dataclass(frozen=True)
class PackageSpec:
    """One micro-package to package: a module path relative to the project package."""

    module_path: str
    alias: str | None = None
    destination: str | None = None
    env: str = "base"
    allow: tuple[str, ...] = ()  # project modules outside any micro-package it may import

    @property
    def name(self) -> str:
        """The name the sdist carries: the alias, else the last part of the module path."""
        return self.alias or self.module_path.rsplit(".", 1)[-1]

    def as_dict(self) -> dict[str, Any]:
        spec = {f.name: getattr(self, f.name) for f in fields(self)}  # asdict deep-copies: slower
        if not self.allow:
            del spec["allow"]  # the task state of entries without it stays as it was
        return spec


@dataclass(frozen=True)
class PullSpec:
    """One sdist to pull: a local path, an fsspec URL or a requirement on a PyPI-like index."""

    source: str
    kind: SourceKind = "path"  # see source_kind
    alias: str | None = None
    destination: str | None = None
    env: str = "base"
    fs_args: str | None = None
    sha256: str | None = None
    index: str | None = None  # where a requirement is resolved: a bucket/folder or a simple index, nothing else

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def source_kind(source: str) -> SourceKind:
    """``url``, ``path`` or ``index``: the one place that decides how a pull source is read,
    from its spelling alone (no disk access), once, when the spec is made."""
    if rules.is_url(source):
        return "url"
    if re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@", source):
        return "index"  # a direct reference ``name @ url``: refused as a requirement source
    if source.endswith((*SDIST_SUFFIXES, ".whl")) or "/" in source or source.startswith(("~", ".")):
        return "path"
    return "index"


def check_alias(alias: Any, where: str) -> str:
    if not isinstance(alias, str) or not alias:
        raise ManifestError(f"{where}: alias must be a non-empty string")
    why = name_problem(alias)
    if why:
        raise ManifestError(f"{where}: alias {one_line(repr(alias[:61]), 60)} {why}")
    if len(alias) < 2:
        raise ManifestError(f"{where}: alias {alias!r} must be at least 2 characters long")
    return alias


def shown(value: Any) -> str:
    """A value as messages show it: repr'd, control characters escaped, never megabytes long."""
    return one_line(repr(value), 80)


def check_module_path(module_path: str, where: str) -> str:
    why = rules.module_path_problem(module_path)
    if why == rules.TOO_LONG:
        raise ManifestError(f"{where}: module path {why}")
    if why:
        raise ManifestError(f"{where}: {shown(module_path)} {why}")
    return module_path


def _check_lengths(parts: list[str], where: str, what: str) -> None:
    """No file system takes a name over NAME_MAX bytes: refused here, not as a traceback from
    the first stat (which broke every doit command, `doit list` included)."""
    if rules.too_long(parts):
        raise ManifestError(f"{where}: {what} {rules.TOO_LONG}")


def _check_text(value: str, where: str, what: str) -> None:
    if rules.has_control(value):
        raise ManifestError(f"{where}: {what} {shown(value)} {rules.CONTROL}")


def check_env(env: Any, where: str) -> str:
    """One folder of ``conf/``, by the rule the lock reads it back with (``rules.env_problem``)."""
    if not isinstance(env, str):
        raise ManifestError(f"{where}: env must be a string, not {type(env).__name__}")
    why = rules.env_problem(env)
    if why == rules.TOO_LONG:
        raise ManifestError(f"{where}: env {why}")
    if why:
        raise ManifestError(f"{where}: env {shown(env)} {why}")
    return env


def check_relative(path: Any, where: str, what: str) -> str:
    """A POSIX path that stays inside the project, in the one spelling ``rules.path_problem``
    accepts (``./dist/`` is ``dist``)."""
    if not isinstance(path, str) or not path.strip():
        raise ManifestError(f"{where}: {what} must be a non-empty string")
    _check_text(path, where, what)
    normal = rules.normal_path(path)
    why = rules.path_problem(normal)
    if why == rules.TOO_LONG:
        raise ManifestError(f"{where}: {what} {why}")
    if why:
        raise ManifestError(f"{where}: {what} {shown(path)} must be a relative POSIX path inside the project "
                            f"(no '..', not absolute): it {why}")
    return normal


def check_output_folder(path: Any, where: str) -> str:
    """The folder a package entry writes its sdist to: any folder, inside the project or not
    (``dist/shared``, ``../shared``, ``/srv/sdists``, ``~/sdists``), as Kedro 0.19's
    ``--destination`` was. Sdists are outputs: unlike pulled code, they may go anywhere."""
    if not isinstance(path, str) or not path.strip():
        raise ManifestError(f"{where}: destination must be a non-empty string")
    why = rules.folder_problem(path)
    if why == rules.TOO_LONG:
        raise ManifestError(f"{where}: destination {why}")
    if why:
        raise ManifestError(f"{where}: destination {shown(path)} {why}")
    return PurePosixPath(path).as_posix()


def check_pull_destination(dest: Any, where: str) -> str:
    """A location under the project package: ``pipelines/lib`` (dots accepted as separators)."""
    path = check_relative(dest, where, "destination")
    why = rules.destination_problem(path)
    if why:
        raise ManifestError(f"{where}: destination {shown(path)} {why}")
    return path.replace(".", "/")


def check_fs_args(path: Any, where: str) -> str:
    """A YAML file of storage options: relative to the project, absolute, or ``~/...``
    (credentials usually live outside the project). Read when the pull runs."""
    if not isinstance(path, str) or not path.strip() or rules.has_control(path):
        raise ManifestError(f"{where}: fs_args must be the path of a YAML file (no NUL, newline or control character)")
    _check_lengths(path.split("/"), where, "fs_args")
    return path


def requirement_source(source: str, where: str) -> str:
    """A pull source that is neither a URL nor a path must be a PEP 508 requirement: checked
    when the manifest is read, so a typo is a load-time error, not a failed task."""
    if _SIMPLE_REQUIREMENT.fullmatch(source):  # the common spellings, without importing packaging
        return source
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(source)
    except InvalidRequirement:
        raise ManifestError(f"{where}: not a path, a URL or a requirement such as 'name>=1.0'") from None
    if req.url:
        raise ManifestError(f"{where}: a direct reference ('name @ url') is not an index requirement; "
                            "write the URL itself as the source")
    return source


_SIMPLE_REQUIREMENT = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
    r"(?:\s*(?:===?|!=|~=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+(?:\s*,\s*(?:===?|!=|~=|<=?|>=?)\s*[A-Za-z0-9.*+!_-]+)*)?")


def _options(key: str, value: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where}: the value must be a table of options such as {{}} or {{alias = \"x\"}}")
    opts = {k.replace("-", "_"): v for k, v in value.items()}
    for opt, val in opts.items():
        if opt in allowed:
            if val is not None and not isinstance(val, str) and opt != "allow":
                raise ManifestError(f"{where}: option {shown(opt)} must be a string, not {type(val).__name__}")
            continue
        if isinstance(val, Mapping):
            dotted = f"{one_line(key, 80)}.{one_line(opt, 80)}"
            raise ManifestError(f"{where}: looks like an unquoted dotted key; write \"{dotted}\" = {{...}} with quotes")
        raise ManifestError(f"{where}: unknown option {shown(opt)}; valid options: {', '.join(allowed)}")
    return opts


def _section(micropkg: Mapping[str, Any], table: str, section: str) -> Mapping[str, Any]:
    entries = micropkg.get(section, {})
    if not isinstance(entries, Mapping):
        raise ManifestError(f"[{table}.{section}] must be a table of entries")
    return entries


def check_allow(allow: Any, where: str) -> tuple[str, ...]:
    """``allow = ["acme.utils"]``: dotted names of project modules a micro-package may import."""
    if not isinstance(allow, list) or not all(isinstance(a, str) and not rules.module_path_problem(a) for a in allow):
        raise ManifestError(f"{where}: allow must be a list of module names such as [\"acme.utils\"]")
    return tuple(allow)


def package_spec(module_path: str, *, alias: Any = None, destination: Any = None, env: Any = None,
                 allow: Any = None, where: str | None = None) -> PackageSpec:
    where = where or entry("package", one_line(module_path, 80))
    check_module_path(module_path, where)
    return PackageSpec(
        module_path=module_path,
        alias=check_alias(alias, where) if alias else None,
        destination=check_output_folder(destination, where) if destination else None,
        env=check_env(env, where) if env else "base",
        allow=check_allow(allow, where) if allow is not None else (),
    )


def pull_spec(source: str, *, alias: Any = None, destination: Any = None, env: Any = None, fs_args: Any = None,
              sha256: Any = None, index: Any = None, where: str | None = None) -> PullSpec:
    where = where or entry("pull", one_line(source, 80) if isinstance(source, str) else shown(source))
    if not isinstance(source, str) or not source.strip():
        raise ManifestError(f"{where}: the source must be a path, a URL or a requirement")
    source = source.strip()
    if source == COMPILE_TASK:
        raise ManifestError(f"{where}: {COMPILE_TASK!r} is reserved for the final compile task")
    if sha256 is not None and not rules.is_sha256(sha256):
        raise ManifestError(f"{where}: sha256 must be 64 lower-case hex digits")
    _check_text(source, where, "the source")
    kind = source_kind(source)
    if kind == "index":
        requirement_source(source, where)
    elif kind == "path":
        _check_lengths(source.split("/"), where, "the source path")
    if index is not None:
        if kind != "index":
            raise ManifestError(f"{where}: index names where a requirement such as 'name>=1.0' is resolved; "
                                "this source is a path or URL already")
        index = check_index(index, where)
    return PullSpec(
        source=source,
        kind=kind,
        alias=check_alias(alias, where) if alias else None,
        destination=check_pull_destination(destination, where) if destination else None,
        env=check_env(env, where) if env else "base",
        fs_args=check_fs_args(fs_args, where) if fs_args else None,
        sha256=sha256,
        index=index,
    )


def package_specs(micropkg: Mapping[str, Any], table: str = TABLE) -> list[PackageSpec]:
    """Every entry of ``[tool.micropkg.package]``, in file order."""
    specs = []
    for key, value in _section(micropkg, table, "package").items():
        where = f"[{table}.package] {shown(key)}"
        specs.append(package_spec(key, where=where, **_options(key, value, PACKAGE_OPTIONS, where)))
    _no_duplicates([(s.name, s.destination or "dist") for s in specs], f"[{table}.package]",
                   "write to the same sdist name")
    return specs


def pull_specs(micropkg: Mapping[str, Any], table: str = TABLE) -> list[PullSpec]:
    """Every entry of ``[tool.micropkg.pull]``, in file order."""
    specs = []
    default = default_index(micropkg, table)
    for key, value in _section(micropkg, table, "pull").items():
        where = f"[{table}.pull] {shown(key)}"
        opts = _options(key, value, PULL_OPTIONS, where)
        if default and source_kind(key) == "index" and not opts.get("index"):
            opts["index"] = default
        specs.append(pull_spec(key, where=where, **opts))
    return specs


def _no_duplicates(keys: list[tuple[str, str]], section: str, what: str) -> None:
    seen = set()
    for key in keys:
        if key in seen:
            raise ManifestError(f"{section}: two entries {what} {shown(key[0])}; give one an alias")
        seen.add(key)


#: shlex splits in quadratic time: a megabyte command would hang every doit command.
MAX_COMMAND = 32_768


def allow_direct_references(micropkg: Mapping[str, Any], table: str = TABLE) -> bool:
    """``[tool.micropkg] allow-direct-references``: whether a pulled sdist may require
    ``name @ url`` (PyPI refuses them in uploads; pip-compile would fetch and build them)."""
    value = micropkg.get("allow-direct-references", micropkg.get("allow_direct_references", False))
    if not isinstance(value, bool):
        raise ManifestError(f"[{table}] allow-direct-references must be true or false, not {one_line(repr(value), 40)}")
    return value


DEFAULT_COMPILE = ["{python}", "-m", "piptools", "compile", "--quiet", "--no-header", "--strip-extras",
                   "--no-emit-index-url", "--no-emit-trusted-host", "--no-emit-find-links"]


def compile_command(micropkg: Mapping[str, Any], table: str = TABLE) -> list[str] | None:
    """The compiler from ``[tool.micropkg] compile``: a command string, a list, or false
    (default pip-compile from this environment; ``{python}`` is this interpreter)."""
    import shlex
    import sys

    configured = micropkg.get("compile")
    where = f"[{table}] compile"
    if configured is None or configured is True:
        command = list(DEFAULT_COMPILE)
    elif configured is False:
        return None
    elif isinstance(configured, str) and len(configured) > MAX_COMMAND:
        raise ManifestError(f"{where} is over {MAX_COMMAND} characters; put a long command in a script")
    elif isinstance(configured, str) and configured.strip() and "\x00" not in configured:
        try:
            command = shlex.split(configured)
        except ValueError as exc:
            raise ManifestError(f"{where}: {shown(configured)} is not a valid command line ({exc})") from None
    elif isinstance(configured, list) and configured and all(isinstance(a, str) and a and "\x00" not in a
                                                             for a in configured):
        command = list(configured)
    else:
        raise ManifestError(f"{where} must be a command string, a list of strings, or false")
    return [sys.executable if arg == "{python}" else arg for arg in command]


def max_size(micropkg: Mapping[str, Any], table: str = TABLE) -> int:
    """``[tool.micropkg] max-size``: a number of bytes, or a string such as "256MiB" or "1GB"
    (B, kB/MB/GB powers of 1000, KiB/MiB/GiB powers of 1024); 256 MiB when absent."""
    value = micropkg.get("max-size")
    if value is None:
        return DEFAULT_MAX_SIZE
    size = rules.parse_size(value)
    if size is None:
        raise ManifestError(f"[{table}] max-size {shown(value)} must be a positive number of bytes "
                            "or a size such as \"256MiB\" (units B, kB, MB, GB, KiB, MiB, GiB)")
    return size


@dataclass(frozen=True)
class Limits:
    """What one pull may take: ``[tool.micropkg] timeout`` (seconds, for the whole download) and
    ``max-size`` (bytes, for the archive and for what it unpacks to; packaging applies it too)."""

    timeout: float = DEFAULT_TIMEOUT
    max_size: int = DEFAULT_MAX_SIZE


DEFAULT_LIMITS = Limits()


def limits(micropkg: Mapping[str, Any], table: str = TABLE) -> Limits:
    return Limits(download_timeout(micropkg, table), max_size(micropkg, table))


def download_timeout(micropkg: Mapping[str, Any], table: str = TABLE) -> float:
    """``[tool.micropkg] timeout``: the overall limit, in seconds, for fetching one sdist."""
    value = micropkg.get("timeout")
    if value is None:
        return DEFAULT_TIMEOUT
    seconds = rules.parse_timeout(value)
    if seconds is None:
        raise ManifestError(f"[{table}] timeout must be a positive number of seconds (default "
                            f"{DEFAULT_TIMEOUT:g}), not {shown(value)}")
    return seconds


# -- registries: where micro-packages are published and resolved by name ----------------------

def registry_kind(url: str) -> RegistryKind:
    """``index`` for an http(s) package index, ``bucket`` for any other fsspec folder URL or a
    local folder: the one place that tells them apart, from the spelling alone."""
    return "index" if rules.is_http(url) else "bucket"


def check_index(value: Any, where: str) -> str:
    """An index a requirement is resolved on: a PEP 691/503 ``https://host/simple/`` or a folder
    of sdists (``s3://bucket/micropkgs/``, ``file://...``, a local path)."""
    if not isinstance(value, str) or not value.strip():
        raise ManifestError(f"{where}: index must be a URL such as \"https://host/simple/\" or \"s3://bucket/micropkgs/\"")
    _check_text(value, where, "index")
    return value.strip()


@dataclass(frozen=True)
class Publish:
    """Where ``doit publish`` uploads: an fsspec folder (``kind == "bucket"``, with optional
    fs-args) or a package index (``"index"``: twine uploads to ``url``, or to the ``.pypirc``
    ``repository`` by name; ``simple`` is the index's PEP 691/503 page root, read to see what is
    already there)."""

    url: str
    kind: RegistryKind
    fs_args: str | None = None
    repository: str | None = None
    simple: str | None = None

    @property
    def shown(self) -> str:
        return self.url or f".pypirc repository {self.repository!r}"


PUBLISH_OPTIONS = tuple(key.replace("-", "_") for key in PUBLISH_KEYS)


def publish_destination(value: Any, table: str = TABLE, where: str | None = None) -> Publish | None:
    """``[tool.micropkg] publish``: a URL or folder, or ``{url = ..., fs-args = ..., simple = ...}``
    or ``{repository = "<.pypirc name>", simple = ...}``; None when absent."""
    where = where or f"[{table}] publish"
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = {"url": value}
    if not isinstance(value, Mapping):
        raise ManifestError(f"{where} must be a URL or folder such as \"s3://bucket/micropkgs/\", or a table "
                            "{url = ..., fs-args = ...}")
    opts = {k.replace("-", "_"): v for k, v in value.items()}
    for key, val in opts.items():
        if key not in PUBLISH_OPTIONS:
            raise ManifestError(f"{where}: unknown option {shown(key)}; valid options: {', '.join(PUBLISH_KEYS)}")
        if not isinstance(val, str) or not val.strip():
            raise ManifestError(f"{where}: {key.replace('_', '-')} must be a non-empty string")
        _check_text(val, where, key.replace("_", "-"))
    url, repository = opts.get("url", "").strip(), opts.get("repository")
    if bool(url) == bool(repository):
        raise ManifestError(f"{where}: give either url (a folder, bucket or index upload URL) or repository "
                            "(a .pypirc section), not both or neither")
    kind: RegistryKind = "index" if repository else registry_kind(url)
    if kind == "bucket" and (repository or opts.get("simple")):
        raise ManifestError(f"{where}: simple applies to a package index, not to the folder {shown(url)}")
    if kind == "index" and opts.get("fs_args"):
        raise ManifestError(f"{where}: fs-args applies to folders and buckets; twine reads an index's credentials "
                            "from TWINE_USERNAME/TWINE_PASSWORD, keyring or .pypirc")
    fs_args = check_fs_args(opts["fs_args"], where) if opts.get("fs_args") else None
    return Publish(url=url, kind=kind, fs_args=fs_args, repository=repository, simple=opts.get("simple"))


def publish(micropkg: Mapping[str, Any], table: str = TABLE) -> Publish | None:
    return publish_destination(micropkg.get("publish"), table)


def default_index(micropkg: Mapping[str, Any], table: str = TABLE) -> str | None:
    """``[tool.micropkg] index``: where every requirement source is resolved unless its entry
    names another; None: pip's configured index, as before."""
    value = micropkg.get("index")
    return None if value is None else check_index(value, f"[{table}] index")


def index_for(source: str, micropkg: Mapping[str, Any], table: str = TABLE) -> str | None:
    """The project's default index for an ad hoc requirement source (None for paths and URLs)."""
    return default_index(micropkg, table) if source_kind(source.strip()) == "index" else None


def wheel(micropkg: Mapping[str, Any], table: str = TABLE) -> bool:
    """``[tool.micropkg] wheel``: also build a wheel of every sdist."""
    value = micropkg.get("wheel", False)
    if not isinstance(value, bool):
        raise ManifestError(f"[{table}] wheel must be true or false, not {shown(value)}")
    return value


# -- the whole table, validated once -------------------------------------------------------------

@dataclass(frozen=True)
class Manifest:
    """``[tool.micropkg]`` as the tasks and actions use it, checked once when the project is
    loaded: a bad entry or option is a one-line error before anything runs."""

    packages: tuple[PackageSpec, ...] = ()
    pulls: tuple[PullSpec, ...] = ()
    limits: Limits = DEFAULT_LIMITS
    compile: tuple[str, ...] | None = None  # the compiler for requirements.in; None: compiling is off
    publish: Publish | None = None
    index: str | None = None  # where requirement sources are resolved unless their entry names one
    wheel: bool = False
    allow_direct_references: bool = False
    table: str = TABLE  # where it was read from, for messages

    def index_for(self, source: str) -> str | None:
        """The default index for an ad hoc requirement source (None for paths and URLs)."""
        return self.index if source_kind(source.strip()) == "index" else None

    def pull_entry(self, source: str) -> PullSpec | None:
        """The manifest's pull entry of ``source``, if it has one."""
        return next((spec for spec in self.pulls if spec.source == source), None)


def read_manifest(micropkg: Mapping[str, Any], table: str = TABLE) -> Manifest:
    """Every entry and option of the table, validated; the first problem is a ManifestError."""
    unknown = [key for key in micropkg if key not in PROJECT_KEYS]
    if unknown:  # a misspelt key (`compiel = false`) was silently ignored
        raise ManifestError(f"[{table}]: unknown key {shown(unknown[0])}; valid keys: {', '.join(PROJECT_KEYS)}")
    command = compile_command(micropkg, table)
    return Manifest(
        packages=tuple(package_specs(micropkg, table)),
        pulls=tuple(pull_specs(micropkg, table)),
        limits=limits(micropkg, table),
        compile=None if command is None else tuple(command),
        publish=publish(micropkg, table),
        index=default_index(micropkg, table),
        wheel=wheel(micropkg, table),
        allow_direct_references=allow_direct_references(micropkg, table),
        table=table,
    )
