"""docs/reliability.md maps each checklist case to tests: every test id it names must still be collected."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "reliability.md"
TEST_ID = re.compile(r"`(tests/[\w/]+\.py::\w+(?:\[[^\]`]*\])?)`")
STATUSES = ("covered", "partial", "uncovered", "added")


def _rows() -> list[list[str]]:
    """The (case, tests, status) rows of every table whose header is `| Case | Tests | Status |`."""
    rows, in_map = [], False
    for line in MAP.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_map = False
        elif cells == ["Case", "Tests", "Status"]:
            in_map = True
        elif in_map and cells[0] != "---":
            assert len(cells) == 3, line
            rows.append(cells)
    return rows


def _collected(files: set[str]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *sorted(files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return {line.strip() for line in done.stdout.splitlines() if "::" in line}


def test_every_row_has_a_status_and_tests_unless_uncovered() -> None:
    rows = _rows()
    assert len(rows) >= 80
    for case, tests, status in rows:
        assert status.split(" ")[0].rstrip(":") in STATUSES, (case, status)
        assert TEST_ID.search(tests) or status.startswith("uncovered"), case


def test_every_test_id_named_in_the_map_exists() -> None:
    ids = {match for _case, tests, _status in _rows() for match in TEST_ID.findall(tests)}
    collected = _collected({i.split("::")[0] for i in ids})
    missing = sorted(
        i for i in ids if i not in collected and not any(c.startswith(i + "[") for c in collected)
    )
    assert not missing, missing
