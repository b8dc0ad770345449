"""sandbox.metrics.stats: Student-t intervals and paired differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SEED
from scipy import stats

from sandbox.metrics.stats import Difference, Estimate, estimate, paired

DATA = [12.1, 9.8, 11.4, 10.9, 13.2, 8.7, 10.1, 11.8]


@pytest.mark.parametrize("values", [DATA, DATA[:2], DATA[:3], [0.5, 0.25, 0.125, 0.0625, 1.0] * 3])
def test_estimate_matches_scipy_t_interval(values: list[float]) -> None:
    e = estimate(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert e.n == len(values)
    assert e.mean == pytest.approx(np.mean(values), rel=1e-14)
    assert e.low == pytest.approx(low, rel=1e-12)
    assert e.high == pytest.approx(high, rel=1e-12)
    assert e.half_width == pytest.approx((high - low) / 2, rel=1e-12)


def test_known_half_width() -> None:
    # mean 2, sd 1, n 4: t(0.975, 3) = 3.182446…, half width 3.182446 / 2
    e = estimate([1.0, 2.0, 2.0, 3.0])
    assert e.mean == 2.0
    assert e.half_width == pytest.approx(3.182446305284263 * math.sqrt(2 / 3) / 2, rel=1e-12)


def test_constant_values_have_zero_width() -> None:
    e = estimate([4.0, 4.0, 4.0])
    assert (e.mean, e.half_width, e.n) == (4.0, 0.0, 3)


def test_single_value_has_nan_half_width() -> None:
    e = estimate([3.5])
    assert e.mean == 3.5
    assert e.n == 1
    assert math.isnan(e.half_width)
    assert math.isnan(e.low)
    assert math.isnan(e.high)


def test_no_values() -> None:
    e = estimate([])
    assert e.n == 0
    assert math.isnan(e.mean)
    assert math.isnan(e.half_width)


def test_nan_and_infinite_values_are_left_out() -> None:
    with_nan = estimate([1.0, math.nan, 2.0, 3.0, math.inf, -math.inf])
    assert with_nan == estimate([1.0, 2.0, 3.0])
    assert estimate([math.nan, math.nan]).n == 0


def test_estimate_to_dict() -> None:
    d = estimate([1.0, 2.0, 3.0]).to_dict()
    assert set(d) == {"mean", "half_width", "n", "low", "high"}
    assert d["low"] == pytest.approx(d["mean"] - d["half_width"])
    assert d["high"] == pytest.approx(d["mean"] + d["half_width"])


def test_paired_is_the_estimate_of_differences() -> None:
    a = [5.0, 7.0, 6.5, 8.0]
    b = [4.0, 6.5, 5.0, 7.5]
    d = paired(a, b)
    e = estimate(np.subtract(a, b))
    assert isinstance(d, Difference)
    assert (d.mean, d.half_width, d.n) == (e.mean, e.half_width, e.n)


def test_paired_is_narrower_than_unpaired_for_correlated_samples() -> None:
    rng = np.random.default_rng(SEED)
    common = rng.normal(100, 20, 30)  # the customers both policies meet
    baseline = common + rng.normal(0, 1, 30)
    policy = common + 2 + rng.normal(0, 1, 30)
    d = paired(policy, baseline)
    unpaired = math.hypot(estimate(policy).half_width, estimate(baseline).half_width)
    assert d.half_width < unpaired / 5
    assert d.significant
    assert d.low < 2 < d.high  # covers the true difference
    # the two separate intervals overlap: only pairing reveals the difference
    assert estimate(policy).low < estimate(baseline).high


def test_paired_uses_replications_both_have() -> None:
    d = paired([1.0, 2.0, math.nan, 4.0, 9.0], [0.0, 1.5, 3.0, 3.0])
    assert d.n == 3  # the nan pair and the unmatched fifth value are left out
    assert d.mean == pytest.approx(np.mean([1.0, 0.5, 1.0]))


@pytest.mark.parametrize(("mean", "half", "n", "significant"), [
    (1.0, 0.5, 5, True), (-1.0, 0.5, 5, True), (0.4, 0.5, 5, False), (-0.4, 0.5, 5, False),
    (0.5, 0.5, 5, False), (1.0, math.nan, 1, False), (1.0, 0.0, 1, False), (0.0, 0.0, 5, False),
    (1e-9, 0.0, 5, True),
])
def test_difference_significant(mean: float, half: float, n: int, significant: bool) -> None:
    d = Difference(mean, half, n)
    assert d.significant is significant
    assert d.to_dict()["significant"] is significant


def test_identical_policies_have_a_zero_insignificant_difference() -> None:
    values = [3.0, 4.0, 5.5]
    d = paired(values, values)
    assert (d.mean, d.half_width, d.n, d.significant) == (0.0, 0.0, 3, False)


def test_single_pair_is_not_significant() -> None:
    d = paired([10.0], [1.0])
    assert d.n == 1
    assert math.isnan(d.half_width)
    assert not d.significant


def test_estimate_is_frozen() -> None:
    e = Estimate(1.0, 0.1, 3)
    with pytest.raises(AttributeError):
        e.mean = 2.0  # type: ignore[misc]


def test_a_stopped_comparison_keeps_only_replications_every_policy_finished() -> None:
    """After a stop, means, paired changes and per-intent figures are over the same replications."""
    from sandbox import api

    seen: list[int] = []

    def stop() -> bool:
        return len(seen) >= 5  # an odd number of results: one policy is a replication ahead

    def count(c: api.Comparison) -> None:
        seen[:] = [1] * sum(r is not None for runs in c.results for r in runs)

    c = api.compare(policies=["no-bot", "warm-handoff"], replications=6, days=1, workers=1,
                    overrides=["demand.contacts_per_day=200"], on_result=count, should_stop=stop)
    assert c.cancelled
    assert len(c.finished(0)) == len(c.finished(1)) == c.complete_replications() == 2
