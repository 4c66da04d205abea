"""Project requirements: which lines of a micro-package are new to ``requirements.in``, and
the call to pip-compile (or a configured compiler) that turns it into ``requirements.txt``."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .errors import CompileError, MicropkgError
from .metadata import parse_requirement_line

DEFAULT_COMPILE = [sys.executable, "-m", "piptools", "compile", "--quiet", "--no-header",
                   "--strip-extras", "--no-emit-index-url", "--no-emit-trusted-host",
                   "--no-emit-find-links"]


def _key(req: str):
    """What makes two requirements the same: PEP 503 name, extras, specifier set, URL, marker."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    r = Requirement(req)
    return (canonicalize_name(r.name), frozenset(r.extras), r.specifier, r.url, str(r.marker or ""))


def existing_keys(text: str) -> set:
    keys = set()
    for line in text.splitlines():
        try:
            req = parse_requirement_line(line)
        except ValueError:  # -r, --index-url, paths...: kept in the file, not compared
            continue
        if req:
            keys.add(_key(req))
    return keys


def new_requirements(existing_text: str, incoming: list[str]) -> list[str]:
    """The incoming requirements not already in the file (PEP 508 equivalence), sorted, unique."""
    seen = existing_keys(existing_text)
    new = {}
    for req in incoming:
        key = _key(req)
        if key not in seen and key not in new:
            new[key] = req
    return sorted(new.values())


def append_block(existing_text: str, name: str, lines: list[str]) -> str:
    """``existing_text`` with a commented block for micro-package ``name`` appended."""
    if not lines:
        return existing_text
    head = existing_text if not existing_text or existing_text.endswith("\n") else existing_text + "\n"
    sep = "\n" if head else ""
    return f"{head}{sep}# Requirements from micro-package `{name}`:\n" + "".join(f"{line}\n" for line in lines)


def compile_command(configured) -> list[str] | None:
    """The compiler from ``[tool.kedro.micropkg] compile``: a command string, a list, or false."""
    if configured is None or configured is True:
        return list(DEFAULT_COMPILE)
    if configured is False:
        return None
    if isinstance(configured, str) and configured.strip():
        return shlex.split(configured)
    if isinstance(configured, list) and configured and all(isinstance(a, str) for a in configured):
        return list(configured)
    raise MicropkgError("[tool.kedro.micropkg] compile must be a command string, a list of strings, or false")


def run_compile(command: list[str], root: Path, source: str = "requirements.in",
                output: str = "requirements.txt") -> None:
    """Compile ``source`` into ``output`` atomically: the compiler writes a copy of the old
    output (so its pins are kept), which replaces ``output`` only on success."""
    out = root / output
    fd, tmp = tempfile.mkstemp(prefix=".requirements.", suffix=".txt", dir=root)
    os.close(fd)
    try:
        if out.exists():
            shutil.copyfile(out, tmp)
        env = dict(os.environ, CUSTOM_COMPILE_COMMAND="doit pull")
        try:
            proc = subprocess.run([*command, source, "--output-file", tmp], cwd=root, env=env,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise CompileError(f"compile command not found: {command[0]!r}; install it or set [tool.kedro.micropkg] compile") from None
        if proc.returncode != 0:
            raise CompileError(f"{shlex.join(command[:4])} failed: {_error_lines(proc.stderr + proc.stdout)}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _error_lines(output: str) -> str:
    """The ``ERROR:`` lines of a compiler's output (or its last line), not its traceback."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "error"))]
    return " | ".join(errors or lines[-1:] or ["no output"])
