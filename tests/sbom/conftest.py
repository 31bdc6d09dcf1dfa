"""SBOM tests: the `--update-goldens` option and the offline fixture.

Regenerate the golden SBOMs with `pytest tests/sbom --update-goldens` (the option is registered in
tests/conftest.py). Then read the diff before committing it.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens", default=False))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolve from the bundled knowledge base only, with a fixed creation time source."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
