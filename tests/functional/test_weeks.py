"""Weeks, not days (the multi-day issue): stale knowledge, the feedback loop, the rollout ramp, shocks and the
results per day. Switch-offs reduce exactly to the model without them; directions are judged on common random
numbers (the same customers under both arms), with paired intervals at the Bonferroni level of each test."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from conftest import NO_BOT, SEED, SMALL_SCENARIO
from validation.replications import family_level, paired_interval, plan_of

from sandbox import api
from sandbox.config.policy import Policy
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate

BOT: dict[str, Any] = {"name": "bot", "automation": {"share": 0.8},
                       "escalation": {"max_bot_turns": 3, "frustration_threshold": 0.6}}
WEEKLY = {"review_every": "7d", "curation_hours_per_week": 8, "hours_per_fix": 2}


def weeks(days: int = 21, **knowledge: Any) -> dict[str, Any]:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    scenario["horizon"]["days"] = days
    scenario["hours"]["default"] = "00:00-24:00"
    scenario["knowledge"] = {"changes_per_week": 0.7, "stale_wrong_answer": 0.4, **knowledge}
    return scenario


def with_loop(policy: dict[str, Any], **improvement: Any) -> dict[str, Any]:
    return {**copy.deepcopy(policy), "improvement": {**WEEKLY, **improvement}}


def daily(scenario: dict[str, Any], policy: dict[str, Any], name: str, replications: int = 10) -> np.ndarray:
    """[replication, day] of one daily figure."""
    plan = plan_of(scenario, policy)
    return np.array([[row[name] for row in simulate(plan, seed=SEED, replication=r).daily]
                     for r in range(replications)])


def kpis(scenario: dict[str, Any], policy: dict[str, Any], replications: int = 3) -> list[dict[str, float]]:
    plan = plan_of(scenario, policy)
    return [simulate(plan, seed=SEED, replication=r).kpis for r in range(replications)]


def _same(a: list[dict[str, float]], b: list[dict[str, float]], skip: tuple[str, ...] = ()) -> None:
    for x, y in zip(a, b, strict=True):
        for name in x:
            if name not in skip:
                assert x[name] == y[name] or (math.isnan(x[name]) and math.isnan(y[name])), name


# --- switch-offs --------------------------------------------------------------------------------------------

def test_no_knowledge_changes_and_no_loop_is_the_model_without_the_sections() -> None:
    plain = copy.deepcopy(SMALL_SCENARIO)
    plain["horizon"]["days"] = 3
    off = copy.deepcopy(plain)
    off["knowledge"] = {"changes_per_week": 0, "stale_wrong_answer": 0.9, "update_lag": "3d"}
    off["events"] = []
    ramp = {**BOT, "automation": {**BOT["automation"], "ramp": {"1": 1.0}}}
    _same(kpis(plain, BOT), kpis(off, ramp))


def test_a_loop_that_cannot_learn_changes_only_the_curation_cost() -> None:
    # Nothing goes stale and max_gain is 0: the reviews change no rule, so only the budget they are paid shows.
    scenario = weeks(days=14, changes_per_week=0)
    base, loop = kpis(scenario, BOT), kpis(scenario, with_loop(BOT, max_gain=0))
    _same(base, loop, skip=("curation_cost", "total_cost", "cost_per_resolved", "net_cost"))
    assert all(row["curation_cost"] == pytest.approx(14 * 8 / 7 * 40) for row in loop)
    assert all(x["total_cost"] == pytest.approx(y["total_cost"] + y_loop["curation_cost"])
               for x, y, y_loop in zip(loop, base, loop, strict=True))


# --- directions -----------------------------------------------------------------------------------------------

def test_without_a_feedback_loop_resolution_drifts_down_and_with_one_it_does_not() -> None:
    level = family_level(3)
    scenario = weeks()
    scenario["demand"]["contacts_per_day"] = 1500  # daily rates precise enough to see a week's drift
    leave = daily(scenario, BOT, "bot_resolution_rate")
    review = daily(scenario, with_loop(BOT), "bot_resolution_rate")
    first, last = slice(0, 7), slice(14, 21)
    drift = paired_interval(leave[:, last].mean(axis=1), leave[:, first].mean(axis=1), level)
    assert drift.high < 0, f"launch and leave, last week − first week: {drift}"
    kept = paired_interval(review[:, last].mean(axis=1), leave[:, last].mean(axis=1), level)
    assert kept.low > 0, f"with the loop − without, last week: {kept}"
    held = paired_interval(review[:, last].mean(axis=1), review[:, first].mean(axis=1), level)
    assert held.high > 0, f"with the loop, last week − first week: {held}"  # not significantly lower


def test_a_longer_update_lag_never_raises_resolution() -> None:
    level = family_level(1)
    quick = daily(weeks(update_lag="3d"), BOT, "bot_resolution_rate").mean(axis=1)
    slow = daily(weeks(update_lag="10d"), BOT, "bot_resolution_rate").mean(axis=1)
    change = paired_interval(slow, quick, level)
    assert change.high < 0, f"10-day lag − 3-day lag: {change}"


def test_a_scheduled_change_makes_its_intent_stale_until_the_review_fixes_it() -> None:
    scenario = weeks(days=14, changes_per_week=0)
    scenario["events"] = [{"kind": "knowledge_change", "day": 3, "intents": ["order_status", "billing_error"]}]
    stale = daily(scenario, with_loop(BOT), "stale_intents", replications=2)
    assert (stale[:, :2] == 0).all()  # fresh until the change on day 3
    assert (stale[:, 2:7] == 2).all()  # stale until the review at the start of day 8
    assert (stale[:, 7:] == 0).all()
    left = daily(scenario, BOT, "stale_intents", replications=2)
    assert (left[:, 2:] == 2).all()  # launch and leave: stale to the end


def test_a_bot_outage_sends_that_days_contacts_to_humans() -> None:
    level = family_level(2)
    scenario = weeks(days=3, changes_per_week=0)
    down = copy.deepcopy(scenario)
    down["events"] = [{"kind": "bot_outage", "day": 2, "start": "08:00", "length": "6h"}]
    plan = plan_of(down, BOT)
    records = simulate(plan, seed=SEED, replication=0, keep_records=True).records
    assert records is not None
    inside = (records["arrive"] >= 1440 + 480) & (records["arrive"] < 1440 + 840) & (records["origin"] == 0)
    assert inside.sum() > 0
    assert (records["turns"][inside] == 0).all()  # nobody talked to the bot while it was down
    assert (records["turns"][~inside & (records["origin"] == 0)] > 0).any()
    before, after = (daily(s, BOT, "occupancy") for s in (scenario, down))
    load = paired_interval(after[:, 1], before[:, 1], level)
    assert load.low > 0, f"occupancy on the outage day, with − without: {load}"
    other = paired_interval(after[:, 0], before[:, 0], level)
    assert other.contains(0.0), f"occupancy the day before: {other}"


def test_a_demand_surge_multiplies_that_days_arrivals() -> None:
    scenario = weeks(days=2, changes_per_week=0)
    scenario["repeat_contacts"] = {"after_abandonment": 0, "after_false_containment": 0}  # first contacts only
    surge = copy.deepcopy(scenario)
    surge["events"] = [{"kind": "demand_surge", "day": 2, "factor": 2.0}]
    base, more = (daily(s, NO_BOT, "offered", replications=20) for s in (scenario, surge))
    assert (base[:, 0] == more[:, 0]).all()  # day 1 untouched, contact for contact
    ratio = more[:, 1].sum() / base[:, 1].sum()
    assert ratio == pytest.approx(2.0, rel=0.05)


def test_an_absence_removes_its_share_of_the_scheduled_agents() -> None:
    scenario = weeks(days=2, changes_per_week=0)
    scenario["agents"]["groups"]["service"]["headcount"] = 10
    away = copy.deepcopy(scenario)
    away["events"] = [{"kind": "agent_absence", "day": 2, "groups": ["service"], "share": 0.3}]
    base, fewer = (daily(s, NO_BOT, "productive_hours", replications=2) for s in (scenario, away))
    assert base[:, 1] == pytest.approx(12 * 24, rel=1e-6)  # 10 service + 2 billing agents around the clock
    assert fewer[:, 1] == pytest.approx((7 + 2) * 24, rel=0.01)  # those on a call at the start finish it


def test_a_ramp_scales_the_bot_share_day_by_day() -> None:
    policy = Policy.model_validate({**BOT, "automation": {"share": 0.8, "ramp": {"3": 0.25, "8": 0.5, "15": 1}}})
    scenario = api.load_scenario(weeks())
    plan = compile_plan(scenario, policy)
    shares = [float(plan.rules_on(day).bot.share[0]) for day in (0, 2, 6, 7, 13, 14, 20)]
    assert shares == pytest.approx([0.2, 0.2, 0.2, 0.4, 0.4, 0.8, 0.8])


# --- results per day ----------------------------------------------------------------------------------------

def test_a_days_record_agrees_with_the_runs_kpis() -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    result = simulate(plan_of(scenario, BOT), seed=SEED, replication=0)
    (day,) = result.daily
    for name in ("offered", "bot_resolution_rate", "abandonment_rate", "queue_abandonment_rate", "service_level",
                 "csat", "productive_hours"):
        assert day[name] == pytest.approx(result.kpis[name], rel=1e-9), name
    assert day["asa_all"] == pytest.approx(result.kpis["asa_all"], rel=1e-9)


def test_the_days_of_a_run_add_up_to_it() -> None:
    # Every mechanism at once, overlapping: each contact still ends in exactly one outcome, counted on one day.
    scenario = weeks(days=5)
    scenario["events"] = [{"kind": "bot_outage", "day": 2, "start": "20:00", "length": "8h"},
                          {"kind": "demand_surge", "day": 2, "start": "22:00", "length": "1d", "factor": 1.7},
                          {"kind": "agent_absence", "day": 3, "share": 0.5, "length": "36h"},
                          {"kind": "knowledge_change", "day": 4, "intents": ["cancellation"]}]
    policy = with_loop({**BOT, "automation": {"share": 0.8, "ramp": {"1": 0.5, "3": 1}}}, review_every="2d")
    result = simulate(plan_of(scenario, policy), seed=SEED, replication=0, keep_records=True)
    assert result.records is not None
    assert len(result.records["outcome"]) == result.kpis["offered"]
    assert len(result.daily) == 5
    assert sum(d["offered"] for d in result.daily) == result.kpis["offered"]
    assert sum(d["productive_hours"] for d in result.daily) == pytest.approx(result.kpis["productive_hours"])


def test_the_comparison_reports_days_and_weeks() -> None:
    c = api.compare(weeks(days=14), [BOT, with_loop(BOT)], replications=3, seed=SEED, workers=1,
                    labels=["leave", "loop"])
    days, weeks_ = c.daily(1), c.daily(1, 7)
    assert [d["day"] for d in days] == list(range(1, 15))
    assert [w["week"] for w in weeks_] == [1, 2]
    assert weeks_[0]["offered"]["mean"] == pytest.approx(sum(d["offered"]["mean"] for d in days[:7]))
    assert c.to_dict()["policies"]["loop"]["daily"] == days


# --- returns, as often as they happen ---------------------------------------------------------------------------

def _returning(max_returns: int) -> dict[str, Any]:
    scenario = weeks(days=3)
    scenario["repeat_contacts"] = {"after_abandonment": 0.6, "after_false_containment": 0.8,
                                   "abandonment_delay": {"kind": "exponential", "mean": "20m"},
                                   "false_containment_delay": {"kind": "exponential", "mean": "1h"},
                                   "max_returns": max_returns}
    return scenario


def test_customers_come_back_more_than_once() -> None:
    once, thrice = kpis(_returning(1), BOT, 4), kpis(_returning(3), BOT, 4)
    for a, b in zip(once, thrice, strict=True):
        assert b["repeat_contacts"] > a["repeat_contacts"]
    plan = plan_of(_returning(3), BOT)
    result = simulate(plan, seed=SEED, replication=0, keep_records=True)
    assert result.records is not None
    assert len(result.records["outcome"]) == result.kpis["offered"]  # every contact, every return: one outcome
    repeats = result.kpis["repeat_contacts"]
    assert repeats <= 3 * (result.kpis["offered"] - repeats)


def test_one_return_is_the_earlier_model() -> None:
    plain = _returning(1)
    del plain["repeat_contacts"]["max_returns"]
    _same(kpis(plain, BOT), kpis(_returning(1), BOT))


def test_churned_customers_leave_the_base_and_later_demand_shrinks() -> None:
    level = family_level(1)
    scenario = weeks(days=10, changes_per_week=0)
    small = copy.deepcopy(scenario)
    small["demand"]["customer_base"] = 3000  # ~400 contacts a day from 3,000 customers: churn shows within days
    base, shrunk = (daily(s, BOT, "offered") for s in (scenario, small))
    assert (base[:, 0] == shrunk[:, 0]).all()  # nobody has churned before the first day
    late = paired_interval(shrunk[:, 5:].sum(axis=1), base[:, 5:].sum(axis=1), level)
    assert late.high < 0, f"contacts on days 6–10, small base − no base: {late}"


# --- a rollout gate -----------------------------------------------------------------------------------------

def _gated(**gate: Any) -> dict[str, Any]:
    return {**BOT, "automation": {"share": 0.8, "gate": {"steps": [0.25, 0.5, 1.0], "every": "7d", **gate}}}


def test_a_gate_that_always_passes_steps_up_each_week_and_one_that_never_does_stays() -> None:
    scenario = weeks(days=21, changes_per_week=0)
    passing = daily(scenario, _gated(max_abandonment=1, max_csat_drop=1), "automation_factor", replications=2)
    assert (passing == np.repeat([0.25, 0.5, 1.0], 7)).all()
    stuck = daily(scenario, _gated(max_abandonment=0), "automation_factor", replications=2)
    assert (stuck == 0.25).all()


def test_a_gate_rolls_back_when_abandonment_breaks_the_floor_and_advances_again_after() -> None:
    scenario = weeks(days=22, changes_per_week=0)
    scenario["events"] = [{"kind": "agent_absence", "day": 8, "length": "7d", "share": 1.0}]  # nobody in week 2
    factor = daily(scenario, _gated(max_abandonment=0.2, max_csat_drop=1, roll_back_above=0.3), "automation_factor",
                   replications=2)
    expected = np.array([0.25] * 7 + [0.5] * 7 + [0.25] * 7 + [0.5])
    assert (factor == expected).all(), factor[0]


def test_a_gate_and_a_ramp_are_not_both_allowed() -> None:
    with pytest.raises(ValueError, match="a ramp or a gate"):
        Policy.model_validate({**BOT, "automation": {"share": 0.5, "ramp": {"1": 0.5}, "gate": {}}})


def test_first_contact_resolution_without_repeats_is_the_share_resolved() -> None:
    scenario = weeks(days=2, changes_per_week=0)
    scenario["repeat_contacts"] = {"after_abandonment": 0, "after_false_containment": 0}
    for k in kpis(scenario, BOT):
        ended = k["offered"] - k["in_system"]
        assert k["first_contact_resolution"] == pytest.approx((k["contained"] + k["served"]) / ended)
        assert k["contacts_per_resolution"] == pytest.approx(k["offered"] / (k["contained"] + k["served"]))


@pytest.mark.parametrize(("automation", "improvement", "message"), [
    ({"ramp": {"0": 0.5}}, {}, "ramp day '0' is not a day of the horizon"),
    ({"gate": {"every": "36h"}}, {}, "should be whole days"),
    ({"gate": {"max_abandonment": 0.2, "roll_back_above": 0.1}}, {}, "could both advance and roll back"),
    ({}, {"review_every": "12h"}, "should be whole days"),
])
def test_rollout_and_loop_mistakes_are_refused(automation: dict[str, Any], improvement: dict[str, Any],
                                               message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Policy.model_validate({**BOT, "automation": {"share": 0.5, **automation}, "improvement": improvement})


def test_blocked_customers_call_again_when_they_may() -> None:
    scenario = weeks(days=2, changes_per_week=0)
    scenario["agents"]["queue_capacity"] = 0  # whoever finds no agent free gets a busy signal
    quiet = {"after_abandonment": 0, "after_false_containment": 0}
    scenario["repeat_contacts"] = {**quiet, "after_refused": 0.0}
    again = copy.deepcopy(scenario)
    again["repeat_contacts"] = {**quiet, "after_refused": 0.5, "max_returns": 3}
    for never, sometimes in zip(kpis(scenario, NO_BOT), kpis(again, NO_BOT), strict=True):
        assert never["blocked"] > 0
        assert never["repeat_contacts"] == 0
        assert 0 < sometimes["repeat_contacts"] <= sometimes["blocked"] + sometimes["turned_away"]
