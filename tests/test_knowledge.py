"""The bundled knowledge base and its offline Source: lineage as the cards state it, configs as recorded."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from provenance.errors import InputError, PolicyError
from provenance.knowledge import (
    FINGERPRINT_KEYS,
    KnownEdge,
    load_knowledge_base,
    parse_knowledge_base,
    top_candidates,
)
from provenance.sources.knowledge_source import OFFLINE_NOTE, knowledge_source

TESTS = Path(__file__).parent
SHARED = TESTS.parent.parent / "shared"
CONFIGS_COPY = TESTS / "data" / "known-models-configs.yaml"
SOURCES_MD = TESTS.parent / "provenance" / "data" / "SOURCES.md"
R1 = "deepseek-ai/DeepSeek-R1"
V3_BASE = "deepseek-ai/DeepSeek-V3-Base"
FAMILY = {
    R1: (V3_BASE, None),
    "deepseek-ai/DeepSeek-R1-Zero": (V3_BASE, None),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B": ("Qwen/Qwen2.5-Math-1.5B", R1),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B": ("Qwen/Qwen2.5-Math-7B", R1),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B": ("Qwen/Qwen2.5-14B", R1),
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B": ("Qwen/Qwen2.5-32B", R1),
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": ("meta-llama/Llama-3.1-8B", R1),
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": ("meta-llama/Llama-3.3-70B-Instruct", R1),
}


def normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def stored_card(via: str) -> Path:
    """The test copy of a shared model card (tests/data/cards), else the shared folder beside the clone."""
    name = Path(via).name
    for candidate in (TESTS / "data" / "cards" / name, SHARED / "modelcards" / name):
        if candidate.is_file():
            return candidate
    pytest.fail(f"no stored copy of {via} in tests/data/cards or {SHARED / 'modelcards'}")


def shared_configs() -> dict[str, dict[str, Any]]:
    """shared/known-models/configs.yaml, from the copy in tests/data (see its SOURCES note)."""
    entries = yaml.safe_load(CONFIGS_COPY.read_text(encoding="utf-8"))
    return {entry["repo_id"]: entry for entry in entries}


def recorded(entry: dict[str, Any]) -> dict[str, Any]:
    config = entry.get("config") or {}
    return {k: config[k] for k in FINGERPRINT_KEYS if config.get(k) is not None}


def as_json(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# --- lineage of the DeepSeek-R1 family -------------------------------------------------------------------


@pytest.mark.parametrize("repo", sorted(FAMILY))
def test_family_bases_and_teacher_are_the_readmes(repo: str) -> None:
    model = load_knowledge_base().get(repo)
    assert model is not None
    base, teacher = FAMILY[repo]
    assert [(e.repo, e.relation) for e in model.bases] == [(base, "finetune")]
    got_teacher = (model.teacher.repo, model.teacher.relation) if model.teacher else None
    assert got_teacher == ((teacher, "distillation") if teacher else None)


@pytest.mark.parametrize("repo", sorted(FAMILY))
def test_family_edge_quotes_are_verbatim_in_the_r1_readme(repo: str) -> None:
    readme = normalised(stored_card("deepseek-ai__DeepSeek-R1.README.github.md").read_text(encoding="utf-8"))
    model = load_knowledge_base().get(repo)
    assert model is not None
    edges: list[KnownEdge] = [*model.bases, *([model.teacher] if model.teacher else [])]
    for edge in edges:
        assert edge.source == "github:deepseek-ai/DeepSeek-R1/README.md"
        assert normalised(edge.quote) in readme, edge.quote


def test_every_quote_from_a_stored_card_is_verbatim() -> None:
    kb = load_knowledge_base()
    via = {s.ref: s.via for s in kb.sources.values()}
    checked = 0
    for model in kb.models:
        quoted = [(e.source, e.quote) for e in (*model.bases, *([model.teacher] if model.teacher else []))]
        if model.license_quote and model.license_source:
            quoted.append((model.license_source, model.license_quote))
        for ref, quote in quoted:
            if via[ref].startswith("shared/modelcards/"):
                text = normalised(stored_card(via[ref]).read_text(encoding="utf-8"))
                assert normalised(quote) in text, f"{model.repo_id}: {quote!r}"
                checked += 1
    assert checked >= 20


def test_r1_family_rests_on_recorded_bases() -> None:
    kb = load_knowledge_base()
    wanted = {base for base, _ in FAMILY.values()} | {"Qwen/Qwen2.5-1.5B", "Qwen/Qwen2.5-7B"}
    wanted |= {"meta-llama/Llama-3.1-70B"}
    assert all(kb.get(repo) is not None for repo in wanted)
    llama33 = kb.get("meta-llama/Llama-3.3-70B-Instruct")
    assert llama33 is not None
    assert [e.repo for e in llama33.bases] == ["meta-llama/Llama-3.1-70B"]


# --- sources, configs, licenses ---------------------------------------------------------------------------


def test_every_model_has_sources_and_every_source_is_in_the_manifest() -> None:
    kb = load_knowledge_base()
    manifest = SOURCES_MD.read_text(encoding="utf-8")
    for model in kb.models:
        assert model.sources, model.repo_id
    for sid in kb.sources:
        assert f"`{sid}`" in manifest, sid


def test_config_values_equal_the_shared_configs() -> None:
    kb = load_knowledge_base()
    shared = shared_configs()
    for model in kb.models:
        if model.config:
            assert model.repo_id in shared, model.repo_id
            assert {k: as_json(v) for k, v in model.config.items()} == recorded(shared[model.repo_id])


def test_every_shared_config_model_is_known_with_nothing_left_out() -> None:
    kb = load_knowledge_base()
    for repo_id, entry in shared_configs().items():
        model = kb.get(repo_id)
        assert model is not None, repo_id
        assert set(model.config) == set(recorded(entry)), repo_id


COPY_SHA256 = "58250046497b2a15511902c55c03326d03bee154f7144a62f9595e02ee5cbbfe"  # shared/known-models/configs.yaml as collected 2026-11-28


def test_the_test_copy_of_configs_is_the_collected_file() -> None:
    assert hashlib.sha256(CONFIGS_COPY.read_bytes()).hexdigest() == COPY_SHA256
    original = SHARED / "known-models" / "configs.yaml"
    if original.is_file():  # beside a checkout with shared/: the copy must not have drifted
        assert CONFIGS_COPY.read_bytes() == original.read_bytes()


def test_disagreements_keep_both_values() -> None:
    model = load_knowledge_base().get("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    assert model is not None
    assert "torch_dtype" not in model.config
    assert model.config_disagreements["torch_dtype"] == {
        "resaved-copy": "float32",
        "hf_api_weight_dtype": "BF16",
    }


@pytest.mark.parametrize(
    ("repo", "license_id", "name"),
    [
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "mit", None),
        ("meta-llama/Llama-3.3-70B-Instruct", "llama3.3", None),
        ("meta-llama/Llama-3.1-8B", "llama3.1", None),
        ("Qwen/Qwen2.5-Math-1.5B", "apache-2.0", None),
        ("deepseek-ai/DeepSeek-V3-Base", "other", "deepseek"),
        ("Qwen/Qwen2.5-72B", None, None),
    ],
)
def test_licenses_as_hub_card_ids_with_where_declared(
    repo: str, license_id: str | None, name: str | None
) -> None:
    model = load_knowledge_base().get(repo)
    assert model is not None
    assert (model.license, model.license_name) == (license_id, name)
    assert (model.license_declared_in is None) == (license_id is None)


def test_lookup_is_case_insensitive_and_cached() -> None:
    kb = load_knowledge_base()
    assert kb is load_knowledge_base()
    model = kb.get("DEEPSEEK-AI/deepseek-r1")
    assert model is not None
    assert model.repo_id == R1
    assert kb.get("acme/unknown") is None


def test_meta_llama_repos_are_gated() -> None:
    kb = load_knowledge_base()
    for model in kb.models:
        if model.repo_id.startswith("meta-llama/"):
            assert model.gated in (True, "manual"), model.repo_id


# --- fingerprints -----------------------------------------------------------------------------------------


def test_fingerprint_puts_the_llama_31_8b_family_first_with_equal_candidates() -> None:
    kb = load_knowledge_base()
    query = recorded(shared_configs()["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"])
    ranking = kb.fingerprint_candidates(query)
    best = top_candidates(ranking)
    assert {m.repo_id for m in best} == {
        "deepseek-ai/DeepSeek-R1-Distill-Llama-8B",
        "meta-llama/Llama-3.1-8B",
    }
    assert ranking[0][1] == 1.0
    assert all(0.0 <= score <= 1.0 for _, score, _ in ranking)
    runner_up = ranking[len(best)]
    assert runner_up[1] < 1.0
    assert any(note.startswith("mismatch: ") for note in runner_up[2])


def test_fingerprint_accepts_reader_shaped_values() -> None:
    kb = load_knowledge_base()
    query = {"model_type": "llama", "hidden_size": 4096, "eos_token_id": (128001, 128008, 128009)}
    ranking = kb.fingerprint_candidates(query)
    assert ranking[0][0].repo_id == "meta-llama/Llama-3.1-8B-Instruct"
    llama_8b = next(row for row in ranking if row[0].repo_id == "meta-llama/Llama-3.1-8B")
    assert "match: hidden_size" in llama_8b[2]
    assert any(note.startswith("mismatch: eos_token_id") for note in llama_8b[2])
    assert kb.fingerprint_candidates({"hidden_size": None, "rope_scaling": {}}) == []


def test_fingerprint_counts_unrecorded_keys_against_a_model() -> None:
    kb = load_knowledge_base()
    ranking = kb.fingerprint_candidates({"model_type": "qwen2", "hidden_size": 5120})
    partial = next(row for row in ranking if row[0].repo_id == "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B")
    assert partial[1] == 0.5
    assert "not recorded: hidden_size" in partial[2]


# --- structural validation --------------------------------------------------------------------------------

BROKEN = """
schema_version: 1
collected: "2026-11-28"
sources:
  card: {ref: "hf:acme/a/README.md", kind: model-card-copy, via: here, third_party: false}
models:
  - repo_id: acme/a
    colour: blue
    license: {id: mit, declared_in: card, source: card}
    bases:
      - {repo: acme/base, relation: cloned, source: card, quote: "base_model: acme/base"}
      - {repo: acme/base2, relation: finetune, source: nowhere, quote: ""}
    teacher: {repo: acme/t, relation: finetune, source: card, quote: "taught by acme/t"}
    config:
      values: {hidden_size: -1, rope_scaling: {factor: 8}}
      sources: [card]
    gated: {value: maybe, source: card}
    sources: [card]
  - repo_id: acme/b
    shards: {count: 2, pattern: "model-0000N-of-00002.safetensors", sizes: ["1 GB"], source: card}
    sources: [card]
  - repo_id: ACME/A
    sources: [card]
  - repo_id: not a repo id
"""


def test_a_broken_file_reports_every_problem_at_once(tmp_path: Path) -> None:
    path = tmp_path / "known_models.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_knowledge_base(path)
    problems = caught.value.problems
    expected = [
        ("acme/a:", "unknown key 'colour'"),
        ("acme/a: bases[1]", "relation must be one of"),
        ("acme/a: bases[2]", "quote must be a non-empty string"),
        ("acme/a: bases[2]", "source 'nowhere' is not in the source registry"),
        ("acme/a: teacher", "relation must be one of ['distillation']"),
        ("acme/a: config.values.hidden_size", "not a valid value"),
        ("acme/a: config.values.rope_scaling", "not a fingerprint key"),
        ("acme/a: gated", "value must be true, false"),
        ("acme/b: shards", "1 sizes for 2 shards"),
        ("ACME/A", "listed twice"),
        ("models[4]", "repo_id must look like owner/name"),
    ]
    for where, what in expected:
        assert any(p.startswith(where) and what in p for p in problems), (where, what, problems)
    assert caught.value.target == str(path)


def test_not_yaml_and_wrong_shapes_are_policy_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_knowledge_base("models: [", "bad.yaml")
    with pytest.raises(PolicyError) as caught:
        parse_knowledge_base("- just a list", "list.yaml")
    assert caught.value.problems[0].startswith("document:")
    with pytest.raises(InputError):
        load_knowledge_base(tmp_path / "missing.yaml")


# --- the offline Source -----------------------------------------------------------------------------------


def test_knowledge_source_info_and_unknown_repos() -> None:
    source = knowledge_source("deepseek-ai/deepseek-r1-distill-llama-70b", "r1-70b", ("HF_HUB_OFFLINE=1",))
    assert source is not None
    info = source.info
    assert (info.kind, info.repo_id, info.revision, info.requested) == (
        "knowledge-base",
        "deepseek-ai/DeepSeek-R1-Distill-Llama-70B",
        None,
        "r1-70b",
    )
    assert info.notes == ("HF_HUB_OFFLINE=1", OFFLINE_NOTE)
    assert knowledge_source("acme/unknown") is None


def test_knowledge_source_facts_carry_their_origins() -> None:
    source = knowledge_source("deepseek-ai/DeepSeek-R1-Distill-Llama-70B")
    assert source is not None
    facts = source.facts()
    readme = "github:deepseek-ai/DeepSeek-R1/README.md"
    for fact in facts:
        assert fact.origin.source == "knowledge-base"
        assert fact.origin.location == "provenance/data/known_models.yaml"
        assert fact.origin.detail.startswith("deepseek-ai/DeepSeek-R1-Distill-Llama-70B ← ")
    by_kind = {f.kind: f for f in facts}
    assert by_kind["card.license"].value == "mit"
    assert by_kind["card.base_model"].value == "meta-llama/Llama-3.3-70B-Instruct"
    assert by_kind["card.base_model_relation"].value == "finetune"
    assert by_kind["lineage.base"].origin.detail.endswith(f"← {readme}")
    teacher = by_kind["lineage.teacher"].value
    assert (teacher["repo"], teacher["relation"]) == (R1, "distillation")
    assert "samples generated by DeepSeek-R1" in teacher["quote"]
    assert by_kind["shards.count"].value == 17
    assert by_kind["shards.pattern"].value == "model-000NN-of-000017.safetensors"


def test_knowledge_source_config_tokenizer_and_gating_facts() -> None:
    source = knowledge_source("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    assert source is not None
    by_kind = {f.kind: f for f in source.facts()}
    assert by_kind["config.eos_token_id"].value == 128001
    assert by_kind["config.architectures"].value == ["LlamaForCausalLM"]
    assert "crag-meta" in by_kind["config.hidden_size"].origin.detail
    assert "config.torch_dtype" not in by_kind
    assert by_kind["tokenizer.bos_token"].value == "<｜begin▁of▁sentence｜>"
    assert by_kind["hub.gated"].value is False
    assert by_kind["card.license"].origin.detail.endswith(
        "model.json@522537bc54b2efa439c7755a8c5dedd6f8b001da"
    )


def test_knowledge_source_lists_recorded_files_and_reads_none() -> None:
    source = knowledge_source("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    assert source is not None
    files = {f.path: f for f in source.files()}
    assert list(files) == sorted(files)
    assert all(not f.present for f in files.values())
    shard = files["model-00001-of-000002.safetensors"]
    assert shard.size is None
    assert ("recorded_size", "8.1 GiB") in shard.extra
    assert files["config.json"].size == 826
    assert files["tokenizer.json"].size is None
    with pytest.raises(InputError, match="not available offline"):
        source.read("config.json", 1 << 20)
    with pytest.raises(InputError, match="not available offline"):
        source.read_prefix("model-00001-of-000002.safetensors", 8)


def test_shard_names_follow_the_recorded_pattern() -> None:
    kb = load_knowledge_base()
    r1 = kb.get(R1)
    assert r1 is not None
    assert r1.shards is not None
    names = r1.shards.names()
    assert (len(names), names[0], names[-1]) == (
        163,
        "model-00001-of-000163.safetensors",
        "model-00163-of-000163.safetensors",
    )
    qwen = kb.get("Qwen/Qwen2.5-Math-1.5B")
    assert qwen is not None
    assert qwen.shards is not None
    assert qwen.shards.names() == ("model.safetensors",)
