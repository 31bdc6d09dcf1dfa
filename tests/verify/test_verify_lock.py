"""`provenance lock`, `verify --lock` and `provenance diff`, with lineage resolved through the Hub emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from verify_support import random_tensors, sha256, write_safetensors

from provenance.cli import main
from provenance.verify.check_files import verify_local
from provenance.verify.diff import diff_locks
from provenance.verify.lock import parse_lock


@pytest.fixture
def finetune(tmp_path: Path) -> Path:
    folder = tmp_path / "my-finetune"
    folder.mkdir()
    card = (
        "---\nlicense: apache-2.0\nbase_model: acme/tiny-base\nbase_model_relation: finetune\n---\n# mine\n"
    )
    (folder / "README.md").write_text(card)
    (folder / "config.json").write_text('{"model_type": "llama", "architectures": ["LlamaForCausalLM"]}\n')
    tensors = random_tensors(4)
    names = list(tensors)
    write_safetensors(folder / "model-00001-of-00002.safetensors", tensors, order=names[:2])
    write_safetensors(folder / "model-00002-of-00002.safetensors", tensors, order=names[2:])
    return folder


def _lock(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_lock_pins_root_hashes_tensor_digest_and_the_parents_published_files(
    hub, capsys, tmp_path: Path, finetune: Path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "provenance.lock"
    assert main(["lock", str(finetune), "-o", str(out)]) == 0
    doc = _lock(out)
    nodes = {n["id"]: n for n in doc["nodes"]}
    root = nodes[doc["root"]]
    assert root["files_origin"] == "computed"
    files = {f["path"]: f for f in root["files"]}
    shard = finetune / "model-00001-of-00002.safetensors"
    assert files[shard.name]["sha256"] == sha256(shard.read_bytes())
    assert root["tensor_digest"].startswith("tdv1:")
    assert root["licenses"] == ["apache-2.0"]
    base = nodes["acme/tiny-base"]
    assert base["revision"] == hub.repo("acme/tiny-base").sha
    assert base["files_origin"] == "published" and base["tensor_digest"] is None
    blob = hub.repo("acme/tiny-base").commits[hub.repo("acme/tiny-base").sha].files["model.safetensors"]
    assert {f["path"]: f["sha256"] for f in base["files"]}["model.safetensors"] == blob.sha256
    assert {(e["child"], e["parent"], e["relation"]) for e in doc["edges"]} == {
        (doc["root"], "acme/tiny-base", "finetune")
    }
    again = tmp_path / "again.lock"
    assert main(["lock", str(finetune), "-o", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes(), "a lock must be reproducible byte for byte"


def test_verify_lock_checks_files_and_tensor_digest(capsys, tmp_path: Path, finetune: Path) -> None:  # type: ignore[no-untyped-def]
    lock = finetune / "provenance.lock"
    assert main(["lock", str(finetune), "--no-lineage", "-o", str(lock)]) == 0
    assert all(f["path"] != "provenance.lock" for f in _lock(lock)["nodes"][0]["files"])
    capsys.readouterr()
    assert main(["verify", str(finetune), "--lock", str(lock), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["tensor_digest"]["verdict"] == "match"
    shard = finetune / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0x80
    shard.write_bytes(bytes(data))
    assert main(["verify", str(finetune), "--lock", str(lock), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["tensor_digest"]["verdict"] == "mismatch"
    assert {f["path"]: f["verdict"] for f in doc["files"]}[shard.name] == "mismatch"


def test_resharding_keeps_the_tensor_digest_but_not_the_file_digests(
    capsys, tmp_path: Path, finetune: Path
) -> None:  # type: ignore[no-untyped-def]
    lock = tmp_path / "a.lock"
    assert main(["lock", str(finetune), "--no-lineage", "-o", str(lock)]) == 0
    tensors = random_tensors(4)
    resharded = tmp_path / "resharded"
    resharded.mkdir()
    write_safetensors(resharded / "model.safetensors", tensors, order=list(tensors)[::-1])
    assert (
        verify_local(resharded, None, tensors=True).tensor_digest.digest
        == _lock(lock)["nodes"][0]["tensor_digest"]
    )  # type: ignore[union-attr]
    capsys.readouterr()
    assert main(["verify", str(resharded), "--lock", str(lock), "--format", "json", "--allow-extra"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["tensor_digest"]["verdict"] == "match"
    assert doc["summary"]["missing"] == 4 and doc["summary"]["extra"] == 1


def test_diff_two_revisions_reports_file_drift(hub, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["diff", "acme/tiny-llm@v1.0", "acme/tiny-llm", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["drifted"]
    messages = {c["message"] for c in doc["changes"]}
    assert "README.md: content changed" in messages
    assert "generation_config.json: added" in messages
    assert any(c["kind"] == "revision" for c in doc["changes"])
    assert main(["diff", "acme/tiny-llm", "acme/tiny-llm"]) == 0
    assert "no drift" in capsys.readouterr().out


def test_diff_lock_files_reports_license_and_lineage_drift(
    hub, capsys, tmp_path: Path, finetune: Path
) -> None:  # type: ignore[no-untyped-def]
    old = tmp_path / "old.lock"
    assert main(["lock", str(finetune), "-o", str(old)]) == 0
    (finetune / "README.md").write_text(
        "---\nlicense: mit\nbase_model: acme/tiny-llm\nbase_model_relation: adapter\n---\n"
    )
    new = tmp_path / "new.lock"
    assert main(["lock", str(finetune), "-o", str(new)]) == 0
    capsys.readouterr()
    assert main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "[license]" in out and "apache-2.0 -> mit" in out
    assert "[lineage]" in out and "acme/tiny-llm" in out
    assert "README.md: content changed" in out
    result = diff_locks(parse_lock(_lock(old), "old"), parse_lock(_lock(old), "old"))
    assert not result.drifted


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{", "not valid JSON"),
        ('{"$schema": "https://provenance.invalid/schemas/lock/1", "lock_version": 9}', "lock_version"),
        (
            '{"$schema": "https://provenance.invalid/schemas/lock/1", "lock_version": 1, "target": {}, "root": "x", "nodes": [], "edges": []}',
            "root",
        ),
    ],
    ids=["json", "version", "root"],
)
def test_malformed_lock_is_exit_3_naming_the_file(
    capsys, tmp_path: Path, finetune: Path, content: str, problem: str
) -> None:  # type: ignore[no-untyped-def]
    lock = tmp_path / "bad.lock"
    lock.write_text(content)
    assert main(["verify", str(finetune), "--lock", str(lock)]) == 3
    err = capsys.readouterr().err
    assert "bad.lock" in err and problem in err and "Traceback" not in err


def _node(files: list[dict[str, Any]], tensor_digest: str | None, licenses: list[str]) -> dict[str, Any]:
    return {
        "id": "m",
        "revision": None,
        "source": "local-dir",
        "licenses": licenses,
        "files_origin": "computed",
        "files": files,
        "tensor_digest": tensor_digest,
    }


def _doc(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://provenance.invalid/schemas/lock/1",
        "lock_version": 1,
        "target": {},
        "root": "m",
        "nodes": [node],
        "edges": [],
    }


def test_diff_reports_tensor_digest_drift_and_notes_incomparable_digests() -> None:
    a = {"path": "model.safetensors", "size": 10, "sha256": "a" * 64, "git_sha1": None}
    readme_sha = {"path": "README.md", "size": 5, "sha256": "c" * 64, "git_sha1": None}
    readme_git = {"path": "README.md", "size": 5, "sha256": None, "git_sha1": "d" * 40}
    old = parse_lock(_doc(_node([a, readme_sha], "tdv1:" + "1" * 64, ["mit"])), "old.lock")
    new = parse_lock(
        _doc(_node([dict(a, sha256="b" * 64), readme_git], "tdv1:" + "2" * 64, ["mit"])), "new.lock"
    )
    result = diff_locks(old, new)
    kinds = sorted(c.kind for c in result.changes)
    assert kinds == ["file", "tensor-digest"]
    assert any("README.md: digests not comparable" in note for note in result.notes)
