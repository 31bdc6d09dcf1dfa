"""Fuzz targets shared by tests/reliability/test_fuzz.py (short runs) and bench/fuzz.py (long runs).

Each target is a hypothesis strategy of inputs plus a `check` that feeds one input to a parser. The property is
the same for all: the parser returns a result whose JSON form serialises, or raises a `ProvenanceError`; any
other exception (KeyError, RecursionError, UnicodeDecodeError, MemoryError...) escapes and fails the example.
Inputs are mostly *structured mutations of valid files*: a real safetensors header with bytes flipped or its
length prefix replaced, a GGUF whose record length/type fields get boundary values, standard-library pickles
with opcodes spliced in, cards and policies with lines dropped, duplicated or re-indented.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import fractions
import io
import json
import pickle
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from provenance.errors import ProvenanceError
from provenance.licenses import catalog as license_catalog
from provenance.policy import orgpolicy
from provenance.readers import gguf, jsonfiles, modelcard, pickles, safetensors

ROOT = Path(__file__).resolve().parents[2]
BOUNDARY_INTS = (0, 1, 7, 8, 255, 2**31 - 1, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64 - 1)


@dataclass(frozen=True)
class Target:
    name: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]


def _json_round_trip(value: Any) -> None:
    json.dumps(value, allow_nan=False)


# --- byte-level mutations of a valid input ----------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, protected: int = 0) -> bytes:
    """`seed` with up to 6 edits (flip, overwrite, insert, delete, duplicate a slice) then maybe a cut."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        if not data:
            break
        at = draw(st.integers(protected if protected < len(data) else 0, len(data) - 1))
        kind = draw(st.sampled_from(("flip", "set", "insert", "delete", "dup")))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[at] = draw(st.sampled_from((0, 0xFF, 0x7F, 0x80, ord('"'), ord("{"), ord("\\"), ord("\n"))))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            end = min(len(data), at + draw(st.integers(1, 32)))
            data[at:at] = data[at:end]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


# --- safetensors ------------------------------------------------------------------------------------------


def safetensors_file(
    tensors: dict[str, tuple[str, list[int]]], metadata: dict[str, str] | None = None
) -> bytes:
    sizes = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U8": 1, "BOOL": 1, "F8_E4M3": 1}
    header: dict[str, Any] = {"__metadata__": metadata} if metadata is not None else {}
    offset = 0
    for key, (dtype, shape) in tensors.items():
        size = sizes[dtype]
        for dim in shape:
            size *= dim
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + bytes(offset)


SAFETENSORS_SEED = safetensors_file(
    {
        "model.embed.weight": ("F16", [4, 3]),
        "model.layers.0.q.weight": ("BF16", [3, 3]),
        "model.norm.bias": ("F32", [3]),
        "lm_head.scale": ("U8", [2, 1, 2]),
        "ids": ("I64", []),
    },
    {"format": "pt", "source": "fuzz"},
)


@st.composite
def _safetensors_inputs(draw: st.DrawFn) -> bytes:
    header_size = struct.unpack("<Q", SAFETENSORS_SEED[:8])[0]
    body = (
        draw(mutated(SAFETENSORS_SEED[: 8 + header_size], protected=8)) + SAFETENSORS_SEED[8 + header_size :]
    )
    if draw(st.integers(0, 3)) == 0:
        prefix = draw(st.sampled_from(BOUNDARY_INTS) | st.integers(0, 2 * len(body)))
        body = struct.pack("<Q", prefix) + body[8:]
    return body


def check_safetensors(data: bytes) -> None:
    try:
        size = safetensors.header_length(data[:8], "fuzz.safetensors", len(data))
        header = safetensors.parse_header(data[8 : 8 + size], "fuzz.safetensors", len(data))
    except ProvenanceError:
        return
    assert header.expected_file_size >= 8 + size
    safetensors.coverage_findings(header, len(data))
    _json_round_trip(header.to_json())


# --- GGUF -------------------------------------------------------------------------------------------------

_GU8, _GI8, _GU16, _GI16, _GU32, _GI32, _GF32, _GBOOL, _GSTR, _GARR, _GU64, _GI64, _GF64 = range(13)
_GFMT = {_GU8: "B", _GI8: "b", _GU16: "H", _GI16: "h", _GU32: "I", _GI32: "i", _GF32: "f", _GBOOL: "B"}
_GFMT.update({_GU64: "Q", _GI64: "q", _GF64: "d"})


def _gstr(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def _gvalue(value_type: int, value: Any) -> bytes:
    if value_type == _GSTR:
        return _gstr(value)
    if value_type == _GARR:
        item_type, items = value
        return struct.pack("<IQ", item_type, len(items)) + b"".join(_gvalue(item_type, i) for i in items)
    return struct.pack("<" + _GFMT[value_type], value)


def gguf_file(
    kvs: list[tuple[str, int, Any]], tensors: list[tuple[str, tuple[int, ...]]]
) -> tuple[bytes, list[int]]:
    """A little-endian GGUF v3 (F32 tensors, default alignment) and the offset where each record starts."""
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)))
    starts: list[int] = []
    for key, value_type, value in kvs:
        starts.append(len(out))
        out += _gstr(key) + struct.pack("<I", value_type) + _gvalue(value_type, value)
    offset = 0
    for name, dims in tensors:
        starts.append(len(out))
        out += _gstr(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        out += struct.pack("<IQ", 0, offset)
        size = 4
        for dim in dims:
            size *= dim
        offset += size + (-size % 32)
    out += bytes(-len(out) % 32) + bytes(offset)
    return bytes(out), starts


GGUF_SEED, GGUF_RECORDS = gguf_file(
    [
        ("general.architecture", _GSTR, "llama"),
        ("general.name", _GSTR, "Fuzz {{ 1 }}"),
        ("general.license", _GSTR, "apache-2.0"),
        ("general.alignment", _GU32, 32),
        ("llama.context_length", _GU32, 4096),
        ("llama.rope.freq_base", _GF32, 10000.0),
        ("tokenizer.ggml.tokens", _GARR, (_GSTR, ["<s>", "</s>", "a", "b", "ab"])),
        ("tokenizer.ggml.scores", _GARR, (_GF32, [0.0, -1.0, -2.0, -3.0, -4.0])),
        ("tokenizer.chat_template", _GSTR, "{% for m in messages %}{{ m.content }}{% endfor %}"),
        ("general.base_model.count", _GU64, 1),
        ("flag", _GBOOL, 1),
        ("neg", _GI64, -5),
    ],
    [("token_embd.weight", (3, 5)), ("output_norm.weight", (3,))],
)


@st.composite
def _gguf_inputs(draw: st.DrawFn) -> tuple[bytes, int | None]:
    data = bytearray(draw(mutated(GGUF_SEED)) if draw(st.booleans()) else GGUF_SEED)
    for _ in range(draw(st.integers(0, 3))):
        start = draw(
            st.sampled_from([4, 8, 16, *GGUF_RECORDS])
        )  # version, counts, or a record's length field
        width = draw(st.sampled_from((4, 8)))
        value = draw(st.sampled_from(BOUNDARY_INTS) | st.integers(0, 64))
        if start + width <= len(data):
            data[start : start + width] = (value % 2 ** (8 * width)).to_bytes(width, "little")
    file_size = draw(st.none() | st.integers(0, 2 * len(data)))
    return bytes(data), file_size


def check_gguf(case: tuple[bytes, int | None]) -> None:
    data, file_size = case
    try:
        header = gguf.parse_gguf(data, "fuzz.gguf", file_size)
    except ProvenanceError:
        return
    gguf.findings(header)
    _json_round_trip(header.to_json())


# --- pickle -----------------------------------------------------------------------------------------------

_OBJECTS: list[Any] = [
    {"a": [1, 2.5, None, True], "b": ("x", b"y", bytearray(b"z"))},
    collections.OrderedDict(w=1, v=[{}]),
    collections.Counter("mississippi"),
    datetime.datetime(2024, 1, 2, 3, 4, 5),
    decimal.Decimal("3.14"),
    fractions.Fraction(3, 7),
    {frozenset({1, 2}), "long" * 40, 2**70, -1},
    [list(range(30)), "é" * 5],
]
PICKLE_SEEDS = [pickle.dumps(obj, protocol=p) for obj in _OBJECTS for p in range(pickle.HIGHEST_PROTOCOL + 1)]
_OPCODE_BYTES = sorted({op.code.encode("latin-1") for op in __import__("pickletools").opcodes})


def _zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CHECKPOINT_SEED = _zip_of({"archive/data.pkl": PICKLE_SEEDS[-1], "archive/data/0": bytes(16)})


@st.composite
def _pickle_inputs(draw: st.DrawFn) -> tuple[bytes, bool]:
    if draw(st.integers(0, 4)) == 0:
        return draw(mutated(CHECKPOINT_SEED)), True
    seed = bytearray(draw(st.sampled_from(PICKLE_SEEDS)))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(seed)))
        seed[at:at] = draw(st.sampled_from(_OPCODE_BYTES)) + draw(st.binary(max_size=4))
    return draw(mutated(bytes(seed))), draw(st.booleans())


def check_pickle(case: tuple[bytes, bool]) -> None:
    data, as_checkpoint = case
    try:
        if as_checkpoint:
            _json_round_trip(pickles.scan_checkpoint_bytes(data, "fuzz.bin").to_json())
        else:
            _json_round_trip(pickles.scan_pickle_bytes(data, "fuzz.pkl").to_json())
    except ProvenanceError:
        return


# --- model card front matter ------------------------------------------------------------------------------

CARD_SEED = (
    "---\n"
    "license: other\n"
    "license_name: llama3.3\n"
    "license_link: LICENSE\n"
    "base_model:\n- meta-llama/Llama-3.3-70B-Instruct\n"
    "datasets: [a/b, c/d]\n"
    "tags: &t [x, y]\n"
    "language:\n  - en\n  - fr\n"
    "pipeline_tag: text-generation\n"
    "model-index:\n- name: m\n  results: []\n"
    "---\n\n# Model {{ name }}\n\nSome prose: with a colon.\n"
)
_YAML_SNIPPETS = (
    "---\n",
    "\t",
    "  ",
    "- ",
    ": ",
    "[",
    "{",
    "&a ",
    "*a",
    "!!python/object:os.system ",
    "? ",
    "|\n",
    "\ufeff",
    "\r\n",
    "\x00",
    "license: [mit, 3]\n",
    "base_model: x/x\n",
    "'",
    '"',
    "%YAML 1.1\n",
)


@st.composite
def _card_inputs(draw: st.DrawFn) -> bytes:
    lines = CARD_SEED.split("\n")
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(("drop", "dup", "snippet", "indent")))
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "snippet":
            lines[at] = draw(st.sampled_from(_YAML_SNIPPETS)) + lines[at]
        else:
            lines[at] = " " * draw(st.integers(1, 5)) + lines[at]
        if not lines:
            break
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "latin-1")))
    raw = text.encode(encoding, errors="replace")
    return draw(mutated(raw)) if draw(st.booleans()) else raw


def check_card(data: bytes) -> None:
    try:
        card = modelcard.parse_card(data, "README.md", repo_id="acme/fuzz")
    except ProvenanceError:
        return
    _json_round_trip(card.to_json())


# --- JSON configs -----------------------------------------------------------------------------------------

_CONFIG_SEEDS: dict[str, dict[str, Any]] = {
    "config": {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "vocab_size": 100,
        "torch_dtype": "bfloat16",
        "auto_map": {"AutoModel": "modeling_x.X"},
        "quantization_config": {"quant_method": "gptq", "bits": 4},
        "_name_or_path": "a/b",
    },
    "tokenizer": {
        "chat_template": [{"name": "default", "template": "{{ messages }}"}],
        "added_tokens_decoder": {"0": {"content": "<s>", "special": True}},
        "model_max_length": 4096,
        "tokenizer_class": "LlamaTokenizer",
    },
    "generation": {"temperature": 0.6, "top_p": 0.95, "eos_token_id": [1, 2], "do_sample": True},
    "adapter": {"peft_type": "LORA", "base_model_name_or_path": "a/b", "r": 8, "target_modules": ["q"]},
    "quant": {"quant_method": "awq", "bits": 4, "group_size": 128},
    "index": {"metadata": {"total_size": 12}, "weight_map": {"a": "model-00001-of-00002.safetensors"}},
    "chat_template": {"chat_template": "{% for m in messages %}{{ m }}{% endfor %}"},
}
_CONFIG_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "config": lambda d: jsonfiles.parse_config(d, "config.json"),
    "tokenizer": lambda d: jsonfiles.parse_tokenizer_config(d, "tokenizer_config.json"),
    "generation": lambda d: jsonfiles.parse_generation_config(d, "generation_config.json"),
    "adapter": lambda d: jsonfiles.parse_adapter_config(d, "adapter_config.json"),
    "quant": lambda d: jsonfiles.parse_quant_config(d, "quantization_config.json"),
    "index": lambda d: jsonfiles.parse_shard_index(d, "model.safetensors.index.json"),
    "chat_template": lambda d: jsonfiles.parse_chat_template_file(d, "chat_template.json"),
}
_JSON_LEAF = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)


def _json_containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)


_JSON_VALUE = st.recursive(_JSON_LEAF, _json_containers)


@st.composite
def _config_inputs(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(sorted(_CONFIG_SEEDS)))
    document = dict(_CONFIG_SEEDS[kind])
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(sorted(document)) | st.text(max_size=6))
        document[key] = draw(_JSON_VALUE)
    raw = json.dumps(document, allow_nan=True).encode()
    if draw(st.booleans()):
        raw = draw(mutated(raw))
    if draw(st.integers(0, 9)) == 0:
        raw = b"\xef\xbb\xbf" + raw
    return kind, raw


def check_config(case: tuple[str, bytes]) -> None:
    kind, data = case
    try:
        result = _CONFIG_PARSERS[kind](data)
    except ProvenanceError:
        return
    items = result if isinstance(result, tuple) else (result,)
    for item in items:
        _json_round_trip(item.to_json())


# --- org policy -------------------------------------------------------------------------------------------

POLICY_SEED = (ROOT / "policies" / "default.yaml").read_text(encoding="utf-8")
_POLICY_SNIPPETS = (
    "alowed_licenses: [MIT]",
    "severity: fatal",
    "x: &a [1]\ny: *a",
    "!!python/object/apply:os.system [echo]",
    "- ",
    "[[[[[[[[[[",
    "licenses: MIT",
    "deny: [MIT and/or GPL]",
    "expires: 2020-02-30",
    "\t",
    "version: 99",
    "{",
    "'",
)


@st.composite
def _policy_inputs(draw: st.DrawFn) -> str:
    lines = POLICY_SEED.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        action = draw(st.sampled_from(("drop", "dup", "snippet", "indent", "swap")))
        if not lines:
            lines.append("")
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "snippet":
            lines.insert(at, " " * draw(st.integers(0, 4)) + draw(st.sampled_from(_POLICY_SNIPPETS)))
        elif action == "indent":
            lines[at] = " " * draw(st.integers(1, 3)) + lines[at]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
    return "\n".join(lines)


def check_policy(text: str) -> None:
    try:
        policy = orgpolicy.parse_policy(text, "fuzz.yaml", ("MIT", "LicenseRef-llama3.3"))
    except ProvenanceError:
        return
    _json_round_trip(policy.to_json())


# --- license catalog --------------------------------------------------------------------------------------

CATALOG_DIR = ROOT / "policies" / "licenses"
CATALOG_SEED = (CATALOG_DIR / "mit.yaml").read_text(encoding="utf-8")


class CatalogSandbox:
    """A temporary catalog folder (the real texts/ copied once) into which each example writes mit.yaml."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="fuzz-catalog-"))
        shutil.copytree(CATALOG_DIR / "texts", self.root / "texts")

    def load(self, text: bytes) -> None:
        (self.root / "mit.yaml").write_bytes(text)
        try:
            loaded = license_catalog.load_catalog(self.root)
        except ProvenanceError:
            return
        assert len(loaded.licenses) == 1

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


_SANDBOX: list[CatalogSandbox] = []


@st.composite
def _catalog_inputs(draw: st.DrawFn) -> bytes:
    lines = CATALOG_SEED.split("\n")
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(("drop", "dup", "snippet")))
        if action == "drop" and len(lines) > 1:
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        else:
            lines.insert(at, draw(st.sampled_from((*_POLICY_SNIPPETS, "text: {file: ../../etc/passwd}"))))
    raw = "\n".join(lines).encode()
    return draw(mutated(raw)) if draw(st.booleans()) else raw


def check_catalog(data: bytes) -> None:
    if not _SANDBOX:
        _SANDBOX.append(CatalogSandbox())
    _SANDBOX[0].load(data)


def close_sandboxes() -> None:
    while _SANDBOX:
        _SANDBOX.pop().close()


# --- claims tables and prose (provenance/verify/claims_extract.py) ----------------------------------------

CLAIMS_SEED = (ROOT / "tests" / "data" / "cards" / "deepseek-ai__DeepSeek-R1.README.github.md").read_text(
    encoding="utf-8"
)
_CLAIMS_SNIPPETS = (
    "|",
    "| --- |",
    "<table>",
    "<tr><td>",
    "</td>",
    "**",
    "%",
    "97.3",
    "-",
    "1e999",
    "NaN",
    "<td colspan=99999>",
    "|||||||||||",
    "\\|",
    "±",
    "Pass@1",
)
_CLAIMS_CONTEXT: list[Any] = []


@st.composite
def _claims_inputs(draw: st.DrawFn) -> str:
    lines = CLAIMS_SEED.split("\n")
    start = draw(st.integers(0, len(lines) - 1))
    lines = lines[start : start + draw(st.integers(1, 80))]
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(("drop", "dup", "snippet", "cell")))
        if action == "drop" and len(lines) > 1:
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "snippet":
            where = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:where] + draw(st.sampled_from(_CLAIMS_SNIPPETS)) + lines[at][where:]
        else:
            lines[at] = lines[at].replace("|", draw(st.sampled_from(("||", " ", "|x|", "| 1e308 |"))), 1)
    return "\n".join(lines)


def check_claims(text: str) -> None:
    from provenance.verify import claims_extract, claims_figures  # noqa: PLC0415  (owned by another stage)

    if not _CLAIMS_CONTEXT:
        _CLAIMS_CONTEXT.append(claims_figures.load_catalog())
    subject = claims_extract.Subject("deepseek-ai/DeepSeek-R1", "DeepSeek-R1", "deepseek-ai/DeepSeek-R1")
    try:
        extraction = claims_extract.text_claims(_CLAIMS_CONTEXT[0], subject, text, "README.md")
    except ProvenanceError:
        return
    _json_round_trip([c.to_json() for c in extraction.claims])


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("safetensors", _safetensors_inputs(), check_safetensors),
        Target("gguf", _gguf_inputs(), check_gguf),
        Target("pickle", _pickle_inputs(), check_pickle),
        Target("card", _card_inputs(), check_card),
        Target("config", _config_inputs(), check_config),
        Target("policy", _policy_inputs(), check_policy),
        Target("catalog", _catalog_inputs(), check_catalog),
        Target("claims", _claims_inputs(), check_claims),
    )
}
