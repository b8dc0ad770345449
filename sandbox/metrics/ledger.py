"""Provides the ledger: one row per finished contact, folded into running totals so memory stays flat.

A row names its cohort (the batch of contacts it arrived with, whose static attributes are arrays) and its
index there, plus what happened to it. Every few thousand rows the ledger gathers the static columns,
aggregates everything with numpy into counts and sums per outcome, intent and interval, and drops the rows
unless per-contact records were asked for. KPIs are computed from these totals in sandbox.metrics.kpis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox.config.scenario import Churn, Satisfaction
from sandbox.metrics.monitors import interval_areas
from sandbox.model.outcomes import N_OUTCOMES, Origin, Outcome, Reason
from sandbox.model.satisfaction import RESOLVED, churn_probability, satisfaction, unavoidable_churn

# Static columns come from the contact's cohort; dynamic ones from what happened to it.
STATIC = ("channel", "segment", "intent", "origin", "arrive", "turns", "failed", "reason", "asked", "refused",
          "repeats", "continues", "retold", "attack", "breached", "u_agent", "solvable", "needs", "misrecognised",
          "overflowed", "bot_wait")
DYNAMIC = ("outcome", "end", "queued", "wait", "frustration", "handle", "busy", "slots", "calmed", "transfers",
           "group")
COLUMNS = STATIC + DYNAMIC
_DTYPES = {"outcome": np.int8, "end": float, "queued": bool, "wait": float, "frustration": float,
           "handle": float, "busy": float, "slots": np.int16, "calmed": float, "transfers": np.int16,
           "group": np.int16}
FRUSTRATED = 0.7  # F at or above this counts as "left frustrated" in the per-intent view
N_REASONS = len(Reason)
# Resolution-time histogram: log-spaced bins of 1% width from 1 s to 30 days, enough for a p90 to 1%.
_HIST_EDGES = np.exp(np.arange(np.log(1 / 60), np.log(30 * 1440), np.log(1.01)))
FLUSH_ROWS = 4096
# Per segment (Totals.by_segment): the sums its KPIs (kpis.SEGMENT_FIELDS) are computed from.
SEGMENT_SUMS = ("offered", "bot_handled", "contained", "served", "gave_up", "queued", "abandoned_queue", "wait_served",
                "answered_within_t", "csat", "journeys")
INTENT_SUMS = ("frustration", "final", "csat", "survey_csat", "journeys", "left_frustrated", "bot_handled",
               "escalated", "failed_turns", "handle", "returns", "value_at_risk", "premature_escalations",
               "missed_escalations")


# Every scalar total a run accumulates (the ledger's sums, and what the engine adds at the end of a run).
# Per channel and interval (the targets a staffing plan holds per interval): offered and gave_up (in the bot or
# the queue) by arrival interval; the rest by the interval the contact joined the queue in (the WFM convention).
CHANNEL_SERIES = ("offered", "gave_up", "queued", "served", "answered_within_t", "abandoned_queue", "wait_all",
                  "wait_served")
# The demand a workforce tool plans from, per queue (skill, channel) and interval of joining the queue: contacts
# that joined, those served, and the agent time they took (handle + after-contact work).
QUEUE_SERIES = ("queued", "served", "busy")
# What the results per day (kpis.daily) need beyond the series above, by interval of arrival; stale_intents is the
# number of intents whose bot knowledge is stale that day (sandbox.model.knowledge); automation_factor, the
# rollout's factor of the automation share that day.
DAILY_SERIES = ("bot_handled", "contained", "csat", "journeys", "stale_intents", "automation_factor")
SCALARS = ("final", "bot_handled", "escalated", "frustration", "csat", "survey_csat", "journeys", "churn",
           "value_at_risk", "churn_cost", "attacks", "incidents", "incidents_bot", "incident_cost",
           "verification_failed", "calmed", "premature_escalations", "missed_escalations", "misrecognised",
           "transfers", "bot_overflow", "bot_wait", "bot_waited", "curation_cost", "first_contacts",
           "first_resolved", "journeys_resolved",
           "repeat_information", "retries", "returns", "asked_human", "refused_requests", "queued", "wait_all",
           "wait_served", "answered_within_t", "abandoned_before_t", "abandoned_after_t", "resolution_time",
           "resolved", "callbacks_done", "callbacks_pending", "virtual_queued", "virtual_wait", "virtual_within_t",
           "repeats_after_horizon", "agent_minutes", "paid_minutes", "agent_cost")


@dataclass
class Totals:
    """Everything a run's KPIs, series and breakdowns are computed from."""

    n_intents: int
    n_bins: int
    interval: float
    n_channels: int = 2
    # By intent: the index of its skill (plan.skills); a queue is a (skill, channel) pair. None: one skill.
    skill_of_intent: np.ndarray | None = None
    scalars: dict[str, float] = field(default_factory=dict)
    outcome_by_intent: np.ndarray = field(init=False)  # [intent, outcome]
    by_intent: dict[str, np.ndarray] = field(init=False)
    # Counts and time-integrals per interval; the engine adds staffed_area and on_duty_area when a run ends.
    series: dict[str, np.ndarray] = field(init=False)
    by_channel: dict[str, np.ndarray] = field(init=False)  # CHANNEL_SERIES, each [channel, interval]
    by_queue: dict[str, np.ndarray] = field(init=False)  # QUEUE_SERIES, each [skill × channel, interval]
    by_segment: dict[str, np.ndarray] = field(init=False)  # SEGMENT_SUMS, each [segment]
    n_groups: int = 0  # agent groups: group_busy[g] is group g's busy slot-minutes per interval
    segment_names: list[str] = field(default_factory=list)  # by_segment is indexed by these
    group_busy: np.ndarray = field(init=False)
    # By agent group, in group order: its slot-minutes on duty per interval (the engine adds them at the end).
    group_staffed: dict[str, np.ndarray] = field(default_factory=dict)
    reasons: np.ndarray = field(init=False)
    resolution_hist: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.outcome_by_intent = np.zeros((self.n_intents, N_OUTCOMES), dtype=np.int64)
        self.by_intent = {name: np.zeros(self.n_intents) for name in INTENT_SUMS}
        self.series = {name: np.zeros(self.n_bins) for name in ("arrivals", "escalated", "abandoned",
                                                                  "queue_area", "busy_area", *DAILY_SERIES)}
        self.by_channel = {name: np.zeros((self.n_channels, self.n_bins)) for name in CHANNEL_SERIES}
        if self.skill_of_intent is None:
            self.skill_of_intent = np.zeros(self.n_intents, dtype=np.int64)
        queues = (int(self.skill_of_intent.max(initial=0)) + 1) * self.n_channels
        self.by_queue = {name: np.zeros((queues, self.n_bins)) for name in QUEUE_SERIES}
        self.group_busy = np.zeros((self.n_groups, self.n_bins))
        self.by_segment = {name: np.zeros(len(self.segment_names)) for name in SEGMENT_SUMS}
        self.reasons = np.zeros(N_REASONS, dtype=np.int64)
        self.resolution_hist = np.zeros(len(_HIST_EDGES) + 1, dtype=np.int64)

    def add(self, name: str, value: float) -> None:
        self.scalars[self._known(name)] = self.scalars.get(name, 0.0) + float(value)

    def get(self, name: str) -> float:
        return self.scalars.get(self._known(name), 0.0)

    @staticmethod
    def _known(name: str) -> str:
        """A misspelt ingredient is a bug to hear about, not a zero that quietly skews a KPI."""
        if name not in SCALARS:
            raise KeyError(f"no total named {name!r}; the totals are {', '.join(SCALARS)}")
        return name

    def resolution_quantile(self, q: float) -> float:
        """Quantile of resolution time (minutes) from the histogram; nan when nothing was resolved."""
        total = self.resolution_hist.sum()
        if total == 0:
            return float("nan")
        i = int(np.searchsorted(np.cumsum(self.resolution_hist), q * total))
        lo = _HIST_EDGES[i - 1] if i > 0 else 0.0
        hi = _HIST_EDGES[min(i, len(_HIST_EDGES) - 1)]
        return float((lo + hi) / 2)


@dataclass(frozen=True)
class AttackRates:
    """By attack kind: how often one that reaches an agent works, and what an incident costs at each."""

    agent_success: np.ndarray
    cost_bot: np.ndarray
    cost_agent: np.ndarray


def ratings(b: dict[str, np.ndarray], ceiling: np.ndarray, params: Satisfaction) -> tuple[np.ndarray, np.ndarray]:
    """(survey, csat) of each contact of a batch of records: the probability of a satisfied rating
    (sandbox.model.satisfaction). The survey believes a wrong answer; the journey scores each issue once, where
    it ends, and a journey that ends in a wrong answer (found out) is never a satisfied one. Attackers and
    contacts still in the system get 0. ``ceiling``: each contact's channel CSAT."""
    outcome = b["outcome"]
    final = (outcome != Outcome.IN_SYSTEM) & (b["attack"] < 0)
    steps = b["repeats"] + (b["origin"] != Origin.FIRST) + (b["reason"] != Reason.NONE) + b["transfers"]
    resolved_now = np.isin(outcome, RESOLVED)
    misled = outcome == Outcome.FALSE_CONTAINED
    f = b["frustration"]
    survey = np.where(final, satisfaction(f, ceiling, resolved_now | misled, steps, params), 0.0)
    csat = np.where(final & ~b["continues"] & ~misled, satisfaction(f, ceiling, resolved_now, steps, params), 0.0)
    return survey, csat


class Ledger:
    """Collects finished contacts and keeps their totals (and, on request, the rows themselves)."""

    def __init__(self, totals: Totals, ceiling: np.ndarray, threshold: np.ndarray, value: np.ndarray,
                 churn: Churn, satisfaction: Satisfaction, f0: np.ndarray, attacks: AttackRates,
                 late_escalation: int = 3, keep_records: bool = False):
        self.totals = totals
        self._ceiling, self._threshold, self._value, self._churn = ceiling, threshold, value, churn
        self._satisfaction, self._f0, self._attacks = satisfaction, f0, attacks
        self._late = late_escalation
        self._rows: dict[Any, list[tuple]] = {}  # cohort → rows of (index, *DYNAMIC)
        self._n_rows = 0
        self._batches: list[dict[str, np.ndarray]] = []
        self._busy: list[tuple[float, float, int, int]] = []
        self.keep_records = keep_records
        self.records: list[dict[str, np.ndarray]] = []

    def add(self, cohort: Any, index: int, outcome: int, end: float, queued: bool, wait: float, f: float,
            handle: float = 0.0, busy: float = 0.0, slots: int = 0, calmed: float = 0.0, transfers: int = 0,
            group: int = -1) -> None:
        """One finished contact of the human stage (``calmed``: the frustration its agent talked down;
        ``transfers``: times an agent passed it on to another group; ``group``: the agent group that served it)."""
        rows = self._rows.get(cohort)
        if rows is None:
            rows = self._rows[cohort] = []
        rows.append((index, outcome, end, queued, wait, f, handle, busy, slots, calmed, transfers, group))
        self._n_rows += 1
        if self._n_rows >= FLUSH_ROWS:
            self.flush()

    def add_batch(self, cohort: Any, index: np.ndarray, outcome: np.ndarray, end: np.ndarray,
                  frustration: np.ndarray) -> None:
        """Contacts that never reached the queue (bot outcomes, or still in the bot at the end)."""
        n = len(index)
        if n < 16:  # a repeat contact or two: cheaper as rows than as one more array batch to concatenate
            for i, o, e, f in zip(index.tolist(), outcome.tolist(), end.tolist(), frustration.tolist(), strict=True):
                self.add(cohort, i, o, e, False, math.nan, f)
            return
        batch = {name: getattr(cohort, name)[index] for name in STATIC}
        batch.update(outcome=outcome.astype(np.int8), end=end, queued=np.zeros(n, bool), wait=np.full(n, np.nan),
                     frustration=frustration, handle=np.zeros(n), busy=np.zeros(n), slots=np.zeros(n, np.int16),
                     calmed=np.zeros(n), transfers=np.zeros(n, np.int16), group=np.full(n, -1, np.int16))
        self._batches.append(batch)

    def add_busy(self, start: float, duration: float, slots: int, group: int) -> None:
        """Agent time that is not a contact's service (callbacks, transfers), of agent group ``group``."""
        self._busy.append((start, duration, slots, group))

    def flush(self) -> None:
        batches, self._batches = self._batches, []
        rows, self._rows, self._n_rows = self._rows, {}, 0
        for cohort, group in rows.items():
            table = np.array(group, dtype=float)  # one C-level conversion; columns are sliced out below
            index = table[:, 0].astype(np.int64)
            batch = {name: getattr(cohort, name)[index] for name in STATIC}
            batch.update({name: table[:, k + 1].astype(_DTYPES[name]) for k, name in enumerate(DYNAMIC)})
            batches.append(batch)
        if batches:
            batch = batches[0] if len(batches) == 1 else {
                k: np.concatenate([b[k] for b in batches]) for k in COLUMNS}
            # A conversation the horizon cut short counts as a bot conversation still in the system, and nothing
            # of how it would have gone on (handoff, requests, repeats) is counted: that had not happened yet.
            still_talking = (batch["outcome"] == Outcome.IN_SYSTEM) & ~batch["queued"]
            if still_talking.any():
                for name in ("reason", "failed", "refused", "repeats", "asked"):
                    batch[name] = np.where(still_talking, 0, batch[name]).astype(batch[name].dtype)
            self._areas(batch)  # before the warm-up filter: early contacts still occupy the queue and agents
            keep = batch["arrive"] >= 0  # contacts that arrived during the warm-up are not reported
            if not keep.all():
                batch = {k: v[keep] for k, v in batch.items()}
            if len(batch["outcome"]):
                self._aggregate(batch)
                if self.keep_records:
                    self.records.append(batch)
        if self._busy:
            start, duration, slots, group = np.asarray(self._busy, dtype=float).T
            self._busy = []
            t = self.totals
            t.series["busy_area"] += interval_areas(start, start + duration, slots, t.interval, t.n_bins)
            self._group_areas(start, duration, slots, group)

    def _aggregate(self, b: dict[str, np.ndarray]) -> None:
        t = self.totals
        outcome, intent, channel = b["outcome"].astype(np.int64), b["intent"].astype(np.int64), b["channel"]
        np.add.at(t.outcome_by_intent, (intent, outcome), 1)
        # Attackers are contacts like any (they take bot and agent time, and a bot they fool looks contained),
        # but not customers: they have no satisfaction, churn or journey.
        attacker = b["attack"] >= 0
        finished = outcome != Outcome.IN_SYSTEM
        final = finished & ~attacker
        f = b["frustration"]
        transfers = b["transfers"]
        after_repeat = (b["origin"] != Origin.FIRST) | (b["reason"] != Reason.NONE) | (transfers > 0)
        escalated = b["reason"] != Reason.NONE
        misled = outcome == Outcome.FALSE_CONTAINED
        params = self._satisfaction
        survey, csat = ratings(b, self._ceiling[channel], params)
        journey_end = final & ~b["continues"]
        f_journey = np.where(misled, np.minimum(1.0, f + params.misled), f)
        churn = np.where(final, churn_probability(f, outcome, after_repeat, self._churn), 0.0)
        value = self._value[b["segment"]]
        lost = churn * value
        # What churn costs the policy: once per issue, above what a perfectly served customer would still do.
        excess = churn_probability(f_journey, outcome, after_repeat, self._churn) - \
            unavoidable_churn(self._f0[intent], self._churn)
        churn_cost = np.where(journey_end, np.maximum(0.0, excess), 0.0) * value
        botted = b["turns"] > 0
        queued = b["queued"]
        # Escalation errors, both ways: handed over though the bot could resolve it; needed a human and stayed in
        # the bot (or reached one only after the late-escalation number of failed turns).
        premature = final & escalated & b["solvable"]
        in_bot = np.isin(outcome, (Outcome.FALSE_CONTAINED, Outcome.DEAD_ENDED, Outcome.ABANDONED_BOT))
        missed = final & b["needs"] & (in_bot | (escalated & (b["failed"] >= self._late)))
        kind = np.where(attacker, b["attack"], 0).astype(np.int64)
        served_attack = attacker & (outcome == Outcome.SERVED)
        by_agent = served_attack & (b["u_agent"] < self._attacks.agent_success[kind])
        by_bot = attacker & b["breached"] & (outcome == Outcome.CONTAINED)  # not cut short by the horizon
        incident_cost = np.where(by_bot, self._attacks.cost_bot[kind], 0.0) + \
            np.where(by_agent, self._attacks.cost_agent[kind], 0.0)
        wait = np.where(queued, b["wait"], 0.0)
        served = outcome == Outcome.SERVED
        abandoned_q = outcome == Outcome.ABANDONED_QUEUE
        within = wait <= self._threshold[channel]
        resolved = (outcome == Outcome.CONTAINED) | served
        resolution = (b["end"] - b["arrive"])[resolved]
        frustrated = final & (f >= FRUSTRATED)

        for name, value in (
            ("final", final.sum()), ("bot_handled", botted.sum()), ("escalated", escalated.sum()),
            ("frustration", f[final].sum()), ("csat", csat.sum()), ("survey_csat", survey.sum()),
            ("journeys", journey_end.sum()), ("churn", churn.sum()), ("value_at_risk", lost.sum()),
            ("churn_cost", churn_cost.sum()), ("attacks", (attacker & finished).sum()),
            ("premature_escalations", premature.sum()), ("missed_escalations", missed.sum()),
            ("misrecognised", (finished & b["misrecognised"]).sum()), ("transfers", transfers[finished].sum()),
            ("bot_overflow", (finished & b["overflowed"]).sum()), ("bot_wait", b["bot_wait"][finished].sum()),
            ("bot_waited", (finished & (b["bot_wait"] > 0)).sum()),
            ("calmed", b["calmed"].sum()),
            ("incidents", (by_bot | by_agent).sum()), ("incidents_bot", by_bot.sum()),
            ("incident_cost", incident_cost.sum()), ("verification_failed", (b["reason"] == Reason.VERIFICATION).sum()),
            # Every repeat contact tells the story again, as does every cold handoff.
            ("repeat_information", b["repeats"].sum() + b["retold"].sum()),
            ("retries", (b["origin"] == Origin.RETRY).sum()),
            ("returns", (b["origin"] == Origin.RETURN).sum()),
            ("asked_human", b["asked"].sum()), ("refused_requests", b["refused"].sum()),
            ("queued", queued.sum()), ("wait_all", wait.sum()), ("wait_served", wait[served].sum()),
            ("answered_within_t", (served & within).sum()), ("abandoned_before_t", (abandoned_q & within).sum()),
            ("abandoned_after_t", (abandoned_q & ~within).sum()),
            ("resolution_time", resolution.sum()), ("resolved", len(resolution)),
            # First-contact resolution: a customer's first contact resolved then, with no repeat contact after it.
            ("first_contacts", (final & (b["origin"] == Origin.FIRST)).sum()),
            ("first_resolved", (final & (b["origin"] == Origin.FIRST) & resolved & ~b["continues"]).sum()),
            ("journeys_resolved", (journey_end & resolved).sum()),
        ):
            t.add(name, value)
        np.add.at(t.reasons, b["reason"].astype(np.int64), 1)
        t.resolution_hist += np.bincount(np.searchsorted(_HIST_EDGES, resolution),
                                         minlength=len(t.resolution_hist))

        for name, weights in (
            ("frustration", np.where(final, f, 0.0)), ("final", final), ("csat", csat), ("survey_csat", survey),
            ("journeys", journey_end),
            ("left_frustrated", frustrated), ("bot_handled", botted), ("escalated", escalated),
            ("failed_turns", b["failed"]), ("handle", b["handle"]), ("returns", b["origin"] == Origin.RETURN),
            ("value_at_risk", lost), ("premature_escalations", premature), ("missed_escalations", missed),
        ):
            t.by_intent[name] += np.bincount(intent, weights=np.asarray(weights, float), minlength=t.n_intents)

        width, bins = t.interval, t.n_bins
        arrive_bin = np.minimum((b["arrive"] // width).astype(np.int64), bins - 1)
        t.series["arrivals"] += np.bincount(arrive_bin, minlength=bins)
        t.series["escalated"] += np.bincount(arrive_bin[escalated], minlength=bins)
        for name, weights in (("bot_handled", botted), ("contained", outcome == Outcome.CONTAINED), ("csat", csat),
                              ("journeys", journey_end)):
            t.series[name] += np.bincount(arrive_bin, weights=np.asarray(weights, float), minlength=bins)
        gone = abandoned_q | (outcome == Outcome.ABANDONED_BOT)
        end_bin = np.clip((b["end"][gone] // width).astype(np.int64), 0, bins - 1)
        t.series["abandoned"] += np.bincount(end_bin, minlength=bins)

        cells = t.n_channels * bins
        by_arrival = channel.astype(np.int64) * bins + arrive_bin
        joined = b["end"] - b["handle"] - wait  # a queued contact's wait ends at its answer (or its abandoning)
        join_bin = np.clip((joined // width).astype(np.int64), 0, bins - 1)
        by_join = channel.astype(np.int64) * bins + join_bin
        for name, cell, weights in (
            ("offered", by_arrival, None), ("gave_up", by_arrival, gone),
            ("queued", by_join, queued), ("served", by_join, served), ("answered_within_t", by_join, served & within),
            ("abandoned_queue", by_join, abandoned_q), ("wait_all", by_join, wait),
            ("wait_served", by_join, np.where(served, wait, 0.0)),
        ):
            counts = np.bincount(cell, weights=None if weights is None else np.asarray(weights, float),
                                 minlength=cells)
            t.by_channel[name] += counts.reshape(t.n_channels, bins)
        if t.segment_names:
            # One product with a one-hot segment matrix instead of a bincount per sum (a few segments, many sums).
            onehot = (b["segment"][None, :] == np.arange(len(t.segment_names))[:, None]).astype(float)
            columns = np.stack([np.ones(len(outcome)), botted, outcome == Outcome.CONTAINED, served, gone, queued,
                                abandoned_q, np.where(served, wait, 0.0), served & within, csat, journey_end], axis=1)
            for name, total in zip(SEGMENT_SUMS, (onehot @ columns).T, strict=True):
                t.by_segment[name] += total
        assert t.skill_of_intent is not None
        queue_cells = t.by_queue["queued"].size
        by_queue = (t.skill_of_intent[intent] * t.n_channels + channel.astype(np.int64)) * bins + join_bin
        for name, weights in (("queued", queued), ("served", served), ("busy", np.where(served, b["busy"], 0.0))):
            counts = np.bincount(by_queue, weights=np.asarray(weights, float), minlength=queue_cells)
            t.by_queue[name] += counts.reshape(t.by_queue[name].shape)

    def _areas(self, b: dict[str, np.ndarray]) -> None:
        """Queue length and busy slots integrated per interval from each contact's wait and service."""
        t = self.totals
        queued = b["queued"]
        wait = np.where(queued, b["wait"], 0.0)
        answered = b["end"] - b["handle"]  # a service starts handle minutes before the contact's end
        t.series["queue_area"] += interval_areas(answered - wait, answered, queued, t.interval, t.n_bins)
        t.series["busy_area"] += interval_areas(answered, answered + b["busy"], b["slots"], t.interval, t.n_bins)
        served = b["group"] >= 0
        if served.any():
            self._group_areas(answered[served], b["busy"][served], b["slots"][served], b["group"][served])

    def _group_areas(self, start: np.ndarray, duration: np.ndarray, slots: np.ndarray, group: np.ndarray) -> None:
        """Busy slot-minutes per interval of each agent group (its occupancy)."""
        t = self.totals
        for g in np.unique(group).astype(np.int64).tolist():
            mine = group == g
            t.group_busy[g] += interval_areas(start[mine], start[mine] + duration[mine], slots[mine], t.interval,
                                              t.n_bins)
