"""Helpers of the statistical tests: run replications on common random numbers and build t-intervals.

Every statistical assertion in tests/validation and tests/functional goes through ``t_interval`` or
``paired_interval``: replications are independent, so a mean over n of them has a Student-t interval with
n − 1 degrees of freedom. When one test makes m assertions of this kind, each uses the Bonferroni level
1 − (1 − 0.99)/m, so that the test as a whole has at most a 1% chance of failing on a correct simulator
(``family_level``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import RunResult, simulate

FAMILY = 0.99  # confidence of a whole test (all its statistical assertions together)


@dataclass(frozen=True)
class Interval:
    """A Student-t confidence interval for a mean over replications."""

    mean: float
    half: float
    n: int
    level: float

    @property
    def low(self) -> float:
        return self.mean - self.half

    @property
    def high(self) -> float:
        return self.mean + self.half

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.6g} ± {self.half:.3g} ({100 * self.level:.3g}% CI, n={self.n})"


def family_level(m: int, family: float = FAMILY) -> float:
    """Per-assertion level so that m assertions hold together with probability ≥ ``family`` (Bonferroni)."""
    return 1.0 - (1.0 - family) / m


def t_interval(values: Sequence[float] | np.ndarray, level: float) -> Interval:
    v = np.asarray(values, dtype=float)
    assert v.size >= 2, "an interval needs at least two replications"
    assert np.isfinite(v).all(), f"non-finite replication values: {v}"
    n = int(v.size)
    se = float(v.std(ddof=1)) / math.sqrt(n)
    return Interval(float(v.mean()), float(stats.t.ppf(0.5 + level / 2, n - 1)) * se, n, level)


def paired_interval(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, level: float) -> Interval:
    """Interval of the mean of per-replication differences a − b (common random numbers)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    return t_interval(a - b, level)


# --- running ------------------------------------------------------------------------------------------

Extra = Callable[[RunResult], dict[str, float]]


def plan_of(scenario: dict[str, Any], policy: dict[str, Any]):
    return compile_plan(Scenario.model_validate(copy.deepcopy(scenario)), Policy.model_validate(copy.deepcopy(policy)))


_CACHE: dict[str, list[dict[str, float]]] = {}


def waits(result: RunResult) -> dict[str, float]:
    """Quantities that are not KPIs, measured from the per-contact records and the series.

    p_wait: share of contacts that joined the queue and did not get an agent at once (Erlang P(wait)).
    queue_length: the queue_length series averaged over the horizon (time-weighted, intervals of equal width).
    """
    rec = result.records
    assert rec is not None
    queued = rec["queued"]
    return {
        "p_wait": float(np.mean(rec["wait"][queued] > 0)),
        "queue_length": float(np.mean(result.series["queue_length"])),
        "queued": float(result.counts["queued"]),
        "asa_all_min": result.kpis["asa_all"] / 60,
        "asa_served_min": result.kpis["asa_served"] / 60,
        "blocking": result.kpis["blocked"] / result.kpis["offered"],
    }


def replicate(scenario: dict[str, Any], policy: dict[str, Any], replications: int, seed: int,
              keep_records: bool = True) -> list[dict[str, float]]:
    """KPIs (plus ``waits``) of replications 0..n−1, memoised for the test session."""
    key = json.dumps([scenario, policy, replications, seed, keep_records], sort_keys=True)
    if key not in _CACHE:
        plan = plan_of(scenario, policy)
        rows = []
        for r in range(replications):
            result = simulate(plan, seed=seed, replication=r, keep_records=keep_records)
            row = dict(result.kpis)
            if keep_records:
                row.update(waits(result))
            rows.append(row)
        _CACHE[key] = rows
    return _CACHE[key]


def column(rows: list[dict[str, float]], name: str) -> np.ndarray:
    return np.array([row[name] for row in rows], dtype=float)
