"""Serial and parallel comparisons give identical results; a replication is reproducible on its own.

Streams are derived from (seed, replication, source, day) (sandbox/engine/streams.py) and results are stored by
(policy, replication), so neither the process a replication runs in nor the order replications finish in may
change a single number.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
from conftest import BOT_POLICY, NO_BOT, SEED, SMALL_SCENARIO

from sandbox import api
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import RunResult, simulate
from sandbox.experiments import Comparison

REPLICATIONS = 4


def scenario() -> dict[str, Any]:
    """Two days with a warm-up, repeat contacts and a bot: every source of randomness in play."""
    s = copy.deepcopy(SMALL_SCENARIO)
    s["horizon"].update(days=2, warm_up="2h")
    return s


def policies() -> list[dict[str, Any]]:
    cold = copy.deepcopy(BOT_POLICY)
    cold.update(name="bot, cold", handoff={"mode": "cold"}, callback={"after_wait": "1m", "accept": 0.5})
    return [copy.deepcopy(NO_BOT), copy.deepcopy(BOT_POLICY), cold]


def equal(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_same_run(a: RunResult, b: RunResult) -> None:
    """Everything but the wall-clock time."""
    assert (a.seed, a.replication) == (b.seed, b.replication)
    assert a.kpis.keys() == b.kpis.keys()
    different = [k for k in a.kpis if not equal(a.kpis[k], b.kpis[k])]
    assert not different, {k: (a.kpis[k], b.kpis[k]) for k in different}
    assert a.series.keys() == b.series.keys()
    for name in a.series:
        assert all(equal(x, y) for x, y in zip(a.series[name], b.series[name], strict=True)), name
    assert a.by_intent.keys() == b.by_intent.keys()
    for intent in a.by_intent:
        assert all(equal(a.by_intent[intent][f], b.by_intent[intent][f]) for f in a.by_intent[intent]), intent
    assert a.counts == b.counts


@pytest.fixture(scope="module")
def serial() -> Comparison:
    return api.compare(scenario(), policies(), replications=REPLICATIONS, seed=SEED, workers=1)


def test_two_workers_equal_one(serial: Comparison) -> None:
    parallel = api.compare(scenario(), policies(), replications=REPLICATIONS, seed=SEED, workers=2)
    assert not serial.cancelled
    assert not parallel.cancelled
    assert parallel.labels == serial.labels
    for p in range(len(serial.labels)):
        for r in range(REPLICATIONS):
            a, b = serial.results[p][r], parallel.results[p][r]
            assert a is not None
            assert b is not None
            assert_same_run(a, b)


def test_a_replication_alone_equals_it_inside_a_comparison(serial: Comparison) -> None:
    s = Scenario.model_validate(scenario())
    for p, policy in enumerate(policies()):
        plan = compile_plan(s, Policy.model_validate(policy))
        for r in reversed(range(REPLICATIONS)):  # alone, and in a different order
            inside = serial.results[p][r]
            assert inside is not None
            assert_same_run(simulate(plan, SEED, r), inside)


def test_replications_and_seeds_differ(serial: Comparison) -> None:
    # The identities above would hold trivially if every replication were the same run.
    offered = serial.values(0, "offered")
    assert len(set(offered)) == REPLICATIONS
    other = api.compare(scenario(), policies()[:1], replications=1, seed=SEED + 1, workers=1)
    assert other.values(0, "offered")[0] != offered[0] or other.values(0, "served")[0] != serial.values(0, "served")[0]
