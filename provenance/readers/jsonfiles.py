"""JSON files of a model repo: config, generation and tokenizer configs, adapter, shard index, quant config.

`load_json_object` is the one strict loader under all of them: UTF-8 only, a size cap, bounded nesting checked
before parsing, no duplicate keys, no NaN/Infinity (not JSON; Python's json would accept them), an object at
the top. A UTF-8 BOM is accepted with a `json.bom` finding, because transformers' `json.load` refuses it.

Nothing here imports or runs code from the repo: `auto_map` is reported, chat templates are stored and hashed,
never rendered.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import math
import re
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from provenance.errors import LimitExceededError, MalformedFileError
from provenance.model import Finding, Severity
from provenance.readers.textfiles import decode_text

MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64

# A string token, or an unterminated one running to the end: it never fails once started, so no rescans.
# Working on the UTF-8 bytes is safe: `"` and `\` never occur inside a multi-byte sequence.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_OTHER_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class _DuplicateKeyError(ValueError):
    pass


class _NotFiniteError(ValueError):
    pass


# --- the loader


def load_json_object(
    data: bytes, name: str, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> tuple[dict[str, Any], tuple[Finding, ...]]:
    """Parse a JSON file whose top level must be an object. Raises MalformedFileError / LimitExceededError."""
    if len(data) > max_bytes:
        raise LimitExceededError(name, f"JSON file is over the size cap ({len(data)} > {max_bytes} bytes)")
    findings: tuple[Finding, ...] = ()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        message = f"{name} starts with a UTF-8 byte-order mark; transformers' json.load refuses it"
        findings = (Finding("json.bom", Severity.MEDIUM, message, location=name, fix="remove the BOM"),)
    elif data.startswith(_OTHER_BOMS):
        raise MalformedFileError(
            name, "JSON must be UTF-8, but the file starts with a UTF-16/32 byte-order mark"
        )
    if not data.strip():
        raise MalformedFileError(name, "empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(name, "not valid UTF-8", offset=exc.start) from None
    _check_depth(data, name, max_depth)
    value = _parse(text, name)
    if not isinstance(value, dict):
        raise MalformedFileError(name, f"top-level JSON value must be an object, got {_json_type(value)}")
    return value, findings


def _check_depth(data: bytes, name: str, max_depth: int) -> None:
    """Reject deep nesting before json (whose C scanner recurses) sees it; C-speed passes only."""
    skeleton = _JSON_STRING.sub(b"", data)
    if skeleton.count(b"[") + skeleton.count(b"{") <= max_depth:
        return
    steps = array("b", skeleton.translate(_BRACKET_STEPS, _NOT_BRACKETS))
    if max(accumulate(steps), default=0) > max_depth:
        raise LimitExceededError(name, f"nesting too deep (over {max_depth} levels)")


def _parse(text: str, name: str) -> Any:
    try:
        return json.loads(
            text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant, parse_float=_finite
        )
    except json.JSONDecodeError as exc:
        raise MalformedFileError(f"{name}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}") from None
    except _DuplicateKeyError as exc:
        raise MalformedFileError(name, f"duplicate key {exc.args[0]!r}") from None
    except _NotFiniteError as exc:
        raise MalformedFileError(
            name, f"{exc.args[0]} is not valid JSON (NaN and Infinity are not allowed)"
        ) from None
    except (
        ValueError,
        RecursionError,
    ) as exc:  # int() digit limit; recursion only if depth checks are raised
        raise MalformedFileError(name, f"invalid JSON: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _reject_constant(word: str) -> Any:
    raise _NotFiniteError(word)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotFiniteError(text)
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    names = {dict: "object", list: "array", str: "string", type(None): "null", int: "number", float: "number"}
    return names.get(type(value), type(value).__name__)


# --- typed access


class _Picker:
    """Reads typed values out of one JSON object; a wrong type is a finding and the value counts as absent."""

    def __init__(self, mapping: Mapping[str, Any], name: str, prefix: str) -> None:
        self.mapping, self.name, self.prefix = mapping, name, prefix
        self.findings: list[Finding] = []

    def note(self, rule: str, severity: Severity, message: str, fix: str = "") -> None:
        self.findings.append(Finding(f"{self.prefix}.{rule}", severity, message, location=self.name, fix=fix))

    def _wrong(self, key: str, want: str) -> None:
        got = _json_type(self.mapping[key])
        self.note("bad-type", Severity.LOW, f"{self.name}: {key} should be {want}, got {got}; ignored")

    def integer(self, key: str) -> int | None:
        value = self.mapping.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        self._wrong(key, "an integer")
        return None

    def number(self, key: str) -> float | None:
        value = self.mapping.get(key)
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            if value is not None:
                self._wrong(key, "a number")
            return None
        return float(value)

    def flag(self, key: str) -> bool | None:
        value = self.mapping.get(key)
        if value is None or isinstance(value, bool):
            return value
        self._wrong(key, "true or false")
        return None

    def text(self, key: str) -> str | None:
        value = self.mapping.get(key)
        if value is None or isinstance(value, str):
            return value
        self._wrong(key, "a string")
        return None

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.mapping.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        self._wrong(key, "a string or a list of strings")
        return ()

    def integers(self, key: str) -> tuple[int, ...]:
        """A token id or a list of them (eos_token_id is often a list)."""
        value = self.mapping.get(key)
        items = value if isinstance(value, list) else [] if value is None else [value]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            return tuple(items)
        self._wrong(key, "an integer or a list of integers")
        return ()

    def object_at(self, key: str) -> dict[str, Any] | None:
        value = self.mapping.get(key)
        if value is None or isinstance(value, dict):
            return value
        self._wrong(key, "an object")
        return None


# --- quantization


@dataclass(frozen=True)
class QuantizationConfig:
    """How the weights are quantised. `method_inferred` is set when the method came from the file name."""

    source: str
    quant_method: str | None
    bits: int | None
    group_size: int | None
    method_inferred: bool
    raw: dict[str, Any]
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "quant_method": self.quant_method,
            "bits": self.bits,
            "group_size": self.group_size,
            "method_inferred": self.method_inferred,
            "raw": self.raw,
            "findings": [f.to_json() for f in self.findings],
        }


_METHOD_BY_FILE = {"quantize_config.json": "gptq", "quant_config.json": "awq"}


def parse_quant_config(data: bytes, name: str) -> QuantizationConfig:
    """quantize_config.json (AutoGPTQ), quant_config.json (AutoAWQ) or a quantization_config.json."""
    mapping, findings = load_json_object(data, name)
    config = quantization_from_mapping(mapping, name)
    return _with_findings(config, findings)


def quantization_from_mapping(mapping: Mapping[str, Any], source: str) -> QuantizationConfig:
    """Normalise the quantisation keys used by transformers, AutoGPTQ, AutoAWQ and bitsandbytes."""
    pick = _Picker(mapping, source, "quant")
    method = pick.text("quant_method")
    inferred = False
    if method is None:
        method = _METHOD_BY_FILE.get(source.replace("\\", "/").rsplit("/", 1)[-1])
        inferred = method is not None
    bits = next((pick.integer(k) for k in ("bits", "w_bit", "wbits") if k in mapping), None)
    if bits is None and pick.flag("load_in_4bit"):
        bits = 4
    elif bits is None and pick.flag("load_in_8bit"):
        bits = 8
    group_size = next((pick.integer(k) for k in ("group_size", "q_group_size") if k in mapping), None)
    return QuantizationConfig(source, method, bits, group_size, inferred, dict(mapping), tuple(pick.findings))


def _with_findings(config: QuantizationConfig, extra: tuple[Finding, ...]) -> QuantizationConfig:
    if not extra:
        return config
    return QuantizationConfig(
        config.source,
        config.quant_method,
        config.bits,
        config.group_size,
        config.method_inferred,
        config.raw,
        extra + config.findings,
    )


# --- config.json

FINGERPRINT_KEYS = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "intermediate_size",
    "max_position_embeddings",
)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture facts of config.json; multimodal configs give the fingerprint keys in `text_config`."""

    name: str
    model_type: str | None
    architectures: tuple[str, ...]
    hidden_size: int | None
    num_hidden_layers: int | None
    num_attention_heads: int | None
    num_key_value_heads: int | None
    vocab_size: int | None
    intermediate_size: int | None
    max_position_embeddings: int | None
    rope_theta: float | None
    tie_word_embeddings: bool | None
    torch_dtype: str | None
    bos_token_id: tuple[int, ...]
    eos_token_id: tuple[int, ...]
    name_or_path: str | None
    transformers_version: str | None
    auto_map: tuple[tuple[str, str], ...]
    quantization: QuantizationConfig | None
    fingerprint_source: str
    findings: tuple[Finding, ...]

    @property
    def has_custom_code(self) -> bool:
        return bool(self.auto_map)

    def fingerprint(self) -> dict[str, Any]:
        """The keys that identify an architecture family and size, for lineage matching."""
        values = {key: getattr(self, key) for key in FINGERPRINT_KEYS}
        values.update(
            model_type=self.model_type,
            rope_theta=self.rope_theta,
            tie_word_embeddings=self.tie_word_embeddings,
        )
        return values

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model_type": self.model_type,
            "architectures": list(self.architectures),
            **{key: getattr(self, key) for key in FINGERPRINT_KEYS},
            "rope_theta": self.rope_theta,
            "tie_word_embeddings": self.tie_word_embeddings,
            "torch_dtype": self.torch_dtype,
            "bos_token_id": list(self.bos_token_id),
            "eos_token_id": list(self.eos_token_id),
            "name_or_path": self.name_or_path,
            "transformers_version": self.transformers_version,
            "auto_map": dict(self.auto_map),
            "quantization": self.quantization.to_json() if self.quantization else None,
            "fingerprint_source": self.fingerprint_source,
            "findings": [f.to_json() for f in self.findings],
        }


def parse_config(data: bytes, name: str = "config.json") -> ModelConfig:
    """config.json. `quantization_config` is read too; its findings appear in both records."""
    mapping, load_findings = load_json_object(data, name)
    pick = _Picker(mapping, name, "config")
    inner, source = pick, "config"
    text_config = mapping.get("text_config")
    if "hidden_size" not in mapping and isinstance(text_config, dict):
        inner, source = _Picker(text_config, f"{name}:text_config", "config"), "text_config"
    bos_picker = inner if "bos_token_id" in inner.mapping else pick
    eos_picker = inner if "eos_token_id" in inner.mapping else pick
    quant_mapping = pick.object_at("quantization_config")
    quant = (
        None
        if quant_mapping is None
        else quantization_from_mapping(quant_mapping, f"{name}:quantization_config")
    )
    return ModelConfig(
        name=name,
        model_type=pick.text("model_type"),
        architectures=pick.texts("architectures"),
        hidden_size=inner.integer("hidden_size"),
        num_hidden_layers=inner.integer("num_hidden_layers"),
        num_attention_heads=inner.integer("num_attention_heads"),
        num_key_value_heads=inner.integer("num_key_value_heads"),
        vocab_size=inner.integer("vocab_size"),
        intermediate_size=inner.integer("intermediate_size"),
        max_position_embeddings=inner.integer("max_position_embeddings"),
        rope_theta=inner.number("rope_theta"),
        tie_word_embeddings=pick.flag("tie_word_embeddings"),
        torch_dtype=pick.text("torch_dtype") or pick.text("dtype"),
        bos_token_id=bos_picker.integers("bos_token_id"),
        eos_token_id=eos_picker.integers("eos_token_id"),
        name_or_path=pick.text("_name_or_path"),
        transformers_version=pick.text("transformers_version"),
        auto_map=_auto_map(pick, name),
        quantization=quant,
        fingerprint_source=source,
        findings=(
            *load_findings,
            *pick.findings,
            *(inner.findings if inner is not pick else ()),
            *(quant.findings if quant else ()),
        ),
    )


def _auto_map(pick: _Picker, name: str) -> tuple[tuple[str, str], ...]:
    """`auto_map` entries as (auto class, code reference); a finding says the code exists and was not run."""
    raw = pick.mapping.get("auto_map")
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        pick.note(
            "custom-code",
            Severity.MEDIUM,
            f"{name}: custom code (auto_map), nothing imported; auto_map is malformed",
        )
        return ()
    entries = tuple(sorted((str(k), _code_ref(v)) for k, v in raw.items()))
    refs = sorted({ref for _, ref in entries})
    remote = [ref for ref in refs if "--" in ref]
    elsewhere = f"; code from another repo: {', '.join(remote)}" if remote else ""
    pick.note(
        "custom-code",
        Severity.HIGH if remote else Severity.MEDIUM,
        f"{name}: custom code (auto_map), nothing imported: {', '.join(refs)}{elsewhere}",
        fix="review the repo's .py files before loading with trust_remote_code=True",
    )
    return entries


def _code_ref(value: Any) -> str:
    if isinstance(value, list):
        return " | ".join(str(v) for v in value if v is not None)
    return str(value)


# --- tokenizer


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template kept as text with its sha256 (over the UTF-8 text). It is never rendered."""

    name: str
    text: str
    sha256: str

    @classmethod
    def of(cls, name: str, text: str) -> ChatTemplate:
        return cls(name, text, hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest())

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "text": self.text, "sha256": self.sha256}


@dataclass(frozen=True)
class AddedToken:
    id: int
    content: str
    special: bool

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "content": self.content, "special": self.special}


@dataclass(frozen=True)
class TokenizerInfo:
    """tokenizer_config.json or special_tokens_map.json; tokens are their text (an AddedToken's `content`)."""

    name: str
    tokenizer_class: str | None
    bos_token: str | None
    eos_token: str | None
    pad_token: str | None
    unk_token: str | None
    additional_special_tokens: tuple[str, ...]
    added_tokens: tuple[AddedToken, ...]
    chat_templates: tuple[ChatTemplate, ...]
    auto_map: tuple[tuple[str, str], ...]
    findings: tuple[Finding, ...]

    @property
    def special_tokens(self) -> tuple[str, ...]:
        """Every special token named anywhere in the file, deduplicated, in a stable order."""
        named = [
            self.bos_token,
            self.eos_token,
            self.pad_token,
            self.unk_token,
            *self.additional_special_tokens,
        ]
        named += [t.content for t in self.added_tokens if t.special]
        return tuple(dict.fromkeys(t for t in named if t is not None))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tokenizer_class": self.tokenizer_class,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
            "pad_token": self.pad_token,
            "unk_token": self.unk_token,
            "additional_special_tokens": list(self.additional_special_tokens),
            "added_tokens": [t.to_json() for t in self.added_tokens],
            "chat_templates": [t.to_json() for t in self.chat_templates],
            "auto_map": dict(self.auto_map),
            "findings": [f.to_json() for f in self.findings],
        }


def parse_tokenizer_config(data: bytes, name: str = "tokenizer_config.json") -> TokenizerInfo:
    """tokenizer_config.json; special_tokens_map.json has the same token keys and goes through here too."""
    mapping, load_findings = load_json_object(data, name)
    pick = _Picker(mapping, name, "tokenizer")
    tokens = {key: _token_text(pick, key) for key in ("bos_token", "eos_token", "pad_token", "unk_token")}
    extra = mapping.get("additional_special_tokens")
    additional = tuple(
        t for t in (_token_value(pick, "additional_special_tokens", v) for v in _as_list(extra)) if t
    )
    return TokenizerInfo(
        name=name,
        tokenizer_class=pick.text("tokenizer_class"),
        **tokens,
        additional_special_tokens=additional,
        added_tokens=_added_tokens(pick),
        chat_templates=_chat_templates(pick, mapping.get("chat_template")),
        auto_map=_auto_map(pick, name),
        findings=(*load_findings, *pick.findings),
    )


parse_special_tokens_map = parse_tokenizer_config


def parse_chat_template_file(data: bytes, name: str) -> tuple[ChatTemplate, ...]:
    """chat_template.jinja (the template as text) or chat_template.json (`{"chat_template": ...}`)."""
    if name.endswith(".jinja"):
        text, _, _ = decode_text(data, name)
        return (ChatTemplate.of("default", text),)
    mapping, _ = load_json_object(data, name)
    return _chat_templates(_Picker(mapping, name, "tokenizer"), mapping.get("chat_template"))


def _token_text(pick: _Picker, key: str) -> str | None:
    return _token_value(pick, key, pick.mapping.get(key))


def _token_value(pick: _Picker, key: str, value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    pick.note(
        "bad-type", Severity.LOW, f"{pick.name}: {key} should be a token string or an AddedToken object"
    )
    return None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _added_tokens(pick: _Picker) -> tuple[AddedToken, ...]:
    decoder = pick.object_at("added_tokens_decoder") or {}
    tokens: list[AddedToken] = []
    for key, entry in decoder.items():
        if not key.isdigit() or not isinstance(entry, dict) or not isinstance(entry.get("content"), str):
            pick.note(
                "bad-type", Severity.LOW, f"{pick.name}: added_tokens_decoder entry {key!r} is malformed"
            )
            continue
        tokens.append(AddedToken(int(key), entry["content"], entry.get("special") is True))
    return tuple(sorted(tokens, key=lambda t: t.id))


def _chat_templates(pick: _Picker, value: Any) -> tuple[ChatTemplate, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (ChatTemplate.of("default", value),)
    if isinstance(value, list) and all(
        isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("template"), str)
        for t in value
    ):
        return tuple(ChatTemplate.of(t["name"], t["template"]) for t in value)
    pick.note(
        "bad-type",
        Severity.LOW,
        f"{pick.name}: chat_template should be a string or a list of named templates",
    )
    return ()


# --- adapter, generation


@dataclass(frozen=True)
class AdapterConfig:
    """adapter_config.json (PEFT). `target_modules` holds names or, as PEFT allows, one regex string."""

    name: str
    peft_type: str | None
    base_model_name_or_path: str | None
    revision: str | None
    task_type: str | None
    r: int | None
    lora_alpha: float | None
    target_modules: tuple[str, ...]
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "peft_type": self.peft_type,
            "base_model_name_or_path": self.base_model_name_or_path,
            "revision": self.revision,
            "task_type": self.task_type,
            "r": self.r,
            "lora_alpha": self.lora_alpha,
            "target_modules": list(self.target_modules),
            "findings": [f.to_json() for f in self.findings],
        }


_LOCAL_PATH = re.compile(r"(?:/|~|\.{1,2}/|[A-Za-z]:[\\/]|\\\\)|.*\\")


def parse_adapter_config(data: bytes, name: str = "adapter_config.json") -> AdapterConfig:
    mapping, load_findings = load_json_object(data, name)
    pick = _Picker(mapping, name, "adapter")
    base = pick.text("base_model_name_or_path")
    if not base:
        pick.note("no-base-model", Severity.MEDIUM, f"{name} does not name its base model")
    elif _LOCAL_PATH.match(base):
        pick.note(
            "local-base-model", Severity.MEDIUM, f"{name}: base model is a local path ({base}), not a repo id"
        )
    return AdapterConfig(
        name=name,
        peft_type=pick.text("peft_type"),
        base_model_name_or_path=base,
        revision=pick.text("revision"),
        task_type=pick.text("task_type"),
        r=pick.integer("r"),
        lora_alpha=pick.number("lora_alpha"),
        target_modules=pick.texts("target_modules"),
        findings=(*load_findings, *pick.findings),
    )


@dataclass(frozen=True)
class GenerationConfig:
    name: str
    bos_token_id: tuple[int, ...]
    eos_token_id: tuple[int, ...]
    pad_token_id: tuple[int, ...]
    do_sample: bool | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    max_length: int | None
    max_new_tokens: int | None
    transformers_version: str | None
    findings: tuple[Finding, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bos_token_id": list(self.bos_token_id),
            "eos_token_id": list(self.eos_token_id),
            "pad_token_id": list(self.pad_token_id),
            "do_sample": self.do_sample,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k,
            "max_length": self.max_length,
            "max_new_tokens": self.max_new_tokens,
            "transformers_version": self.transformers_version,
            "findings": [f.to_json() for f in self.findings],
        }


def parse_generation_config(data: bytes, name: str = "generation_config.json") -> GenerationConfig:
    mapping, load_findings = load_json_object(data, name)
    pick = _Picker(mapping, name, "generation")
    return GenerationConfig(
        name=name,
        bos_token_id=pick.integers("bos_token_id"),
        eos_token_id=pick.integers("eos_token_id"),
        pad_token_id=pick.integers("pad_token_id"),
        do_sample=pick.flag("do_sample"),
        temperature=pick.number("temperature"),
        top_p=pick.number("top_p"),
        top_k=pick.integer("top_k"),
        max_length=pick.integer("max_length"),
        max_new_tokens=pick.integer("max_new_tokens"),
        transformers_version=pick.text("transformers_version"),
        findings=(*load_findings, *pick.findings),
    )


# --- shard index


@dataclass(frozen=True)
class ShardIndex:
    """model.safetensors.index.json / pytorch_model.bin.index.json: which shard holds each tensor."""

    name: str
    total_size: int | None
    metadata: dict[str, Any]
    weight_map: dict[str, str]
    tensors_per_shard: dict[str, frozenset[str]]
    findings: tuple[Finding, ...]

    @property
    def shards(self) -> tuple[str, ...]:
        return tuple(sorted(self.tensors_per_shard))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "total_size": self.total_size,
            "metadata": self.metadata,
            "shards": {shard: len(names) for shard, names in sorted(self.tensors_per_shard.items())},
            "tensor_count": len(self.weight_map),
            "findings": [f.to_json() for f in self.findings],
        }


def parse_shard_index(data: bytes, name: str = "model.safetensors.index.json") -> ShardIndex:
    """Parse an index; a shard name with `..`, an absolute path or a backslash is a MalformedFileError."""
    mapping, load_findings = load_json_object(data, name)
    pick = _Picker(mapping, name, "index")
    weight_map = mapping.get("weight_map")
    if not isinstance(weight_map, dict):
        raise MalformedFileError(name, f"weight_map must be an object, got {_json_type(weight_map)}")
    per_shard: dict[str, set[str]] = {}
    for tensor, shard in weight_map.items():
        _check_shard_name(name, tensor, shard)
        per_shard.setdefault(shard, set()).add(tensor)
    if not weight_map:
        pick.note("empty", Severity.MEDIUM, f"{name}: weight_map is empty")
    metadata = pick.object_at("metadata") or {}
    total = _Picker(metadata, f"{name}:metadata", "index").integer("total_size")
    if total is not None and total < 0:
        pick.note("bad-type", Severity.LOW, f"{name}: metadata.total_size is negative ({total}); ignored")
        total = None
    return ShardIndex(
        name=name,
        total_size=total,
        metadata=metadata,
        weight_map=dict(weight_map),
        tensors_per_shard={shard: frozenset(names) for shard, names in per_shard.items()},
        findings=(*load_findings, *pick.findings),
    )


def _check_shard_name(name: str, tensor: str, shard: Any) -> None:
    problem = _shard_name_problem(shard)
    if problem:
        raise MalformedFileError(name, f"weight_map[{tensor!r}] names shard {shard!r}: {problem}")


def _shard_name_problem(shard: Any) -> str:
    if not isinstance(shard, str):
        return f"a shard name must be a string, got {_json_type(shard)}"
    if not shard or "\x00" in shard:
        return "empty shard name or NUL byte"
    if "\\" in shard:
        return "backslash in a shard name"
    if shard.startswith("/") or re.match(r"[A-Za-z]:", shard):
        return "absolute path"
    if any(part in ("", ".", "..") for part in shard.split("/")):
        return "`..`, `.` or an empty component in a shard path"
    return ""


def check_index_against_headers(
    index: ShardIndex, shard_tensor_names: Mapping[str, set[str] | frozenset[str]]
) -> list[Finding]:
    """Compare the index with the tensor names each present shard's header declares.

    Findings: shards the index names that are missing, tensors the index assigns to a shard that lacks them,
    tensors a shard holds that the index does not assign to it, and present shards the index never names.
    """
    findings: list[Finding] = []
    for shard in index.shards:
        expected = index.tensors_per_shard[shard]
        actual = shard_tensor_names.get(shard)
        if actual is None:
            message = f"shard {shard} ({_count(len(expected))}) is not present"
            findings.append(_index_finding(index, "index.missing-shard", Severity.HIGH, message))
            continue
        if expected - actual:
            message = f"{shard} lacks {_names(expected - actual)} that the index assigns to it"
            findings.append(_index_finding(index, "index.tensor-mismatch", Severity.HIGH, message))
        if actual - expected:
            message = f"{shard} holds {_names(actual - expected)} that the index does not assign to it"
            findings.append(_index_finding(index, "index.tensor-mismatch", Severity.HIGH, message))
    for shard in sorted(set(shard_tensor_names) - set(index.tensors_per_shard)):
        message = f"shard {shard} is present but the index does not name it"
        findings.append(_index_finding(index, "index.unreferenced-shard", Severity.LOW, message))
    return findings


def _index_finding(index: ShardIndex, rule_id: str, severity: Severity, message: str) -> Finding:
    return Finding(rule_id, severity, f"{index.name}: {message}", location=index.name)


def _names(names: set[str] | frozenset[str], shown: int = 5) -> str:
    ordered = sorted(names)
    more = f" (+{len(ordered) - shown} more)" if len(ordered) > shown else ""
    label = "tensor" if len(ordered) == 1 else _count(len(ordered))
    return f"{label} {', '.join(ordered[:shown])}{more}"


def _count(tensors: int) -> str:
    return "1 tensor" if tensors == 1 else f"{tensors} tensors"
