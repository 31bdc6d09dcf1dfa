"""GGUF reader: files from a small writer in this module (Llama-like metadata), then corrupted on purpose."""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import random
import struct
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from provenance.errors import LimitExceededError, MalformedFileError
from provenance.model import Severity
from provenance.readers import gguf
from provenance.readers.gguf import GGUFArray, parse_gguf, read_gguf_file

# GGUF value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_FORMATS = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f", BOOL: "B", U64: "Q", I64: "q"}
_FORMATS[F64] = "d"
# ggml types
GGML_F32, GGML_F16, GGML_Q8_0, GGML_Q4_K = 0, 1, 8, 12

SSTI = "{{ ''.__class__.__mro__ }}{% for m in messages %}{{ m['content'] }}{% endfor %}"


# --- a small GGUF writer ---------------------------------------------------------------------------


def gstr(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def gvalue(value_type: int, value: Any) -> bytes:
    if value_type == STRING:
        return gstr(value)
    if value_type == ARRAY:
        item_type, items = value
        return struct.pack("<IQ", item_type, len(items)) + b"".join(gvalue(item_type, item) for item in items)
    return struct.pack("<" + _FORMATS[value_type], value)


def gkv(key: str | bytes, value_type: int, value: Any) -> bytes:
    return gstr(key) + struct.pack("<I", value_type) + gvalue(value_type, value)


@dataclass
class Tensor:
    name: str
    dims: tuple[int, ...]
    ggml_type: int
    nbytes: int
    offset: int | None = None  # None: next aligned position


@dataclass
class Built:
    data: bytes
    kv_end: int  # file offset where the KV section ends
    data_offset: int
    data_end: int
    kv_offsets: list[int] = field(default_factory=list)


def align(position: int, alignment: int) -> int:
    return -(-position // alignment) * alignment


def build(
    kvs: list[tuple[str | bytes, int, Any]],
    tensors: list[Tensor],
    version: int = 3,
    alignment: int = 32,
    counts: tuple[int, int] | None = None,
) -> Built:
    n_tensors, n_kv = counts if counts is not None else (len(tensors), len(kvs))
    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, n_tensors, n_kv))
    kv_offsets = []
    for kv in kvs:
        kv_offsets.append(len(out))
        out += gkv(*kv)
    kv_end = len(out)
    position, placed = 0, []
    for tensor in tensors:
        offset = position if tensor.offset is None else tensor.offset
        placed.append((tensor, offset))
        position = align(offset + tensor.nbytes, alignment)
        out += gstr(tensor.name) + struct.pack(f"<I{len(tensor.dims)}Q", len(tensor.dims), *tensor.dims)
        out += struct.pack("<IQ", tensor.ggml_type, offset)
    data_offset = align(len(out), alignment)
    out += b"\x00" * (data_offset - len(out))
    data_end = data_offset + max((offset + t.nbytes for t, offset in placed), default=0)
    out += bytes(random.Random(0).randbytes(data_end - data_offset))
    return Built(bytes(out), kv_end, data_offset, data_end, kv_offsets)


TOKENS = ["<unk>", "<s>", "</s>"] + [f"tok{i}" for i in range(997)] + ["héllo", "日本", "{{ x }}"]


def llama_kvs(*, licensed: bool = False) -> list[tuple[str | bytes, int, Any]]:
    kvs: list[tuple[str | bytes, int, Any]] = [
        ("general.architecture", STRING, "llama"),
        ("general.name", STRING, "Tiny Llama Test"),
        ("general.file_type", U32, 7),
        ("llama.block_count", U32, 1),
        ("llama.context_length", U32, 2048),
        ("llama.embedding_length", U32, 64),
        ("llama.attention.head_count", U32, 4),
        ("llama.rope.freq_base", F32, 10000.0),
        ("tokenizer.ggml.model", STRING, "llama"),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, TOKENS)),
        ("tokenizer.ggml.scores", ARRAY, (F32, [float(-i) for i in range(len(TOKENS))])),
        ("tokenizer.ggml.token_type", ARRAY, (I32, [1] * len(TOKENS))),
        ("tokenizer.ggml.add_bos_token", BOOL, 1),
        ("tokenizer.chat_template", STRING, SSTI),
        ("general.quantization_version", U32, 2),
    ]
    if licensed:
        kvs += [
            ("general.license", STRING, "llama3.1"),
            ("general.base_model.count", U32, 1),
            ("general.base_model.0.name", STRING, "Llama 3.1 8B"),
            ("general.base_model.0.repo_url", STRING, "https://huggingface.co/meta-llama/Llama-3.1-8B"),
        ]
    return kvs


def llama_tensors() -> list[Tensor]:
    return [
        Tensor("token_embd.weight", (64, 16), GGML_F32, 64 * 16 * 4),
        Tensor("blk.0.attn_q.weight", (64, 64), GGML_Q8_0, 64 * 64 // 32 * 34),
        Tensor("output_norm.weight", (64,), GGML_F32, 64 * 4),
    ]


@pytest.fixture(scope="module")
def llama() -> Built:
    return build(llama_kvs(), llama_tensors())


def kv_file(*records: bytes) -> bytes:
    """A file of KV records only: no tensor infos, no padding."""
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(records)) + b"".join(records)


def one_kv(key: str | bytes, value_type: int, value: Any) -> bytes:
    return kv_file(gkv(key, value_type, value))


def error_of(data: bytes, file_size: int | None = None) -> MalformedFileError:
    with pytest.raises(MalformedFileError) as raised:
        parse_gguf(data, "model.gguf", file_size)
    return raised.value


# --- a well-formed file ------------------------------------------------------------------------------


def test_llama_like_file(llama: Built) -> None:
    header = parse_gguf(llama.data, "model.gguf")
    assert (header.version, header.n_kv, header.n_tensors) == (3, 15, 3)
    assert not header.truncated and header.metadata_complete and header.records_read == 18
    assert header.get("general.architecture") == "llama"
    assert header.get("llama.block_count") == 1 and header.get("llama.embedding_length") == 64
    assert (
        header.get("llama.rope.freq_base") == 10000.0 and header.get("tokenizer.ggml.add_bos_token") is True
    )
    assert header.get("missing", "default") == "default"
    assert [entry.offset for entry in header.kv] == llama.kv_offsets
    assert header.kv[2].value_type == "UINT32" and header.kv[9].value_type == "ARRAY[STRING]"
    assert header.data_offset == llama.data_offset and header.data_offset % 32 == 0
    assert header.data_size == llama.data_end - llama.data_offset
    assert [(t.name, t.type_name, t.dims, t.nbytes) for t in header.tensors] == [
        ("token_embd.weight", "F32", (64, 16), 4096),
        ("blk.0.attn_q.weight", "Q8_0", (64, 64), 4352),
        ("output_norm.weight", "F32", (64,), 256),
    ]
    json.dumps(header.to_json())  # every record is JSON-ready


def test_large_arrays_are_summarised_with_a_digest(llama: Built) -> None:
    tokens = parse_gguf(llama.data, "m").get("tokenizer.ggml.tokens")
    assert isinstance(tokens, GGUFArray)
    canonical = json.dumps(TOKENS, ensure_ascii=False, separators=(",", ":")).encode()
    assert tokens == GGUFArray(
        "STRING", len(TOKENS), hashlib.sha256(canonical).hexdigest(), tuple(TOKENS[:8])
    )
    scores = parse_gguf(llama.data, "m").get("tokenizer.ggml.scores")
    assert isinstance(scores, GGUFArray) and scores.length == len(TOKENS) and scores.head[:2] == (0.0, -1.0)


def test_digest_spans_chunks(monkeypatch: pytest.MonkeyPatch, llama: Built) -> None:
    expected = parse_gguf(llama.data, "m").get("tokenizer.ggml.tokens")
    monkeypatch.setattr(gguf, "_CHUNK", 7)
    assert parse_gguf(llama.data, "m").get("tokenizer.ggml.tokens") == expected


def test_small_arrays_are_kept_whole() -> None:
    header = parse_gguf(build([("a", ARRAY, (U16, [1, 2, 3])), ("b", ARRAY, (STRING, []))], []).data, "m")
    assert header.get("a") == (1, 2, 3) and header.get("b") == ()
    assert header.kv[0].to_json() == {"key": "a", "type": "ARRAY[UINT16]", "value": [1, 2, 3]}


def test_version_2_parses() -> None:
    header = parse_gguf(build(llama_kvs(), llama_tensors(), version=2).data, "m")
    assert header.version == 2 and len(header.tensors) == 3


@pytest.mark.parametrize("value_type", sorted(_FORMATS), ids=lambda t: f"type-{t}")
def test_every_scalar_type(value_type: int) -> None:
    value = 1.5 if value_type in (F32, F64) else 1
    header = parse_gguf(one_kv("k", value_type, value), "m")
    assert header.get("k") == (True if value_type == BOOL else value)


def test_chat_template_is_stored_as_text_and_never_rendered(
    monkeypatch: pytest.MonkeyPatch, llama: Built
) -> None:
    import jinja2  # noqa: PLC0415 (imported only to trap it)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a template engine saw the chat template")

    monkeypatch.setattr(jinja2.Environment, "from_string", refuse)
    monkeypatch.setattr(jinja2.Environment, "get_template", refuse)
    monkeypatch.setattr(jinja2.Template, "__new__", refuse)
    header = parse_gguf(llama.data, "m")
    assert header.get("tokenizer.chat_template") == SSTI
    assert header.kv[13].to_json()["value"] == SSTI
    imported: set[str] = set()
    for node in ast.walk(ast.parse(Path(gguf.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert imported and not any(name.startswith("jinja2") for name in imported)


def test_findings_for_missing_license_and_base_model(llama: Built) -> None:
    found = gguf.findings(parse_gguf(llama.data, "model.gguf"))
    assert [(f.rule_id, f.severity) for f in found] == [
        ("gguf.no-license", Severity.LOW),
        ("gguf.no-base-model", Severity.INFO),
    ]
    assert all(f.location == "model.gguf" for f in found)


def test_no_findings_when_license_and_base_model_present() -> None:
    header = parse_gguf(build(llama_kvs(licensed=True), llama_tensors()).data, "m")
    assert gguf.findings(header) == [] and header.get("general.license") == "llama3.1"


# --- preamble ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GGUG" + b"\x03" + b"\x00" * 30, "bad magic b'GGUG'"),
        (b"FUGG" + b"\x00\x00\x00\x03" + b"\x00" * 30, "big-endian GGUF"),
        (struct.pack("<Q", 2) + b"{}" + b"\x00" * 30, "bad magic"),
        (b"GGUF\x03\x00", r"too small for a GGUF header \(6 of 24 bytes\)"),
        (b"", "empty file"),
    ],
    ids=["bad-magic", "byte-swapped-magic", "safetensors-bytes", "short", "empty"],
)
def test_bad_magic_or_size(data: bytes, message: str) -> None:
    with pytest.raises(MalformedFileError, match=message):
        parse_gguf(data, "m")


@pytest.mark.parametrize(
    ("version_bytes", "message"),
    [
        (struct.pack("<I", 0), "GGUF v0 unsupported"),
        (struct.pack("<I", 1), "GGUF v1 unsupported"),
        (struct.pack("<I", 4), r"GGUF v4 unsupported \(newer than v3\)"),
        (struct.pack(">I", 3), "big-endian GGUF?"),
        (struct.pack(">I", 2), "big-endian GGUF?"),
    ],
    ids=["v0", "v1", "v4", "byte-swapped-v3", "byte-swapped-v2"],
)
def test_unsupported_versions(version_bytes: bytes, message: str) -> None:
    data = b"GGUF" + version_bytes + b"\x00" * 16
    error = error_of(data)
    assert error.offset == 4
    with pytest.raises(MalformedFileError, match=message):
        parse_gguf(data, "m")


@pytest.mark.parametrize(
    ("counts", "message", "offset", "limit"),
    [
        ((2**63, 0), r"tensor count 9223372036854775808 exceeds the cap", 8, True),
        ((0, 2**63), r"KV count 9223372036854775808 exceeds the cap", 16, True),
        ((0, 2**64 - 1), r"KV count 18446744073709551615 exceeds the cap", 16, True),
        (
            (0, 1000),
            r"1000 KV pairs and 0 tensor infos need at least 13000 bytes, the file has 8 left",
            8,
            False,
        ),
        ((5000, 0), r"0 KV pairs and 5000 tensor infos need at least 120000 bytes", 8, False),
    ],
    ids=["tensors-2^63", "kv-2^63", "kv-u64-max", "kv-more-than-bytes", "tensors-more-than-bytes"],
)
def test_absurd_counts_fail_before_allocating(
    counts: tuple[int, int], message: str, offset: int, limit: bool
) -> None:
    data = build([], [], counts=counts).data
    tracemalloc.start()
    try:
        with pytest.raises(MalformedFileError, match=message) as raised:
            parse_gguf(data, "m")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert raised.value.offset == offset and isinstance(raised.value, LimitExceededError) == limit
    assert peak < 1_000_000


# --- KV pairs ---------------------------------------------------------------------------------------


def test_string_length_beyond_file_names_index_and_key() -> None:
    good = kv_file(gkv("general.architecture", STRING, "llama"), gkv("general.name", STRING, "x"))
    name_at = good.index(b"general.name") + len("general.name") + 4  # the value's u64 length
    data = good[:name_at] + struct.pack("<Q", 1_000_000) + good[name_at + 8 :]
    error = error_of(data)
    assert "KV #1 ('general.name')" in str(error) and error.offset == name_at
    assert "string length 1000000 exceeds the 1 bytes left in the file" in str(error)


def test_string_length_over_cap_is_a_limit() -> None:
    good = one_kv("general.name", STRING, "x")
    at = len(good) - 1 - 8
    data = good[:at] + struct.pack("<Q", 2**40) + good[at + 8 :]
    with pytest.raises(
        LimitExceededError, match=r"KV #0 \('general.name'\): string length 1099511627776 exceeds"
    ):
        parse_gguf(data, "m")


def test_key_length_beyond_file_names_index() -> None:
    good = one_kv("general.name", STRING, "x")
    data = good[:24] + struct.pack("<Q", 40) + good[32:]
    error = error_of(data)
    assert str(error).startswith("model.gguf: KV #0: needs 40 bytes but the file ends") and error.offset == 32


def test_array_string_item_beyond_file_names_key() -> None:
    good = one_kv("tokenizer.ggml.tokens", ARRAY, (STRING, ["a", "b"]))
    data = good[:-9] + struct.pack("<Q", 99) + b"b"
    with pytest.raises(MalformedFileError, match=r"KV #0 \('tokenizer.ggml.tokens'\): string length 99"):
        parse_gguf(data, "m")


@pytest.mark.parametrize(
    ("data", "message", "offset"),
    [
        (
            kv_file(gstr("a") + struct.pack("<I", 13) + b"\x00" * 8),
            r"KV #0 \('a'\): unknown value type 13",
            33,
        ),
        (kv_file(gstr("a") + struct.pack("<IIQ", ARRAY, ARRAY, 0)), r"KV #0 \('a'\): nested array", 37),
        (
            kv_file(gstr("a") + struct.pack("<IIQ", ARRAY, 99, 0)),
            r"KV #0 \('a'\): unknown array item type 99",
            37,
        ),
        (kv_file(gkv("", U8, 1)), "KV #0: empty key", 24),
        (kv_file(gkv("a", U8, 1), gkv("a", U8, 2)), r"KV #1 \('a'\): duplicate key 'a'", 38),
        (kv_file(gkv(b"bad\xffkey", U8, 1)), r"KV #0: key is not UTF-8 \(b'bad\\xffkey'\)", 35),
        (kv_file(gkv("a", BOOL, 2)), r"KV #0 \('a'\): BOOL value 2 is neither 0 nor 1", 37),
    ],
    ids=[
        "unknown-type",
        "nested-array",
        "unknown-item-type",
        "empty-key",
        "duplicate-key",
        "non-utf8-key",
        "bool-2",
    ],
)
def test_bad_kv_names_key_and_offset(data: bytes, message: str, offset: int) -> None:
    with pytest.raises(MalformedFileError, match=message) as raised:
        parse_gguf(data, "m")
    assert raised.value.offset == offset and f"(at byte {offset})" in str(raised.value)


@pytest.mark.parametrize(
    ("value_type", "value", "message"),
    [
        (U64, 32, "general.alignment must be UINT32, got UINT64"),
        (F32, 32.0, "general.alignment must be UINT32, got FLOAT32"),
        (U32, 0, "general.alignment 0 is not a power of 2"),
        (U32, 48, "general.alignment 48 is not a power of 2"),
    ],
    ids=["uint64", "float32", "zero", "not-power-of-2"],
)
def test_bad_alignment(value_type: int, value: Any, message: str) -> None:
    error = error_of(one_kv("general.alignment", value_type, value))
    assert message in str(error) and error.offset == 24


def test_custom_alignment_is_honoured() -> None:
    built = build([("general.alignment", U32, 64), *llama_kvs()], llama_tensors(), alignment=64)
    header = parse_gguf(built.data, "m")
    assert header.alignment == 64 and header.data_offset == built.data_offset and header.data_offset % 64 == 0
    assert all(t.offset % 64 == 0 for t in header.tensors) and not header.truncated


def test_invalid_utf8_in_a_value_is_kept_with_a_finding() -> None:
    header = parse_gguf(
        build([("tokenizer.ggml.tokens", ARRAY, (STRING, [b"ok", b"\xff\xfe"]))], []).data, "m"
    )
    assert header.get("tokenizer.ggml.tokens") == ("ok", "\ufffd\ufffd")
    assert header.lossy_keys == ("tokenizer.ggml.tokens",)
    assert gguf.findings(header)[0].rule_id == "gguf.invalid-utf8"


# --- tensor infos -----------------------------------------------------------------------------------


def test_unknown_ggml_type_is_recorded_with_a_finding() -> None:
    built = build(llama_kvs(licensed=True), [*llama_tensors(), Tensor("future.weight", (64,), 77, 64)])
    header = parse_gguf(built.data, "m")
    assert header.tensors[-1].type_name == "unknown(77)" and header.tensors[-1].nbytes is None
    assert header.data_size is None and not header.truncated
    assert [(f.rule_id, f.severity) for f in gguf.findings(header)] == [
        ("gguf.unknown-tensor-type", Severity.MEDIUM)
    ]


@pytest.mark.parametrize(
    ("tensors", "message"),
    [
        ([Tensor("t", (1,) * 9, GGML_F32, 4)], "9 dimensions exceed the cap of 8"),
        (
            [Tensor("t", (8,), GGML_F32, 32, offset=16)],
            "data offset 16 is not a multiple of the alignment 32",
        ),
        ([Tensor("t", (8,), GGML_F32, 32), Tensor("t", (8,), GGML_F32, 32)], "duplicate tensor name 't'"),
        (
            [Tensor("t", (48,), GGML_Q8_0, 51)],
            "first dimension 48 is not a multiple of the Q8_0 block size 32",
        ),
        ([Tensor("a", (64,), GGML_F32, 256), Tensor("b", (8,), GGML_F32, 32, offset=128)], "overlaps 'a'"),
        ([Tensor("t", (2**62, 4), GGML_F32, 4)], "overflow int64"),
        ([Tensor("", (8,), GGML_F32, 32)], "empty tensor name"),
    ],
    ids=[
        "too-many-dims",
        "misaligned",
        "duplicate-name",
        "partial-block",
        "overlap",
        "overflow",
        "empty-name",
    ],
)
def test_bad_tensor_info(tensors: list[Tensor], message: str) -> None:
    with pytest.raises(MalformedFileError, match=message):
        parse_gguf(build(llama_kvs(), tensors).data, "m")


def test_ggml_type_table() -> None:
    names = {name for name, _, _ in gguf.GGML_TYPES.values()}
    wanted = {"F32", "F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "I8", "I16", "I32", "I64", "F64"}
    wanted |= {"BF16", "TQ1_0", "TQ2_0", "MXFP4"} | {f"Q{n}_K" for n in range(2, 9) if n != 7}
    assert wanted <= names and any(name.startswith("IQ") for name in names)
    # 4-bit K-quant: 256 weights in 144 bytes is 4.5 bits per weight.
    assert gguf.GGML_TYPES[GGML_Q4_K] == ("Q4_K", 256, 144)


# --- truncation -------------------------------------------------------------------------------------


def test_prefix_cut_inside_the_kv_section_is_truncation(llama: Built) -> None:
    tokens_at = llama.kv_offsets[9]
    cut = tokens_at + 500  # inside the token array
    header = parse_gguf(llama.data[:cut], "model.gguf", file_size=len(llama.data))
    assert header.truncated and not header.metadata_complete
    assert header.records_read == 9 and header.keys()[-1] == "tokenizer.ggml.model" and header.tensors == ()
    assert header.data_offset is None
    assert f"metadata continues past byte {cut} of {len(llama.data)}" in header.truncation
    assert "KV #9 ('tokenizer.ggml.tokens')" in header.truncation
    assert "read 9 of 15 KV pairs and 0 of 3 tensor infos (9 records)" in header.truncation
    found = gguf.findings(header)
    assert [(f.rule_id, f.severity) for f in found] == [
        ("gguf.truncated", Severity.HIGH)
    ]  # license: not known yet


def test_prefix_cut_inside_tensor_infos(llama: Built) -> None:
    cut = llama.kv_end + 30
    header = parse_gguf(llama.data[:cut], "m", file_size=len(llama.data))
    assert header.truncated and len(header.kv) == 15 and len(header.tensors) == 0
    assert "tensor info #0 ('token_embd.weight')" in header.truncation


def test_file_cut_inside_the_kv_section_is_an_error_naming_the_record(llama: Built) -> None:
    cut = llama.kv_offsets[9] + 500
    error = error_of(llama.data[:cut])  # no file_size: these bytes are the whole file
    assert "KV #9 ('tokenizer.ggml.tokens')" in str(error)
    assert "array of 1003 items needs at least 8024 bytes" in str(error)
    assert "truncated file or corrupt length; 9 records complete" in str(error)


def test_file_cut_inside_the_data_is_reported_with_every_record(llama: Built, tmp_path: Path) -> None:
    cut = llama.data_offset + 1000
    path = tmp_path / "model-00001-of-00002.gguf"
    path.write_bytes(llama.data[:cut])
    header = read_gguf_file(path)
    assert header.truncated and header.metadata_complete and header.records_read == 18
    assert header.truncation == f"truncated: data needs {llama.data_end} bytes, file has {cut}"
    assert header.get("general.name") == "Tiny Llama Test" and len(header.tensors) == 3
    found = gguf.findings(header)
    assert [f.rule_id for f in found] == ["gguf.truncated", "gguf.no-license", "gguf.no-base-model"]
    assert found[0].severity == Severity.HIGH and found[0].message == header.truncation


def test_prefix_with_whole_metadata_judges_data_by_file_size(llama: Built) -> None:
    header = parse_gguf(llama.data[: llama.data_offset], "m", file_size=len(llama.data))
    assert not header.truncated and header.metadata_complete
    short = parse_gguf(llama.data[: llama.data_offset], "m", file_size=llama.data_end - 1)
    assert short.truncation == f"truncated: data needs {llama.data_end} bytes, file has {llama.data_end - 1}"


def test_string_past_the_file_is_an_error_even_in_a_prefix(llama: Built) -> None:
    name_at = llama.kv_offsets[1] + 8 + len("general.name") + 4
    data = llama.data[:name_at] + struct.pack("<Q", 10**9) + llama.data[name_at + 8 :]
    with pytest.raises(MalformedFileError, match="string length 1000000000 exceeds"):
        parse_gguf(data[:200], "m", file_size=len(data))


# --- reading from disk ------------------------------------------------------------------------------


def test_read_grows_until_the_metadata_fits(llama: Built, tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(llama.data)
    assert read_gguf_file(path, first_read=64) == parse_gguf(llama.data, str(path))


def test_read_cap_is_a_limit(llama: Built, tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(llama.data)
    with pytest.raises(LimitExceededError, match="metadata larger than the 2000-byte read cap"):
        read_gguf_file(path, max_bytes=2000, first_read=100)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"")
    with pytest.raises(MalformedFileError, match="empty file"):
        read_gguf_file(path)


# --- fuzz -------------------------------------------------------------------------------------------

_SMALL = build([*llama_kvs()[:3], ("t", ARRAY, (STRING, TOKENS[:70]))], llama_tensors()[2:]).data


@settings(max_examples=200, deadline=None)
@given(
    hst.lists(hst.tuples(hst.integers(0, len(_SMALL) - 1), hst.integers(0, 255)), max_size=6),
    hst.integers(0, len(_SMALL)),
    hst.integers(0, 2 * len(_SMALL)),
)
def test_fuzz_mutated_files(edits: list[tuple[int, int]], cut: int, extra: int) -> None:
    data = bytearray(_SMALL)
    for position, byte in edits:
        data[position] = byte
    for file_size in (None, cut + extra):
        with contextlib.suppress(MalformedFileError):
            header = parse_gguf(bytes(data[:cut]), "fuzz", file_size)
            gguf.findings(header)
            json.dumps(header.to_json())


@settings(max_examples=200, deadline=None)
@given(hst.binary(max_size=400))
def test_fuzz_random_bodies(body: bytes) -> None:
    with contextlib.suppress(MalformedFileError):
        parse_gguf(b"GGUF" + struct.pack("<I", 3) + body, "fuzz")
