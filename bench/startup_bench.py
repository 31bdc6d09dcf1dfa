"""Start-up time of `provenance --help` (and of a bare `import provenance`), best of N fresh processes.

Run: .venv/bin/python bench/startup_bench.py [N]
Also prints which heavy modules a `--help` run imported (should be none).
"""

from __future__ import annotations

import subprocess
import sys
import time

HEAVY = (
    "huggingface_hub",
    "rich",
    "yaml",
    "jinja2",
    "safetensors",
    "spdx_tools",
    "license_expression",
    "httpx2",
)


def best_of(argv: list[str], runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def imported_heavy() -> list[str]:
    code = (
        "import sys\nfrom provenance.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    line = out.strip().splitlines()[-1].removeprefix("HEAVY:")
    return [m for m in line.split(",") if m]


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    python = best_of([sys.executable, "-c", "pass"], runs)
    help_time = best_of([sys.executable, "-m", "provenance.cli", "--help"], runs)
    print(f"python -c pass:          {python * 1000:7.1f} ms (best of {runs})")
    print(f"provenance --help:       {help_time * 1000:7.1f} ms (best of {runs})")
    print(f"  of which provenance:   {(help_time - python) * 1000:7.1f} ms")
    print(f"heavy modules imported by --help: {imported_heavy() or 'none'}")


if __name__ == "__main__":
    main()
