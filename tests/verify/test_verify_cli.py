"""`provenance verify` against the Hub emulator: every verdict names its file, exit codes as documented."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import snapshot_download
from verify_support import git_sha1, random_tensors, safetensors_bytes, sha256

from provenance.cli import main

REPO = "acme/verify-me"


def _files() -> dict[str, bytes]:
    tensors = random_tensors(6, seed=3)
    names = list(tensors)
    return {
        "README.md": b"---\nlicense: apache-2.0\n---\n# verify-me\n",
        "config.json": b'{"model_type": "llama", "hidden_size": 8}\n',
        "model-00001-of-00002.safetensors": safetensors_bytes({n: tensors[n] for n in names[:3]}),
        "model-00002-of-00002.safetensors": safetensors_bytes({n: tensors[n] for n in names[3:]}),
    }


@pytest.fixture
def published(hub) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    files = _files()
    hub.add_repo(REPO, files)
    return files


@pytest.fixture
def local(tmp_path: Path, published: dict[str, bytes]) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    for name, data in published.items():
        (folder / name).write_bytes(data)
    return folder


def _verify(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["verify", *argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def _by_path(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in doc["files"]}


def test_clean_copy_matches_every_published_digest(capsys, local: Path, published: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    code, doc = _verify(capsys, str(local), "--against", REPO)
    assert code == 0
    files = _by_path(doc)
    assert set(files) == set(published)
    assert {f["verdict"] for f in files.values()} == {"match"}
    shard = files["model-00001-of-00002.safetensors"]
    assert shard["algorithm"] == "sha256" and shard["actual"] == sha256(published[shard["path"]])
    config = files["config.json"]
    assert config["algorithm"] == "git-sha1" and config["actual"] == git_sha1(published["config.json"])
    assert doc["against"]["kind"] == "hub"


def test_flipped_byte_is_a_mismatch_with_expected_and_actual(
    capsys, local: Path, published: dict[str, bytes]
) -> None:  # type: ignore[no-untyped-def]
    shard = local / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[-5] ^= 0x01
    shard.write_bytes(bytes(data))
    code, doc = _verify(capsys, str(local), "--against", REPO)
    assert code == 1
    verdict = _by_path(doc)[shard.name]
    assert verdict["verdict"] == "mismatch"
    assert verdict["expected"] == sha256(published[shard.name])
    assert verdict["actual"] == sha256(bytes(data))
    assert doc["summary"]["mismatch"] == 1 and doc["summary"]["match"] == 3


def test_changed_small_file_is_a_git_sha1_mismatch(capsys, local: Path, published: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    (local / "config.json").write_bytes(published["config.json"].replace(b"8", b"9"))
    code, doc = _verify(capsys, str(local), "--against", REPO)
    verdict = _by_path(doc)["config.json"]
    assert code == 1 and verdict["verdict"] == "mismatch" and verdict["algorithm"] == "git-sha1"
    assert verdict["expected"] == git_sha1(published["config.json"])


def test_missing_shard_and_extra_file_are_named(capsys, local: Path) -> None:  # type: ignore[no-untyped-def]
    (local / "model-00001-of-00002.safetensors").unlink()
    (local / "notes.txt").write_text("added later\n")
    code, doc = _verify(capsys, str(local), "--against", REPO)
    files = _by_path(doc)
    assert code == 1
    assert files["model-00001-of-00002.safetensors"]["verdict"] == "missing"
    assert files["notes.txt"]["verdict"] == "extra"
    assert files["notes.txt"]["actual"] == sha256(b"added later\n")


def test_extra_file_passes_with_allow_extra_but_is_still_reported(capsys, local: Path) -> None:  # type: ignore[no-untyped-def]
    (local / "notes.txt").write_text("x\n")
    code, doc = _verify(capsys, str(local), "--against", REPO, "--allow-extra")
    assert code == 0 and _by_path(doc)["notes.txt"]["verdict"] == "extra"


def test_renamed_shard_is_recognised_by_content(capsys, local: Path, published: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    (local / "model-00002-of-00002.safetensors").rename(local / "shard-2.safetensors")
    (local / "README.md").rename(local / "README.txt")
    code, doc = _verify(capsys, str(local), "--against", REPO)
    files = _by_path(doc)
    assert code == 1
    shard = files["shard-2.safetensors"]
    assert shard["verdict"] == "renamed" and shard["expected_path"] == "model-00002-of-00002.safetensors"
    assert shard["actual"] == sha256(published["model-00002-of-00002.safetensors"])
    readme = files["README.txt"]
    assert readme["verdict"] == "renamed" and readme["expected_path"] == "README.md"
    assert readme["algorithm"] == "git-sha1"
    assert "model-00002-of-00002.safetensors" not in files and "README.md" not in files


def test_lfs_pointer_in_place_of_weights_is_unverifiable_with_the_reason(
    capsys, local: Path, published: dict[str, bytes]
) -> None:  # type: ignore[no-untyped-def]
    name = "model-00001-of-00002.safetensors"
    data = published[name]
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256(data)}\nsize {len(data)}\n"
    (local / name).write_text(pointer)
    code, doc = _verify(capsys, str(local), "--against", REPO)
    verdict = _by_path(doc)[name]
    assert code == 1
    assert verdict["verdict"] == "unverifiable"
    assert "LFS pointer" in verdict["reason"] and "points at the published file" in verdict["reason"]
    code, _ = _verify(capsys, str(local), "--against", REPO, "--allow-unverifiable")
    assert code == 0


def test_text_output_names_each_file_and_verdict(capsys, local: Path) -> None:  # type: ignore[no-untyped-def]
    (local / "config.json").write_text("{}")
    code = main(["verify", str(local), "--against", REPO])
    out = capsys.readouterr().out
    assert code == 1
    assert "MISMATCH     config.json" in out and "expected git-sha1" in out
    assert f"against {REPO}@" in out


def test_revision_pins_the_expected_digests(capsys, hub, local: Path, published: dict[str, bytes]) -> None:  # type: ignore[no-untyped-def]
    old = hub.repo(REPO).sha
    hub.repo(REPO).commit({"config.json": b'{"model_type": "llama", "hidden_size": 16}\n'})
    code, doc = _verify(capsys, str(local), "--against", f"{REPO}@{old}")
    assert code == 0, doc["summary"]
    code, doc = _verify(capsys, str(local), "--against", REPO)
    assert code == 1 and _by_path(doc)["config.json"]["verdict"] == "mismatch"


def test_offline_against_uses_the_hf_cache_tree_listing(
    capsys, monkeypatch, tmp_path: Path, local: Path
) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    snapshot_download(REPO, cache_dir=str(cache))
    assert list((cache / "models--acme--verify-me" / "trees").glob("*.json"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, doc = _verify(capsys, str(local), "--against", REPO, "--cache-dir", str(cache))
    assert code == 0 and doc["against"]["kind"] == "hf-cache"
    (local / "config.json").write_text("{}")
    code, doc = _verify(capsys, str(local), "--against", REPO, "--cache-dir", str(cache))
    assert code == 1 and _by_path(doc)["config.json"]["verdict"] == "mismatch"


def test_a_cache_folder_is_checked_against_its_own_listing(
    capsys, tmp_path: Path, published: dict[str, bytes]
) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    snapshot_download(REPO, cache_dir=str(cache))
    folder = cache / "models--acme--verify-me"
    code, doc = _verify(capsys, str(folder))
    assert code == 0 and len(doc["files"]) == len(published)
    blob = folder / "blobs" / sha256(published["model-00001-of-00002.safetensors"])
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    os.chmod(blob, 0o644)
    blob.write_bytes(bytes(data))
    code, doc = _verify(capsys, str(folder))
    assert code == 1 and _by_path(doc)["model-00001-of-00002.safetensors"]["verdict"] == "mismatch"


def test_unknown_repo_is_a_hub_error_exit_4(capsys, local: Path) -> None:  # type: ignore[no-untyped-def]
    code = main(["verify", str(local), "--against", "acme/no-such-repo"])
    err = capsys.readouterr().err
    assert code == 4 and "acme/no-such-repo" in err


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["verify", "/no/such/dir", "--against", REPO], 3),
        (["verify", ".", "--against", "not a repo"], 2),
        (["verify", ".", "--against", REPO, "--lock", "x.lock"], 2),
        (["verify", ".", "--jobs", "0"], 2),
    ],
    ids=["no-target", "bad-repo-id", "two-expectations", "bad-jobs"],
)
def test_usage_and_input_errors(capsys, argv: list[str], code: int) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err and "error" in err


def test_output_file_is_written_atomically_and_not_inside_the_model(
    capsys, tmp_path: Path, local: Path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.json"
    assert main(["verify", str(local), "--against", REPO, "--format", "json", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["summary"]["match"] == 4
    assert main(["verify", str(local), "--against", REPO, "-o", str(local / "r.json")]) == 5
    assert not (local / "r.json").exists()
    shutil.rmtree(local)


def test_offline_knowledge_base_has_no_digests_so_files_are_unverifiable(
    capsys, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = tmp_path / "distill"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    code, doc = _verify(
        capsys,
        str(folder),
        "--against",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
        "--cache-dir",
        str(tmp_path / "empty"),
    )
    files = _by_path(doc)
    assert code == 1 and doc["against"]["kind"] == "knowledge-base"
    assert files["config.json"]["verdict"] == "mismatch" and "expected 673" in files["config.json"]["reason"]
    assert files["model.safetensors"]["verdict"] == "missing"
    (folder / "config.json").write_bytes(b"x" * 673)
    code, doc = _verify(
        capsys,
        str(folder),
        "--against",
        "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B",
        "--cache-dir",
        str(tmp_path / "empty"),
    )
    verdict = _by_path(doc)["config.json"]
    assert verdict["verdict"] == "unverifiable" and "no published digest" in verdict["reason"]
    assert verdict["actual"] == sha256(b"x" * 673)


@pytest.mark.parametrize("command", ["verify", "lock", "diff"])
def test_help_documents_exit_codes(capsys, command: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as caught:
        main([command, "--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out and "130" in out and "143" in out
