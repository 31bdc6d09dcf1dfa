"""The tensor digest: one digest over a checkpoint's tensors, independent of sharding and file order.

Specified in docs/tensor-digest.md (with test vectors). In short: each tensor is a record
`[name, dtype, shape, sha256-of-its-bytes]`, serialised as compact ASCII JSON plus a newline; records are
sorted by name and hashed with SHA-256 after the line `provenance-tensor-digest/1`. The result is written
`tdv1:<64 hex>`. Re-sharding (moving tensors between files, renaming shards, changing the order of tensors
inside a file, changing header padding or `__metadata__`) keeps the digest; changing one byte of one tensor,
a dtype, a shape or a name changes it.

Pure functions: the per-tensor sha256 values come from `hashes.hash_file`, which streams the bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from provenance.errors import InputError

SCHEME = "provenance-tensor-digest/1"
PREFIX = "tdv1:"


@dataclass(frozen=True)
class TensorRecord:
    """One tensor: its name, dtype (safetensors name, or the ggml type name for GGUF), shape (outermost
    dimension first) and the sha256 of its bytes as stored."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    sha256: str

    def line(self) -> bytes:
        """The canonical record line (see docs/tensor-digest.md)."""
        record = [self.name, self.dtype, list(self.shape), self.sha256]
        return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape), "sha256": self.sha256}


@dataclass(frozen=True)
class Located:
    """A record and the file it came from (to name both files when two disagree)."""

    record: TensorRecord
    file: str


def merge_records(located: Iterable[Located]) -> tuple[TensorRecord, ...]:
    """All tensors of a checkpoint, sorted by name. The same tensor stored twice (identical record) counts
    once; two different tensors of one name are an error naming both files."""
    by_name: dict[str, Located] = {}
    for item in located:
        seen = by_name.get(item.record.name)
        if seen is None:
            by_name[item.record.name] = item
        elif seen.record != item.record:
            raise InputError(
                item.file,
                f"tensor {item.record.name!r} is also in {seen.file} with different dtype, shape or bytes",
                "a checkpoint's tensor names must be unique across its files; verify one copy at a time",
            )
    return tuple(by_name[name].record for name in sorted(by_name))


def tensor_digest(records: Iterable[TensorRecord]) -> str:
    """`tdv1:<hex>` over the records sorted by name. Names must be unique (see `merge_records`)."""
    ordered = sorted(records, key=lambda r: r.name)
    hasher = hashlib.sha256(SCHEME.encode("ascii") + b"\n")
    previous: str | None = None
    for record in ordered:
        if record.name == previous:
            raise ValueError(f"duplicate tensor name {record.name!r}")
        previous = record.name
        hasher.update(record.line())
    return PREFIX + hasher.hexdigest()


def is_tensor_digest(text: object) -> bool:
    if not isinstance(text, str) or not text.startswith(PREFIX):
        return False
    hexpart = text.removeprefix(PREFIX)
    return len(hexpart) == 64 and all(c in "0123456789abcdef" for c in hexpart)


__all__ = [
    "PREFIX",
    "SCHEME",
    "Located",
    "TensorRecord",
    "is_tensor_digest",
    "merge_records",
    "tensor_digest",
]
