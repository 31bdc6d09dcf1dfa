"""The model-card section: valid front matter that says what the check found, and an escaped Markdown body."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
import yaml
from outputs_support import BASE, Golden, apache_case, weights_case

from provenance.lineage.model import WEIGHT_RELATIONS
from provenance.model import Fact, Origin
from provenance.policy.command import Evaluation, evaluate
from provenance.report.card_section import render_card_section

LLAMA70 = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
QWEN32 = "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"


def front_matter(text: str) -> dict[str, Any]:
    assert text.startswith("---\n")
    head, _, _ = text[4:].partition("\n---\n")
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    return data


def body(text: str) -> str:
    return text[4:].partition("\n---\n")[2]


def test_several_weights_licenses_become_other_with_a_combined_name() -> None:
    case = apache_case()
    meta = front_matter(render_card_section(case.evaluation))
    assert meta["license"] == "other"
    assert meta["license_name"] == "apache-2.0-and-mit"
    assert meta["license_link"] == "NOTICE"
    assert meta["base_model"] == [BASE]
    assert meta["base_model_relation"] == "finetune"


def test_one_hub_license_is_declared_as_itself() -> None:
    case = apache_case()
    report = case.evaluation.report
    only_mit = replace(report, effective=report.effective[:1], obligations=report.obligations[:1])
    meta = front_matter(render_card_section(replace(case.evaluation, report=only_mit)))
    assert meta["license"] == "mit"
    assert "license_name" not in meta
    assert "license_link" not in meta


def test_outputs_licenses_never_reach_the_license_key_and_teachers_are_not_base_models() -> None:
    text = render_card_section(weights_case().evaluation)
    meta = front_matter(text)
    assert "teacher" not in meta["license_name"]
    assert meta["base_model"] == [BASE]
    assert "Distilled from (teacher): teacher/Big-Teacher" in text


def _with_card_facts(evaluation: Evaluation, **facts: Any) -> Evaluation:
    origin = Origin("hub", "README.md")
    extra = tuple(Fact(f"card.{key}", value, origin) for key, value in facts.items())
    return replace(evaluation, scan=replace(evaluation.scan, facts=evaluation.scan.facts + extra))


def test_only_missing_or_wrong_keys_are_listed_as_fixed() -> None:
    case = apache_case()
    evaluation = _with_card_facts(
        case.evaluation, license="mit", base_model=BASE, base_model_relation="finetune"
    )
    text = render_card_section(evaluation)
    assert "- `license`: mit → other" in text
    assert "- `license_name`: missing → apache-2.0-and-mit" in text
    assert "`base_model`:" not in text
    assert "`base_model_relation`:" not in text


def test_model_strings_are_escaped_in_markdown_and_safe_in_yaml() -> None:
    child = "acme/<script>x|y</script>"
    evaluation = weights_case(child=child).evaluation
    weird_base = 'evil/base: "quoted" # not a comment'
    graph = evaluation.graph
    edges = tuple(replace(e, parent=weird_base) if e.relation == "finetune" else e for e in graph.edges)
    nodes = tuple(replace(n, id=weird_base) if n.id == BASE else n for n in graph.nodes)
    text = render_card_section(replace(evaluation, graph=replace(graph, edges=edges, nodes=nodes)))
    assert front_matter(text)["base_model"] == [weird_base]
    markdown = body(text)
    assert "<script>" not in markdown
    assert r"\<script\>x\|y\</script\>" in markdown
    lineage_rows = [
        line for line in markdown.splitlines() if line.startswith("| acme/") and "finetune" in line
    ]
    assert lineage_rows
    for line in lineage_rows:  # four columns: the `|` inside the model id does not open a fifth
        assert len(re.findall(r"(?<!\\)\|", line)) == 5


def test_attribution_and_notice_lines_are_shown() -> None:
    text = render_card_section(weights_case().evaluation)
    assert "**Built with Base**" in text


@pytest.mark.parametrize("model", [LLAMA70, QWEN32])
def test_real_models_front_matter_matches_the_check(offline: None, model: str) -> None:
    evaluation = evaluate(model)
    meta = front_matter(render_card_section(evaluation))
    weights = {e.license_id for e in evaluation.report.effective if e.reach in {"self", "weights"}}
    assert len(weights) == 2
    assert meta["license"] == "other"
    parts = set(meta["license_name"].split("-and-"))
    assert len(parts) == len(weights)
    graph = evaluation.graph
    bases = [e.parent for e in graph.parents(graph.root) if e.relation in WEIGHT_RELATIONS]
    assert meta["base_model"] == bases
    assert meta["base_model_relation"] == "finetune"


def test_llama_distill_card_displays_built_with_llama_and_the_notice_line(offline: None) -> None:
    evaluation = evaluate(LLAMA70)
    text = render_card_section(evaluation)
    assert front_matter(text)["license_name"] == "llama3.3-and-mit"
    assert "**Built with Llama**" in text
    notice = next(o.notice_text for o in evaluation.report.obligations if o.notice_text)
    assert f"> {notice}" in text
    assert "- `license`: mit → other" in text


def test_qwen_distill_card_has_no_llama(offline: None) -> None:
    text = render_card_section(evaluate(QWEN32))
    assert "Llama" not in text
    assert front_matter(text)["license_name"] == "apache-2.0-and-mit"


@pytest.mark.parametrize("model", [LLAMA70, QWEN32])
def test_card_section_golden(offline: None, golden: Golden, model: str) -> None:
    golden(f"{model.rsplit('/', maxsplit=1)[-1]}.card-section.md", render_card_section(evaluate(model)))
