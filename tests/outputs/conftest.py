"""Golden files for the output formats: `pytest tests/outputs --update-goldens` rewrites them.

The option is registered here, so it is known when pytest starts from this folder (or from a parent that
names it); a run of the whole suite without the option compares as usual.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from outputs_support import Golden

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "outputs"


def pytest_addoption(parser: pytest.Parser) -> None:
    # another conftest (the SBOM tests') may have registered the same option first: then it is shared
    with contextlib.suppress(ValueError):
        parser.addoption(
            "--update-goldens",
            action="store_true",
            default=False,
            help="rewrite the golden files from the current output instead of comparing",
        )


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
