"""Reader records -> facts. Every fact carries its origin: the source kind, the file, and the key or line.

Fact kinds produced here (documented in docs/scan-report.md): `card.*` from card front matter, `config.*`,
`tokenizer.*`, `generation.*`, `adapter.*`, `quant.*`, `index.*`, `safetensors.*`, `gguf.*`, `license_file.*`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.model import Fact, FileEntry, Finding, Origin, Severity
from provenance.readers import gguf as gg
from provenance.readers import jsonfiles, modelcard, textfiles
from provenance.readers import pickles as pk
from provenance.readers import safetensors as st
from provenance.sources.interface import Source

if TYPE_CHECKING:
    from provenance.licenses.identify import ReferenceText, TextMatch

OriginFn = Callable[[str, str], Origin]
JsonResult = tuple[list[Fact], list[Finding], dict[str, Any], Any]

_CARD_KINDS = {
    "license": "card.license",
    "license_name": "card.license_name",
    "license_link": "card.license_link",
    "base_model": "card.base_model",
    "base_model_relation": "card.base_model_relation",
    "pipeline_tag": "card.pipeline_tag",
    "library_name": "card.library_name",
    "datasets": "card.datasets",
    "tags": "card.tags",
    "language": "card.language",
    "model-index": "card.model_index",
}
_ONE_FACT_PER_ITEM = frozenset({"license", "base_model"})


def card(data: bytes, name: str) -> modelcard.ModelCard:
    return modelcard.parse_card(data, name)


def card_facts(parsed: modelcard.ModelCard, origin: OriginFn) -> list[Fact]:
    facts: list[Fact] = []
    for field in parsed.fields():
        kind = _CARD_KINDS.get(field.key)
        if kind is None or field.value in (None, (), ""):
            continue
        where = origin(parsed.name, f"line {field.line}" if field.line else field.key)
        if field.key in _ONE_FACT_PER_ITEM and isinstance(field.value, tuple):
            facts.extend(Fact(kind, item, where) for item in field.value)
        else:
            facts.append(
                Fact(kind, list(field.value) if isinstance(field.value, tuple) else field.value, where)
            )
    return facts


def json_file(kind: str, data: bytes, path: str, origin: OriginFn) -> JsonResult:
    parse = _JSON_PARSERS[kind]
    return parse(data, path, origin)


def _config(data: bytes, path: str, origin: OriginFn) -> JsonResult:
    config = jsonfiles.parse_config(data, path)
    facts = [
        Fact(f"config.{k}", v, origin(path, k)) for k, v in config.fingerprint().items() if v is not None
    ]
    if config.architectures:
        facts.append(Fact("config.architectures", list(config.architectures), origin(path, "architectures")))
    if config.name_or_path:
        facts.append(Fact("config._name_or_path", config.name_or_path, origin(path, "_name_or_path")))
    if config.quantization is not None:
        facts.extend(_quant_facts(config.quantization, origin(path, "quantization_config")))
    findings = list(config.findings) + (list(config.quantization.findings) if config.quantization else [])
    return facts, findings, {"model_type": config.model_type, "custom_code": config.has_custom_code}, config


def _quant_facts(quant: jsonfiles.QuantizationConfig, where: Origin) -> list[Fact]:
    values = {
        "quant.method": quant.quant_method,
        "quant.bits": quant.bits,
        "quant.group_size": quant.group_size,
    }
    return [Fact(kind, value, where) for kind, value in values.items() if value is not None]


def _quant(data: bytes, path: str, origin: OriginFn) -> JsonResult:
    quant = jsonfiles.parse_quant_config(data, path)
    return _quant_facts(quant, origin(path, "")), list(quant.findings), quant.to_json(), quant


def _tokenizer(data: bytes, path: str, origin: OriginFn) -> JsonResult:
    tok = jsonfiles.parse_tokenizer_config(data, path)
    values: dict[str, Any] = {
        "tokenizer.class": tok.tokenizer_class,
        "tokenizer.bos_token": tok.bos_token,
        "tokenizer.eos_token": tok.eos_token,
        "tokenizer.pad_token": tok.pad_token,
    }
    facts = [
        Fact(kind, value, origin(path, kind.split(".", 1)[1])) for kind, value in values.items() if value
    ]
    facts.extend(
        Fact("tokenizer.chat_template_sha256", t.sha256, origin(path, f"chat_template:{t.name}"))
        for t in tok.chat_templates
    )
    return facts, list(tok.findings), {"special_tokens": list(tok.special_tokens)}, tok


def _generation(data: bytes, path: str, origin: OriginFn) -> JsonResult:
    gen = jsonfiles.parse_generation_config(data, path)
    facts = [Fact(f"generation.{k}", list(v), origin(path, k)) for k, v in _ids(gen).items() if v]
    return facts, list(gen.findings), {}, gen


def _ids(gen: jsonfiles.GenerationConfig) -> dict[str, tuple[int, ...]]:
    return {"bos_token_id": gen.bos_token_id, "eos_token_id": gen.eos_token_id}


def _adapter(data: bytes, path: str, origin: OriginFn) -> JsonResult:
    adapter = jsonfiles.parse_adapter_config(data, path)
    values = {"adapter.base_model": adapter.base_model_name_or_path, "adapter.peft_type": adapter.peft_type}
    facts = [Fact(kind, value, origin(path, kind)) for kind, value in values.items() if value]
    return facts, list(adapter.findings), adapter.to_json(), adapter


def _index(data: bytes, path: str, origin: OriginFn) -> JsonResult:
    index = jsonfiles.parse_shard_index(data, path)
    facts = [Fact("index.shards", len(index.shards), origin(path, "weight_map"))]
    if index.total_size is not None:
        facts.append(Fact("index.total_size", index.total_size, origin(path, "metadata.total_size")))
    summary = {"shards": list(index.shards), "tensors": len(index.weight_map), "total_size": index.total_size}
    return facts, list(index.findings), summary, index


_JSON_PARSERS: dict[str, Callable[[bytes, str, OriginFn], JsonResult]] = {
    "config": _config,
    "quant_config": _quant,
    "tokenizer_config": _tokenizer,
    "special_tokens_map": _tokenizer,
    "generation_config": _generation,
    "adapter_config": _adapter,
    "shard_index": _index,
}


def index_findings(index: jsonfiles.ShardIndex, headers: Mapping[str, frozenset[str]]) -> list[Finding]:
    """The index against the shard headers we read (only shards whose header was read are compared)."""
    return list(jsonfiles.check_index_against_headers(index, {k: set(v) for k, v in headers.items()}))


def root_license_identified(fact: Fact) -> tuple[str, str, str] | None:
    """(path, license id, match kind) when `fact` is a top-level LICENSE whose text the catalog identified
    (exact, normalised or near); None for any other fact. The value is the one `license_file` builds."""
    value = fact.value if fact.kind == "license_file.LICENSE" and isinstance(fact.value, dict) else {}
    identified = value.get("identified") or {}
    path = str(value.get("path", ""))
    license_id, kind = identified.get("license"), identified.get("kind")
    if path.lower() not in textfiles.ROOT_LICENSE_NAMES or not license_id or kind in (None, "none"):
        return None
    return path, str(license_id), str(kind)


def license_file(
    data: bytes, entry: FileEntry, origin: OriginFn
) -> tuple[list[Fact], list[Finding], dict[str, Any]]:
    text = textfiles.read_license_file(data, entry.path)
    first_line = next((line.strip() for line in text.text.splitlines() if line.strip()), "")
    value: dict[str, Any] = {
        "path": entry.path,
        "sha256": text.sha256,
        "first_line": first_line[:120],
        "encoding": text.encoding,
    }
    findings = list(text.findings)
    match = identify_license_text(text.text)
    if match is not None:
        value["identified"] = {
            "license": match.license_id,
            "kind": match.kind,
            "similarity": round(match.similarity, 4),
            "edits": [e.to_json() for e in match.edits[:10]],
        }
        findings.extend(_edited_license_findings(entry.path, match))
    fact = Fact(f"license_file.{text.kind.value}", value, origin(entry.path, ""))
    summary = {"sha256": text.sha256, "first_line": first_line[:120]}
    if match is not None and match.license_id:
        summary["identified"] = f"{match.license_id} ({match.kind}, {match.similarity:.3f})"
    return [fact], findings, summary


def identify_license_text(text: str) -> TextMatch | None:
    """The catalog license this text is (exact, normalised or near), or None when no catalog text is close."""
    from provenance.licenses.identify import identify_text  # noqa: PLC0415

    match = identify_text(text, _reference_texts())
    return match if match.kind != "none" else None


@functools.cache
def _reference_texts() -> tuple[ReferenceText, ...]:
    from provenance.licenses.catalog import default_catalog  # noqa: PLC0415
    from provenance.licenses.identify import reference_texts  # noqa: PLC0415

    return reference_texts(default_catalog())


def _edited_license_findings(path: str, match: TextMatch) -> list[Finding]:
    """A known license text with its words changed: say which license, how similar, and where."""
    if match.kind != "near" or not match.edits:
        return []
    first = match.edits[0]
    where = "; ".join(
        f"line {e.line}" + (f" (§{e.section})" if e.section else "") for e in match.edits[:5]
    ) + (f"; and {len(match.edits) - 5} more" if len(match.edits) > 5 else "")
    expected = first.expected[:80] or "(nothing)"
    found = first.found[:80] or "(nothing)"
    message = (
        f"{path} is {match.name} with {len(match.edits)} edit(s) (similarity {match.similarity:.3f}): "
        f"{where}; first: expected “{expected}”, found “{found}”"
    )
    fix = "an edited license is a different license: find out who changed it and which terms apply"
    return [
        Finding("license.text-modified", Severity.HIGH, message, location=f"{path}:{first.line}", fix=fix)
    ]


def safetensors(
    source: Source, entry: FileEntry, prefix: bytes
) -> tuple[st.SafetensorsHeader, list[Finding]]:
    """Header from `prefix`; one more read only when the header is longer than the first read."""
    size = entry.size
    length = st.header_length(prefix, entry.path, size)
    needed = st.PREFIX_SIZE + length
    if len(prefix) < needed:
        prefix = source.read_prefix(entry.path, needed)
        if len(prefix) < needed:
            raise st_truncated(entry.path, needed, len(prefix))
    header = st.parse_header(prefix[st.PREFIX_SIZE : needed], entry.path, size)
    findings = st.coverage_findings(header, size) if size is not None else []
    return header, findings


def st_truncated(path: str, needed: int, got: int) -> Exception:
    from provenance.errors import MalformedFileError  # noqa: PLC0415

    return MalformedFileError(path, f"truncated header: needs {needed} bytes, file has {got}")


def safetensors_facts(header: st.SafetensorsHeader, where: Origin) -> list[Fact]:
    meta = header.metadata_dict() or {}
    return [Fact(f"safetensors.metadata.{key}", value, where) for key, value in sorted(meta.items())]


def safetensors_summary(header: st.SafetensorsHeader) -> dict[str, Any]:
    return {
        "header_size": header.header_size,
        "tensors": len(header.tensors),
        "parameters": header.parameter_count,
        "dtypes": dict(header.dtype_counts),
        "metadata": header.metadata_dict(),
        "tensor_layout": [[t.name, t.dtype, list(t.shape)] for t in header.tensors],
    }


def pickle_file(path: Path, name: str) -> pk.CheckpointReport:
    return pk.read_checkpoint_file(path, name)


GGUF_MAX_READ = gg.MAX_READ
_GGUF_TEXT_AS_HASH = frozenset({"tokenizer.chat_template"})


def gguf(source: Source, entry: FileEntry, prefix: bytes) -> gg.GGUFHeader:
    """Metadata from `prefix`; one larger read when the metadata runs past it (big vocabularies)."""
    header = gg.parse_gguf(prefix, entry.path, entry.size)
    size = entry.size
    if not header.metadata_complete and size is not None and len(prefix) < min(size, GGUF_MAX_READ):
        prefix = source.read_prefix(entry.path, min(size, GGUF_MAX_READ))
        header = gg.parse_gguf(prefix, entry.path, size)
    return header


def gguf_findings(header: gg.GGUFHeader) -> list[Finding]:
    return gg.findings(header)


def gguf_facts(header: gg.GGUFHeader, origin: OriginFn) -> list[Fact]:
    arch = header.get("general.architecture")
    wanted: tuple[str, ...] = (
        "general.",
        "tokenizer.ggml.model",
        "tokenizer.ggml.pre",
        "tokenizer.chat_template",
    )
    if isinstance(arch, str):
        wanted = (*wanted, f"{arch}.")
    facts: list[Fact] = []
    for kv in header.kv:
        if kv.key.startswith(wanted):
            facts.append(Fact(f"gguf.{kv.key}", _gguf_value(kv.key, kv.value), origin(header.name, kv.key)))
    return facts


def _gguf_value(key: str, value: gg.Value) -> Any:
    if isinstance(value, gg.GGUFArray):
        return value.to_json()
    if isinstance(value, tuple):
        return list(value)
    if key in _GGUF_TEXT_AS_HASH and isinstance(value, str):
        return {
            "sha256": hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest(),
            "chars": len(value),
        }
    return value


def gguf_summary(header: gg.GGUFHeader) -> dict[str, Any]:
    return {
        "version": header.version,
        "kv": header.n_kv,
        "tensors": header.n_tensors,
        "records_read": header.records_read,
        "truncated": header.truncated,
        "truncation": header.truncation,
        "tensor_layout": [[t.name, t.type_name, list(t.dims)] for t in header.tensors],
    }
