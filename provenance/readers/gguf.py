"""GGUF header reader (v2 and v3, little-endian): KV metadata and tensor infos, without the gguf package.

`parse_gguf` is pure and bounded: each count and length is checked against a cap and against the bytes the
file can still hold before anything is allocated. Offsets in errors are file offsets.

`data` may be only the first part of the file (a bounded read, a remote range read). Running off its end is
judged against the file's size:

* a record that runs past the end of `data` but not past `file_size` means the read window ended: parsing
  stops, `truncated` is set, and every complete KV pair and tensor info read so far is kept;
* a record that runs past the end of the file itself (`file_size`, or `len(data)` when it is not given) is a
  corrupt length or a file cut inside its metadata. From the bytes alone the two cannot be told apart, and a
  silently shortened value (the gguf-py behaviour) is worse than an error, so it is a MalformedFileError
  naming the record and how many records were complete.

A file whose metadata is whole but whose tensor data is cut (the first part of a split download) is not an
error: everything is reported, with `truncated` set and "truncated: data needs X bytes, file has Y".

Large arrays (more than ARRAY_INLINE_MAX items, e.g. the 150k-entry `tokenizer.ggml.tokens`) are kept as a
`GGUFArray` summary: item type, length, sha256 of the canonical JSON of all items, and the first
ARRAY_HEAD items. Strings, `tokenizer.chat_template` included, are kept verbatim as text and never evaluated.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from provenance.errors import InputError, LimitExceededError, MalformedFileError
from provenance.model import Finding, Severity
from provenance.sources.local import check_readable_target

MAGIC = b"GGUF"
PREAMBLE_SIZE = 24  # magic, u32 version, u64 tensor count, u64 KV count
DEFAULT_ALIGNMENT = 32
MAX_KV = 1_000_000
MAX_TENSORS = 1_000_000
MAX_STRING = 64 * 1024 * 1024
MAX_NAME = 65_536  # keys and tensor names; real ones are under 100 bytes
MAX_ARRAY_ITEMS = 16 * 1024 * 1024
MAX_DIMS = 8
ARRAY_INLINE_MAX = 64
ARRAY_HEAD = 8
FIRST_READ = 4 * 1024 * 1024
MAX_READ = 256 * 1024 * 1024
_MIN_KV_SIZE = 8 + 4 + 1  # key length, value type, a 1-byte value (an empty key is refused later, by name)
_MIN_TENSOR_INFO_SIZE = 8 + 4 + 4 + 8  # name length, n_dims, type, offset
_INT64_MAX = 2**63 - 1
_CHUNK = 65_536  # array items decoded and hashed per step

_STRING, _ARRAY, _BOOL = 8, 9, 7
# GGUF value type id -> (name, struct format).
_SCALARS: dict[int, tuple[str, str]] = {
    0: ("UINT8", "B"),
    1: ("INT8", "b"),
    2: ("UINT16", "H"),
    3: ("INT16", "h"),
    4: ("UINT32", "I"),
    5: ("INT32", "i"),
    6: ("FLOAT32", "f"),
    7: ("BOOL", "B"),
    10: ("UINT64", "Q"),
    11: ("INT64", "q"),
    12: ("FLOAT64", "d"),
}

# ggml type id -> (name, elements per block, bytes per block), as ggml itself sizes them. Q8_1 is 36 bytes
# (two f16 + 32 quants, ggml's static_assert); gguf-py's table says 40, a leftover from f32 scales.
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    9: ("Q8_1", 32, 36),
    10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1),
    25: ("I16", 1, 2),
    26: ("I32", 1, 4),
    27: ("I64", 1, 8),
    28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
    34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17),
}

_HINT = "the file is not a valid GGUF model; re-download it or re-convert it with llama.cpp"

Scalar = int | float | bool | str


@dataclass(frozen=True)
class GGUFArray:
    """A large array, summarised: `sha256` is over the canonical JSON of every item (compact separators,
    non-ASCII kept, UTF-8), so two files with the same vocabulary give the same digest."""

    item_type: str
    length: int
    sha256: str
    head: tuple[Scalar, ...]

    def to_json(self) -> dict[str, Any]:
        head = list(self.head)
        return {"item_type": self.item_type, "length": self.length, "sha256": self.sha256, "head": head}


Value = Scalar | tuple[Scalar, ...] | GGUFArray


@dataclass(frozen=True)
class GGUFKV:
    """One metadata pair. `value_type` is the GGUF type name, `ARRAY[ITEM]` for arrays."""

    key: str
    value_type: str
    value: Value
    offset: int

    def to_json(self) -> dict[str, Any]:
        value: Any = self.value
        if isinstance(value, GGUFArray):
            value = value.to_json()
        elif isinstance(value, tuple):
            value = list(value)
        return {"key": self.key, "type": self.value_type, "value": value}


@dataclass(frozen=True)
class GGUFTensor:
    """A tensor info. `offset` is relative to the data section; `nbytes` is None for an unknown ggml type."""

    name: str
    dims: tuple[int, ...]
    ggml_type: int
    offset: int
    nbytes: int | None

    @property
    def type_name(self) -> str:
        known = GGML_TYPES.get(self.ggml_type)
        return known[0] if known else f"unknown({self.ggml_type})"

    @property
    def n_elements(self) -> int:
        count = 1
        for dim in self.dims:
            count *= dim
        return count

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dims": list(self.dims), "type": self.type_name, "offset": self.offset}


@dataclass(frozen=True)
class GGUFHeader:
    """What the metadata says. `data_offset`, `data_size`: None when unknown (metadata cut, unknown type)."""

    name: str
    version: int
    n_kv: int
    n_tensors: int
    kv: tuple[GGUFKV, ...]
    tensors: tuple[GGUFTensor, ...]
    alignment: int
    data_offset: int | None
    data_size: int | None
    file_size: int
    metadata_complete: bool
    truncated: bool
    truncation: str = ""
    lossy_keys: tuple[str, ...] = field(default_factory=tuple)

    @property
    def records_read(self) -> int:
        return len(self.kv) + len(self.tensors)

    def get(self, key: str, default: Value | None = None) -> Value | None:
        for entry in self.kv:
            if entry.key == key:
                return entry.value
        return default

    def keys(self) -> tuple[str, ...]:
        return tuple(entry.key for entry in self.kv)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alignment": self.alignment,
            "data_offset": self.data_offset,
            "data_size": self.data_size,
            "truncated": self.truncated,
            "truncation": self.truncation,
            "kv": [entry.to_json() for entry in self.kv],
            "tensors": [tensor.to_json() for tensor in self.tensors],
        }


class _WindowEnded(Exception):
    """`data` ended inside a record that still fits in the file: stop and report truncation."""


class _Cursor:
    """A read position over `data` that knows where the file (not just `data`) ends. Private to one parse."""

    def __init__(self, data: bytes, name: str, file_size: int | None) -> None:
        self.data = data
        self.name = name
        self.file_end = len(data) if file_size is None else max(file_size, len(data))
        self.pos = 0
        self.context = "header"
        self.complete = 0  # records fully read, for error messages
        self.lossy = False

    def error(self, problem: str, at: int | None = None, limit: bool = False) -> MalformedFileError:
        kind = LimitExceededError if limit else MalformedFileError
        return kind(self.name, f"{self.context}: {problem}", _HINT, offset=self.pos if at is None else at)

    def left_in_file(self) -> int:
        return self.file_end - self.pos

    def past_end(self, problem: str, at: int | None = None) -> MalformedFileError:
        """A length or count that runs past the end of the file: a cut file or a corrupt number."""
        why = f"truncated file or corrupt length; {self.complete} records complete"
        return self.error(f"{problem} ({why})", at)

    def take(self, size: int) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            if end <= self.file_end:
                raise _WindowEnded
            raise self.past_end(f"needs {size} bytes but the file ends {self.left_in_file()} bytes later")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def unpack(self, fmt: str) -> Any:
        return struct.unpack("<" + fmt, self.take(struct.calcsize(fmt)))[0]


def parse_gguf(data: bytes, name: str, file_size: int | None = None) -> GGUFHeader:
    """Parse the GGUF metadata in `data` (the file, or a prefix of it when `file_size` is larger)."""
    cursor = _Cursor(data, name, file_size)
    version, n_tensors, n_kv = _read_preamble(cursor)
    kvs: list[GGUFKV] = []
    tensors: list[GGUFTensor] = []
    lossy: list[str] = []
    try:
        alignment = _read_kvs(cursor, n_kv, kvs, lossy)
        _read_tensor_infos(cursor, n_tensors, alignment, tensors)
    except _WindowEnded:
        partial = GGUFHeader(
            name=name, version=version, n_kv=n_kv, n_tensors=n_tensors, kv=tuple(kvs), tensors=tuple(tensors),
            alignment=_alignment_of(kvs), data_offset=None, data_size=None, file_size=cursor.file_end,
            metadata_complete=False, truncated=True, lossy_keys=tuple(lossy),
        )  # fmt: skip
        return replace(partial, truncation=_window_message(cursor, partial))
    _check_overlaps(cursor, tensors)
    header = GGUFHeader(
        name=name, version=version, n_kv=n_kv, n_tensors=n_tensors, kv=tuple(kvs), tensors=tuple(tensors),
        alignment=alignment, data_offset=_align(cursor.pos, alignment), data_size=_data_size(tensors),
        file_size=cursor.file_end, metadata_complete=True, truncated=False, lossy_keys=tuple(lossy),
    )  # fmt: skip
    return _check_data_present(header)


def findings(header: GGUFHeader) -> list[Finding]:
    """Truncation, unknown tensor types, lossy strings, and missing license / base-model metadata."""
    found: list[Finding] = []
    if header.truncated:
        fix = "re-download the file; a GGUF split into parts needs every part"
        found.append(Finding("gguf.truncated", Severity.HIGH, header.truncation, header.name, fix))
    unknown = [f"{t.name} ({t.type_name})" for t in header.tensors if t.nbytes is None]
    if unknown:
        message = f"{len(unknown)} tensors of unknown ggml type, sizes not checked: {', '.join(unknown[:5])}"
        found.append(Finding("gguf.unknown-tensor-type", Severity.MEDIUM, message, header.name))
    if header.lossy_keys:
        message = f"invalid UTF-8 replaced in the values of: {', '.join(header.lossy_keys[:5])}"
        found.append(Finding("gguf.invalid-utf8", Severity.LOW, message, header.name))
    if header.metadata_complete:
        found.extend(_metadata_findings(header))
    return found


def read_gguf_file(path: str | Path, max_bytes: int = MAX_READ, first_read: int = FIRST_READ) -> GGUFHeader:
    """Read a bounded prefix of a GGUF file, growing it until the metadata fits or `max_bytes` is reached."""
    path = Path(path)
    name = str(path)
    size = _regular_file_size(path)
    if size == 0:
        raise MalformedFileError(name, "empty file", _HINT)
    with path.open("rb") as handle:
        data = handle.read(min(size, max_bytes, max(first_read, PREAMBLE_SIZE)))
        while True:
            header = parse_gguf(data, name, size)
            if header.metadata_complete:
                return header
            if len(data) >= max_bytes:
                read = header.records_read
                problem = f"metadata larger than the {max_bytes}-byte read cap ({read} records read)"
                raise LimitExceededError(name, problem, "raise max_bytes if this file is trusted")
            more = handle.read(min(size, max_bytes, 4 * len(data)) - len(data))
            if not more:
                raise InputError(name, "file changed while reading (shorter than its size)")
            data += more


def _regular_file_size(path: Path) -> int:
    st = check_readable_target(path)
    if path.is_dir():
        raise InputError(str(path), "is a directory, not a GGUF file")
    return st.st_size


def _read_preamble(cursor: _Cursor) -> tuple[int, int, int]:
    data, name = cursor.data, cursor.name
    if not data:
        raise MalformedFileError(name, "empty file", _HINT)
    if len(data) >= 4 and data[:4] != MAGIC:
        swapped = " (byte-swapped: big-endian GGUF?)" if data[:4] == MAGIC[::-1] else ""
        problem = f"bad magic {data[:4]!r}, expected {MAGIC!r}{swapped}"
        raise MalformedFileError(name, problem, _HINT, offset=0)
    if len(data) < PREAMBLE_SIZE:
        problem = f"too small for a GGUF header ({len(data)} of {PREAMBLE_SIZE} bytes)"
        raise MalformedFileError(name, problem, _HINT)
    _check_version(data, name)
    cursor.pos = 8
    n_tensors, n_kv = cursor.unpack("Q"), cursor.unpack("Q")
    _check_counts(cursor, n_tensors, n_kv)
    return int.from_bytes(data[4:8], "little"), n_tensors, n_kv


def _check_version(data: bytes, name: str) -> None:
    version = int.from_bytes(data[4:8], "little")
    if version in (2, 3):
        return
    swapped = int.from_bytes(data[4:8], "big")
    if version > 3 and 1 <= swapped <= 3:
        problem = f"version reads {version:#010x}, {swapped} byte-swapped: big-endian GGUF? (unsupported)"
    elif version <= 1:
        problem = f"GGUF v{version} unsupported (this reader handles v2 and v3)"
    else:
        problem = f"GGUF v{version} unsupported (newer than v3)"
    raise MalformedFileError(name, problem, _HINT, offset=4)


def _check_counts(cursor: _Cursor, n_tensors: int, n_kv: int) -> None:
    cursor.context = "header"
    if n_tensors > MAX_TENSORS:
        raise cursor.error(f"tensor count {n_tensors} exceeds the cap of {MAX_TENSORS}", at=8, limit=True)
    if n_kv > MAX_KV:
        raise cursor.error(f"KV count {n_kv} exceeds the cap of {MAX_KV}", at=16, limit=True)
    needed = n_kv * _MIN_KV_SIZE + n_tensors * _MIN_TENSOR_INFO_SIZE
    if needed > cursor.left_in_file():
        problem = (
            f"{n_kv} KV pairs and {n_tensors} tensor infos need at least {needed} bytes, "
            f"the file has {cursor.left_in_file()} left"
        )
        raise cursor.error(problem, at=8)


def _read_kvs(cursor: _Cursor, count: int, out: list[GGUFKV], lossy: list[str]) -> int:
    """Append each KV pair to `out` as it completes (so a window end keeps them); return the alignment."""
    seen: set[str] = set()
    alignment = DEFAULT_ALIGNMENT
    for index in range(count):
        entry = _read_kv(cursor, index, seen)
        if entry.key == "general.alignment":
            alignment = _check_alignment(cursor, entry)
        if cursor.lossy:
            lossy.append(entry.key)
        out.append(entry)
        cursor.complete += 1
    return alignment


def _read_kv(cursor: _Cursor, index: int, seen: set[str]) -> GGUFKV:
    start = cursor.pos
    cursor.context = f"KV #{index}"
    key = _read_name(cursor, "key")
    cursor.context = f"KV #{index} ({key!r})"
    if key in seen:
        raise cursor.error(f"duplicate key {key!r}", at=start)
    seen.add(key)
    cursor.lossy = False
    type_at = cursor.pos
    value_type = cursor.unpack("I")
    if value_type == _ARRAY:
        item_name, value = _read_array(cursor)
        return GGUFKV(key, f"ARRAY[{item_name}]", value, start)
    if value_type == _STRING:
        return GGUFKV(key, "STRING", _read_string(cursor), start)
    if value_type in _SCALARS:
        return GGUFKV(key, _SCALARS[value_type][0], _read_scalar(cursor, value_type), start)
    raise cursor.error(f"unknown value type {value_type}", at=type_at)


def _read_name(cursor: _Cursor, what: str) -> str:
    """A key or tensor name: non-empty, bounded, strict UTF-8."""
    at = cursor.pos
    length = cursor.unpack("Q")
    if length == 0:
        raise cursor.error(f"empty {what}", at=at)
    if length > MAX_NAME:
        raise cursor.error(f"{what} length {length} exceeds the cap of {MAX_NAME}", at=at, limit=True)
    raw = cursor.take(length)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise cursor.error(f"{what} is not UTF-8 ({raw[:40]!r})", at=at + 8 + exc.start) from None


def _read_string(cursor: _Cursor) -> str:
    at = cursor.pos
    length = cursor.unpack("Q")
    if length > MAX_STRING:
        raise cursor.error(f"string length {length} exceeds the cap of {MAX_STRING}", at=at, limit=True)
    if length > cursor.left_in_file():
        problem = f"string length {length} exceeds the {cursor.left_in_file()} bytes left in the file"
        raise cursor.past_end(problem, at=at)
    return _decode_value(cursor, cursor.take(length))


def _decode_value(cursor: _Cursor, raw: bytes) -> str:
    # Vocabularies occasionally hold a broken byte sequence; keep the rest and say so in a finding.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        cursor.lossy = True
        return raw.decode("utf-8", errors="replace")


def _read_scalar(cursor: _Cursor, value_type: int) -> Scalar:
    at = cursor.pos
    value: Scalar = cursor.unpack(_SCALARS[value_type][1])
    if value_type == _BOOL:
        if value not in (0, 1):
            raise cursor.error(f"BOOL value {value} is neither 0 nor 1", at=at)
        return bool(value)
    return value


def _read_array(cursor: _Cursor) -> tuple[str, tuple[Scalar, ...] | GGUFArray]:
    at = cursor.pos
    item_type = cursor.unpack("I")
    count = cursor.unpack("Q")
    if item_type == _ARRAY:
        raise cursor.error("nested array (array of arrays) is not allowed", at=at)
    if item_type != _STRING and item_type not in _SCALARS:
        raise cursor.error(f"unknown array item type {item_type}", at=at)
    if count > MAX_ARRAY_ITEMS:
        problem = f"array of {count} items exceeds the cap of {MAX_ARRAY_ITEMS}"
        raise cursor.error(problem, at=at + 4, limit=True)
    needed = count * (8 if item_type == _STRING else struct.calcsize(_SCALARS[item_type][1]))
    if needed > cursor.left_in_file():
        problem = (
            f"array of {count} items needs at least {needed} bytes, the file has {cursor.left_in_file()}"
        )
        raise cursor.past_end(problem, at=at + 4)
    item_name = "STRING" if item_type == _STRING else _SCALARS[item_type][0]
    return item_name, _summarise(item_name, count, _array_chunks(cursor, item_type, count))


def _array_chunks(cursor: _Cursor, item_type: int, count: int) -> Iterator[list[Scalar]]:
    for start in range(0, count, _CHUNK):
        size = min(_CHUNK, count - start)
        if item_type == _STRING:
            yield [_read_string(cursor) for _ in range(size)]
        else:
            yield _scalar_chunk(cursor, item_type, size)


def _scalar_chunk(cursor: _Cursor, item_type: int, size: int) -> list[Scalar]:
    fmt = _SCALARS[item_type][1]
    at = cursor.pos
    values: list[Scalar] = list(struct.unpack(f"<{size}{fmt}", cursor.take(size * struct.calcsize(fmt))))
    if item_type == _BOOL:
        if any(value not in (0, 1) for value in values):
            raise cursor.error("BOOL array item is neither 0 nor 1", at=at)
        values = [bool(value) for value in values]
    return values


def _summarise(item_name: str, count: int, chunks: Iterator[list[Scalar]]) -> tuple[Scalar, ...] | GGUFArray:
    """Small arrays are kept whole; large ones as length, digest and head, never the full list."""
    digest = hashlib.sha256(b"[")
    head: list[Scalar] = []
    for index, chunk in enumerate(chunks):
        if index:
            digest.update(b",")
        if chunk:
            digest.update(_canonical(chunk)[1:-1])
        if len(head) < ARRAY_INLINE_MAX:
            head.extend(chunk[: ARRAY_INLINE_MAX - len(head)])
    digest.update(b"]")
    if count <= ARRAY_INLINE_MAX:
        return tuple(head)
    return GGUFArray(item_name, count, digest.hexdigest(), tuple(head[:ARRAY_HEAD]))


def _canonical(values: list[Scalar]) -> bytes:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _check_alignment(cursor: _Cursor, entry: GGUFKV) -> int:
    value = entry.value
    if entry.value_type != "UINT32" or not isinstance(value, int):
        raise cursor.error(f"general.alignment must be UINT32, got {entry.value_type}", at=entry.offset)
    if value == 0 or value & (value - 1):
        raise cursor.error(f"general.alignment {value} is not a power of 2", at=entry.offset)
    return value


def _alignment_of(kvs: list[GGUFKV]) -> int:
    for entry in kvs:
        if entry.key == "general.alignment" and isinstance(entry.value, int):
            return entry.value
    return DEFAULT_ALIGNMENT


def _read_tensor_infos(cursor: _Cursor, count: int, alignment: int, out: list[GGUFTensor]) -> None:
    seen: set[str] = set()
    for index in range(count):
        out.append(_read_tensor_info(cursor, index, alignment, seen))
        cursor.complete += 1


def _read_tensor_info(cursor: _Cursor, index: int, alignment: int, seen: set[str]) -> GGUFTensor:
    start = cursor.pos
    cursor.context = f"tensor info #{index}"
    name = _read_name(cursor, "tensor name")
    cursor.context = f"tensor info #{index} ({name!r})"
    if name in seen:
        raise cursor.error(f"duplicate tensor name {name!r}", at=start)
    seen.add(name)
    dims = _read_dims(cursor)
    ggml_type = cursor.unpack("I")
    offset_at = cursor.pos
    offset = cursor.unpack("Q")
    if offset % alignment:
        problem = f"data offset {offset} is not a multiple of the alignment {alignment}"
        raise cursor.error(problem, at=offset_at)
    return GGUFTensor(name, dims, ggml_type, offset, _tensor_nbytes(cursor, dims, ggml_type))


def _read_dims(cursor: _Cursor) -> tuple[int, ...]:
    at = cursor.pos
    n_dims = cursor.unpack("I")
    if n_dims > MAX_DIMS:
        raise cursor.error(f"{n_dims} dimensions exceed the cap of {MAX_DIMS}", at=at, limit=True)
    dims: tuple[int, ...] = struct.unpack(f"<{n_dims}Q", cursor.take(8 * n_dims))
    count = 1
    for dim in dims:
        count *= dim
        if dim > _INT64_MAX or count > _INT64_MAX:
            raise cursor.error(f"dimensions {list(dims)} overflow int64", at=at + 4)
    return dims


def _tensor_nbytes(cursor: _Cursor, dims: tuple[int, ...], ggml_type: int) -> int | None:
    known = GGML_TYPES.get(ggml_type)
    if known is None:
        return None
    type_name, block, block_bytes = known
    first = dims[0] if dims else 1
    if first % block:
        raise cursor.error(f"first dimension {first} is not a multiple of the {type_name} block size {block}")
    count = 1
    for dim in dims:
        count *= dim
    return count // block * block_bytes


def _check_overlaps(cursor: _Cursor, tensors: list[GGUFTensor]) -> None:
    sized = sorted((t for t in tensors if t.nbytes is not None), key=lambda t: t.offset)
    for previous, tensor in pairwise(sized):
        end = previous.offset + (previous.nbytes or 0)
        if tensor.offset < end:
            cursor.context = f"tensor {tensor.name!r}"
            raise cursor.error(f"data at {tensor.offset} overlaps {previous.name!r}, which ends at {end}")


def _data_size(tensors: list[GGUFTensor]) -> int | None:
    if any(t.nbytes is None for t in tensors):
        return None
    return max((t.offset + (t.nbytes or 0) for t in tensors), default=0)


def _check_data_present(header: GGUFHeader) -> GGUFHeader:
    if header.data_offset is None or header.data_size is None:
        return header
    needed = header.data_offset + header.data_size
    if header.file_size >= needed:
        return header
    message = f"truncated: data needs {needed} bytes, file has {header.file_size}"
    return replace(header, truncated=True, truncation=message)


def _window_message(cursor: _Cursor, header: GGUFHeader) -> str:
    return (
        f"truncated: metadata continues past byte {len(cursor.data)} of {cursor.file_end} "
        f"(inside {cursor.context}); "
        f"read {len(header.kv)} of {header.n_kv} KV pairs and {len(header.tensors)} of {header.n_tensors} "
        f"tensor infos ({header.records_read} records)"
    )


def _align(position: int, alignment: int) -> int:
    return -(-position // alignment) * alignment


def _metadata_findings(header: GGUFHeader) -> list[Finding]:
    found: list[Finding] = []
    if header.get("general.license") is None:
        message = "no general.license in the GGUF metadata"
        fix = "take the license from the model card of the repository the file came from"
        found.append(Finding("gguf.no-license", Severity.LOW, message, header.name, fix))
    if not any(key.startswith("general.base_model.") for key in header.keys()):  # noqa: SIM118
        message = "no general.base_model.* in the GGUF metadata; lineage must come from other evidence"
        found.append(Finding("gguf.no-base-model", Severity.INFO, message, header.name))
    return found
