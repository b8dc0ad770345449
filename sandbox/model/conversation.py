"""Provides the bot conversation: turn by turn, for a whole batch of contacts at once.

A bot conversation does not depend on the queue or on other customers, so it is decided the moment a
contact arrives, vectorised over every contact of a day; only contacts handed to humans enter the event
simulation. Each conversation (docs/model.md §Bot):

* routing: offered to the bot with the policy's share for its channel, unless its intent or segment bypasses;
* the bot *can* resolve it with the intent's resolution probability (CRM on or off, × bot quality); a
  resolvable issue takes a geometric number of turns (mean ``turns_to_resolve``) and turns before the last
  are progress, not failures;
* each turn that cannot help adds frustration, and then, in this order: a wrong answer the customer accepts
  (false containment); the policy's triggers (low confidence, frustration threshold); a request for a human,
  more likely as F rises, honoured or refused by the policy; the customer giving up; the turn limit;
* when the bot runs out of turns (``give_up_after``) it escalates, or, if the policy has no turn limit, sends
  the customer away (dead end).

Every random number is drawn for every contact and turn whether used or not, so two policies on one seed
see the same customers make the same choices (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sandbox.model.frustration import FrustrationModel
from sandbox.model.outcomes import Outcome, Reason

_UNDECIDED = -1


@dataclass(frozen=True)
class BotRules:
    """The numbers a conversation needs, as arrays indexed by channel, segment or intent."""

    share: np.ndarray  # by channel: probability of being offered to the bot
    bypass_intent: np.ndarray  # bool by intent
    bypass_segment: np.ndarray  # bool by segment
    resolve: np.ndarray  # by intent, with CRM setting and bot quality applied
    failure_weight: np.ndarray  # by intent: how much more a failed turn hurts an upset customer
    wrong: np.ndarray  # by intent
    p_turn: np.ndarray  # by intent: 1 / turns_to_resolve
    identification: float
    give_up_after: int
    low_confidence_detection: float
    low_confidence_false_alarm: float
    needs_human: np.ndarray  # by intent: share that needs a human whatever the bot says
    misrecognition: np.ndarray  # by intent: probability the bot takes it for another intent
    confusion: np.ndarray  # [intent, intent]: cumulative probabilities of what it is taken for
    max_turns: int | None
    threshold: float | None
    honour: str | int  # "always", "never" or N
    on_low_confidence: bool
    cold: bool
    frustration: FrustrationModel
    # Security (sandbox.config: scenario.security, policy.security and integration.level).
    verify: np.ndarray  # bool by intent: verify identity first (account_action, level act, verification on)
    verification_time: float
    genuine_failure: float
    impostor_caught: float
    guardrails: float
    attack_permitted: np.ndarray  # bool by attack kind: the bot has the access the attack needs
    attack_verified: np.ndarray  # bool by attack kind: verification stands in its way
    attack_success: np.ndarray  # by attack kind: it works on an unguarded bot with that access


@dataclass
class Conversations:
    """Per-contact results of the bot stage (DIRECT where the contact skipped the bot)."""

    outcome: np.ndarray  # Outcome codes: a final bot outcome, ESCALATED or DIRECT
    duration: np.ndarray  # minutes in the bot (identification and turns)
    frustration: np.ndarray  # F on leaving the bot (including transfer and cold-handoff steps)
    turns: np.ndarray
    failed: np.ndarray
    reason: np.ndarray  # Reason codes
    asked: np.ndarray  # asked for a human at least once
    refused: np.ndarray  # requests for a human that were refused
    repeats: np.ndarray  # times the customer repeated information in this stage
    u_solve: np.ndarray  # the draw that decided whether the bot could solve each issue
    breached: np.ndarray  # an attack that worked on the bot (an incident)
    solvable: np.ndarray  # the bot could have resolved it
    needs: np.ndarray  # it needs a human whatever the bot says
    routed: np.ndarray  # the intent the bot took it for (its own, unless misrecognised): the queue it is sent to


def _honours(honour: str | int, turn: int) -> bool:
    """Whether the policy grants a request for a human made after ``turn`` bot turns."""
    if honour == "always":
        return True
    if honour == "never":
        return False
    return turn >= int(honour)


def converse(rules: BotRules, turn_time, intent: np.ndarray, segment: np.ndarray, channel: np.ndarray,
             f0: np.ndarray, u_route: np.ndarray, rng: np.random.Generator,
             same_issue: np.ndarray | None = None, attack: np.ndarray | None = None,
             u_security: np.ndarray | None = None, u_needs: np.ndarray | None = None,
             u_misrecognition: np.ndarray | None = None, unavailable: np.ndarray | None = None) -> Conversations:
    """Run the bot stage for a batch; ``turn_time`` is the scenario's turn-time distribution. ``same_issue``:
    the solvability draws of the contacts these repeat (the bot can solve a repeat only if it could before).
    ``attack``: the attack kind of each contact (−1: a genuine customer); ``u_security``: 4 × n uniform draws of
    their own stream for verification and attacks; ``u_needs``: the draws that say who needs a human;
    ``u_misrecognition``: 2 × n draws of whether the bot mistakes the intent, and for which; ``unavailable``:
    contacts the bot had no room for (sandbox.model.bot_capacity), routed as if it were not offered."""
    n = len(intent)
    k_max = rules.give_up_after
    u_solve = rng.random(n)  # drawn even when replaced: the stream stays the same either way
    if same_issue is not None:
        u_solve = same_issue
    need = rng.geometric(rules.p_turn[intent]) if n else np.zeros(0, dtype=np.int64)
    turn_times = turn_time.sample(rng, k_max * n).reshape(k_max, n)
    u = rng.random((k_max, 4, n))

    offered = (u_route < rules.share[channel]) & ~rules.bypass_intent[intent] & ~rules.bypass_segment[segment]
    if unavailable is not None:
        offered &= ~unavailable
    needs = np.zeros(n, dtype=bool) if u_needs is None else u_needs < rules.needs_human[intent]
    routed = intent
    if u_misrecognition is not None:  # the bot answers another intent's question: it cannot solve this one
        mistaken = offered & (u_misrecognition[0] < rules.misrecognition[intent])
        taken_for = (u_misrecognition[1][:, None] >= rules.confusion[intent]).sum(axis=1)
        routed = np.where(mistaken, taken_for, intent).astype(intent.dtype)
    solvable = (u_solve < rules.resolve[intent]) & ~needs & (routed == intent)
    outcome = np.where(offered, _UNDECIDED, int(Outcome.DIRECT))
    duration = np.where(offered, rules.identification, 0.0)
    f = f0.astype(float).copy()
    turns = np.zeros(n, dtype=np.int16)
    failed = np.zeros(n, dtype=np.int16)
    reason = np.zeros(n, dtype=np.int8)
    asked = np.zeros(n, dtype=bool)
    refused = np.zeros(n, dtype=np.int16)
    wrong_p, p_detect = rules.wrong[intent], rules.low_confidence_detection
    weight = rules.failure_weight[intent]
    active = offered.copy()
    breached = np.zeros(n, dtype=bool)

    def escalate(mask: np.ndarray, why: Reason) -> None:
        outcome[mask] = Outcome.ESCALATED
        reason[mask] = why
        active[mask] = False

    def end(mask: np.ndarray, how: Outcome) -> None:
        outcome[mask] = how
        active[mask] = False

    if u_security is not None and attack is not None:
        _secure(rules, intent, attack, u_security, turn_times[0], active, outcome, reason, duration, turns, f,
                breached)

    for k in range(1, k_max + 1):
        if not active.any():
            break
        duration[active] += turn_times[k - 1, active]
        turns[active] = k
        end(active & solvable & (need == k), Outcome.CONTAINED)
        if rules.on_low_confidence and rules.low_confidence_false_alarm:  # the bot doubts a turn that was fine
            escalate(active & solvable & (u[k - 1, 1] < rules.low_confidence_false_alarm), Reason.LOW_CONFIDENCE)

        fail = active & ~solvable
        failed[fail] += 1
        f[fail] = rules.frustration.after_failed_turn(f[fail], weight[fail])
        wrong = fail & (u[k - 1, 0] < wrong_p)
        end(wrong, Outcome.FALSE_CONTAINED)
        fail &= ~wrong

        if rules.on_low_confidence:
            escalate(fail & (u[k - 1, 1] < p_detect), Reason.LOW_CONFIDENCE)
        if rules.threshold is not None:
            escalate(fail & active & (f >= rules.threshold), Reason.FRUSTRATION)
        fail &= active
        ask = fail & (u[k - 1, 2] < rules.frustration.ask_probability(f))
        asked |= ask
        honoured = ask if _honours(rules.honour, k) else np.zeros(n, dtype=bool)
        escalate(honoured, Reason.REQUEST)
        ignored = ask & ~honoured
        refused[ignored] += 1
        f[ignored] = rules.frustration.after_ignored_request(f[ignored])
        end(fail & active & (u[k - 1, 3] < rules.frustration.quit_probability(f)), Outcome.ABANDONED_BOT)

        if rules.max_turns is not None and k >= rules.max_turns:
            escalate(active.copy(), Reason.MAX_TURNS)
    if rules.max_turns is None:
        end(active.copy(), Outcome.DEAD_ENDED)
    else:
        escalate(active.copy(), Reason.MAX_TURNS)

    repeats = np.zeros(n, dtype=np.int16)
    escalated = outcome == Outcome.ESCALATED
    f[escalated] = rules.frustration.after_handover(f[escalated], rules.cold)
    if rules.cold:
        repeats[escalated] = 1
    gave_up = np.isin(outcome, (Outcome.DEAD_ENDED, Outcome.ABANDONED_BOT))
    f[gave_up] = rules.frustration.after_leaving_unresolved(f[gave_up])
    return Conversations(outcome.astype(np.int8), duration, f, turns, failed, reason, asked, refused, repeats,
                         u_solve, breached, solvable, needs, routed)


def _secure(rules: BotRules, intent: np.ndarray, attack: np.ndarray, u: np.ndarray, first_turn: np.ndarray,
            active: np.ndarray, outcome: np.ndarray, reason: np.ndarray, duration: np.ndarray, turns: np.ndarray,
            f: np.ndarray, breached: np.ndarray) -> None:
    """Verification and attacks, before the first turn (arrays updated in place; docs/model.md §Security).

    A genuine customer on an intent that needs verification spends its time and, failing it, is frustrated and
    handed to a human. An attacker makes one attempt: a guardrail may end the session; otherwise it works when
    the bot has the access it needs, verification does not catch the impostor and the attempt succeeds; it then
    looks contained to the bot's analytics. A failed attempt asks for a human (the agents are tried next).
    """
    adversary = active & (attack >= 0)
    genuine = active & ~adversary
    verify = genuine & rules.verify[intent]
    duration[verify] += rules.verification_time
    failed = verify & (u[0] < rules.genuine_failure)
    turns[failed] = 1  # the verification exchange: they did talk to the bot
    f[failed] = rules.frustration.after_ignored_request(f[failed])
    outcome[failed], reason[failed], active[failed] = Outcome.ESCALATED, Reason.VERIFICATION, False

    if not adversary.any():
        return
    kind = np.where(adversary, attack, 0)
    verified = adversary & rules.attack_verified[kind]
    duration[adversary] += first_turn[adversary]
    duration[verified] += rules.verification_time
    turns[adversary] = 1
    stopped = adversary & (u[1] < rules.guardrails)
    caught = verified & (u[2] < rules.impostor_caught)
    works = adversary & ~stopped & ~caught & rules.attack_permitted[kind] & (u[3] < rules.attack_success[kind])
    breached |= works
    outcome[works] = Outcome.CONTAINED
    outcome[stopped] = Outcome.ABANDONED_BOT  # the guardrail ends the session
    to_human = adversary & ~works & ~stopped
    if _honours(rules.honour, 1):
        outcome[to_human], reason[to_human] = Outcome.ESCALATED, Reason.REQUEST
    else:
        outcome[to_human] = Outcome.ABANDONED_BOT
    active[adversary] = False
