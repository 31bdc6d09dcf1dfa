"""The hashing engine: exact digests, one pass for everything, safe reads, cancellation and worker errors."""

from __future__ import annotations

import os
import pickle
import threading
import time
from pathlib import Path

import pytest
from huggingface_hub.utils.sha import git_hash
from verify_support import git_sha1, random_tensors, sha256, write_safetensors

from provenance.errors import InputError
from provenance.verify.hashes import ByteRange, Cancelled, FileChangedError, HashTask, hash_file, hash_files


def _data(size: int, seed: int = 1) -> bytes:
    return bytes((i * 131 + seed) % 251 for i in range(size))


@pytest.mark.parametrize("size", [0, 1, 4095, 65_537])
def test_sha256_and_git_sha1_match_hashlib_and_huggingface_hub(tmp_path: Path, size: int) -> None:
    data = _data(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    result = hash_file(HashTask("f.bin", str(path), ("sha256", "git-sha1")), chunk=1000)
    assert result.size == size
    assert result.digest("sha256") == sha256(data)
    assert result.digest("git-sha1") == git_sha1(data) == git_hash(data)


def test_ranges_and_tensors_in_the_same_pass_at_any_chunk_size(tmp_path: Path) -> None:
    path = write_safetensors(tmp_path / "m.safetensors", random_tensors(3))
    data = path.read_bytes()
    ranges = (ByteRange("a", 0, 100), ByteRange("b", 100, 100), ByteRange("c", 100, len(data)))
    reference = hash_file(HashTask("m", str(path), tensors=True))
    for chunk in (1, 7, 64, 1 << 20):
        result = hash_file(HashTask("m", str(path), ("sha256",), tensors=True, ranges=ranges), chunk=chunk)
        assert result.digest("sha256") == sha256(data)
        assert [d for _, d in result.ranges] == [sha256(data[0:100]), sha256(b""), sha256(data[100:])]
        assert result.tensors == reference.tensors


def test_a_file_that_grows_while_read_is_refused_and_no_digest_returned(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(_data(10_000))
    grown = []

    def grow(_count: int) -> None:
        if not grown:
            with path.open("ab") as fh:
                fh.write(b"more")
            grown.append(True)

    with pytest.raises(FileChangedError) as caught:
        hash_file(HashTask("big.bin", str(path)), progress=grow, chunk=1000)
    assert caught.value.target == "big.bin" and "changed while reading" in caught.value.problem


def test_a_file_truncated_while_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.bin"
    path.write_bytes(_data(10_000))

    def cut(_count: int) -> None:
        os.truncate(path, 3000)

    with pytest.raises(FileChangedError):
        hash_file(HashTask("t.bin", str(path)), progress=cut, chunk=1000)


def test_symlinks_and_fifos_are_not_read(tmp_path: Path) -> None:
    target = tmp_path / "real.bin"
    target.write_bytes(b"x")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for path in (link, fifo):
        with pytest.raises(InputError) as caught:
            hash_file(HashTask(path.name, str(path)))
        assert caught.value.target == path.name and "not a regular file" in caught.value.problem


def test_cancel_stops_a_worker_between_chunks(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(_data(50_000))
    cancel = threading.Event()
    seen = []

    def stop_after_first(count: int) -> None:
        seen.append(count)
        cancel.set()

    with pytest.raises(Cancelled):
        hash_file(HashTask("f.bin", str(path)), cancel=cancel, progress=stop_after_first, chunk=1000)
    assert seen == [1000]


def test_one_worker_error_cancels_the_others_and_names_the_file(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(2 * 1024**3)  # sparse: 2 GiB that take seconds to hash, no disk used
    tasks = [HashTask("big.bin", str(big)), HashTask("gone.bin", str(tmp_path / "gone.bin"))]
    start = time.monotonic()
    with pytest.raises(InputError) as caught:
        hash_files(tasks, jobs=2)
    assert caught.value.target == "gone.bin"
    assert time.monotonic() - start < 1.0, "the big file's worker was not cancelled"
    assert [t.name for t in threading.enumerate() if t.name.startswith("provenance-hash")] == []


def test_results_come_back_in_task_order_with_progress_totals(tmp_path: Path) -> None:
    files = []
    for i, size in enumerate([10, 300_000, 5, 70_000]):
        path = tmp_path / f"f{i}"
        path.write_bytes(_data(size, seed=i))
        files.append(path)
    calls: list[tuple[int, int]] = []
    results = hash_files(
        [HashTask(p.name, str(p)) for p in files], jobs=2, progress=lambda d, t: calls.append((d, t))
    )
    assert [r.path for r in results] == [p.name for p in files]
    assert [r.digest("sha256") for r in results] == [sha256(p.read_bytes()) for p in files]
    assert calls and calls[-1] == (370_015, 370_015)


@pytest.mark.parametrize("chunk", [7, 1000, 1 << 20])
def test_pipelined_stream_gives_the_same_digests(tmp_path: Path, chunk: int) -> None:
    path = write_safetensors(tmp_path / "m.safetensors", random_tensors(5))
    task = HashTask("m", str(path), ("sha256", "git-sha1"), tensors=True, ranges=(ByteRange("r", 3, 900),))
    plain = hash_file(task, chunk=chunk)
    piped = hash_file(task, chunk=chunk, pipeline=True)
    assert piped == plain
    assert piped.digest("sha256") == sha256(path.read_bytes())


def test_pipelined_stream_cancels_and_leaves_no_thread(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(_data(50_000))
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        hash_file(
            HashTask("f", str(path), tensors=False),
            cancel=cancel,
            progress=lambda _n: cancel.set(),
            chunk=1000,
            pipeline=True,
        )
    assert [t.name for t in threading.enumerate() if t.name == "provenance-hash-consumer"] == []


def test_pipelined_stream_refuses_a_file_that_grows(tmp_path: Path) -> None:
    path = tmp_path / "g.bin"
    path.write_bytes(_data(10_000))

    def grow(_count: int) -> None:
        with path.open("ab") as fh:
            fh.write(b"z")

    with pytest.raises(FileChangedError):
        hash_file(HashTask("g", str(path)), progress=grow, chunk=1000, pipeline=True)


def test_task_and_result_are_plain_picklable_data_for_a_distributed_engine(tmp_path: Path) -> None:
    path = write_safetensors(tmp_path / "m.safetensors", random_tensors(2))
    task = HashTask(
        "m.safetensors", str(path), ("sha256", "git-sha1"), tensors=True, ranges=(ByteRange("r", 0, 8),)
    )
    result = hash_file(pickle.loads(pickle.dumps(task)))
    assert pickle.loads(pickle.dumps(result)) == result
    assert result.to_json()["tensor_count"] == 3
