"""Short property-based fuzz of every parser (the long run is `bench/fuzz.py`); targets in fuzz_targets.py.

Property: a parser returns JSON-serialisable evidence or raises a ProvenanceError; nothing else escapes, and no
single input takes unbounded time (the generous deadline catches hangs, not slowness).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from fuzz_targets import TARGETS, close_sandboxes
from hypothesis import HealthCheck, given, settings

_SETTINGS = settings(
    max_examples=150,
    deadline=datetime.timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def _catalog_sandbox() -> Iterator[None]:
    yield
    close_sandboxes()


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_parser_raises_only_provenance_errors(name: str) -> None:
    target = TARGETS[name]

    @_SETTINGS
    @given(target.strategy)
    def run(case: Any) -> None:
        target.check(case)

    run()
