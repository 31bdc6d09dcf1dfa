"""The tensor digest: the spec's test vectors, re-sharding invariance, and sensitivity to one element."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from verify_support import Tensor, gguf_bytes, random_tensors, sha256, write_safetensors

from provenance.errors import InputError
from provenance.verify.check_files import verify_local
from provenance.verify.digest import Located, TensorRecord, merge_records, tensor_digest
from provenance.verify.hashes import HashTask, hash_file

DOC = Path(__file__).resolve().parents[2] / "docs" / "tensor-digest.md"


def _vectors() -> list[dict[str, object]]:
    match = re.search(r"```json tensor-digest-vectors\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "docs/tensor-digest.md lost its test-vector block"
    vectors = json.loads(match.group(1))
    assert len(vectors) >= 5
    return vectors


def _tensors(vector: dict[str, object]) -> dict[str, Tensor]:
    items = vector["tensors"]
    assert isinstance(items, list)
    return {t["name"]: (t["dtype"], tuple(t["shape"]), bytes.fromhex(t["data"])) for t in items}


@pytest.mark.parametrize("index", range(5))
def test_doc_vectors_from_records(index: int) -> None:
    vector = _vectors()[index]
    records = [TensorRecord(n, d, s, sha256(b)) for n, (d, s, b) in _tensors(vector).items()]
    assert tensor_digest(records) == vector["digest"], vector["title"]


@pytest.mark.parametrize("index", range(1, 5))
def test_doc_vectors_from_safetensors_files_one_and_several_shards(tmp_path: Path, index: int) -> None:
    vector = _vectors()[index]
    tensors = _tensors(vector)
    one = tmp_path / "one"
    one.mkdir()
    write_safetensors(one / "model.safetensors", tensors)
    split = tmp_path / "split"
    split.mkdir()
    names = list(tensors)[::-1]
    for i, name in enumerate(names):
        write_safetensors(split / f"part-{i}.safetensors", {name: tensors[name]})
    for folder in (one, split):
        report = verify_local(folder, None, tensors=True)
        assert report.tensor_digest is not None
        assert report.tensor_digest.digest == vector["digest"], (folder.name, vector["title"])


def test_resharded_identical_weights_have_equal_digests_and_one_element_changes_it(tmp_path: Path) -> None:
    tensors = random_tensors(8)
    names = list(tensors)
    a, b, c = (tmp_path / x for x in "abc")
    for folder in (a, b, c):
        folder.mkdir()
    write_safetensors(a / "model.safetensors", tensors, metadata={"format": "pt"})
    # three shards, another grouping, reversed order inside the files, other metadata and file names
    write_safetensors(b / "model-00001-of-00003.safetensors", tensors, order=names[5:][::-1])
    write_safetensors(b / "model-00002-of-00003.safetensors", tensors, order=names[:2])
    write_safetensors(b / "model-00003-of-00003.safetensors", tensors, order=names[2:5], metadata={"x": "y"})
    changed = dict(tensors)
    dtype, shape, data = changed[names[3]]
    array = np.frombuffer(data, dtype=np.float32).copy()
    array[7] += 1.0
    changed[names[3]] = (dtype, shape, array.tobytes())
    write_safetensors(c / "model.safetensors", changed)
    digests = {}
    for folder in (a, b, c):
        report = verify_local(folder, None, tensors=True)
        assert report.tensor_digest is not None and report.tensor_digest.tensors == len(tensors)
        digests[folder.name] = report.tensor_digest.digest
    assert digests["a"] == digests["b"]
    assert digests["c"] != digests["a"]
    file_digests = {d.path: d.digest("sha256") for d in verify_local(a, None).digests}
    assert file_digests["model.safetensors"] != sha256((b / "model-00001-of-00003.safetensors").read_bytes())


def test_dtype_shape_and_name_each_change_the_digest() -> None:
    base = TensorRecord("w", "F32", (2, 2), "0" * 64)
    variants = [
        TensorRecord("w", "I32", (2, 2), "0" * 64),
        TensorRecord("w", "F32", (4,), "0" * 64),
        TensorRecord("v", "F32", (2, 2), "0" * 64),
    ]
    digests = {tensor_digest([base])} | {tensor_digest([v]) for v in variants}
    assert len(digests) == 4


def test_conflicting_duplicate_names_name_both_files_and_identical_duplicates_count_once() -> None:
    one = TensorRecord("w", "F32", (1,), "a" * 64)
    same = merge_records([Located(one, "x.safetensors"), Located(one, "y.safetensors")])
    assert same == (one,)
    other = TensorRecord("w", "F32", (1,), "b" * 64)
    with pytest.raises(InputError) as caught:
        merge_records([Located(one, "x.safetensors"), Located(other, "y.safetensors")])
    assert caught.value.target == "y.safetensors" and "x.safetensors" in caught.value.problem


def test_gguf_tensors_use_ggml_names_reversed_dims_and_skip_padding(tmp_path: Path) -> None:
    f32 = np.arange(6, dtype=np.float32).tobytes()
    path = tmp_path / "m.gguf"
    path.write_bytes(gguf_bytes({"tok.weight": (0, (3, 2), f32), "norm": (1, (3,), b"\x01\x02" * 3)}))
    result = hash_file(HashTask("m.gguf", str(path), tensors=True))
    assert result.tensor_format == "gguf"
    assert result.tensors is not None
    by_name = {t.name: t for t in result.tensors}
    assert by_name["tok.weight"] == TensorRecord("tok.weight", "F32", (2, 3), sha256(f32))
    assert by_name["norm"] == TensorRecord("norm", "F16", (3,), sha256(b"\x01\x02" * 3))
    # the same F32 tensor stored in safetensors (numpy order) gives the same record
    st = tmp_path / "st"
    st.mkdir()
    write_safetensors(st / "m.safetensors", {"tok.weight": ("F32", (2, 3), f32)})
    (record,) = hash_file(HashTask("m", str(st / "m.safetensors"), tensors=True)).tensors or ()
    assert record == by_name["tok.weight"]


def test_truncated_weight_file_has_no_tensor_digest_and_says_which(tmp_path: Path) -> None:
    tensors = random_tensors(2)
    good = tmp_path / "a.safetensors"
    write_safetensors(good, tensors)
    data = good.read_bytes()
    (tmp_path / "b.safetensors").write_bytes(data[:-10])
    report = verify_local(tmp_path, None, tensors=True)
    assert report.tensor_digest is not None
    assert report.tensor_digest.digest is None
    assert "b.safetensors" in report.tensor_digest.problem and "truncated" in report.tensor_digest.problem
