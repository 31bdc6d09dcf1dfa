"""Ctrl-C and SIGTERM while hashing: stop within about a second, documented exit code, nothing written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from verify_support import mapped_workers


def _read_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def _verify_in_background(model: Path, out: Path, *, own_group: bool = False) -> subprocess.Popen[str]:
    """`provenance verify MODEL --format json -o OUT`, running; `own_group`: in a process group (a session)
    of its own, so a test can signal the group as a terminal's Ctrl-C does."""
    return subprocess.Popen(
        [sys.executable, "-m", "provenance.cli", "verify", str(model), "--format", "json", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=own_group,
    )


def _signal_stops_it_cleanly(
    proc: subprocess.Popen[str], send: Callable[[], None], code: int, tmp_path: Path
) -> None:
    """Signal the hashing command (`send`): it exits with `code` within 1.5 s, says "interrupted" without a
    traceback, and leaves nothing next to the model."""
    assert proc.poll() is None, "hashing finished before the signal"
    sent = time.monotonic()
    send()
    try:
        _stdout, stderr = proc.communicate(timeout=5)
    finally:
        proc.kill()
    elapsed = time.monotonic() - sent
    assert proc.returncode == code, stderr
    assert elapsed < 1.5, f"took {elapsed:.2f} s to stop"
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["sigint", "sigterm"]
)
def test_signal_while_hashing_a_big_file(tmp_path: Path, signum: int, code: int) -> None:
    model = tmp_path / "model"
    model.mkdir()
    with (model / "big.safetensors").open("wb") as fh:
        fh.truncate(8 * 1024**3)  # sparse: seconds of hashing, no disk used
    proc = _verify_in_background(model, tmp_path / "report.json")
    deadline = time.monotonic() + 20
    while _read_bytes(proc.pid) < 64 * 1024**2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    _signal_stops_it_cleanly(proc, lambda: proc.send_signal(signum), code, tmp_path)


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["sigint", "sigterm"]
)
def test_signal_to_the_process_group_while_the_memory_map_worker_hashes(
    tmp_path: Path, signum: int, code: int
) -> None:
    """Ctrl-C in a terminal signals the whole foreground group: the worker runs in a session of its own and
    does not get it; the parent stops it and exits with the signal's code, writing nothing."""
    model = tmp_path / "model"
    model.mkdir()
    for name in ("a.safetensors", "b.safetensors"):
        with (model / name).open("wb") as fh:
            fh.truncate(4 * 1024**3)  # two files of 4 GiB, sparse: the memory-map worker's job
    proc = _verify_in_background(model, tmp_path / "report.json", own_group=True)
    deadline = time.monotonic() + 20
    workers: list[int] = []
    while not workers and time.monotonic() < deadline and proc.poll() is None:
        workers = mapped_workers(proc.pid)
        time.sleep(0.02)
    assert workers, "the memory-map worker never started"
    time.sleep(0.3)
    _signal_stops_it_cleanly(proc, lambda: os.killpg(proc.pid, signum), code, tmp_path)
    assert not Path(f"/proc/{workers[0]}").exists(), "the worker outlived the command"
