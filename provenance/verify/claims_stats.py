"""Noise bands for benchmark scores: Wilson score interval from an item count, or a seeded cluster bootstrap
over per-item scores. Pure and deterministic: the same inputs and seed give the same interval on every run.

Items are the unit of sampling (responses to one item are correlated), so with only an aggregate score the
interval uses n = items, and with per-sample scores the bootstrap resamples items, each item contributing the
mean of its samples. See docs/claims.md for why this is the conservative choice.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
MAX_BOOTSTRAP_CELLS = 5_000_000  # resamples x items; beyond this the bootstrap is refused (bounded time)


@dataclass(frozen=True)
class Interval:
    """A two-sided interval on the 0-1 scale, with how it was computed."""

    low: float
    high: float
    confidence: float
    method: str  # "wilson" | "bootstrap"
    n: int
    detail: str = ""

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def to_json(self) -> dict[str, Any]:
        return {
            "low": round(self.low, 6),
            "high": round(self.high, 6),
            "confidence": self.confidence,
            "method": self.method,
            "n": self.n,
            "detail": self.detail,
        }


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(proportion: float, n: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson score interval for an observed proportion over `n` independent items."""
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0.0 <= proportion <= 1.0:
        raise ValueError(f"proportion must be between 0 and 1, got {proportion}")
    z = _z(confidence)
    z2n = z * z / n
    centre = (proportion + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(proportion * (1 - proportion) / n + z2n / (4 * n)) / (1 + z2n)
    return Interval(max(0.0, centre - half), min(1.0, centre + half), confidence, "wilson", n)


def item_means(scores: Sequence[Sequence[float]]) -> list[float]:
    """Per-item mean of its sample scores; every item must have at least one score."""
    if not scores:
        raise ValueError("no items")
    means = []
    for index, samples in enumerate(scores):
        if not samples:
            raise ValueError(f"item {index} has no scores")
        means.append(sum(samples) / len(samples))
    return means


def bootstrap(
    scores: Sequence[Sequence[float]],
    confidence: float = DEFAULT_CONFIDENCE,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Interval:
    """Percentile interval of the mean score, resampling items with replacement (a cluster bootstrap)."""
    means = item_means(scores)
    n = len(means)
    if resamples < 100:
        raise ValueError("at least 100 resamples are needed")
    if resamples * n > MAX_BOOTSTRAP_CELLS:
        raise ValueError(f"{n} items x {resamples} resamples is over the bound of {MAX_BOOTSTRAP_CELLS}")
    _z(confidence)
    rng = random.Random(seed)  # noqa: S311 - reproducible resampling, not security
    stats = sorted(sum(rng.choices(means, k=n)) / n for _ in range(resamples))
    tail = (1 - confidence) / 2
    low = stats[max(0, math.floor(tail * resamples))]
    high = stats[min(resamples - 1, math.ceil((1 - tail) * resamples) - 1)]
    detail = f"{resamples} resamples of {n} items, seed {seed}"
    return Interval(low, high, confidence, "bootstrap", n, detail)
