"""safetensors header reader: real files from the safetensors library, and hand-built corrupt headers."""

from __future__ import annotations

import contextlib
import json
import os
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import safetensors
import safetensors.numpy
from hypothesis import given, settings
from hypothesis import strategies as hst

from provenance.errors import InputError, LimitExceededError, MalformedFileError
from provenance.model import Severity
from provenance.readers import safetensors as st

ALL_DTYPES = [
    "BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
    "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64",
]  # fmt: skip
_deserialize: Callable[[bytes], object] = safetensors.deserialize


def entry(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def header_bytes(document: Any) -> bytes:
    return json.dumps(document).encode()


def file_bytes(header: bytes, data_size: int) -> bytes:
    return struct.pack("<Q", len(header)) + header + b"\x00" * data_size


def write(tmp_path: Path, content: bytes, name: str = "model.safetensors") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def parse(document: Any) -> st.SafetensorsHeader:
    return st.parse_header(header_bytes(document), "model.safetensors")


def library_rejects(content: bytes) -> bool:
    try:
        _deserialize(content)
    except Exception:  # SafetensorError derives from Exception only
        return True
    return False


# --- real files -------------------------------------------------------------------------------------


@pytest.fixture
def real_file(tmp_path: Path) -> Path:
    tensors: dict[str, npt.NDArray[Any]] = {
        "embed": np.arange(12, dtype=np.float32).reshape(3, 4),
        "bias": np.zeros(5, dtype=np.float16),
        "ids": np.arange(3, dtype=np.int64),
        "mask": np.array([True, False]),
        "scalar": np.array(7, dtype=np.uint8),
        "empty": np.zeros((0, 3), dtype=np.float64),
    }
    path = tmp_path / "model.safetensors"
    safetensors.numpy.save_file(tensors, str(path), metadata={"format": "pt"})
    return path


def test_real_file_matches_the_safetensors_library(real_file: Path) -> None:
    header, findings = st.read_safetensors_file(real_file)
    assert findings == []
    with safetensors.safe_open(str(real_file), framework="numpy") as opened:
        assert [t.name for t in header.tensors] == opened.offset_keys()
        for tensor in header.tensors:
            view = opened.get_slice(tensor.name)
            assert (tensor.dtype, list(tensor.shape)) == (view.get_dtype(), view.get_shape())
        assert header.metadata_dict() == opened.metadata()
    assert header.expected_file_size == real_file.stat().st_size
    assert header.parameter_count == 12 + 5 + 3 + 2 + 1 + 0
    assert dict(header.dtype_counts) == {"BOOL": 1, "F16": 1, "F32": 1, "F64": 1, "I64": 1, "U8": 1}
    assert header.to_json()["metadata"] == {"format": "pt"}


def test_real_file_without_metadata(tmp_path: Path) -> None:
    path = tmp_path / "plain.safetensors"
    safetensors.numpy.save_file({"w": np.ones((2, 2), dtype=np.float32)}, str(path))
    header, findings = st.read_safetensors_file(path)
    assert header.metadata is None and findings == []
    assert header.tensors == (st.TensorInfo("w", "F32", (2, 2), 0, 16),)


def test_empty_header_object_is_a_file_without_tensors() -> None:
    header = parse({})
    assert header.tensors == () and header.data_size == 0 and header.expected_file_size == 8 + 2


def test_library_dtype_list_is_ours() -> None:
    assert list(st.DTYPE_BITS) == ALL_DTYPES
    # The library's own "unknown variant" error lists its dtypes; every one of ours must be there.
    bad = header_bytes({"a": entry("NOPE", [1], 0, 1)})
    with pytest.raises(Exception, match="expected one of") as raised:
        _deserialize(file_bytes(bad, 1))
    assert all(f"`{dtype}`" in str(raised.value) for dtype in ALL_DTYPES)


# --- the length prefix ----------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 8), ids=[f"{n}-bytes" for n in range(1, 8)])
def test_header_too_small(tmp_path: Path, size: int) -> None:
    path = write(tmp_path, b"\x01" * size)
    with pytest.raises(MalformedFileError, match=rf"header too small \({size} bytes\)") as raised:
        st.read_safetensors_file(path)
    assert raised.value.exit_code == 3 and str(path) in str(raised.value)


def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    with pytest.raises(MalformedFileError, match="empty file"):
        st.read_safetensors_file(write(tmp_path, b""))


@pytest.mark.parametrize("length", [100_000_001, 2**64 - 1], ids=["over-100MB-cap", "u64-max"])
def test_header_length_over_cap_is_refused_before_reading(tmp_path: Path, length: int) -> None:
    path = write(tmp_path, struct.pack("<Q", length) + b"{}")
    with pytest.raises(LimitExceededError) as raised:
        st.read_safetensors_file(path)
    assert str(length) in str(raised.value) and "100000000" in str(raised.value)


def test_header_length_over_file_size(tmp_path: Path) -> None:
    path = write(tmp_path, struct.pack("<Q", 5000) + b"{}" + b" " * 40)
    with pytest.raises(MalformedFileError, match=r"header length 5000 exceeds file size - 8 \(42 bytes\)"):
        st.read_safetensors_file(path)


def test_header_length_alone() -> None:
    assert st.header_length(struct.pack("<Q", 42), "x") == 42
    with pytest.raises(MalformedFileError, match=r"header too small \(0 bytes\)"):
        st.header_length(b"", "x")


# --- the JSON --------------------------------------------------------------------------------------

VALID = header_bytes({"a": entry("F32", [1], 0, 4)})


@pytest.mark.parametrize(
    ("header", "message", "offset"),
    [
        (b'{"a\xff": 1}', "not UTF-8", 8 + 3),
        (b'{"a": }', "not valid JSON", 8 + 6),
        (b"[1, 2]", "JSON array", 8),
        (b"  [1, 2]", "JSON array", 8 + 2),
        (b"\xef\xbb\xbf" + VALID, "BOM", 8),
        (VALID + b"\x00\x00\x00", "NUL byte", 8 + len(VALID)),
        (VALID + b"   \x00", "NUL byte", 8 + len(VALID) + 3),
        (b"xx" + VALID, "must start with '{'", 8),
        (VALID + b"garbage", "not valid JSON: Extra data", 8 + len(VALID)),
        (b"", "empty header", 8),
        (b"    ", "only whitespace", 12),
    ],
    ids=[
        "not-utf8", "not-json", "top-level-array", "top-level-array-after-spaces", "bom", "nul-padding",
        "spaces-then-nul", "leading-garbage", "trailing-garbage", "zero-length", "blank",
    ],
)  # fmt: skip
def test_malformed_header_names_file_and_offset(header: bytes, message: str, offset: int) -> None:
    with pytest.raises(MalformedFileError, match=message) as raised:
        st.parse_header(header, "dir/model.safetensors")
    assert raised.value.offset == offset
    assert str(raised.value).startswith("dir/model.safetensors: ") and f"(at byte {offset})" in str(
        raised.value
    )


@pytest.mark.parametrize(
    "padding", [b"   ", b"\n", b" \t\r\n "], ids=["spaces", "newline", "mixed-whitespace"]
)
def test_whitespace_padding_is_accepted(padding: bytes) -> None:
    # safetensors pads the header with spaces to 8-byte alignment; leading spaces are accepted by it too.
    assert st.parse_header(VALID + padding, "m").tensors[0].name == "a"
    assert st.parse_header(padding + VALID, "m").tensors[0].name == "a"


def test_library_padding_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "padded.safetensors"
    safetensors.numpy.save_file({"abc": np.zeros(3, dtype=np.int8)}, str(path))
    raw = path.read_bytes()
    length = struct.unpack("<Q", raw[:8])[0]
    assert raw[8 : 8 + length].endswith(b" ")  # the library did pad this one
    assert st.read_safetensors_file(path)[0].tensors[0].name == "abc"


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_not_allowed(token: str) -> None:
    header = f'{{"__metadata__": {{"a": "b"}}, "x": {token}}}'.encode()
    with pytest.raises(MalformedFileError, match=f"{token} not allowed"):
        st.parse_header(header, "m")


@pytest.mark.parametrize("opener", ["[", '{"a":'], ids=["arrays", "objects"])
def test_deep_nesting_is_refused_without_recursion_error(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    header = ('{"x":' + opener * 100_000 + "1" + closer * 100_000 + "}").encode()
    with pytest.raises(LimitExceededError, match="nesting too deep") as raised:
        st.parse_header(header, "m")
    assert raised.value.offset is not None and raised.value.offset < 8 + 200


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    name = "[[[[" * 50 + '"{{{{' * 50  # the quote is written escaped: \"
    header = parse({"__metadata__": {"k": "{" * 500}, name: entry("U8", [1], 0, 1)})
    assert header.tensors[0].name == name


def test_unbalanced_but_shallow_json_reports_the_json_error() -> None:
    with pytest.raises(MalformedFileError, match="not valid JSON"):
        st.parse_header(b'{"a": [1, 2}', "m")


def test_million_tensors_are_parsed() -> None:
    count = 1_000_000
    body = ",".join(
        f'"t{i}":{{"dtype":"F16","shape":[2],"data_offsets":[{4 * i},{4 * i + 4}]}}' for i in range(count)
    )
    header = st.parse_header(("{" + body + "}").encode(), "big.safetensors")
    assert (
        len(header.tensors) == count and header.data_size == 4 * count and header.parameter_count == 2 * count
    )


def test_tensor_count_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(st, "MAX_TENSORS", 3)
    document = {f"t{i}": entry("U8", [1], i, i + 1) for i in range(4)}
    with pytest.raises(LimitExceededError, match="4 tensors exceeds the cap of 3"):
        parse(document)


def test_duplicate_tensor_keys_are_refused() -> None:
    one = '{"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}'
    raw = f'{{"a": {one}, "a": {one}}}'.encode()
    with pytest.raises(MalformedFileError, match="duplicate key 'a'"):
        st.parse_header(raw, "m")
    assert not library_rejects(file_bytes(raw, 1))  # the library silently keeps the last one


def test_duplicate_metadata_key_is_refused() -> None:
    raw = b'{"__metadata__": {"k": "1", "k": "2"}}'
    with pytest.raises(MalformedFileError, match="duplicate key 'k'"):
        st.parse_header(raw, "m")


def test_duplicate_field_in_tensor_entry_is_refused() -> None:
    raw = b'{"a": {"dtype": "U8", "dtype": "F32", "shape": [1], "data_offsets": [0, 1]}}'
    with pytest.raises(MalformedFileError, match="duplicate key 'dtype'"):
        st.parse_header(raw, "m")


# --- dtypes, shapes, offsets ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["Q8", "i32", "f32", "F33", "", 5, None], ids=repr)
def test_unknown_dtype_lists_allowed_dtypes(dtype: Any) -> None:
    document = {"w": {"dtype": dtype, "shape": [1], "data_offsets": [0, 4]}}
    with pytest.raises(MalformedFileError, match="unknown dtype") as raised:
        parse(document)
    assert "tensor 'w'" in str(raised.value)
    assert "allowed: " + ", ".join(ALL_DTYPES) in str(raised.value)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_every_dtype_size_agrees_with_the_library(dtype: str) -> None:
    bits = st.DTYPE_BITS[dtype]
    nbytes = 24 * bits // 8  # 24 elements is whole bytes for 4-, 6-, 8- and wider bit types
    raw = header_bytes({"t": entry(dtype, [4, 6], 0, nbytes)})
    assert parse(json.loads(raw)).tensors[0].nbytes == nbytes
    assert not library_rejects(file_bytes(raw, nbytes))


@pytest.mark.parametrize(
    ("dtype", "shape", "nbytes"),
    [("F4", [3], 2), ("F6_E2M3", [3], 3), ("F4", [], 1)],
    ids=["f4-odd", "f6-three", "f4-scalar"],
)
def test_sub_byte_tensor_not_whole_bytes(dtype: str, shape: list[int], nbytes: int) -> None:
    raw = header_bytes({"t": entry(dtype, shape, 0, nbytes)})
    with pytest.raises(MalformedFileError, match="not a whole number of bytes"):
        st.parse_header(raw, "m")
    assert library_rejects(file_bytes(raw, nbytes))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"a": entry("F32", [2], 0, 8), "b": entry("F32", [1], 12, 16)},
            "gap before tensor 'b': expected begin 8, data_offsets begin at 12",
        ),
        (
            {"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)},
            "tensor 'b' overlaps 'a': expected begin 8, data_offsets begin at 4",
        ),
        ({"a": entry("F32", [0], 8, 0)}, "tensor 'a': data_offsets end 0 < begin 8"),
        ({"a": entry("F32", [3], 0, 8)}, r"shape \[3\] of F32 needs 12 bytes, data_offsets hold 8"),
        ({"a": entry("F32", [1], 4, 8)}, "gap before tensor 'a': expected begin 0, data_offsets begin at 4"),
        ({"a": entry("U8", [2], 0, 2), "b": entry("U8", [2], 0, 2)}, "tensor 'b' overlaps 'a'"),
    ],
    ids=["gap", "overlap", "end-before-begin", "size-mismatch", "not-from-zero", "same-range"],
)  # fmt: skip
def test_bad_offsets_name_tensor_and_values(document: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedFileError, match=message) as raised:
        parse(document)
    assert "tensor 'a'" in str(raised.value) or "tensor 'b'" in str(raised.value)
    raw = header_bytes(document)
    assert library_rejects(file_bytes(raw, 16))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ([-1], "shape"), ([1.0], "shape"), ([True], "shape"),
        ("4", "shape"), ([2**64], "shape"), (None, "shape"),
    ],
    ids=["negative", "float", "bool", "string", "over-u64", "null"],
)  # fmt: skip
def test_bad_shape(value: Any, field: str) -> None:
    with pytest.raises(
        MalformedFileError, match=f"tensor 'w': {field} must be a list of non-negative integers"
    ):
        parse({"w": {"dtype": "U8", "shape": value, "data_offsets": [0, 1]}})


@pytest.mark.parametrize(
    ("offsets", "message"),
    [
        ([0], r"must be \[begin, end\]"), ([0, 1, 2], r"must be \[begin, end\]"),
        ([0, -1], "non-negative"), ("0,1", "non-negative"),
    ],
    ids=["one", "three", "negative", "string"],
)  # fmt: skip
def test_bad_data_offsets(offsets: Any, message: str) -> None:
    with pytest.raises(MalformedFileError, match=message):
        parse({"w": {"dtype": "U8", "shape": [1], "data_offsets": offsets}})


def test_rank_cap() -> None:
    with pytest.raises(MalformedFileError, match="rank 65 exceeds the cap of 64"):
        parse({"w": entry("U8", [1] * 65, 0, 1)})


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (4, "entry must be an object, got integer"),
        ([], "entry must be an object, got array"),
        ({"dtype": "U8"}, "missing shape, data_offsets"),
    ],
    ids=["int", "list", "missing-fields"],
)  # fmt: skip
def test_bad_tensor_entry(value: Any, message: str) -> None:
    with pytest.raises(MalformedFileError, match=f"tensor 'w': {message}"):
        parse({"w": value})


def test_extra_entry_fields_are_ignored_like_the_library() -> None:
    document = {"w": {**entry("U8", [1], 0, 1), "note": 1}}
    assert parse(document).tensors[0].name == "w"


# --- __metadata__ ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1, "__metadata__ must be an object of strings or null, got integer"),
        (["a"], "__metadata__ must be an object of strings or null, got array"),
        ("text", "__metadata__ must be an object of strings or null, got string"),
        ({"format": {"nested": "x"}}, r"__metadata__\['format'\] must be a string, got object"),
        ({"n": 1}, r"__metadata__\['n'\] must be a string, got integer"),
        ({"n": None}, r"__metadata__\['n'\] must be a string, got null"),
    ],
    ids=["int", "list", "string", "object-value", "int-value", "null-value"],
)
def test_bad_metadata(value: Any, message: str) -> None:
    with pytest.raises(MalformedFileError, match=message):
        parse({"__metadata__": value})


def test_null_metadata_is_accepted() -> None:
    header = parse({"__metadata__": None, "w": entry("U8", [1], 0, 1)})
    assert header.metadata is None and len(header.tensors) == 1


def test_metadata_keeps_its_order_and_text() -> None:
    header = parse({"__metadata__": {"z": "1", "a": "{{ ''.__class__ }}"}})
    assert header.metadata == (("z", "1"), ("a", "{{ ''.__class__ }}"))


# --- coverage: truncation and trailing bytes ---------------------------------------------------------


def test_truncated_data_still_reports_the_header(real_file: Path, tmp_path: Path) -> None:
    full = real_file.read_bytes()
    cut = write(tmp_path, full[:-10], "cut.safetensors")
    header, findings = st.read_safetensors_file(cut)
    assert len(header.tensors) == 6 and header.metadata_dict() == {"format": "pt"}
    assert [(f.rule_id, f.severity) for f in findings] == [("safetensors.truncated", Severity.HIGH)]
    assert findings[0].message == f"truncated: expected {len(full)} bytes, file has {len(full) - 10}"
    assert findings[0].location == str(cut)


def test_trailing_bytes_are_a_finding(real_file: Path, tmp_path: Path) -> None:
    polyglot = write(tmp_path, real_file.read_bytes() + b"PK\x03\x04 hidden", "poly.safetensors")
    _, findings = st.read_safetensors_file(polyglot)
    assert [(f.rule_id, f.severity) for f in findings] == [("safetensors.trailing-bytes", Severity.HIGH)]
    assert findings[0].message.startswith("not fully covered: 11 trailing bytes")


def test_cut_inside_the_header(real_file: Path, tmp_path: Path) -> None:
    cut = write(tmp_path, real_file.read_bytes()[:40], "cut.safetensors")
    with pytest.raises(MalformedFileError, match="exceeds file size - 8"):
        st.read_safetensors_file(cut)


def test_coverage_findings_exact_size_is_clean() -> None:
    header = parse({"w": entry("U8", [3], 0, 3)})
    assert st.coverage_findings(header, header.expected_file_size) == []


# --- files that are not files ----------------------------------------------------------------------


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="directory"):
        st.read_safetensors_file(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "model.safetensors"
    os.mkfifo(fifo)
    with pytest.raises(InputError):
        st.read_safetensors_file(fifo)


# --- fuzz --------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(hst.binary(max_size=300))
def test_fuzz_random_header_bytes(header: bytes) -> None:
    with contextlib.suppress(MalformedFileError):
        st.parse_header(header, "fuzz")


_JSON_LEAF = hst.none() | hst.booleans() | hst.integers(-5, 2**65) | hst.floats() | hst.text(max_size=6)
_JSON = hst.recursive(
    _JSON_LEAF,
    lambda inner: hst.lists(inner, max_size=4) | hst.dictionaries(hst.text(max_size=4), inner, max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(
    hst.dictionaries(hst.sampled_from(["__metadata__", "a", "b"]), _JSON, max_size=3), hst.integers(0, 400)
)
def test_fuzz_json_shaped_headers(document: dict[str, Any], cut: int) -> None:
    raw = json.dumps(document).encode()
    for candidate in (raw, raw[:cut], VALID[:cut] + raw):
        try:
            header = st.parse_header(candidate, "fuzz")
        except MalformedFileError:
            continue
        assert header.expected_file_size >= 8 + len(candidate)
