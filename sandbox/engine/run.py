"""Provides one simulation run: arrivals day by day, the bot stage in batches, the centre on SimPy, results.

The run advances the SimPy clock a day at a time and reports progress to an observer between slices; an
observer cancels by raising RunCancelled. Nothing here prints.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Protocol

import numpy as np
import simpy
from simpy.events import Timeout

from sandbox.engine.centre import Centre, Contact
from sandbox.engine.plan import DAY, Plan
from sandbox.engine.streams import Streams
from sandbox.metrics.kpis import compute_kpis
from sandbox.metrics.ledger import COLUMNS, Ledger, Totals
from sandbox.model.conversation import converse
from sandbox.model.outcomes import Outcome

_BOT_FINAL = np.array([Outcome.CONTAINED, Outcome.FALSE_CONTAINED, Outcome.DEAD_ENDED, Outcome.ABANDONED_BOT])
RETRY, RETURN = 1, 2  # ledger origins of repeat contacts


class Observer(Protocol):
    def on_progress(self, fraction: float) -> None:
        """Called between simulated days with the share of the run done; may raise RunCancelled."""


@dataclass
class RunResult:
    """One replication: KPIs, per-interval series, per-intent breakdown and provenance. Plain data."""

    kpis: dict[str, float]
    series: dict[str, list[float]]
    by_intent: dict[str, dict[str, float]]
    counts: dict[str, int]
    seed: int
    replication: int
    wall_seconds: float
    records: dict[str, np.ndarray] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Simulation:
    """Everything one replication needs, wired together."""

    def __init__(self, plan: Plan, seed: int, replication: int, keep_records: bool = False):
        self.plan = plan
        self.streams = Streams(seed, replication)
        self.env = simpy.Environment(initial_time=plan.start)
        self.totals = Totals(len(plan.channel_cum), len(plan.segment_cum), len(plan.intent_cum), plan.n_bins,
                             plan.interval)
        self.ledger = Ledger(self.totals, plan.ceiling, plan.threshold, plan.value, plan.scenario.churn,
                             keep_records)
        self.centre = Centre(self.env, plan, self.ledger, self.totals, self._abandoned)
        self.repeat = plan.scenario.repeat_contacts
        self._pending: list[tuple[float, int, tuple[int, int, int, int]]] = []
        self._flush_at = math.inf
        self._seq = count()

    # --- new contacts ------------------------------------------------------------------------------------

    def _day(self, day: int) -> None:
        plan, rng = self.plan, self.streams.day("arrivals", day)
        mu = plan.expected_per_interval(day)
        shape = plan.scenario.demand.busyness_shape
        busyness = rng.gamma(shape, 1 / shape) if shape is not None else 1.0
        counts = rng.poisson(mu * busyness)
        starts = day * DAY + np.arange(len(mu)) * plan.interval
        arrive = np.repeat(starts, counts) + rng.random(int(counts.sum())) * plan.interval
        arrive.sort()
        n = len(arrive)
        u = self.streams.day("customers", day).random((6, n))
        channel = np.searchsorted(plan.channel_cum, u[0], side="right").astype(np.int8)
        segment = np.searchsorted(plan.segment_cum, u[1], side="right").astype(np.int8)
        intent = np.searchsorted(plan.intent_cum, u[2], side="right").astype(np.int8)
        keep = (arrive >= plan.start) & (arrive < plan.end)
        self._admit(arrive, channel, segment, intent, plan.f0[intent], np.zeros(n, np.int8), u[3], u[4], u[5],
                    self.streams.day("patience", day), self.streams.day("handle", day),
                    self.streams.day("bot", day), keep)

    def _admit(self, arrive: np.ndarray, channel: np.ndarray, segment: np.ndarray, intent: np.ndarray,
               f0: np.ndarray, origin: np.ndarray, u_route: np.ndarray, u_accept: np.ndarray,
               u_repeat: np.ndarray, rng_patience: np.random.Generator, rng_handle: np.random.Generator,
               rng_bot: np.random.Generator, keep: np.ndarray | None = None) -> None:
        """Draw the rest of each customer, run the bot stage, and send each contact on its way."""
        plan = self.plan
        n = len(arrive)
        budget = np.full(n, math.inf)
        zero = rng_patience.random(n) < plan.zero_patience[segment]
        for s, dist in enumerate(plan.patience):
            mask = segment == s
            if dist is not None:
                budget[mask] = dist.sample(rng_patience, int(mask.sum()))
        budget[zero] = 0.0
        handle = np.empty(n)
        for i, by_channel in enumerate(plan.handle):
            for c, dist in enumerate(by_channel):
                mask = (intent == i) & (channel == c)
                handle[mask] = dist.sample(rng_handle, int(mask.sum()))
        talk = converse(plan.rules, plan.scenario.bot.turn_time, intent, segment, channel, f0, u_route, rng_bot)
        if keep is not None and not keep.all():
            arrive, channel, segment, intent, origin, budget, handle, u_accept, u_repeat = (
                a[keep] for a in (arrive, channel, segment, intent, origin, budget, handle, u_accept, u_repeat))
            talk = type(talk)(**{k: v[keep] for k, v in vars(talk).items()})
        if plan.rules.cold:
            handle = np.where(talk.outcome == Outcome.ESCALATED, handle * plan.policy.handoff.cold_handle_factor,
                              handle)
        end = arrive + talk.duration
        in_bot = np.isin(talk.outcome, _BOT_FINAL)
        to_queue = ~in_bot
        late = end >= plan.end  # still talking to the bot when the horizon ends
        outcome = np.where(late, int(Outcome.IN_SYSTEM), talk.outcome)
        record = in_bot | (to_queue & late)
        if record.any():
            self.ledger.add_batch({
                "outcome": outcome[record], "channel": channel[record], "segment": segment[record],
                "intent": intent[record], "origin": origin[record], "arrive": arrive[record],
                "end": np.minimum(end[record], plan.end), "queued": np.zeros(int(record.sum()), bool),
                "wait": np.full(int(record.sum()), math.nan), "frustration": talk.frustration[record],
                "turns": talk.turns[record], "failed": talk.failed[record], "reason": talk.reason[record],
                "asked": talk.asked[record], "refused": talk.refused[record], "repeats": talk.repeats[record],
                "handle": np.zeros(int(record.sum())),
            })
        self._repeats(outcome, end, channel, segment, intent, u_repeat)
        entering = np.flatnonzero(to_queue & ~late)
        if entering.size:
            order = entering[np.argsort(end[entering], kind="stable")]
            contacts = [Contact(*row) for row in zip(
                arrive[order].tolist(), channel[order].tolist(), segment[order].tolist(), intent[order].tolist(),
                origin[order].tolist(), talk.frustration[order].tolist(), budget[order].tolist(),
                handle[order].tolist(), talk.turns[order].tolist(), talk.failed[order].tolist(),
                talk.reason[order].tolist(), talk.asked[order].tolist(), talk.refused[order].tolist(),
                talk.repeats[order].tolist(), u_accept[order].tolist(), u_repeat[order].tolist(), strict=True)]
            self._feed(contacts, end[order].tolist())

    def _feed(self, contacts: list[Contact], times: list[float]) -> None:
        """Hand contacts to the centre at their times, one pending event at a time (a chain, not a heap)."""
        env, centre = self.env, self.centre
        items = iter(zip(times, contacts, strict=True))

        def step(event: simpy.Event | None) -> None:
            if event is not None:
                centre.arrive(event.contact)  # type: ignore[attr-defined]
            nxt = next(items, None)
            if nxt is not None:
                ev = Timeout(env, max(0.0, nxt[0] - env.now))
                ev.contact = nxt[1]  # type: ignore[attr-defined]
                ev.callbacks.append(step)

        step(None)

    # --- repeat contacts -------------------------------------------------------------------------------

    def _repeats(self, outcome: np.ndarray, end: np.ndarray, channel: np.ndarray, segment: np.ndarray,
                 intent: np.ndarray, u_repeat: np.ndarray) -> None:
        """Schedule returns after believed wrong answers and retries after giving up on the bot."""
        rep = self.repeat
        for which, probability, delay, origin in (
            (Outcome.FALSE_CONTAINED, rep.after_false_containment, rep.false_containment_delay, RETURN),
            (Outcome.ABANDONED_BOT, rep.after_abandonment, rep.abandonment_delay, RETRY),
        ):
            if probability <= 0:
                continue
            idx = np.flatnonzero((outcome == which) & (u_repeat < probability))
            if idx.size:
                when = end[idx] + delay.sample(self.streams.repeats, idx.size)
                for t, c, s, i in zip(when.tolist(), channel[idx].tolist(), segment[idx].tolist(),
                                      intent[idx].tolist(), strict=True):
                    self._schedule_repeat(t, (c, s, i, origin))

    def _abandoned(self, contact: Contact, t: float) -> None:
        rep = self.repeat
        if rep.after_abandonment > 0 and contact.u_repeat < rep.after_abandonment:
            when = t + float(rep.abandonment_delay.sample(self.streams.repeats, 1)[0])
            self._schedule_repeat(when, (contact.channel, contact.segment, contact.intent, RETRY))

    def _schedule_repeat(self, t: float, who: tuple[int, int, int, int]) -> None:
        if t >= self.plan.end:
            self.totals.add("repeats_after_horizon", 1)
            return
        heapq.heappush(self._pending, (t, next(self._seq), who))
        if t < self._flush_at:
            self._flush_at = t
            Timeout(self.env, max(0.0, t - self.env.now)).callbacks.append(self._flush)

    def _flush(self, _event: simpy.Event) -> None:
        """Admit every pending repeat contact in one batch (each pending one is due at or after now)."""
        self._flush_at = math.inf
        pending, self._pending = self._pending, []
        if not pending:
            return
        plan, rng = self.plan, self.streams.repeats
        n = len(pending)
        arrive = np.array([p[0] for p in pending])
        who = np.array([p[2] for p in pending], dtype=np.int64)
        channel, segment, intent = (who[:, k].astype(np.int8) for k in range(3))
        step = plan.scenario.frustration.repeat_information
        f0 = np.minimum(1.0, plan.f0[intent] + step)  # they explain everything again
        u = rng.random((3, n))
        self._admit(arrive, channel, segment, intent, f0, who[:, 3].astype(np.int8), u[0], u[1], u[2], rng, rng,
                    rng)

    # --- running ---------------------------------------------------------------------------------------

    def run(self, observer: Observer | None = None) -> RunResult:
        wall = time.perf_counter()
        plan, env, centre = self.plan, self.env, self.centre
        for t, is_open, counts in plan.timeline:
            ev = Timeout(env, t - plan.start)
            ev.callbacks.append(lambda _e, o=is_open, c=counts: centre.apply(o, c))
        checkpoints = []
        for day in range(plan.first_day, plan.days):
            t0 = max(day * DAY, plan.start)
            Timeout(env, t0 - plan.start).callbacks.append(lambda _e, d=day: self._day(d))
            checkpoints.append(min((day + 1) * DAY, plan.end))
        span = plan.end - plan.start
        for stop in checkpoints:
            env.run(until=stop)
            if observer is not None:
                observer.on_progress((stop - plan.start) / span)
        centre.finish()
        self.ledger.flush()
        result = compute_kpis(plan, self.totals, centre)
        records = None
        if self.ledger.keep_records and self.ledger.records:
            records = {k: np.concatenate([r[k] for r in self.ledger.records]) for k in COLUMNS}
        return RunResult(kpis=result.kpis, series=result.series, by_intent=result.by_intent, counts=result.counts,
                         seed=self.streams.seed, replication=self.streams.replication,
                         wall_seconds=time.perf_counter() - wall, records=records)


def simulate(plan: Plan, seed: int, replication: int = 0, observer: Observer | None = None,
             keep_records: bool = False) -> RunResult:
    """Run one replication of a compiled plan."""
    return Simulation(plan, seed, replication, keep_records).run(observer)
