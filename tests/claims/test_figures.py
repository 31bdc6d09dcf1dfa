"""The bundled published figures: faithful to the shared transcription, both sources kept, metadata sourced."""

from __future__ import annotations

import pytest
import yaml
from claims_support import SHARED_FIGURES

from provenance.errors import PolicyError
from provenance.verify.claims_figures import load_catalog, norm, parse_catalog


def _shared() -> dict:
    return yaml.safe_load(SHARED_FIGURES.read_text(encoding="utf-8"))


def test_every_number_of_the_shared_tables_is_a_figure_with_that_value() -> None:
    catalog = load_catalog()
    checked = 0
    for name, table in _shared()["tables"].items():
        for row in table["rows"]:
            for column, value in row["values"].items():
                if not isinstance(value, int | float):
                    continue
                model_label = row.get("model", column)
                bench_label = column if "model" in row else f"{row['benchmark']} ({row['metric']})"
                model = catalog.model_key(model_label)
                bench, metric = catalog.split_label(bench_label)
                assert model and bench and metric, (name, model_label, bench_label)
                values = {f.value for f in catalog.figures_for(model, bench, metric)}
                assert float(value) in values, (name, model_label, bench_label, value)
                checked += 1
    assert checked > 200


def test_readme_and_paper_disagreements_keep_both_values_each_citing_its_document() -> None:
    catalog = load_catalog()
    for item in _shared()["discrepancies_readme_vs_paper"]:
        if "readme" not in item or "model" not in item:
            continue
        paper_value = next(v for k, v in item.items() if k.startswith("paper_table"))
        model = catalog.model_key(item["model"])
        label = item.get("benchmark_metric") or item["column"]
        bench, metric = catalog.split_label(label)
        figures = catalog.figures_for(model, bench, metric)
        by_doc = {(f.citation.document, f.value) for f in figures}
        assert ("DeepSeek_R1.pdf", float(paper_value)) in by_doc
        if item["readme"] is not None:
            assert ("README.md", float(item["readme"])) in by_doc
        else:
            assert not any(doc == "README.md" for doc, _ in by_doc)


def test_a_figure_cites_repo_commit_table_row_and_column() -> None:
    catalog = load_catalog()
    figures = catalog.figures_for("DeepSeek-R1", "MATH-500", "pass@1")
    texts = sorted(f.citation.text() for f in figures)
    assert [f.value for f in figures] == [97.3, 97.3]
    assert any(
        "README.md@0cf78561" in t and "'MATH-500 (Pass@1)'" in t and "'DeepSeek R1'" in t for t in texts
    )
    assert any("DeepSeek_R1.pdf@e06298d9 (arXiv 2501.12948), Table 4" in t for t in texts)


def test_paper_row_renames_are_used_in_paper_citations() -> None:
    catalog = load_catalog()
    rows = {f.citation.document: f.citation.row for f in catalog.figures_for("OpenAI o1-mini", "MATH-500")}
    assert rows["README.md"] in {"o1-mini", "MATH-500 (Pass@1)"}
    paper_rows = {
        f.citation.row
        for f in catalog.figures_for("OpenAI o1-mini", "MATH-500")
        if "Table 5" in f.citation.table
    }
    assert paper_rows == {"OpenAI-o1-mini"}


def test_benchmark_metadata_item_counts_carry_sources_or_say_unsourced() -> None:
    benchmarks = load_catalog().benchmarks
    assert (
        benchmarks["AIME 2024"].items,
        benchmarks["MATH-500"].items,
        benchmarks["GPQA Diamond"].items,
    ) == (
        30,
        500,
        198,
    )
    assert benchmarks["AIME 2024"].samples_per_item["pass@1"] == 64
    for bench in benchmarks.values():
        assert (bench.items is None) == (bench.items_source is None), bench.name
    assert benchmarks["LiveCodeBench"].items is None


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("DeepSeek R1", "DeepSeek-R1"),
        ("deepseek-ai/DeepSeek-R1", "DeepSeek-R1"),
        ("o1-mini", "OpenAI o1-mini"),
        ("OpenAI-o1-mini", "OpenAI o1-mini"),
        ("GPT-4o 0513", "GPT-4o-0513"),
        ("R1-Distill-Qwen-32B", "DeepSeek-R1-Distill-Qwen-32B"),
    ],
)
def test_model_spellings(spelling: str, key: str) -> None:
    assert load_catalog().model_key(spelling) == key


def test_labels_split_into_benchmark_and_metric() -> None:
    catalog = load_catalog()
    assert catalog.split_label("GPQA-Diamond (Pass@1)") == ("GPQA Diamond", "pass@1")
    assert catalog.split_label("CodeForces rating") == ("Codeforces", "rating")
    assert catalog.split_label("AIME 2024 cons@64") == ("AIME 2024", "cons@64")
    assert catalog.split_label("HumanEval") == (None, None)
    assert norm("MATH-500") == norm("math 500")


def test_a_broken_figures_file_lists_every_problem_at_once() -> None:
    text = (
        "schema_version: 1\n"
        "models: {A: {aliases: [x]}, B: {aliases: [x]}}\n"
        "metrics: {m: {kind: vibes}}\n"
        "benchmarks: {Bench: {items: -3}}\n"
        "publications: []\n"
    )
    with pytest.raises(PolicyError) as info:
        parse_catalog(text, "bad.yaml")
    problems = info.value.problems
    assert any("'x' names both" in p for p in problems)
    assert any("metrics.m.kind" in p for p in problems)
    assert any("benchmarks.Bench.items" in p for p in problems)
    assert any("publications" in p for p in problems)
    assert info.value.target == "bad.yaml"
