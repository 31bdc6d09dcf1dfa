"""Whole scans of local targets through the CLI entry, with real cards and real checkpoint bytes."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hubemu.repos import gguf_file, llama_config, tensors_file

from provenance.cli import main
from provenance.errors import MalformedFileError
from provenance.scan import scan

CARDS = Path(__file__).parent / "data" / "cards"


def scan_json(capsys: pytest.CaptureFixture[str], target: Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = main(["scan", str(target), "--format", "json"])
    out, _err = capsys.readouterr()
    return code, json.loads(out) if out else {}


def test_folder_with_only_a_real_card_yields_its_bases(tmp_path: Path) -> None:
    model = tmp_path / "openhermes"
    model.mkdir()
    (model / "README.md").write_bytes((CARDS / "teknium__OpenHermes-2.5-Mistral-7B.README.md").read_bytes())
    report = scan(str(model))
    assert [f.value for f in report.facts_of("card.base_model")] == ["mistralai/Mistral-7B-v0.1"]
    assert report.first("card.license") == "apache-2.0"
    base = report.facts_of("card.base_model")[0]
    assert base.origin.location == "README.md" and base.origin.detail == "line 2"


def test_card_without_front_matter_is_a_finding_not_a_failure(tmp_path: Path) -> None:
    model = tmp_path / "r1"
    model.mkdir()
    (model / "README.md").write_bytes((CARDS / "deepseek-ai__DeepSeek-R1.README.github.md").read_bytes())
    report = scan(str(model))
    assert {"card.no-metadata", "license.undeclared"} <= {f.rule_id for f in report.findings}
    assert report.card_body is not None and "DeepSeek-R1-Distill-Llama-70B" in report.card_body


def test_local_model_folder_with_weights_and_license(tmp_path: Path) -> None:
    model = tmp_path / "tiny"
    model.mkdir()
    (model / "config.json").write_text(json.dumps(llama_config(1)))
    (model / "model.safetensors").write_bytes(tensors_file({"model.embed_tokens.weight": (16, 8)}))
    (model / "LICENSE").write_text("MIT License\n\nCopyright (c) 2025 Acme\n")
    report = scan(str(model))
    files = {f.entry.path: f for f in report.files}
    assert files["model.safetensors"].status == "header read"
    assert files["model.safetensors"].summary["tensor_layout"] == [
        ["model.embed_tokens.weight", "F16", [16, 8]]
    ]
    assert report.first("config.model_type") == "llama"
    lic = report.facts_of("license_file.LICENSE") or report.facts_of("license_file.license")
    assert lic and lic[0].value["first_line"] == "MIT License"


def test_truncated_gguf_is_read_to_its_last_whole_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kv = {"general.architecture": "qwen2", "general.name": "Tiny Qwen", "qwen2.block_count": 2}
    whole = gguf_file(kv, {"token_embd.weight": np.ones((4, 8), dtype=np.float32)})
    path = tmp_path / "tiny.Q4_K_M.gguf"
    path.write_bytes(whole[: len(whole) - 3])
    code, doc = scan_json(capsys, path)
    assert code == 0
    (entry,) = doc["files"]
    assert entry["summary"]["truncated"] is True
    assert "truncated" in entry["status"]
    rules = {f["rule_id"] for f in doc["findings"]}
    assert {"gguf.truncated", "gguf.no-license"} <= rules
    assert any(f["kind"] == "gguf.general.architecture" and f["value"] == "qwen2" for f in doc["facts"])


def test_lfs_pointer_in_place_of_weights(tmp_path: Path) -> None:
    model = tmp_path / "pointer"
    model.mkdir()
    oid = hashlib.sha256(b"real weights").hexdigest()
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 4938985248\n"
    (model / "model-00001-of-00002.safetensors").write_text(pointer)
    report = scan(str(model))
    (entry,) = report.files
    assert entry.entry.lfs_pointer and entry.entry.lfs_sha256 == oid and entry.entry.size == 4938985248
    finding = next(f for f in report.findings if f.rule_id == "file.lfs-pointer")
    assert "weights not present" in finding.message and oid in finding.message


def test_safetensors_that_is_a_zip_is_sniffed(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/version", "3\n")
    path = tmp_path / "model.safetensors"
    path.write_bytes(buffer.getvalue())
    report = scan(str(path))
    assert any(f.rule_id.endswith("mismatch") for f in report.findings), report.findings
    assert report.files[0].detected == "zip"


@pytest.mark.parametrize("name", ["empty.safetensors", "empty.gguf", "empty.bin", "README.md"])
def test_zero_byte_single_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    code = main(["scan", str(path)])
    _out, err = capsys.readouterr()
    assert code == 3
    assert err.startswith(f"provenance: error: {name}: empty file") or "empty file" in err


def test_malformed_single_file_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes((2**64 - 1).to_bytes(8, "little") + b"{}")
    code = main(["scan", str(path)])
    _out, err = capsys.readouterr()
    assert code == 3
    assert "model.safetensors" in err and "Traceback" not in err


def test_malformed_file_in_a_folder_is_a_high_finding(tmp_path: Path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "config.json").write_text("[1, 2]")
    report = scan(str(model))
    bad = [f for f in report.findings if f.rule_id == "file.malformed"]
    assert bad and bad[0].location == "config.json"
    assert issubclass(MalformedFileError, ValueError)


def test_local_path_wins_over_hub_id(hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "acme" / "tiny-llm"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# a local folder named like a Hub repo\n")
    monkeypatch.chdir(tmp_path)
    report = scan("acme/tiny-llm")
    assert report.target.kind == "local-dir"
    assert any("local path wins" in note for note in report.target.notes)
    assert report.first("card.license") == "mit"
    assert hub.log.count() == 0
