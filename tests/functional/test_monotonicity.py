"""Policies and scenarios pull KPIs in the direction they must, on common random numbers.

Two configurations run on the same seed and replication numbers meet the same customers (same arrivals,
patience budgets, handle times and bot draws: sandbox/engine/streams.py), so each comparison is a paired
difference over replications. A direction is asserted when the whole paired interval lies on the right side
of zero, at the Bonferroni level that keeps each test's chance of a false failure at 1%
(tests/validation/replications.py). Structural facts (who can reach an agent) are asserted exactly.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BOT_POLICY, NO_BOT, SEED, SMALL_SCENARIO
from validation.replications import column, family_level, paired_interval, plan_of, replicate

from sandbox import api
from sandbox.engine.run import simulate
from sandbox.model.outcomes import Outcome

REPO = Path(__file__).resolve().parents[2]
REPLICATIONS = 40  # one SMALL_SCENARIO day takes a few milliseconds


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(copy.deepcopy(changes))
    return out


def lower(worse: np.ndarray, better: np.ndarray, level: float) -> None:
    """``better`` is significantly below ``worse``: the paired interval of better − worse is below 0."""
    diff = paired_interval(better, worse, level)
    assert diff.high < 0, f"no significant decrease: better − worse = {diff}"


def test_more_agents_lower_queue_abandonment_and_waits() -> None:
    few = with_(NO_BOT, name="3 agents", staffing={"headcount": {"service": 3}})
    many = with_(NO_BOT, name="6 agents", staffing={"headcount": {"service": 6}})
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), [few, many], replications=REPLICATIONS, seed=SEED, workers=1)
    level = family_level(3)
    lower(np.array(c.values(0, "queue_abandonment_rate")), np.array(c.values(1, "queue_abandonment_rate")), level)
    lower(np.array(c.values(0, "asa_all")), np.array(c.values(1, "asa_all")), level)
    lower(-np.array(c.values(0, "service_level")), -np.array(c.values(1, "service_level")), level)
    # The customers are the same ones (common random numbers): the same first contacts in every replication
    # (retries after abandoning differ, as they should).
    first = [[o - r for o, r in zip(c.values(p, "offered"), c.values(p, "repeat_contacts"), strict=True)]
             for p in (0, 1)]
    assert first[0] == first[1]


def test_a_better_bot_lowers_the_agents_load() -> None:
    weak = with_(SMALL_SCENARIO, bot={"quality": 0.5})
    strong = with_(SMALL_SCENARIO, bot={"quality": 1.0})
    weak_rows = replicate(weak, BOT_POLICY, REPLICATIONS, SEED, keep_records=False)
    strong_rows = replicate(strong, BOT_POLICY, REPLICATIONS, SEED, keep_records=False)
    level = family_level(4)
    lower(column(weak_rows, "escalated"), column(strong_rows, "escalated"), level)
    lower(column(weak_rows, "served"), column(strong_rows, "served"), level)
    lower(column(weak_rows, "occupancy"), column(strong_rows, "occupancy"), level)  # same staffing: busy time
    lower(-column(weak_rows, "contained"), -column(strong_rows, "contained"), level)


@pytest.mark.parametrize("service_agents", [3, 4])
def test_longer_patience_lowers_abandonment(service_agents: int) -> None:
    patient = copy.deepcopy(SMALL_SCENARIO)
    patient["segments"]["regular"]["patience"]["mean"] = "6m"  # 3m → 6m
    patient["segments"]["vip"]["patience"]["mean"] = "12m"  # 6m → 12m
    policy = with_(NO_BOT, staffing={"headcount": {"service": service_agents}})
    short = replicate(SMALL_SCENARIO, policy, REPLICATIONS, SEED, keep_records=False)
    long = replicate(patient, policy, REPLICATIONS, SEED, keep_records=False)
    level = family_level(2)
    lower(column(short, "queue_abandonment_rate"), column(long, "queue_abandonment_rate"), level)
    lower(column(short, "abandoned_queue"), column(long, "abandoned_queue"), level)


# --- handoff ----------------------------------------------------------------------------------------------

def _handoff_scenario() -> dict[str, Any]:
    """SMALL_SCENARIO without repeat contacts, and chats that do not slow each other down, so that an agent's
    handle time is exactly the contact's drawn handle time × the handoff factor."""
    s = copy.deepcopy(SMALL_SCENARIO)
    s["repeat_contacts"] = {"after_abandonment": 0, "after_false_containment": 0}
    for group in s["agents"]["groups"].values():
        group["concurrency_slowdown"] = 0.0
    return s


def test_cold_handoff_multiplies_handle_time_of_escalated_contacts_exactly() -> None:
    factor = 1.37
    warm = with_(BOT_POLICY, handoff={"mode": "warm", "cold_handle_factor": factor})
    cold = with_(BOT_POLICY, handoff={"mode": "cold", "cold_handle_factor": factor})
    scenario = _handoff_scenario()
    warm_plan, cold_plan = plan_of(scenario, warm), plan_of(scenario, cold)
    matched_escalated = matched_direct = 0
    for r in range(5):
        w = simulate(warm_plan, SEED, r, keep_records=True).records
        c = simulate(cold_plan, SEED, r, keep_records=True).records
        assert w is not None
        assert c is not None
        # Same customers: the same arrival times, and the bot stage decides the same way under both policies.
        assert np.array_equal(np.sort(w["arrive"]), np.sort(c["arrive"]))
        served_w = {a: i for i, a in enumerate(w["arrive"]) if w["outcome"][i] == Outcome.SERVED}
        for j, a in enumerate(c["arrive"]):
            i = served_w.get(a)
            if i is None or c["outcome"][j] != Outcome.SERVED:
                continue
            assert w["reason"][i] == c["reason"][j]
            if c["reason"][j] > 0:  # escalated: the agent takes cold_handle_factor times longer, exactly
                assert c["handle"][j] == pytest.approx(factor * w["handle"][i], rel=1e-12)
                matched_escalated += 1
            else:  # came straight to an agent: no handoff, no change
                assert c["handle"][j] == w["handle"][i]
                matched_direct += 1
    assert matched_escalated > 50
    assert matched_direct > 50


def test_cold_handoff_makes_customers_repeat_themselves_and_loads_agents() -> None:
    warm = with_(BOT_POLICY, name="warm", handoff={"mode": "warm"})
    cold = with_(BOT_POLICY, name="cold", handoff={"mode": "cold"})
    c = api.compare(_handoff_scenario(), [warm, cold], replications=REPLICATIONS, seed=SEED, workers=1)
    # Without repeat contacts, repeating information happens only on a cold handoff, once per escalation
    # (at least: conversations cut by the end of the horizon are over-counted, see test_kpi_accounting).
    assert all(v == 0 for v in c.values(0, "repeat_information"))
    assert all(r >= e for r, e in zip(c.values(1, "repeat_information"), c.values(1, "escalated"), strict=True))
    assert sum(c.values(1, "escalated")) > 0
    # The bot stage is the same under both: the same contacts escalate.
    assert c.values(0, "escalated") == c.values(1, "escalated")
    # Longer handling of the escalated contacts keeps agents busier (same staffing).
    level = family_level(1)
    lower(np.array(c.values(1, "occupancy")), np.array(c.values(0, "occupancy")), level)


# --- routing that keeps customers from agents or from the bot ------------------------------------------

def test_dead_end_policy_never_escalates() -> None:
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), [REPO / "policies" / "dead-end.yaml"], replications=10,
                    seed=SEED, workers=1)
    for name in ("escalated", "served", "abandoned_queue"):
        assert c.values(0, name) == [0.0] * 10, name  # every contact starts with the bot and none leaves it
    assert c.values(0, "bot_handled") == c.values(0, "offered")
    assert sum(c.values(0, "dead_ended")) > 0
    # Customers still ask for a human; every request is refused.
    assert sum(c.values(0, "asked_human")) > 0
    assert all(refused >= asked for refused, asked in zip(c.values(0, "refused_requests"),
                                                          c.values(0, "asked_human"), strict=True))


def test_emotional_load_bypass_routes_upset_intents_to_humans() -> None:
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), [REPO / "policies" / "emotional-bypass.yaml"],
                    replications=10, seed=SEED, workers=1)
    # The policy bypasses intents with emotional_load >= 0.3: billing_error (0.45) and cancellation (0.35).
    for run in c.finished(0):
        for intent in ("billing_error", "cancellation"):
            assert run.by_intent[intent]["bot_handled"] == 0, intent
            assert run.by_intent[intent]["escalated"] == 0, intent
        assert run.by_intent["order_status"]["bot_handled"] > 0
    for intent in ("billing_error", "cancellation"):
        assert sum(run.by_intent[intent]["served"] for run in c.finished(0)) > 0
