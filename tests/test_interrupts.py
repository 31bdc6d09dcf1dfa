"""SIGINT and SIGTERM during a scan: the documented exit code, and nothing half-written."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["sigint", "sigterm"]
)
def test_signal_during_hub_scan(hub, tmp_path: Path, signum: int, code: int) -> None:  # type: ignore[no-untyped-def]
    hub.faults.hang(repo="acme/tiny-llm", where="api")
    out = tmp_path / "report.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "provenance.cli", "scan", "acme/tiny-llm", "--format", "json", "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while hub.log.count(repo="acme/tiny-llm") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    try:
        _stdout, stderr = proc.communicate(timeout=5)
    finally:
        proc.kill()
    assert proc.returncode == code, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []
