"""Provides journeys: a few simulated customers followed step by step, the same customers under each policy.

Every policy sees the same customers (common random numbers: the arrival and customer streams do not depend on
the policy), so the k-th first contact of an intent is the same person under each. A journey is read from the
contact's record (sandbox.metrics.ledger: turns, failed turns, requests for a human, the handoff reason, the
wait, the agent group, the outcome, the frustration at the end) and the frustration between is retold with the
model's own steps (sandbox.model.frustration) in the order the bot stage applies them: each failed turn, each
refused request, the handover; then the wait. The start (the intent's emotional load) and the end are the
engine's own values; CSAT is the ledger's rating of that contact (sandbox.metrics.ledger.ratings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import Plan, compile_plan
from sandbox.engine.run import simulate
from sandbox.metrics.ledger import ratings
from sandbox.model.outcomes import Origin, Outcome, Reason

OUTCOME_WORDS = {
    Outcome.CONTAINED: "resolved by the bot", Outcome.FALSE_CONTAINED: "believed a wrong answer from the bot",
    Outcome.DEAD_ENDED: "dead end: the bot gave up with no way to a human", Outcome.ABANDONED_BOT:
    "gave up on the bot", Outcome.BLOCKED: "the queue was full", Outcome.TURNED_AWAY: "turned away (humans closed)",
    Outcome.ABANDONED_QUEUE: "gave up waiting for an agent", Outcome.SERVED: "served by an agent",
    Outcome.CALLBACK: "left the queue with a promised callback", Outcome.MESSAGE: "left a message",
}
REASON_WORDS = {Reason.MAX_TURNS: "the bot ran out of turns", Reason.FRUSTRATION: "the bot saw the frustration",
                Reason.REQUEST: "the customer asked for a human", Reason.LOW_CONFIDENCE: "the bot was not sure",
                Reason.VERIFICATION: "identity verification failed"}


@dataclass
class Step:
    what: str  # in plain words
    frustration: float | None = None  # F after this step (None: unchanged)


@dataclass
class Journey:
    policy: str
    steps: list[Step]
    outcome: str
    frustration: float  # at the end (the engine's)
    csat: float  # probability of a satisfied rating of the journey (0 for a believed wrong answer)
    survey: float  # what a post-contact survey would show
    continues: bool  # the customer comes back (a retry or a return): the journey is scored at that contact

    def rating(self) -> str:
        """CSAT in words, with the survey's where it differs."""
        if self.continues:
            return f"comes back later: the journey is scored then (a survey now would say {self.survey:.0%})"
        differs = f"{self.survey:.0%}" != f"{self.csat:.0%}"
        return f"CSAT {self.csat:.0%}" + (f" (a survey would say {self.survey:.0%})" if differs else "")


@dataclass
class Customer:
    arrival: float  # minutes since the start of day 1
    channel: str
    segment: str
    intent: str
    journeys: list[Journey] = field(default_factory=list)  # one per policy, in the order given

    @property
    def clock(self) -> str:
        day, minute = divmod(int(self.arrival), 1440)
        return f"day {day + 1} {minute // 60:02d}:{minute % 60:02d}"


def _minutes(m: float) -> str:
    return f"{m * 60:.0f} s" if m < 1 else f"{m:.1f} min"


def follow(scenario: Scenario, policies: list[Policy], intent: str, customers: int = 4, seed: int = 0,
           replication: int = 0) -> list[Customer]:
    """``customers`` first contacts of ``intent`` (spread over the horizon as demand is) followed under each
    policy."""
    found: list[Customer] = []
    matched: list[np.ndarray] = []
    for k, policy in enumerate(policies):
        plan = compile_plan(scenario, policy)
        records = simulate(plan, seed=seed, replication=replication, keep_records=True).records
        if records is None:
            return []
        who = np.flatnonzero((records["intent"] == plan.intents.index(intent))
                             & (records["origin"] == Origin.FIRST) & (records["attack"] < 0))
        who = who[np.argsort(records["arrive"][who], kind="stable")]
        if k == 0:  # the customers at the middles of equal shares of the intent's contacts (not the night's first)
            n = min(customers, len(who))
            picks = who[((np.arange(n) + 0.5) / max(n, 1) * len(who)).astype(int)]
            found = [Customer(float(records["arrive"][i]), plan.channels[int(records["channel"][i])],
                              list(scenario.segments)[int(records["segment"][i])], intent) for i in picks]
            matched = [records["arrive"][picks]]
        times = records["arrive"][who]
        at = np.searchsorted(times, matched[0])
        for customer, a, t in zip(found, at.tolist(), matched[0].tolist(), strict=True):
            if a < len(times) and times[a] == t:
                customer.journeys.append(_journey(plan, records, int(who[a])))
    return found


def _journey(plan: Plan, records: dict[str, np.ndarray], i: int) -> Journey:
    r = {name: values[i] for name, values in records.items()}
    model, intent = plan.frustration, int(r["intent"])
    f = float(plan.f0[intent])
    steps = [Step(f"arrives on {plan.channels[int(r['channel'])]} about {plan.intents[intent]}", f)]
    turns, failed = int(r["turns"]), int(r["failed"])
    outcome = Outcome(int(r["outcome"]))
    if turns:
        weight = float(model.failure_weight(plan.f0[intent:intent + 1])[0])
        for k in range(1, turns + 1):
            if k <= failed:
                f = float(model.after_failed_turn(f, weight))
                steps.append(Step(f"bot turn {k}: did not help", f))
            elif k < turns or outcome not in (Outcome.CONTAINED, Outcome.FALSE_CONTAINED):
                steps.append(Step(f"bot turn {k}: moves it on"))
            elif outcome == Outcome.CONTAINED:
                steps.append(Step(f"bot turn {k}: answers it"))
            else:
                steps.append(Step(f"bot turn {k}: answers it wrongly, and the customer believes it"))
        if r["misrecognised"]:
            steps.append(Step("the bot took it for another question"))
        if r["asked"]:
            steps.append(Step("asks for a human"))
        for _ in range(int(r["refused"])):
            f = float(model.after_ignored_request(f))
            steps.append(Step("the request is refused", f))
    reason = Reason(int(r["reason"]))
    if reason != Reason.NONE:
        cold = plan.policy.handoff.mode == "cold"
        f = float(model.after_handover(f, cold))
        how = "cold: tells it all again" if cold else "warm: the conversation goes along"
        steps.append(Step(f"handed to a human ({REASON_WORDS[reason]}), {how}", f))
    elif turns == 0 and r["queued"]:
        steps.append(Step("goes straight to the human queue"))
    if r["queued"]:
        wait = float(r["wait"])
        f = min(1.0, float(model.after_wait(f, wait)))
        steps.append(Step(f"waits {_minutes(wait)} in the queue", f))
        if outcome == Outcome.SERVED:
            team = f" of {plan.groups[int(r['group'])].name}" if r["group"] >= 0 else ""
            steps.append(Step(f"an agent{team} serves it in {_minutes(float(r['handle']))}"))
    words = OUTCOME_WORDS.get(outcome, outcome.name.lower())
    steps.append(Step(words + (" (the agent calms the customer)" if outcome == Outcome.SERVED else ""),
                      float(r["frustration"])))
    one = {name: values[i:i + 1] for name, values in records.items()}
    survey, csat = ratings(one, plan.ceiling[one["channel"]], plan.satisfaction)
    return Journey(plan.policy.name, steps, words, float(r["frustration"]), float(csat[0]), float(survey[0]),
                   bool(r["continues"]))
