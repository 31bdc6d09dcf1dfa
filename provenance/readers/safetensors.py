"""safetensors header reader: the 8-byte length prefix and the JSON header, validated strictly.

Pure functions over bytes; only `read_safetensors_file` touches the disk, and it reads the header, never
tensor data. Offsets in errors are *file* offsets (the JSON starts at byte 8), so they match a hex dump.

Choices where the format is loose:
* JSON whitespace (space, tab, CR, LF) is accepted before and after the object: writers pad with spaces to
  8-byte alignment and the safetensors library accepts leading spaces too. Anything else around the object
  (a NUL byte, a BOM, other text) is an error naming its offset.
* Keys of a tensor entry other than dtype/shape/data_offsets are ignored, as the safetensors library does.
* Truncation and trailing bytes are not parse errors: `coverage_findings` reports them, so the header's
  evidence is still available for a truncated download.
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

from provenance.errors import InputError, LimitExceededError, MalformedFileError
from provenance.model import Finding, Severity
from provenance.sources.local import check_readable_target

PREFIX_SIZE = 8
MAX_HEADER_SIZE = 100_000_000  # the safetensors library's own limit
MAX_TENSORS = 2_000_000
MAX_DEPTH = 16  # a valid header nests 3 deep: the object, a tensor entry, its shape list
MAX_RANK = 64
_U64_MAX = 2**64 - 1
_JSON_SPACE = " \t\r\n"

# Bits per element, in the order safetensors 0.8 lists them in its own "unknown variant" error.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "C64": 64,
    "F64": 64,
    "I64": 64,
    "U64": 64,
}

_HINT = "the file is not a valid safetensors checkpoint; re-download it or re-export it with safetensors"
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NON_STRUCTURAL = bytes(byte for byte in range(256) if byte not in b'[]{}"')
_STRING_BYTES = re.compile(rb'"[^"]*"')
# A JSON string literal (unrolled so long strings do not backtrack) or a bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


@dataclass(frozen=True)
class TensorInfo:
    """One tensor entry: `begin`/`end` are offsets into the data section (after the header)."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def n_elements(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.end - self.begin

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "shape": list(self.shape),
            "data_offsets": [self.begin, self.end],
        }


@dataclass(frozen=True)
class SafetensorsHeader:
    """A validated header. `tensors` are in data order (by offset), `metadata` is None when absent or null."""

    name: str
    header_size: int
    tensors: tuple[TensorInfo, ...]
    metadata: tuple[tuple[str, str], ...] | None

    @property
    def data_size(self) -> int:
        return self.tensors[-1].end if self.tensors else 0

    @property
    def expected_file_size(self) -> int:
        return PREFIX_SIZE + self.header_size + self.data_size

    @cached_property
    def parameter_count(self) -> int:
        return sum(t.n_elements for t in self.tensors)

    @cached_property
    def dtype_counts(self) -> tuple[tuple[str, int], ...]:
        """Number of tensors per dtype, sorted by dtype name."""
        return tuple(sorted(Counter(t.dtype for t in self.tensors).items()))

    def metadata_dict(self) -> dict[str, str] | None:
        return dict(self.metadata) if self.metadata is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "header_size": self.header_size,
            "data_size": self.data_size,
            "parameter_count": self.parameter_count,
            "dtype_counts": dict(self.dtype_counts),
            "metadata": self.metadata_dict(),
            "tensors": [t.to_json() for t in self.tensors],
        }


def header_length(prefix: bytes, name: str, file_size: int | None = None) -> int:
    """The u64 length prefix, refused before anything that large is read or allocated."""
    if len(prefix) < PREFIX_SIZE:
        raise MalformedFileError(name, f"header too small ({len(prefix)} bytes)", _HINT, offset=0)
    length = int.from_bytes(prefix[:PREFIX_SIZE], "little")
    if length > MAX_HEADER_SIZE:
        raise LimitExceededError(
            name, f"header length {length} exceeds the cap of {MAX_HEADER_SIZE} bytes", _HINT, offset=0
        )
    if file_size is not None and length > file_size - PREFIX_SIZE:
        problem = f"header length {length} exceeds file size - 8 ({file_size - PREFIX_SIZE} bytes)"
        raise MalformedFileError(name, problem, "the file is truncated inside its header", offset=0)
    return length


def parse_header(header: bytes, name: str, file_size: int | None = None) -> SafetensorsHeader:
    """Validate the JSON header bytes (without the 8-byte prefix). Does not judge the file's size."""
    if file_size is not None and PREFIX_SIZE + len(header) > file_size:
        problem = f"header of {len(header)} bytes does not fit in a {file_size}-byte file"
        raise MalformedFileError(name, problem, _HINT)
    text = _decode(header, name)
    _check_outer_shape(text, name)
    _check_depth(header, text, name)
    with _gc_paused():
        document = _load_json(text, name)
        metadata = _metadata(document.get("__metadata__"), name)
        count = len(document) - ("__metadata__" in document)
        if count > MAX_TENSORS:
            raise LimitExceededError(name, f"{count} tensors exceeds the cap of {MAX_TENSORS}", _HINT)
        tensors = [_tensor(key, entry, name) for key, entry in document.items() if key != "__metadata__"]
        ordered = _check_layout(tensors, name)
    return SafetensorsHeader(name=name, header_size=len(header), tensors=ordered, metadata=metadata)


def coverage_findings(header: SafetensorsHeader, actual_file_size: int) -> list[Finding]:
    """Truncated data or bytes after the last tensor: the header alone says how big the file must be."""
    expected = header.expected_file_size
    if actual_file_size < expected:
        message = f"truncated: expected {expected} bytes, file has {actual_file_size}"
        fix = "re-download the file; its tensor data is incomplete"
        return [Finding("safetensors.truncated", Severity.HIGH, message, header.name, fix)]
    if actual_file_size > expected:
        message = f"not fully covered: {actual_file_size - expected} trailing bytes after the last tensor"
        fix = "bytes no tensor accounts for can hide another payload (polyglot); re-export the file"
        return [Finding("safetensors.trailing-bytes", Severity.HIGH, message, header.name, fix)]
    return []


def read_safetensors_file(path: str | Path) -> tuple[SafetensorsHeader, list[Finding]]:
    """Read only the prefix and header of a file on disk, then validate them."""
    path = Path(path)
    name = str(path)
    size = _regular_file_size(path)
    if size == 0:
        raise MalformedFileError(name, "empty file", _HINT)
    with path.open("rb") as handle:
        length = header_length(handle.read(PREFIX_SIZE), name, size)
        header = handle.read(length)
    if len(header) != length:
        raise InputError(name, "file changed while reading (header shorter than its length prefix)")
    parsed = parse_header(header, name, size)
    return parsed, coverage_findings(parsed, size)


def _regular_file_size(path: Path) -> int:
    st = check_readable_target(path)
    if path.is_dir():
        raise InputError(str(path), "is a directory, not a safetensors file")
    return st.st_size


def _decode(header: bytes, name: str) -> str:
    if not header:
        raise MalformedFileError(name, "empty header (length prefix is 0)", _HINT, offset=PREFIX_SIZE)
    if header.startswith(b"\xef\xbb\xbf"):
        raise MalformedFileError(name, "header starts with a UTF-8 BOM", _HINT, offset=PREFIX_SIZE)
    nul = header.find(b"\x00")
    if nul >= 0:
        problem = "NUL byte in header (NUL padding is invalid; safetensors pads with spaces)"
        raise MalformedFileError(name, problem, _HINT, offset=PREFIX_SIZE + nul)
    try:
        return header.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(name, "header is not UTF-8", _HINT, offset=PREFIX_SIZE + exc.start) from None


def _check_outer_shape(text: str, name: str) -> None:
    body = text.lstrip(_JSON_SPACE)
    # Only ASCII whitespace was stripped, so the character index is also the byte index.
    at = PREFIX_SIZE + len(text) - len(body)
    if not body:
        raise MalformedFileError(name, "header holds only whitespace", _HINT, offset=at)
    if body[0] == "[":
        raise MalformedFileError(name, "header is a JSON array; expected an object", _HINT, offset=at)
    if body[0] != "{":
        raise MalformedFileError(name, f"header must start with '{{', found {body[0]!r}", _HINT, offset=at)


def _check_depth(header: bytes, text: str, name: str) -> None:
    """Refuse deep nesting before json.loads, whose recursion would end in a RecursionError.

    Fast path in C-speed bytes operations: drop escape pairs, keep only brackets and quotes, drop strings,
    then peel innermost `[]`/`{}` pairs; MAX_DEPTH peels empty any header nested no deeper than MAX_DEPTH.
    Only a header that fails this (deep, or not balanced) pays for the exact scan.
    """
    if _peel(_structure(header)):
        depth, at = _max_depth(text)
        if depth > MAX_DEPTH:
            problem = f"nesting too deep (more than {MAX_DEPTH} levels)"
            raise LimitExceededError(name, problem, _HINT, offset=at)


def _structure(header: bytes) -> bytes:
    if b"\\" in header:
        header = _ESCAPE.sub(b"", header)
    skeleton = header.translate(None, _NON_STRUCTURAL).replace(b'""', b"")
    # A quote left means some string holds a bracket; drop strings exactly, at regex speed.
    return _STRING_BYTES.sub(b"", skeleton) if b'"' in skeleton else skeleton


def _peel(skeleton: bytes) -> bytes:
    for _ in range(MAX_DEPTH):
        if not skeleton:
            break
        skeleton = skeleton.replace(b"[]", b"").replace(b"{}", b"")
    return skeleton


def _max_depth(text: str) -> tuple[int, int]:
    """Deepest nesting outside strings, and the file offset where it first passes the cap."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        depth += _DEPTH_STEP.get(match.group(), 0)
        if depth > MAX_DEPTH:
            return depth, PREFIX_SIZE + len(text[: match.start()].encode())
        deepest = max(deepest, depth)
    return deepest, PREFIX_SIZE


@contextmanager
def _gc_paused() -> Iterator[None]:
    """A million-tensor header makes millions of small containers; each GC pass rescans them (3x slower)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _JsonRefused(Exception):
    """Raised from json.loads hooks; turned into a MalformedFileError by `_load_json`."""


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _JsonRefused(f"duplicate key {key!r} in header JSON")
            seen.add(key)
    return document


def _refuse_constant(token: str) -> Any:
    raise _JsonRefused(f"{token} not allowed in header JSON")


def _load_json(text: str, name: str) -> dict[str, Any]:
    try:
        document = json.loads(text, object_pairs_hook=_unique_object, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        at = PREFIX_SIZE + len(text[: exc.pos].encode())
        raise MalformedFileError(name, f"header is not valid JSON: {exc.msg}", _HINT, offset=at) from None
    except _JsonRefused as exc:
        raise MalformedFileError(name, str(exc), _HINT) from None
    except RecursionError:  # unreachable after _check_depth; kept so no traceback can ever escape
        raise LimitExceededError(name, "nesting too deep", _HINT) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        raise MalformedFileError(name, f"header JSON refused: {exc}", _HINT) from None
    if not isinstance(document, dict):
        raise MalformedFileError(name, "header is not a JSON object", _HINT)
    return document


def _metadata(value: Any, name: str) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        problem = f"__metadata__ must be an object of strings or null, got {_json_type(value)}"
        raise MalformedFileError(name, problem, _HINT)
    for key, item in value.items():
        if not isinstance(item, str):
            problem = f"__metadata__[{key!r}] must be a string, got {_json_type(item)}"
            raise MalformedFileError(name, problem, _HINT)
    return tuple(value.items())


def _tensor(key: str, entry: Any, name: str) -> TensorInfo:
    # One flat fast path: a million-tensor header runs this a million times; errors are explained elsewhere.
    try:
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        valid = (
            type(dtype) is str
            and dtype in DTYPE_BITS
            and type(shape) is list
            and len(shape) <= MAX_RANK
            and _all_u64(shape)
            and type(offsets) is list
            and len(offsets) == 2
            and _all_u64(offsets)
            and offsets[0] <= offsets[1]
        )
    except (KeyError, TypeError):
        valid = False
    if not valid:
        _explain_entry(key, entry, name)
    begin, end = offsets
    if DTYPE_BITS[dtype] * math.prod(shape) != 8 * (end - begin):
        _explain_size(key, dtype, shape, end - begin, name)
    return TensorInfo(key, dtype, tuple(shape), begin, end)


def _all_u64(values: list[Any]) -> bool:
    # A plain loop: all() over a generator is 2.5x slower, and this runs twice per tensor.
    for value in values:  # noqa: SIM110
        if type(value) is not int or value < 0 or value > _U64_MAX:  # bool is an int subclass: refused
            return False
    return True


def _explain_entry(key: str, entry: Any, name: str) -> NoReturn:
    """Say what is wrong with an entry the fast path in `_tensor` refused."""
    raise MalformedFileError(name, f"tensor {key!r}: {_entry_problem(entry)}", _HINT)


def _entry_problem(entry: Any) -> str:
    if not isinstance(entry, dict):
        return f"entry must be an object, got {_json_type(entry)}"
    missing = [field for field in ("dtype", "shape", "data_offsets") if field not in entry]
    if missing:
        return f"missing {', '.join(missing)}"
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        return f"unknown dtype {_short(dtype)} (allowed: {', '.join(DTYPE_BITS)})"
    for field, value in (("shape", shape), ("data_offsets", offsets)):
        if not isinstance(value, list) or not _all_u64(value):
            return f"{field} must be a list of non-negative integers, got {_short(value)}"
    if len(shape) > MAX_RANK:
        return f"rank {len(shape)} exceeds the cap of {MAX_RANK}"
    if len(offsets) != 2:
        return f"data_offsets must be [begin, end], got {offsets}"
    return f"data_offsets end {offsets[1]} < begin {offsets[0]}"


def _explain_size(key: str, dtype: str, shape: list[int], actual: int, name: str) -> NoReturn:
    bits = math.prod(shape) * DTYPE_BITS[dtype]
    if bits % 8:
        problem = f"tensor {key!r}: shape {shape} of {dtype} is {bits} bits, not a whole number of bytes"
    else:
        needs = bits // 8
        problem = f"tensor {key!r}: shape {shape} of {dtype} needs {needs} bytes, data_offsets hold {actual}"
    raise MalformedFileError(name, problem, _HINT)


def _check_layout(tensors: list[TensorInfo], name: str) -> tuple[TensorInfo, ...]:
    """Tensors must tile the data section from 0: no gap, no overlap (a gap can hide a payload)."""
    ordered = sorted(tensors, key=lambda t: (t.begin, t.end))
    expected, previous = 0, ""
    for tensor in ordered:
        if tensor.begin > expected:
            problem = (
                f"gap before tensor {tensor.name!r}: expected begin {expected}, "
                f"data_offsets begin at {tensor.begin}"
            )
            raise MalformedFileError(name, problem, _HINT)
        if tensor.begin < expected:
            problem = (
                f"tensor {tensor.name!r} overlaps {previous!r}: expected begin {expected}, "
                f"data_offsets begin at {tensor.begin}"
            )
            raise MalformedFileError(name, problem, _HINT)
        expected, previous = tensor.end, tensor.name
    return tuple(ordered)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."
