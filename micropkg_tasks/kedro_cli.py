"""``kedro micropkg package`` / ``kedro micropkg pull`` for Kedro 1.x, as a Kedro CLI plugin.

Kedro 1.0 removed its ``micropkg`` commands. This plugin (entry point group
``kedro.project_commands``) restores them with Kedro 0.19.15's arguments, options, defaults and
help texts, and runs the same doit tasks as ``doit package`` / ``doit pull``, in-process through
doit's Python API, in the project root and with the same ``.micropkg/`` state: what one of them
built the other sees as up to date.

On Kedro < 1.0, which ships its own ``kedro micropkg``, the group this module exposes is empty:
Kedro 0.19 puts plugin commands before its own, so a ``micropkg`` here would shadow Kedro's.

Only Kedro imports this module (through the entry point); ``doit`` runs never do, so they never
import kedro or click through it.
"""
from __future__ import annotations

import contextlib
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from .rules import is_url

MISSING_PACKAGE = (
    "Please specify a micro-package name or add '--all' to package all micro-packages in the "
    "'pyproject.toml' package manifest section."
)
MISSING_PULL = (
    "Please specify a package path or add '--all' to pull all micro-packages in the "
    "'pyproject.toml' package manifest section."
)


def kedro_major_version() -> int:
    """The major version of the Kedro that loaded this plugin (0 if it cannot be read)."""
    try:
        from kedro import __version__
    except ImportError:  # pragma: no cover - only Kedro loads this module
        return 0
    match = re.match(r"\s*v?(\d+)", str(__version__))
    return int(match.group(1)) if match else 0


# -- checks Kedro 0.19 made in click callbacks (same messages; exit 1 as its KedroCliError) ---------

def _check_module_path(ctx: click.Context, param: Any, value: str | None) -> str | None:
    if value and not re.match(r"^[\w.]+$", value):
        raise click.ClickException("The micro-package location you provided is not a valid Python module path")
    return value


def _check_alias(ctx: click.Context, param: Any, value: str) -> str:
    if value:
        base = f"'{value}' is not a valid Python package name."
        if not re.match(r"^[a-zA-Z_]", value):
            raise click.ClickException(base + " It must start with a letter or underscore.")
        if len(value) < 2:
            raise click.ClickException(base + " It must be at least 2 characters long.")
        if not re.match(r"^\w+$", value[1:]):
            raise click.ClickException(base + " It must contain only letters, digits, and/or underscores.")
    return value


class _Path(click.Path):
    """Kedro's ``click.Path`` options, but a value no file system takes (a NUL byte, possible
    in-process) is a usage error (exit 2), not a traceback; ``name`` keeps Kedro's help metavar."""

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if name:
            self.name = name

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        try:
            return super().convert(value, param, ctx)
        except (ValueError, OSError) as exc:
            self.fail(f"{_shown(str(value))} is not a usable path ({exc})", param, ctx)


# -- running doit ---------------------------------------------------------------------------------

def _inside(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX), or None when it lies outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def _local_path(value: str, root: Path, option: str) -> str:
    """A path given on the command line, seen from the project root: relative when inside it,
    absolute otherwise (it was typed relative to the current folder, the task runs in the root)."""
    try:
        path = Path(value).expanduser().resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # NUL byte, symlink loop, unknown ~user
        raise click.ClickException(f"{option}: {_shown(value)} is not a usable path ({exc})") from None
    return _inside(path, root) or str(path)


def _shown(value: str) -> str:
    """A value as an error line shows it: repr'd (control characters escaped), at most 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _module_location(value: str, metadata: Any) -> str:
    """``pull -d``: a module location under the project package (``pipelines``, ``pipelines/lib``,
    ``pipelines.lib``), as in Kedro 0.19; an absolute path inside the project package is taken as
    the location it names. Pulled code only ever goes inside the project package."""
    if not os.path.isabs(os.path.expanduser(value)):
        return value
    package_dir = (Path(metadata.source_dir) / metadata.package_name).resolve()
    path = Path(_local_path(value, package_dir, "-d/--destination"))
    if path.is_absolute():
        raise click.ClickException(
            f"-d/--destination: {_shown(value)} is outside the project package {package_dir}; pulled code goes "
            "under it: give a module location such as pipelines")
    if path == Path("."):
        raise click.ClickException(f"-d/--destination: {_shown(value)} is the project package itself; give a "
                                   "module location under it such as pipelines, or no --destination")
    return path.as_posix()


#: doit's spellings in messages the tasks print, and the plugin's: every hint names a command
#: or option that exists where it is printed.
_REPHRASE = (
    ("doit pull --source=<its sdist>", "kedro micropkg pull <its sdist>"),
    ("doit pull --force --source=<one of ", "kedro micropkg pull --force <one of "),
    ("or use --micropkg.", "or name a module path: kedro micropkg package <module path>."),
    ("or use --source.", "or name a package path: kedro micropkg pull <package path>."),
    ("doit package", "kedro micropkg package"),
    ("doit pull", "kedro micropkg pull"),
    ("doit status", "kedro micropkg status"),
    ("doit diff", "kedro micropkg diff"),
    ("doit outdated", "kedro micropkg outdated"),
)


class _Rephrased:
    """A text stream that writes to ``stream`` with doit's spellings replaced by the plugin's."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        for doit_text, ours in _REPHRASE:
            if doit_text in text:
                text = text.replace(doit_text, ours)
        return int(self._stream.write(text) or 0)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, fileno...
        return getattr(self._stream, name)


def run_doit(project_path: Path, args: list[str], verbose: bool = False, quiet: bool = False) -> None:
    """Run ``doit <args>`` on micropkg-tasks' tasks in the project root; exit 1 if it failed.

    The namespace is exactly what a project's ``dodo.py`` (``from micropkg_tasks import *``)
    gives doit, so task names, ``DOIT_CONFIG`` and the ``.micropkg/`` database are the same.
    doit runs in this process, once per call: it writes to the streams the caller has now
    (doit's reporter would otherwise keep the ``sys.stdout`` of the first import), and its
    per-command caches start afresh (``micropkg_tasks.scope``: every command reads the project
    as it is now). Any failure exits 1, as Kedro 0.19's errors did (doit's load errors exit 3);
    the message is doit's one line. ``quiet``: stdout is for the command's own output (JSON),
    so doit's reporter (and ``verbose``'s line) write to stderr.
    """
    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    import micropkg_tasks

    if verbose:
        from .credentials import redact

        click.echo(redact("doit " + shlex.join(args)), err=quiet)
    namespace = {name: getattr(micropkg_tasks, name) for name in micropkg_tasks.__all__}
    out, err = _Rephrased(sys.stdout), _Rephrased(sys.stderr)
    previous = os.getcwd()
    os.chdir(project_path)  # doit reads pyproject.toml and opens .micropkg/doit.db from here
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            # the reporter's stream: with quiet, its lines (an ERROR) go to stderr, stdout is the output's
            try:  # doit reads its [tool.doit] from pyproject.toml first: a broken one is a traceback there
                main = DoitMain(ModuleTaskLoader(namespace), extra_config={"GLOBAL": {"outfile": err if quiet else out}})
            except ValueError as exc:  # tomllib.TOMLDecodeError (a second call, after an edit, in-process)
                from .errors import one_line

                click.echo(f"ERROR: pyproject.toml is not valid TOML: {one_line(str(exc))}", err=True)
                sys.exit(1)
            code = main.run(args)
        out.flush()
        err.flush()
    finally:
        os.chdir(previous)
    if code:
        sys.exit(1)  # as 0.19: a SystemExit, which reaches a caller without standalone mode too


def _opt(name: str, value: str | None) -> list[str]:
    # "--name=value" in one word: doit reads a bare word with '=' as a variable (x==1.0)
    return [f"--{name}={value}"] if value else []


# -- the commands ---------------------------------------------------------------------------------

_VERBOSE = click.option("--verbose", "-v", is_flag=True,
                        help="Show the equivalent doit command line before running it.")


@click.group(name="micropkg")
def micropkg() -> None:
    """Commands for working with micro-packages (micropkg-tasks: incremental, through doit)."""


@micropkg.command("pull")
@_VERBOSE
@click.argument("package_path", nargs=1, required=False)
@click.option("--all", "-a", "all_flag", is_flag=True,
              help="Pull and unpack all micro-packages in the `pyproject.toml` package manifest section.")
@click.option("--env", "-e", type=str, default=None,
              help="Environment to install the micro-package configuration to. Defaults to `base`.")
@click.option("--alias", type=str, default="", help="Rename the package.")
@click.option("-d", "--destination", type=_Path(file_okay=False, dir_okay=True, name="path"), default=None,
              help="Module location where to unpack under.")
@click.option("--fs-args", type=_Path(exists=True, file_okay=True, dir_okay=False, readable=True,
                                      resolve_path=True),
              default=None,
              help="Location of a configuration file for the fsspec filesystem used to pull the package.")
@click.option("--force", is_flag=True,
              help="Replace files changed since the last pull (or not installed by a pull); restore those you deleted.")
@click.option("--merge", type=click.Choice(["markers"]), default=None,
              help="--merge=markers: where your edits conflict with the new version, write git-style conflict "
                   "markers instead of stopping.")
@click.pass_obj  # Kedro passes the project's metadata
def pull_package(metadata: Any, /, package_path: str | None, env: str | None, alias: str,
                 destination: str | None, fs_args: str | None, all_flag: bool, force: bool, merge: str | None,
                 verbose: bool) -> None:
    """Pull and unpack a modular pipeline and other micro-packages in your project.

    Runs `doit pull` ([tool.micropkg.pull] with --all, else `--source=PACKAGE_PATH`), then the
    `pull:pip-compile` task. --force and --merge apply with --all too.
    """
    root = Path(metadata.project_path).resolve()
    how = [*(["--force"] if force else []), *_opt("merge", merge)]
    if all_flag:  # as in Kedro, --all ignores the other arguments (but for --force and --merge)
        args = ["pull", *how]
    elif package_path:
        source = package_path
        if not is_url(source) and os.path.exists(os.path.expanduser(source)):
            source = _local_path(source, root, "PACKAGE_PATH")
        args = ["pull", *_opt("source", source), *_opt("alias", alias), *_opt("env", env),
                *_opt("destination", _module_location(destination, metadata) if destination else None),
                *_opt("fs-args", _local_path(fs_args, root, "--fs-args") if fs_args else None), *how]
    else:
        click.echo(MISSING_PULL)
        sys.exit(1)  # as 0.19: a SystemExit, which reaches a caller without standalone mode too
    run_doit(root, args, verbose)


@micropkg.command("package")
@_VERBOSE
@click.option("--env", "-e", type=str, default=None,
              help="Environment where the micro-package configuration lives. Defaults to `base`.")
@click.option("--alias", type=str, default="", callback=_check_alias, help="Alternative name to package under.")
@click.option("-d", "--destination", type=_Path(resolve_path=True, file_okay=False),
              help="Location where to create the source distribution file. Defaults to `dist/`.")
@click.option("--all", "-a", "all_flag", is_flag=True,
              help="Package all micro-packages in the `pyproject.toml` package manifest section.")
@click.option("--allow", multiple=True, metavar="MODULE",
              help="A project module outside any micro-package it may import, e.g. my_project.utils "
                   "(the manifest's allow); repeat for more.")
@click.option("--wheel", is_flag=True,
              help="Also build a wheel of each sdist ([tool.micropkg] wheel); --all too.")
@click.argument("module_path", nargs=1, required=False, callback=_check_module_path)
@click.pass_obj  # Kedro passes the project's metadata
def package_micropkg(metadata: Any, /, module_path: str | None, env: str | None, alias: str,
                     destination: str | None, all_flag: bool, allow: tuple[str, ...], wheel: bool,
                     verbose: bool) -> None:
    """Package up a modular pipeline or micro-package as a Python source distribution.

    Runs `doit package` ([tool.micropkg.package] with --all, else `--micropkg=MODULE_PATH`):
    only sdists whose files or options changed are rebuilt.
    """
    root = Path(metadata.project_path).resolve()
    wheels = ["--wheel"] if wheel else []
    if all_flag:  # as in Kedro, --all ignores the other arguments (but for --wheel)
        args = ["package", *wheels]
    elif module_path:
        args = ["package", *_opt("micropkg", module_path), *_opt("alias", alias), *_opt("env", env),
                *_opt("destination", _local_path(destination, root, "-d/--destination") if destination else None),
                *[f"--allow={name}" for name in allow], *wheels]
    else:
        click.echo(MISSING_PACKAGE)
        sys.exit(1)  # as 0.19: a SystemExit, which reaches a caller without standalone mode too
    run_doit(root, args, verbose)


# -- the life cycle Kedro never had: the same doit tasks, same output and exit codes -----------------

_CHECK = "Exit non-zero when {}: for CI."


@micropkg.command("status")
@_VERBOSE
@click.option("--check", is_flag=True, help=_CHECK.format("a pulled file changed or still holds conflict markers"))
@click.pass_obj
def status(metadata: Any, /, check: bool, verbose: bool) -> None:
    """What each pulled micro-package is (module, version, source) and which files changed since the pull.

    Runs `doit status`."""
    run_doit(Path(metadata.project_path).resolve(), ["status", *(["--check"] if check else [])], verbose)


@micropkg.command("diff")
@_VERBOSE
@click.option("--module", "-m", type=str, default=None, help="Only this installed module path, e.g. pipelines.tidy.")
@click.pass_obj
def diff(metadata: Any, /, module: str | None, verbose: bool) -> None:
    """Unified diff of the pulled files you changed, against the version that was pulled.

    Runs `doit diff`."""
    run_doit(Path(metadata.project_path).resolve(), ["diff", *_opt("module", module)], verbose)


@micropkg.command("outdated")
@_VERBOSE
@click.option("--check", is_flag=True, help=_CHECK.format("a newer version is available"))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of the table.")
@click.pass_obj
def outdated(metadata: Any, /, check: bool, as_json: bool, verbose: bool) -> None:
    """The newest version at each pulled micro-package's source (index, folder or bucket).

    Runs `doit outdated` (with --json, doit reports on stderr: stdout is the JSON alone, after
    the line Kedro itself logs at start-up, see the README)."""
    args = ["outdated", *(["--check"] if check else []), *(["--json"] if as_json else [])]
    run_doit(Path(metadata.project_path).resolve(), args, verbose, quiet=as_json)


@click.group(name="Kedro")  # merged with Kedro's own project commands group of the same name
def commands() -> None:
    pass


if kedro_major_version() >= 1:
    commands.add_command(micropkg)
