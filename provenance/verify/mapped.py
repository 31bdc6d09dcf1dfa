"""Whole-file digests through memory maps, in a worker process that may die without taking us with it.

`read` copies every byte out of the page cache before SHA-256 sees it; on two cores that copy costs about a
tenth of the hashing time, and with a file per core nothing is left to hide it behind. Mapping the file
gives SHA-256 the page-cache pages themselves; with the large folios a modern kernel keeps for a file
written or read sequentially, mapping a window costs next to nothing (bench/page_cache_bench.py: 300 GB/s
to map and populate 8 MiB windows, 7 GB/s to copy; warm verify of 8 files went from 0.86 to 0.94 of the
two-core openssl ceiling, medians of six interleaved rounds). But a mapped file that another process
truncates, or a page the disk cannot read, raises SIGBUS, and a Python process cannot survive SIGBUS. So
the maps live in a separate process (`mapped_worker.py`, standard library only) and this module keeps
every decision:

* it opens each file itself (`O_NOFOLLOW`, regular files only) and hands the worker that descriptor, so the
  worker hashes exactly the file checked here;
* it compares the file's size, inode and mtime before and after, as the in-process path does;
* when the worker dies (SIGBUS, the OOM killer, anything), the files it had not finished are looked at again:
  a file that changed is "file changed while reading", any other is hashed here with `read`. The worst a
  truncation can cost is that worker, never this process, never a digest.

Used by `hashes.hash_files` on Linux for whole-file digests of 1 GiB or more with a file per core
(`hashes.use_mapped_worker`; `mapped=True` forces it, `PROVENANCE_NO_MMAP=1` turns it off). Tensor
digests and a single big file keep the in-process `read` path, which is as fast for them.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from provenance.verify.hashes import (
    POLL_SECONDS,
    FileChangedError,
    FileDigests,
    HashTask,
    check_unchanged,
    open_regular,
)

WORKER = Path(__file__).with_name("mapped_worker.py")
WINDOW = 8 * 1024 * 1024
IN_FLIGHT_PER_JOB = 2
MESSAGE_MAX = 1 << 12
WAIT_FOR_EXIT = 1.0

Progress = Callable[[int, int], None]


def available() -> bool:
    """Linux-like systems that can populate a map and pass a descriptor over a Unix socket."""
    return (
        hasattr(mmap, "MAP_POPULATE")
        and hasattr(socket, "send_fds")
        and hasattr(socket, "SOCK_SEQPACKET")
        and bool(sys.executable)
    )


@dataclass
class _Sent:
    index: int
    task: HashTask
    before: os.stat_result
    done: int = 0


class WorkerGone(Exception):
    """The worker exited before answering for every file sent to it."""


def hash_mapped(
    tasks: Sequence[HashTask],
    order: Sequence[int],
    *,
    jobs: int,
    total: int,
    progress: Progress | None,
) -> tuple[dict[int, FileDigests], list[int]]:
    """Hash `tasks` (in `order`) in the worker. Returns the results and the indexes the caller must hash
    itself: files the worker could not map, and, if it died, the files it had not finished that did not
    change. Raises the first file error (`InputError`, `FileChangedError`); any exception, Ctrl-C
    included, kills the worker before it propagates."""
    if not available():
        return {}, list(order)
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        worker = subprocess.Popen(
            [sys.executable, "-I", "-S", str(WORKER), str(child.fileno()), str(jobs), str(WINDOW)],
            pass_fds=(child.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a terminal's Ctrl-C reaches us, and we stop the worker
        )
    except OSError:
        parent.close()
        return {}, list(order)
    finally:
        child.close()
    run = _Run(parent, tasks, order, jobs, total, progress)
    try:
        try:
            run.loop(worker)
        except WorkerGone:
            run.after_worker_died()
    except BaseException:
        worker.kill()  # an error or Ctrl-C: nothing it computes now will be used
        raise
    finally:
        parent.close()  # the worker sees end-of-file and exits at once
        _stop(worker)
    return run.results, run.leftover


class _Run:
    def __init__(  # noqa: PLR0917  (one call site)
        self,
        sock: socket.socket,
        tasks: Sequence[HashTask],
        order: Sequence[int],
        jobs: int,
        total: int,
        progress: Progress | None,
    ) -> None:
        self.sock = sock
        self.tasks = tasks
        self.waiting = list(reversed(order))
        self.limit = max(1, jobs) * IN_FLIGHT_PER_JOB
        self.total = total
        self.progress = progress
        self.sent: dict[int, _Sent] = {}
        self.results: dict[int, FileDigests] = {}
        self.leftover: list[int] = []
        self.finished_bytes = 0

    def loop(self, worker: subprocess.Popen[bytes]) -> None:
        poller = select.poll()  # not select.select: this process may hold more than 1024 descriptors
        poller.register(self.sock, select.POLLIN)
        reported = 0.0
        while self.waiting or self.sent:
            self._send_more()
            if poller.poll(POLL_SECONDS * 1000):
                data = self.sock.recv(MESSAGE_MAX)
                if not data:
                    raise WorkerGone
                self._handle(data.decode().split(" "))
            elif worker.poll() is not None:
                raise WorkerGone
            if self.progress is not None and time.monotonic() - reported >= POLL_SECONDS:
                reported = time.monotonic()
                self.progress(self.finished_bytes + sum(s.done for s in self.sent.values()), self.total)
        if self.progress is not None:
            self.progress(self.finished_bytes, self.total)

    def _send_more(self) -> None:
        while self.waiting and len(self.sent) < self.limit:
            index = self.waiting.pop()
            task = self.tasks[index]
            fd = open_regular(task)
            try:
                before = os.fstat(fd)
                request = f"hash {index} {before.st_size} {','.join(task.algorithms)}"
                try:
                    socket.send_fds(self.sock, [request.encode()], [fd])
                except OSError:
                    self.waiting.append(index)
                    raise WorkerGone from None
            finally:
                os.close(fd)
            self.sent[index] = _Sent(index, task, before)

    def _handle(self, fields: list[str]) -> None:
        """One reply: `done ID BYTES`, `ok ID BYTES NAME=HEX...`, `changed ID DETAIL`, `error ID DETAIL`."""
        kind, ident = fields[0], fields[1] if len(fields) > 1 else ""
        sent = self.sent.get(int(ident)) if ident.isdigit() else None
        if sent is None:
            return
        if kind == "done":
            sent.done = int(fields[2])
            return
        del self.sent[sent.index]
        if kind == "changed":
            raise FileChangedError(sent.task.path, " ".join(fields[2:]))
        if kind != "ok":
            self.leftover.append(sent.index)  # the worker could not map it: hashed here instead
            return
        self.finished_bytes += sent.before.st_size
        check_unchanged(sent.task, sent.before, int(fields[2]))
        digests = dict(field.split("=", 1) for field in fields[3:])
        self.results[sent.index] = FileDigests(
            path=sent.task.path,
            size=sent.before.st_size,
            digests=tuple((name, digests[name]) for name in sent.task.algorithms),
        )

    def after_worker_died(self) -> None:
        """A file the worker had not finished either changed (the likely cause of a SIGBUS) or is hashed
        again here; files never sent are hashed here too."""
        for sent in sorted(self.sent.values(), key=lambda s: s.index):
            check_unchanged(sent.task, sent.before, sent.before.st_size)
            self.leftover.append(sent.index)
        self.sent.clear()
        self.leftover.extend(reversed(self.waiting))
        self.waiting.clear()


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Reap the worker: with its socket closed it exits within milliseconds; if not, it is killed."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        worker.wait(timeout=WAIT_FOR_EXIT)
    if worker.poll() is None:
        worker.kill()
        worker.wait()


__all__ = ["WINDOW", "WORKER", "FileChangedError", "available", "hash_mapped"]
