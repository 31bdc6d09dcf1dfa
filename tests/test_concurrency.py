"""Concurrent runs (reliability checklist, "Concurrency and interrupts"): two processes writing the same report,
and two scans sharing one Hugging Face cache. Real processes, the real CLI, the Hub emulator."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "provenance.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _model_folder(root: Path) -> Path:
    folder = root / "model"
    folder.mkdir()
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# m\n", encoding="utf-8")
    (folder / "config.json").write_text(
        json.dumps({"model_type": "llama", "hidden_size": 8}), encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_two_scans_writing_the_same_output_leave_one_whole_report(tmp_path: Path, fmt: str) -> None:
    folder = _model_folder(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / f"report.{fmt}"
    argv = ("scan", str(folder), "--no-lineage", "--format", fmt, "-o", str(out))
    for _round in range(2):
        procs = [_cli(*argv) for _ in range(4)]
        for proc in procs:
            _stdout, stderr = proc.communicate(timeout=60)
            assert proc.returncode == 0, stderr
        # one complete report, never interleaved, and no temporary file left next to it
        assert [p.name for p in out_dir.iterdir()] == [out.name]
        text = out.read_text(encoding="utf-8")
        if fmt == "json":
            assert json.loads(text)["target"]["root"] == str(folder)
        else:
            assert text.count("mit") >= 1
            assert text.endswith("\n")
    single = _cli(*argv[:-2], "-o", "-")
    stdout, _ = single.communicate(timeout=60)
    assert out.read_text(encoding="utf-8") == stdout


def test_two_scans_sharing_one_hf_cache(hub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "HF_HOME": str(tmp_path / "hf-home")}
    argv = ("scan", "acme/tiny-llm", "--no-lineage", "--format", "json")
    procs = [_cli(*argv, "-o", str(tmp_path / f"r{i}.json"), env=env) for i in range(3)]
    for proc in procs:
        _stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
    reports = [json.loads((tmp_path / f"r{i}.json").read_text(encoding="utf-8")) for i in range(3)]
    assert reports[0]["files"] == reports[1]["files"] == reports[2]["files"]
    # the shared cache is intact: every blob's content hashes to its name (sha256 for LFS, sha1 for git blobs)
    blobs = list((tmp_path / "hf-home" / "hub").glob("models--acme--tiny-llm/blobs/*"))
    assert blobs
    assert not [b for b in blobs if b.name.endswith(".incomplete")]
    for blob in blobs:
        data = blob.read_bytes()
        if len(blob.name) == 64:
            assert hashlib.sha256(data).hexdigest() == blob.name
        else:
            header = f"blob {len(data)}\0".encode()
            assert hashlib.sha1(header + data).hexdigest() == blob.name
    # and an offline scan afterwards reads the same facts from it
    offline = _cli(*argv, env={**env, "HF_HUB_OFFLINE": "1"})
    stdout, stderr = offline.communicate(timeout=60)
    assert offline.returncode == 0, stderr
    assert json.loads(stdout)["target"]["kind"] in {"hf-cache", "hub"}
