"""Long property-based fuzz run of every parser: `python bench/fuzz.py --minutes 10 [--parser NAME]`.

Runs the properties of tests/reliability/fuzz_targets.py (a result or a ProvenanceError, nothing else; each
input within the deadline) for the given time per parser, in rounds of hypothesis runs, and prints per parser
the examples run and the failures (each failure is shrunk by hypothesis and printed once).
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
import traceback
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reliability"))

from fuzz_targets import TARGETS, Target, close_sandboxes
from hypothesis import HealthCheck, Phase, given, settings

ROUND_EXAMPLES = 2_000


def fuzz(target: Target, seconds: float, deadline_ms: int) -> tuple[int, list[str]]:
    """Examples run and failure descriptions for one parser over `seconds`."""
    count = 0
    failures: list[str] = []
    stop_at = time.monotonic() + seconds

    @settings(
        max_examples=ROUND_EXAMPLES,
        deadline=datetime.timedelta(milliseconds=deadline_ms),
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy)
    def run(case: Any) -> None:
        nonlocal count
        if time.monotonic() > stop_at:
            return
        count += 1
        target.check(case)

    while time.monotonic() < stop_at:
        try:
            run()
        except Exception as exc:  # noqa: BLE001  (a fuzz failure of any kind is recorded, then the run goes on)
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            if text not in failures:
                failures.append(text)
                print(f"  FAILURE in {target.name}:\n{''.join(traceback.format_exception(exc))}", flush=True)
    return count, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="time per parser (default 10)")
    parser.add_argument("--parser", choices=sorted(TARGETS), action="append", help="repeatable; default: all")
    parser.add_argument("--deadline-ms", type=int, default=2_000, help="hypothesis deadline per input")
    args = parser.parse_args(argv)
    names = args.parser or sorted(TARGETS)
    failed = 0
    try:
        for name in names:
            started = time.monotonic()
            count, failures = fuzz(TARGETS[name], args.minutes * 60, args.deadline_ms)
            elapsed = time.monotonic() - started
            print(f"{name:12} examples={count:8d} failures={len(failures)} seconds={elapsed:.0f}", flush=True)
            failed += len(failures)
    finally:
        close_sandboxes()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
