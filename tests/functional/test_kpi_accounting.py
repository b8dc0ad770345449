"""KPI bookkeeping at the edges of the horizon and for repeat contacts, checked against the KPI definitions
in sandbox/metrics/kpis.py (KPIS) and the flow identities of queueing-references.md §5.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from conftest import BOT_POLICY, SEED, SMALL_SCENARIO, erlang_scenario
from validation.replications import plan_of

from sandbox import api
from sandbox.engine.run import simulate
from sandbox.model.outcomes import Outcome


def _long_bot_conversations() -> tuple[dict[str, Any], dict[str, Any]]:
    """Around the clock, every contact to the bot, ten-minute turns: at the end of the horizon dozens of
    conversations are still going, some of them bound to end in a handoff."""
    scenario = erlang_scenario(200, "3m", 14, "5m", days=1, warm_up=0)
    scenario["bot"] = {"turn_time": {"kind": "exponential", "mean": "10m"}}
    policy = {"name": "bot", "automation": {"share": 1}, "escalation": {"max_bot_turns": 3}}
    return scenario, policy


def test_bot_flow_identity_up_to_conversations_still_running() -> None:
    # What does hold today: the bot's contacts split into its own outcomes, escalations and contacts still in
    # the bot at the end.
    scenario, policy = _long_bot_conversations()
    result = simulate(plan_of(scenario, policy), SEED, 0, keep_records=True)
    k, rec = result.kpis, result.records
    assert rec is not None
    in_bot = int(np.sum((rec["outcome"] == Outcome.IN_SYSTEM) & ~rec["queued"] & (rec["turns"] > 0)))
    assert in_bot > 0
    own = k["contained"] + k["false_contained"] + k["dead_ended"] + k["abandoned_bot"]
    assert k["bot_handled"] - in_bot <= own + k["escalated"] <= k["bot_handled"]


def test_escalated_counts_only_contacts_handed_over() -> None:
    scenario, policy = _long_bot_conversations()
    result = simulate(plan_of(scenario, policy), SEED, 0, keep_records=True)
    k, rec = result.kpis, result.records
    assert rec is not None
    in_bot = (rec["outcome"] == Outcome.IN_SYSTEM) & ~rec["queued"] & (rec["turns"] > 0)
    # §5: bot arrivals = bot-resolved + bot-abandoned (+ wrong answers, dead ends) + escalated + still in bot.
    own = k["contained"] + k["false_contained"] + k["dead_ended"] + k["abandoned_bot"]
    assert k["bot_handled"] == own + k["escalated"] + int(in_bot.sum())
    # Nobody still talking to the bot has been handed to the queue.
    assert not np.any(in_bot & (rec["reason"] > 0))


def test_repeat_contacts_happen_in_the_small_scenario() -> None:
    # The premise of the next test: with a warm handoff, the only way to repeat information is a repeat contact.
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(BOT_POLICY)], replications=5, seed=SEED,
                    workers=1)
    assert sum(c.values(0, "repeat_contacts")) > 0
    assert BOT_POLICY.get("handoff", {}).get("mode", "warm") == "warm"


def test_repeat_contacts_count_as_repeated_information() -> None:
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(BOT_POLICY)], replications=5, seed=SEED,
                    workers=1)
    for repeated, repeats in zip(c.values(0, "repeat_information"), c.values(0, "repeat_contacts"), strict=True):
        assert repeated >= repeats  # each retry or return repeats the story at least once


def _callbacks_only_in_warm_up() -> tuple[dict[str, Any], dict[str, Any]]:
    """A one-day warm-up on a Sunday when humans are open, then a Monday when they are closed all day."""
    scenario = erlang_scenario(200, "3m", 10, None, days=1, warm_up="1d")
    scenario["horizon"]["start"] = "monday"
    scenario["hours"] = {"default": "closed", "sunday": "00:00-24:00", "at_closing": "clear"}
    policy = {"name": "callbacks", "callback": {"after_wait": "1m", "accept": 1.0}}
    return scenario, policy


def test_closed_horizon_serves_nobody() -> None:
    # The premise of the next test: in the reported day humans are closed, so nobody is served or called back
    # in it (callbacks are made only by agents on duty while open: Centre._pull).
    scenario, policy = _callbacks_only_in_warm_up()
    k = simulate(plan_of(scenario, policy), SEED, 0).kpis
    assert k["served"] == 0
    assert k["turned_away"] == k["offered"] > 0


def test_callbacks_made_in_the_warm_up_are_not_reported() -> None:
    scenario, policy = _callbacks_only_in_warm_up()
    k = simulate(plan_of(scenario, policy), SEED, 0).kpis
    assert k["callbacks_done"] == 0
    assert k["resolved"] == k["contained"] + k["served"]


def _cut_in_identification() -> tuple[dict[str, Any], dict[str, Any]]:
    """Every contact spends an hour in the bot's identification step before its first turn, then the bot
    hands it over cold after at most three unhelpful turns or on a request after the second turn (a request
    in the first is refused). No repeat contacts (erlang_scenario)."""
    scenario = erlang_scenario(200, "3m", 14, "5m", days=1, warm_up=0)
    scenario["bot"] = {"identification": "1h", "turn_time": {"kind": "exponential", "mean": "1m"}}
    scenario["intents"]["general"]["emotional_load"] = 0.5  # upset enough to ask for a human early
    policy = {"name": "bot, cold", "automation": {"share": 1},
              "escalation": {"max_bot_turns": 3, "frustration_threshold": None, "honour_requests": 2},
              "handoff": {"mode": "cold"}}
    return scenario, policy


def test_contacts_cut_in_identification_are_still_in_the_bot() -> None:
    # The premise of the next test: the last hour's arrivals are in the bot, unturned, when the horizon ends.
    scenario, policy = _cut_in_identification()
    plan = plan_of(scenario, policy)
    rec = simulate(plan, SEED, 0, keep_records=True).records
    assert rec is not None
    unturned = rec["arrive"] + 60 >= plan.end
    assert unturned.sum() > 100
    assert np.all(rec["outcome"][unturned] == Outcome.IN_SYSTEM)
    assert not rec["queued"][unturned].any()


def test_kpis_count_only_what_happened_before_the_end() -> None:
    scenario, policy = _cut_in_identification()
    plan = plan_of(scenario, policy)
    result = simulate(plan, SEED, 0, keep_records=True)
    k, rec = result.kpis, result.records
    assert rec is not None
    assert k["repeat_contacts"] == 0
    # Cold handoff, no repeat contacts: customers repeated themselves once per handoff that took place.
    assert k["repeat_information"] == k["escalated"]
    # Contacts still in the identification step have not had a single turn: nothing asked, nothing refused.
    unturned = rec["arrive"] + 60 >= plan.end
    assert not rec["asked"][unturned].any()
    assert rec["refused"][unturned].sum() == 0
    assert rec["repeats"][unturned].sum() == 0


def test_escalation_reasons_add_up_to_the_escalations() -> None:
    """Every escalation has exactly one reason; with requests honoured, a threshold, a turn limit and
    low-confidence detection all four appear."""
    policy = {**BOT_POLICY, "escalation": {"max_bot_turns": 3, "frustration_threshold": 0.5,
                                          "honour_requests": "always", "on_low_confidence": True}}
    for replication in range(3):
        k = simulate(plan_of(SMALL_SCENARIO, policy), SEED, replication).kpis
        parts = [k[f"escalated_{why}"] for why in ("max_turns", "frustration", "request", "low_confidence")]
        assert sum(parts) == k["escalated"]
        assert all(p > 0 for p in parts), parts
