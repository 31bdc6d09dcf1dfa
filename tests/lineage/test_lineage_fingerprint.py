"""Architecture fingerprints against the bundled knowledge base: ranking, ties kept, GGUF keys mapped."""

from __future__ import annotations

from lineage_support import report

from provenance.knowledge import load_knowledge_base
from provenance.lineage import fingerprint as fp


def test_gguf_keys_map_to_config_names() -> None:
    scan = report(
        None,
        {
            "gguf.general.architecture": "qwen2",
            "gguf.qwen2.embedding_length": 1536,
            "gguf.qwen2.block_count": 28,
            "gguf.qwen2.attention.head_count_kv": 2,
            "gguf.qwen2.rope.freq_base": 10000.0,
        },
        kind="local-file",
        requested="x.gguf",
    )
    seen = fp.of_report(scan)
    assert seen.source == "GGUF metadata"
    assert dict(seen.keys) == {
        "model_type": "qwen2",
        "hidden_size": 1536,
        "num_hidden_layers": 28,
        "num_key_value_heads": 2,
        "rope_theta": 10000.0,
    }


def test_a_fine_tune_fits_its_base_exactly() -> None:
    """DeepSeek-R1's config is DeepSeek-V3's, key for key: a fingerprint alone cannot tell which came first,
    which is why it only ranks (the graph infers an edge from it only when no witness names a base)."""
    kb = load_knowledge_base()
    r1 = kb.get("deepseek-ai/DeepSeek-R1")
    assert r1 is not None
    ranking = fp.rank(fp.of_known(r1), kb.models, names=["DeepSeek-R1"], exclude=[r1.repo_id])
    top = ranking.candidates[0]
    assert (top.repo_id, top.score, top.mismatching) == ("deepseek-ai/DeepSeek-V3", 1.0, ())
    assert "hidden_size=7168" in top.matching


def test_names_break_a_tie_and_the_ranking_says_so() -> None:
    """Config keys alone: R1-Distill-Llama-8B and Llama-3.1-8B are one architecture; only the name differs."""
    kb = load_knowledge_base()
    distill = kb.get("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    assert distill is not None
    config_only = {
        k: v for k, v in fp.of_known(distill).keys.items() if k in fp.SHAPE_KEYS or k == "vocab_size"
    }
    ranking = fp.rank(
        fp.Fingerprint(config_only, "config.json"), kb.models, names=["DeepSeek-R1-Distill-Llama-8B"]
    )
    assert ranking.best is not None and ranking.best.repo_id == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
    assert "meta-llama/Llama-3.1-8B" in ranking.level_on_architecture
    assert "the name decided" in ranking.explain()


def test_tokenizer_and_shard_naming_tell_a_base_from_its_instruct_sibling() -> None:
    """With its tokenizer markers and six-digit shard naming, the distill's recorded fingerprint ranks the
    base its README states (Llama-3.1-8B) above Llama-3.1-8B-Instruct, whose bos/eos and shards differ."""
    kb = load_knowledge_base()
    distill = kb.get("deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    assert distill is not None
    ranking = fp.rank(fp.of_known(distill), kb.models, exclude=[distill.repo_id])
    first, second = ranking.candidates[:2]
    assert (first.repo_id, second.repo_id) == ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct")
    assert any(m.startswith("shards=-of-000002") for m in second.mismatching)
    assert first.score > second.score


def test_a_shape_key_that_differs_rules_a_model_out() -> None:
    kb = load_knowledge_base()
    seen = fp.Fingerprint(
        {
            "model_type": "qwen2",
            "hidden_size": 5120,
            "num_hidden_layers": 48,
            "num_attention_heads": 40,
            "num_key_value_heads": 8,
            "intermediate_size": 13824,
            "vocab_size": 152064,
        },
        "config.json",
    )
    ranked = [c.repo_id for c in fp.rank(seen, kb.models).candidates]
    assert "Qwen/Qwen2.5-14B" in ranked
    assert "Qwen/Qwen2.5-32B" not in ranked  # same width, 64 layers


def test_mistral_and_llama_types_are_one_only_in_gguf() -> None:
    assert fp.same_value("model_type", "llama", "mistral", gguf=True)
    assert not fp.same_value("model_type", "llama", "mistral")
    assert fp.same_value("rope_theta", 10000, 10000.0)
    assert not fp.same_value("tie_word_embeddings", False, 0)
