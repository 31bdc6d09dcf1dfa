"""The hashing worker behind `provenance.verify.mapped`: a separate process that hashes whole files through
read-only memory maps, so the bytes go from the page cache to SHA-256 without the copy `read` makes.

A mapped file that shrinks under its reader raises SIGBUS, which no Python code can catch. That is why this
runs in its own process: a SIGBUS (a truncation, a disk error on a page fault) kills this worker and only
it; the parent sees the worker gone and decides, from the files themselves, what to report. This module
imports nothing but the standard library (it starts with `python -I -S`, in about 10 ms and 15 MB) and
never writes a file.

Run as `python -I -S mapped_worker.py FD JOBS WINDOW`. FD is one end of a SOCK_SEQPACKET Unix socket pair.
Each request is one JSON message with the file's descriptor attached (SCM_RIGHTS):
`{"id": N, "size": BYTES, "algorithms": [...]}`, then `{"end": true}` after the last.
Replies, one JSON message each: `{"id", "done"}` (bytes hashed so far), then `{"id", "digests", "read"}`,
or `{"id", "changed"}` (the file is shorter than it was), or `{"id", "error"}` (an OSError, e.g. a
filesystem that cannot map; the parent hashes that file itself). A socket closed without `end` means the
parent is gone: the worker exits at once.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import queue
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

MESSAGE_MAX = 1 << 16
MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


class Shrunk(Exception):
    """The file is shorter than the size the parent saw: mapping past its end would be SIGBUS."""


def digest_file(
    fd: int,
    size: int,
    algorithms: list[str],
    *,
    window: int,
    report: Callable[[int], None],
) -> dict[str, str]:
    """sha256 and/or git blob sha1 of the first `size` bytes of `fd`, `window` bytes mapped at a time."""
    hashers: list[tuple[str, Any]] = []
    for name in algorithms:
        if name == "sha256":
            hashers.append((name, hashlib.sha256()))
        elif name == "git-sha1":
            hashers.append((name, hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)))
        else:
            raise ValueError(f"unknown algorithm {name!r}")
    done = 0
    for mapped in _mapped(fd, size, window):
        with mapped, memoryview(mapped) as view:
            for _, hasher in hashers:
                hasher.update(view)
            done += len(view)
        report(done)
    return {name: hasher.hexdigest() for name, hasher in hashers}


def _map(fd: int, offset: int, length: int, size: int) -> mmap.mmap:
    current = os.fstat(fd).st_size
    if current < size:
        raise Shrunk(f"shrank from {size} to {current} bytes while being read")
    return mmap.mmap(fd, length, flags=MAP_FLAGS, prot=mmap.PROT_READ, offset=offset)


def _mapped(fd: int, size: int, window: int) -> Iterator[mmap.mmap]:
    for offset in range(0, size, window):
        yield _map(fd, offset, min(window, size - offset), size)


class Worker:
    def __init__(self, sock: socket.socket, jobs: int, window: int) -> None:
        self.sock = sock
        self.window = window
        self.send_lock = threading.Lock()
        self.tasks: queue.Queue[tuple[int, int, dict[str, Any]] | None] = queue.Queue()
        self.threads = [
            threading.Thread(target=self.hash_loop, name=f"provenance-mapped-{n}", daemon=True)
            for n in range(jobs)
        ]

    def send(self, message: dict[str, Any]) -> None:
        with self.send_lock:
            try:
                self.sock.send(json.dumps(message).encode())
            except OSError:
                os._exit(1)  # the parent is gone: nobody wants the rest

    def hash_loop(self) -> None:
        while (item := self.tasks.get()) is not None:
            ident, fd, request = item
            try:
                digests = digest_file(
                    fd,
                    int(request["size"]),
                    list(request["algorithms"]),
                    window=self.window,
                    report=lambda done, ident=ident: self.send({"id": ident, "done": done}),  # type: ignore[misc]
                )
            except Shrunk as exc:
                self.send({"id": ident, "changed": str(exc)})
            except (OSError, ValueError) as exc:
                self.send({"id": ident, "error": f"{type(exc).__name__}: {exc}"})
            else:
                self.send({"id": ident, "digests": digests, "read": int(request["size"])})
            finally:
                os.close(fd)

    def run(self) -> int:
        for thread in self.threads:
            thread.start()
        while True:
            data, fds, _flags, _address = socket.recv_fds(self.sock, MESSAGE_MAX, 1)
            if not data:
                os._exit(1)  # closed without "end": the parent is gone
            request = json.loads(data)
            if request.get("end"):
                break
            if len(fds) != 1:
                for fd in fds:
                    os.close(fd)
                self.send({"id": request.get("id"), "error": "request without a file descriptor"})
                continue
            self.tasks.put((int(request["id"]), fds[0], request))
        for _ in self.threads:
            self.tasks.put(None)
        for thread in self.threads:
            thread.join()
        return 0


def main(argv: list[str]) -> int:
    # Ctrl-C reaches the whole process group; the parent handles it and stops this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd, jobs, window = (int(arg) for arg in argv[1:4])
    sock = socket.socket(fileno=fd)
    return Worker(sock, max(1, jobs), window).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
