"""Claim extraction: benchmark numbers from a card's `model-index`, `.eval_results/*.yaml`, Markdown tables
(benchmarks x models either way round, lm-eval-harness result tables) and sentences of prose.

Pure functions of text and parsed YAML. Nothing is evaluated: HTML, links and code stay data, and only
numbers next to a recognised benchmark name become prose claims. Every claim carries its file, line, the
extractor that found it and the text as written (bold and footnote marks included).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any

from provenance.model import Finding, Severity
from provenance.verify.claims_figures import Catalog, norm

MAX_TEXT_CHARS = 4 * 1024 * 1024
MAX_CLAIMS = 20_000
MAX_SENTENCE_CHARS = 1000
MAX_MENTIONS = 64
MAX_CELL_CHARS = 200

_SELF_WORDS = {"ours", "ourmodel", "thismodel", "ourresults", "this"}
_LABEL_HEADERS = {
    "category",
    "benchmark",
    "benchmarkmetric",
    "bench",
    "task",
    "dataset",
    "metric",
    "version",
    "type",
    "domain",
    "subject",
    "tasks",
    "benchmarks",
    "datasets",
    "metrics",
    "eval",
    "evaluation",
    "shots",
    "nshots",
    "numshots",
    "fewshot",
    "kshot",
    "setting",
    "split",
    "language",
}
_SKIP_HEADERS = re.compile(r"change|delta|diff|stderr|^±$|^$|Δ", re.IGNORECASE)
_NUMBER_CELL = re.compile(
    r"^[~≈]?\s*(?P<num>[+-]?\d+(?:\.\d+)?)\s*(?P<pct>%)?\s*(?:(?:±|\+/-|\+-)\s*(?P<err>\d+(?:\.\d+)?)\s*%?)?$"
)
_FOOTNOTE_MARK = re.compile(r"(?:<sup>([^<]{1,8})</sup>|\^\[?(\w{1,4})\]?|\[\^?(\w{1,3})\]|([*†‡§¶]+))\s*$")
_SEPARATOR_CELL = re.compile(r"^:?-{2,}:?$")
_COMPARE = re.compile(
    r"\b(outperform\w*|beat\w*|surpass\w*|exceed\w*|better than|ahead of|above|higher than|tops?)\b", re.I
)
_QUANTIFIER = re.compile(r"\b(?:across|on|in)\s+(all|most|many|several|various|multiple)\b", re.I)
_NEGATION = re.compile(r"\b(not|never|no longer|fails? to|doesn't|does not|didn't)\b", re.I)
_SETTING_BEFORE = re.compile(
    r"(temperature|top[-_ ]?[pk]|learning[-_ ]rate|\blr\b|weight[-_ ]decay|dropout|alpha|beta|epsilon|=)"
    r"\W{0,4}(?:value\W{1,3})?(?:of|is|to|at|set to)?\W{0,3}$",
    re.IGNORECASE,
)
_SCORE_WORD = re.compile(r"\b(scor\w*|accura\w*|pass@\d+|solv\w*|correct\w*)", re.IGNORECASE)
_PROSE_NUMBER = re.compile(
    r"(?<![\w.@/-])(?P<num>\d{1,4}(?:\.\d+)?)(?P<pct>\s?(?:%|percent\b))?(?![\w@]|\.\d)"
)


@dataclass(frozen=True)
class Subject:
    """The model the card (or text) speaks for: its own claims are "about the subject"."""

    name: str | None
    model: str | None  # catalog key, when the subject is a published model
    repo_id: str | None = None
    ancestors: tuple[str, ...] = ()  # repo ids of bases and teachers

    def names(self) -> set[str]:
        out = {norm(x) for x in (self.name, self.repo_id) if x}
        if self.repo_id and "/" in self.repo_id:
            out.add(norm(self.repo_id.rsplit("/", 1)[1]))
        return out - {""}

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.model,
            "repo_id": self.repo_id,
            "ancestors": list(self.ancestors),
        }


@dataclass(frozen=True)
class ClaimOrigin:
    file: str
    line: int | None
    extractor: str  # "model-index" | "eval-results" | "table" | "prose"
    detail: str = ""

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} ({self.extractor}{': ' + self.detail if self.detail else ''})"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "extractor": self.extractor, "detail": self.detail}


@dataclass(frozen=True)
class Claim:
    """One number stated about a model on a benchmark. `value` is on the published scale (percent for
    proportions); `decimals` is the precision it was stated with on that scale."""

    value: float
    value_text: str
    decimals: int
    model_text: str | None
    model: str | None
    candidates: tuple[str, ...]
    about_subject: bool
    benchmark_text: str
    benchmark: str | None
    metric_text: str
    metric: str | None
    origin: ClaimOrigin
    bold: bool = False
    footnotes: tuple[str, ...] = ()
    stderr: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "value_text": self.value_text,
            "model_text": self.model_text,
            "model": self.model,
            "model_candidates": list(self.candidates),
            "about_subject": self.about_subject,
            "benchmark_text": self.benchmark_text,
            "benchmark": self.benchmark,
            "metric_text": self.metric_text,
            "metric": self.metric,
            "bold": self.bold,
            "footnotes": list(self.footnotes),
            "stderr": self.stderr,
            "origin": self.origin.to_json(),
        }


@dataclass(frozen=True)
class Comparison:
    """ "A outperforms B [on X | across various benchmarks]" as stated in prose."""

    model_text: str
    model: str | None
    other_text: str
    others: tuple[str, ...]
    benchmarks: tuple[str, ...]
    quantifier: str  # "named" | "all" | "most" | "various" | "unspecified"
    sentence: str
    origin: ClaimOrigin

    def to_json(self) -> dict[str, Any]:
        return {
            "model_text": self.model_text,
            "model": self.model,
            "other_text": self.other_text,
            "other_candidates": list(self.others),
            "benchmarks": list(self.benchmarks),
            "quantifier": self.quantifier,
            "sentence": self.sentence,
            "origin": self.origin.to_json(),
        }


@dataclass
class Extraction:
    claims: list[Claim] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def extend(self, other: Extraction) -> None:
        self.claims.extend(other.claims)
        self.comparisons.extend(other.comparisons)
        self.findings.extend(other.findings)


# --- numbers and scale


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def on_published_scale(number: str, percent: bool, kind: str | None) -> tuple[float, int] | None:
    """(value, decimals) on the scale figures are published in: percent for proportions and scores (a bare
    0.973 is read as a fraction), as is for ratings. None if `number` is not a number."""
    try:
        exact = Decimal(number.replace(",", "."))
    except InvalidOperation:
        return None
    decimals = _decimals(number)
    if kind != "rating" and not percent and "." in number and Decimal(0) <= exact <= Decimal(1):
        exact *= 100
        decimals = max(0, decimals - 2)
    return float(exact), decimals


def _clean_cell(raw: str) -> tuple[str, bool, tuple[str, ...]]:
    text = raw.strip()
    if len(text) > MAX_CELL_CHARS:
        return text[:MAX_CELL_CHARS], False, ()
    bold = bool(re.search(r"\*\*.+?\*\*|__.+?__|<b>|<strong>", text))
    text = re.sub(r"\*\*|__|</?b>|</?strong>", "", text).strip()
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|])", r"\1", text)
    marks: list[str] = []
    while True:
        match = _FOOTNOTE_MARK.search(text)
        if match is None or match.start() == 0:
            break
        marks.insert(0, next(g for g in match.groups() if g))
        text = text[: match.start()].rstrip()
    return text, bold, tuple(marks)


# --- model and benchmark mentions


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    text: str
    key: str | None
    candidates: tuple[str, ...] = ()
    is_subject: bool = False


def _resolve_model(catalog: Catalog, subject: Subject, text: str) -> tuple[str | None, tuple[str, ...], bool]:
    key = catalog.model_key(text)
    n = norm(text)
    is_subject = n in _SELF_WORDS or n in subject.names() or (key is not None and key == subject.model)
    if key is None and is_subject:
        key = subject.model
    return key, catalog.vendor_models(text) if key is None else (), is_subject


def _alternation(spellings: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted({s for s in spellings if s}, key=len, reverse=True)
    body = "|".join(re.escape(s).replace(r"\ ", r"[\s_-]?") for s in ordered)
    return re.compile(rf"(?<![\w.-])(?:{body})(?![\w]|-\w|\.\d)", re.IGNORECASE)


def _model_pattern(catalog: Catalog, subject: Subject) -> re.Pattern[str]:
    names: list[str] = ["our model", "this model"]
    for key, entry in catalog.models.items():
        names.extend((key, *entry.aliases))
        if entry.repo_id:
            names.append(entry.repo_id)
    names.extend(catalog.vendors)
    names.extend(x for x in (subject.name, subject.repo_id) if x)
    return _alternation(names)


def _benchmark_pattern(catalog: Catalog) -> re.Pattern[str]:
    return _alternation(s for key, b in catalog.benchmarks.items() for s in (key, *b.aliases))


def _metric_pattern(catalog: Catalog) -> re.Pattern[str]:
    return _alternation(s for key, m in catalog.metrics.items() for s in (key, *m.aliases) if len(s) > 2)


# --- Markdown tables


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _is_separator(cells: Sequence[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    return bool(filled) and all(_SEPARATOR_CELL.match(c) or set(c) <= {"-", ":"} for c in filled)


def markdown_tables(
    text: str, first_line: int = 1
) -> Iterator[tuple[int, list[str], list[tuple[int, list[str]]]]]:
    """(header line, header cells, [(line, cells)]) for every pipe table, inside code fences too."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) - 1:
        if "|" in lines[i] and lines[i].strip().startswith("|") and _is_separator(_split_row(lines[i + 1])):
            header = _split_row(lines[i])
            rows: list[tuple[int, list[str]]] = []
            j = i + 2
            while j < len(lines) and lines[j].strip().startswith("|"):
                cells = _split_row(lines[j])
                if not _is_separator(cells) and not set(lines[j].strip()) <= {"|", "-", ":", " "}:
                    rows.append((first_line + j, cells))
                j += 1
            yield first_line + i, header, rows
            i = j
        else:
            i += 1


@dataclass(frozen=True)
class _Context:
    catalog: Catalog
    subject: Subject
    file: str


def html_table_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each `<table>…</table>` block; linear even with unclosed tables."""
    lower = text.lower()
    pos = 0
    while True:
        start = lower.find("<table", pos)
        if start < 0:
            return
        end = lower.find("</table>", start)
        if end < 0:
            return
        yield start, end + len("</table>")
        pos = end + len("</table>")


class _HtmlTable(HTMLParser):
    """Rows of cell texts from one HTML table; bold kept as `**`, `<sup>` kept, colspan repeated as blanks."""

    def __init__(self, first_line: int) -> None:
        super().__init__(convert_charrefs=True)
        self.first_line = first_line
        self.rows: list[tuple[int, list[str]]] = []
        self.cell: list[str] | None = None
        self.span = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append((self.first_line + self.getpos()[0] - 1, []))
        elif tag in ("td", "th") and self.rows:
            self.cell = []
            span = dict(attrs).get("colspan") or "1"
            self.span = int(span) if span.isdigit() and 0 < int(span) <= 64 else 1
        elif self.cell is not None and tag in ("b", "strong"):
            self.cell.append("**")
        elif self.cell is not None and tag == "sup":
            self.cell.append("<sup>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.rows:
            self.rows[-1][1].extend(["".join(self.cell).strip()] + [""] * (self.span - 1))
            self.cell = None
        elif self.cell is not None and tag in ("b", "strong"):
            self.cell.append("**")
        elif self.cell is not None and tag == "sup":
            self.cell.append("</sup>")

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(" ".join(data.split()))


def html_tables(
    text: str, first_line: int = 1
) -> Iterator[tuple[int, list[str], list[tuple[int, list[str]]]]]:
    """(header line, header cells, [(line, cells)]) for every HTML table: its first row is the header."""
    line, counted = first_line, 0
    for start, end in html_table_spans(text):
        line, counted = line + text.count("\n", counted, start), start
        parser = _HtmlTable(line)
        parser.feed(text[start:end])
        parser.close()
        rows = [(line, cells) for line, cells in parser.rows if cells]
        if len(rows) >= 2:
            yield rows[0][0], rows[0][1], rows[1:]


def table_claims(ctx: _Context, text: str, first_line: int = 1) -> Extraction:
    out = Extraction()
    tables = itertools.chain(markdown_tables(text, first_line), html_tables(text, first_line))
    for line, header, rows in tables:
        if len(out.claims) >= MAX_CLAIMS:
            break
        cleaned = [_clean_cell(h)[0] for h in header]
        _duplicate_headers(ctx, cleaned, line, out)
        heads = [norm(h) for h in cleaned]
        if "value" in heads and ("task" in heads or "metric" in heads):
            _lm_eval_table(ctx, heads, rows, line, out)
        elif (heads and heads[0] in {"model", "models", "modelname"}) or _benchmark_share(
            ctx, cleaned[1:]
        ) >= 0.5:
            _rows_are_models(ctx, cleaned, rows, out)
        else:
            _rows_are_benchmarks(ctx, cleaned, rows, out)
    return out


def _duplicate_headers(ctx: _Context, cleaned: list[str], line: int, out: Extraction) -> None:
    seen: set[str] = set()
    for head in cleaned:
        n = norm(head)
        if n and n in seen and not _SKIP_HEADERS.search(head):
            message = f"table header {head!r} appears twice; numbers in one of those columns are mislabelled"
            out.findings.append(
                Finding("claims.table-duplicate-column", Severity.LOW, message, f"{ctx.file}:{line}")
            )
        seen.add(n)


def _benchmark_share(ctx: _Context, labels: Sequence[str]) -> float:
    useful = [x for x in labels if x.strip()]
    if not useful:
        return 0.0
    return sum(ctx.catalog.split_label(x)[0] is not None for x in useful) / len(useful)


def _number_claim(
    ctx: _Context,
    raw: str,
    model_text: str | None,
    label: str,
    metric_text: str,
    *,
    origin: ClaimOrigin,
    subject_default: bool = False,
) -> Claim | None:
    text, bold, marks = _clean_cell(raw)
    match = _NUMBER_CELL.match(text)
    if match is None:
        return None
    bench, metric = ctx.catalog.split_label(label)
    if metric is None and metric_text:
        metric = ctx.catalog.metric_key(metric_text)
    scaled = on_published_scale(match["num"], bool(match["pct"]), ctx.catalog.metric_kind(metric))
    if scaled is None:
        return None
    key, candidates, is_subject = (
        _resolve_model(ctx.catalog, ctx.subject, model_text) if model_text else (ctx.subject.model, (), True)
    )
    err = (
        float(match["err"]) * scaled[0] / float(match["num"])
        if match["err"] and float(match["num"])
        else None
    )
    return Claim(
        scaled[0],
        raw.strip(),
        scaled[1],
        model_text,
        key,
        candidates,
        is_subject or subject_default,
        label,
        bench,
        metric_text,
        metric,
        origin,
        bold,
        marks,
        err,
    )


def _rows_are_models(
    ctx: _Context, header: list[str], rows: list[tuple[int, list[str]]], out: Extraction
) -> None:
    for line, cells in rows:
        if len(out.claims) >= MAX_CLAIMS:
            return
        model_text = _clean_cell(cells[0])[0] if cells else ""
        for col in range(1, min(len(header), len(cells))):
            if _SKIP_HEADERS.search(header[col]):
                continue
            origin = ClaimOrigin(ctx.file, line, "table", f"row {model_text!r}, column {header[col]!r}")
            claim = _number_claim(ctx, cells[col], model_text or None, header[col], "", origin=origin)
            if claim is not None:
                out.claims.append(claim)


def _rows_are_benchmarks(
    ctx: _Context, header: list[str], rows: list[tuple[int, list[str]]], out: Extraction
) -> None:
    heads = [norm(h) for h in header]
    width = len(header)
    scores = [
        sum(ctx.catalog.split_label(_clean_cell(c[i])[0])[0] is not None for _, c in rows[:200] if i < len(c))
        for i in range(width)
    ]
    labelled = [i for i, h in enumerate(heads) if h in _LABEL_HEADERS or "benchmark" in h or h == "bench"]
    bench_col = max(range(width), key=lambda i: (scores[i], i in labelled, -i)) if width else 0
    if not rows or (scores[bench_col] == 0 and bench_col not in labelled):
        return
    label_cols = set(labelled) | {bench_col}
    metric_col = next((i for i, h in enumerate(heads) if h in {"metric", "metrics"}), None)
    for line, cells in rows:
        if len(out.claims) >= MAX_CLAIMS:
            return
        label = _clean_cell(cells[bench_col])[0] if bench_col < len(cells) else ""
        metric_text = (
            _clean_cell(cells[metric_col])[0] if metric_col is not None and metric_col < len(cells) else ""
        )
        for col in range(min(width, len(cells))):
            if col in label_cols or _SKIP_HEADERS.search(header[col]):
                continue
            origin = ClaimOrigin(ctx.file, line, "table", f"row {label!r}, column {header[col]!r}")
            claim = _number_claim(ctx, cells[col], header[col], label, metric_text, origin=origin)
            if claim is not None:
                out.claims.append(claim)


def _lm_eval_table(
    ctx: _Context, heads: list[str], rows: list[tuple[int, list[str]]], line: int, out: Extraction
) -> None:
    task_col = heads.index("task") if "task" in heads else 0
    metric_col = heads.index("metric") if "metric" in heads else None
    value_col = heads.index("value")
    err_col = heads.index("stderr") if "stderr" in heads else None
    task = ""
    for row_line, cells in rows:
        if len(out.claims) >= MAX_CLAIMS:
            return
        if value_col >= len(cells):
            continue
        task = _clean_cell(cells[task_col])[0] or task
        metric_text = _clean_cell(cells[metric_col])[0] if metric_col is not None else ""
        origin = ClaimOrigin(ctx.file, row_line, "table", f"lm-eval table: {task} {metric_text}".strip())
        raw = cells[value_col]
        if err_col is not None and err_col < len(cells) and _clean_cell(cells[err_col])[0]:
            raw = f"{raw.strip()} ± {cells[err_col].strip()}"
        claim = _number_claim(ctx, raw, None, task, metric_text, origin=origin, subject_default=True)
        if claim is not None:
            out.claims.append(claim)


# --- prose


def _prose_text(text: str) -> str:
    """Blank out code fences, tables, HTML tags, image and link targets and URLs; keep offsets and lines."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    text = re.sub(r"```.*?(?:```|\Z)", blank, text, flags=re.DOTALL)
    text = re.sub(r"^[ \t]*\|.*$", blank, text, flags=re.MULTILINE)
    pieces, done = [], 0
    for start, end in html_table_spans(text):
        pieces += [text[done:start], re.sub(r"[^\n]", " ", text[start:end])]
        done = end
    text = "".join([*pieces, text[done:]])
    text = re.sub(r"<[^>\n]{0,2000}>", blank, text)
    text = re.sub(r"!\[[^\]\n]*\]\([^)\n]*\)", blank, text)
    text = re.sub(r"\]\([^)\n]*\)", lambda m: "]" + " " * (len(m.group(0)) - 1), text)
    text = re.sub(r"https?://\S+", blank, text)
    return text.replace("**", "  ").replace("__", "  ")


def _sentences(text: str) -> Iterator[tuple[int, str]]:
    """(offset, sentence) pairs; paragraphs split on blank lines, sentences on end punctuation. A sentence
    longer than MAX_SENTENCE_CHARS is cut at spaces, so the work per sentence stays bounded."""
    for para in re.finditer(r"(?:[^\n]|\n(?![ \t]*\n))+", text):
        body = para.group(0).replace("\n", " ")
        start = len(body) - len(body.lstrip())
        for boundary in re.finditer(r"(?<=[.!?;])\s+(?=[A-Z\"'(*])|(?<!\s)\s+(?=[-*+]\s)", body):
            if boundary.start() > start:
                yield from _pieces(para.start() + start, body[start : boundary.start()])
            start = max(start, boundary.end())
        yield from _pieces(para.start() + start, body[start:])


def _pieces(offset: int, sentence: str) -> Iterator[tuple[int, str]]:
    while len(sentence) > MAX_SENTENCE_CHARS:
        cut = sentence.rfind(" ", 0, MAX_SENTENCE_CHARS)
        cut = cut if cut > 0 else MAX_SENTENCE_CHARS
        yield offset, sentence[:cut]
        offset, sentence = offset + cut, sentence[cut:]
    yield offset, sentence


def prose_claims(ctx: _Context, text: str, first_line: int = 1, extractor: str = "prose") -> Extraction:
    out = Extraction()
    models = _model_pattern(ctx.catalog, ctx.subject)
    benches = _benchmark_pattern(ctx.catalog)
    metrics = _metric_pattern(ctx.catalog)
    clean = _prose_text(text)
    line, counted = first_line, 0
    for offset, sentence in _sentences(clean):
        if len(out.claims) >= MAX_CLAIMS:
            break
        if not sentence.strip():
            continue
        line, counted = line + clean.count("\n", counted, offset), offset
        origin = ClaimOrigin(ctx.file, line, extractor, " ".join(sentence.split())[:200])
        found_models = [
            _model_mention(ctx, m) for m in itertools.islice(models.finditer(sentence), MAX_MENTIONS)
        ]
        found_benches = [
            (m.start(), m.end(), m.group(0))
            for m in itertools.islice(benches.finditer(sentence), MAX_MENTIONS)
        ]
        found_metrics = [
            (m.start(), m.end(), m.group(0))
            for m in itertools.islice(metrics.finditer(sentence), MAX_MENTIONS)
        ]
        if found_benches:
            out.claims.extend(
                _sentence_numbers(
                    ctx, sentence, origin, models=found_models, benches=found_benches, metrics=found_metrics
                )
            )
        out.comparisons.extend(_sentence_comparisons(ctx, sentence, origin, found_models, found_benches))
    return out


def _model_mention(ctx: _Context, match: re.Match[str]) -> _Mention:
    key, candidates, is_subject = _resolve_model(ctx.catalog, ctx.subject, match.group(0))
    return _Mention(match.start(), match.end(), match.group(0), key, candidates, is_subject)


def _inside(pos: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _sentence_numbers(
    ctx: _Context,
    sentence: str,
    origin: ClaimOrigin,
    *,
    models: list[_Mention],
    benches: list[tuple[int, int, str]],
    metrics: list[tuple[int, int, str]],
) -> list[Claim]:
    taken = (
        [(m.start, m.end) for m in models] + [(a, b) for a, b, _ in benches] + [(a, b) for a, b, _ in metrics]
    )
    claims = []
    for match in itertools.islice(_PROSE_NUMBER.finditer(sentence), 2 * MAX_MENTIONS):
        if _inside(match.start(), taken):
            continue
        metric = _nearest(match.start(), metrics)
        metric_key = ctx.catalog.metric_key(metric[2]) if metric else None
        kind = ctx.catalog.metric_kind(metric_key)
        if not match["pct"] and "." not in match["num"] and kind != "rating":
            continue
        if _SETTING_BEFORE.search(sentence[max(0, match.start() - 24) : match.start()]):
            continue
        if not match["pct"] and float(match["num"]) <= 1 and not (metric or _SCORE_WORD.search(sentence)):
            continue
        bench = _nearest(match.start(), benches)
        if bench is None:
            continue
        before = [m for m in models if m.end <= match.start()]
        mention = before[-1] if before else None
        scaled = on_published_scale(match["num"], bool(match["pct"]), kind)
        if scaled is None or (kind != "rating" and scaled[0] > 100):
            continue
        claims.append(
            Claim(
                scaled[0],
                match.group(0).strip(),
                scaled[1],
                mention.text if mention else None,
                mention.key if mention else ctx.subject.model,
                mention.candidates if mention else (),
                mention.is_subject if mention else True,
                bench[2],
                ctx.catalog.benchmark_key(bench[2]),
                metric[2] if metric else "",
                metric_key,
                origin,
            )
        )
    return claims


def _nearest(pos: int, spans: list[tuple[int, int, str]]) -> tuple[int, int, str] | None:
    if not spans:
        return None
    return min(spans, key=lambda s: (min(abs(pos - s[0]), abs(pos - s[1])), s[0]))


def _sentence_comparisons(
    ctx: _Context,
    sentence: str,
    origin: ClaimOrigin,
    models: list[_Mention],
    benches: list[tuple[int, int, str]],
) -> list[Comparison]:
    out = []
    for first, second in itertools.pairwise(models):
        between = sentence[first.end : second.start]
        if not _COMPARE.search(between) or _NEGATION.search(between) or "comparable" in between.lower():
            continue
        keys = tuple(dict.fromkeys(k for _, _, t in benches if (k := ctx.catalog.benchmark_key(t))))
        quant = _QUANTIFIER.search(sentence[second.end :])
        quantifier = "named" if keys else (quant.group(1).lower() if quant else "unspecified")
        quantifier = {"many": "various", "several": "various", "multiple": "various"}.get(
            quantifier, quantifier
        )
        others = (second.key,) if second.key else second.candidates
        out.append(
            Comparison(first.text, first.key, second.text, others, keys, quantifier, origin.detail, origin)
        )
    return out


# --- card metadata: model-index and .eval_results


def model_index_claims(
    ctx: _Context, model_index: Any, lines: Mapping[tuple[str | int, ...], int]
) -> Extraction:
    out = Extraction()
    if not isinstance(model_index, list):
        return out
    for i, entry in enumerate(model_index):
        results = entry.get("results") if isinstance(entry, dict) else None
        for j, result in enumerate(results if isinstance(results, list) else []):
            if not isinstance(result, dict):
                continue
            dataset = _dict(result.get("dataset"))
            labels = [str(dataset.get(k)) for k in ("name", "type", "config") if dataset.get(k)]
            for k, metric in enumerate(result.get("metrics") or []):
                if not isinstance(metric, dict) or "value" not in metric:
                    continue
                path: tuple[str | int, ...] = ("model-index", i, "results", j, "metrics", k)
                line = lines.get((*path, "value"), lines.get(path))
                origin = ClaimOrigin(ctx.file, line, "model-index", ".".join(map(str, path)))
                metric_text = str(metric.get("type") or metric.get("name") or "")
                claim = _metadata_claim(ctx, metric["value"], labels, metric_text, origin)
                if claim is not None:
                    out.claims.append(claim)
    return out


def eval_results_claims(ctx: _Context, entries: Any) -> Extraction:
    """`.eval_results/*.yaml`: a list of {dataset: {id, task_id}, value, source, notes}."""
    out = Extraction()
    if not isinstance(entries, list):
        out.findings.append(
            Finding("claims.eval-results-malformed", Severity.LOW, "expected a list of results", ctx.file)
        )
        return out
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "value" not in entry:
            continue
        dataset = _dict(entry.get("dataset"))
        ids = [str(dataset.get("task_id") or ""), str(dataset.get("id") or "")]
        labels = [x for x in ids if x] + [x.rsplit("/", 1)[-1] for x in ids if "/" in x]
        origin = ClaimOrigin(ctx.file, None, "eval-results", f"entry {i}: {'/'.join(x for x in ids if x)}")
        claim = _metadata_claim(ctx, entry["value"], labels, "", origin)
        if claim is not None:
            out.claims.append(claim)
    return out


def _metadata_claim(
    ctx: _Context, value: object, labels: Sequence[str], metric_text: str, origin: ClaimOrigin
) -> Claim | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    label = next(
        (x for x in labels if ctx.catalog.split_label(x)[0] is not None), labels[0] if labels else ""
    )
    return _number_claim(ctx, str(value), None, label, metric_text, origin=origin, subject_default=True)


def _dict(value: object) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def context(catalog: Catalog, subject: Subject, file: str) -> _Context:
    return _Context(catalog, subject, file)


def text_claims(catalog: Catalog, subject: Subject, text: str, file: str, first_line: int = 1) -> Extraction:
    """Tables and prose of any Markdown or plain text."""
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS]
    ctx = _Context(catalog, subject, file)
    out = table_claims(ctx, text, first_line)
    out.extend(prose_claims(ctx, text, first_line))
    if len(out.claims) >= MAX_CLAIMS:
        del out.claims[MAX_CLAIMS:]
        message = f"more than {MAX_CLAIMS} claims; only the first {MAX_CLAIMS} are checked"
        out.findings.append(Finding("claims.too-many", Severity.LOW, message, file))
    return out
