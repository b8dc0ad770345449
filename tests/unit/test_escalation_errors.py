"""Escalation errors both ways (premature and missed), on cases whose answer is known by construction, and
their switch-off: with no intent needing a human and no false alarms nothing changes."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from conftest import SEED, SMALL_SCENARIO

from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import RunResult, simulate
from sandbox.model.outcomes import Outcome, Reason

EVERYONE_TO_THE_BOT = {"name": "bot", "automation": {"share": 1.0}}
CALM = {"ask_for_human": 0.0, "quit_bot": 0.0}


def scenario(**intent_bot: Any) -> dict[str, Any]:
    s = copy.deepcopy(SMALL_SCENARIO)
    s["intents"] = {"only": {"share": 1.0, "bot": {"resolve_with_crm": 0.5, **intent_bot}}}
    s["frustration"] = CALM
    s["repeat_contacts"] = {"after_abandonment": 0.0, "after_false_containment": 0.0}
    return s


def run(s: dict[str, Any], escalation: dict[str, Any]) -> RunResult:
    policy = {**EVERYONE_TO_THE_BOT, "escalation": {"frustration_threshold": None, **escalation}}
    plan = compile_plan(Scenario.model_validate(s), Policy.model_validate(policy))
    return simulate(plan, SEED, 0, keep_records=True)


def test_keeping_contacts_that_need_a_human_in_a_dead_end_misses_every_one() -> None:
    s = scenario(wrong_answer=0.0)
    s["intents"]["only"]["needs_human"] = 1.0
    r = run(s, {"max_bot_turns": None, "honour_requests": "never"})
    k = r.kpis
    assert k["contained"] == 0  # needing a human, nobody is resolved by the bot
    assert k["missed_escalations"] == k["dead_ended"] == k["offered"] - k["in_system"]
    assert k["premature_escalations"] == 0


def test_a_late_handover_is_a_missed_escalation_an_early_one_is_not() -> None:
    s = scenario(wrong_answer=0.0)
    s["intents"]["only"]["needs_human"] = 1.0
    late = run(s, {"max_bot_turns": 4})  # handed over after 4 failed turns, late by the default of 3
    assert late.kpis["missed_escalations"] == late.kpis["escalated"] > 0
    s["bot"] = {"late_escalation": 5}
    assert run(s, {"max_bot_turns": 4}).kpis["missed_escalations"] == 0


def test_a_turn_limit_below_the_turns_a_resolvable_issue_takes_is_premature() -> None:
    s = scenario(resolve_with_crm=1.0, turns_to_resolve=10.0)
    r = run(s, {"max_bot_turns": 1})
    records = r.records
    assert records is not None
    escalated = records["reason"] == Reason.MAX_TURNS
    # Everyone could be resolved; those not resolved in their first turn were handed over: all premature.
    assert r.kpis["premature_escalations"] == escalated[records["outcome"] != Outcome.IN_SYSTEM].sum() > 0
    assert r.kpis["missed_escalations"] == 0


def test_a_low_confidence_false_alarm_hands_over_what_was_going_well() -> None:
    s = scenario(resolve_with_crm=1.0, turns_to_resolve=3.0)
    s["bot"] = {"low_confidence_false_alarm": 1.0}
    r = run(s, {"max_bot_turns": None, "on_low_confidence": True})
    records = r.records
    assert records is not None
    done = records["outcome"] != Outcome.IN_SYSTEM
    # A conversation resolved in its first turn ends before the doubt; every other is handed over at turn 1.
    assert np.all(records["turns"][done & (records["reason"] == Reason.LOW_CONFIDENCE)] == 1)
    assert r.kpis["premature_escalations"] == r.kpis["escalated"] > 0
    s["bot"] = {"low_confidence_false_alarm": 0.0}
    assert run(s, {"max_bot_turns": None, "on_low_confidence": True}).kpis["premature_escalations"] == 0


def test_switched_off_nothing_changes() -> None:
    """needs_human 0 and no false alarm: every KPI as without the fields (the earlier model)."""
    plain = scenario(wrong_answer=0.05)
    explicit = copy.deepcopy(plain)
    explicit["intents"]["only"]["needs_human"] = 0.0
    explicit["bot"] = {"low_confidence_false_alarm": 0.0}
    a, b = run(plain, {"on_low_confidence": True}).kpis, run(explicit, {"on_low_confidence": True}).kpis
    assert all(a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]) for k in a)
