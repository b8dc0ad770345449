"""Provides every KPI: its name, unit, which direction is better, its definition, and how it is computed.

This module is where a KPI is defined. docs/kpis.md is generated from KPIS; the CLI and TUI label and format
values from it. Counts are per replication; times are in minutes unless the unit says seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from sandbox.metrics.ledger import Totals
from sandbox.metrics.monitors import interval_areas
from sandbox.model.outcomes import FINAL_OUTCOMES, Outcome, Reason


class RunShape(Protocol):
    """What the KPIs need to know of a run beyond its totals (the engine's compiled plan has all of it); a
    protocol, so the metrics layer never imports the engine."""

    @property
    def end(self) -> float: ...
    @property
    def interval(self) -> float: ...
    @property
    def n_bins(self) -> int: ...
    @property
    def intents(self) -> list[str]: ...
    @property
    def channels(self) -> list[str]: ...
    @property
    def skills(self) -> list[str]: ...  # the skills intents need, in order (Totals.skill_of_intent indexes it)
    @property
    def timeline(self) -> list[tuple[float, bool, dict[int, int]]]: ...  # (time, humans open after, headcounts)
    @property
    def bot_cost_per_conversation(self) -> float: ...
    @property
    def bot_cost_per_resolution(self) -> float: ...

Better = Literal["lower", "higher"] | None


@dataclass(frozen=True)
class KPI:
    """A KPI and its computation together: adding one is one entry in KPIS (docs/kpis.md is generated)."""

    name: str
    label: str
    unit: str  # "count", "share", "seconds", "minutes", "money", "index"
    better: Better
    definition: str
    compute: Callable[[Ingredients], float] = field(repr=False, compare=False)


KPIS: dict[str, KPI] = {k.name: k for k in (
    KPI("offered", "contacts offered", "count", None, "Contacts that arrived in the horizon, repeats included.",
        lambda x: x.offered),
    KPI("bot_handled", "bot conversations", "count", None, "Contacts that talked to the bot.",
        lambda x: x.get("bot_handled")),
    KPI("contained", "contained (resolved)", "count", "higher", "Bot conversations that resolved the issue.",
        lambda x: x.n["contained"]),
    KPI("false_contained", "false containment", "count", "lower",
        "Bot conversations that ended with a wrong answer the customer believed.",
        lambda x: x.n["false_contained"]),
    KPI("dead_ended", "dead ends", "count", "lower",
        "Bot conversations where the bot gave up and the policy had no path to a human.",
        lambda x: x.n["dead_ended"]),
    KPI("escalated", "escalated to humans", "count", None, "Bot conversations handed to the human queue.",
        lambda x: x.get("escalated")),
    # Why they were handed over (Reason): the four add up to `escalated`.
    KPI("escalated_max_turns", "  at the turn limit", "count", None,
        "Escalations because the policy's max_bot_turns was reached.",
        lambda x: x.reasons[Reason.MAX_TURNS]),
    KPI("escalated_frustration", "  on frustration", "count", None,
        "Escalations because frustration reached the policy's threshold.",
        lambda x: x.reasons[Reason.FRUSTRATION]),
    KPI("escalated_request", "  on request", "count", None,
        "Escalations because the customer asked for a human and the policy honoured it.",
        lambda x: x.reasons[Reason.REQUEST]),
    KPI("escalated_low_confidence", "  on low confidence", "count", None,
        "Escalations because the bot noticed it could not help (low-confidence detection).",
        lambda x: x.reasons[Reason.LOW_CONFIDENCE]),
    KPI("abandoned_bot", "abandoned in bot", "count", "lower", "Customers who gave up on the bot.",
        lambda x: x.n["abandoned_bot"]),
    KPI("blocked", "blocked", "count", "lower",
        "Contacts refused before queueing: the queue at its cap (agents.queue_capacity) or every line of the "
        "channel taken (channels.*.lines, a busy signal).",
        lambda x: x.n["blocked"]),
    KPI("turned_away", "turned away", "count", "lower",
        "Needed a human while humans were closed, or were in the queue when it was cleared at closing.",
        lambda x: x.n["turned_away"]),
    KPI("abandoned_queue", "abandoned in queue", "count", "lower", "Customers who gave up waiting for an agent.",
        lambda x: x.n["abandoned_queue"]),
    KPI("served", "served by agents", "count", None, "Contacts answered by an agent (counted at answer).",
        lambda x: x.n["served"]),
    KPI("messages", "messages left", "count", "lower",
        "Contacts that left a message after waiting the policy's message.after_wait (unresolved in the run).",
        lambda x: x.n["message"]),
    KPI("callbacks", "callbacks", "count", None,
        "Contacts that left the live queue with a promised callback (offer accepted, or queue sent to callbacks).",
        lambda x: x.n["callback"]),
    KPI("callbacks_done", "callbacks made", "count", None, "Callbacks completed within the horizon.",
        lambda x: x.get("callbacks_done")),
    KPI("in_system", "still in system", "count", None, "In the bot or the queue when the horizon ended.",
        lambda x: x.n["in_system"]),
    KPI("repeat_contacts", "repeat contacts", "count", "lower",
        "Contacts that were retries (after abandoning, or after a busy signal or being turned away: "
        "repeat_contacts.after_refused) or returns after a believed wrong answer.",
        lambda x: x.get("retries") + x.get("returns")),
    KPI("first_contact_resolution", "first-contact resolution", "share", "higher",
        "Customers' first contacts resolved then and there (contained or served) with no repeat contact later in "
        "the horizon, / first contacts that ended (attackers left out). A believed wrong answer is not resolved.",
        lambda x: _ratio(x.get("first_resolved"), x.get("first_contacts"))),
    KPI("contacts_per_resolution", "contacts per resolved issue", "count", "lower",
        "offered / customer issues whose journey ended resolved: the contacts, first and repeat, each resolution "
        "took.", lambda x: _ratio(x.offered, x.get("journeys_resolved"))),
    KPI("queued", "joined the queue", "count", None,
        "Queue episodes: contacts that joined a human queue (a transferred contact joins again), the denominator "
        "of service_level, asa_all and queue_abandonment_rate.", lambda x: x.get("queued")),
    KPI("abandonment_rate", "abandonment", "share", "lower",
        "(abandoned_bot + abandoned_queue) / offered: every customer who gave up, bot or queue.",
        lambda x: _ratio(x.n["abandoned_bot"] + x.n["abandoned_queue"], x.offered)),
    KPI("queue_abandonment_rate", "queue abandonment", "share", "lower",
        "abandoned_queue / contacts that joined the human queue: Erlang A's P(Ab). Exits in the bot are not "
        "offered to the queue.",
        lambda x: _ratio(x.n["abandoned_queue"], x.get("queued"))),
    KPI("containment_rate", "containment (industry)", "share", None,
        "Bot conversations ended without a transfer / bot conversations. The flattering industry "
        "definition: dead ends, abandons and wrong answers count as contained.",
        lambda x: _ratio(x.n["contained"] + x.n["false_contained"] + x.n["dead_ended"] + x.n["abandoned_bot"],
                         x.get('bot_handled'))),
    KPI("bot_resolution_rate", "bot resolution", "share", "higher",
        "contained / bot conversations: verified resolutions only.",
        lambda x: _ratio(x.n["contained"], x.get("bot_handled"))),
    KPI("false_containment_rate", "false containment", "share", "lower", "false_contained / bot conversations.",
        lambda x: _ratio(x.n["false_contained"], x.get("bot_handled"))),
    KPI("escalation_rate", "escalation", "share", None, "escalated / bot conversations.",
        lambda x: _ratio(x.get("escalated"), x.get("bot_handled"))),
    KPI("asa_served", "ASA (served)", "seconds", "lower",
        "Mean wait in queue of contacts answered by an agent (the industry 'ASA', E[W | served]).",
        lambda x: _ratio(x.get("wait_served"), x.n["served"]) * 60),
    KPI("asa_all", "ASA (all)", "seconds", "lower",
        "Mean wait in queue over every contact that joined it; abandoners count their time until leaving "
        "(E[W_all] = E[Q]/λ).",
        lambda x: _ratio(x.get("wait_all"), x.get("queued")) * 60),
    KPI("asa_virtual", "virtual wait", "seconds", "lower",
        "Mean virtual waiting time per queue episode: the wait a contact would have had had it never left, i.e. "
        "until an agent free for its queue reached it (E[V]; for abandoners, when the agent would have answered). "
        "Episodes still unsettled when the queue closes or the horizon ends are left out.",
        lambda x: _ratio(x.get("virtual_wait"), x.get("virtual_queued")) * 60),
    KPI("service_level_virtual", "SL (virtual wait)", "share", "higher",
        "P(V ≤ T): share of settled queue episodes whose virtual wait is within T: the service level the queue "
        "offers, whoever stayed (the abandonment-proof definition).",
        lambda x: _ratio(x.get("virtual_within_t"), x.get("virtual_queued"))),
    KPI("service_level", "service level", "share", "higher",
        "SL_all: answered within T / contacts that joined the queue; abandons count as misses. T per channel "
        "(scenario channels.*.service_level_threshold).",
        lambda x: _ratio(x.get("answered_within_t"), x.get("queued"))),
    KPI("service_level_served", "SL (served only)", "share", "higher", "SL_served: answered within T / served.",
        lambda x: _ratio(x.get("answered_within_t"), x.n["served"])),
    KPI("service_level_excl_early", "SL (early abandons excl.)", "share", "higher",
        "answered within T / (joined − abandoned before T): abandons before T ignored.",
        lambda x: _ratio(x.get("answered_within_t"), x.get("queued") - x.get("abandoned_before_t"))),
    KPI("service_level_voice", "SL voice", "share", "higher",
        "service_level over voice calls only, with the voice T (nan without voice).",
        lambda x: x.channel_ratio("answered_within_t", "queued", "voice")),
    KPI("service_level_chat", "SL chat", "share", "higher",
        "service_level over chats only, with the chat T (nan without chat).",
        lambda x: x.channel_ratio("answered_within_t", "queued", "chat")),
    KPI("abandonment_rate_voice", "abandonment voice", "share", "lower",
        "abandonment_rate over voice contacts only.", lambda x: x.channel_ratio("gave_up", "offered", "voice")),
    KPI("abandonment_rate_chat", "abandonment chat", "share", "lower",
        "abandonment_rate over chat contacts only.", lambda x: x.channel_ratio("gave_up", "offered", "chat")),
    KPI("answered_within_t", "answered within T", "count", "higher", "S_T: served with a wait ≤ T.",
        lambda x: x.get("answered_within_t")),
    KPI("abandoned_before_t", "abandoned before T", "count", None, "L_T: abandoned with a wait ≤ T.",
        lambda x: x.get("abandoned_before_t")),
    KPI("abandoned_after_t", "abandoned after T", "count", "lower", "L_>T: abandoned with a wait > T.",
        lambda x: x.get("abandoned_after_t")),
    # No better direction: averaged over resolved contacts only, a policy that resolves fewer (a dead-end bot
    # resolving only the quick questions) would look fastest. Read it beside resolution and abandonment.
    KPI("resolution_time_mean", "resolution time", "minutes", None,
        "Arrival to resolution (bot resolved, or end of the agent's handling) over resolved contacts only; never "
        "marked better or worse, since resolving fewer (only the quick cases) makes it shorter.",
        lambda x: _ratio(x.get("resolution_time"), x.get("resolved"))),
    KPI("resolution_time_p90", "resolution time p90", "minutes", None,
        "90th percentile of the same (from a 1%-wide histogram); not marked better or worse, as above.",
        lambda x: x.totals.resolution_quantile(0.9)),
    KPI("repeat_information", "repeated information", "count", "lower",
        "Times customers had to repeat themselves: cold handoffs and repeat contacts.",
        lambda x: x.get("repeat_information")),
    KPI("asked_human", "asked for a human", "count", None,
        "Bot conversations in which the customer asked for a human.",
        lambda x: x.get("asked_human")),
    KPI("refused_requests", "refused requests", "count", "lower", "Requests for a human the policy refused.",
        lambda x: x.get("refused_requests")),
    KPI("frustration_mean", "frustration", "index", "lower", "Mean final frustration F (0–1) of finished contacts.",
        lambda x: _ratio(x.get("frustration"), x.get("final"))),
    KPI("premature_escalations", "premature escalations", "count", "lower",
        "Bot conversations handed to a human although the bot could have resolved them (a turn limit reached "
        "while getting there, or a low-confidence false alarm).", lambda x: x.get("premature_escalations")),
    KPI("missed_escalations", "missed escalations", "count", "lower",
        "Contacts that needed a human (intent needs_human) and did not reach one (dead end, gave up on the bot, "
        "a wrong answer believed) or reached one only after bot.late_escalation failed turns.",
        lambda x: x.get("missed_escalations")),
    KPI("misrecognised", "misrecognised intents", "count", "lower",
        "Bot conversations whose intent the bot took for another one (bot.misrecognition): it answered the wrong "
        "question and, escalating, sent the contact to that intent's skill.", lambda x: x.get("misrecognised")),
    KPI("bot_overflow", "bot full: sent to humans", "count", "lower",
        "Contacts that found the bot at its capacity (bot.capacity) and went to the human queue instead "
        "(automation.when_bot_full overflow).", lambda x: x.get("bot_overflow")),
    KPI("bot_wait_mean", "wait for the bot", "minutes", "lower",
        "Mean minutes waited for a free bot slot by the contacts that found the bot full and waited "
        "(bot.capacity, automation.when_bot_full wait), including those who gave up waiting (with the patience "
        "they spent; they count as abandoned in the bot).",
        lambda x: _ratio(x.get("bot_wait"), x.get("bot_waited"))),
    KPI("transfers", "transfers between agents", "count", "lower",
        "Times an agent without a misrouted contact's skill passed it to the right queue (each costs "
        "agents.transfer_time of agent and customer time, and a handoff step).", lambda x: x.get("transfers")),
    KPI("calmed", "frustration talked down", "index", None,
        "Mean frustration agents' de-escalation took away, per served customer (F at answer − F at the end).",
        lambda x: _ratio(x.get("calmed"), x.n["served"])),
    KPI("csat", "CSAT (journey)", "share", "higher",
        "Journey CSAT: mean probability of a satisfied (top-2-box) rating per customer issue, scored where its "
        "journey ends (a contact followed by a repeat is scored at the repeat); a believed wrong answer counts as "
        "unresolved, found out. Channel CSAT × (1 or `unresolved`) × (1 − per_extra_step)^steps × (1 − F).",
        lambda x: _ratio(x.get("csat"), x.get("journeys"))),
    KPI("survey_csat", "CSAT (survey)", "share", "higher",
        "What a post-contact survey shows: the same formula over every finished contact, as the customer sees it "
        "then (a believed wrong answer rates as resolved). Above csat when the bot misleads.",
        lambda x: _ratio(x.get("survey_csat"), x.get("final"))),
    KPI("churn_risk", "churn risk", "share", "lower", "Mean churn probability of finished contacts.",
        lambda x: _ratio(x.get("churn"), x.get("final"))),
    KPI("value_at_risk", "value at risk", "money", "lower", "Σ churn probability × the segment's value at risk.",
        lambda x: x.get("value_at_risk")),
    KPI("occupancy", "occupancy", "share", None,
        "Busy agent slots / staffed slots, time-weighted (a voice call fills all of an agent's slots), over "
        "the whole horizon: it includes agents finishing, or serving the queue out, after closing.",
        lambda x: _ratio(float(x.busy.sum()), float(x.staffed.sum()))),
    KPI("occupancy_open", "occupancy while open", "share", None,
        "The same over reporting intervals that lie wholly within opening hours: the figure a workforce plan "
        "states (intervals cut by opening or closing are left out).",
        lambda x: _ratio(float(x.busy[x.open_bins].sum()), float(x.staffed[x.open_bins].sum()))),
    KPI("agent_hours", "paid agent hours", "count", None,
        "Paid agent hours: hours on duty, including finishing after a shift, / (1 − the group's shrinkage).",
        lambda x: x.get("paid_minutes") / 60),
    KPI("productive_hours", "productive hours", "count", None,
        "Agent hours on duty and available for contacts (the schedule's headcounts), including finishing after "
        "a shift: agent_hours × (1 − shrinkage).", lambda x: x.get("agent_minutes") / 60),
    KPI("bot_cost", "bot cost", "money", "lower",
        "bot conversations × cost_per_conversation + (contained + false_contained) × cost_per_resolution.",
        lambda x: x.bot_cost),
    KPI("agent_cost", "agent cost", "money", "lower", "Σ paid agent hours × the group's hourly cost.",
        lambda x: x.get("agent_cost")),
    KPI("curation_cost", "curation cost", "money", "lower",
        "The feedback loop's content work: policy improvement.curation_hours_per_week × hourly_cost, per day run "
        "(0 without a feedback loop).", lambda x: x.get("curation_cost")),
    KPI("total_cost", "total cost", "money", "lower", "bot_cost + agent_cost + curation_cost.",
        lambda x: x.running_cost),
    KPI("resolved", "resolved", "count", "higher", "contained + served + callbacks_done.",
        lambda x: x.resolved),
    KPI("cost_per_resolved", "cost / resolved", "money", "lower", "total_cost / resolved.",
        lambda x: _ratio(x.running_cost, x.resolved)),
    KPI("churn_cost", "churn cost", "money", "lower",
        "Expected value lost to churn above the churn a perfectly served customer would still have (resolved "
        "at first contact, no more upset than on arrival): Σ per issue max(0, churn − that) × value at risk.",
        lambda x: x.get("churn_cost")),
    KPI("attacks", "attacks", "count", None, "Adversarial sessions that finished (scenario.security).",
        lambda x: x.get("attacks")),
    KPI("incidents", "security incidents", "count", "lower",
        "Attacks that worked: unauthorised account changes, fraudulent refunds, data exposures, by the bot or an "
        "agent.", lambda x: x.get("incidents")),
    KPI("incidents_bot", "incidents by the bot", "count", "lower", "The incidents the bot was talked into.",
        lambda x: x.get("incidents_bot")),
    KPI("incident_cost", "incident cost", "money", "lower",
        "Σ incidents × the attack kind's cost (a bot's refund capped by the policy's refund_limit).",
        lambda x: x.get("incident_cost")),
    KPI("verification_failed", "failed verification", "count", "lower",
        "Genuine customers who failed identity verification and were handed to a human: its friction.",
        lambda x: x.get("verification_failed")),
    KPI("net_cost", "net cost", "money", "lower",
        "What the policy really costs: total_cost + churn_cost + incident_cost.",
        lambda x: x.running_cost + x.get("churn_cost") + x.get("incident_cost")),
)}

# Ratio KPIs as simulators such as ContactCenters also report them over a whole experiment: Σ numerator / Σ
# denominator across replications (the ratio of sums), beside the mean of the replications' ratios that every
# other figure uses. They differ when the denominators vary between days. (numerator, denominator, scale), named
# in Computed.sums.
RATIO_OF_SUMS = {
    "abandonment_rate": ("gave_up", "offered", 1.0),
    "queue_abandonment_rate": ("abandoned_queue", "queued", 1.0),
    "asa_served": ("wait_served", "served", 60.0),
    "asa_all": ("wait_all", "queued", 60.0),
    "asa_virtual": ("virtual_wait", "virtual_queued", 60.0),
    "service_level": ("answered_within_t", "queued", 1.0),
    "service_level_served": ("answered_within_t", "served", 1.0),
    "service_level_virtual": ("virtual_within_t", "virtual_queued", 1.0),
}


def ratio_of_sums(kpi: str, sums: Sequence[dict[str, float]]) -> float:
    """``kpi`` as Σ numerator / Σ denominator over runs (their Computed.sums)."""
    numerator, denominator, scale = RATIO_OF_SUMS[kpi]
    return _ratio(sum(s[numerator] for s in sums), sum(s[denominator] for s in sums)) * scale


SERIES = ("arrivals", "escalated", "abandoned", "queue_length", "occupancy", "agents_on_duty")
INTENT_FIELDS = ("offered", "bot_handled", "contained", "false_contained", "dead_ended", "abandoned_bot",
                 "escalated", "served", "abandoned_queue", "bot_resolution_rate", "false_containment_rate",
                 "escalation_rate", "frustration_mean", "left_frustrated", "csat", "survey_csat", "agent_hours",
                 "returns", "premature_escalations", "missed_escalations",
                 "value_at_risk")


@dataclass
class Computed:
    kpis: dict[str, float]
    series: dict[str, list[float]]
    by_intent: dict[str, dict[str, float]]
    counts: dict[str, int]
    sums: dict[str, float]  # the numerators and denominators of RATIO_OF_SUMS
    daily: list[dict[str, float]]  # DAILY, one record per simulated day
    by_segment: dict[str, dict[str, float]]  # SEGMENT_FIELDS per customer segment


# Per segment, with the definitions of the KPIs of the same names over that segment's contacts.
SEGMENT_FIELDS = ("offered", "abandonment_rate", "queue_abandonment_rate", "asa_served", "service_level",
                  "bot_resolution_rate", "csat")


def by_segment(totals: Totals) -> dict[str, dict[str, float]]:
    s = totals.by_segment
    out = {}
    for i, name in enumerate(totals.segment_names):
        out[name] = {
            "offered": float(s["offered"][i]),
            "abandonment_rate": _ratio(float(s["gave_up"][i]), float(s["offered"][i])),
            "queue_abandonment_rate": _ratio(float(s["abandoned_queue"][i]), float(s["queued"][i])),
            "asa_served": _ratio(float(s["wait_served"][i]), float(s["served"][i])) * 60,
            "service_level": _ratio(float(s["answered_within_t"][i]), float(s["queued"][i])),
            "bot_resolution_rate": _ratio(float(s["contained"][i]), float(s["bot_handled"][i])),
            "csat": _ratio(float(s["csat"][i]), float(s["journeys"][i])),
        }
    return out


# The KPIs reported per day (Computed.daily), each with the definition of the KPI of that name, over the contacts
# that arrived (for the queue: joined it) that day; stale_intents: intents whose bot knowledge was stale;
# automation_factor: the rollout's factor of the automation share that day (ramp or gate; 1 without either).
DAILY = ("offered", "bot_resolution_rate", "abandonment_rate", "queue_abandonment_rate", "service_level",
         "asa_all", "occupancy", "csat", "productive_hours", "stale_intents", "automation_factor")


def period_rates(totals: Totals, first_day: int, last_day: int) -> tuple[float, float]:
    """abandonment_rate and csat of the contacts that arrived on days [first_day, last_day), as far as their
    outcomes are known now (what a rollout gate judges at the end of a period)."""
    per_day = max(1, round(1440 / totals.interval))
    span = slice(first_day * per_day, last_day * per_day)
    ch, sr = totals.by_channel, totals.series
    return (_ratio(float(ch["gave_up"][:, span].sum()), float(ch["offered"][:, span].sum())),
            _ratio(float(sr["csat"][span].sum()), float(sr["journeys"][span].sum())))


def daily(totals: Totals, staffed: np.ndarray, on_duty: np.ndarray) -> list[dict[str, float]]:
    """Computed.daily from the per-interval series."""
    t = totals
    per_day = max(1, round(1440 / t.interval))
    days = t.n_bins // per_day
    ch, sr = t.by_channel, t.series

    def total(values: np.ndarray, d: int) -> float:
        return float(values[..., d * per_day:(d + 1) * per_day].sum())

    out = []
    for d in range(days):
        queued = total(ch["queued"], d)
        offered = total(ch["offered"], d)
        out.append({
            "day": d + 1,
            "offered": offered,
            "bot_resolution_rate": _ratio(total(sr["contained"], d), total(sr["bot_handled"], d)),
            "abandonment_rate": _ratio(total(ch["gave_up"], d), offered),
            "queue_abandonment_rate": _ratio(total(ch["abandoned_queue"], d), queued),
            "service_level": _ratio(total(ch["answered_within_t"], d), queued),
            "asa_all": _ratio(total(ch["wait_all"], d), queued) * 60,
            "occupancy": _ratio(total(sr["busy_area"], d), total(staffed, d)),
            "csat": _ratio(total(sr["csat"], d), total(sr["journeys"], d)),
            "productive_hours": total(on_duty, d) / 60,
            "stale_intents": float(sr["stale_intents"][d * per_day]),
            "automation_factor": float(sr["automation_factor"][d * per_day]),
        })
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _open_intervals(plan: RunShape) -> np.ndarray:
    """Which reporting intervals lie wholly within opening hours (from the plan's open/close timeline)."""
    starts, ends, opened = [], [], None
    for t, is_open, _ in plan.timeline:
        if is_open and opened is None:
            opened = t
        elif not is_open and opened is not None:
            starts.append(opened)
            ends.append(t)
            opened = None
    if opened is not None:
        starts.append(opened)
        ends.append(plan.end)
    area = interval_areas(np.array(starts, dtype=float), np.array(ends, dtype=float), np.ones(len(starts)),
                          plan.interval, plan.n_bins)
    return area >= plan.interval * (1 - 1e-9)


class Ingredients:
    """What the KPI formulas read: one run's totals, its final outcomes by name, and the plan's static costs."""

    totals: Totals
    get: Callable[[str], float]
    reasons: np.ndarray
    n: dict[str, int]
    offered: int
    busy: np.ndarray
    staffed: np.ndarray
    open_bins: np.ndarray
    bot_cost: float
    resolved: float
    channels: list[str]

    def __init__(self, plan: RunShape, totals: Totals):
        self.totals = totals
        self.get = totals.get  # a named total (misspelt: KeyError)
        self.reasons = totals.reasons
        by = totals.outcome_by_intent.sum(axis=0)
        self.n = {o.name.lower(): int(by[o]) for o in FINAL_OUTCOMES}  # contacts by final outcome
        self.offered = int(by.sum())
        self.busy = totals.series["busy_area"]
        self.staffed = totals.series["staffed_area"]
        self.open_bins = _open_intervals(plan)
        self.bot_cost = self.get("bot_handled") * plan.bot_cost_per_conversation + \
            (self.n["contained"] + self.n["false_contained"]) * plan.bot_cost_per_resolution
        self.resolved = self.n["contained"] + self.n["served"] + self.get("callbacks_done")
        self.running_cost: float = self.bot_cost + self.get("agent_cost") + self.get("curation_cost")
        self.channels = list(plan.channels)

    def channel_ratio(self, numerator: str, denominator: str, channel: str) -> float:
        """A ratio of two per-channel totals (totals.by_channel) over the whole run; nan without the channel."""
        if channel not in self.channels:
            return math.nan
        c = self.channels.index(channel)
        by = self.totals.by_channel
        return _ratio(float(by[numerator][c].sum()), float(by[denominator][c].sum()))


def compute_kpis(plan: RunShape, totals: Totals) -> Computed:
    """Every KPI, series and per-intent figure of one run, from its totals and the plan's static costs."""
    t, get = totals, totals.get
    ingredients = Ingredients(plan, totals)
    kpis = {name: float(kpi.compute(ingredients)) for name, kpi in KPIS.items()}
    busy, staffed, queued = ingredients.busy, ingredients.staffed, get("queued")
    width = plan.interval
    with np.errstate(invalid="ignore", divide="ignore"):
        series = {
            "arrivals": t.series["arrivals"], "escalated": t.series["escalated"],
            "abandoned": t.series["abandoned"], "queue_length": t.series["queue_area"] / width,
            "occupancy": np.where(staffed > 0, busy / np.where(staffed > 0, staffed, 1), np.nan),
            "agents_on_duty": t.series["on_duty_area"] / width,
        }
    for c, channel in enumerate(plan.channels):  # the counts a per-interval target is checked on
        for name, values in t.by_channel.items():
            series[f"{channel}.{name}"] = values[c]
    for s, skill in enumerate(plan.skills):  # the demand left for humans, per queue (support-sandbox demand)
        for c, channel in enumerate(plan.channels):
            for name, values in t.by_queue.items():
                series[f"queue.{skill}.{channel}.{name}"] = values[s * len(plan.channels) + c]
    with np.errstate(invalid="ignore", divide="ignore"):
        for busy_g, (name, staffed_g) in zip(t.group_busy, t.group_staffed.items(), strict=True):
            series[f"group.{name}.occupancy"] = np.where(staffed_g > 0, busy_g / np.where(staffed_g > 0, staffed_g, 1),
                                                         np.nan)
    by_intent = {}
    bi = t.by_intent
    for i, name in enumerate(plan.intents):
        row = t.outcome_by_intent[i]
        handled, fin = bi["bot_handled"][i], bi["final"][i]
        by_intent[name] = {
            "offered": float(row.sum()), "bot_handled": float(handled),
            "contained": float(row[Outcome.CONTAINED]), "false_contained": float(row[Outcome.FALSE_CONTAINED]),
            "dead_ended": float(row[Outcome.DEAD_ENDED]), "abandoned_bot": float(row[Outcome.ABANDONED_BOT]),
            "escalated": float(bi["escalated"][i]), "served": float(row[Outcome.SERVED]),
            "abandoned_queue": float(row[Outcome.ABANDONED_QUEUE]),
            "bot_resolution_rate": _ratio(float(row[Outcome.CONTAINED]), handled),
            "false_containment_rate": _ratio(float(row[Outcome.FALSE_CONTAINED]), handled),
            "escalation_rate": _ratio(float(bi["escalated"][i]), handled),
            "frustration_mean": _ratio(float(bi["frustration"][i]), fin),
            "left_frustrated": _ratio(float(bi["left_frustrated"][i]), fin),
            "csat": _ratio(float(bi["csat"][i]), float(bi["journeys"][i])),
            "survey_csat": _ratio(float(bi["survey_csat"][i]), fin),
            "agent_hours": float(bi["handle"][i]) / 60,
            "returns": float(bi["returns"][i]),
            "value_at_risk": float(bi["value_at_risk"][i]),
            "premature_escalations": float(bi["premature_escalations"][i]),
            "missed_escalations": float(bi["missed_escalations"][i]),
        }
    counts = {"queued": int(queued), "callbacks_pending": int(get("callbacks_pending")),
              "repeats_after_horizon": int(get("repeats_after_horizon"))}
    n = ingredients.n
    sums = {"gave_up": n["abandoned_bot"] + n["abandoned_queue"], "offered": ingredients.offered,
            "abandoned_queue": n["abandoned_queue"], "served": n["served"],
            **{name: get(name) for name in ("queued", "wait_served", "wait_all", "answered_within_t", "virtual_wait",
                                            "virtual_queued", "virtual_within_t")}}
    return Computed(kpis, {k: np.asarray(v, dtype=float).tolist() for k, v in series.items()}, by_intent, counts,
                    {k: float(v) for k, v in sums.items()}, daily(t, staffed, t.series["on_duty_area"]), by_segment(t))


HEADLINE = ("offered", "bot_resolution_rate", "false_containment_rate", "dead_ended", "escalation_rate",
            "premature_escalations", "missed_escalations",
            "abandonment_rate", "queue_abandonment_rate", "asa_served", "service_level", "resolution_time_mean",
            "repeat_contacts", "csat", "survey_csat", "churn_risk", "value_at_risk", "occupancy", "total_cost",
            "cost_per_resolved", "net_cost", "incidents")
