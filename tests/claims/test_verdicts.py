"""Verdicts: the widely quoted R1 claims confirmed with their source, contradictions flagged with both values,
reproductions judged by a noise band from the item count, copies from a base flagged."""

from __future__ import annotations

import pytest
from claims_support import QUOTED_ARTICLE, r1_card_text, r1_card_with

from provenance.verify.claims import (
    CONTRADICTED,
    DIFFERS,
    MATCHES,
    NO_SOURCE,
    NOT_JUDGEABLE,
    OUTSIDE,
    PARTLY,
    SUPPORTED,
    WITHIN,
    check,
    render_text,
    same_number,
)
from provenance.verify.claims_extract import Extraction, Subject, text_claims
from provenance.verify.claims_figures import load_catalog
from provenance.verify.claims_results import Reproduction

R1 = Subject("deepseek-ai/DeepSeek-R1", "DeepSeek-R1", "deepseek-ai/DeepSeek-R1")


def _checked(text: str, subject: Subject = R1, reproductions: tuple[Reproduction, ...] = ()):
    catalog = load_catalog()
    return check(text_claims(catalog, subject, text, "article.md"), subject, reproductions, catalog)


def test_the_widely_quoted_claims_match_the_published_table_with_the_source_cited() -> None:
    report = _checked(QUOTED_ARTICLE)
    by_value = {c.claim.value: c for c in report.claims}
    r1_math, o1_math, r1_aime = by_value[97.3], by_value[96.4], by_value[79.8]
    assert (r1_math.verdict, r1_math.model) == (MATCHES, "DeepSeek-R1")
    assert (o1_math.verdict, o1_math.model) == (MATCHES, "OpenAI o1-1217")
    assert (r1_aime.verdict, r1_aime.model, r1_aime.claim.metric) == (MATCHES, "DeepSeek-R1", "pass@1")
    for result in (r1_math, o1_math, r1_aime):
        cited = {f.citation.document for f in result.matched}
        assert cited == {"README.md", "DeepSeek_R1.pdf"}
        assert all(f.citation.commit for f in result.matched)
    assert "identified as OpenAI o1-1217 by its value" in o1_math.note


def test_distill_qwen_32b_above_o1_mini_is_supported_and_the_exception_named() -> None:
    report = _checked(QUOTED_ARTICLE)
    comparison = next(c for c in report.comparisons if c.comparison.model == "DeepSeek-R1-Distill-Qwen-32B")
    assert (comparison.verdict, comparison.other) == (SUPPORTED, "OpenAI o1-mini")
    failing = [(r.benchmark, r.metric) for r in comparison.rows if not r.holds]
    assert failing == [("Codeforces", "rating")]
    assert len(comparison.rows) == 6 and "holds on 5 of 6" in comparison.note


def test_r1_beating_o1_on_math_500_is_a_supported_comparison_resolved_by_value() -> None:
    report = _checked(QUOTED_ARTICLE)
    comparison = next(c for c in report.comparisons if c.comparison.benchmarks == ("MATH-500",))
    assert (comparison.verdict, comparison.other) == (SUPPORTED, "OpenAI o1-1217")
    assert [(r.values, r.other_values) for r in comparison.rows] == [((97.3,), (96.4,))]


def test_a_card_misquoting_the_table_is_flagged_with_both_values() -> None:
    card = r1_card_with("| 90.0 | 96.4 | **97.3** |", "| 90.0 | 96.4 | **98.1** |")
    report = _checked(card)
    bad = [c for c in report.claims if c.verdict == DIFFERS]
    assert [(c.model, c.claim.benchmark, c.claim.value) for c in bad] == [("DeepSeek-R1", "MATH-500", 98.1)]
    assert {f.value for f in bad[0].figures} == {97.3}
    finding = next(f for f in report.findings if f.rule_id == "claims.differs-from-published")
    assert "claimed **98.1**" in finding.message and "97.3" in finding.message
    assert "README.md@0cf78561" in finding.message and "Table 4" in finding.message
    assert finding.location.startswith("article.md:")
    assert report.contradicted()


def test_the_unchanged_card_has_no_contradiction() -> None:
    report = _checked(r1_card_text())
    assert report.summary()["claims"] == {MATCHES: len(report.claims)}
    assert not report.contradicted()


def test_a_value_from_the_other_source_matches_and_the_disagreement_is_noted() -> None:
    report = _checked("QwQ-32B-Preview reaches 50.0% pass@1 on AIME 2024.")
    claim = report.claims[0]
    assert claim.verdict == MATCHES
    assert {f.citation.document for f in claim.matched} == {"DeepSeek_R1.pdf"}
    assert "published sources disagree" in claim.note and "44.0" in claim.note


def test_a_vendor_mention_whose_number_no_model_has_differs_and_says_so() -> None:
    report = _checked("DeepSeek-R1 scores 97.3% on MATH-500, beating OpenAI's 95.5%.")
    claim = next(c for c in report.claims if c.claim.model_text == "OpenAI")
    assert claim.verdict == DIFFERS and "may stand for" in claim.note


def test_a_comparison_the_table_contradicts() -> None:
    report = _checked("OpenAI-o1-mini outperforms DeepSeek-R1-Distill-Qwen-32B on MATH-500.")
    assert [c.verdict for c in report.comparisons] == [CONTRADICTED]
    assert any(f.rule_id == "claims.comparison-contradicted" for f in report.findings)


def test_a_comparison_on_all_benchmarks_that_fails_on_one_is_partly_supported() -> None:
    report = _checked("DeepSeek-R1-Distill-Qwen-32B outperforms OpenAI-o1-mini on all benchmarks.")
    assert [c.verdict for c in report.comparisons] == [PARTLY]


def test_unknown_benchmarks_and_models_have_no_published_figure() -> None:
    report = _checked("Our model scores 61.0% on AIME 2024.", Subject("acme/x", None, "acme/x"))
    assert [c.verdict for c in report.claims] == [NO_SOURCE]


def _aime(value: float, **kw: object) -> Reproduction:
    return Reproduction("repro.yaml", "results[0]", "AIME 2024", "AIME 2024", "pass@1", "pass@1", value, **kw)  # type: ignore[arg-type]


def test_a_reproduction_inside_the_noise_band_passes_and_one_outside_fails_with_the_interval() -> None:
    inside, outside = _aime(73.3, items=None, samples_per_item=1), _aime(40.0, items=None, samples_per_item=1)
    report = check(Extraction(), R1, (inside, outside), load_catalog())
    ok, bad = report.reproductions
    assert ok.interval is not None and bad.interval is not None
    assert (ok.interval.method, ok.interval.n) == ("wilson", 30)
    assert ok.interval.low < 0.798 < ok.interval.high
    assert not bad.interval.low <= 0.798 <= bad.interval.high
    assert [r.verdict for r in ok.references] == [WITHIN]
    assert [r.verdict for r in bad.references] == [OUTSIDE]
    assert "AIME 2024 I and II" in (ok.items_source or "")
    text = render_text(report)
    band = f"95% wilson interval [{ok.interval.low * 100:.1f}, {ok.interval.high * 100:.1f}] (n=30)"
    assert band in text
    finding = next(f for f in report.findings if f.rule_id == "claims.reproduction-outside-noise")
    assert "79.8" in finding.message and "interval" in finding.message


def test_per_sample_scores_use_the_seeded_bootstrap() -> None:
    scores = tuple((1.0,) * 3 + (0.0,) for _ in range(24)) + tuple((0.0,) * 4 for _ in range(6))
    rep = _aime(60.0, items=30, samples_per_item=4, scores=scores)
    report = check(Extraction(), R1, (rep,), load_catalog(), seed=3)
    again = check(Extraction(), R1, (rep,), load_catalog(), seed=3)
    (result,) = report.reproductions
    assert result.interval is not None and result.interval.method == "bootstrap"
    assert result.interval == again.reproductions[0].interval
    assert [r.verdict for r in result.references] == [OUTSIDE]


def test_without_an_item_count_the_reproduction_is_not_judged() -> None:
    rep = Reproduction(
        "r.yaml", "results[0]", "LiveCodeBench", "LiveCodeBench", "pass@1", "pass@1", 60.0, None, None
    )
    (result,) = check(Extraction(), R1, (rep,), load_catalog()).reproductions
    assert result.interval is None
    assert {r.verdict for r in result.references} == {NOT_JUDGEABLE}
    assert "item count unknown" in result.note


def test_a_derived_model_presenting_its_base_figure_as_its_own_is_flagged() -> None:
    subject = Subject(
        "acme/r1-32b-legal", None, "acme/r1-32b-legal", ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",)
    )
    report = _checked("Our model scores 72.6% on AIME 2024.", subject)
    (claim,) = report.claims
    assert [f.model for f in claim.copied_from] == ["DeepSeek-R1-Distill-Qwen-32B"] * len(claim.copied_from)
    assert claim.copied_from
    assert any(f.rule_id == "claims.copied-from-ancestor" for f in report.findings)
    own = _checked("Our model scores 70.1% on AIME 2024.", subject)
    assert not own.claims[0].copied_from


@pytest.mark.parametrize(
    ("claim", "claim_dec", "published", "published_dec", "same"),
    [
        (97.3, 1, 97.3, 1, True),
        (97.0, 0, 97.3, 1, True),
        (97.34, 2, 97.3, 1, True),
        (97.35, 2, 97.3, 1, False),
        (97.2, 1, 97.3, 1, False),
        (2029.0, 0, 2029.0, 0, True),
        (88.0, 1, 88.0, 1, True),
    ],
)
def test_numbers_are_equal_at_the_coarser_stated_precision(
    claim: float, claim_dec: int, published: float, published_dec: int, same: bool
) -> None:
    assert same_number(claim, claim_dec, published, published_dec) is same


def test_accuracy_and_pass_at_1_are_one_metric_but_cons_at_64_is_not() -> None:
    catalog = load_catalog()
    subject = Subject("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "DeepSeek-R1-Distill-Qwen-32B", None)
    gpqa = Reproduction(
        "r.json", "results.gpqa", "gpqa_diamond", "GPQA Diamond", "acc", "accuracy", 60.6, 198, None
    )
    (result,) = check(Extraction(), subject, (gpqa,), catalog).reproductions
    assert [(r.kind, r.value, r.verdict) for r in result.references] == [("published", 62.1, WITHIN)]
    report = _checked("DeepSeek-R1-Distill-Qwen-32B reaches 83.3% pass@1 on AIME 2024.", subject)
    assert report.claims[0].verdict == DIFFERS
    assert {f.metric for f in report.claims[0].figures} == {"pass@1"}
