"""Provides replication statistics: means with 95% t-intervals, and paired differences between policies.

Replications are independent, so a KPI's mean over n replications has a Student-t confidence interval with
n − 1 degrees of freedom. Two policies run on the same seeds meet the same customers (common random
numbers), so their difference is estimated from per-replication differences: the noise both share cancels
and the interval is much narrower than comparing two separate intervals.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Self

import numpy as np

LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    mean: float
    half_width: float  # of the 95% interval; nan with fewer than 2 replications
    n: int
    # The range the quantity can take (a rate: 0 to 1; a change of a rate: -1 to 1). The interval is cut to it:
    # the true mean lies inside, so cutting loses no coverage, and a service level never reads "high 1.30".
    floor: float = -math.inf
    ceiling: float = math.inf

    @property
    def low(self) -> float:
        return max(self.mean - self.half_width, self.floor)

    @property
    def high(self) -> float:
        return min(self.mean + self.half_width, self.ceiling)

    def within(self, floor: float, ceiling: float) -> Self:
        return dataclasses.replace(self, floor=floor, ceiling=ceiling)

    def to_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "half_width": self.half_width, "n": self.n, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Difference(Estimate):
    """A paired difference (policy − baseline)."""

    @property
    def significant(self) -> bool:
        """The 95% interval excludes zero."""
        return self.n >= 2 and not math.isnan(self.half_width) and abs(self.mean) > self.half_width

    def to_dict(self) -> dict[str, float]:
        return {**super().to_dict(), "significant": self.significant}


@functools.cache
def _t(n: int) -> float:
    """Student-t quantile for n replications (scipy is imported here, not at start-up: simulation worker
    processes never need it)."""
    from scipy import stats

    return float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) if n >= 2 else math.nan


def estimate(values: list[float] | np.ndarray) -> Estimate:
    """Mean and 95% half-width of the finite values (a KPI is nan when its denominator was zero)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    half = _t(n) * float(v.std(ddof=1)) / math.sqrt(n) if n >= 2 else math.nan
    return Estimate(float(v.mean()), half, n)


def paired(values: list[float] | np.ndarray, baseline: list[float] | np.ndarray) -> Difference:
    """Mean and 95% half-width of per-replication differences, over replications where both are finite."""
    a, b = np.asarray(values, dtype=float), np.asarray(baseline, dtype=float)
    n = min(len(a), len(b))
    d = a[:n] - b[:n]
    d = d[np.isfinite(d)]
    e = estimate(d)
    return Difference(e.mean, e.half_width, e.n)
