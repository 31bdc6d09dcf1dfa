"""The weight witness on tiny real safetensors files: a noisy copy vs an unrelated initialisation."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from lineage_support import report
from safetensors.numpy import save_file

from provenance.lineage import weights
from provenance.lineage.graph import build_graph

SHAPES = {f"model.layers.{i}.mlp.{p}.weight": (16, 64) for i in range(3) for p in ("up_proj", "down_proj")}


def _checkpoint(
    path: Path, seed: int, base: dict[str, np.ndarray] | None = None, dtype: str = "float32"
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    if base is None:
        tensors = {k: rng.standard_normal(s).astype(np.float32) for k, s in SHAPES.items()}
    else:
        tensors = {k: v + 0.01 * rng.standard_normal(v.shape).astype(np.float32) for k, v in base.items()}
    tensors["model.norm.weight"] = np.ones(64, dtype=np.float32)  # 1-D: never compared
    save_file({k: v.astype(dtype) for k, v in tensors.items()}, str(path))
    return tensors


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_derived_versus_unrelated(tmp_path: Path, dtype: str) -> None:
    base = _checkpoint(tmp_path / "base.safetensors", seed=1, dtype=dtype)
    _checkpoint(tmp_path / "tuned.safetensors", seed=2, base=base, dtype=dtype)
    _checkpoint(tmp_path / "other.safetensors", seed=3, dtype=dtype)
    tuned = weights.compare_checkpoints(tmp_path / "tuned.safetensors", tmp_path / "base.safetensors")
    other = weights.compare_checkpoints(tmp_path / "other.safetensors", tmp_path / "base.safetensors")
    assert tuned.verdict == "initialised from" and tuned.mean_cosine is not None and tuned.mean_cosine > 0.99
    assert tuned.tensors_compared == len(SHAPES) and tuned.rows_compared == 8 * len(SHAPES)
    assert other.verdict == "unrelated" and other.mean_cosine is not None and abs(other.mean_cosine) < 0.3
    assert tuned.identical_fraction == 0.0


def _bf16_file(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """A BF16 safetensors file written by hand (numpy has no bfloat16): the top half of each float32."""
    header: dict[str, object] = {}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        raw = (array.astype("<f4").view("<u4") >> 16).astype("<u2").tobytes()
        header[name] = {
            "dtype": "BF16",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(raw)],
        }
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def test_bf16_checkpoints(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    base = {k: rng.standard_normal(s).astype(np.float32) for k, s in SHAPES.items()}
    _bf16_file(tmp_path / "base.safetensors", base)
    _bf16_file(tmp_path / "same.safetensors", base)
    result = weights.compare_checkpoints(tmp_path / "same.safetensors", tmp_path / "base.safetensors")
    assert result.verdict == "initialised from" and result.identical_fraction == 1.0
    row = (base["model.layers.0.mlp.up_proj.weight"][3].view("<u4") >> 16).astype("<u2").tobytes()
    decoded = list(weights._decode(row, "BF16"))
    expected = ((base["model.layers.0.mlp.up_proj.weight"][3].view("<u4") >> 16) << 16).view("<f4")
    assert decoded == pytest.approx(expected.tolist())


def test_reads_are_bounded_to_sampled_row_slices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row longer than MAX_ROW_ELEMENTS is read as a slice; nothing reads a whole tensor."""
    wide = {
        "model.embed_tokens.weight": np.random.default_rng(0).standard_normal((64, 3000)).astype(np.float32)
    }
    save_file(wide, str(tmp_path / "a.safetensors"))
    save_file(wide, str(tmp_path / "b.safetensors"))
    monkeypatch.setattr(weights, "MAX_ROW_ELEMENTS", 1000)
    reads: list[int] = []
    original = weights._read

    def counting(file: object, offset: int, length: int) -> bytes:
        reads.append(length)
        return original(file, offset, length)  # type: ignore[arg-type]

    monkeypatch.setattr(weights, "_read", counting)
    result = weights.compare_checkpoints(tmp_path / "a.safetensors", tmp_path / "b.safetensors")
    assert result.verdict == "initialised from"
    assert reads and max(reads) == 1000 * 4 and len(reads) == 2 * weights.ROWS_PER_TENSOR


def test_verdict_feeds_the_graph(tmp_path: Path) -> None:
    base = _checkpoint(tmp_path / "base.safetensors", seed=1)
    _checkpoint(tmp_path / "tuned.safetensors", seed=2, base=base)
    result = weights.compare_checkpoints(tmp_path / "tuned.safetensors", tmp_path / "base.safetensors")
    claim = weights.as_witness(result, "acme/tiny-base")
    assert claim is not None
    root = report("acme/tiny-llm", {"card.base_model": "acme/tiny-base", "card.license": "apache-2.0"})
    graph = build_graph(root, lambda _id: None, known_models=[], extra=[claim])
    (edge,) = graph.edges
    assert {e.witness for e in edge.evidence} == {"card.base_model", "weights"}
    assert edge.confidence == pytest.approx(1 - 0.15 * 0.05, abs=1e-3)


def test_unrelated_weights_alone_make_no_edge(tmp_path: Path) -> None:
    _checkpoint(tmp_path / "a.safetensors", seed=1)
    _checkpoint(tmp_path / "b.safetensors", seed=2)
    claim = weights.as_witness(
        weights.compare_checkpoints(tmp_path / "a.safetensors", tmp_path / "b.safetensors"), "acme/b"
    )
    assert claim is not None and claim.evidence.weight < 0
    graph = build_graph(report("acme/a"), lambda _id: None, known_models=[], extra=[claim])
    assert graph.edges == ()
    assert [f.rule_id for f in graph.findings] == ["lineage.not-a-parent"]
