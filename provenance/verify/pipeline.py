"""One file, several cores: the calling thread reads chunks into a few rotating buffers while helper threads
hash them (one thread per consumer: the file digests, the tensor digests). SHA-256 is sequential, so one
digest of one file cannot use two cores; but the read (a copy out of the page cache) overlaps the hashing,
and the file and tensor digests run side by side, so one big file with both digests takes the time of one.

Memory: `depth` buffers of `chunk` bytes. A buffer is reused only after every consumer has hashed it.
Errors in a consumer stop the reader; cancellation is checked before every read.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence

Consumer = Callable[[int, memoryview], None]
_WAIT = 0.05


class _Worker(threading.Thread):
    def __init__(self, consume: Consumer, release: Callable[[int], None], depth: int) -> None:
        super().__init__(name="provenance-hash-consumer", daemon=True)
        self.consume = consume
        self.release = release
        self.inbox: queue.Queue[tuple[int, int, memoryview] | None] = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            item = self.inbox.get()
            if item is None:
                return
            index, position, data = item
            if not self.stop.is_set() and self.error is None:
                try:
                    self.consume(position, data)
                except BaseException as exc:  # noqa: BLE001  (re-raised in the reader thread)
                    self.error = exc
            self.release(index)


def stream_pipelined(
    read_into: Callable[[bytearray], int],
    consumers: Sequence[Consumer],
    *,
    cancelled: Callable[[], bool],
    on_cancel: Callable[[], BaseException],
    progress: Callable[[int], None] | None,
    chunk: int,
    depth: int = 3,
) -> int:
    """Read to EOF with `read_into`, feeding each chunk to every consumer on its own thread. Returns the
    number of bytes read; re-raises a consumer's error; raises `on_cancel()` when `cancelled()`."""
    buffers = [bytearray(chunk) for _ in range(depth)]
    free: queue.Queue[int] = queue.Queue()
    for index in range(depth):
        free.put(index)
    remaining = [0] * depth
    lock = threading.Lock()

    def release(index: int) -> None:
        with lock:
            remaining[index] -= 1
            done = remaining[index] == 0
        if done:
            free.put(index)

    workers = [_Worker(consume, release, depth) for consume in consumers]
    for worker in workers:
        worker.start()
    position = 0
    try:
        while True:
            index = _next_free(free, workers, cancelled, on_cancel)
            count = read_into(buffers[index])
            if not count:
                free.put(index)
                break
            view = memoryview(buffers[index])[:count]
            remaining[index] = len(workers)
            for worker in workers:
                worker.inbox.put((index, position, view))
            position += count
            if progress is not None:
                progress(count)
    except BaseException:
        for worker in workers:
            worker.stop.set()
        raise
    finally:
        for worker in workers:
            worker.inbox.put(None)
        for worker in workers:
            worker.join()
    for worker in workers:
        if worker.error is not None:
            raise worker.error
    return position


def _next_free(
    free: queue.Queue[int],
    workers: Sequence[_Worker],
    cancelled: Callable[[], bool],
    on_cancel: Callable[[], BaseException],
) -> int:
    while True:
        if cancelled():
            raise on_cancel()
        for worker in workers:
            if worker.error is not None:
                raise worker.error
        try:
            return free.get(timeout=_WAIT)
        except queue.Empty:
            continue


__all__ = ["Consumer", "stream_pipelined"]
