"""What doit prints to the user, in our words: a refused task is its one ``ERROR:`` line (doit
wrote ``TaskFailed - taskid:<task>`` above it), and doit's option-parsing errors list options
as they are typed (``--env``), not as ``CmdOption({...})`` dumps. A task that crashed (a bug:
doit's ``TaskError``) keeps doit's full report, traceback included, for the bug report."""
from __future__ import annotations

from typing import Any

from doit.cmdparse import CmdOption
from doit.reporter import ConsoleReporter

from ..credentials import redact

#: A task's ``meta`` key: its stdout is for a program (JSON, dot, mermaid), so no ``.  <task>`` line.
MACHINE_OUTPUT = "machine_output"


class Reporter(ConsoleReporter):  # type: ignore[misc]
    desc = "console output (micropkg-tasks: one ERROR line per refused task)"

    def write(self, text: str) -> None:  # whatever doit reports (a crash's traceback too): no credentials
        super().write(redact(text))

    def execute_task(self, task: Any) -> None:
        if not (task.meta or {}).get(MACHINE_OUTPUT):
            super().execute_task(task)

    def _write_failure(self, result: dict[str, Any], write_exception: bool = True) -> None:
        fail = result["exception"]
        if fail.get_name() != "TaskFailed":  # not one of our refusals: doit's report as it is
            super()._write_failure(result, write_exception)
            return
        if write_exception:  # one ERROR line per line of the refusal (one per refused import, say)
            self.write("".join(f"ERROR: {line}\n" for line in fail.get_msg().strip().splitlines() if line.strip()))


def _typed(option: CmdOption) -> str:
    return " ".join(filter(None, [f"-{option.short}" if option.short else "",
                                  f"--{option.long}" if option.long else ""])) or option.name


CmdOption.__repr__ = _typed  # doit puts `{options}` (a list: their reprs) in every parsing error
