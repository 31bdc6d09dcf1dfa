"""Paths and small builders shared by the claims tests."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
R1_CARD = DATA / "cards" / "deepseek-ai__DeepSeek-R1.README.github.md"
HERMES_CARD = DATA / "cards" / "teknium__OpenHermes-2.5-Mistral-7B.README.md"
SHARED_FIGURES = DATA / "claims" / "deepseek-r1.published-figures.yaml"

QUOTED_ARTICLE = (
    "# What the R1 launch coverage said\n\n"
    "DeepSeek-R1 scores 97.3% on MATH-500, beating OpenAI's 96.4%.\n"
    "On AIME 2024, R1 achieves 79.8% Pass@1.\n\n"
    "DeepSeek-R1-Distill-Qwen-32B outperforms OpenAI-o1-mini across various benchmarks.\n"
)


def r1_card_text() -> str:
    return R1_CARD.read_text(encoding="utf-8")


def r1_card_with(old: str, new: str) -> str:
    """The real R1 README with one table cell changed (synthetic: a card that misquotes the table)."""
    text = r1_card_text()
    assert text.count(old) == 1, old
    return text.replace(old, new)


def finetune_card(claim_value: str) -> str:
    """Synthetic card of a fine-tune of R1-Distill-Qwen-32B that states a number in its model-index."""
    return (
        "---\n"
        "license: mit\n"
        "base_model: deepseek-ai/DeepSeek-R1-Distill-Qwen-32B\n"
        "model-index:\n"
        "- name: acme/r1-32b-legal\n"
        "  results:\n"
        "  - task:\n"
        "      type: text-generation\n"
        "    dataset:\n"
        "      name: AIME 2024\n"
        "      type: aime_2024\n"
        "    metrics:\n"
        "    - type: pass@1\n"
        f"      value: {claim_value}\n"
        "---\n\n"
        "# acme/r1-32b-legal\n\nA legal-domain fine-tune.\n"
    )
