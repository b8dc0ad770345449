"""--precision: replicate until the interval is that narrow (with a cap), on the same seeds as a fixed count."""

from __future__ import annotations

import copy

from conftest import BOT_POLICY, NO_BOT, SEED, SMALL_SCENARIO

from sandbox import api


def test_replicates_until_the_interval_is_narrow_enough() -> None:
    policies = [copy.deepcopy(NO_BOT), copy.deepcopy(BOT_POLICY)]
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), policies, replications=3, seed=SEED, precision="csat=0.004")
    assert c.replications > 3
    assert all(c.estimate(p, "csat").half_width <= 0.004 for p in (0, 1))
    assert not c.incidents
    fixed = api.compare(copy.deepcopy(SMALL_SCENARIO), policies, replications=c.replications, seed=SEED)
    assert fixed.values(1, "csat") == c.values(1, "csat")  # replication r is replication r, however many


def test_the_cap_is_said() -> None:
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(NO_BOT)], replications=2, seed=SEED,
                    precision="service_level=0.0001", max_replications=6)
    assert c.replications == 6
    assert "still wider than ±0.0001" in c.incidents[0]
