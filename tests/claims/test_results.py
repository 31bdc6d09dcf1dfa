"""Reproduced-results parsers: lm-eval-harness JSON, per-sample JSONL, the simple YAML; bad files named."""

from __future__ import annotations

import json

import pytest

from provenance.errors import MalformedFileError
from provenance.verify.claims_figures import load_catalog
from provenance.verify.claims_results import parse_results

# Shaped like lm-eval-harness 0.4 output (`results`, `n-samples`, `config.model_args`); numbers invented.
LM_EVAL = {
    "results": {
        "gpqa_diamond_zeroshot": {
            "alias": "gpqa_diamond_zeroshot",
            "acc_norm,none": 0.3131,
            "acc_norm_stderr,none": 0.033,
            "acc,none": 0.3081,
            "acc_stderr,none": 0.0329,
        },
        "hellaswag": {"alias": "hellaswag", "acc,none": 0.6, "acc_stderr,none": 0.004},
    },
    "n-samples": {
        "gpqa_diamond_zeroshot": {"original": 198, "effective": 198},
        "hellaswag": {"effective": 10042},
    },
    "config": {
        "model": "hf",
        "model_args": "pretrained=deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B,dtype=bfloat16",
    },
}


def test_lm_eval_results_json() -> None:
    reps = parse_results(json.dumps(LM_EVAL).encode(), "results.json", load_catalog())
    gpqa = [r for r in reps if r.benchmark == "GPQA Diamond"]
    assert [(r.metric_text, r.value, r.items) for r in gpqa] == [
        ("acc", 30.81, 198),
        ("acc_norm", 31.31, 198),
    ]
    assert gpqa[0].model == "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"
    assert gpqa[0].stderr == pytest.approx(3.29)
    assert any(r.benchmark is None and r.benchmark_text == "hellaswag" for r in reps)


def test_simple_yaml_with_per_item_scores() -> None:
    text = (
        "model: deepseek-ai/DeepSeek-R1\n"
        "results:\n"
        "  - benchmark: AIME 2024\n"
        "    metric: pass@1\n"
        "    scores: [[1, 0], [1, 1], [0, 0], [1, 1]]\n"
        "  - benchmark: MATH-500\n"
        "    value: 96.8%\n"
    )
    aime, math = parse_results(text.encode(), "repro.yaml", load_catalog())
    assert (aime.value, aime.items, aime.samples_per_item, aime.model) == (
        62.5,
        4,
        2,
        "deepseek-ai/DeepSeek-R1",
    )
    assert aime.scores == ((1.0, 0.0), (1.0, 1.0), (0.0, 0.0), (1.0, 1.0))
    assert (math.value, math.items, math.scores) == (96.8, None, None)


def test_jsonl_samples_group_by_item() -> None:
    lines = [{"doc_id": i % 3, "exact_match": float(i % 2)} for i in range(6)]
    data = "\n".join(json.dumps(x) for x in lines).encode()
    (rep,) = parse_results(data, "samples_aime24_2026-01-01T00-00-00.jsonl", load_catalog())
    assert rep.benchmark == "AIME 2024" and rep.items == 3 and rep.samples_per_item == 2
    assert rep.value == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("r.json", b'{"results": ', "invalid JSON"),
        ("r.json", b'{"rows": []}', "not an lm-eval-harness results file"),
        ("r.yaml", b"results:\n  - metric: pass@1\n", "needs a `benchmark:`"),
        ("r.yaml", b"results:\n  - benchmark: AIME 2024\n    value: 73.3\n", "fraction between 0 and 1"),
        ("r.yaml", b"results:\n  - benchmark: AIME 2024\n    scores: [2, 1]\n", "between 0 and 1"),
        ("r.yaml", b"results:\n  - benchmark: AIME 2024\n    items: 30\n    scores: [1, 0]\n", "has 2 items"),
        ("r.yaml", b"just: text\n", "`results:` list"),
        ("s.jsonl", b'{"doc_id": 1}\n', "expected an item id"),
        ("r.yaml", b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_bad_results_files_name_the_file_and_the_problem(name: str, data: bytes, problem: str) -> None:
    with pytest.raises(MalformedFileError) as info:
        parse_results(data, name, load_catalog())
    assert problem in info.value.problem
    assert info.value.target.startswith(name)
