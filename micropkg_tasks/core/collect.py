"""Which files make up a micro-package: its folder, its parameter files, its tests.

Pure decisions over file listings; the only I/O is walking folders (one stat-free walk each).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

from ..config.manifest import PackageSpec
from ..config.project import CONF_DIR, Project
from ..errors import PackageError, one_line
from ..errors import where as entry
from ..scope import per_command
from .imports import PathIndex
from .layout import (
    REQUIREMENTS,
    parameter_names,
    rename_config,
    sdist_root,
    special_problem,
    walk_files,
)
from .metadata import normalise_version, read_version

DEFAULT_DESTINATION = "dist"


@dataclass(frozen=True)
class Dependency:
    """Another micro-package of the manifest that one imports: recorded in the sdist as
    ``<name>>=<version>`` and its imports rewritten to ``<name>``, as the alias rename does."""

    module_path: str
    name: str
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.name}>={self.version}"


@dataclass(frozen=True)
class MicroPackage:
    """A spec resolved in a project. Each file is (project-relative path, path inside its role)."""

    spec: PackageSpec
    name: str
    version: str
    code: tuple[tuple[str, str], ...]
    config: tuple[tuple[str, str], ...]
    tests: tuple[tuple[str, str], ...]
    version_file: str
    target: str
    requires: tuple[Dependency, ...] = ()  # the micro-packages of the manifest it imports (package action)

    @property
    def file_dep(self) -> list[str]:
        files = [src for src, _ in self.code + self.config + self.tests]
        if self.version_file not in files:
            files.append(self.version_file)
        return files

    @property
    def requirements_file(self) -> str | None:
        return next((src for src, rel in self.code if rel == REQUIREMENTS), None)


@dataclass(frozen=True)
class _ConfIndex:
    files: dict[str, tuple[str, ...]]  # name -> its parameter files
    special: dict[str, tuple[str, ...]]  # name -> links and odd entries that would be its files
    everyone: tuple[str, ...]  # folder links: they could hold anyone's parameter files


@per_command
def _conf_index(conf_env: str) -> _ConfIndex:
    """name -> its parameter files in one env, from one walk: collecting N micro-packages stays
    linear in the number of files, not N times it."""
    index: dict[str, list[str]] = {}
    odd: list[str] = []
    for rel in walk_files(conf_env, odd):
        for name in parameter_names(rel):
            index.setdefault(name, []).append(rel)
    special: dict[str, list[str]] = {}
    everyone = []
    for rel in odd:  # links and the like only: a stat each
        if os.path.isdir(f"{conf_env}/{rel}"):
            everyone.append(rel)
            continue
        for name in parameter_names(rel) | parameter_names(f"{rel}/_.yml"):
            special.setdefault(name, []).append(rel)
    return _ConfIndex({name: tuple(rels) for name, rels in index.items()},
                      {name: tuple(sorted(rels)) for name, rels in special.items()}, tuple(sorted(everyone)))


def _walk(project: Project, folder: str, where: str) -> tuple[list[str], list[str]]:
    """The files of ``folder`` and its special entries; a folder that cannot be listed is an error
    (it would otherwise be left out of the sdist without a word)."""
    special: list[str] = []
    try:
        return walk_files(folder, special), special
    except OSError as exc:
        raise PackageError(f"{where}: {_shown(project, exc.filename or folder)} cannot be read "
                           f"({exc.strerror}); fix its permissions or remove it") from None


def _refuse_special(project: Project, folder: str, rels: list[str] | tuple[str, ...], where: str) -> None:
    if rels:
        path = os.path.join(folder, min(rels))
        reason = special_problem(path, str(project.root), str(project.conf_dir / "local"))
        raise PackageError(f"{where}: {_shown(project, path)} {reason}")


def _refuse_linked_folder(project: Project, folder: str, where: str) -> None:
    """A micro-package, tests or conf folder reached through a symlink is refused like a link
    inside it: the walk would package whatever the link leads to."""
    link = _first_link(folder, str(project.root))
    if link:
        reason = special_problem(link, str(project.root), str(project.conf_dir / "local"))
        raise PackageError(f"{where}: {_shown(project, link)} {reason}")


@per_command
def _first_link(path: str, root: str) -> str | None:
    """The first symlink on ``path`` below ``root``; one lstat per folder, as micro-packages share parents."""
    if path == root or os.path.dirname(path) == path:
        return None
    return _first_link(os.path.dirname(path), root) or (path if os.path.islink(path) else None)


def _shown(project: Project, path: str | os.PathLike[str]) -> str:
    return one_line(project.shown(os.fsdecode(path)))


def _read_version(project: Project, rel: str, where: str) -> str | None:
    shown = one_line(rel)
    try:
        return read_version(f"{project.root}/{rel}", f"{where}: {shown}")
    except UnicodeDecodeError:
        raise PackageError(f"{where}: {shown} is not UTF-8 text") from None
    except OSError as exc:
        raise PackageError(f"{where}: {shown} cannot be read ({exc.strerror})") from None


def _check_destination(root: Path, destination: str, where: str) -> None:
    """The sdist folder, or its first existing parent, must be a folder (not pyproject.toml)."""
    blocker = _file_in_the_way(root, destination)
    if blocker:
        raise PackageError(f"{where}: destination {destination!r} cannot hold the sdist: "
                           f"{blocker} is a file, not a folder")


def _refuse_destination_inside(root: str, destination: str, folders: tuple[str, ...], where: str) -> None:
    """The sdist may not be written into the micro-package's own code or tests folder: its data
    files are packaged, so the next sdist would hold the last one (and doit would then see the
    task as depending on its own target)."""
    target = os.path.normpath(os.path.join(root, destination))  # an absolute destination stays as it is
    for folder in folders:
        if target == f"{root}/{folder}" or target.startswith(f"{root}/{folder}/"):
            raise PackageError(f"{where}: destination {one_line(destination, 80)!r} is inside the micro-package it "
                               f"packages ({folder}), so its next sdist would hold this one; write it elsewhere "
                               f"(the default is {DEFAULT_DESTINATION})")


@per_command
def _file_in_the_way(root: Path, destination: str) -> str | None:
    path = root / destination  # an absolute destination stays as it is
    while not path.exists() and path != root and path.parent != path:
        path = path.parent
    if path.is_dir():
        return None
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # a folder outside the project (sdists may go anywhere)
        return str(path)


@per_command
def _prefixes(project: Project) -> tuple[str, str]:
    """The project package's and the tests root's project-relative POSIX paths, computed once
    per project: collect joins strings from here (no pathlib per file, no stat per call)."""
    return project.rel(project.package_dir), project.rel(project.tests_root())


def forget_listings() -> None:
    """Drop what this process remembers of the project's folders (conf listings, links, the
    destination): a pull in the same doit run has changed them since the tasks were made."""
    for cached in (_conf_index, _first_link, _file_in_the_way):
        cast(Any, cached).cache_clear()  # per_command caches: functools.cache underneath


def collect(project: Project, spec: PackageSpec) -> MicroPackage:
    """Resolve ``spec`` in ``project``: the files, the version and the tarball to write.
    Paths are joined as strings (one parse per project, none per file) and a folder is listed
    before anything else is asked of it: a thousand entries cost a listing each, little more."""
    where = entry("package", spec.module_path)
    module_parts = spec.module_path.split(".")
    package_prefix, tests_root = _prefixes(project)
    root = str(project.root)
    module_rel = "/".join(module_parts)
    code_prefix = f"{package_prefix}/{module_rel}"
    folder = f"{root}/{code_prefix}"
    _refuse_linked_folder(project, folder, where)
    code, special = _walk(project, folder, where)
    if not code and not os.path.isdir(folder):
        if os.path.isfile(f"{folder}.py"):
            raise PackageError(f"{where}: {code_prefix}.py is a file, not a package folder; "
                               "give the module path of a package folder")
        from .suggest import did_you_mean, module_paths

        hint = did_you_mean(spec.module_path, module_paths(project.package_dir))
        raise PackageError(f"{where}: {code_prefix} not found{hint}")
    _refuse_special(project, folder, special, where)
    if not code:
        raise PackageError(f"{where}: {code_prefix} is an empty folder")
    if "__init__.py" not in code:
        raise PackageError(f"{where}: {code_prefix} has no __init__.py, so it is not a Python package")

    version_file = f"{code_prefix}/__init__.py"
    version = _read_version(project, version_file, where)
    if version is None:
        version_file = f"{package_prefix}/__init__.py"
        version = _read_version(project, version_file, where)
    if version is None:
        raise PackageError(
            f"{where}: no __version__ in {code_prefix}/__init__.py nor in {version_file}; add __version__ = \"0.1\""
        )
    version = normalise_version(version, version_file)

    conf_prefix = f"{CONF_DIR}/{spec.env}"
    conf_env = f"{root}/{conf_prefix}"
    if spec.env != "base" and not os.path.isdir(conf_env):
        raise PackageError(f"{where}: env {spec.env!r} has no folder {conf_prefix}")
    _refuse_linked_folder(project, conf_env, where)
    leaf = module_parts[-1]
    try:
        conf = _conf_index(conf_env)
    except OSError as exc:
        raise PackageError(f"{where}: {_shown(project, exc.filename or conf_env)} cannot be read "
                           f"({exc.strerror}); fix its permissions or remove it") from None
    _refuse_special(project, conf_env, conf.everyone + conf.special.get(leaf, ()), where)
    config = [(f"{conf_prefix}/{rel}", rename_config(rel, leaf, spec.alias))
              for rel in conf.files.get(leaf, ())]
    tests_prefix = f"{tests_root}/{module_rel}"
    tests_dir = f"{root}/{tests_prefix}"
    _refuse_linked_folder(project, tests_dir, where)
    tests_files, special = _walk(project, tests_dir, where)
    _refuse_special(project, tests_dir, special, where)
    tests = [(f"{tests_prefix}/{rel}", rel) for rel in tests_files]

    name = spec.name
    destination = spec.destination or DEFAULT_DESTINATION
    if destination.startswith("~"):
        destination = os.path.expanduser(destination)
    _check_destination(project.root, destination, where)
    _refuse_destination_inside(root, destination, (code_prefix, tests_prefix), where)
    return MicroPackage(
        spec=spec,
        name=name,
        version=version,
        code=tuple((f"{code_prefix}/{rel}", rel) for rel in code),
        config=tuple(config),
        tests=tuple(tests),
        version_file=version_file,
        target=f"{destination}/{sdist_root(name, version)}.tar.gz",
    )


# -- imports: self-containment and dependencies between micro-packages ---------------------------

def manifest_index(project: Project) -> tuple[dict[str, PackageSpec], PathIndex]:
    """The manifest's micro-packages by module path, and their index."""
    return _index(project.manifest.packages)


@per_command
def _index(packages: tuple[PackageSpec, ...]) -> tuple[dict[str, PackageSpec], PathIndex]:
    """Made once per manifest (keyed by its entries, not by the project: two loads of a changed
    pyproject.toml never share one)."""
    from .imports import PathIndex

    specs = {spec.module_path: spec for spec in packages}
    return specs, PathIndex(list(specs))


#: A project-relative path -> the file's bytes. The package action passes one that reads each file
#: once (``reader``), shared by the import check, the rename and the tar writer.
Read = Callable[[str], bytes]


def reader(project: Project, mp: MicroPackage) -> Read:
    """A ``Read`` that reads each Python file at most once (the import check, the rename and the
    tar writer all need it), naming ``mp``'s entry when it cannot. Other files are read when
    asked and not kept: a micro-package's data files never sit in memory all at once."""
    where = entry("package", mp.spec.module_path)
    root = str(project.root)
    seen: dict[str, bytes] = {}

    def read(src: str) -> bytes:
        data = seen.get(src)
        if data is None:
            try:
                with open(f"{root}/{src}", "rb") as fh:
                    data = fh.read()
            except OSError as exc:
                raise PackageError(f"{where}: {_shown(project, src)} cannot be read ({exc.strerror})") from None
            if src.endswith(".py"):
                seen[src] = data
        return data
    return read


def _python_text(project: Project, read: Read, src: str, where: str) -> str:
    try:
        return read(src).decode("utf-8")
    except UnicodeDecodeError:
        raise PackageError(f"{where}: cannot rewrite the imports of {_shown(project, src)}: it is not valid "
                           "UTF-8 Python 3") from None


def check_imports(project: Project, mp: MicroPackage, read: Read | None = None) -> tuple[MicroPackage, list[str]]:
    """``resolve_imports`` for ``mp`` (its dependencies and warnings; a PackageError for what it
    may not import), one text scan per Python file in the common case: a micro-package none of
    whose files may leave it (``imports.may_leave``) imports nothing else, so nothing is parsed
    and no other micro-package is looked at."""
    from .imports import may_leave

    read = read or reader(project, mp)
    where = entry("package", mp.spec.module_path)
    for src, _ in mp.code + mp.tests:
        if src.endswith(".py") and may_leave(_python_text(project, read, src, where), project.package_name,
                                             mp.spec.module_path):
            return resolve_imports(project, mp, candidates(project, mp, read), read)
    return mp, []


def candidates(project: Project, mp: MicroPackage, read: Read) -> tuple[MicroPackage, ...]:
    """The micro-packages of the manifest that ``mp`` may import, and those they may import in
    turn: found by a regex over the Python files' text (``imports.mentions``, no parse), never
    missing an absolute reference; only these are collected and parsed."""
    from .imports import mentions

    by_path, index = manifest_index(project)
    found: dict[str, MicroPackage] = {}
    todo = [mp]
    while todo:
        current = todo.pop()
        own = current.spec.module_path
        for src, _ in current.code + current.tests:
            if not src.endswith(".py"):
                continue
            text = read(src).decode("utf-8", errors="replace")  # _scan names a file that is not UTF-8
            for mention in mentions(text, project.package_name, outside=own):
                for path in index.related(mention):
                    if path != mp.spec.module_path and path not in found:
                        found[path] = collect(project, by_path[path])
                        todo.append(found[path])
    return tuple(found[path] for path in sorted(found))


def resolve_imports(project: Project, mp: MicroPackage, others: tuple[MicroPackage, ...],
                    read: Read) -> tuple[MicroPackage, list[str]]:
    """``mp`` with the micro-packages it imports (among ``others``, those it may mention) as
    ``requires``, and the warning lines for allowed imports. An import of a project module in
    no micro-package, a relative import climbing out, or a cycle is a PackageError, one line each."""
    from .graph import find_cycle

    by_path = {o.spec.module_path: o for o in (*others, mp)}
    edges: dict[str, list[str]] = {}
    problems: list[str] = []
    warnings: list[str] = []
    todo = [mp]
    while todo:
        current = todo.pop()
        path = current.spec.module_path
        if path in edges:
            continue
        deps, bad, allowed = _scan(project, current, list(by_path), read)
        edges[path] = deps
        if current is mp:
            problems, warnings = bad, allowed
        todo += [by_path[d] for d in deps if d in by_path]
    if problems:
        raise PackageError("\n".join(problems))
    cycle = find_cycle(edges)
    if cycle:
        raise PackageError(f"{entry('package', mp.spec.module_path)}: micro-packages import each other in a cycle: "
                           f"{' -> '.join(cycle)}; a cycle can never be pulled, move the shared code into one of them")
    requires = tuple(Dependency(d, by_path[d].name, by_path[d].version) for d in edges[mp.spec.module_path])
    return (replace(mp, requires=requires) if requires else mp), warnings


def _scan(project: Project, mp: MicroPackage, module_paths: list[str], read: Read) -> tuple[list[str], list[str], list[str]]:
    """(the micro-packages of ``module_paths`` it imports, problem lines, allowed lines)."""
    from .imports import may_leave, owner, references

    package = project.package_name
    where = entry("package", mp.spec.module_path)
    parts = tuple(mp.spec.module_path.split("."))
    deps: set[str] = set()
    problems, allowed = [], []
    for files, top in ((mp.code, (package, *parts)), (mp.tests, ("tests", *parts))):
        for src, rel in files:
            if not src.endswith(".py"):
                continue
            text = _python_text(project, read, src, where)
            if not may_leave(text, package, mp.spec.module_path):
                continue  # the common case: nothing to parse
            try:
                refs = references(text, package, top + tuple(rel.split("/")[:-1]))
            except (SyntaxError, ValueError) as exc:
                lineno = getattr(exc, "lineno", None)
                line = f" (line {lineno})" if lineno else ""
                raise PackageError(f"{where}: cannot rewrite the imports of {_shown(project, src)}: it is not valid "
                                   f"UTF-8 Python 3{line}") from None
            for ref in refs:
                inner = ref.name[len(package) + 1:] if ref.kind != "relative" else ""
                if ref.kind == "relative":
                    top_name = ".".join(top)
                    if ref.name == top_name or ref.name.startswith(top_name + "."):
                        continue
                else:
                    found = owner(inner, module_paths)
                    if found == mp.spec.module_path:
                        continue
                    if found:
                        deps.add(found)
                        continue
                    if ref.kind == "string" and not _is_project_module(project, inner):
                        continue  # "acme.log": a dotted string, not a module of the project
                at = f"{_shown(project, src)}:{ref.line}"
                if any(ref.name == a or ref.name.startswith(a + ".") for a in mp.spec.allow):
                    allowed.append(f"{at} imports {ref.name}, which is not part of the micro-package: left as it is "
                                   "(listed in allow); pulls need it in the project already")
                elif ref.kind == "relative":
                    problems.append(f"{at} imports {ref.name} with a relative import that climbs out of the "
                                    "micro-package: import it absolutely from a micro-package, or list it in allow (the entry's "
                                    "allow key, or --allow)")
                else:
                    problems.append(f"{at} imports {ref.name}, which is not part of any micro-package: "
                                    "package it too, or list it in allow (the entry's allow key, or --allow)")
    return sorted(deps), problems, allowed


def _is_project_module(project: Project, inner: str) -> bool:
    first = inner.split(".", 1)[0]
    return (project.package_dir / first).is_dir() or (project.package_dir / f"{first}.py").is_file()
