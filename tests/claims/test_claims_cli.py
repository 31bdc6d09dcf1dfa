"""`provenance claims` end to end through `provenance.cli.main`: offline knowledge base, local folders, the Hub
emulator; every format and exit code; bad input leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from claims_support import QUOTED_ARTICLE, finetune_card, r1_card_text, r1_card_with

from provenance.cli import main
from provenance.scan import scan
from provenance.verify.claims import claims_section


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _folder(tmp_path: Path, name: str, readme: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "README.md").write_text(readme, encoding="utf-8")
    return folder


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


AIME_REPRO = (
    "results:\n"
    "  - benchmark: AIME 2024\n    metric: pass@1\n    value: 0.7333\n"
    "  - benchmark: AIME 2024\n    metric: pass@1\n    value: 0.40\n"
)


def test_quoted_claims_about_r1_offline_as_json(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = _write(tmp_path, "article.md", QUOTED_ARTICLE)
    code = main(["claims", "deepseek-ai/DeepSeek-R1", "--text", str(article), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["subject"]["model"] == "DeepSeek-R1"
    assert doc["target"]["kind"] == "knowledge-base"
    verdicts = {(c["resolved_model"], c["benchmark"], c["value"]): c["verdict"] for c in doc["claims"]}
    assert verdicts == {
        ("DeepSeek-R1", "MATH-500", 97.3): "matches-published",
        ("OpenAI o1-1217", "MATH-500", 96.4): "matches-published",
        ("DeepSeek-R1", "AIME 2024", 79.8): "matches-published",
    }
    cited = {p["citation"]["text"] for c in doc["claims"] for p in c["published"] if p["matches_claim"]}
    assert any("README.md@0cf78561" in t for t in cited) and any("Table 4" in t for t in cited)
    assert {c["verdict"] for c in doc["comparisons"]} == {"supported"}
    assert doc["summary"]["claims"] == {"matches-published": 3}


def test_the_real_r1_card_in_a_folder_matches_everywhere(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, "DeepSeek-R1", r1_card_text())
    assert main(["claims", str(folder), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["summary"]["claims"]) == {"matches-published"}
    assert doc["summary"]["claims"]["matches-published"] == len(doc["claims"]) > 150
    assert [c["verdict"] for c in doc["comparisons"]] == ["supported"]


def test_a_contradicted_card_reports_both_values_and_exit_code_follows_the_flag(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card = r1_card_with("| 63.6 | 79.2 | **79.8** |", "| 63.6 | 79.2 | **81.2** |")
    folder = _folder(tmp_path, "r1-copy", card)
    assert main(["claims", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "[differs-from-published] DeepSeek-R1 AIME 2024 pass@1 = **81.2**" in text
    assert "DeepSeek-R1 pass@1 79.8 in README.md@0cf78561" in text
    assert main(["claims", str(folder), "--fail-on-contradiction"]) == 1
    capsys.readouterr()
    assert main(["claims", str(_folder(tmp_path, "clean", r1_card_text())), "--fail-on-contradiction"]) == 0


def test_reproductions_inside_and_outside_the_band_show_the_interval(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _write(tmp_path, "repro.yaml", AIME_REPRO)
    assert main(["claims", "deepseek-ai/DeepSeek-R1", "--results", str(results)]) == 0
    text = capsys.readouterr().out
    assert "noise band: 95% wilson interval [55.5, 85.8] (n=30)" in text
    assert "noise band: 95% wilson interval [24.6, 57.7] (n=30)" in text
    assert "[within-noise] published 79.8" in text and "[outside-noise] published 79.8" in text
    assert (
        main(["claims", "deepseek-ai/DeepSeek-R1", "--results", str(results), "--fail-on-contradiction"]) == 1
    )


def test_confidence_changes_the_band(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _write(tmp_path, "repro.yaml", AIME_REPRO)
    main(["claims", "deepseek-ai/DeepSeek-R1", "--results", str(results), "--format", "json"])
    wide = json.loads(capsys.readouterr().out)["reproductions"][0]["interval"]
    main(
        [
            "claims",
            "deepseek-ai/DeepSeek-R1",
            "--results",
            str(results),
            "--format",
            "json",
            "--confidence",
            "0.8",
        ]
    )
    narrow = json.loads(capsys.readouterr().out)["reproductions"][0]["interval"]
    assert narrow["low"] > wide["low"] and narrow["high"] < wide["high"] and narrow["confidence"] == 0.8


def test_output_file_is_written_whole_and_identical_across_runs(offline: None, tmp_path: Path) -> None:
    article = _write(tmp_path, "article.md", QUOTED_ARTICLE)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        argv = [
            "claims",
            "deepseek-ai/DeepSeek-R1",
            "--text",
            str(article),
            "--format",
            "json",
            "-o",
            str(out),
        ]
        assert main(argv) == 0
    assert first.read_bytes() == second.read_bytes()
    json.loads(first.read_text(encoding="utf-8"))


def test_a_bad_results_file_fails_with_exit_3_and_leaves_no_output(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _write(tmp_path, "broken.json", '{"results": ')
    out = tmp_path / "report.json"
    code = main(["claims", "deepseek-ai/DeepSeek-R1", "--results", str(results), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3
    assert "broken.json:1:" in err and "invalid JSON" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [results]


def test_a_missing_text_file_is_exit_3(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["claims", "deepseek-ai/DeepSeek-R1", "--text", str(tmp_path / "nope.md")]) == 3
    assert "nope.md: no such file" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--confidence", "1.5"], ["--format", "xml"]])
def test_usage_errors_are_exit_2(offline: None, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", "deepseek-ai/DeepSeek-R1", *argv]) == 2
    assert "error" in capsys.readouterr().err


def test_a_finetune_on_the_hub_emulator_copying_its_base_figure(
    hub, capsys: pytest.CaptureFixture[str]
) -> None:
    eval_results = (
        "- dataset: {id: HuggingFaceH4/MATH-500, task_id: default}\n  value: 94.3\n"
        "- dataset: {id: Idavidrein/gpqa, task_id: gpqa_diamond}\n  value: 0.655\n"
    )
    hub.add_repo(
        "acme/r1-32b-legal",
        {"README.md": finetune_card("72.6").encode(), ".eval_results/scores.yaml": eval_results.encode()},
    )
    assert main(["claims", "acme/r1-32b-legal", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert "deepseek-ai/deepseek-r1-distill-qwen-32b" in [a.lower() for a in doc["subject"]["ancestors"]]
    copied = {(c["benchmark"], c["value"]) for c in doc["claims"] if c["copied_from"]}
    assert copied == {("AIME 2024", 72.6), ("MATH-500", 94.3)}
    own = next(c for c in doc["claims"] if c["benchmark"] == "GPQA Diamond")
    assert own["copied_from"] == [] and own["origin"]["extractor"] == "eval-results"
    assert doc["summary"]["copied_from_ancestor"] == 2


def test_claims_section_of_a_scan_is_json_ready_and_deterministic(offline: None, tmp_path: Path) -> None:
    folder = _folder(tmp_path, "r1", r1_card_with("| 90.0 | 96.4 | **97.3** |", "| 90.0 | 96.4 | **98.1** |"))
    report = scan(str(folder))
    section = claims_section(report)
    assert json.dumps(section, sort_keys=True) == json.dumps(claims_section(report), sort_keys=True)
    assert section["summary"]["claims"]["differs-from-published"] == 1
    assert "$schema" not in section and "target" not in section


def test_a_distill_card_quoting_its_teachers_number_as_its_own(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _write(tmp_path, "blog.md", "It scores 79.8% on AIME 2024.\n")
    code = main(
        ["claims", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "--text", str(text), "--format", "json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    (claim,) = doc["claims"]
    assert (claim["verdict"], claim["resolved_model"]) == (
        "differs-from-published",
        "DeepSeek-R1-Distill-Qwen-32B",
    )
    assert {f["model"] for f in claim["copied_from"]} == {"DeepSeek-R1"}
    assert "deepseek-ai/DeepSeek-R1" in doc["subject"]["ancestors"]
    rules = {f["rule_id"] for f in doc["findings"]}
    assert rules == {"claims.differs-from-published", "claims.copied-from-ancestor"}


def test_help_documents_the_exit_code_of_a_contradiction(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["claims", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "--fail-on-contradiction" in out and "exits 0" in out and "exits 1" in out


def test_lm_eval_results_and_per_sample_scores_through_the_cli(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lm_eval = {
        "results": {"gpqa_diamond_zeroshot": {"alias": "gpqa_diamond_zeroshot", "acc,none": 0.3434}},
        "n-samples": {"gpqa_diamond_zeroshot": {"original": 198, "effective": 198}},
        "config": {"model_args": "pretrained=deepseek-ai/DeepSeek-R1-Distill-Qwen-32B"},
    }
    results = _write(tmp_path, "results_2026.json", json.dumps(lm_eval))
    # 30 AIME items x 4 samples: 22 items always right, 8 always wrong (pass@1 73.3).
    samples = "\n".join(
        json.dumps({"doc_id": item, "exact_match": 1.0 if item < 22 else 0.0})
        for item in range(30)
        for _ in range(4)
    )
    jsonl = _write(tmp_path, "samples_aime24_2026-01-01T00-00-00.jsonl", samples)
    argv = [
        "claims",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
        "--results",
        str(results),
        "--results",
        str(jsonl),
    ]
    assert main([*argv, "--format", "json", "--seed", "5"]) == 0
    doc = json.loads(capsys.readouterr().out)
    gpqa, aime = doc["reproductions"]
    assert (gpqa["benchmark"], gpqa["items"], gpqa["interval"]["method"]) == ("GPQA Diamond", 198, "wilson")
    assert [(r["value"], r["verdict"]) for r in gpqa["references"]] == [(62.1, "outside-noise")]
    assert (aime["benchmark"], aime["samples_per_item"], aime["interval"]["method"]) == (
        "AIME 2024",
        4,
        "bootstrap",
    )
    assert aime["interval"]["detail"] == "2000 resamples of 30 items, seed 5"
    assert [(r["value"], r["verdict"]) for r in aime["references"]] == [(72.6, "within-noise")]
    assert main([*argv, "--format", "json", "--seed", "5"]) == 0
    assert json.loads(capsys.readouterr().out)["reproductions"][1]["interval"] == aime["interval"]


def test_results_for_another_model_are_judged_against_that_models_figures(
    offline: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repro = "model: deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B\nresults:\n  - benchmark: AIME 2024\n    value: 0.3\n"
    results = _write(tmp_path, "small.yaml", repro)
    assert main(["claims", "deepseek-ai/DeepSeek-R1", "--results", str(results), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (rep,) = doc["reproductions"]
    assert rep["model_checked"] == "DeepSeek-R1-Distill-Qwen-1.5B"
    assert [(r["value"], r["verdict"]) for r in rep["references"]] == [(28.9, "within-noise")]
    assert "the results name" in rep["note"]


def test_json_report_has_the_documented_top_level_keys(
    offline: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["claims", "deepseek-ai/DeepSeek-R1", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    documented = {
        "$schema",
        "schema_version",
        "target",
        "subject",
        "publications",
        "summary",
        "claims",
        "comparisons",
        "reproductions",
        "findings",
        "notes",
        "subject_figures",
    }
    assert set(doc) == documented
    assert doc["$schema"].endswith("/claims-report/1") and doc["schema_version"] == 1
    assert {f["benchmark"] for f in doc["subject_figures"]} >= {"AIME 2024", "MATH-500", "GPQA Diamond"}


def test_a_gated_repo_is_reported_not_failed(hub, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", "acme/gated-llama", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"]["repo_id"] == "acme/gated-llama" and doc["claims"] == []
