"""build_graph end to end: offline scans through the knowledge base, local fixtures modelled on real repos,
the Hub emulator, and resolvers that make cycles and long chains."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hubemu.repos import card, gguf_file, json_bytes
from lineage_support import DEEPSEEK_STATED, report

from provenance.lineage.graph import build_graph, combine, confidence, default_resolver
from provenance.lineage.model import EdgeEvidence, LineageGraph
from provenance.lineage.witnesses import Witnessed
from provenance.scan import scan
from provenance.scan_report import ScanReport

# config.json values of Qwen/Qwen2.5-7B (shared/known-models/configs.yaml, raw copy).
QWEN25_7B_CONFIG = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "hidden_size": 3584,
    "intermediate_size": 18944,
    "num_hidden_layers": 28,
    "num_attention_heads": 28,
    "num_key_value_heads": 4,
    "vocab_size": 152064,
    "max_position_embeddings": 131072,
    "rope_theta": 1000000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
# GGUF metadata llama.cpp writes for a DeepSeek-R1-Distill-Qwen-1.5B conversion (dimensions from its config).
DISTILL_QWEN_GGUF_KV: dict[str, str | int | float] = {
    "general.architecture": "qwen2",
    "general.file_type": 7,
    "qwen2.context_length": 131072,
    "qwen2.embedding_length": 1536,
    "qwen2.block_count": 28,
    "qwen2.feed_forward_length": 8960,
    "qwen2.attention.head_count": 12,
    "qwen2.attention.head_count_kv": 2,
    "qwen2.rope.freq_base": 10000.0,
    "general.alignment": 32,
}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _parents(graph: LineageGraph, relation: str | None = None) -> set[str]:
    return {e.parent for e in graph.parents(graph.root) if relation in (None, e.relation)}


def _rules(graph: LineageGraph) -> list[str]:
    return [f.rule_id for f in graph.findings]


def _gguf(path: Path, name: str) -> Path:
    kv = {**DISTILL_QWEN_GGUF_KV, "general.name": name}
    path.write_bytes(gguf_file(kv, {"token_embd.weight": np.zeros((4, 2), dtype=np.float32)}))
    return path


@pytest.mark.parametrize("repo_id", sorted(DEEPSEEK_STATED))
def test_deepseek_models_offline_get_the_stated_bases_and_teacher(repo_id: str, offline: None) -> None:
    graph = build_graph(scan(repo_id), default_resolver())
    bases, teachers = DEEPSEEK_STATED[repo_id]
    weights = {e.parent for e in graph.parents(repo_id) if e.relation != "distillation"}
    assert (weights, _parents(graph, "distillation")) == (bases, teachers)
    for edge in graph.parents(repo_id):
        recorded = [e for e in edge.evidence if e.witness == "knowledge-base"]
        assert recorded and recorded[0].value, edge  # the README sentence that states the edge
        assert recorded[0].location.startswith("knowledge-base:")


def test_distill_llama_70b_is_a_finetune_of_llama_and_a_distillation_from_r1(offline: None) -> None:
    graph = build_graph(scan("deepseek-ai/DeepSeek-R1-Distill-Llama-70B"), default_resolver())
    relations = {(e.parent, e.relation) for e in graph.parents(graph.root)}
    assert relations == {
        ("meta-llama/Llama-3.3-70B-Instruct", "finetune"),
        ("deepseek-ai/DeepSeek-R1", "distillation"),
    }
    conflict = next(f for f in graph.findings if f.location == graph.root)
    assert conflict.rule_id == "lineage.license-differs-from-base"
    assert "mit" in conflict.message and "llama3.3" in conflict.message
    assert str(conflict.severity) == "high"
    # the teacher's terms are not the base's: no license conflict is raised for the distillation edge
    assert not any("DeepSeek-R1," in f.message and f.location == graph.root for f in graph.findings)
    # a publisher relicensing its own derivative (R1 on V3-Base, Llama 3.3 on 3.1) is noted, not a conflict
    by_model = {f.location: f for f in graph.findings}
    for child, base in (
        ("deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V3-Base"),
        ("meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-3.1-70B"),
    ):
        note = by_model[child]
        assert (note.rule_id, str(note.severity)) == ("lineage.relicensed-by-publisher", "info")
        assert base in note.message and "same publisher" in note.message


def test_gguf_without_license_or_base_keys_named_after_a_known_model(tmp_path: Path, offline: None) -> None:
    path = _gguf(tmp_path / "model-Q8_0.gguf", "DeepSeek R1 Distill Qwen 1.5B")
    graph = build_graph(scan(str(path)), default_resolver())
    (edge,) = graph.parents(graph.root)
    assert (edge.parent, edge.relation) == ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "quantized")
    assert {e.witness for e in edge.evidence if e.weight > 0} == {"gguf.general.name", "fingerprint"}
    assert 0.5 < edge.confidence < 0.9
    ranked = [c.repo_id for c in graph.nodes[0].candidates]
    assert ranked[:2] == ["deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "Qwen/Qwen2.5-1.5B"]
    assert "lineage.quantized-license-differs" in _rules(graph)


def test_gguf_with_an_unknown_name_gets_a_ranked_inferred_base(tmp_path: Path, offline: None) -> None:
    path = _gguf(tmp_path / "r1-distill-qwen-1.5b-abliterated.gguf", "R1 Distill Qwen 1.5B Abliterated")
    graph = build_graph(scan(str(path)), default_resolver())
    (edge,) = graph.parents(graph.root)
    assert (edge.parent, edge.relation) == ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "quantized")
    witnesses = {e.witness: e for e in edge.evidence}
    assert {"fingerprint", "name-similarity"} <= witnesses.keys()
    assert "hidden_size=1536" in witnesses["fingerprint"].value
    inferred = next(f for f in graph.findings if f.rule_id == "lineage.base-inferred")
    assert f"confidence {edge.confidence:.2f}" in inferred.message
    candidates = graph.nodes[0].candidates
    assert candidates[0].score > candidates[1].score or candidates[0].name_score > candidates[1].name_score


def test_gguf_fitting_several_models_equally_picks_none(tmp_path: Path, offline: None) -> None:
    kv: dict[str, str | int | float] = {
        "general.architecture": "llama",
        "general.name": "my model",
        "llama.context_length": 131072,
        "llama.embedding_length": 4096,
        "llama.block_count": 32,
        "llama.feed_forward_length": 14336,
        "llama.attention.head_count": 32,
        "llama.attention.head_count_kv": 8,
        "llama.rope.freq_base": 500000.0,
    }
    path = tmp_path / "my-model.gguf"
    path.write_bytes(gguf_file(kv, {"token_embd.weight": np.zeros((4, 2), dtype=np.float32)}))
    graph = build_graph(scan(str(path)), default_resolver())
    assert graph.edges == ()
    ambiguous = next(f for f in graph.findings if f.rule_id == "lineage.fingerprint-ambiguous")
    assert "meta-llama/Llama-3.1-8B" in ambiguous.message
    assert "deepseek-ai/DeepSeek-R1-Distill-Llama-8B" in ambiguous.message
    assert "none is picked" in ambiguous.message


def _folder(tmp_path: Path, name: str, files: dict[str, bytes]) -> str:
    folder = tmp_path / name
    folder.mkdir()
    for path, data in files.items():
        (folder / path).write_bytes(data)
    return str(folder)


def test_card_base_contradicted_by_config(tmp_path: Path, offline: None) -> None:
    """The card says Llama-3.1-8B; config.json is Qwen2.5-7B's."""
    target = _folder(
        tmp_path,
        "acme-chat-8B",
        {
            "README.md": card(
                {"license": "apache-2.0", "base_model": "meta-llama/Llama-3.1-8B"}, "# acme-chat"
            ),
            "config.json": json_bytes(QWEN25_7B_CONFIG),
        },
    )
    graph = build_graph(scan(target), default_resolver())
    (edge,) = graph.parents(graph.root)
    assert edge.parent == "meta-llama/Llama-3.1-8B"
    against = [e for e in edge.evidence if e.weight < 0]
    assert against and "hidden_size=3584" in against[0].value
    assert edge.confidence < 0.85
    mismatch = next(f for f in graph.findings if f.rule_id == "lineage.base-architecture-mismatch")
    assert "Qwen/Qwen2.5-7B" in mismatch.message
    assert graph.nodes[0].candidates[0].repo_id == "Qwen/Qwen2.5-7B"


def test_name_saying_llama_on_a_qwen_architecture(tmp_path: Path, offline: None) -> None:
    target = _folder(
        tmp_path, "Llama-3-8B-Instruct-uncensored", {"config.json": json_bytes(QWEN25_7B_CONFIG)}
    )
    graph = build_graph(scan(target), default_resolver())
    finding = next(f for f in graph.findings if f.rule_id == "lineage.name-architecture-mismatch")
    assert "llama" in finding.message and "qwen2" in finding.message


def test_quantized_repo_declaring_another_license(tmp_path: Path, offline: None) -> None:
    config = {
        "model_type": "llama",
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128},
    }
    meta = {"license": "apache-2.0", "base_model": "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"}
    target = _folder(
        tmp_path,
        "DeepSeek-R1-Distill-Llama-8B-AWQ",
        {"README.md": card(meta, "# AWQ quant"), "config.json": json_bytes(config)},
    )
    graph = build_graph(scan(target), default_resolver())
    (edge,) = graph.parents(graph.root)
    assert (edge.parent, edge.relation) == ("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "quantized")
    assert {"quantization_config", "repo-name", "card.base_model"} <= {e.witness for e in edge.evidence}
    finding = next(f for f in graph.findings if f.location == graph.root)
    assert finding.rule_id == "lineage.quantized-license-differs"
    assert "apache-2.0" in finding.message and "mit" in finding.message


def _chain_resolver(reports: dict[str, ScanReport], calls: list[str]) -> Any:
    def resolve(repo_id: str) -> ScanReport | None:
        calls.append(repo_id)
        return reports.get(repo_id)

    return resolve


def _card_only(repo_id: str, *bases: str) -> ScanReport:
    return report(repo_id, {"card.license": "apache-2.0", "card.base_model": list(bases)})


def test_cycle_is_reported_and_broken() -> None:
    reports = {"acme/b": _card_only("acme/b", "acme/a")}
    calls: list[str] = []
    graph = build_graph(_card_only("acme/a", "acme/b"), _chain_resolver(reports, calls), known_models=[])
    assert [(e.child, e.parent) for e in graph.edges] == [("acme/a", "acme/b")]
    cycle = next(f for f in graph.findings if f.rule_id == "lineage.cycle")
    assert "acme/a -> acme/b -> acme/a" in cycle.message
    assert calls == ["acme/b"]


def test_depth_limit_is_a_finding() -> None:
    reports = {f"acme/m{i}": _card_only(f"acme/m{i}", f"acme/m{i + 1}") for i in range(1, 6)}
    graph = build_graph(
        _card_only("acme/m0", "acme/m1"), _chain_resolver(reports, []), max_depth=2, known_models=[]
    )
    assert {n.id for n in graph.nodes} == {"acme/m0", "acme/m1", "acme/m2", "acme/m3"}
    (limit,) = [f for f in graph.findings if f.rule_id == "lineage.depth-limit"]
    assert "acme/m3" in limit.message
    assert graph.node("acme/m3").source == "unresolved"  # type: ignore[union-attr]


def test_each_parent_is_resolved_once_in_a_diamond() -> None:
    reports = {
        "acme/b": _card_only("acme/b", "acme/d"),
        "acme/c": _card_only("acme/c", "acme/d"),
        "acme/d": report("acme/d", {"card.license": "apache-2.0"}),
    }
    calls: list[str] = []
    graph = build_graph(
        _card_only("acme/merge", "acme/b", "acme/c"), _chain_resolver(reports, calls), known_models=[]
    )
    assert sorted(calls) == ["acme/b", "acme/c", "acme/d"]
    assert {e.relation for e in graph.parents("acme/merge")} == {"merge"}


def test_hub_gguf_repo_through_the_emulator(hub) -> None:  # type: ignore[no-untyped-def]
    """acme/quant-gguf: a card naming its base, the Hub's tags saying `quantized`, and a toy GGUF whose shape
    (hidden size 2) cannot be a quantization of the 1.5B model it names."""
    graph = build_graph(scan("acme/quant-gguf"), default_resolver(), known_models=[])
    (edge,) = graph.parents("acme/quant-gguf")
    assert (edge.parent, edge.relation) == ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "quantized")
    # card base_model and the Hub's tags are one statement (0.85), the architecture speaks against it
    assert edge.confidence == pytest.approx(0.85 * 0.4)
    assert "lineage.base-architecture-mismatch" in _rules(graph)
    teacher = graph.parents("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "distillation")
    assert [e.parent for e in teacher] == ["deepseek-ai/DeepSeek-R1"]
    # the emulator answers 404 for deepseek-ai/DeepSeek-R1: the knowledge base still knows it, and says so
    teacher_node = graph.node("deepseek-ai/DeepSeek-R1")
    assert teacher_node is not None and teacher_node.source == "knowledge-base"
    assert any("the Hub answered" in note and "resolved offline" in note for note in teacher_node.notes)
    assert not [f for f in graph.findings if f.rule_id == "lineage.parent-unresolved"]


def test_a_parent_the_hub_and_the_knowledge_base_do_not_know_is_unresolved_naming_it(hub) -> None:  # type: ignore[no-untyped-def]
    card = "---\nlicense: apache-2.0\nbase_model: acme/deleted-base\n---\n# child\n"
    hub.add_repo("acme/orphan-child", {"README.md": card.encode()})
    graph = build_graph(scan("acme/orphan-child"), default_resolver(), known_models=[])
    assert graph.node("acme/deleted-base").source == "unresolved"  # type: ignore[union-attr]
    unresolved = next(f for f in graph.findings if f.rule_id == "lineage.parent-unresolved")
    assert "acme/deleted-base" in unresolved.message and "resolver" not in unresolved.message
    assert "knowledge base" in unresolved.message


def test_hub_fine_tune_with_agreeing_witnesses(hub) -> None:  # type: ignore[no-untyped-def]
    graph = build_graph(scan("acme/tiny-llm"), default_resolver(), known_models=[])
    (edge,) = graph.edges
    assert (edge.child, edge.parent, edge.relation) == ("acme/tiny-llm", "acme/tiny-base", "finetune")
    groups = {e.group for e in edge.evidence if e.weight > 0}
    assert groups == {"card-metadata", "card-prose", "architecture"}
    assert edge.confidence == confidence(edge.evidence) > 0.95
    assert graph.node("acme/tiny-base").source == "hub"  # type: ignore[union-attr]


def test_confidence_rule() -> None:
    card_meta = EdgeEvidence("card.base_model", "base_model: x", "README.md:line 2", 0.85, "card-metadata")
    hub_tag = EdgeEvidence("hub.base_model", "tags: x", "hub", 0.85, "card-metadata")
    table = EdgeEvidence("card.table", "| x |", "README.md:line 80", 0.75, "card-table")
    against = EdgeEvidence("fingerprint", "differs", "config.json", -0.6, "architecture")
    assert confidence([card_meta, hub_tag]) == 0.85  # one statement repeated counts once
    assert confidence([card_meta, table]) == pytest.approx(1 - 0.15 * 0.25, abs=1e-3)
    assert confidence([card_meta, against]) == pytest.approx(0.85 * 0.4, abs=1e-3)


def test_witnesses_disagreeing_on_the_relation() -> None:
    claims = [
        Witnessed(
            "org/x",
            "finetune",
            EdgeEvidence("card.base_model_relation", "finetune", "README.md", 0.85, "card-metadata"),
        ),
        Witnessed("org/x", "quantized", EdgeEvidence("repo-name", "-GGUF", "name", 0.5, "name")),
    ]
    edges, findings = combine("org/x-GGUF", claims)
    assert [e.relation for e in edges] == ["finetune"]
    assert [f.rule_id for f in findings] == ["lineage.relation-disagreement"]


def test_graph_json_is_deterministic(offline: None) -> None:
    first = build_graph(scan("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"), default_resolver()).to_json()
    second = build_graph(scan("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"), default_resolver()).to_json()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["nodes"][0]["id"] == "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
    assert set(first) == {"root", "nodes", "edges", "findings"}
    node = first["nodes"][0]
    assert {"id", "declared_licenses", "effective_licenses", "source"} <= node.keys()
    edge = first["edges"][0]
    assert {"child", "parent", "relation", "confidence", "evidence"} <= edge.keys()
