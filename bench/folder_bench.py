"""Scan time and peak memory of a folder with many small files (the reliability checklist's 100k case).

    .venv/bin/python bench/folder_bench.py [--files 100000]

Builds the folder under /tmp (a card, a config and N small text files in 100 sub-folders), scans it once
through `provenance.scan` with a progress callback, and prints the seconds, files per second, progress calls
and peak traced allocation. Then shows the `--max-files` cap refusing it. The tests assert the behaviour
(tests/sources/test_local.py); the figures live here.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

from provenance.errors import ProvenanceError
from provenance.scan import scan


def build(root: Path, files: int) -> None:
    (root / "README.md").write_text("---\nlicense: mit\nbase_model: acme/base\n---\n# many files\n")
    (root / "config.json").write_text('{"model_type": "llama", "hidden_size": 64}')
    for i in range(files):
        folder = root / f"d{i % 100:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{i}.txt").write_text("x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="provenance-folder-bench-"))
    try:
        started = time.perf_counter()
        build(root, args.files)
        print(f"built {args.files:,} files in {time.perf_counter() - started:.1f} s under {root}")
        calls = 0

        def progress(done: int, total: int, path: str) -> None:
            nonlocal calls
            calls += 1

        tracemalloc.start()
        started = time.perf_counter()
        report = scan(str(root), max_files=args.files + 10, progress=progress)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        listed = len(report.files)
        print(
            f"scan: {listed:,} files in {seconds:.2f} s ({listed / seconds:,.0f} files/s), "
            f"{calls:,} progress calls, peak traced allocation {peak / 1e6:.1f} MB"
        )
        started = time.perf_counter()
        try:
            scan(str(root), max_files=args.files // 2)
        except ProvenanceError as exc:
            took = time.perf_counter() - started
            print(f"cap at {args.files // 2:,}: refused in {took:.2f} s: {exc.problem}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
