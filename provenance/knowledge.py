"""The bundled knowledge base: recorded facts about well-known models, each with the source it rests on.

`load_knowledge_base()` reads `provenance/data/known_models.yaml` (or a given file), validates its whole
structure, reports every problem at once (`PolicyError`, each problem prefixed with the model it concerns) and
caches the result per process. `KnowledgeBase.get(repo_id)` looks a model up (case-insensitive);
`KnowledgeBase.fingerprint_candidates(config)` ranks known models by how many config fingerprint keys agree.

A fact that was not read is absent, never guessed: `license is None` means "not recorded", not "unlicensed".
Where each fact comes from, and how faithful it is: `provenance/data/SOURCES.md`.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import yaml

from provenance.errors import PolicyError

BUNDLED_LOCATION = "provenance/data/known_models.yaml"
SCHEMA_VERSION = 1

FINGERPRINT_KEYS: tuple[str, ...] = (
    "model_type",
    "architectures",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "vocab_size",
    "intermediate_size",
    "max_position_embeddings",
    "rope_theta",
    "tie_word_embeddings",
    "torch_dtype",
    "bos_token_id",
    "eos_token_id",
)
BASE_RELATIONS = frozenset({"finetune", "adapter", "quantized", "merge"})
TEACHER_RELATION = "distillation"
GATED_MODES = frozenset({"manual", "auto"})
TOKENIZER_KEYS = frozenset({"bos_token", "eos_token", "pad_token", "unk_token"})

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_EXACT_BYTES = re.compile(r"^(\d+)(?:\.0)? B$")
_SHARD_PATTERN = re.compile(r"^model-(0*N+)-of-(\d+)\.safetensors$")
_INT_KEYS = frozenset(
    {
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "num_key_value_heads",
        "vocab_size",
        "intermediate_size",
        "max_position_embeddings",
    }
)
_STR_KEYS = frozenset({"model_type", "torch_dtype"})
_MODEL_KEYS = {"repo_id", "license", "bases", "teacher", "config", "shards", "files", "tokenizer", "gated"}
_MODEL_KEYS |= {"sources", "notes"}
_TOP_KEYS = {"schema_version", "collected", "sources", "models"}
_TOKEN_ID_KEYS = frozenset({"bos_token_id", "eos_token_id"})


@dataclass(frozen=True)
class SourceRef:
    """One source of the registry: its public origin (`ref`), its kind, and how we read it (`via`)."""

    id: str
    ref: str
    kind: str
    via: str
    third_party: bool
    note: str = ""


@dataclass(frozen=True)
class KnownEdge:
    """A lineage edge as recorded: parent repo, relation, the source's `ref`, and the verbatim quote."""

    repo: str
    relation: str
    source: str
    quote: str
    note: str = ""


@dataclass(frozen=True)
class ShardLayout:
    """Shard count and name pattern as recorded; `sizes` as the source printed them (rounded)."""

    count: int
    pattern: str
    source: str
    sizes: tuple[str, ...] = ()
    note: str = ""

    def names(self) -> tuple[str, ...]:
        """Shard file names spelled out from the recorded pattern; empty if the pattern does not say them."""
        if self.pattern == "model.safetensors" and self.count == 1:
            return ("model.safetensors",)
        match = _SHARD_PATTERN.match(self.pattern)
        if match is None or int(match.group(2)) != self.count:
            return ()
        width, total = len(match.group(1)), match.group(2)
        return tuple(f"model-{i:0{width}d}-of-{total}.safetensors" for i in range(1, self.count + 1))


@dataclass(frozen=True)
class RecordedFile:
    """A file a source listed; `size` only when the source gave an exact byte count."""

    path: str
    source: str
    size: int | None = None
    size_text: str | None = None


@dataclass(frozen=True)
class KnownModel:
    """Everything recorded about one repo. Absent (None / empty) means not recorded."""

    repo_id: str
    license: str | None
    license_name: str | None
    license_declared_in: str | None
    bases: tuple[KnownEdge, ...]
    teacher: KnownEdge | None
    config: Mapping[str, Any]
    config_source: tuple[SourceRef, ...]
    shards: ShardLayout | None
    files: tuple[RecordedFile, ...]
    tokenizer: Mapping[str, str]
    gated: bool | str | None
    sources: tuple[SourceRef, ...]
    license_quote: str | None = None
    license_source: str | None = None
    config_disagreements: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    tokenizer_source: str | None = None
    gated_source: str | None = None
    notes: str = ""


@dataclass(frozen=True)
class FingerprintMatch:
    """How one known model's recorded config compares with a config under test."""

    model: KnownModel
    score: float
    matched: tuple[str, ...]
    mismatched: tuple[str, ...]
    unrecorded: tuple[str, ...]

    def explain(self) -> list[str]:
        """`match: key`, `mismatch: key (ours …, known …)` and `not recorded: key` lines, in that order."""
        return (
            [f"match: {key}" for key in self.matched]
            + list(self.mismatched)
            + [f"not recorded: {key}" for key in self.unrecorded]
        )


@dataclass(frozen=True)
class KnowledgeBase:
    """The parsed knowledge base: models in file order, the source registry, and a case-insensitive index."""

    location: str
    collected: str
    models: tuple[KnownModel, ...]
    sources: Mapping[str, SourceRef]
    _index: Mapping[str, KnownModel] = field(repr=False, compare=False)

    def get(self, repo_id: str) -> KnownModel | None:
        return self._index.get(repo_id.strip().lower())

    def rank_fingerprint(self, config: Mapping[str, Any]) -> list[FingerprintMatch]:
        """Known models sharing at least one fingerprint key value with `config`, best first.

        The score is the share of `config`'s fingerprint keys whose value the model's record matches; keys the
        record lacks count against it. Equal scores mean the config cannot tell those models apart.
        """
        query = {k: _comparable(k, config[k]) for k in FINGERPRINT_KEYS if config.get(k) is not None}
        if not query:
            return []
        ranked = [m for m in (_compare(model, query) for model in self.models) if m.matched]
        ranked.sort(key=lambda m: (-m.score, len(m.mismatched), m.model.repo_id.lower()))
        return ranked

    def fingerprint_candidates(self, config: Mapping[str, Any]) -> list[tuple[KnownModel, float, list[str]]]:
        """`rank_fingerprint` as (model, score in [0, 1], matching/mismatching/unrecorded key notes)."""
        return [(m.model, m.score, m.explain()) for m in self.rank_fingerprint(config)]


def top_candidates(ranking: Sequence[tuple[KnownModel, float, list[str]]]) -> list[KnownModel]:
    """The models that share the best score: more than one means the fingerprint alone cannot decide."""
    if not ranking:
        return []
    best = ranking[0][1]
    return [model for model, score, _ in ranking if score == best]


@functools.cache
def load_knowledge_base(path: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Parse and validate the knowledge base (the bundled file by default); cached per process and path."""
    from provenance.data import read_data_file  # noqa: PLC0415

    return parse_knowledge_base(*read_data_file(path, "known_models.yaml", "the knowledge base"))


def parse_knowledge_base(text: str, location: str) -> KnowledgeBase:
    """Validate the whole document; raise PolicyError listing every problem found."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same safe subset, parsed in C when available
    try:
        doc = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader: SafeLoader or its C twin
    except yaml.YAMLError as exc:
        raise PolicyError(location, [f"not valid YAML: {exc}"]) from None
    problems: list[str] = []
    kb = _Parser(problems).document(doc, location)
    if problems or kb is None:
        raise PolicyError(location, problems, hint="fix the knowledge base file; every problem is listed")
    return kb


# --- validation --------------------------------------------------------------------------------------


class _Parser:
    """Builds records from the YAML document, appending a problem (prefixed by where) for each defect."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.registry: dict[str, SourceRef] = {}

    def fail(self, where: str, problem: str) -> None:
        self.problems.append(f"{where}: {problem}")

    def document(self, doc: object, location: str) -> KnowledgeBase | None:
        if not isinstance(doc, dict):
            self.fail("document", f"the top level must be a mapping with {', '.join(sorted(_TOP_KEYS))}")
            return None
        self._keys(doc, "document", _TOP_KEYS)
        version = doc.get("schema_version")
        if version != SCHEMA_VERSION:
            self.fail("document", f"schema_version must be {SCHEMA_VERSION}, not {version!r}")
        collected = self._text(doc, "collected", "document", required=True) or ""
        self._registry(doc.get("sources"))
        models = self._models(doc.get("models"))
        index = {m.repo_id.lower(): m for m in models}
        return KnowledgeBase(location, collected, tuple(models), MappingProxyType(self.registry), index)

    # --- registry and models

    def _registry(self, raw: object) -> None:
        if not isinstance(raw, dict) or not raw:
            self.fail("sources", "must be a non-empty mapping of source id -> {ref, kind, via, third_party}")
            return
        for sid, entry in raw.items():
            where = f"sources.{sid}"
            if not isinstance(entry, dict):
                self.fail(where, "must be a mapping")
                continue
            self._keys(entry, where, {"ref", "kind", "via", "third_party", "note"})
            third_party = entry.get("third_party")
            if not isinstance(third_party, bool):
                self.fail(where, "third_party must be true or false")
            self.registry[str(sid)] = SourceRef(
                id=str(sid),
                ref=self._text(entry, "ref", where, required=True) or "",
                kind=self._text(entry, "kind", where, required=True) or "",
                via=self._text(entry, "via", where, required=True) or "",
                third_party=bool(third_party),
                note=self._text(entry, "note", where) or "",
            )

    def _models(self, raw: object) -> list[KnownModel]:
        if not isinstance(raw, list) or not raw:
            self.fail("models", "must be a non-empty list")
            return []
        models: list[KnownModel] = []
        seen: set[str] = set()
        for number, entry in enumerate(raw, 1):
            model = self._model(entry, number)
            if model is None:
                continue
            if model.repo_id.lower() in seen:
                self.fail(model.repo_id, "listed twice (repo ids compare case-insensitively)")
                continue
            seen.add(model.repo_id.lower())
            models.append(model)
        return models

    def _model(self, entry: object, number: int) -> KnownModel | None:
        if not isinstance(entry, dict):
            self.fail(f"models[{number}]", "must be a mapping")
            return None
        repo_id = entry.get("repo_id")
        if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id):
            self.fail(f"models[{number}]", f"repo_id must look like owner/name, not {repo_id!r}")
            return None
        self._keys(entry, repo_id, _MODEL_KEYS)
        listed = self._model_sources(entry.get("sources"), repo_id)
        m = _ModelParser(self, repo_id, listed)
        license_ = m.license(entry.get("license"))
        config, config_sources, disagreements = m.config(entry.get("config"))
        tokenizer, tokenizer_source = m.tokenizer(entry.get("tokenizer"))
        gated, gated_source = m.gated(entry.get("gated"))
        return KnownModel(
            repo_id=repo_id,
            license=license_.get("id"),
            license_name=license_.get("name"),
            license_declared_in=license_.get("declared_in"),
            license_quote=license_.get("quote"),
            license_source=license_.get("source"),
            bases=m.bases(entry.get("bases")),
            teacher=m.teacher(entry.get("teacher")),
            config=config,
            config_source=config_sources,
            config_disagreements=disagreements,
            shards=m.shards(entry.get("shards")),
            files=m.files(entry.get("files")),
            tokenizer=tokenizer,
            tokenizer_source=tokenizer_source,
            gated=gated,
            gated_source=gated_source,
            sources=tuple(self.registry[s] for s in listed if s in self.registry),
            notes=self._text(entry, "notes", repo_id) or "",
        )

    def _model_sources(self, raw: object, repo_id: str) -> list[str]:
        if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
            self.fail(repo_id, "sources must be a non-empty list of source ids")
            return []
        for sid in raw:
            if sid not in self.registry:
                self.fail(repo_id, f"sources names {sid!r}, which is not in the source registry")
        return list(raw)

    # --- small typed getters

    def _keys(self, mapping: Mapping[Any, Any], where: str, allowed: set[str]) -> None:
        for key in mapping:
            if key not in allowed:
                self.fail(where, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")

    def _text(self, mapping: Mapping[str, Any], key: str, where: str, required: bool = False) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.fail(where, f"{key} is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{key} must be a non-empty string")
            return None
        return value


class _ModelParser:
    """Parses the blocks of one model entry; source ids it meets must be listed in the model's `sources`."""

    def __init__(self, parser: _Parser, repo_id: str, listed: list[str]) -> None:
        self.p = parser
        self.repo_id = repo_id
        self.listed = set(listed)

    def where(self, block: str) -> str:
        return f"{self.repo_id}: {block}"

    def block(self, raw: object, block: str, allowed: set[str], required: set[str]) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.p.fail(self.where(block), "must be a mapping")
            return None
        self.p._keys(raw, self.where(block), allowed)
        for key in sorted(required - raw.keys()):
            self.p.fail(self.where(block), f"{key} is required")
        return raw

    def source(self, raw: Mapping[str, Any], block: str) -> str | None:
        """Resolve a block's `source` id to its ref; it must be registered and listed by the model."""
        sid = raw.get("source")
        if not isinstance(sid, str):
            self.p.fail(self.where(block), "source must be a source id")
            return None
        if sid not in self.p.registry:
            self.p.fail(self.where(block), f"source {sid!r} is not in the source registry")
            return None
        if sid not in self.listed:
            self.p.fail(self.where(block), f"source {sid!r} is not listed in the model's sources")
        return self.p.registry[sid].ref

    def text(self, raw: Mapping[str, Any], key: str, block: str, required: bool = False) -> str | None:
        return self.p._text(raw, key, self.where(block), required)

    def license(self, raw: object) -> dict[str, str | None]:
        allowed = {"id", "name", "declared_in", "quote", "source"}
        data = self.block(raw, "license", allowed, {"id", "declared_in", "source"})
        if data is None:
            return {}
        return {
            "id": self.text(data, "id", "license"),
            "name": self.text(data, "name", "license"),
            "declared_in": self.text(data, "declared_in", "license"),
            "quote": self.text(data, "quote", "license"),
            "source": self.source(data, "license"),
        }

    def edge(self, raw: object, block: str, relations: frozenset[str]) -> KnownEdge | None:
        required = {"repo", "relation", "source", "quote"}
        data = self.block(raw, block, required | {"note"}, required)
        if data is None:
            return None
        repo = data.get("repo")
        if not isinstance(repo, str) or not _REPO_ID.match(repo):
            self.p.fail(self.where(block), f"repo must look like owner/name, not {repo!r}")
        relation = data.get("relation")
        if relation not in relations:
            self.p.fail(self.where(block), f"relation must be one of {sorted(relations)}, not {relation!r}")
        quote = self.text(data, "quote", block, required=True)
        source = self.source(data, block)
        if not isinstance(repo, str) or not isinstance(relation, str) or quote is None or source is None:
            return None
        return KnownEdge(repo, relation, source, quote, self.text(data, "note", block) or "")

    def bases(self, raw: object) -> tuple[KnownEdge, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.p.fail(self.where("bases"), "must be a list of edges")
            return ()
        edges = [self.edge(item, f"bases[{i}]", BASE_RELATIONS) for i, item in enumerate(raw, 1)]
        return tuple(e for e in edges if e is not None)

    def teacher(self, raw: object) -> KnownEdge | None:
        return self.edge(raw, "teacher", frozenset({TEACHER_RELATION}))

    def config(self, raw: object) -> tuple[Mapping[str, Any], tuple[SourceRef, ...], Mapping[str, Any]]:
        empty: Mapping[str, Any] = MappingProxyType({})
        data = self.block(raw, "config", {"values", "sources", "disagreements"}, {"values", "sources"})
        if data is None:
            return empty, (), empty
        values = data.get("values")
        if not isinstance(values, dict) or not values:
            self.p.fail(self.where("config"), "values must be a non-empty mapping of fingerprint keys")
            values = {}
        frozen = {key: self.config_value(key, value) for key, value in values.items()}
        disagreements = data.get("disagreements", {})
        if not isinstance(disagreements, dict):
            self.p.fail(self.where("config"), "disagreements must be a mapping key -> {source: value}")
            disagreements = {}
        return (
            MappingProxyType(frozen),
            self.source_list(data.get("sources")),
            MappingProxyType(disagreements),
        )

    def config_value(self, key: object, value: object) -> Any:
        where = self.where(f"config.values.{key}")
        if key not in FINGERPRINT_KEYS:
            self.p.fail(where, f"not a fingerprint key (allowed: {', '.join(FINGERPRINT_KEYS)})")
        elif not _valid_config_value(str(key), value):
            self.p.fail(where, f"{value!r} is not a valid value for this key")
        return tuple(value) if isinstance(value, list) else value

    def source_list(self, raw: object) -> tuple[SourceRef, ...]:
        if not isinstance(raw, list) or not raw:
            self.p.fail(self.where("config"), "sources must be a non-empty list of source ids")
            return ()
        refs = [self.source({"source": sid}, "config.sources") for sid in raw]
        return tuple(self.p.registry[sid] for sid, ref in zip(raw, refs, strict=True) if ref is not None)

    def shards(self, raw: object) -> ShardLayout | None:
        allowed = {"count", "pattern", "sizes", "source", "note"}
        data = self.block(raw, "shards", allowed, {"count", "pattern", "source"})
        if data is None:
            return None
        count = data.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            self.p.fail(self.where("shards"), f"count must be a positive integer, not {count!r}")
            count = 0
        sizes = data.get("sizes", [])
        if not isinstance(sizes, list) or not all(isinstance(s, str) for s in sizes):
            self.p.fail(self.where("shards"), "sizes must be a list of size strings")
            sizes = []
        elif sizes and len(sizes) != count:
            self.p.fail(self.where("shards"), f"{len(sizes)} sizes for {count} shards")
        pattern = self.text(data, "pattern", "shards", required=True)
        source = self.source(data, "shards")
        if pattern is None or source is None or count == 0:
            return None
        return ShardLayout(count, pattern, source, tuple(sizes), self.text(data, "note", "shards") or "")

    def files(self, raw: object) -> tuple[RecordedFile, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.p.fail(self.where("files"), "must be a list of {source, entries}")
            return ()
        found: list[RecordedFile] = []
        for i, item in enumerate(raw, 1):
            block = f"files[{i}]"
            data = self.block(item, block, {"source", "entries"}, {"source", "entries"})
            entries = data.get("entries") if data else None
            if data is None or not isinstance(entries, dict):
                self.p.fail(self.where(block), "entries must be a mapping path -> size text or null")
                continue
            source = self.source(data, block)
            for path, size_text in entries.items():
                if not isinstance(path, str) or not (size_text is None or isinstance(size_text, str)):
                    self.p.fail(self.where(block), f"bad entry {path!r}: {size_text!r}")
                elif source is not None:
                    found.append(RecordedFile(path, source, exact_bytes(size_text), size_text))
        return tuple(found)

    def tokenizer(self, raw: object) -> tuple[Mapping[str, str], str | None]:
        data = self.block(raw, "tokenizer", {"values", "source"}, {"values", "source"})
        if data is None:
            return MappingProxyType({}), None
        values = data.get("values")
        if not isinstance(values, dict) or not values:
            self.p.fail(self.where("tokenizer"), "values must be a non-empty mapping")
            values = {}
        for key, value in values.items():
            if key not in TOKENIZER_KEYS or not isinstance(value, str):
                self.p.fail(self.where("tokenizer"), f"{key!r}: {value!r} is not a special-token string")
        return MappingProxyType(dict(values)), self.source(data, "tokenizer")

    def gated(self, raw: object) -> tuple[bool | str | None, str | None]:
        data = self.block(raw, "gated", {"value", "source", "note"}, {"value", "source"})
        if data is None:
            return None, None
        value = data.get("value")
        if not (isinstance(value, bool) or value in GATED_MODES):
            self.p.fail(self.where("gated"), f"value must be true, false, 'manual' or 'auto', not {value!r}")
            return None, None
        return value, self.source(data, "gated")


def _valid_config_value(key: str, value: object) -> bool:
    if key in _INT_KEYS:
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if key in _STR_KEYS:
        return isinstance(value, str) and bool(value)
    if key == "architectures":
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    if key == "rope_theta":
        return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    if key == "tie_word_embeddings":
        return isinstance(value, bool)
    if key in _TOKEN_ID_KEYS:
        items = value if isinstance(value, list) else [value]
        return bool(items) and all(isinstance(v, int) and not isinstance(v, bool) for v in items)
    return False


def exact_bytes(size_text: str | None) -> int | None:
    """An exact byte count from a recorded size ("826 B", "171.0 B"); None for rounded sizes ("8.1 GiB")."""
    match = _EXACT_BYTES.match(size_text or "")
    return int(match.group(1)) if match else None


# --- fingerprint comparison --------------------------------------------------------------------------


def _comparable(key: str, value: Any) -> Any:
    """Lists become tuples; a single token id equals a one-element list of it (readers give tuples)."""
    if key in _TOKEN_ID_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _compare(model: KnownModel, query: Mapping[str, Any]) -> FingerprintMatch:
    matched: list[str] = []
    mismatched: list[str] = []
    unrecorded: list[str] = []
    for key, ours in query.items():
        if key not in model.config:
            unrecorded.append(key)
            continue
        known = _comparable(key, model.config[key])
        if _same(ours, known):
            matched.append(key)
        else:
            mismatched.append(f"mismatch: {key} (ours {_show(ours)}, known {_show(known)})")
    score = len(matched) / len(query)
    return FingerprintMatch(model, score, tuple(matched), tuple(mismatched), tuple(unrecorded))


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return str(value[0]) if len(value) == 1 else str(list(value))
    return str(value)
