"""Published benchmark figures and benchmark metadata, parsed from `provenance/data/published_figures.yaml`.

`load_catalog()` validates the whole file (every problem reported at once as a `PolicyError`) and returns a
frozen `Catalog`: one `Figure` per published cell and source document, the model and benchmark name tables
used to recognise mentions, and per-benchmark item counts with their sources. Where a publication's README
and paper disagree, both figures are kept, each citing its own document (see docs/claims.md).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from provenance.errors import PolicyError

SCHEMA_VERSION = 1
METRIC_KINDS = ("proportion", "score", "percentile", "rating")

_METRIC_SUFFIX = re.compile(r"^(?P<bench>.+?)\s*(?:\((?P<paren>[^()]+)\)|\s(?P<word>\S+))\s*$")


def norm(text: str) -> str:
    """Comparable spelling of a name: lower case, letters, digits and `@` only."""
    return re.sub(r"[^a-z0-9@]", "", text.lower())


@dataclass(frozen=True)
class Citation:
    """Where a published figure stands: document, repo@commit, table, and the row/column as printed."""

    document: str
    repo: str
    commit: str
    table: str
    row: str
    column: str
    arxiv: str = ""

    def text(self) -> str:
        where = f"{self.repo}/{self.document}@{self.commit[:8]}"
        if self.arxiv:
            where += f" (arXiv {self.arxiv})"
        return f"{where}, {self.table}, row {self.row!r}, column {self.column!r}"

    def short(self) -> str:
        return f"{self.document}@{self.commit[:8]} {self.table}"

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "repo": self.repo,
            "commit": self.commit,
            "arxiv": self.arxiv or None,
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "text": self.text(),
        }


@dataclass(frozen=True)
class Figure:
    """One published number: model, benchmark and metric keys, the value as printed, and its citation."""

    publication: str
    model: str
    benchmark: str
    metric: str
    value: float
    value_text: str
    citation: Citation
    bold: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "publication": self.publication,
            "model": self.model,
            "benchmark": self.benchmark,
            "metric": self.metric,
            "value": self.value,
            "value_text": self.value_text,
            "bold": self.bold,
            "citation": self.citation.to_json(),
        }


@dataclass(frozen=True)
class Benchmark:
    """Benchmark metadata: item count (None when it could not be sourced) and samples per item per metric."""

    name: str
    aliases: tuple[str, ...]
    items: int | None
    items_source: str | None
    items_note: str = ""
    samples_per_item: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    samples_source: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "items": self.items,
            "items_source": self.items_source,
            "items_note": self.items_note or None,
            "samples_per_item": dict(sorted(self.samples_per_item.items())),
            "samples_source": self.samples_source or None,
        }


@dataclass(frozen=True)
class ModelEntry:
    name: str
    repo_id: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Metric:
    key: str
    kind: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    """Everything the claim checker knows from the data file; lookups are by normalised spelling."""

    location: str
    figures: tuple[Figure, ...]
    models: Mapping[str, ModelEntry]
    vendors: Mapping[str, tuple[str, ...]]
    benchmarks: Mapping[str, Benchmark]
    metrics: Mapping[str, Metric]
    notes: tuple[str, ...]
    _model_index: Mapping[str, str] = field(repr=False)
    _benchmark_index: Mapping[str, str] = field(repr=False)
    _metric_index: Mapping[str, str] = field(repr=False)
    _vendor_index: Mapping[str, str] = field(repr=False)

    def model_key(self, text: str) -> str | None:
        """The model a name or repo id stands for (`deepseek-ai/DeepSeek-R1`, `DeepSeek R1`, `R1`)."""
        key = norm(text)
        found = self._model_index.get(key)
        if found is None and "/" in text:
            found = self._model_index.get(norm(text.rsplit("/", 1)[1]))
        return found

    def vendor_models(self, text: str) -> tuple[str, ...]:
        """Models a vendor or family mention (`OpenAI`, `OpenAI-o1`) may stand for; empty if not one."""
        vendor = self._vendor_index.get(norm(text))
        return self.vendors[vendor] if vendor is not None else ()

    def benchmark_key(self, text: str) -> str | None:
        return self._benchmark_index.get(norm(text))

    def metric_key(self, text: str) -> str | None:
        return self._metric_index.get(norm(text))

    def metric_kind(self, metric: str | None) -> str | None:
        entry = self.metrics.get(metric) if metric else None
        return entry.kind if entry else None

    def split_label(self, label: str) -> tuple[str | None, str | None]:
        """`MMLU (Pass@1)`, `AIME 2024 pass@1`, `CodeForces rating` -> (benchmark key, metric key)."""
        whole = self.benchmark_key(label)
        if whole is not None:
            return whole, None
        match = _METRIC_SUFFIX.match(label.strip())
        if match is None:
            return None, None
        metric_text = match.group("paren") or match.group("word") or ""
        bench = self.benchmark_key(match.group("bench"))
        return (bench, self.metric_key(metric_text)) if bench is not None else (None, None)

    def figures_for(self, model: str, benchmark: str, metric: str | None = None) -> list[Figure]:
        return [
            f
            for f in self.figures
            if f.model == model and f.benchmark == benchmark and (metric is None or f.metric == metric)
        ]

    def models_with(self, benchmark: str, metric: str) -> set[str]:
        return {f.model for f in self.figures if f.benchmark == benchmark and f.metric == metric}


@functools.cache
def load_catalog(path: str | os.PathLike[str] | None = None) -> Catalog:
    """Parse and validate the figures file (the bundled one by default); cached per process and path."""
    from provenance.data import read_data_file  # noqa: PLC0415

    return parse_catalog(*read_data_file(path, "published_figures.yaml", "the published figures"))


def parse_catalog(text: str, location: str) -> Catalog:
    """Validate the whole document; raise PolicyError listing every problem found."""
    from provenance.readers import safe_yaml  # noqa: PLC0415

    doc = safe_yaml.load(text, location, max_bytes=4 * 1024 * 1024)
    problems: list[str] = []
    if not isinstance(doc, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        raise PolicyError(location, [f"expected a mapping with schema_version: {SCHEMA_VERSION}"])
    models = _models(doc.get("models"), problems)
    metrics = _metrics(doc.get("metrics"), problems)
    benchmarks = _benchmarks(doc.get("benchmarks"), problems)
    vendors = _vendors(doc.get("vendors"), models, problems)
    model_index = _index({k: (k, m.repo_id or "", *m.aliases) for k, m in models.items()}, "model", problems)
    bench_index = _index({k: (k, *b.aliases) for k, b in benchmarks.items()}, "benchmark", problems)
    metric_index = _index({k: (k, *m.aliases) for k, m in metrics.items()}, "metric", problems)
    vendor_index = {norm(v): v for v in vendors}
    catalog = Catalog(
        location,
        (),
        MappingProxyType(models),
        MappingProxyType(vendors),
        MappingProxyType(benchmarks),
        MappingProxyType(metrics),
        (),
        MappingProxyType(model_index),
        MappingProxyType(bench_index),
        MappingProxyType(metric_index),
        MappingProxyType(vendor_index),
    )
    figures: list[Figure] = []
    notes: list[str] = []
    pubs = doc.get("publications")
    if not isinstance(pubs, list) or not pubs:
        problems.append("publications: expected a non-empty list")
        pubs = []
    for pub in pubs:
        _publication(pub, catalog, figures, notes, problems)
    if problems:
        raise PolicyError(location, problems, hint="fix the figures file; every problem is listed")
    return Catalog(
        location,
        tuple(figures),
        catalog.models,
        catalog.vendors,
        catalog.benchmarks,
        catalog.metrics,
        tuple(notes),
        catalog._model_index,
        catalog._benchmark_index,
        catalog._metric_index,
        catalog._vendor_index,
    )


def _strings(raw: object, where: str, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        problems.append(f"{where}: expected a list of strings")
        return ()
    return tuple(raw)


def _mapping(raw: object, where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping")
        return {}
    return {str(k): v for k, v in raw.items()}


def _models(raw: object, problems: list[str]) -> dict[str, ModelEntry]:
    out: dict[str, ModelEntry] = {}
    for name, entry in _mapping(raw, "models", problems).items():
        body = _mapping(entry, f"models.{name}", problems)
        repo = body.get("repo_id")
        if repo is not None and not isinstance(repo, str):
            problems.append(f"models.{name}.repo_id: expected a string or null")
            repo = None
        out[name] = ModelEntry(name, repo, _strings(body.get("aliases"), f"models.{name}.aliases", problems))
    return out


def _metrics(raw: object, problems: list[str]) -> dict[str, Metric]:
    out: dict[str, Metric] = {}
    for key, entry in _mapping(raw, "metrics", problems).items():
        body = _mapping(entry, f"metrics.{key}", problems)
        kind = body.get("kind")
        if kind not in METRIC_KINDS:
            problems.append(f"metrics.{key}.kind: expected one of {', '.join(METRIC_KINDS)}")
            kind = "score"
        out[key] = Metric(key, str(kind), _strings(body.get("aliases"), f"metrics.{key}.aliases", problems))
    return out


def _benchmarks(raw: object, problems: list[str]) -> dict[str, Benchmark]:
    out: dict[str, Benchmark] = {}
    for name, entry in _mapping(raw, "benchmarks", problems).items():
        where = f"benchmarks.{name}"
        body = _mapping(entry, where, problems)
        items = body.get("items")
        source = body.get("items_source")
        if items is not None and (not isinstance(items, int) or isinstance(items, bool) or items < 1):
            problems.append(f"{where}.items: expected a positive integer or null")
            items = None
        if items is not None and not isinstance(source, str):
            problems.append(f"{where}.items_source: an item count needs its source")
        samples = _mapping(body.get("samples_per_item", {}), f"{where}.samples_per_item", problems)
        if not all(isinstance(v, int) and v >= 1 for v in samples.values()):
            problems.append(f"{where}.samples_per_item: expected positive integers")
            samples = {}
        out[name] = Benchmark(
            name,
            _strings(body.get("aliases"), f"{where}.aliases", problems),
            items,
            source if isinstance(source, str) else None,
            str(body.get("items_note") or ""),
            MappingProxyType(samples),
            str(body.get("samples_source") or ""),
        )
    return out


def _vendors(
    raw: object, models: Mapping[str, ModelEntry], problems: list[str]
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for name, entry in _mapping(raw, "vendors", problems).items():
        members = _strings(entry, f"vendors.{name}", problems)
        unknown = [m for m in members if m not in models]
        if unknown:
            problems.append(f"vendors.{name}: unknown models {', '.join(unknown)}")
        out[name] = tuple(m for m in members if m in models)
    return out


def _index(names: Mapping[str, tuple[str, ...]], what: str, problems: list[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for key, spellings in names.items():
        for spelling in spellings:
            if not spelling:
                continue
            n = norm(spelling)
            if index.get(n, key) != key:
                problems.append(f"{what} spelling {spelling!r} names both {index[n]!r} and {key!r}")
            index[n] = key
    return index


@dataclass
class _Pub:
    pid: str
    catalog: Catalog
    sources: dict[str, Any]
    figures: list[Figure]
    problems: list[str]
    overrides: dict[tuple[str, str, str], dict[str, Any]]

    def citation(self, doc: str, table: str, row: str, column: str) -> Citation:
        src = self.sources.get(doc, {})
        return Citation(
            str(src.get("path", doc)),
            str(src.get("repo", "")),
            str(src.get("commit", "")),
            table,
            row,
            column,
            str(src.get("arxiv", "") or ""),
        )


def _publication(
    raw: object, catalog: Catalog, figures: list[Figure], notes: list[str], problems: list[str]
) -> None:
    body = _mapping(raw, "publications[]", problems)
    pid = str(body.get("id", "?"))
    sources = _mapping(body.get("sources"), f"{pid}.sources", problems)
    tables = _mapping(body.get("tables"), f"{pid}.tables", problems)
    aliases = _mapping(body.get("discrepancy_tables", {}), f"{pid}.discrepancy_tables", problems)
    pub = _Pub(pid, catalog, sources, figures, problems, _overrides(body, aliases, notes))
    for name, table in tables.items():
        _table(pub, name, _mapping(table, f"{pid}.tables.{name}", problems))


def _overrides(
    body: Mapping[str, Any], aliases: Mapping[str, Any], notes: list[str]
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """README-vs-paper discrepancies keyed by (table, row label, column label)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in body.get("discrepancies_readme_vs_paper") or []:
        if not isinstance(item, dict):
            continue
        table = aliases.get(str(item.get("table")))
        row = item.get("benchmark_metric") if "benchmark_metric" in item and "model" in item else None
        if table is not None and "model" in item and ("readme" in item):
            key = (str(table), str(row or item["model"]), str(item["model"] if row else item.get("column")))
            out[key] = item
        elif "issue" in item:
            notes.append(str(item["issue"]))
        else:
            notes.append(
                f"{item.get('table')}: {item.get('model')} {item.get('distilled_column')} "
                f"{item.get('distilled_value')} vs {item.get('r1_table_row')} {item.get('r1_table_value')}"
            )
    return out


def _table(pub: _Pub, name: str, table: Mapping[str, Any]) -> None:
    readme = table.get("readme_heading")
    paper = str(table.get("paper") or "")
    paper_label = paper.split("|", 1)[0].strip()
    renames = {str(k): str(v) for k, v in (table.get("paper_row_names_differ") or {}).items()}
    for row in table.get("rows") or []:
        if not isinstance(row, dict) or not isinstance(row.get("values"), dict):
            pub.problems.append(f"{pub.pid}.tables.{name}: every row needs a `values` mapping")
            continue
        bold = {str(b) for b in row.get("bold_in_readme") or []}
        for column, value in row["values"].items():
            cell = _Cell(name, row, str(column), value, str(column) in bold)
            if cell.benchmark_label is None:
                continue
            override = pub.overrides.get((name, cell.row_label, cell.column))
            docs: list[tuple[str, str, object, str]] = []
            if readme:
                docs.append(("readme", f"README {readme.lstrip('# ')}", _readme_value(value, override), ""))
            if paper:
                paper_value = _paper_value(value, override)
                docs.append(("paper", paper_label, paper_value, renames.get(cell.row_label, "")))
            for doc, label, val, renamed in docs:
                _add_figure(pub, cell, doc, label, value=val, renamed=renamed)


@dataclass(frozen=True)
class _Cell:
    table: str
    row: Mapping[str, Any]
    column: str
    value: object
    bold: bool

    @property
    def row_label(self) -> str:
        return str(self.row.get("benchmark_metric") or self.row.get("model") or "")

    @property
    def model_label(self) -> str:
        return str(self.row["model"]) if "model" in self.row else self.column

    @property
    def benchmark_label(self) -> str | None:
        if "model" in self.row:
            return self.column
        if self.row.get("benchmark") is None:
            return None
        return f"{self.row['benchmark']} ({self.row.get('metric', '')})"


def _readme_value(value: object, override: Mapping[str, Any] | None) -> object:
    return override.get("readme") if override is not None else value


def _paper_value(value: object, override: Mapping[str, Any] | None) -> object:
    if override is None:
        return value
    return next((v for k, v in override.items() if k.startswith("paper_table")), value)


def _add_figure(pub: _Pub, cell: _Cell, doc: str, table_label: str, *, value: object, renamed: str) -> None:
    if value is None:
        return
    where = f"{pub.pid}.tables.{cell.table}, {cell.row_label!r} / {cell.column!r}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        pub.problems.append(f"{where}: expected a number or null, got {value!r}")
        return
    model = pub.catalog.model_key(cell.model_label)
    bench, metric = pub.catalog.split_label(cell.benchmark_label or "")
    if model is None or bench is None or metric is None:
        pub.problems.append(
            f"{where}: unknown model, benchmark or metric (add it to models/benchmarks/metrics)"
        )
        return
    row = renamed or cell.row_label
    citation = pub.citation(doc, table_label, row, cell.column)
    pub.figures.append(
        Figure(
            pub.pid, model, bench, metric, float(value), repr(value), citation, cell.bold and doc == "readme"
        )
    )
