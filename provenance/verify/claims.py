"""Benchmark claims: each number a card or text states, checked against published figures and reproductions.

Data flows one way: extracted claims (`claims_extract`) + published figures (`claims_figures`) + reproduced
results (`claims_results`) -> `check(...)` -> a frozen `ClaimReport` -> JSON or text. All of it is pure;
reading files is the command's job (`claims_command.py`). Verdicts (docs/claims.md):

* value claims: `matches-published`, `differs-from-published` (both values and the source), or
  `no-published-figure`; a number a derived model states as its own that equals a published figure of its
  base or teacher is flagged `copied_from`.
* comparisons ("A outperforms B"): `supported`, `partly-supported`, `contradicted`, `no-published-figure`.
* reproductions: `within-noise` / `outside-noise` against each claimed and published value, judged with a
  Wilson interval from the item count or a seeded cluster bootstrap over per-sample scores; never a fixed
  tolerance. `not-judgeable` when neither an item count nor per-sample scores are known.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from provenance.model import Finding, Severity
from provenance.verify import claims_extract as ex
from provenance.verify.claims_extract import Claim, Comparison, Extraction, Subject
from provenance.verify.claims_figures import Catalog, Figure, load_catalog
from provenance.verify.claims_results import Reproduction
from provenance.verify.claims_stats import DEFAULT_CONFIDENCE, DEFAULT_SEED, Interval, bootstrap, wilson

if TYPE_CHECKING:
    from provenance.scan_report import ScanReport

SCHEMA = "https://provenance.invalid/schemas/claims-report/1"
SCHEMA_VERSION = 1

MATCHES = "matches-published"
DIFFERS = "differs-from-published"
NO_SOURCE = "no-published-figure"
SUPPORTED = "supported"
PARTLY = "partly-supported"
CONTRADICTED = "contradicted"
WITHIN = "within-noise"
OUTSIDE = "outside-noise"
NOT_JUDGEABLE = "not-judgeable"

__all__ = [
    "ClaimCheck",
    "ClaimReport",
    "ComparisonCheck",
    "ReproductionCheck",
    "check",
    "claims_section",
    "extract_from_card",
    "render_json",
    "render_text",
    "same_number",
    "subject_of",
]


# --- records


@dataclass(frozen=True)
class ClaimCheck:
    claim: Claim
    verdict: str
    model: str | None
    figures: tuple[Figure, ...]
    matched: tuple[Figure, ...]
    note: str = ""
    copied_from: tuple[Figure, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.claim.to_json(),
            "verdict": self.verdict,
            "resolved_model": self.model,
            "published": [_figure_json(f, f in self.matched) for f in self.figures],
            "note": self.note,
            "copied_from": [f.to_json() for f in self.copied_from],
        }


def _figure_json(figure: Figure, matched: bool) -> dict[str, Any]:
    return {**figure.to_json(), "matches_claim": matched}


@dataclass(frozen=True)
class ComparisonRow:
    benchmark: str
    metric: str
    values: tuple[float, ...]
    other: str
    other_values: tuple[float, ...]
    holds: bool | None
    citation: str

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "metric": self.metric,
            "values": list(self.values),
            "other_model": self.other,
            "other_values": list(self.other_values),
            "holds": self.holds,
            "citation": self.citation,
        }


@dataclass(frozen=True)
class ComparisonCheck:
    comparison: Comparison
    verdict: str
    other: str | None
    rows: tuple[ComparisonRow, ...]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            **self.comparison.to_json(),
            "verdict": self.verdict,
            "resolved_other": self.other,
            "columns": [r.to_json() for r in self.rows],
            "note": self.note,
        }


@dataclass(frozen=True)
class ReferenceCheck:
    kind: str  # "claim" | "published"
    value: float
    verdict: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "verdict": self.verdict, "source": self.source}


@dataclass(frozen=True)
class ReproductionCheck:
    reproduction: Reproduction
    model: str | None
    metric: str | None
    interval: Interval | None
    items_source: str | None
    references: tuple[ReferenceCheck, ...]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        interval = None
        if self.interval is not None:
            scaled = replace(self.interval, low=self.interval.low * 100, high=self.interval.high * 100)
            interval = scaled.to_json()
        return {
            **self.reproduction.to_json(),
            "model_checked": self.model,
            "metric_checked": self.metric,
            "items_source": self.items_source,
            "interval": interval,
            "references": [r.to_json() for r in self.references],
            "note": self.note,
        }


@dataclass(frozen=True)
class ClaimReport:
    subject: Subject
    claims: tuple[ClaimCheck, ...]
    comparisons: tuple[ComparisonCheck, ...]
    reproductions: tuple[ReproductionCheck, ...]
    findings: tuple[Finding, ...]
    publications: tuple[dict[str, Any], ...] = ()
    target: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    subject_figures: tuple[Figure, ...] = ()

    def summary(self) -> dict[str, Any]:
        return {
            "claims": dict(sorted(Counter(c.verdict for c in self.claims).items())),
            "comparisons": dict(sorted(Counter(c.verdict for c in self.comparisons).items())),
            "reproductions": dict(
                sorted(Counter(r.verdict for c in self.reproductions for r in c.references).items())
            ),
            "copied_from_ancestor": sum(1 for c in self.claims if c.copied_from),
        }

    def contradicted(self) -> bool:
        """Any claim the published figures or a reproduction contradict (for --fail-on-contradiction)."""
        s = self.summary()
        return bool(
            s["claims"].get(DIFFERS)
            or s["comparisons"].get(CONTRADICTED)
            or s["reproductions"].get(OUTSIDE)
            or s["copied_from_ancestor"]
        )

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "$schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "subject": self.subject.to_json(),
            "publications": list(self.publications),
            "summary": self.summary(),
            "claims": [c.to_json() for c in self.claims],
            "comparisons": [c.to_json() for c in self.comparisons],
            "reproductions": [r.to_json() for r in self.reproductions],
            "findings": [f.to_json() for f in self.findings],
            "notes": list(self.notes),
            "subject_figures": [f.to_json() for f in self.subject_figures],
        }
        if self.target is not None:
            doc["target"] = self.target
        return doc


# --- value claims


def same_number(claim: float, claim_decimals: int, published: float, published_decimals: int) -> bool:
    """Equal at the coarser of the two stated precisions (either usual rounding), never within a tolerance."""
    step = Decimal(1).scaleb(-min(claim_decimals, published_decimals))
    a, b = Decimal(repr(claim)), Decimal(repr(published))
    return any(
        a.quantize(step, rounding=r) == b.quantize(step, rounding=r) for r in (ROUND_HALF_UP, ROUND_HALF_EVEN)
    )


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


SINGLE_ATTEMPT = frozenset({"pass@1", "accuracy", "em", "correct"})
"""Metrics that all mean "share of items answered right on one attempt": comparable with each other."""


def _compatible(a: str | None, b: str | None) -> bool:
    return a == b or (a in SINGLE_ATTEMPT and b in SINGLE_ATTEMPT)


def _figures(catalog: Catalog, model: str, benchmark: str, metric: str | None) -> list[Figure]:
    """Figures for the metric; for a single-attempt metric with none, those of its equivalents."""
    exact = catalog.figures_for(model, benchmark, metric)
    if exact or metric not in SINGLE_ATTEMPT:
        return exact
    return [f for f in catalog.figures_for(model, benchmark) if f.metric in SINGLE_ATTEMPT]


def _matches(claim: Claim, figure: Figure) -> bool:
    return same_number(claim.value, claim.decimals, figure.value, _decimals(figure.value_text))


def check_claim(claim: Claim, catalog: Catalog, subject: Subject, ancestors: Sequence[str]) -> ClaimCheck:
    if claim.benchmark is None:
        result = ClaimCheck(claim, NO_SOURCE, claim.model, (), (), "benchmark not in the published figures")
    else:
        result = _against_figures(claim, catalog)
    if claim.about_subject and not (result.verdict == MATCHES and result.model == subject.model):
        copied = _copied(claim, catalog, ancestors)
        if copied:
            result = replace(result, copied_from=copied)
    return result


def _against_figures(claim: Claim, catalog: Catalog) -> ClaimCheck:
    assert claim.benchmark is not None
    models = (claim.model,) if claim.model else claim.candidates
    if not models:
        why = "the model is not in the published figures" if claim.model_text else "no model named"
        return ClaimCheck(claim, NO_SOURCE, None, (), (), why)
    figures = tuple(f for m in models for f in _figures(catalog, m, claim.benchmark, claim.metric))
    matched = tuple(f for f in figures if _matches(claim, f))
    if matched:
        model = matched[0].model
        shown = tuple(f for f in figures if f.model == model and f.metric == matched[0].metric)
        note = _disagreement(shown)
        if not claim.model:
            note = f"{claim.model_text!r} identified as {model} by its value. {note}".strip()
        return ClaimCheck(claim, MATCHES, model, shown, matched, note)
    if figures:
        note = (
            ""
            if claim.model
            else f"{claim.model_text!r} may stand for {', '.join(models)}; none has this value"
        )
        return ClaimCheck(
            claim, DIFFERS, claim.model, figures, (), (note + " " + _disagreement(figures)).strip()
        )
    return ClaimCheck(
        claim, NO_SOURCE, claim.model, (), (), "no published figure for this model and benchmark"
    )


def _disagreement(figures: Sequence[Figure]) -> str:
    by_metric: dict[tuple[str, str], set[str]] = {}
    for f in figures:
        by_metric.setdefault((f.model, f.metric), set()).add(f.value_text)
    split = [k for k, v in by_metric.items() if len(v) > 1]
    if not split:
        return ""
    parts = [
        f"{f.citation.document} {f.citation.table}: {f.value_text}"
        for f in figures
        if (f.model, f.metric) in split
    ]
    return "published sources disagree: " + "; ".join(dict.fromkeys(parts))


def _copied(claim: Claim, catalog: Catalog, ancestors: Sequence[str]) -> tuple[Figure, ...]:
    if claim.benchmark is None:
        return ()
    found = []
    for ancestor in ancestors:
        for figure in _figures(catalog, ancestor, claim.benchmark, claim.metric):
            if _matches(claim, figure):
                found.append(figure)
    return tuple(found)


# --- comparisons


def check_comparison(
    cmp: Comparison, catalog: Catalog, resolved: dict[tuple[str, str], str]
) -> ComparisonCheck:
    if cmp.model is None or not cmp.others:
        return ComparisonCheck(
            cmp, NO_SOURCE, None, (), "a model of the comparison is not in the published figures"
        )
    other = _resolve_other(cmp, catalog, resolved)
    if other is None:
        note = f"{cmp.other_text!r} could be {', '.join(cmp.others)}; the sentence does not say which"
        return ComparisonCheck(cmp, NO_SOURCE, None, (), note)
    rows = tuple(_comparison_rows(cmp, catalog, other))
    if not rows:
        return ComparisonCheck(cmp, NO_SOURCE, other, (), "no benchmark with published figures for both")
    held = sum(1 for r in rows if r.holds)
    failed = [r for r in rows if r.holds is not True]
    if held == 0:
        verdict = CONTRADICTED
    elif not failed or (cmp.quantifier in ("various", "most", "unspecified") and held * 2 > len(rows)):
        verdict = SUPPORTED
    else:
        verdict = PARTLY
    note = f"holds on {held} of {len(rows)} published columns"
    if failed:
        note += "; not on " + ", ".join(
            f"{r.benchmark} {r.metric} ({_values(r.values)} vs {_values(r.other_values)})" for r in failed
        )
    return ComparisonCheck(cmp, verdict, other, rows, note)


def _values(values: Iterable[float]) -> str:
    return "/".join(f"{v:g}" for v in values)


def _resolve_other(cmp: Comparison, catalog: Catalog, resolved: dict[tuple[str, str], str]) -> str | None:
    if len(cmp.others) == 1:
        return cmp.others[0]
    by_value = resolved.get((cmp.origin.text(), cmp.other_text))
    if by_value is not None:
        return by_value
    if cmp.benchmarks:
        having = [m for m in cmp.others if any(catalog.figures_for(m, b) for b in cmp.benchmarks)]
        if len(having) == 1:
            return having[0]
    return None


def _comparison_rows(cmp: Comparison, catalog: Catalog, other: str) -> Iterable[ComparisonRow]:
    assert cmp.model is not None
    mine = [f for f in catalog.figures if f.model == cmp.model]
    columns = dict.fromkeys(
        (f.benchmark, f.metric) for f in mine if not cmp.benchmarks or f.benchmark in cmp.benchmarks
    )
    for bench, metric in columns:
        a = catalog.figures_for(cmp.model, bench, metric)
        b = catalog.figures_for(other, bench, metric)
        if not b:
            continue
        va, vb = sorted({f.value for f in a}), sorted({f.value for f in b})
        holds = True if va[0] > vb[-1] else False if va[-1] <= vb[0] else None
        yield ComparisonRow(bench, metric, tuple(va), other, tuple(vb), holds, a[0].citation.text())


# --- reproductions


def check_reproduction(
    rep: Reproduction,
    catalog: Catalog,
    subject: Subject,
    claims: Sequence[ClaimCheck],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> ReproductionCheck:
    model = (catalog.model_key(rep.model) if rep.model else None) or subject.model
    note = ""
    if rep.model and model != subject.model:
        note = f"the results name {rep.model!r}; judged against that model's figures. "
    if rep.benchmark is None:
        return ReproductionCheck(rep, model, rep.metric, None, None, (), note + "benchmark not recognised")
    metric = rep.metric or _primary_metric(catalog, rep.benchmark)
    interval, items_source, why = _interval(rep, catalog, metric, confidence, seed)
    refs = _references(rep.benchmark, metric, model, claims, catalog)
    checks = tuple(
        ReferenceCheck(kind, value, NOT_JUDGEABLE if interval is None else _within(interval, value), src)
        for kind, value, src in refs
    )
    if not refs:
        why = (why + "; " if why else "") + "no claimed or published value to compare with"
    return ReproductionCheck(rep, model, metric, interval, items_source, checks, (note + why).strip())


def _within(interval: Interval, value: float) -> str:
    return WITHIN if interval.contains(value / 100) else OUTSIDE


def _primary_metric(catalog: Catalog, benchmark: str) -> str | None:
    counts = Counter(f.metric for f in catalog.figures if f.benchmark == benchmark)
    return counts.most_common(1)[0][0] if counts else None


def _interval(
    rep: Reproduction, catalog: Catalog, metric: str | None, confidence: float, seed: int
) -> tuple[Interval | None, str | None, str]:
    bench = catalog.benchmarks.get(rep.benchmark or "")
    if rep.scores is not None:
        return bootstrap(rep.scores, confidence, seed=seed), "per-sample scores", ""
    kind = catalog.metric_kind(metric)
    if kind != "proportion":
        return None, None, f"metric {metric or rep.metric_text!r} is not a proportion; give per-sample scores"
    items = rep.items or (bench.items if bench else None)
    if items is None:
        return None, None, "item count unknown: give `items:` or per-sample scores"
    source = "results file" if rep.items else (bench.items_source if bench else None)
    fraction = rep.value / 100
    if not 0 <= fraction <= 1:
        return None, source, f"value {rep.value:g} is not a percentage"
    return wilson(fraction, items, confidence), source, ""


def _references(
    benchmark: str,
    metric: str | None,
    model: str | None,
    claims: Sequence[ClaimCheck],
    catalog: Catalog,
) -> list[tuple[str, float, str]]:
    refs: dict[tuple[str, float], str] = {}
    for check in claims:
        c = check.claim
        about = check.model == model if model else c.about_subject
        if about and c.benchmark == benchmark and (c.metric is None or _compatible(c.metric, metric)):
            refs.setdefault(("claim", c.value), c.origin.text())
    if model is not None:
        for f in _figures(catalog, model, benchmark, metric):
            refs.setdefault(("published", f.value), f.citation.text())
    return [(kind, value, src) for (kind, value), src in refs.items()]


# --- the whole check


def check(
    extraction: Extraction,
    subject: Subject,
    reproductions: Sequence[Reproduction] = (),
    catalog: Catalog | None = None,
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
    target: dict[str, Any] | None = None,
) -> ClaimReport:
    catalog = catalog or load_catalog()
    ancestors = tuple(k for a in subject.ancestors if (k := catalog.model_key(a)) and k != subject.model)
    claims = tuple(check_claim(c, catalog, subject, ancestors) for c in extraction.claims)
    resolved = {
        (c.claim.origin.text(), c.claim.model_text or ""): c.model
        for c in claims
        if c.verdict == MATCHES and c.model and c.claim.candidates
    }
    comparisons = tuple(check_comparison(c, catalog, resolved) for c in extraction.comparisons)
    reps = tuple(
        check_reproduction(r, catalog, subject, claims, confidence=confidence, seed=seed)
        for r in reproductions
    )
    findings = [*extraction.findings, *_findings(claims, comparisons, reps)]
    return ClaimReport(
        subject,
        claims,
        comparisons,
        reps,
        tuple(sorted(findings, key=lambda f: (-f.severity, f.rule_id, f.location, f.message))),
        _publications(catalog),
        target,
        catalog.notes,
        _subject_figures(catalog, subject),
    )


def _subject_figures(catalog: Catalog, subject: Subject) -> tuple[Figure, ...]:
    """One figure per benchmark, metric and value published for the subject (README first)."""
    seen: dict[tuple[str, str, float], Figure] = {}
    for f in catalog.figures:
        if f.model == subject.model:
            seen.setdefault((f.benchmark, f.metric, f.value), f)
    return tuple(seen.values())


def _publications(catalog: Catalog) -> tuple[dict[str, Any], ...]:
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for f in catalog.figures:
        c = f.citation
        docs.setdefault(
            (c.repo, c.document),
            {
                "publication": f.publication,
                "repo": c.repo,
                "document": c.document,
                "commit": c.commit,
                "arxiv": c.arxiv or None,
            },
        )
    return tuple(docs.values())


def _findings(
    claims: Sequence[ClaimCheck], comparisons: Sequence[ComparisonCheck], reps: Sequence[ReproductionCheck]
) -> list[Finding]:
    out = []
    for c in claims:
        where = c.claim.origin.file + (f":{c.claim.origin.line}" if c.claim.origin.line else "")
        label = (
            f"{c.model or c.claim.model_text or 'the model'} {c.claim.benchmark or c.claim.benchmark_text}"
        )
        if c.verdict == DIFFERS:
            published = "; ".join(f"{f.value_text} ({f.citation.text()})" for f in c.figures)
            out.append(
                Finding(
                    "claims.differs-from-published",
                    Severity.HIGH,
                    f"{label}: claimed {c.claim.value_text}, published {published}",
                    where,
                    "correct the number, or cite the evaluation it comes from",
                )
            )
        if c.copied_from:
            f = c.copied_from[0]
            out.append(
                Finding(
                    "claims.copied-from-ancestor",
                    Severity.MEDIUM,
                    f"{label}: {c.claim.value_text} is the published figure of {f.model}, an "
                    f"ancestor of this model ({f.citation.text()})",
                    where,
                    "measure this model, or label the number as the base or teacher's",
                )
            )
    for cmp in comparisons:
        if cmp.verdict in (CONTRADICTED, PARTLY):
            severity = Severity.HIGH if cmp.verdict == CONTRADICTED else Severity.LOW
            out.append(
                Finding(
                    f"claims.comparison-{cmp.verdict}",
                    severity,
                    f"{cmp.comparison.sentence!r}: {cmp.note}",
                    cmp.comparison.origin.file,
                )
            )
    for rep in reps:
        for ref in rep.references:
            if ref.verdict == OUTSIDE and rep.interval is not None:
                out.append(
                    Finding(
                        "claims.reproduction-outside-noise",
                        Severity.HIGH,
                        f"{rep.reproduction.benchmark_text}: reproduced {rep.reproduction.value:.1f}, "
                        f"{ref.kind} {ref.value:g} is outside the {_interval_text(rep.interval)}",
                        rep.reproduction.file,
                        f"reference: {ref.source}",
                    )
                )
    return out


def _interval_text(interval: Interval) -> str:
    pct = f"{interval.confidence * 100:g}%"
    low, high = interval.low * 100, interval.high * 100
    return f"{pct} {interval.method} interval [{low:.1f}, {high:.1f}] (n={interval.n})"


# --- scan integration


def subject_of(report: ScanReport, catalog: Catalog | None = None) -> Subject:
    """The scanned model as a claims subject: its catalog key, and the repo ids of its bases and teachers."""
    from pathlib import PurePath  # noqa: PLC0415

    catalog = catalog or load_catalog()
    info = report.target
    repo = info.canonical_id or info.repo_id
    name = repo or (PurePath(info.root).name if info.root else info.requested)
    model = catalog.model_key(repo) if repo else None
    model = model or catalog.model_key(name)
    return Subject(name, model, repo, _ancestors(report))


def _ancestors(report: ScanReport) -> tuple[str, ...]:
    """Bases (recursively) and teachers (not their own lineage: a teacher lends outputs, not weights)."""
    from provenance.knowledge import load_knowledge_base  # noqa: PLC0415

    queue: list[tuple[str, bool]] = []
    for fact in report.facts:
        if fact.kind == "card.base_model" and isinstance(fact.value, str):
            queue.append((fact.value, True))
        elif fact.kind in ("lineage.base", "lineage.teacher") and isinstance(fact.value, dict):
            queue.append((str(fact.value.get("repo", "")), fact.kind == "lineage.base"))
    kb = load_knowledge_base()
    seen: dict[str, str] = {}
    while queue and len(seen) < 64:
        repo, expand = queue.pop(0)
        if not repo or repo.lower() in seen:
            continue
        seen[repo.lower()] = repo
        known = kb.get(repo) if expand else None
        if known is not None:
            queue.extend((e.repo, True) for e in known.bases)
            queue.extend((e.repo, False) for e in ((known.teacher,) if known.teacher else ()))
    return tuple(sorted(seen.values(), key=str.lower))


def extract_from_card(
    catalog: Catalog,
    subject: Subject,
    body: str | None,
    body_start_line: int = 1,
    *,
    model_index: Any = None,
    model_index_lines: dict[tuple[str | int, ...], int] | None = None,
    card_name: str = "README.md",
) -> Extraction:
    out = Extraction()
    if model_index is not None:
        ctx = ex.context(catalog, subject, card_name)
        out.extend(ex.model_index_claims(ctx, model_index, model_index_lines or {}))
    if body:
        out.extend(ex.text_claims(catalog, subject, body, card_name, body_start_line))
    return out


def claims_section(report: ScanReport) -> dict[str, Any]:
    """The claims section of a scan report (JSON-ready, deterministic): the card's claims, checked."""
    catalog = load_catalog()
    subject = subject_of(report, catalog)
    model_index = report.first("card.model_index")
    extraction = extract_from_card(
        catalog, subject, report.card_body, report.card_body_start_line or 1, model_index=model_index
    )
    doc = check(extraction, subject, (), catalog).to_json()
    del doc["$schema"], doc["schema_version"]
    return doc


# --- rendering


def render_json(report: ClaimReport) -> str:
    return json.dumps(report.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def render_text(report: ClaimReport) -> str:
    s = report.subject
    lines = [f"Benchmark claims: {s.repo_id or s.name or '(no target)'}"]
    if report.target is not None:
        kind = report.target.get("kind")
        lines.append(f"  read from: {kind}" + "".join(f"; {n}" for n in report.target.get("notes") or []))
    lines.append(f"  subject: {s.model or 'not in the published figures'}")
    if s.model and report.subject_figures:
        shown = ", ".join(f"{f.benchmark} {f.metric} {f.value_text}" for f in report.subject_figures)
        lines.append(f"  its published figures: {shown}")
    if s.ancestors:
        lines.append(f"  bases and teachers: {', '.join(s.ancestors)}")
    for p in report.publications:
        arxiv = f", arXiv {p['arxiv']}" if p.get("arxiv") else ""
        lines.append(f"  published figures: {p['repo']}/{p['document']}@{p['commit'][:8]}{arxiv}")
    lines.append("")
    lines.extend(_claim_lines(report.claims, s.name or "this model"))
    lines.extend(_comparison_lines(report.comparisons))
    lines.extend(_reproduction_lines(report.reproductions))
    if report.findings:
        lines.append(f"Findings ({len(report.findings)}):")
        lines.extend(f"  {f.severity} {f.rule_id}: {f.message} [{f.location}]" for f in report.findings)
        lines.append("")
    lines.append(_summary_line(report))
    text = "\n".join(lines) + "\n"
    return "".join(ch if ch.isprintable() or ch == "\n" else f"\\x{ord(ch):02x}" for ch in text)


def _claim_lines(claims: Sequence[ClaimCheck], subject: str) -> list[str]:
    if not claims:
        return ["Claims: none found", ""]
    lines = [f"Claims ({len(claims)}):"]
    for c in claims:
        cl = c.claim
        metric = f" {cl.metric}" if cl.metric else ""
        who = c.model or cl.model_text or (subject if cl.about_subject else "(unnamed)")
        lines.append(
            f"  [{c.verdict}] {who} {cl.benchmark or cl.benchmark_text}{metric} = {cl.value_text}"
            f"  at {cl.origin.text()}"
        )
        if c.figures:
            lines.append("      published: " + _figure_summary(c.figures))
        if c.note:
            lines.append(f"      note: {c.note}")
        for f in c.copied_from:
            lines.append(f"      COPIED: equals {f.model}'s published {f.value_text} ({f.citation.text()})")
    lines.append("")
    return lines


def _figure_summary(figures: Sequence[Figure]) -> str:
    groups: dict[tuple[str, str, str], list[str]] = {}
    for f in figures:
        groups.setdefault((f.model, f.metric, f.value_text), []).append(f.citation.short())
    return "; ".join(
        f"{model} {metric} {value} in {', '.join(docs)}" for (model, metric, value), docs in groups.items()
    )


def _comparison_lines(comparisons: Sequence[ComparisonCheck]) -> list[str]:
    if not comparisons:
        return []
    lines = [f"Comparisons ({len(comparisons)}):"]
    for c in comparisons:
        cmp = c.comparison
        scope = ", ".join(cmp.benchmarks) if cmp.benchmarks else f"{cmp.quantifier} benchmarks"
        lines.append(
            f"  [{c.verdict}] {cmp.model or cmp.model_text} above {c.other or cmp.other_text} "
            f"on {scope}  at {cmp.origin.file}:{cmp.origin.line}"
        )
        for r in c.rows:
            state = {True: "holds", False: "fails", None: "depends on source"}[r.holds]
            lines.append(
                f"      {r.benchmark} {r.metric}: {_values(r.values)} vs {_values(r.other_values)} {state}"
            )
        if c.note:
            lines.append(f"      note: {c.note}")
    lines.append("")
    return lines


def _reproduction_lines(reps: Sequence[ReproductionCheck]) -> list[str]:
    if not reps:
        return []
    lines = [f"Reproductions ({len(reps)}):"]
    for r in reps:
        rep = r.reproduction
        samples = f", {rep.samples_per_item} samples/item" if rep.samples_per_item else ""
        n = rep.items or (r.interval.n if r.interval else None)
        items = f"{n or 'unknown number of'} items{samples}"
        lines.append(
            f"  {rep.benchmark or rep.benchmark_text} {r.metric or rep.metric_text}: "
            f"reproduced {rep.value:.1f} ({items}) from {rep.file} [{rep.detail}]"
        )
        if r.interval is not None:
            extra = f", {r.interval.detail}" if r.interval.detail else ""
            lines.append(
                f"      noise band: {_interval_text(r.interval)}{extra}; items from {r.items_source}"
            )
        for ref in r.references:
            lines.append(f"      [{ref.verdict}] {ref.kind} {ref.value:g}: {ref.source}")
        if r.note:
            lines.append(f"      note: {r.note}")
    lines.append("")
    return lines


def _summary_line(report: ClaimReport) -> str:
    s = report.summary()
    parts = [f"{k}: {v}" for group in ("claims", "comparisons", "reproductions") for k, v in s[group].items()]
    if s["copied_from_ancestor"]:
        parts.append(f"copied from an ancestor: {s['copied_from_ancestor']}")
    return "Summary: " + (", ".join(parts) if parts else "nothing to check")
