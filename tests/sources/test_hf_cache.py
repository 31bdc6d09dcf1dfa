"""The HF cache read by hand: published hashes from trees/, damage reported, nothing outside read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from provenance.errors import InputError
from provenance.sources.hf_cache import CacheCorruptedError, HFCacheSource, repo_id_from_folder

COMMIT = "a" * 40


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def make_cache(tmp_path: Path, weights: bytes = b"W" * 64) -> Path:
    repo = tmp_path / "hub" / "models--acme--tiny"
    blobs, snap = repo / "blobs", repo / "snapshots" / COMMIT
    blobs.mkdir(parents=True)
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(COMMIT)
    config = b'{"model_type": "llama"}'
    files = {
        "config.json": (git_sha1(config), config),
        "model.safetensors": (hashlib.sha256(weights).hexdigest(), weights),
    }
    for name, (blob, data) in files.items():
        (blobs / blob).write_bytes(data)
        (snap / name).symlink_to(Path("../../blobs") / blob)
    tree = {
        "format_version": 1,
        "files": {
            "config.json": {"size": len(config), "blob_id": files["config.json"][0]},
            "model.safetensors": {
                "size": len(weights),
                "blob_id": "f" * 40,
                "lfs_sha256": files["model.safetensors"][0],
            },
            "README.md": {"size": 10, "blob_id": "e" * 40},
        },
    }
    (repo / "trees").mkdir()
    (repo / "trees" / f"{COMMIT}.json").write_text(json.dumps(tree))
    return repo


def test_reads_snapshot_and_published_hashes(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    src = HFCacheSource(repo, "acme/tiny", None, "acme/tiny")
    files = {f.path: f for f in src.files()}
    assert src.info.commit == COMMIT
    assert files["model.safetensors"].lfs_sha256 == hashlib.sha256(b"W" * 64).hexdigest()
    assert files["config.json"].git_blob_id == git_sha1(b'{"model_type": "llama"}')
    assert files["README.md"].present is False  # listed in trees/ but not downloaded
    assert src.read("config.json", 1000) == b'{"model_type": "llama"}'
    assert any("not re-verified" in n for n in src.info.notes)
    assert src.findings() == []


def test_broken_symlink_is_reported_not_dropped(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    (repo / "snapshots" / COMMIT / "gone.bin").symlink_to("../../blobs/" + "0" * 64)
    src = HFCacheSource(repo, "acme/tiny", None, "acme/tiny")
    assert {"config.json", "model.safetensors"} <= {f.path for f in src.files()}
    assert any(f.rule_id == "cache.broken-symlink" and f.location == "gone.bin" for f in src.findings())


def test_link_out_of_cache_is_never_read(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    secret = tmp_path / "secret"
    secret.write_text("do not read")
    (repo / "snapshots" / COMMIT / "LICENSE").symlink_to(secret)
    src = HFCacheSource(repo, "acme/tiny", None, "acme/tiny")
    assert any(f.rule_id == "cache.link-outside" for f in src.findings())
    with pytest.raises(InputError):
        src.read("LICENSE", 100)


@pytest.mark.parametrize("ref", ["../x", "garbage-not-a-commit", ""])
def test_bad_refs_are_a_corruption_error(tmp_path: Path, ref: str) -> None:
    repo = make_cache(tmp_path)
    (repo / "refs" / "main").write_text(ref)
    with pytest.raises(CacheCorruptedError, match="refs/main"):
        HFCacheSource(repo, "acme/tiny", None, "acme/tiny")


def test_ref_path_escaping_refs_folder(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    with pytest.raises(CacheCorruptedError, match="leaves"):
        HFCacheSource(repo, "acme/tiny", "../../x", "acme/tiny")


def test_blob_whose_hash_differs_from_its_name(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    blob = repo / "blobs" / hashlib.sha256(b"W" * 64).hexdigest()
    blob.write_bytes(b"X" * 64)  # same size, other bytes: what hf_hub_download would not notice
    src = HFCacheSource(repo, "acme/tiny", None, "acme/tiny")
    integrity = [f for f in src.findings() if f.rule_id == "cache.blob-integrity"]
    assert integrity and integrity[0].location == "model.safetensors"


def test_incomplete_blobs_are_ignored_with_a_note(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    (repo / "blobs" / ("1" * 64 + ".incomplete")).write_bytes(b"partial")
    src = HFCacheSource(repo, "acme/tiny", None, "acme/tiny")
    assert any(f.rule_id == "cache.incomplete" for f in src.findings())
    assert all(not f.path.endswith(".incomplete") for f in src.files())


def test_unsafe_tree_paths_rejected(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    tree = repo / "trees" / f"{COMMIT}.json"
    doc = json.loads(tree.read_text())
    doc["files"]["../../etc/passwd"] = {"size": 1, "blob_id": "d" * 40}
    tree.write_text(json.dumps(doc))
    src = HFCacheSource(repo, "acme/tiny", None, "acme/tiny")
    assert "../../etc/passwd" not in {f.path for f in src.files()}
    assert any(f.rule_id == "cache.unsafe-path" for f in src.findings())


def test_missing_revision(tmp_path: Path) -> None:
    repo = make_cache(tmp_path)
    with pytest.raises(InputError, match="'v9' is not in the cache"):
        HFCacheSource(repo, "acme/tiny", "v9", "acme/tiny@v9")


def test_repo_id_from_folder() -> None:
    assert repo_id_from_folder(Path("models--deepseek-ai--DeepSeek-R1")) == "deepseek-ai/DeepSeek-R1"
    assert repo_id_from_folder(Path("datasets--a--b")) is None


def test_missing_license_is_judged_by_what_the_cache_can_know(tmp_path: Path) -> None:
    """With trees/ the cache lists the whole repo, so no LICENSE means none was published; without it only the
    downloaded files are known, and the finding says so instead of claiming the repo has none."""
    from provenance.scan import scan_source  # noqa: PLC0415

    repo = make_cache(tmp_path)
    listed = scan_source(HFCacheSource(repo, "acme/tiny", None, "acme/tiny"))
    (finding,) = [f for f in listed.findings if f.rule_id == "license.file-missing"]
    assert str(finding.severity) == "low" and "not shipped" in finding.message
    for tree in (repo / "trees").iterdir():
        tree.unlink()
    downloaded_only = scan_source(HFCacheSource(repo, "acme/tiny", None, "acme/tiny"))
    (finding,) = [f for f in downloaded_only.findings if f.rule_id == "license.file-missing"]
    assert str(finding.severity) == "info" and "among the downloaded files" in finding.message
