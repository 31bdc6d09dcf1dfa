"""Time and peak memory of the readers on the pathological inputs of the reliability checklist.

    .venv/bin/python bench/parsers_bench.py

Prints one line per case: seconds and peak traced allocation (tracemalloc). The tests assert the outcomes
(errors, caps); the figures live here, not in timed tests.
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from collections.abc import Callable

from provenance.errors import ProvenanceError
from provenance.policy.orgpolicy import parse_policy
from provenance.readers import safetensors as st
from provenance.readers.jsonfiles import load_json_object
from provenance.readers.modelcard import parse_card
from provenance.readers.textfiles import read_license_file

MIT = "Permission is hereby granted, free of charge, to any person obtaining a copy of this software. " * 10


def _million_tensors() -> bytes:
    body = ",".join(
        f'"t{i}":{{"dtype":"F16","shape":[2],"data_offsets":[{4 * i},{4 * i + 4}]}}' for i in range(10**6)
    )
    return ("{" + body + "}").encode()


def _alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    return "version: 1\n" + "\n".join(lines)


CASES: list[tuple[str, Callable[[], object]]] = [
    ("safetensors header, 1,000,000 tensors", lambda: st.parse_header(HEADER, "big.safetensors")),
    (
        "safetensors header, 100k-deep nesting",
        lambda: st.parse_header(b'{"x":' + b"[" * 100_000 + b"]}", "m"),
    ),
    ("config.json, 100k-deep nesting", lambda: load_json_object(b"[" * 100_000 + b"]" * 100_000, "c.json")),
    ("config.json, 1M escaped quotes", lambda: load_json_object(b'{"a": "' + b'\\"' * 1_000_000, "c.json")),
    (
        "card front matter, alias bomb",
        lambda: parse_card(("---\n" + _alias_bomb() + "\n---\n").encode(), "README.md"),
    ),
    ("policy YAML, alias bomb", lambda: parse_policy(_alias_bomb(), "p.yaml")),
    ("LICENSE, 100 MB", lambda: read_license_file(MIT.encode() * (100 * 2**20 // len(MIT)), "LICENSE")),
]


def main() -> None:
    print(f"{'case':<42} {'seconds':>8} {'peak MB':>8}")
    for name, run in CASES:
        tracemalloc.start()
        started = time.perf_counter()
        with contextlib.suppress(ProvenanceError):
            run()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{name:<42} {elapsed:8.2f} {peak / 2**20:8.1f}")


HEADER = _million_tensors()

if __name__ == "__main__":
    main()
