"""Architecture fingerprints: which known models a scanned model's shape fits, ranked, ties kept.

A fingerprint is the config keys that fix an architecture and its size (model_type, hidden size, layers,
heads, KV heads, vocab, intermediate size, rope_theta, tied embeddings, context length), read from
`config.*` facts or from a GGUF's `{arch}.*` keys, plus tokenizer markers (bos/eos strings) and the shard
naming (`-of-000002`: DeepSeek writes six-digit totals, Meta and Qwen five) where known.
Each key has a weight; a candidate's score is the weight of the keys that agree over the weight of the keys
both sides know. Several models often share one architecture exactly (Llama-3.1-8B and every fine-tune of
it), so ranking never picks silently: names break ties only when they differ, and `Ranking.tied` lists every
candidate that is still level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from provenance.lineage.model import Candidate
from provenance.scan_report import ScanReport

KEY_WEIGHTS: dict[str, float] = {
    "model_type": 2.0,
    "hidden_size": 2.0,
    "num_hidden_layers": 2.0,
    "intermediate_size": 2.0,
    "vocab_size": 2.0,
    "num_attention_heads": 1.0,
    "num_key_value_heads": 1.0,
    "rope_theta": 1.0,
    "max_position_embeddings": 0.5,
    "tie_word_embeddings": 0.5,
    "tokenizer.bos_token": 1.0,
    "tokenizer.eos_token": 1.0,
    "shards": 1.0,
}
# Keys a fine-tune, adapter or quantization cannot change: a mismatch here means "not this parent".
SHAPE_KEYS = (
    "model_type",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "intermediate_size",
)
MIN_COMPARED = 3
# "-of-000017": the shard total as the writer spelled it (DeepSeek writes six digits, Meta and Qwen five).
_SHARD_TOTAL = re.compile(r"-of-(\d+)\.safetensors$")
_GGUF_KEYS = {
    "embedding_length": "hidden_size",
    "block_count": "num_hidden_layers",
    "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads",
    "feed_forward_length": "intermediate_size",
    "context_length": "max_position_embeddings",
    "rope.freq_base": "rope_theta",
    "vocab_size": "vocab_size",
}
_GGUF_ARCH = {"deepseek2": "deepseek_v3", "gemma2": "gemma2", "phi3": "phi3"}
# llama.cpp writes Mistral (and some Mixtral) models as `llama`.
_SAME_TYPE = {
    frozenset({"llama", "mistral"}),
    frozenset({"llama", "mixtral"}),
    frozenset({"deepseek_v2", "deepseek_v3"}),
}


class KnownLike(Protocol):
    """What ranking needs from a known model (provenance.knowledge.KnownModel has it)."""

    @property
    def repo_id(self) -> str: ...

    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def tokenizer(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Fingerprint:
    """Fingerprint keys (Hugging Face config names) and where they were read."""

    keys: Mapping[str, Any]
    source: str

    def __bool__(self) -> bool:
        return any(k in self.keys for k in SHAPE_KEYS if k != "model_type")


def of_report(report: ScanReport) -> Fingerprint:
    """From config.json facts when present, else from GGUF metadata; tokenizer markers from either."""
    keys: dict[str, Any] = {}
    source = "config.json"
    for key in KEY_WEIGHTS:
        fact = next(iter(report.facts_of(key if key.startswith("tokenizer.") else f"config.{key}")), None)
        if fact is not None and _scalar(fact.value):
            keys[key] = fact.value
    if not any(k in keys for k in SHAPE_KEYS):
        gguf = _gguf_keys(report)
        if gguf:
            keys.update(gguf)
            source = "GGUF metadata"
    shards = shard_total(f.entry.path for f in report.files)
    if shards:
        keys["shards"] = shards
    return Fingerprint(keys, source)


def shard_total(paths: Iterable[str]) -> str | None:
    """`-of-000002` when every shard name agrees on one total, else None (single files say nothing)."""
    totals = {m.group(1) for path in paths if (m := _SHARD_TOTAL.search(path))}
    return f"-of-{totals.pop()}" if len(totals) == 1 else None


def _gguf_keys(report: ScanReport) -> dict[str, Any]:
    arch = report.first("gguf.general.architecture")
    if not isinstance(arch, str):
        return {}
    keys: dict[str, Any] = {"model_type": _GGUF_ARCH.get(arch, arch)}
    for suffix, name in _GGUF_KEYS.items():
        value = report.first(f"gguf.{arch}.{suffix}")
        if _scalar(value):
            keys[name] = value
    return keys


def of_known(model: KnownLike) -> Fingerprint:
    keys = {k: v for k, v in model.config.items() if k in KEY_WEIGHTS and _scalar(v)}
    for marker in ("bos_token", "eos_token"):
        value = model.tokenizer.get(marker)
        if isinstance(value, str):
            keys[f"tokenizer.{marker}"] = value
    pattern = getattr(getattr(model, "shards", None), "pattern", None)
    shards = shard_total([pattern]) if isinstance(pattern, str) else None
    if shards:
        keys["shards"] = shards
    return Fingerprint(keys, "knowledge base")


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def same_value(key: str, left: Any, right: Any, *, gguf: bool = False) -> bool:
    """Numbers compare by value (10000 == 1e4); model types by name, or by llama.cpp's grouping for GGUF."""
    if key == "model_type" and isinstance(left, str) and isinstance(right, str):
        return left == right or (gguf and frozenset({left, right}) in _SAME_TYPE)
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return float(left) == float(right)
    return bool(left == right)


@dataclass(frozen=True)
class Comparison:
    """Keys both sides know: `agree` and `differ` hold (key, description) pairs in KEY_WEIGHTS order."""

    agree: tuple[tuple[str, str], ...]
    differ: tuple[tuple[str, str], ...]
    possible: float = 0.0

    @property
    def matching(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.agree)

    @property
    def mismatching(self) -> tuple[str, ...]:
        return tuple(text for _, text in self.differ)

    @property
    def compared(self) -> int:
        return len(self.agree) + len(self.differ)

    @property
    def score(self) -> float:
        """Weight of agreeing keys over the weight of every key the scanned model has, plus the weight of
        differing keys again: a key the known model does not record confirms nothing, a key that differs
        counts against. A full match ranks above a partial one, and a partial one above a contradicted one."""
        agree = sum(KEY_WEIGHTS[k] for k, _ in self.agree)
        differ = sum(KEY_WEIGHTS[k] for k, _ in self.differ)
        total = max(self.possible, agree + differ) + differ
        return agree / total if total else 0.0

    def shape_mismatches(self) -> tuple[str, ...]:
        return tuple(text for key, text in self.differ if key in SHAPE_KEYS)


def compare(seen: Fingerprint, known: Fingerprint) -> Comparison:
    """`key=value` where both agree, `key=value (parent: other)` where they differ."""
    agree: list[tuple[str, str]] = []
    differ: list[tuple[str, str]] = []
    lenient = "GGUF" in seen.source or "GGUF" in known.source
    for key in KEY_WEIGHTS:
        if key not in seen.keys or key not in known.keys:
            continue
        left, right = seen.keys[key], known.keys[key]
        if same_value(key, left, right, gguf=lenient):
            agree.append((key, f"{key}={left}"))
        else:
            differ.append((key, f"{key}={left} (known: {right})"))
    possible = sum(KEY_WEIGHTS[k] for k in seen.keys if k in KEY_WEIGHTS)
    return Comparison(tuple(agree), tuple(differ), possible)


def name_similarity(names: Sequence[str], repo_id: str) -> float:
    """Best Jaccard overlap of name words ("deepseek", "r1", "qwen", "1.5b") between any name and the id."""
    theirs = _words(repo_id.rsplit("/", 1)[-1])
    best = 0.0
    for name in names:
        ours = _words(name)
        if ours and theirs:
            best = max(best, len(ours & theirs) / len(ours | theirs))
    return best


def _words(name: str) -> frozenset[str]:
    return frozenset(re.findall(r"\d+(?:\.\d+)?[a-z]?|[a-z]+\d*(?:\.\d+)?", name.lower()))


@dataclass(frozen=True)
class Ranking:
    """Known models that fit, best first. `tied` holds every candidate level with the best on architecture
    and name; more than one means the evidence cannot choose. `level_on_architecture` counts those level on
    architecture alone (so a name that broke the tie is reported)."""

    fingerprint: Fingerprint
    candidates: tuple[Candidate, ...]
    tied: tuple[str, ...]
    level_on_architecture: tuple[str, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates and len(self.tied) == 1 else None

    def explain(self) -> str:
        if not self.candidates:
            return "no known model fits this architecture"
        top = self.candidates[0]
        if len(self.tied) > 1:
            return (
                f"{len(self.tied)} known models fit equally (score {top.score:.2f}): "
                f"{', '.join(self.tied)}; none is picked"
            )
        text = f"best fit {top.repo_id} (score {top.score:.2f}, {len(top.matching)} keys agree)"
        if len(self.level_on_architecture) > 1:
            others = ", ".join(r for r in self.level_on_architecture if r != top.repo_id)
            text += f"; equally close on architecture: {others}; the name decided"
        return text


def rank(
    seen: Fingerprint, known: Iterable[KnownLike], names: Sequence[str] = (), exclude: Iterable[str] = ()
) -> Ranking:
    """Every known model (except `exclude`) whose architecture fits `seen`: no shape key differs, at least
    MIN_COMPARED keys compared, score over one half."""
    skip = {e.lower() for e in exclude}
    found: list[Candidate] = []
    for model in known:
        if model.repo_id.lower() in skip:
            continue
        result = compare(seen, of_known(model))
        if _fits(result):
            found.append(
                Candidate(
                    model.repo_id,
                    round(result.score, 4),
                    result.matching,
                    result.mismatching,
                    round(name_similarity(names, model.repo_id), 4),
                )
            )
    found.sort(key=lambda c: (-c.score, -c.name_score, c.repo_id))
    return Ranking(seen, tuple(found), _level(found, with_names=True), _level(found, with_names=False))


def _fits(result: Comparison) -> bool:
    """A fine-tune, adapter or quantization keeps every shape key, so one that differs rules a model out."""
    if result.shape_mismatches():
        return False
    return result.compared >= MIN_COMPARED and result.score > 0.5


def _level(found: Sequence[Candidate], *, with_names: bool) -> tuple[str, ...]:
    if not found:
        return ()
    top = found[0]
    return tuple(
        c.repo_id
        for c in found
        if c.score == top.score and (not with_names or c.name_score == top.name_score)
    )
