"""Shrinkage: schedules count agents available for contacts; paid hours (and their cost) are those over
(1 − shrinkage). Nothing the customers see changes."""

from __future__ import annotations

import copy

import pytest
from conftest import NO_BOT, SEED, SMALL_SCENARIO

from sandbox import api


def test_shrinkage_pays_more_hours_for_the_same_service() -> None:
    shrunk = copy.deepcopy(SMALL_SCENARIO)
    for group in shrunk["agents"]["groups"].values():
        group["shrinkage"] = 0.3
    plain = api.compare(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(NO_BOT)], replications=2, seed=SEED)
    paid = api.compare(shrunk, [copy.deepcopy(NO_BOT)], replications=2, seed=SEED)
    for kpi in ("service_level", "abandonment_rate", "csat", "occupancy", "productive_hours"):
        assert paid.values(0, kpi) == plain.values(0, kpi), kpi
    for a, b in zip(paid.values(0, "agent_hours"), plain.values(0, "agent_hours"), strict=True):
        assert a == pytest.approx(b / 0.7)
    for a, b in zip(paid.values(0, "agent_cost"), plain.values(0, "agent_cost"), strict=True):
        assert a == pytest.approx(b / 0.7)
    assert plain.values(0, "agent_hours") == plain.values(0, "productive_hours")
