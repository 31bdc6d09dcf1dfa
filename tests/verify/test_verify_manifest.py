"""`verify --manifest`: OpenSSF model-signing bundles (files and shards), DSSE envelopes, in-toto statements."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from verify_support import random_tensors, sha256, write_safetensors

from provenance.cli import main
from provenance.errors import MalformedFileError
from provenance.verify.manifest import SIGNATURE_NOT_CHECKED, parse_expectation

SHARD = 1000


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    write_safetensors(folder / "model.safetensors", random_tensors(4))
    (folder / "config.json").write_text('{"model_type": "llama"}\n')
    return folder


def _statement(folder: Path, method: str) -> dict[str, Any]:
    resources = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        data = path.read_bytes()
        if method == "files":
            resources.append({"name": path.name, "algorithm": "sha256", "digest": sha256(data)})
            continue
        for start in range(0, max(len(data), 1), SHARD):
            end = min(start + SHARD, len(data))
            resources.append(
                {
                    "name": f"{path.name}:{start}:{end}",
                    "algorithm": f"sha256-sharded-{SHARD}",
                    "digest": sha256(data[start:end]),
                }
            )
    serialization = {
        "method": method,
        "hash_type": "sha256",
        "allow_symlinks": False,
        "ignore_paths": [".git"],
    }
    if method == "shards":
        serialization["shard_size"] = SHARD
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": folder.name, "digest": {"sha256": "0" * 64}}],
        "predicateType": "https://model_signing/signature/v1.0",
        "predicate": {"serialization": serialization, "resources": resources},
    }


def _bundle(statement: dict[str, Any]) -> dict[str, Any]:
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    return {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "test"}},
        "dsseEnvelope": {
            "payload": payload,
            "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": base64.b64encode(b"not checked").decode()}],
        },
    }


def _run(capsys: pytest.CaptureFixture[str], folder: Path, manifest: Path) -> tuple[int, dict[str, Any]]:
    code = main(["verify", str(folder), "--manifest", str(manifest), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("method", ["files", "shards"])
def test_model_signing_bundle_inside_the_model_folder(capsys, model: Path, method: str) -> None:  # type: ignore[no-untyped-def]
    bundle = _bundle(_statement(model, method))
    sig = model / "model.sig"
    sig.write_text(json.dumps(bundle))
    code, doc = _run(capsys, model, sig)
    assert code == 0, doc["files"]
    assert {f["path"] for f in doc["files"]} == {"model.safetensors", "config.json"}
    assert doc["against"]["kind"] == "model-signing"
    assert SIGNATURE_NOT_CHECKED in doc["against"]["notes"]
    weights = model / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[1500] ^= 0x10
    weights.write_bytes(bytes(data))
    code, doc = _run(capsys, model, sig)
    verdict = next(f for f in doc["files"] if f["path"] == "model.safetensors")
    assert code == 1 and verdict["verdict"] == "mismatch"
    if method == "shards":
        assert verdict["reason"] == f"bytes {SHARD}-{2 * SHARD} differ"
        assert verdict["actual"] == sha256(bytes(data[SHARD : 2 * SHARD]))


def test_bare_in_toto_statement_and_dsse_envelope(capsys, tmp_path: Path, model: Path) -> None:  # type: ignore[no-untyped-def]
    subjects = [
        {"name": p.name, "digest": {"sha256": sha256(p.read_bytes())}} for p in sorted(model.iterdir())
    ]
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "x",
        "predicate": {},
    }
    bare = tmp_path / "statement.json"
    bare.write_text(json.dumps(statement))
    code, doc = _run(capsys, model, bare)
    assert code == 0 and doc["against"]["kind"] == "in-toto"
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
    }
    dsse = tmp_path / "envelope.json"
    dsse.write_text(json.dumps(envelope))
    (model / "config.json").write_text("{}\n")
    code, doc = _run(capsys, model, dsse)
    assert code == 1 and SIGNATURE_NOT_CHECKED in doc["against"]["notes"]


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"dsseEnvelope": {"payload": "%%%"}}', "base64"),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "../etc/passwd", "digest": {}}]}',
            "unsafe file name",
        ),
        (
            b'{"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://model_signing/signature/v1.0", "predicate": {"serialization": {"method": "files", "hash_type": "blake3"}, "resources": []}}',
            "blake3",
        ),
        (b'{"hello": 1}', "not a format we know"),
        (b"[]", "not a JSON object"),
    ],
    ids=["json", "base64", "unsafe-path", "hash-type", "unknown", "array"],
)
def test_malformed_manifests_name_the_file(document: bytes, problem: str) -> None:
    with pytest.raises(MalformedFileError) as caught:
        parse_expectation(document, "m.sig")
    assert caught.value.target.startswith("m.sig") and problem in caught.value.problem


def test_malformed_manifest_exits_3_without_output(capsys, tmp_path: Path, model: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.sig"
    bad.write_text("{")
    out = tmp_path / "out.json"
    assert main(["verify", str(model), "--manifest", str(bad), "-o", str(out)]) == 3
    assert "bad.sig" in capsys.readouterr().err and not out.exists()
