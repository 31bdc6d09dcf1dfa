"""Noise bands: the Wilson interval solves its defining equation; the bootstrap is seeded and bounded."""

from __future__ import annotations

import random
from statistics import NormalDist

import pytest

from provenance.verify.claims_stats import MAX_BOOTSTRAP_CELLS, bootstrap, item_means, wilson


@pytest.mark.parametrize(("successes", "n"), [(22, 30), (12, 30), (486, 500), (1, 198)])
def test_wilson_bounds_are_the_roots_of_the_score_equation(successes: int, n: int) -> None:
    p_hat = successes / n
    z = NormalDist().inv_cdf(0.975)
    interval = wilson(p_hat, n)
    for p in (interval.low, interval.high):
        # Wilson's interval is the set of p with (p_hat - p)^2 <= z^2 p (1 - p) / n; its ends satisfy equality.
        assert (p_hat - p) ** 2 == pytest.approx(z * z * p * (1 - p) / n, rel=1e-9, abs=1e-12)
    assert interval.low < p_hat < interval.high


def test_wilson_narrows_with_more_items_and_widens_with_confidence() -> None:
    assert wilson(0.8, 500).high - wilson(0.8, 500).low < wilson(0.8, 30).high - wilson(0.8, 30).low
    assert wilson(0.8, 30, 0.99).low < wilson(0.8, 30, 0.95).low


def test_wilson_at_the_edges_stays_inside_zero_one_and_is_not_empty() -> None:
    zero, one = wilson(0.0, 30), wilson(1.0, 30)
    assert zero.low == 0.0 < zero.high < 0.2
    assert 0.8 < one.low < one.high == 1.0


@pytest.mark.parametrize("bad", [(-0.1, 30), (1.2, 30), (0.5, 0)])
def test_wilson_rejects_impossible_inputs(bad: tuple[float, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        wilson(*bad)


def _scores(seed: int, items: int, samples: int, p: float) -> list[list[float]]:
    rng = random.Random(seed)
    return [[float(rng.random() < p) for _ in range(samples)] for _ in range(items)]


def test_bootstrap_is_deterministic_for_a_seed_and_moves_with_another() -> None:
    scores = _scores(1, 30, 4, 0.75)
    assert bootstrap(scores, seed=7) == bootstrap(scores, seed=7)
    assert bootstrap(scores, seed=7) != bootstrap(scores, seed=8)


def test_bootstrap_interval_brackets_the_observed_mean() -> None:
    scores = _scores(2, 60, 8, 0.6)
    means = item_means(scores)
    observed = sum(means) / len(means)
    interval = bootstrap(scores)
    assert interval.low < observed < interval.high
    assert interval.method == "bootstrap" and interval.n == 60


def test_bootstrap_over_one_sample_per_item_agrees_with_wilson_in_width() -> None:
    scores = _scores(3, 500, 1, 0.8)
    p_hat = sum(s[0] for s in scores) / 500
    boot, score = bootstrap(scores, resamples=4000), wilson(p_hat, 500)
    assert (boot.high - boot.low) == pytest.approx(score.high - score.low, rel=0.15)


def test_identical_items_give_a_zero_width_band() -> None:
    interval = bootstrap([[1.0, 1.0]] * 10)
    assert interval.low == interval.high == 1.0


def test_bootstrap_refuses_unbounded_work_and_empty_items() -> None:
    with pytest.raises(ValueError, match="over the bound"):
        bootstrap([[1.0]] * (MAX_BOOTSTRAP_CELLS // 100 + 1), resamples=100)
    with pytest.raises(ValueError, match="no scores"):
        bootstrap([[1.0], []])
