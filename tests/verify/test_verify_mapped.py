"""The memory-map worker (provenance/verify/mapped.py): the same digests as the read path, and whatever
happens to the worker (SIGBUS from a truncated file, a kill, Ctrl-C in the parent) never reaches the caller
as anything but a clean error or a correct result."""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import time
from pathlib import Path

import pytest
from verify_support import mapped_workers

from provenance.verify import mapped
from provenance.verify.hashes import (
    MAPPED_MIN_TOTAL,
    FileChangedError,
    HashTask,
    hash_files,
    use_mapped_worker,
)

GIB = 1024**3


def _workers() -> list[int]:
    return mapped_workers(os.getpid())


def _sparse(path: Path, size: int, head: bytes = b"") -> Path:
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(size)
    return path


def _tasks(*paths: Path, algorithms: tuple[str, ...] = ("sha256",)) -> list[HashTask]:
    return [HashTask(p.name, str(p), algorithms) for p in paths]


def test_mapped_digests_equal_hashlib_and_the_read_path_at_every_size(tmp_path: Path) -> None:
    window = mapped.WINDOW
    sizes = [0, 1, 4095, 4096, window - 1, window, window + 1, 2 * window + 12345]
    paths = []
    for size in sizes:
        path = tmp_path / f"f{size}"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    tasks = _tasks(*paths, algorithms=("sha256", "git-sha1"))
    via_map = hash_files(tasks, jobs=2, mapped=True)
    via_read = hash_files(tasks, jobs=2, mapped=False)
    assert via_map == via_read
    for path, result in zip(paths, via_map, strict=True):
        data = path.read_bytes()
        assert result.digest("sha256") == hashlib.sha256(data).hexdigest()
        git = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        assert result.digest("git-sha1") == git
        assert result.size == len(data)
    assert _workers() == []


def test_progress_reaches_the_total_through_the_worker(tmp_path: Path) -> None:
    paths = [_sparse(tmp_path / f"s{n}", 40 * 1024**2 + n, os.urandom(100)) for n in range(3)]
    calls: list[tuple[int, int]] = []
    hash_files(_tasks(*paths), jobs=2, mapped=True, progress=lambda done, total: calls.append((done, total)))
    total = sum(p.stat().st_size for p in paths)
    assert calls and calls[-1] == (total, total)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(calls))


def test_a_worker_killed_by_sigbus_costs_no_digest(tmp_path: Path) -> None:
    paths = [_sparse(tmp_path / f"big{n}", GIB // 2, os.urandom(64)) for n in range(2)]
    expected = hash_files(_tasks(*paths), jobs=2, mapped=False)
    killed: list[int] = []

    def kill_once(done: int, _total: int) -> None:
        if done > 0 and not killed:
            for pid in _workers():
                os.kill(pid, signal.SIGBUS)
                killed.append(pid)

    got = hash_files(_tasks(*paths), jobs=2, mapped=True, progress=kill_once)
    assert killed, "the worker should have been running"
    assert got == expected
    assert _workers() == []


def test_a_file_truncated_under_the_map_is_file_changed_and_this_process_lives(tmp_path: Path) -> None:
    first = _sparse(tmp_path / "first.bin", GIB, os.urandom(64))
    second = _sparse(tmp_path / "second.bin", GIB, os.urandom(64))
    cut: list[bool] = []

    def truncate_once(done: int, _total: int) -> None:
        if done > 0 and not cut:
            os.truncate(first, 4096)
            cut.append(True)

    with pytest.raises(FileChangedError) as caught:
        hash_files(_tasks(first, second), jobs=2, mapped=True, progress=truncate_once)
    assert cut
    assert caught.value.target == "first.bin"
    assert "changed while reading" in caught.value.problem
    assert _workers() == []


def test_a_file_that_grows_is_file_changed(tmp_path: Path) -> None:
    first = _sparse(tmp_path / "grows.bin", GIB // 2, os.urandom(64))
    second = _sparse(tmp_path / "other.bin", GIB // 2, os.urandom(64))
    grown: list[bool] = []

    def grow_once(done: int, _total: int) -> None:
        if done > 0 and not grown:
            with first.open("ab") as handle:
                handle.write(b"more")
            grown.append(True)

    with pytest.raises(FileChangedError) as caught:
        hash_files(_tasks(first, second), jobs=2, mapped=True, progress=grow_once)
    assert caught.value.target == "grows.bin"


def test_ctrl_c_in_the_parent_kills_the_worker_within_a_second(tmp_path: Path) -> None:
    paths = [_sparse(tmp_path / f"c{n}", 2 * GIB, os.urandom(64)) for n in range(2)]
    seen: list[int] = []

    def interrupt(done: int, _total: int) -> None:
        if done > 0:
            seen.extend(_workers())
            raise KeyboardInterrupt

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        hash_files(_tasks(*paths), jobs=2, mapped=True, progress=interrupt)
    assert time.monotonic() - start < 1.5
    assert seen, "the worker should have been running"
    assert _workers() == []


def test_files_refused_before_the_worker_sees_them(tmp_path: Path) -> None:
    target = _sparse(tmp_path / "real.bin", 1024, b"x")
    link = tmp_path / "link.bin"
    link.symlink_to(target)
    with pytest.raises(Exception, match="not a regular file") as caught:
        hash_files(_tasks(target, link), jobs=2, mapped=True)
    assert getattr(caught.value, "target", "") == "link.bin"
    assert _workers() == []


def test_when_the_worker_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = _tasks(tmp_path / "a", tmp_path / "b")
    big = MAPPED_MIN_TOTAL
    assert use_mapped_worker(tasks, big, 2, None)
    assert not use_mapped_worker(tasks, big - 1, 2, None)  # too small to repay the start
    assert not use_mapped_worker(tasks[:1], big, 2, None)  # one file: the in-process pipeline
    assert not use_mapped_worker(tasks, big, 2, False)
    assert use_mapped_worker(tasks[:1], 0, 2, True)
    with_tensors = [HashTask("t", str(tmp_path / "t"), tensors=True)]
    assert not use_mapped_worker(with_tensors, big, 1, True)
    monkeypatch.setenv("PROVENANCE_NO_MMAP", "1")
    assert not use_mapped_worker(tasks, big, 2, None)
    assert use_mapped_worker(tasks, big, 2, True)
