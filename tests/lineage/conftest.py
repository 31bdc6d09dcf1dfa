"""Fixtures for lineage tests."""

from __future__ import annotations

import pytest
from lineage_support import DEEPSEEK_README


@pytest.fixture(scope="session")
def deepseek_readme() -> str:
    return DEEPSEEK_README.read_text(encoding="utf-8")
