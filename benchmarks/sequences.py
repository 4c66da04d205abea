"""The stateful sequence test of tests/test_sequences.py, run long: ``python benchmarks/sequences.py
--steps 2000`` drives the same machine (real doit processes on a producer, a folder registry and a
consumer) until that many steps have run, and prints the figures: steps, commands and their rate,
each command's exit codes, the known gaps met, and every counterexample (its minimal sequence).
``--strict`` switches every known gap back on, to see the sequences that reach them."""
from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import test_sequences as machine
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="run until this many steps (default 2000)")
    parser.add_argument("--per-example", type=int, default=40, help="steps in one sequence (default 40)")
    parser.add_argument("--strict", action="store_true", help="switch every known gap back on")
    parser.add_argument("--max-failures", type=int, default=20, help="stop after this many counterexamples")
    parser.add_argument("--minutes", type=float, default=0, help="start no new sequence after this long (0: no limit)")
    args = parser.parse_args(argv)
    if args.strict:
        machine.KNOWN_GAPS.clear()
    config = settings(max_examples=10**6, stateful_step_count=args.per_example, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
    failures: list[str] = []
    start = time.perf_counter()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a kill still prints the figures
    while machine.STATS["steps"] < args.steps and len(failures) < args.max_failures:
        if args.minutes and time.perf_counter() - start > args.minutes * 60:
            break
        budget = args.steps - machine.STATS["steps"]
        runs = settings(config, max_examples=max(1, min(20, budget // args.per_example)))
        try:
            run_state_machine_as_test(machine.Sequences, settings=runs)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            break
        except Exception as exc:  # one counterexample, shrunk: its message and minimal sequence
            notes = "\n".join(getattr(exc, "__notes__", []))
            failures.append(f"{type(exc).__name__}: {exc}\n{notes}")
            print(f"--- counterexample {len(failures)} ---\n{failures[-1]}\n", flush=True)
            if not isinstance(exc, AssertionError):
                traceback.print_exception(exc)
    elapsed = time.perf_counter() - start
    stats = machine.STATS
    print(f"steps run: {stats['steps']}  (sequences of up to {args.per_example} steps)")
    print(f"doit commands: {stats['commands']} in {elapsed:.0f} s: {stats['commands'] / elapsed:.2f} commands/s, "
          f"{stats['steps'] / elapsed:.2f} steps/s ({stats['command seconds']:.0f} s inside doit)")
    for key in sorted(k for k in stats if k.startswith("doit ")):
        print(f"  {key}: {stats[key]}")
    print(f"known gaps switched off: {sorted(machine.KNOWN_GAPS) or 'none'}")
    for gap, count in sorted(machine.GAPS_SEEN.items()):
        print(f"  met {gap}: {count} time(s)")
    print(f"counterexamples found: {len(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
