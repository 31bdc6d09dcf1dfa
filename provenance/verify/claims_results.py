"""Reproduced results: lm-eval-harness results JSON, a simple YAML, and per-sample scores (in the YAML, or a
JSONL file of one scored sample per line). Pure parsers of bytes; errors name the file and the problem.

The simple YAML (documented in docs/claims.md):

    model: deepseek-ai/DeepSeek-R1          # optional
    results:
      - benchmark: AIME 2024
        metric: pass@1                      # optional
        value: 0.733                        # a fraction, or "73.3%"; optional when scores are given
        items: 30                           # optional: defaults to the benchmark's known item count
        samples_per_item: 1                 # optional
        scores: [[1, 0], [1, 1], ...]       # optional: per item, its sample scores (or one score per item)
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from provenance.errors import LimitExceededError, MalformedFileError
from provenance.verify.claims_figures import Catalog
from provenance.verify.claims_stats import item_means

MAX_RESULTS_BYTES = 64 * 1024 * 1024
MAX_ITEMS = 1_000_000
MAX_SAMPLES = 10_000_000
_SAMPLES_NAME = re.compile(r"samples_(?P<task>.+?)_\d{4}-\d{2}-\d{2}T[\d\-.:]+\.jsonl$")
_SCORE_KEYS = ("score", "exact_match", "acc", "pass@1", "correct", "accuracy", "em")


@dataclass(frozen=True)
class Reproduction:
    """One reproduced score. `value` is on the published scale (percent for proportions)."""

    file: str
    detail: str
    benchmark_text: str
    benchmark: str | None
    metric_text: str
    metric: str | None
    value: float
    items: int | None
    samples_per_item: int | None
    scores: tuple[tuple[float, ...], ...] | None = None
    model: str | None = None
    stderr: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "detail": self.detail,
            "benchmark_text": self.benchmark_text,
            "benchmark": self.benchmark,
            "metric_text": self.metric_text,
            "metric": self.metric,
            "value": round(self.value, 6),
            "items": self.items,
            "samples_per_item": self.samples_per_item,
            "per_sample_scores": self.scores is not None,
            "model": self.model,
            "stderr": self.stderr,
        }


def parse_results(data: bytes, name: str, catalog: Catalog) -> list[Reproduction]:
    """Dispatch on the content: lm-eval results JSON, JSONL samples, or the simple YAML."""
    if len(data) > MAX_RESULTS_BYTES:
        raise LimitExceededError(
            name, f"results file is over the size cap ({len(data)} > {MAX_RESULTS_BYTES})"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(name, f"not UTF-8 text ({exc.reason})", offset=exc.start) from None
    stripped = text.lstrip()
    if name.endswith(".jsonl"):
        return [_jsonl_samples(text, name, catalog)]
    if stripped.startswith("{") or name.endswith(".json"):
        return _lm_eval(_json(text, name), name, catalog)
    return _simple_yaml(text, name, catalog)


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFileError(f"{name}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise LimitExceededError(name, "JSON nested too deeply") from None


def _fail(name: str, problem: str) -> MalformedFileError:
    hint = "see docs/claims.md for the accepted results formats"
    return MalformedFileError(name, problem, hint=hint)


def _percent(value: float, kind: str | None) -> float:
    return value * 100 if kind in (None, "proportion", "score", "percentile") and 0 <= value <= 1 else value


def _lm_eval(doc: Any, name: str, catalog: Catalog) -> list[Reproduction]:
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise _fail(name, "not an lm-eval-harness results file (no `results` mapping)")
    counts = _dict(doc.get("n-samples"))
    model = _lm_eval_model(doc)
    out = []
    for task, metrics in sorted(doc["results"].items()):
        if not isinstance(metrics, dict):
            continue
        n = _dict(counts.get(task))
        items = n.get("effective") or n.get("original")
        alias = str(metrics.get("alias") or task).strip(" -")
        bench, _ = catalog.split_label(str(task))
        bench = bench or catalog.split_label(alias)[0]
        for key, value in sorted(metrics.items()):
            metric_name, _, filt = str(key).partition(",")
            if metric_name == "alias" or metric_name.endswith("_stderr") or not _is_number(value):
                continue
            metric = catalog.metric_key(metric_name)
            err = metrics.get(f"{metric_name}_stderr,{filt}" if filt else f"{metric_name}_stderr")
            err_value = float(err) if _is_number(err) else None
            kind = catalog.metric_kind(metric)
            out.append(
                Reproduction(
                    name,
                    f"results.{task}.{key}",
                    str(task),
                    bench,
                    metric_name,
                    metric,
                    _percent(float(value), kind),
                    int(items) if isinstance(items, int) and items > 0 else None,
                    None,
                    None,
                    model,
                    None if err_value is None else _percent(err_value, kind),
                )
            )
    return out


def _lm_eval_model(doc: dict[str, Any]) -> str | None:
    if isinstance(doc.get("model_name"), str) and doc["model_name"]:
        return str(doc["model_name"])
    args = _dict(doc.get("config")).get("model_args")
    if isinstance(args, str):
        found = re.search(r"(?:pretrained|model)=([^,]+)", args)
        return found.group(1) if found else None
    return None


def _dict(value: object) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _simple_yaml(text: str, name: str, catalog: Catalog) -> list[Reproduction]:
    from provenance.readers import safe_yaml  # noqa: PLC0415

    doc = safe_yaml.load(text, name, max_bytes=MAX_RESULTS_BYTES, max_nodes=MAX_SAMPLES + 100_000)
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise _fail(name, "expected a mapping with a `results:` list (or an lm-eval-harness JSON file)")
    model = doc.get("model") if isinstance(doc.get("model"), str) else None
    return [
        _yaml_entry(entry, f"{name}: results[{i}]", name, catalog, model)
        for i, entry in enumerate(doc["results"])
    ]


def _yaml_entry(entry: Any, where: str, name: str, catalog: Catalog, model: str | None) -> Reproduction:
    if not isinstance(entry, dict) or not isinstance(entry.get("benchmark"), str):
        raise _fail(where, "each result needs a `benchmark:` name")
    bench_text = entry["benchmark"]
    metric_text = str(entry.get("metric") or "")
    bench, metric = catalog.split_label(bench_text)
    metric = catalog.metric_key(metric_text) if metric_text else metric
    kind = catalog.metric_kind(metric)
    scores = _scores(entry.get("scores"), where) if "scores" in entry else None
    value = _value(entry.get("value"), where, kind, scores)
    items = _positive(entry.get("items"), where, "items")
    if scores is not None and items is not None and items != len(scores):
        raise _fail(where, f"`items: {items}` but `scores` has {len(scores)} items")
    samples = _positive(entry.get("samples_per_item"), where, "samples_per_item")
    if scores is not None and samples is None and len({len(s) for s in scores}) == 1:
        samples = len(scores[0])
    return Reproduction(
        name,
        where.split(": ", 1)[-1],
        bench_text,
        bench,
        metric_text,
        metric,
        value,
        len(scores) if scores is not None else items,
        samples,
        scores,
        model,
    )


def _value(raw: object, where: str, kind: str | None, scores: Sequence[Sequence[float]] | None) -> float:
    if raw is None:
        if scores is None:
            raise _fail(where, "needs a `value:` or per-item `scores:`")
        means = item_means(scores)
        return _percent(sum(means) / len(means), kind or "proportion")
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            return float(raw.strip()[:-1])
        except ValueError:
            raise _fail(where, f"`value: {raw}` is not a number") from None
    if not _is_number(raw):
        raise _fail(where, f"`value: {raw!r}` is not a number")
    if kind in (None, "proportion") and not 0 <= float(raw) <= 1:
        raise _fail(where, f"`value: {raw}` must be a fraction between 0 and 1 (or written as a percentage)")
    return _percent(float(raw), kind)


def _positive(raw: object, where: str, key: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= MAX_ITEMS:
        raise _fail(where, f"`{key}` must be a positive whole number")
    return raw


def _scores(raw: object, where: str) -> tuple[tuple[float, ...], ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "`scores` must be a non-empty list (per item: a score or a list of sample scores)")
    if len(raw) > MAX_ITEMS:
        raise LimitExceededError(where, f"more than {MAX_ITEMS} items")
    rows: list[tuple[float, ...]] = []
    for i, item in enumerate(raw):
        samples = item if isinstance(item, list) else [item]
        if not samples or not all(_is_number(s) and 0 <= float(s) <= 1 for s in samples):
            raise _fail(where, f"scores[{i}]: every sample score must be a number between 0 and 1")
        rows.append(tuple(float(s) for s in samples))
    return tuple(rows)


def _jsonl_samples(text: str, name: str, catalog: Catalog) -> Reproduction:
    """One scored sample per line: {"doc_id"|"item"|"id": ..., "score"|"exact_match"|"acc"|...: 0..1}."""
    per_item: dict[str, list[float]] = {}
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        count += 1
        if count > MAX_SAMPLES:
            raise LimitExceededError(name, f"more than {MAX_SAMPLES} samples")
        row = _json(line, f"{name}:{number}")
        item = row.get("doc_id", row.get("item", row.get("id"))) if isinstance(row, dict) else None
        score = next((row[k] for k in _SCORE_KEYS if isinstance(row, dict) and _is_number(row.get(k))), None)
        if item is None or score is None or not 0 <= float(score) <= 1:
            raise _fail(f"{name}:{number}", "expected an item id (doc_id) and a score between 0 and 1")
        per_item.setdefault(str(item), []).append(float(score))
    if not per_item:
        raise _fail(name, "no samples")
    found = _SAMPLES_NAME.search(name.rsplit("/", 1)[-1])
    task = found.group("task") if found else name.rsplit("/", 1)[-1].removesuffix(".jsonl")
    bench, metric = catalog.split_label(task)
    scores = tuple(tuple(v) for _, v in sorted(per_item.items()))
    means = item_means(scores)
    sizes = {len(s) for s in scores}
    return Reproduction(
        name,
        "per-sample scores",
        task,
        bench,
        "",
        metric,
        100 * sum(means) / len(means),
        len(scores),
        sizes.pop() if len(sizes) == 1 else None,
        scores,
    )
