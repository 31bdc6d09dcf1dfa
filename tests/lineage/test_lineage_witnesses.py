"""Witnesses over real cards: the DeepSeek-R1 README (all eight R1 repos ship it), OpenHermes, Qwen, Llama."""

from __future__ import annotations

import pytest
from lineage_support import CARDS, DEEPSEEK_STATED, report

from provenance.lineage.graph import build_graph
from provenance.lineage.witnesses import NameIndex, subject_of, witness_all

NO_KNOWN = NameIndex(())


def _edges(scan: object) -> tuple[set[str], set[str]]:
    graph = build_graph(scan, lambda _id: None, known_models=[])  # type: ignore[arg-type]
    bases = {e.parent for e in graph.edges if e.relation != "distillation"}
    teachers = {e.parent for e in graph.edges if e.relation == "distillation"}
    return bases, teachers


@pytest.mark.parametrize("repo_id", sorted(DEEPSEEK_STATED))
def test_deepseek_readme_gives_each_model_its_own_row(repo_id: str, deepseek_readme: str) -> None:
    """The same README body names six distills and two MoE models; each repo must get only its own lineage,
    and the base and teacher it states, with evidence pointing at README lines."""
    scan = report(repo_id, body=deepseek_readme)
    bases, teachers = _edges(scan)
    assert (bases, teachers) == DEEPSEEK_STATED[repo_id]
    graph = build_graph(scan, lambda _id: None, known_models=[])
    for edge in graph.edges:
        assert any(e.location.startswith("hub:README.md:line ") for e in edge.evidence), edge


def test_distill_table_row_and_license_item_agree_for_llama_8b(deepseek_readme: str) -> None:
    scan = report("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", body=deepseek_readme)
    graph = build_graph(scan, lambda _id: None, known_models=[])
    (base,) = graph.parents(scan.target.repo_id or "", "finetune")
    witnesses = {e.witness for e in base.evidence}
    assert {"card.table", "card.prose"} <= witnesses
    prose = next(e for e in base.evidence if e.witness == "card.prose")
    # "derived from Llama3.1-8B-Base": Meta names its base models without "-Base"; the table's link decides.
    assert "Llama3.1-8B-Base" in prose.value
    table = next(e for e in base.evidence if e.witness == "card.table")
    assert base.confidence > table.weight  # two independent statements agree


def test_zero_is_not_a_distill_although_a_sentence_lists_it(deepseek_readme: str) -> None:
    """ "we have open-sourced DeepSeek-R1-Zero, DeepSeek-R1, and six dense models distilled from DeepSeek-R1":
    the participle hangs on "six dense models", not on R1-Zero."""
    scan = report("deepseek-ai/DeepSeek-R1-Zero", body=deepseek_readme)
    claims = witness_all(scan, subject_of(scan), NO_KNOWN)
    assert all(c.relation != "distillation" for c in claims)


def test_openhermes_card_front_matter(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from provenance.scan import scan  # noqa: PLC0415

    folder = tmp_path / "OpenHermes-2.5-Mistral-7B"
    folder.mkdir()
    (folder / "README.md").write_bytes((CARDS / "teknium__OpenHermes-2.5-Mistral-7B.README.md").read_bytes())
    result = scan(str(folder))
    bases, teachers = _edges(result)
    assert bases == {"mistralai/Mistral-7B-v0.1"}
    assert (
        teachers == set()
    )  # "trained on ... GPT-4 generated data" is about "OpenHermes", not this repo name


def test_qwen_math_card_names_its_base(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from provenance.scan import scan  # noqa: PLC0415

    folder = tmp_path / "Qwen2.5-Math-1.5B"
    folder.mkdir()
    (folder / "README.md").write_bytes((CARDS / "Qwen__Qwen2.5-Math-1.5B.README.md").read_bytes())
    graph = build_graph(scan(str(folder)), lambda _id: None, known_models=[])
    assert [(e.parent, e.relation) for e in graph.edges] == [("Qwen/Qwen2.5-1.5B", "finetune")]
    assert graph.edges[0].evidence[0].location.endswith("README.md:line 2")


def test_llama_model_card_names_no_parent() -> None:
    """A base model's card talks about fine-tuning a lot; none of it is a parent."""
    body = (CARDS / "meta-llama__llama3_3.MODEL_CARD.github.md").read_text(encoding="utf-8")
    scan = report("meta-llama/Llama-3.3-70B-Instruct", body=body)
    assert witness_all(scan, subject_of(scan), NO_KNOWN) == []


def test_trainer_generated_card_sentence() -> None:
    """The sentence transformers' Trainer writes into every card it generates."""
    body = (
        "# my-imdb-model\n\nThis model is a fine-tuned version of "
        "[distilbert/distilbert-base-uncased](https://huggingface.co/distilbert/distilbert-base-uncased) "
        "on the imdb dataset.\n"
    )
    scan = report("someone/my-imdb-model", body=body)
    (claim,) = witness_all(scan, subject_of(scan), NO_KNOWN)
    assert (claim.parent, claim.relation, claim.evidence.witness) == (
        "distilbert/distilbert-base-uncased",
        "finetune",
        "card.prose",
    )


def test_quantized_repo_names() -> None:
    known = NameIndex(("deepseek-ai/DeepSeek-R1-Distill-Llama-8B",))
    for name in (
        "unsloth/DeepSeek-R1-Distill-Llama-8B-bnb-4bit",
        "bartowski/DeepSeek-R1-Distill-Llama-8B-GGUF",
    ):
        scan = report(name)
        claims = [c for c in witness_all(scan, subject_of(scan), known) if c.relation == "quantized"]
        assert [c.parent for c in claims] == ["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"], name
        assert claims[0].evidence.witness == "repo-name"


def test_merge_prose_names_every_parent() -> None:
    body = "This model is a merge of mistralai/Mistral-7B-v0.1 and teknium/OpenHermes-2.5-Mistral-7B.\n"
    scan = report("someone/hermes-merge-7B", body=body)
    graph = build_graph(scan, lambda _id: None, known_models=[])
    assert {(e.parent, e.relation) for e in graph.edges} == {
        ("mistralai/Mistral-7B-v0.1", "merge"),
        ("teknium/OpenHermes-2.5-Mistral-7B", "merge"),
    }


def test_adapter_config_is_an_adapter_edge() -> None:
    scan = report(
        "someone/llama-lora",
        {"adapter.base_model": "meta-llama/Llama-3.1-8B", "adapter.peft_type": "LORA"},
    )
    graph = build_graph(scan, lambda _id: None, known_models=[])
    (edge,) = graph.edges
    assert (edge.parent, edge.relation) == ("meta-llama/Llama-3.1-8B", "adapter")
    assert edge.confidence == pytest.approx(0.95)
