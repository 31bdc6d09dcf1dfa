"""The hashing worker behind `provenance.verify.mapped`: a separate process that hashes whole files through
read-only memory maps, so the bytes go from the page cache to SHA-256 without the copy `read` makes.

A mapped file that shrinks under its reader raises SIGBUS, which no Python code can catch. That is why this
runs in its own process: a SIGBUS (a truncation, a disk error on a page fault) kills this worker and only
it; the parent sees the worker gone and decides, from the files themselves, what to report. The worker
never writes a file. It imports only what it needs from the standard library, low-level modules where the
friendly ones cost start-up time (`_socket`, `_thread`: it starts with `python -I -S` in about 16 ms), and
its parent starts it in a session of its own, so a terminal's Ctrl-C reaches the parent only.

Run as `python -I -S mapped_worker.py FD JOBS WINDOW`. FD is one end of a SOCK_SEQPACKET Unix socket pair;
JOBS threads each take the next request from it, so a free thread takes the next file. A request is one
message `hash ID SIZE ALGORITHMS` (ALGORITHMS comma-separated) with the file's descriptor attached
(SCM_RIGHTS). Replies, one message each: `done ID BYTES` (hashed so far), then `ok ID BYTES NAME=HEX...`,
or `changed ID DETAIL` (the file is shorter than it was), or `error ID DETAIL` (an OSError, e.g. a
filesystem that cannot map: the parent hashes that file itself). When the parent closes its end, every
thread sees end-of-file and the worker exits at once.
"""

from __future__ import annotations

import _socket
import _thread
import hashlib
import mmap
import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs this worker's start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

MESSAGE_MAX = 1 << 12
FD_BYTES = 4
MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


class Shrunk(Exception):
    """The file is shorter than the size the parent saw: mapping past its end would be SIGBUS."""


def digest_file(
    fd: int, size: int, algorithms: list[str], *, window: int, report: Callable[[int], None]
) -> dict[str, str]:
    """sha256 and/or git blob sha1 of the first `size` bytes of `fd`, `window` bytes mapped at a time."""
    hashers = []
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


def _mapped(fd: int, size: int, window: int) -> Iterator[mmap.mmap]:
    for offset in range(0, size, window):
        current = os.fstat(fd).st_size
        if current < size:
            raise Shrunk(f"shrank from {size} to {current} bytes while being read")
        length = min(window, size - offset)
        yield mmap.mmap(fd, length, flags=MAP_FLAGS, prot=mmap.PROT_READ, offset=offset)


def _receive(sock: _socket.socket) -> tuple[bytes, list[int]]:
    """One request and the descriptors attached to it (`socket.recv_fds`, without importing `socket`)."""
    data, ancillary, _flags, _address = sock.recvmsg(MESSAGE_MAX, _socket.CMSG_SPACE(FD_BYTES * 4))
    fds = []
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % FD_BYTES
            for i in range(0, usable, FD_BYTES):
                fds.append(int.from_bytes(payload[i : i + FD_BYTES], sys.byteorder))
    return data, fds


def serve(sock: _socket.socket, window: int) -> None:
    """Take requests until the parent closes the socket, then end the whole process."""
    while True:
        try:
            data, fds = _receive(sock)
        except OSError:
            data, fds = b"", []
        if not data:
            os._exit(0)  # the parent closed its end (done, or gone): nothing more will be asked
        _answer(sock, data, fds, window)


def _answer(sock: _socket.socket, data: bytes, fds: list[int], window: int) -> None:
    def send(message: str) -> None:
        try:
            sock.send(message.encode())
        except OSError:
            os._exit(1)  # the parent is gone: nobody wants the rest

    fields = data.decode(errors="replace").split()
    ident = fields[1] if len(fields) > 1 else "?"
    try:
        if len(fields) != 4 or fields[0] != "hash" or len(fds) != 1:
            send(f"error {ident} malformed request")
            return
        size = int(fields[2])
        digests = digest_file(
            fds[0], size, fields[3].split(","), window=window, report=lambda n: send(f"done {ident} {n}")
        )
    except Shrunk as exc:
        send(f"changed {ident} {exc}")
    except (OSError, ValueError) as exc:
        send(f"error {ident} {type(exc).__name__}: {exc}")
    else:
        send(f"ok {ident} {size} " + " ".join(f"{name}={digest}" for name, digest in digests.items()))
    finally:
        for fd in fds:
            os.close(fd)


def main(argv: list[str]) -> int:
    fd, jobs, window = (int(arg) for arg in argv[1:4])
    sock = _socket.socket(fileno=fd)
    for _ in range(max(1, jobs) - 1):
        _thread.start_new_thread(serve, (sock, window))
    serve(sock, window)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
