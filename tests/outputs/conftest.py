"""Golden files for the output formats: `pytest tests/outputs --update-goldens` rewrites them.

The option is registered once, in tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from outputs_support import Golden

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "outputs"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """`golden(name, text)`: compare `text` with tests/data/golden/outputs/NAME (or rewrite it)."""
    update = bool(request.config.getoption("--update-goldens", default=False))

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest tests/outputs --update-goldens"
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"{name} differs from its golden file; review, then --update-goldens"

    return check
