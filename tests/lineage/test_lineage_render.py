"""Renderings: every format, escaping of model-supplied text, the terminal tree."""

from __future__ import annotations

import json

import pytest

from provenance.lineage.model import DeclaredLicense, Edge, EdgeEvidence, LineageGraph, Node
from provenance.lineage.render import FORMATS, render, to_dot, to_mermaid, to_text_tree

HOSTILE = 'evil/x"]; click n0 call alert()\n\x1b[31m<b>#'


def _graph(parent: str = "meta-llama/Llama-3.3-70B-Instruct") -> LineageGraph:
    root = "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
    evidence = (
        EdgeEvidence("knowledge-base", "derived from Llama3.3-70B-Instruct", "kb", 0.9, "knowledge-base"),
    )
    teacher = (EdgeEvidence("repo-name", "-Distill-", "name", 0.5, "name"),)
    return LineageGraph(
        root=root,
        nodes=(
            Node(root, None, (DeclaredLicense("mit", ("hub:README.md:line 3",)),), "knowledge-base"),
            Node("deepseek-ai/DeepSeek-R1", None, (DeclaredLicense("mit", ()),), "knowledge-base"),
            Node(parent, None, (DeclaredLicense("llama3.3", ()),), "knowledge-base"),
        ),
        edges=(
            Edge(root, "deepseek-ai/DeepSeek-R1", "distillation", 0.5, teacher),
            Edge(root, parent, "finetune", 0.9, evidence),
        ),
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_every_node(fmt: str) -> None:
    text = render(_graph(), fmt)
    for node in ("DeepSeek-R1-Distill-Llama-70B", "Llama-3.3-70B-Instruct", "DeepSeek-R1"):
        assert node in text


def test_unknown_format_names_the_choices() -> None:
    with pytest.raises(ValueError, match="mermaid, dot, json, text"):
        render(_graph(), "svg")


def test_tree_shows_relation_license_and_confidence() -> None:
    assert to_text_tree(_graph()).splitlines() == [
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B  [mit]",
        "├── distilled from (teacher) deepseek-ai/DeepSeek-R1  [mit]  (0.50: repo-name)",
        "└── fine-tuned from meta-llama/Llama-3.3-70B-Instruct  [llama3.3]  (0.90: knowledge-base)",
    ]


def test_model_supplied_text_is_escaped_everywhere() -> None:
    graph = _graph(HOSTILE)
    mermaid, dot, tree = to_mermaid(graph), to_dot(graph), to_text_tree(graph)
    # one line per node and edge (plus headers): the newline in the id never breaks a label
    assert len(mermaid.splitlines()) == 1 + 3 + 2
    assert len(dot.splitlines()) == 3 + 3 + 2 + 1
    assert len(tree.splitlines()) == 3
    for text in (mermaid, dot, tree):
        assert "\x1b" not in text and "\\x1b" in text
    assert 'x"]' not in mermaid and "#quot;" in mermaid and "<b>" not in mermaid
    assert 'evil/x\\"]; click' in dot
    assert json.loads(render(graph, "json"))["nodes"][2]["id"] == HOSTILE
