"""`provenance scan` over a whole Hugging Face cache: every cached model, each from the cache alone.

The cache is filled the way a user's is: real `huggingface_hub` downloads from the emulator during online
scans. Then the whole-cache scan runs offline and must not touch the Hub.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from provenance.cli import main
from provenance.scan import scan

TWO = ("acme/tiny-llm", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B")


def _cache_root() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


@pytest.fixture
def filled_cache(hub: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    for repo_id in TWO:
        assert scan(repo_id).target.kind == "hub"
    hub.log.clear()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return _cache_root()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_whole_cache_json_has_one_report_per_model_and_no_hub_request(
    filled_cache: Path, hub: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "scan", "hf-cache:", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["cache"] == str(filled_cache)
    assert [m["repo_id"] for m in doc["models"]] == list(TWO)
    for model in doc["models"]:
        report = model["report"]
        assert report["target"]["kind"] == "hf-cache"
        assert report["target"]["commit"] and len(report["target"]["commit"]) == 40
        assert report["lineage"]["root"]
    licenses = {
        m["repo_id"]: [f["value"] for f in m["report"]["facts"] if f["kind"] == "card.license"]
        for m in doc["models"]
    }
    assert licenses["deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B"] == ["mit"]
    assert hub.log.count() == 0
    # the same bytes as scanning each model from the cache on its own
    code, single, _ = _run(capsys, "scan", f"hf-cache:{TWO[1]}", "--format", "json")
    assert code == 0
    assert doc["models"][1]["report"] == json.loads(single)


def test_cache_root_path_gives_every_report_then_a_summary(
    filled_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "scan", str(filled_cache))
    assert code == 0, err
    assert f"1/2  {TWO[0]}" in out and f"2/2  {TWO[1]}" in out
    summary = out[out.index(f"Hugging Face cache {filled_cache}: 2 model(s)") :]
    qwen = next(line for line in summary.splitlines() if "DeepSeek-R1-Distill-Qwen-1.5B" in line)
    assert "mit" in qwen
    # the distill's effective licenses reach its Qwen base (Apache-2.0), which the card does not declare;
    # the findings count the lineage's too (that gap is one)
    assert "Apache-2.0" in qwen
    assert "medium" in qwen


def test_a_broken_model_is_reported_and_the_others_still_scanned(
    filled_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = filled_cache / "models--acme--broken"
    (broken / "snapshots" / ("b" * 40)).mkdir(parents=True)
    (broken / "refs").mkdir()
    (broken / "refs" / "main").write_text("not a commit\n")
    output = tmp_path / "cache.json"
    code, out, err = _run(capsys, "scan", "hf-cache:", "--format", "json", "-o", str(output))
    assert code == 3 and out == "" and err == ""
    doc = json.loads(output.read_text(encoding="utf-8"))
    by_id = {m["repo_id"]: m for m in doc["models"]}
    assert set(by_id) == {"acme/broken", *TWO}
    assert "refs/main does not hold a commit hash" in by_id["acme/broken"]["error"]["problem"]
    assert by_id["acme/broken"]["error"]["exit_code"] == 3
    assert all("report" in by_id[repo_id] for repo_id in TWO)


def test_a_repo_cached_by_commit_only_is_scanned_at_its_snapshot(
    filled_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = filled_cache / "models--acme--tiny-llm"
    commit = (folder / "refs" / "main").read_text().strip()
    shutil.rmtree(folder / "refs")
    code, out, err = _run(capsys, "scan", "hf-cache:", "--format", "json", "--no-lineage", "--no-claims")
    assert code == 0, err
    (tiny,) = [m for m in json.loads(out)["models"] if m["repo_id"] == "acme/tiny-llm"]
    assert tiny["report"]["target"]["commit"] == commit


def test_an_empty_cache_is_an_empty_list_and_a_missing_one_exit_3(
    hub: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty-cache"
    empty.mkdir()
    code, out, _ = _run(capsys, "scan", "hf-cache:", "--cache-dir", str(empty), "--format", "json")
    assert code == 0 and json.loads(out)["models"] == []
    code, out, err = _run(capsys, "scan", "hf-cache:", "--cache-dir", str(tmp_path / "nowhere"))
    assert code == 3 and out == "" and "no Hugging Face cache here" in err
