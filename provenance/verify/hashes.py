"""Streaming file hashing: sha256, git blob sha1, per-tensor and per-range sha256 in one pass over each file.

Hashing a file is an independent task with plain inputs (`HashTask`) and outputs (`FileDigests`), so a large
run can map `hash_file` over a distributed engine; `hash_files` maps it over a thread pool here. hashlib
releases the GIL while it hashes (and the reads release it too), so threads use every core: one file per
thread, the biggest first. One big file is read on one thread and hashed on another, at single-core
SHA-256 speed (SHA-256 is sequential).

Big whole-file jobs (1 GiB or more, a file per core, no tensor digests) go to `mapped`: a worker process
hashes memory maps there, without the copy out of the page cache, and only that worker can meet a SIGBUS.
Everything else runs here, and so does whatever the worker leaves.

Safety, from the reliability checklist:
* no mmap in this process (a file truncated under a map is SIGBUS): `readinto` a fixed buffer, `CHUNK` bytes
  at a time, so memory is bounded by `jobs * CHUNK` whatever the file size;
* symlinks are not followed at open (`O_NOFOLLOW`); FIFOs, sockets and devices are refused before reading;
* a file that changes while it is read (size, inode or mtime differ, or EOF comes early or late) raises
  "file changed while reading" and no digest is returned;
* cancellation (Ctrl-C, SIGTERM, another worker's error) is checked between chunks: workers stop within one
  chunk (a few ms) and `hash_files` re-raises the first error, which names its file.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Protocol

from provenance.errors import InputError, ProvenanceError
from provenance.verify.digest import TensorRecord

CHUNK = 4 * 1024 * 1024
MAPPED_MIN_TOTAL = 1024**3
ALGORITHMS = ("sha256", "git-sha1")
POLL_SECONDS = 0.1

Progress = Callable[[int, int], None]


class _Hasher(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...
    def hexdigest(self) -> str: ...


@dataclass(frozen=True)
class ByteRange:
    """A named byte range of a file (a tensor, a model-signing shard): `begin` inclusive, `end` exclusive."""

    label: str
    begin: int
    end: int


@dataclass(frozen=True)
class HashTask:
    """Hash `file` (absolute path on disk), reported as `path`. `tensors`: also the per-tensor sha256 of a
    safetensors or GGUF file; `ranges`: also the sha256 of each byte range (non-overlapping)."""

    path: str
    file: str
    algorithms: tuple[str, ...] = ("sha256",)
    tensors: bool = False
    ranges: tuple[ByteRange, ...] = ()


@dataclass(frozen=True)
class FileDigests:
    """What `hash_file` computed. `tensors` is None when not asked or not available (`tensor_problem`)."""

    path: str
    size: int
    digests: tuple[tuple[str, str], ...]
    tensors: tuple[TensorRecord, ...] | None = None
    tensor_format: str | None = None
    tensor_problem: str = ""
    ranges: tuple[tuple[ByteRange, str], ...] = field(default_factory=tuple)

    def digest(self, algorithm: str) -> str | None:
        return dict(self.digests).get(algorithm)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "digests": dict(self.digests),
            "tensor_format": self.tensor_format,
            "tensor_problem": self.tensor_problem or None,
            "tensor_count": None if self.tensors is None else len(self.tensors),
        }


class Cancelled(Exception):
    """Raised inside a worker when `hash_files` asked it to stop (never escapes `hash_files`)."""


class FileChangedError(InputError):
    """The file's size, inode or mtime changed while it was read: its digest would describe no real file."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__(
            path,
            f"file changed while reading ({detail}); no digest recorded",
            "re-run when nothing writes it",
        )


def hash_file(
    task: HashTask,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
    chunk: int = CHUNK,
    pipeline: bool = False,
) -> FileDigests:
    """Stream one file once and return every digest `task` asks for. `pipeline`: for a file hashed while
    other cores are idle, read on this thread and hash on helper threads (the file digests and the tensor
    digests side by side): the copy out of the page cache then overlaps the hashing, so one big file
    hashes at close to single-core SHA-256 speed (bench/hash_bench.py, "one big file")."""
    unknown = set(task.algorithms) - set(ALGORITHMS)
    if unknown:
        raise ValueError(f"unknown algorithms {sorted(unknown)}")
    fd = open_regular(task)
    try:
        layout = _tensor_layout(task) if task.tensors else _Layout((), None, "")
        before = os.fstat(fd)
        _advise_sequential(fd)
        groups = [_RangeHashers(task.path, layout.ranges), _RangeHashers(task.path, task.ranges)]
        last_end = max(g.last_end for g in groups)
        if last_end > before.st_size:
            raise InputError(task.path, f"byte ranges end at {last_end}, the file has {before.st_size} bytes")
        whole = _whole_file_hashers(task.algorithms, before.st_size)
        side_by_side = pipeline and (bool(whole) or any(g.last_end for g in groups))
        stream = _stream_pipelined if side_by_side else _stream
        # A small file gets a small buffer: zero-filling 4 MiB for each of 10,000 small files cost more than
        # hashing them. One byte more than the size, so a file that grew is seen on the first read.
        fitted = max(1, min(chunk, before.st_size + 1))
        done = stream(fd, task, before.st_size, whole, groups, cancel, progress, fitted)
        check_unchanged(task, before, done)
    finally:
        os.close(fd)
    results = {label: digest for group in groups for label, digest in group.results()}
    tensors = layout.records_of(results) if layout.records_of is not None else None
    return FileDigests(
        path=task.path,
        size=before.st_size,
        digests=tuple((name, hasher.hexdigest()) for name, hasher in whole),
        tensors=tensors,
        tensor_format=layout.format if tensors is not None else None,
        tensor_problem=layout.problem,
        ranges=tuple((r, results[r.label]) for r in task.ranges),
    )


def open_regular(task: HashTask) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        st = os.lstat(task.file)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(task.path, "not a regular file (symlink, FIFO, socket or device); not read")
        fd = os.open(task.file, flags)
    except FileNotFoundError:
        raise InputError(task.path, "disappeared before it could be read") from None
    except PermissionError:
        raise InputError(task.path, "permission denied") from None
    except OSError as exc:
        raise InputError(task.path, f"cannot open: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise InputError(task.path, "not a regular file; not read")
    return fd


def _advise_sequential(fd: int) -> None:
    advise = getattr(os, "posix_fadvise", None)
    if advise is not None:
        advise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)


def _whole_file_hashers(algorithms: Sequence[str], size: int) -> list[tuple[str, _Hasher]]:
    hashers: list[tuple[str, _Hasher]] = []
    for name in algorithms:
        if name == "sha256":
            hashers.append((name, hashlib.sha256()))
        else:
            hashers.append((name, hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)))
    return hashers


def _stream(  # noqa: PLR0917  (one private call site; the hot loop's state)
    fd: int,
    task: HashTask,
    size: int,
    whole: list[tuple[str, _Hasher]],
    groups: list[_RangeHashers],
    cancel: threading.Event | None,
    progress: Callable[[int], None] | None,
    chunk: int,
) -> int:
    buffer = bytearray(chunk)
    view = memoryview(buffer)
    position = 0
    with os.fdopen(fd, "rb", buffering=0, closefd=False) as handle:
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled(task.path)
            try:
                count = handle.readinto(buffer)
            except OSError as exc:
                raise InputError(task.path, f"read error at byte {position}: {exc.strerror}") from None
            if not count:
                break
            if position + count > size:
                raise FileChangedError(task.path, f"grew past its size of {size} bytes")
            data = view[:count]
            for _, hasher in whole:
                hasher.update(data)
            for group in groups:
                group.feed(position, data)
            position += count
            if progress is not None:
                progress(count)
    for group in groups:
        group.finish(position)
    return position


def _stream_pipelined(  # noqa: PLR0917  (same signature as _stream)
    fd: int,
    task: HashTask,
    size: int,
    whole: list[tuple[str, _Hasher]],
    groups: list[_RangeHashers],
    cancel: threading.Event | None,
    progress: Callable[[int], None] | None,
    chunk: int,
) -> int:
    from provenance.verify.pipeline import Consumer, stream_pipelined  # noqa: PLC0415

    def whole_file(_position: int, data: memoryview) -> None:
        for _, hasher in whole:
            hasher.update(data)

    def ranges(position: int, data: memoryview) -> None:
        for group in groups:
            group.feed(position, data)

    consumers: list[Consumer] = [whole_file] if whole else []
    if any(g.last_end for g in groups):
        consumers.append(ranges)
    position = 0

    def read_into(buffer: bytearray) -> int:
        nonlocal position
        try:
            count = os.readv(fd, [buffer])
        except OSError as exc:
            raise InputError(task.path, f"read error at byte {position}: {exc.strerror}") from None
        if position + count > size:
            raise FileChangedError(task.path, f"grew past its size of {size} bytes")
        position += count
        return count

    total = stream_pipelined(
        read_into,
        consumers,
        cancelled=lambda: cancel is not None and cancel.is_set(),
        on_cancel=lambda: Cancelled(task.path),
        progress=progress,
        chunk=chunk,
    )
    for group in groups:
        group.finish(total)
    return total


def check_unchanged(task: HashTask, before: os.stat_result, read: int) -> None:
    try:
        after = os.lstat(task.file)
    except OSError:
        raise FileChangedError(task.path, "removed or replaced") from None
    if read != before.st_size:
        raise FileChangedError(task.path, f"read {read} bytes, its size was {before.st_size}")
    same = (after.st_ino, after.st_dev, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_dev,
        before.st_size,
        before.st_mtime_ns,
    )
    if not same:
        raise FileChangedError(task.path, "size, inode or modification time differ after reading")


class _RangeHashers:
    """sha256 of each byte range of one group (tensors, or shards), fed chunk by chunk. Ranges of a group
    must not overlap; they are sorted here."""

    def __init__(self, path: str, ranges: Sequence[ByteRange]) -> None:
        ordered = sorted(ranges, key=lambda r: (r.begin, r.end))
        for previous, current in pairwise(ordered):
            if current.begin < previous.end:
                raise InputError(path, f"byte ranges {previous.label!r} and {current.label!r} overlap")
        self._path = path
        self._ranges = ordered
        self._next = 0
        self._active: Any = None
        self._done: list[tuple[str, str]] = []
        self.last_end = ordered[-1].end if ordered else 0

    def feed(self, position: int, data: memoryview) -> None:
        end = position + len(data)
        while self._next < len(self._ranges):
            current = self._ranges[self._next]
            if current.begin > end or (current.begin == end and current.end > current.begin):
                return
            if self._active is None:
                self._active = hashlib.sha256()
            low, high = max(current.begin, position), min(current.end, end)
            if high > low:
                self._active.update(data[low - position : high - position])
            if current.end > end:
                return
            self._close()

    def finish(self, size: int) -> None:
        """Close the empty ranges at the very end (an empty file has no chunk to close them)."""
        while self._next < len(self._ranges):
            current = self._ranges[self._next]
            if current.end > size:
                raise InputError(
                    current.label, f"range ends at {current.end}, past the end of the file ({size})"
                )
            if self._active is None:
                self._active = hashlib.sha256()
            self._close()

    def _close(self) -> None:
        self._done.append((self._ranges[self._next].label, self._active.hexdigest()))
        self._active = None
        self._next += 1

    def results(self) -> list[tuple[str, str]]:
        return list(self._done)


@dataclass(frozen=True)
class _Layout:
    ranges: tuple[ByteRange, ...]
    records_of: Callable[[dict[str, str]], tuple[TensorRecord, ...]] | None
    problem: str
    format: str | None = None


def _tensor_layout(task: HashTask) -> _Layout:
    """Where each tensor's bytes lie, from the safetensors or GGUF header (our bounded parsers)."""
    from provenance.errors import MalformedFileError  # noqa: PLC0415

    try:
        with open(task.file, "rb") as handle:  # noqa: PTH123  (a plain prefix read)
            magic = handle.read(9)
        if magic[:4] == b"GGUF":
            return _gguf_layout(task)
        if len(magic) == 9 and magic[8:9] in b"{ \t\r\n":
            return _safetensors_layout(task)
    except MalformedFileError as exc:
        return _Layout((), None, f"tensor digest unavailable: {exc.problem}")
    except OSError as exc:
        raise InputError(task.path, f"cannot read: {exc.strerror}") from None
    return _Layout((), None, "not a safetensors or GGUF file")


def _safetensors_layout(task: HashTask) -> _Layout:
    from provenance.readers.safetensors import PREFIX_SIZE, read_safetensors_file  # noqa: PLC0415

    header, findings = read_safetensors_file(task.file)
    if findings:
        return _Layout((), None, f"tensor digest unavailable: {findings[0].message}")
    start = PREFIX_SIZE + header.header_size
    infos = {f"\0tensor\0{t.name}": t for t in header.tensors}
    ranges = tuple(ByteRange(label, start + t.begin, start + t.end) for label, t in infos.items())

    def records(digests: dict[str, str]) -> tuple[TensorRecord, ...]:
        return tuple(TensorRecord(t.name, t.dtype, t.shape, digests[label]) for label, t in infos.items())

    return _Layout(ranges, records, "", "safetensors")


def _gguf_layout(task: HashTask) -> _Layout:
    from provenance.readers.gguf import read_gguf_file  # noqa: PLC0415

    header = read_gguf_file(task.file)
    if header.data_offset is None or header.truncated:
        return _Layout((), None, f"tensor digest unavailable: {header.truncation or 'GGUF data not located'}")
    unknown = [t.name for t in header.tensors if t.nbytes is None]
    if unknown:
        return _Layout((), None, f"tensor digest unavailable: unknown ggml type for tensor {unknown[0]!r}")
    base = header.data_offset
    infos = {f"\0tensor\0{t.name}": t for t in header.tensors}
    ranges = tuple(
        ByteRange(label, base + t.offset, base + t.offset + (t.nbytes or 0)) for label, t in infos.items()
    )

    def records(digests: dict[str, str]) -> tuple[TensorRecord, ...]:
        return tuple(
            TensorRecord(t.name, t.type_name, tuple(reversed(t.dims)), digests[label])
            for label, t in infos.items()
        )

    return _Layout(ranges, records, "", "gguf")


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.value = 0

    def add(self, amount: int) -> None:
        with self._lock:
            self.value += amount


def hash_files(
    tasks: Sequence[HashTask],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    mapped: bool | None = None,
) -> list[FileDigests]:
    """Hash every task, `jobs` files at a time (default: the CPU count), biggest files first.

    Whole-file digests of 1 GiB or more, a file or more per core, go to the memory-map worker (`mapped`;
    `mapped=True` forces it, `False` or `PROVENANCE_NO_MMAP=1` forbids it); the rest, and anything the
    worker leaves, runs on a thread pool here. Fewer files than cores: each file is read on one thread and
    hashed on others (`pipeline`). Returns results in task order. The first file error cancels the rest and
    is re-raised; so is a KeyboardInterrupt or any exception raised in the calling thread while waiting
    (SIGTERM handler).
    `progress(bytes_done, bytes_total)` is called from this thread about every POLL_SECONDS.
    """
    if not tasks:
        return []
    cores = jobs or os.cpu_count() or 1
    pipeline = len(tasks) < cores
    sizes = [_size_or_zero(t.file) for t in tasks]
    total = sum(sizes)
    order = sorted(range(len(tasks)), key=lambda i: -sizes[i])
    if use_mapped_worker(tasks, total, cores, mapped):
        from provenance.verify import mapped as via_map  # noqa: PLC0415  (the worker's parent side)

        jobs_here = min(cores, len(tasks))
        done, left = via_map.hash_mapped(tasks, order, jobs=jobs_here, total=total, progress=progress)
        if left:
            offset = _offset(progress, sum(r.size for r in done.values()), total)
            rest = hash_files([tasks[i] for i in left], jobs=jobs, progress=offset, mapped=False)
            done.update(zip(left, rest, strict=True))
        return [done[i] for i in range(len(tasks))]
    workers = max(1, min(cores, len(tasks)))
    cancel = threading.Event()
    counter = _Counter()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="provenance-hash")
    futures: dict[Future[FileDigests], int] = {}
    try:
        for i in order:
            futures[
                pool.submit(hash_file, tasks[i], cancel=cancel, progress=counter.add, pipeline=pipeline)
            ] = i
        results = _collect(futures, counter, total, progress)
    except BaseException:
        cancel.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[i] for i in range(len(tasks))]


def use_mapped_worker(tasks: Sequence[HashTask], total: int, cores: int, mapped: bool | None) -> bool:
    """Whether `hash_files` hands the job to the memory-map worker (`mapped`): when asked (`mapped=True`),
    or on its own when the job is big enough to repay starting it (about 25 ms: MAPPED_MIN_TOTAL or more)
    and has a file for every core (one file alone is as fast on the in-process pipeline, which reads on one
    core while the other hashes). Linux only; whole-file digests only (tensor and range digests stay on the
    `read` path); `PROVENANCE_NO_MMAP=1` turns it off."""
    if mapped is False or not sys.platform.startswith("linux") or any(t.tensors or t.ranges for t in tasks):
        return False
    if mapped:
        return True
    if os.environ.get("PROVENANCE_NO_MMAP", "") not in {"", "0"}:
        return False
    return total >= MAPPED_MIN_TOTAL and len(tasks) >= cores


def _offset(progress: Progress | None, done: int, total: int) -> Progress | None:
    """Progress of the files hashed here after the worker, counted on from what the worker finished."""
    if progress is None:
        return None
    report = progress
    return lambda bytes_done, _total: report(done + bytes_done, total)


def _collect(
    futures: dict[Future[FileDigests], int], counter: _Counter, total: int, progress: Progress | None
) -> dict[int, FileDigests]:
    results: dict[int, FileDigests] = {}
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
        for future in done:
            error = future.exception()
            if error is not None:
                raise error
            results[futures[future]] = future.result()
        if progress is not None:
            progress(counter.value, total)
    return results


def _size_or_zero(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


__all__ = [
    "ALGORITHMS",
    "CHUNK",
    "ByteRange",
    "FileChangedError",
    "FileDigests",
    "HashTask",
    "ProvenanceError",
    "hash_file",
    "hash_files",
    "use_mapped_worker",
]
