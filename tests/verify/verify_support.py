"""Helpers for the verify tests: real safetensors and GGUF files written byte by byte, a model folder."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

Tensor = tuple[str, tuple[int, ...], bytes]  # dtype, shape, bytes


def safetensors_bytes(
    tensors: Mapping[str, Tensor], order: Sequence[str] | None = None, metadata: dict[str, str] | None = None
) -> bytes:
    """A valid safetensors file holding `tensors` in `order` (default: insertion order)."""
    header: dict[str, object] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    names = list(order) if order is not None else list(tensors)
    for name in names:
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(tensors[n][2] for n in names)


def write_safetensors(
    path: Path,
    tensors: Mapping[str, Tensor],
    order: Sequence[str] | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    path.write_bytes(safetensors_bytes(tensors, order, metadata))
    return path


def random_tensors(count: int = 6, seed: int = 0) -> dict[str, Tensor]:
    rng = np.random.default_rng(seed)
    out: dict[str, Tensor] = {}
    for i in range(count):
        array = rng.standard_normal((16, 8 + i)).astype(np.float32)
        out[f"model.layers.{i}.mlp.weight"] = ("F32", array.shape, array.tobytes())
    out["model.norm.weight"] = ("BF16", (8,), bytes(range(16)))
    return out


def gguf_bytes(tensors: Mapping[str, tuple[int, tuple[int, ...], bytes]], alignment: int = 32) -> bytes:
    """A minimal GGUF v3 file: one KV (general.architecture) and `tensors` as {name: (ggml_type, ne, bytes)}."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = string("general.architecture") + struct.pack("<I", 8) + string("llama")
    infos = b""
    offset = 0
    blobs = []
    for name, (ggml_type, dims, data) in tensors.items():
        infos += string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ggml_type, offset)
        padded = data + b"\0" * (-len(data) % alignment)
        blobs.append(padded)
        offset += len(padded)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 1) + kv + infos
    head += b"\0" * (-len(head) % alignment)
    return head + b"".join(blobs)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def mapped_workers(parent: int) -> list[int]:
    """The live memory-map workers (processes running mapped_worker.py, not zombies) whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == parent and b"mapped_worker.py" in cmdline and state != "Z":
            found.append(int(entry.name))
    return found
