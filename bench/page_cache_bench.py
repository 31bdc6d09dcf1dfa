"""Where the time goes between the page cache and SHA-256 on this machine (why warm verify is not at the
openssl ceiling, and what memory maps would change).

Prints, for warm files (one process, nothing else of ours involved):
  * the compute ceilings: `openssl speed -evp sha256`, one core and `-multi 2`, and hashlib on buffers
    already in memory (one thread, and one thread per core);
  * the cost of getting the bytes: `readinto` into a fixed buffer (a copy out of the page cache), and
    `mmap` windows with MAP_POPULATE then `munmap` (page-table work instead of a copy), neither hashed;
  * both combined with hashing, one file per thread on every core, and the bound the two costs imply when
    nothing overlaps them: cores / (1/hash + 1/transfer).

The map rows run here, in one process, to measure; `provenance verify` maps files only in a worker process
that a SIGBUS may kill (provenance/verify/mapped.py). The cost of mapping depends on the page cache: files
written or read sequentially on a recent kernel sit in large folios, which map at 100+ GB/s; files the
cache holds in 4 KiB pages map at about the speed of a copy.

Usage: `python bench/page_cache_bench.py [--size-gb 4] [--files 8] [--repeat 5]`. Prints medians and
maxima of `--repeat` interleaved rounds.
"""

from __future__ import annotations

import argparse
import hashlib
import mmap
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BUFFER = 1 << 20
WINDOW = 8 << 20


def openssl(multi: int) -> float:
    argv = ["openssl", "speed", "-evp", "sha256", "-seconds", "1", "-bytes", "16384"]
    if multi > 1:
        argv += ["-multi", str(multi)]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    match = re.search(r"^sha256\s+([\d.]+)k", out, re.MULTILINE)
    if match is None:
        raise RuntimeError("cannot parse openssl speed output")
    return float(match.group(1)) * 1000


def in_memory(threads: int) -> float:
    block = os.urandom(BUFFER)
    rounds = 1024

    def one(_: int) -> None:
        hasher = hashlib.sha256()
        for _ in range(rounds):
            hasher.update(block)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(threads)))
    return threads * rounds * BUFFER / (time.perf_counter() - start)


def read_file(path: Path, hashed: bool) -> int:
    hasher = hashlib.sha256()
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    total = 0
    with path.open("rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            if hashed:
                hasher.update(view[:count])
            total += count
    return total


def map_file(path: Path, hashed: bool) -> int:
    hasher = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        for offset in range(0, size, WINDOW):
            length = min(WINDOW, size - offset)
            flags = mmap.MAP_SHARED | mmap.MAP_POPULATE
            with mmap.mmap(fd, length, flags=flags, prot=mmap.PROT_READ, offset=offset) as mapped:
                if hashed:
                    with memoryview(mapped) as view:
                        hasher.update(view)
    finally:
        os.close(fd)
    return size


def over_files(files: list[Path], method: Callable[[Path, bool], int], hashed: bool, threads: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda p: method(p, hashed), files))
    return total / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-gb", type=float, default=4.0, help="total size of the files (default 4)")
    parser.add_argument("--files", type=int, default=8, help="number of files (default 8)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--tmp", default="/tmp", help="where to write the files (default /tmp)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    work = Path(tempfile.mkdtemp(prefix="provenance-page-cache-", dir=args.tmp))
    try:
        each = int(args.size_gb * 1e9) // args.files
        files = []
        for n in range(args.files):
            path = work / f"f{n}"
            with path.open("wb") as handle:
                for _ in range(0, each, 64 << 20):
                    handle.write(os.urandom(64 << 20))
            files.append(path)
        for path in files:
            read_file(path, hashed=False)
        rows: dict[str, list[float]] = {}
        measures: list[tuple[str, Callable[[], float]]] = [
            ("openssl speed, 1 core", lambda: openssl(1)),
            (f"openssl speed -multi {cores}", lambda: openssl(cores)),
            ("hashlib in memory, 1 thread", lambda: in_memory(1)),
            (f"hashlib in memory, {cores} threads", lambda: in_memory(cores)),
            ("readinto 1 MiB, not hashed, 1 thread", lambda: over_files(files[:2], read_file, False, 1)),
            ("mmap+populate 8 MiB, not hashed, 1 thread", lambda: over_files(files[:2], map_file, False, 1)),
            (f"readinto + sha256, {cores} threads", lambda: over_files(files, read_file, True, cores)),
            (f"mmap + sha256, {cores} threads", lambda: over_files(files, map_file, True, cores)),
        ]
        for _ in range(args.repeat):
            for name, measure in measures:
                rows.setdefault(name, []).append(measure())
        size = each * args.files / 1e9
        print(f"{args.files} files, {size:.2f} GB, warm; CPUs: {cores}; {args.repeat} rounds\n")
        print(f"{'':48s} {'median':>8s} {'max':>8s}  (GB/s)")
        for name, values in rows.items():
            print(f"{name:48s} {statistics.median(values) / 1e9:8.3f} {max(values) / 1e9:8.3f}")
        hash_rate = statistics.median(rows["hashlib in memory, 1 thread"])
        ceiling = statistics.median(rows[f"openssl speed -multi {cores}"])
        print(f"\nbound if nothing overlaps: cores / (1/hash + 1/transfer), share of openssl -multi {cores}:")
        for label, key in (("readinto", "readinto 1 MiB"), ("mmap", "mmap+populate 8 MiB")):
            transfer = statistics.median(next(v for k, v in rows.items() if k.startswith(key)))
            bound = cores / (1 / hash_rate + 1 / transfer)
            measured = statistics.median(
                next(v for k, v in rows.items() if k.startswith(label) and "sha256" in k)
            )
            print(
                f"  {label:9s} bound {bound / 1e9:.3f} GB/s = {bound / ceiling:.2f}; "
                f"measured {measured / 1e9:.3f} GB/s = {measured / ceiling:.2f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
