"""Compile ``requirements.in`` into ``requirements.txt`` with pip-compile (or the configured
compiler), atomically: the old output survives a failure, and the failure is one line."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..config.project import REQUIREMENTS_IN, REQUIREMENTS_TXT, Project
from ..errors import CompileError

#: The names ``run_compile`` gives its temporary outputs (mkstemp: 8 random characters).
TEMP_OUTPUT = re.compile(r"\.requirements\.[a-z0-9_]{8}\.txt")


def compile_requirements(project: Project, command: list[str]) -> dict[str, Any]:
    """The ``pull:pip-compile`` task: compile under the project lock; doit keeps the digest of
    the requirements.in it compiled (``in_sha``) to know when to run again."""
    from ..store.files import project_lock, remove_stale_temps, sha256_file

    source = project.requirements_in
    with project_lock(project.state_dir):
        remove_stale_temps(project.root, TEMP_OUTPUT, age=0)  # every compile holds the lock: any is stale
        if not source.is_file():
            print("no requirements.in: nothing to compile")
            return {"in_sha": None}
        digest = sha256_file(source)
        run_compile(command, project.root)
    print(f"compiled {REQUIREMENTS_IN} -> {REQUIREMENTS_TXT}")
    return {"in_sha": digest}


def run_compile(command: list[str], root: Path, source: str = REQUIREMENTS_IN,
                output: str = REQUIREMENTS_TXT) -> None:
    """Compile ``source`` into ``output`` atomically: the compiler writes a copy of the old
    output (so its pins are kept), which replaces ``output`` only on success."""
    out = root / output
    fd, tmp = tempfile.mkstemp(prefix=".requirements.", suffix=".txt", dir=root)
    os.close(fd)
    try:
        if out.exists():
            shutil.copyfile(out, tmp)
        # the header names this command, not the temporary output file (uv wrote its random name: every
        # compile changed requirements.txt); pip-compile and uv each read their own variable
        env = dict(os.environ, CUSTOM_COMPILE_COMMAND="doit pull", UV_CUSTOM_COMPILE_COMMAND="doit pull")
        try:
            proc = subprocess.run([*command, source, "--output-file", tmp], cwd=root, env=env,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise CompileError(f"compile command not found: {command[0]!r}; install it or set [tool.micropkg] compile") from None
        if proc.returncode != 0:
            shown = "pip-compile" if command[1:3] == ["-m", "piptools"] else shlex.join(command[:3])
            raise CompileError(f"{shown} failed: {error_cause(proc.stderr + proc.stdout)}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


#: What names the cause in a resolver's output, most telling first.
CAUSES = ("Could not find a version that satisfies", "No matching distribution found", "ResolutionImpossible",
          "Cannot install", "conflict", "Could not build", "No such file", "Invalid requirement")


def error_cause(output: str) -> str:
    """The line of a compiler's output that names the cause (pip's ``ERROR: Could not find a
    version that satisfies the requirement zzz>=9``), not its traceback nor its first long line:
    a known cause first, else the ``ERROR`` lines, else the last exception line, else the last
    line; one line, capped."""
    from ..errors import one_line

    lines = [line.strip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(("File \"", "Traceback", "^", "~"))]
    for cause in CAUSES:
        found = next((line for line in lines if cause in line), None)
        if found:
            return one_line(found.removeprefix("ERROR: "), 400)
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith(("ERROR", "error"))]
    if errors:
        return one_line(" | ".join(errors), 400)
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)]
    return one_line((raised or lines or ["no output"])[-1], 400)
