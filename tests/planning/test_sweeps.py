"""Sweeps over any field: the grid, tidy rows, the same numbers serially and on processes, and the direction
a strategist expects at equal service (more automation by a bot that resolves costs less per resolution)."""

from __future__ import annotations

import copy

import pytest
from conftest import BOT_POLICY, SEED, SMALL_SCENARIO

from sandbox import api
from sandbox.errors import ConfigError
from sandbox.planning.sweeps import parse_varies, parse_vary


def test_ranges_and_lists() -> None:
    assert parse_vary("policy.automation.share=0:1:0.1").values == tuple(i / 10 for i in range(11))
    assert parse_vary("scenario.demand.contacts_per_day=1000,1200").values == (1000, 1200)
    assert parse_vary("scenario.demand.contacts_per_day=100:300:100").values == (100, 200, 300)
    assert parse_vary("intents.general.handle_time.mean=4m, 6m").values == ("4m", "6m")


@pytest.mark.parametrize("text", ["share", "share=", "share=1:0:0.1", "share=0:1:0", "share=a:b:c"])
def test_mistakes(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_vary(text)


def test_a_grid_too_large_is_refused() -> None:
    with pytest.raises(ConfigError, match="grid"):
        parse_varies(["a=0:100:1", "b=0:100:1"])


def test_grid_rows_and_determinism() -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO) | {"repeat_contacts": {"after_abandonment": 0,
                                                                     "after_false_containment": 0}}
    args = (scenario, copy.deepcopy(BOT_POLICY),
            ["policy.automation.share=0,0.5", "scenario.demand.contacts_per_day=300,500"])
    serial = api.sweep(*args, replications=3, seed=SEED, workers=1)
    parallel = api.sweep(*args, replications=3, seed=SEED, workers=2)
    assert serial.grid.labels == ["share=0, contacts_per_day=300", "share=0, contacts_per_day=500",
                                  "share=0.5, contacts_per_day=300", "share=0.5, contacts_per_day=500"]
    rows = serial.rows()
    assert len(rows) == 4 * len(api.KPIS) * 5
    assert [{**r, "value": str(r["value"])} for r in rows] == \
        [{**r, "value": str(r["value"])} for r in parallel.rows()]  # nan == nan as text
    offered = {(r["policy.automation.share"], r["scenario.demand.contacts_per_day"]): r["value"] for r in rows
               if r["kpi"] == "offered" and r["statistic"] == "mean"}
    assert offered[(0, 500)] > offered[(0, 300)]
    assert offered[(0, 300)] == offered[(0.5, 300)]  # the same customers at every bot share (no repeats)


def test_at_equal_service_a_resolving_bot_lowers_cost_per_resolution() -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    for intent in scenario["intents"].values():
        intent.setdefault("bot", {})["resolve_with_crm"] = 0.8
    fixed = api.sweep(scenario, copy.deepcopy(BOT_POLICY), ["policy.automation.share=0,1"], replications=4,
                      seed=SEED, workers=1)
    same = api.sweep(scenario, copy.deepcopy(BOT_POLICY), ["policy.automation.share=0,1"], replications=4,
                     seed=SEED, workers=1, equal_service=["service_level>=0.8"])
    assert same.comparison.equal_service == ["service_level>=0.8"]
    cost = same.comparison.difference(1, "cost_per_resolved")
    assert cost.mean < 0
    assert cost.significant
    hours = same.comparison.difference(1, "agent_hours")
    assert hours.mean < 0
    assert abs(fixed.comparison.difference(1, "agent_hours").mean) < 1  # agents fixed: only overtime moves
