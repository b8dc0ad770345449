"""The staffing search: with the bot off and Erlang assumptions it returns the Erlang C / Erlang A staffing of
queueing-references.md, the simulation agrees, and one agent fewer misses; and it points the right way when
demand, the bot or the handoff change (common random numbers)."""

from __future__ import annotations

import copy

import pytest
from conftest import BOT_POLICY, SEED, SMALL_SCENARIO, erlang_scenario

from sandbox import api
from sandbox.config.targets import parse_targets
from sandbox.erlang import erlang_a, erlang_c_metrics
from sandbox.planning.staffing import StaffingPlan, staff

NO_BOT = {"name": "no bot", "automation": {"share": 0}}


def search(scenario: dict, policy: dict, targets: list[str], replications: int) -> StaffingPlan:
    loaded = api.load(scenario, [policy])
    return staff(loaded.scenario, loaded.policies[0], parse_targets(targets), replications, SEED)


@pytest.mark.parametrize(("patience", "expected"), [(None, 14), ("5m", 13)])
def test_erlang_staffing_per_interval(patience: str | None, expected: int) -> None:
    """200 calls an hour, AHT 3 min, 80/20: Erlang C needs 14 (13 gives 79.6%); with a 5-minute patience
    Erlang A needs 13 (SL_all 85.8%; 12 gives 77.2%)."""
    scenario = erlang_scenario(200, "3m", 10, patience, days=2)
    plan = search(scenario, NO_BOT, ["service_level>=0.8"], replications=30)
    assert plan.converged
    assert plan.required["team"] == [expected] * 24
    assert all(plan.binding["team"])  # one fewer misses (with 95% confidence) in every interval
    exact = (erlang_c_metrics(200 / 60, 3, expected, 1 / 3).service_level if patience is None
             else erlang_a(200 / 60, 3, 5, expected, 1 / 3).sl_all)
    # the simulation agrees with the formula: the exact value inside four half-widths, in most intervals
    inside = [abs(c[0].value - exact) <= 4 * c[0].half_width for c in plan.checks]
    assert sum(inside) >= 22, [(round(c[0].value, 3), round(c[0].half_width, 3)) for c in plan.checks]


def small(**demand: float) -> dict:
    s = copy.deepcopy(SMALL_SCENARIO)
    s["demand"].update(demand)
    return s


TARGETS = ["service_level>=0.8", "queue_abandonment_rate<=0.1"]


def total(plan: StaffingPlan) -> int:
    assert plan.converged
    return sum(sum(v) for v in plan.required.values())


def test_more_demand_never_needs_fewer_agents() -> None:
    low = total(search(small(contacts_per_day=400), NO_BOT, TARGETS, 10))
    high = total(search(small(contacts_per_day=800), NO_BOT, TARGETS, 10))
    assert high > low


def test_a_better_bot_or_a_warm_handoff_never_needs_more() -> None:
    warm = copy.deepcopy(BOT_POLICY) | {"handoff": {"mode": "warm"}}
    cold = copy.deepcopy(BOT_POLICY) | {"handoff": {"mode": "cold"}}
    better = copy.deepcopy(small())
    for intent in better["intents"].values():
        intent.setdefault("bot", {})["resolve_with_crm"] = 0.9
    assert total(search(small(), warm, TARGETS, 10)) <= total(search(small(), cold, TARGETS, 10))
    assert total(search(better, warm, TARGETS, 10)) <= total(search(small(), warm, TARGETS, 10))
    assert total(search(small(), warm, TARGETS, 10)) <= total(search(small(), NO_BOT, TARGETS, 10))


def test_the_answer_plugs_back_into_the_scenario() -> None:
    plan = search(small(), NO_BOT, TARGETS, 10)
    scenario = small()
    for name, group in scenario["agents"]["groups"].items():
        group.pop("headcount")
        group["schedule"] = plan.schedule(name)
    again = api.compare(scenario, [NO_BOT], replications=10, seed=SEED)
    assert again.estimate(0, "service_level").mean >= 0.8
    assert {r["interval"] for r in plan.rows()} == {plan.clock(k) for k in plan.open_bins}
    assert plan.open_bins == list(range(8, 18))  # 08:00-18:00 in hours


def test_a_target_over_the_day_needs_no_more_than_one_in_every_interval() -> None:
    loaded = api.load(small(), [NO_BOT])
    targets = parse_targets(["service_level>=0.8"])
    every = staff(loaded.scenario, loaded.policies[0], targets, 10, SEED)
    day = staff(loaded.scenario, loaded.policies[0], targets, 10, SEED, per="day")
    assert day.per == "day"
    assert day.converged
    assert total(day) <= total(every)
    assert all(c.confident for c in day.day)  # the day meets it, with 95% confidence
