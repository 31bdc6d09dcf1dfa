"""Claim extraction from real cards (tables both ways round, lm-eval tables, prose) and from card metadata."""

from __future__ import annotations

import yaml
from claims_support import HERMES_CARD, QUOTED_ARTICLE, SHARED_FIGURES, finetune_card, r1_card_text

from provenance.readers.modelcard import parse_card
from provenance.verify.claims_extract import (
    Subject,
    context,
    eval_results_claims,
    model_index_claims,
    on_published_scale,
    text_claims,
)
from provenance.verify.claims_figures import load_catalog

R1 = Subject("deepseek-ai/DeepSeek-R1", "DeepSeek-R1", "deepseek-ai/DeepSeek-R1")


def _readme_cells() -> list[tuple[str, str, float, bool]]:
    """(model label, benchmark label, value, bold) for every numeric cell of both README tables."""
    shared = yaml.safe_load(SHARED_FIGURES.read_text(encoding="utf-8"))["tables"]
    cells = []
    for name in ("deepseek_r1_evaluation", "distilled_model_evaluation"):
        for row in shared[name]["rows"]:
            bold = set(row.get("bold_in_readme") or [])
            for column, value in row["values"].items():
                if isinstance(value, int | float):
                    model = row.get("model", column)
                    bench = column if "model" in row else row["benchmark_metric"]
                    cells.append((model, bench, float(value), column in bold))
    return cells


def test_both_readme_tables_yield_every_numeric_cell_with_its_bold_mark() -> None:
    catalog = load_catalog()
    extraction = text_claims(catalog, R1, r1_card_text(), "README.md")
    table_claims = {
        (c.model, c.benchmark, c.metric, c.value): c.bold
        for c in extraction.claims
        if c.origin.extractor == "table"
    }
    expected = {}
    for model, bench, value, bold in _readme_cells():
        b, m = catalog.split_label(bench)
        expected[(catalog.model_key(model), b, m, value)] = bold
    assert table_claims == expected


def test_table_claims_carry_line_row_and_column() -> None:
    extraction = text_claims(load_catalog(), R1, r1_card_text(), "README.md")
    claim = next(c for c in extraction.claims if c.model == "OpenAI o1-1217" and c.benchmark == "MATH-500")
    line = r1_card_text().split("\n")[claim.origin.line - 1]
    assert line.startswith("| | MATH-500 (Pass@1)") and "96.4" in line
    assert claim.origin.detail == "row 'MATH-500 (Pass@1)', column 'OpenAI o1-1217'"
    assert not claim.about_subject
    r1 = next(c for c in extraction.claims if c.model == "DeepSeek-R1" and c.benchmark == "MATH-500")
    assert r1.about_subject and r1.bold and r1.value_text == "**97.3**"


def test_footnote_marks_and_percent_signs_in_cells() -> None:
    table = (
        "| Benchmark (Metric) | Ours | DeepSeek R1 |\n"
        "|---|---|---|\n"
        "| MATH-500 (Pass@1) | **95.1%**<sup>1</sup> | 97.3† |\n"
        "| AIME 2024 (Pass@1) | 0.701 [2] | - |\n"
    )
    subject = Subject("acme/r1-small", None, "acme/r1-small")
    claims = text_claims(load_catalog(), subject, table, "card.md").claims
    ours = [c for c in claims if c.model_text == "Ours"]
    assert [(c.value, c.footnotes, c.bold, c.about_subject) for c in ours] == [
        (95.1, ("1",), True, True),
        (70.1, ("2",), False, True),
    ]
    r1 = next(c for c in claims if c.model == "DeepSeek-R1")
    assert (r1.value, r1.footnotes, r1.about_subject) == (97.3, ("†",), False)


def test_prose_claims_pair_numbers_with_the_model_named_before_them() -> None:
    extraction = text_claims(load_catalog(), R1, QUOTED_ARTICLE, "article.md")
    found = [(c.model_text, c.benchmark, c.metric, c.value, c.origin.line) for c in extraction.claims]
    assert found == [
        ("DeepSeek-R1", "MATH-500", None, 97.3, 3),
        ("OpenAI", "MATH-500", None, 96.4, 3),
        ("R1", "AIME 2024", "pass@1", 79.8, 4),
    ]
    openai = extraction.claims[1]
    assert openai.model is None and "OpenAI o1-1217" in openai.candidates


def test_prose_ignores_numbers_in_names_code_links_and_years() -> None:
    text = (
        "We release DeepSeek-R1-Distill-Qwen-32B and 6 models on AIME 2024 in 2025.\n\n"
        "The MATH-500 run of 2025.01 used top-p 0.95.\n\n"
        "```\nMATH-500 97.3%\n```\n\n"
        "See [MATH-500 at 12.5%](https://example.invalid/97.3%25) for details.\n"
    )
    claims = text_claims(load_catalog(), R1, text, "notes.md").claims
    assert [c.value for c in claims] == [12.5]


def test_comparison_in_the_r1_readme_prose() -> None:
    extraction = text_claims(load_catalog(), R1, r1_card_text(), "README.md")
    comparisons = [(c.model, c.others, c.quantifier, c.origin.line) for c in extraction.comparisons]
    assert ("DeepSeek-R1-Distill-Qwen-32B", ("OpenAI o1-mini",), "various", 39) in comparisons
    assert not any("comparable" in c.sentence for c in extraction.comparisons)


def test_lm_eval_tables_in_a_real_card_are_the_subjects_claims() -> None:
    subject = Subject("teknium/OpenHermes-2.5-Mistral-7B", None, "teknium/OpenHermes-2.5-Mistral-7B")
    text = HERMES_CARD.read_text(encoding="utf-8")
    extraction = text_claims(load_catalog(), subject, text, "README.md")
    arc = [c for c in extraction.claims if c.benchmark_text == "arc_challenge"]
    assert [(c.metric_text, c.value, c.about_subject) for c in arc] == [
        ("acc", 56.23, True),
        ("acc_norm", 60.07, True),
    ]
    assert arc[0].stderr is not None and abs(arc[0].stderr - 1.45) < 1e-9
    duplicate = [f for f in extraction.findings if f.rule_id == "claims.table-duplicate-column"]
    assert duplicate and "OpenHermes-2 Mistral 7B" in duplicate[0].message


def test_model_index_claims_carry_their_front_matter_line() -> None:
    card = parse_card(finetune_card("72.6").encode(), "README.md")
    subject = Subject("acme/r1-32b-legal", None, "acme/r1-32b-legal")
    ctx = context(load_catalog(), subject, "README.md")
    claims = model_index_claims(ctx, card.metadata["model-index"], card.metadata_lines).claims
    assert [(c.benchmark, c.metric, c.value, c.about_subject, c.origin.extractor) for c in claims] == [
        ("AIME 2024", "pass@1", 72.6, True, "model-index")
    ]
    line = claims[0].origin.line
    assert line is not None and finetune_card("72.6").split("\n")[line - 1].strip() == "value: 72.6"


def test_eval_results_entries_use_dataset_and_task_ids() -> None:
    entries = [
        {"dataset": {"id": "Idavidrein/gpqa", "task_id": "gpqa_diamond"}, "value": 0.621},
        {"dataset": {"id": "HuggingFaceH4/MATH-500", "task_id": "default"}, "value": 94.3},
        {"dataset": {"id": "cais/hle", "task_id": "default"}, "value": 9.4},
    ]
    ctx = context(load_catalog(), Subject("x/y", None, "x/y"), ".eval_results/r.yaml")
    claims = eval_results_claims(ctx, entries).claims
    assert [(c.benchmark, c.value) for c in claims] == [
        ("GPQA Diamond", 62.1),
        ("MATH-500", 94.3),
        (None, 9.4),
    ]
    bad = eval_results_claims(ctx, {"not": "a list"})
    assert bad.findings and bad.findings[0].rule_id == "claims.eval-results-malformed"


def test_fractions_are_read_on_the_percent_scale_with_their_precision() -> None:
    assert on_published_scale("0.973", False, "proportion") == (97.3, 1)
    assert on_published_scale("97.3", True, "proportion") == (97.3, 1)
    assert on_published_scale("2029", False, "rating") == (2029.0, 0)
    assert on_published_scale("1", False, "proportion") == (1.0, 0)
    assert on_published_scale("n/a", False, None) is None


def test_huge_inputs_are_capped_with_a_finding() -> None:
    from provenance.verify.claims_extract import MAX_CLAIMS  # noqa: PLC0415

    rows = "| MATH-500 | 90.1 | 91.2 |\n" * (MAX_CLAIMS // 2 + 10)
    text = "| Benchmark | A | B |\n|---|---|---|\n" + rows + "\n" + "R1 scores 97.3% on MATH-500. " * 50
    extraction = text_claims(load_catalog(), R1, text, "big.md")
    assert len(extraction.claims) == MAX_CLAIMS
    assert [f.rule_id for f in extraction.findings] == ["claims.too-many"]


def test_pathological_runs_do_not_hang_and_yield_nothing() -> None:
    for text in (
        "MATH-500 " + " " * 200_000 + "- x",
        "| a | b |\n|---|---|\n| MATH-500 | 1" + "*" * 200_000 + " |\n",
    ):
        assert text_claims(load_catalog(), R1, text, "odd.md").claims == []


def test_prose_reads_labels_with_colons_and_skips_sampling_settings() -> None:
    catalog = load_catalog()
    text = (
        "MATH-500: 97.3%.\n\n"
        "On AIME 2024 we sample at a temperature of 0.6 with a top-p value of 0.95.\n\n"
        "Its AIME 2024 accuracy is 0.798.\n"
    )
    claims = text_claims(catalog, R1, text, "notes.md").claims
    assert [(c.benchmark, c.value, c.origin.line) for c in claims] == [
        ("MATH-500", 97.3, 1),
        ("AIME 2024", 79.8, 5),
    ]


def test_html_tables_are_read_like_markdown_tables_and_kept_out_of_prose() -> None:
    html = (
        "Intro.\n\n"
        "<table>\n"
        "  <tr><th>Benchmark</th><th>Ours</th><th>DeepSeek R1</th></tr>\n"
        "  <tr><td>MATH-500 (Pass@1)</td><td><b>95.1</b><sup>1</sup></td><td>97.3</td></tr>\n"
        "  <tr><td>AIME 2024 (Pass@1)</td><td>70.1</td><td colspan='1'>79.8</td></tr>\n"
        "</table>\n"
    )
    subject = Subject("acme/r1-small", None, "acme/r1-small")
    claims = text_claims(load_catalog(), subject, html, "card.md").claims
    found = [(c.model_text, c.benchmark, c.value, c.bold, c.footnotes, c.origin.line) for c in claims]
    assert found == [
        ("Ours", "MATH-500", 95.1, True, ("1",), 5),
        ("DeepSeek R1", "MATH-500", 97.3, False, (), 5),
        ("Ours", "AIME 2024", 70.1, False, (), 6),
        ("DeepSeek R1", "AIME 2024", 79.8, False, (), 6),
    ]
    assert all(c.origin.extractor == "table" for c in claims)


def test_an_unclosed_html_table_is_not_read_as_a_table() -> None:
    text = "<table><tr><td>Benchmark</td><td>A</td></tr><tr><td>MATH-500</td><td>97.3</td></tr>" * 2000
    claims = text_claims(load_catalog(), R1, text, "odd.md").claims
    assert not any(c.origin.extractor == "table" for c in claims)
