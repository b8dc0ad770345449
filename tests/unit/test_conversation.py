"""sandbox.model.conversation.converse: the vectorised bot stage on batches of 20k contacts."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest
from conftest import BOT_POLICY, SEED, SMALL_SCENARIO

from sandbox.config.distributions import Deterministic, Exponential
from sandbox.config.policy import Policy
from sandbox.config.scenario import Churn, Frustration, Scenario
from sandbox.engine.plan import compile_plan
from sandbox.model.conversation import BotRules, Conversations, converse
from sandbox.model.frustration import FrustrationModel
from sandbox.model.outcomes import Outcome, Reason

N = 20_000
TURN = Deterministic(kind="deterministic", value="45s")  # 0.75 min
BOT_OUTCOMES = {Outcome.CONTAINED, Outcome.FALSE_CONTAINED, Outcome.DEAD_ENDED, Outcome.ABANDONED_BOT,
                Outcome.ESCALATED}
CALM = {"ask_for_human": 0.0, "quit_bot": 0.0}  # customers never ask for a human nor give up


def rules(frustration: dict[str, float] | None = None, n_intents: int = 1, **changes: Any) -> BotRules:
    """One channel, one segment, n intents; every failure mode off unless a test turns it on."""
    base = BotRules(
        share=np.array([1.0]), bypass_intent=np.zeros(n_intents, dtype=bool), bypass_segment=np.zeros(1, dtype=bool),
        resolve=np.full(n_intents, 0.5), failure_weight=np.ones(n_intents), wrong=np.zeros(n_intents),
        p_turn=np.full(n_intents, 0.5),
        identification=0.0, give_up_after=6, low_confidence_detection=0.5, low_confidence_false_alarm=0.0,
        needs_human=np.zeros(n_intents), misrecognition=np.zeros(n_intents),
        confusion=np.ones((n_intents, n_intents)), max_turns=4, threshold=None,
        honour="always", on_low_confidence=False, cold=False,
        frustration=FrustrationModel(Frustration(**{**CALM, **(frustration or {})}), Churn()),
        verify=np.zeros(n_intents, dtype=bool), verification_time=1.0, genuine_failure=0.0, impostor_caught=0.0,
        guardrails=0.0, attack_permitted=np.ones(3, dtype=bool), attack_verified=np.zeros(3, dtype=bool),
        attack_success=np.zeros(3),
    )
    return dataclasses.replace(base, **changes)


def run(r: BotRules, seed: int = SEED, n: int = N, f0: float = 0.1, intent: np.ndarray | None = None,
        segment: np.ndarray | None = None, channel: np.ndarray | None = None, turn_time: Any = TURN,
        u_route: np.ndarray | None = None) -> Conversations:
    rng = np.random.default_rng(seed)
    u = rng.random(n) if u_route is None else u_route
    zeros = np.zeros(n, dtype=np.int64)
    intent = zeros if intent is None else intent
    return converse(r, turn_time, intent, zeros if segment is None else segment,
                    zeros if channel is None else channel, np.full(n, f0), u, rng)


def within(count: int, n: int, p: float) -> bool:
    """count/n is within 5 binomial standard errors of p."""
    return abs(count / n - p) <= 5 * math.sqrt(p * (1 - p) / n) + 1e-12


def outcomes(c: Conversations) -> dict[Outcome, int]:
    values, counts = np.unique(c.outcome, return_counts=True)
    return {Outcome(int(v)): int(k) for v, k in zip(values, counts, strict=True)}


# ---------------------------------------------------------------------------------------------------------
# routing


def test_share_zero_sends_everyone_direct() -> None:
    c = run(rules(share=np.array([0.0])), f0=0.3)
    assert np.all(c.outcome == Outcome.DIRECT)
    assert np.all(c.duration == 0)
    assert np.all(c.turns == 0)
    assert np.all(c.failed == 0)
    assert np.all(c.frustration == 0.3)
    assert np.all(c.reason == Reason.NONE)
    assert not c.asked.any()
    assert np.all(c.repeats == 0)
    assert np.all(c.refused == 0)


def test_share_one_offers_everyone_to_the_bot() -> None:
    c = run(rules(share=np.array([1.0])))
    assert not np.any(c.outcome == Outcome.DIRECT)
    assert set(outcomes(c)) <= BOT_OUTCOMES


def test_share_by_channel() -> None:
    rng = np.random.default_rng(3)
    channel = rng.integers(0, 2, N)
    c = run(rules(share=np.array([0.3, 0.8])), channel=channel)
    offered = c.outcome != Outcome.DIRECT
    for ch, share in ((0, 0.3), (1, 0.8)):
        assert within(int(offered[channel == ch].sum()), int((channel == ch).sum()), share)


def test_bypass_masks() -> None:
    rng = np.random.default_rng(4)
    intent, segment = rng.integers(0, 3, N), rng.integers(0, 2, N)
    r = rules(n_intents=3, bypass_intent=np.array([False, True, False]),
              bypass_segment=np.array([False, True]), share=np.array([0.6]))
    c = run(r, intent=intent, segment=segment)
    direct = c.outcome == Outcome.DIRECT
    assert np.all(direct[intent == 1])
    assert np.all(direct[segment == 1])
    free = (intent != 1) & (segment != 1)
    assert within(int((~direct[free]).sum()), int(free.sum()), 0.6)


def test_routing_uses_the_given_uniforms() -> None:
    u_route = np.linspace(0, 1, N, endpoint=False)
    c = run(rules(share=np.array([0.25])), u_route=u_route)
    np.testing.assert_array_equal(c.outcome != Outcome.DIRECT, u_route < 0.25)


# ---------------------------------------------------------------------------------------------------------
# resolution


@pytest.mark.parametrize(("resolve", "p_turn", "give_up"), [(0.45, 0.5, 30), (0.8, 0.25, 6), (0.17, 1.0, 1)])
def test_contained_share_is_the_resolve_probability(resolve: float, p_turn: float, give_up: int) -> None:
    """No failure modes: a contact is contained iff solvable and its geometric need fits in the bot's turns."""
    r = rules(resolve=np.array([resolve]), p_turn=np.array([p_turn]), give_up_after=give_up, max_turns=None)
    c = run(r)
    expected = resolve * (1 - (1 - p_turn) ** give_up)
    assert within(outcomes(c).get(Outcome.CONTAINED, 0), N, expected)
    assert set(outcomes(c)) <= {Outcome.CONTAINED, Outcome.DEAD_ENDED}
    contained = c.outcome == Outcome.CONTAINED
    assert np.all(c.failed[contained] == 0)  # turns before the last were progress, not failures
    if give_up == 30:  # untruncated geometric: mean turns of contained = 1 / p_turn
        turns = c.turns[contained].astype(float)
        assert abs(turns.mean() - 1 / p_turn) < 5 * turns.std(ddof=1) / math.sqrt(len(turns))


def test_duration_is_identification_plus_turns() -> None:
    c = run(rules(identification=0.15, share=np.array([0.5])))
    offered = c.outcome != Outcome.DIRECT
    np.testing.assert_allclose(c.duration[offered], 0.15 + 0.75 * c.turns[offered], rtol=1e-12)
    assert np.all(c.duration[~offered] == 0)


def test_duration_sums_random_turn_times() -> None:
    c = run(rules(resolve=np.array([0.0]), max_turns=3), turn_time=Exponential(kind="exponential", mean="1m"))
    assert np.all(c.turns == 3)
    # 3 exponential turns of mean 1: mean 3, sd sqrt(3)
    assert abs(c.duration.mean() - 3.0) < 5 * math.sqrt(3 / N)


def test_wrong_answers_are_false_containment() -> None:
    r = rules(resolve=np.array([0.0]), wrong=np.array([0.1]), max_turns=1)
    c = run(r)
    got = outcomes(c)
    assert set(got) == {Outcome.FALSE_CONTAINED, Outcome.ESCALATED}
    assert within(got[Outcome.FALSE_CONTAINED], N, 0.1)


# ---------------------------------------------------------------------------------------------------------
# escalation triggers and dead ends


def test_dead_end_rules_never_escalate() -> None:
    r = rules(max_turns=None, threshold=None, honour="never", on_low_confidence=False,
              frustration={"ask_for_human": 2.0, "quit_bot": 0.3}, resolve=np.array([0.3]),
              wrong=np.array([0.03]))
    c = run(r)
    got = outcomes(c)
    assert Outcome.ESCALATED not in got
    assert got.get(Outcome.DEAD_ENDED, 0) > 0
    dead = c.outcome == Outcome.DEAD_ENDED
    assert np.all(c.turns[dead] == r.give_up_after)
    assert np.all(c.reason == Reason.NONE)
    assert c.asked.any()
    assert np.all(c.refused[c.asked] >= 1)


def test_honoured_requests_escalate_with_reason_request() -> None:
    r = rules(honour="always", frustration={"ask_for_human": 50.0}, resolve=np.array([0.3]))
    c = run(r, f0=0.5)
    request = c.reason == Reason.REQUEST
    assert np.all(c.outcome[request] == Outcome.ESCALATED)
    assert np.all(c.turns[request] == 1)
    assert np.all(c.asked[request])
    assert np.all(c.failed[request] == 1)
    # every unsolvable contact asks after its first failed turn (P = 1 − exp(−50·0.62)) and is handed over
    assert within(int(request.sum()), N, 0.7 * (1 - math.exp(-50 * 0.62)))
    # the only other handoffs are solvable contacts whose resolution needs more than max_turns = 4 turns
    other = (c.outcome == Outcome.ESCALATED) & ~request
    assert np.all(c.reason[other] == Reason.MAX_TURNS)
    assert np.all(c.failed[other] == 0)
    assert np.all(c.refused == 0)


def test_requests_honoured_only_after_n_turns() -> None:
    r = rules(honour=2, frustration={"ask_for_human": 50.0, "ignored_request": 0.15, "failed_turn": 0.12},
              resolve=np.array([0.0]), max_turns=5)
    c = run(r, f0=0.5)
    assert np.all(c.outcome == Outcome.ESCALATED)
    assert np.all(c.reason == Reason.REQUEST)
    assert np.all(c.turns == 2)
    assert np.all(c.refused == 1)
    # 0.5 + failed 0.12 + refused 0.15 + failed 0.12 + transfer 0.05
    np.testing.assert_allclose(c.frustration, 0.94, rtol=1e-12)


def test_frustration_threshold() -> None:
    r = rules(threshold=0.3, resolve=np.array([0.0]), max_turns=None, frustration={"failed_turn": 0.12})
    c = run(r, f0=0.0)
    assert np.all(c.outcome == Outcome.ESCALATED)
    assert np.all(c.reason == Reason.FRUSTRATION)
    assert np.all(c.turns == 3)  # F = 0.12, 0.24, 0.36


def test_low_confidence_trigger() -> None:
    r = rules(on_low_confidence=True, low_confidence_detection=0.4, resolve=np.array([0.0]), max_turns=1)
    c = run(r)
    low = c.reason == Reason.LOW_CONFIDENCE
    assert np.all(c.outcome == Outcome.ESCALATED)
    assert np.all(c.reason[~low] == Reason.MAX_TURNS)
    assert within(int(low.sum()), N, 0.4)


def test_max_turns_trigger() -> None:
    c = run(rules(resolve=np.array([0.0]), max_turns=3))
    assert np.all(c.outcome == Outcome.ESCALATED)
    assert np.all(c.reason == Reason.MAX_TURNS)
    assert np.all(c.turns == 3)
    assert np.all(c.failed == 3)


def test_bot_giving_up_escalates_when_there_is_a_turn_limit() -> None:
    c = run(rules(resolve=np.array([0.0]), max_turns=10, give_up_after=4))
    assert np.all(c.outcome == Outcome.ESCALATED)
    assert np.all(c.reason == Reason.MAX_TURNS)
    assert np.all(c.turns == 4)


def test_quitting_customers_abandon_the_bot() -> None:
    r = rules(resolve=np.array([0.0]), max_turns=1, frustration={"quit_bot": 0.3, "failed_turn": 0.12,
                                                                   "left_unresolved": 0.2})
    c = run(r, f0=0.5)
    gone = c.outcome == Outcome.ABANDONED_BOT
    assert within(int(gone.sum()), N, 1 - math.exp(-0.3 * 0.62))
    np.testing.assert_allclose(c.frustration[gone], 0.62 + 0.2, rtol=1e-12)  # left unresolved


# ---------------------------------------------------------------------------------------------------------
# handoff


@pytest.mark.parametrize("f0", [0.1, 0.9])
def test_cold_handoff_adds_repeat_information(f0: float) -> None:
    steps = {"failed_turn": 0.12, "transfer": 0.05, "repeat_information": 0.15}
    warm = run(rules(resolve=np.array([0.4]), max_turns=2, frustration=steps), f0=f0)
    cold = run(rules(resolve=np.array([0.4]), max_turns=2, frustration=steps, cold=True), f0=f0)
    np.testing.assert_array_equal(warm.outcome, cold.outcome)
    escalated = warm.outcome == Outcome.ESCALATED
    assert escalated.any()
    assert (~escalated).any()
    before = np.minimum(1.0, f0 + 0.12 * warm.failed[escalated])  # solvable ones escalate without failing
    assert len(np.unique(before)) > 1 or f0 > 0.7
    np.testing.assert_allclose(warm.frustration[escalated], np.minimum(1.0, before + 0.05), rtol=1e-12)
    np.testing.assert_allclose(cold.frustration[escalated], np.minimum(1.0, before + 0.05 + 0.15), rtol=1e-12)
    np.testing.assert_array_equal(cold.frustration[~escalated], warm.frustration[~escalated])
    np.testing.assert_array_equal(cold.repeats, escalated.astype(int))
    assert np.all(warm.repeats == 0)


# ---------------------------------------------------------------------------------------------------------
# common random numbers


def test_common_random_numbers_across_turn_limits() -> None:
    """Same seed, max_turns 2 and 4: routing identical; every contact that did not hit the limit of 2 ends
    identically; those that did continue under the larger limit."""
    shared = {"resolve": np.array([0.45]), "wrong": np.array([0.05]), "threshold": 0.7,
              "frustration": {"ask_for_human": 1.0, "quit_bot": 0.3}, "share": np.array([0.7])}
    short = run(rules(max_turns=2, **shared), f0=0.2)
    long = run(rules(max_turns=4, **shared), f0=0.2)
    np.testing.assert_array_equal(short.outcome == Outcome.DIRECT, long.outcome == Outcome.DIRECT)
    hit = (short.outcome == Outcome.ESCALATED) & (short.reason == Reason.MAX_TURNS)
    same = ~hit
    assert hit.any()
    assert same.sum() > N / 2
    for name in ("outcome", "turns", "failed", "reason", "asked", "refused", "repeats", "duration",
                 "frustration"):
        np.testing.assert_array_equal(getattr(short, name)[same], getattr(long, name)[same], err_msg=name)
    assert np.all(long.turns[hit] >= 2)
    assert np.any(long.outcome[hit] != Outcome.ESCALATED)  # some of them went on to another end


def test_same_seed_same_conversations() -> None:
    r = rules(resolve=np.array([0.45]), wrong=np.array([0.05]), frustration={"ask_for_human": 1.0})
    a, b = run(r, seed=5), run(r, seed=5)
    for f in dataclasses.fields(Conversations):
        np.testing.assert_array_equal(getattr(a, f.name), getattr(b, f.name))
    assert not np.array_equal(run(r, seed=6).outcome, a.outcome)


def test_empty_batch() -> None:
    c = run(rules(), n=0)
    assert len(c.outcome) == 0
    assert len(c.frustration) == 0


# ---------------------------------------------------------------------------------------------------------
# rules compiled from a scenario and a policy


def test_compiled_rules_from_the_small_scenario() -> None:
    scenario, policy = Scenario.model_validate(SMALL_SCENARIO), Policy.model_validate(BOT_POLICY)
    r = compile_plan(scenario, policy).rules_on(0).bot
    np.testing.assert_allclose(r.share, [0.4, 0.8])  # voice, chat
    np.testing.assert_allclose(r.resolve, [0.8, 0.17, 0.45])  # CRM on
    np.testing.assert_allclose(r.wrong, [0.03, 0.08, 0.03])
    np.testing.assert_allclose(r.p_turn, [0.5, 0.5, 0.5])
    assert (r.max_turns, r.threshold, r.honour, r.cold) == (3, 0.6, "always", False)

    no_crm = compile_plan(scenario, Policy.model_validate({**BOT_POLICY, "integration": {"crm": False}}))
    np.testing.assert_allclose(no_crm.rules_on(0).bot.resolve, [0.2, 0.17, 0.45])

    rng = np.random.default_rng(SEED)
    intent = rng.integers(0, 3, N)
    segment = rng.integers(0, 2, N)
    channel = rng.integers(0, 2, N)
    f0 = compile_plan(scenario, policy).f0[intent]
    c = converse(r, scenario.bot.turn_time, intent, segment, channel, f0, rng.random(N), rng)
    got = outcomes(c)
    assert set(got) <= BOT_OUTCOMES | {Outcome.DIRECT}
    assert within(N - got[Outcome.DIRECT], N, 0.5 * 0.4 + 0.5 * 0.8)
    assert np.all(c.frustration >= f0)
    assert np.all(c.frustration <= 1)
    assert np.all(c.turns <= r.max_turns)
    escalated = c.outcome == Outcome.ESCALATED
    assert set(np.unique(c.reason[escalated])) <= {Reason.MAX_TURNS, Reason.FRUSTRATION, Reason.REQUEST}
    assert np.all(c.reason[~escalated] == Reason.NONE)


def test_a_misrecognised_contact_is_answered_as_another_intent_and_cannot_be_resolved() -> None:
    """Intent 0 is taken for intent 1 or 2 (weights 1:3) 30% of the time: those conversations never resolve
    and are routed to the intent they were taken for; the others are untouched."""
    r = rules(n_intents=3, resolve=np.full(3, 1.0), p_turn=np.ones(3), misrecognition=np.array([0.3, 0.0, 0.0]),
              confusion=np.array([[0.0, 0.25, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]))
    rng = np.random.default_rng(SEED)
    n = N
    intent = np.zeros(n, dtype=np.int64)
    u_mis = rng.random((2, n))
    c = converse(r, TURN, intent, intent, intent, np.full(n, 0.1), np.zeros(n), rng, u_misrecognition=u_mis)
    mistaken = c.routed != 0
    assert within(int(mistaken.sum()), n, 0.3)
    assert within(int((c.routed == 1).sum()), int(mistaken.sum()), 0.25)
    assert not c.solvable[mistaken].any()
    assert (c.outcome[mistaken] != Outcome.CONTAINED).all()
    assert (c.outcome[~mistaken] == Outcome.CONTAINED).all()  # resolve 1: the rest are all contained
