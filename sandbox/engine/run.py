"""Provides one simulation run: a day's arrivals as a cohort, the bot stage in batch, the centre on SimPy.

Each simulated day the run draws the day's arrivals and everything about those customers at once, runs their
bot conversations vectorised, records the contacts the bot finished, and hands the rest to the centre at
the moment they leave the bot. A customer may come back (a retry after abandoning, or a return after a
wrong answer they believed), up to repeat_contacts.max_returns times; each possible return is drawn and talked
through in the same batch, so a repeat costs one event, not a numpy call. The clock advances a day at a time
and progress is reported to an observer between slices; an observer cancels by raising RunCancelled. Nothing
here prints.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np
import simpy
from simpy.events import Timeout

from sandbox.config.policy import Gate
from sandbox.engine.centre import Centre, Contact
from sandbox.engine.plan import DAY, DayRules, Plan
from sandbox.engine.streams import Streams
from sandbox.metrics.kpis import compute_kpis, period_rates
from sandbox.metrics.ledger import COLUMNS, AttackRates, Ledger, Totals
from sandbox.model.bot_capacity import hold
from sandbox.model.conversation import Conversations, converse
from sandbox.model.knowledge import Knowledge
from sandbox.model.outcomes import ENDED_IN_BOT, Origin, Outcome


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
    sums: dict[str, float] = field(default_factory=dict)  # numerators and denominators (kpis.RATIO_OF_SUMS)
    daily: list[dict[str, float]] = field(default_factory=list)  # kpis.DAILY per simulated day
    by_segment: dict[str, dict[str, float]] = field(default_factory=dict)  # kpis.SEGMENT_FIELDS per segment


def sample_by_group(group: np.ndarray, dists: list, rng: np.random.Generator, fill: float) -> np.ndarray:
    """One draw per element from its group's distribution (None: ``fill``), drawn group by group and, within a
    group, in element order: the order a mask per group would give, for the price of one stable sort."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(dists) + 1))
    out = np.full(len(group), fill)
    for g, dist in enumerate(dists):
        if dist is not None:
            out[order[bounds[g]:bounds[g + 1]]] = dist.sample(rng, int(bounds[g + 1] - bounds[g]))
    return out


_ENDED_IN_BOT = frozenset(int(o) for o in ENDED_IN_BOT)  # for the per-contact path: a set of plain ints


class Cohort:
    """Contacts that arrived together (a day's first contacts, or their potential repeats), as arrays.

    The ledger reads the static columns (sandbox.metrics.ledger.STATIC) by row index.
    """

    def __init__(self, plan: Plan, rules: DayRules, arrive: np.ndarray, channel: np.ndarray, segment: np.ndarray,
                 intent: np.ndarray, origin: np.ndarray, f0: np.ndarray, u: np.ndarray,
                 rng_patience: np.random.Generator, rng_handle: np.random.Generator, rng_bot: np.random.Generator,
                 attack: np.ndarray, u_security: np.ndarray, u_needs: np.ndarray | None,
                 u_misrecognition: np.ndarray | None = None, repeat_of: Cohort | None = None,
                 same_issue: bool = True, bot_slots: list[float] | None = None, down: np.ndarray | None = None):
        n = len(arrive)
        self.arrive, self.channel, self.segment, self.intent, self.origin = arrive, channel, segment, intent, origin
        self.attack = attack  # attack kind (scenario.security), −1 for a genuine customer
        self.u_agent = u_security[4]  # whether an attack that reaches an agent works
        # A repeat contact retells the story unless the bot recognises the customer (integration.history).
        self.retold = np.full(n, repeat_of is not None and not plan.history)
        self.u_accept, self.u_repeat = u[1], u[2]
        zero = rng_patience.random(n) < plan.zero_patience[segment]
        budget = sample_by_group(segment, plan.patience, rng_patience, math.inf)
        budget[zero] = 0.0
        if plan.patience_by_time is not None and repeat_of is None:  # a repeat's, once its time is known
            budget *= plan.patience_by_time.at(arrive)
        # (intent, channel) as one number: it picks the handle-time distribution and the queue (Centre.queue_of).
        own = intent.astype(np.int64) * len(plan.channel_cum) + channel
        handle = sample_by_group(own, [dist for by_channel in plan.handle for dist in by_channel], rng_handle,
                                 math.nan)
        if plan.handle_by_time is not None and repeat_of is None:
            handle *= plan.handle_by_time.at(arrive)
        if plan.segment_handle is not None:
            handle *= plan.segment_handle[segment]
        if plan.handle_by_day is not None and repeat_of is None:  # the calendar's day level (a repeat's: below)
            days = np.clip((arrive // DAY).astype(np.int64), 0, plan.days - 1)
            handle *= np.where(arrive >= 0, plan.handle_by_day[days], 1.0)
        self.rules = rules
        bot_state = rng_bot.bit_generator.state

        def talk_to_bot(unavailable: np.ndarray | None = None) -> Conversations:
            return converse(rules.bot, rules.turn_time, intent, segment, channel, f0, u[0], rng_bot,
                            repeat_of.u_solve if repeat_of is not None and same_issue else None, attack,
                            u_security[:4], u_needs, u_misrecognition, unavailable)

        talk = talk_to_bot(down)  # down: arrivals during a bot outage go straight to humans
        self.overflowed, self.bot_wait = np.zeros(n, dtype=bool), np.zeros(n)
        if bot_slots is not None and plan.bot_capacity is not None:
            # A full bot: replayed with the same draws (the stream rewound), those it had no room for not
            # offered to it; then the waits and slower replies lengthen the rest (sandbox.model.bot_capacity).
            held = hold(arrive, talk.duration, talk.outcome != Outcome.DIRECT, budget, plan.bot_capacity,
                        plan.bot_slowdown, plan.wait_for_bot, bot_slots)
            away = held.overflowed | held.gave_up
            if away.any():
                rng_bot.bit_generator.state = bot_state
                talk = talk_to_bot(away if down is None else away | down)
            delay = held.wait + held.slower
            talk.duration += delay
            talk.frustration = np.minimum(1.0, talk.frustration + plan.frustration.params.per_minute_waiting * delay)
            gave_up = held.gave_up
            talk.outcome[gave_up] = Outcome.ABANDONED_BOT
            talk.frustration[gave_up] = plan.frustration.after_leaving_unresolved(talk.frustration[gave_up])
            self.overflowed, self.bot_wait = held.overflowed, held.wait
        # The queue it is sent to: that of the intent the bot took it for; a misrouted contact also keeps its own.
        self.queue = talk.routed.astype(np.int64) * len(plan.channel_cum) + channel
        self.home = np.where(self.queue != own, own, -1)
        self.misrecognised = talk.routed != intent
        self.breached, self.solvable, self.needs = talk.breached, talk.solvable, talk.needs
        self.u_solve: np.ndarray = talk.u_solve  # whether the bot can solve each issue (a repeat brings the same issue)
        self.outcome, self.duration, self.frustration = talk.outcome, talk.duration, talk.frustration
        self.turns, self.failed, self.reason = talk.turns, talk.failed, talk.reason
        self.asked, self.refused, self.repeats = talk.asked, talk.refused, talk.repeats
        escalated = talk.outcome == Outcome.ESCALATED
        handoff = rules.handoff
        if rules.bot.cold:
            handle = np.where(escalated, handle * handoff.cold_handle_factor, handle)
        self.budget, self.handle = budget, handle
        self.priority = plan.priority[segment] + np.where(escalated, handoff.priority, 0)
        self.head = plan.head_start[segment] + np.where(escalated, handoff.head_start, 0.0)
        self.continues = np.zeros(n, dtype=bool)  # comes back before the horizon ends: its journey goes on
        self.next: Cohort | None = None  # the potential repeat of each contact
        self.retry_delay = self.return_delay = np.zeros(0)


class Simulation:
    """Everything one replication needs, wired together."""

    def __init__(self, plan: Plan, seed: int, replication: int, keep_records: bool = False):
        self.streams = Streams(seed, replication)
        self.plan = plan = plan.for_replication(self.streams.whole_run("evidence"))
        self.env = simpy.Environment(initial_time=plan.start)
        self.totals = Totals(len(plan.intent_cum), plan.n_bins, plan.interval, len(plan.channels),
                             np.array([plan.skills.index(s) for s in plan.skill], dtype=np.int64),
                             n_groups=len(plan.groups), segment_names=list(plan.scenario.segments))
        self.ledger = Ledger(self.totals, plan.ceiling, plan.threshold, plan.value, plan.frustration.churn,
                             plan.satisfaction, plan.f0,
                             AttackRates(plan.attack_agent_success, plan.attack_cost_bot, plan.attack_cost_agent),
                             plan.scenario.bot.late_escalation, keep_records)
        at_random = plan.scenario.agents.routing.agent_selection == "random"
        routing = self.streams.whole_run("routing") if at_random else None
        refused = self._refused if plan.day_rules.repeat.after_refused > 0 else None
        self.centre = Centre(self.env, plan, self.ledger, self.totals, self._abandoned, routing, refused)
        self.bot_slots: list[float] = []  # end times of the bot conversations in progress (bot.capacity)
        self.knowledge = Knowledge(plan.scenario, plan.policy, plan.intents)
        self.gate_step = 0  # the rollout gate's step, and the CSAT it was last judged on
        self.gate_csat: float | None = None

    # --- arrivals ----------------------------------------------------------------------------------------

    def _day(self, day: int) -> None:
        """Draw the day's customers (all of them, so every policy sees the same ones) and admit them."""
        plan, streams = self.plan, self.streams
        rng = streams.day("arrivals", day)
        mu = plan.expected_per_interval(day)
        surge = plan.surge(day)
        if surge is not None:
            mu = mu * surge
        base = plan.scenario.demand.customer_base
        if base is not None and day > 0:  # churned customers have left (the ledger is folded every day)
            mu = mu * max(0.0, 1.0 - self.totals.get("churn") / base)
        shape = plan.busyness_shape
        busyness = rng.gamma(shape, 1 / shape) if shape is not None else 1.0
        own = plan.calendar.get(day)
        if own is not None and own.exact_counts:  # a replayed day: its counts, rounded so that they sum up
            counts = np.diff(np.round(np.concatenate(([0.0], np.cumsum(mu))))).astype(np.int64)
        else:
            counts = rng.poisson(mu * busyness)
        starts = day * DAY + np.arange(len(mu)) * plan.interval
        arrive = np.repeat(starts, counts) + rng.random(int(counts.sum())) * plan.interval
        arrive.sort()
        n = len(arrive)
        u = streams.day("customers", day).random((6, n))
        # int16: the loader allows up to MAX_MIX_ENTRIES (1,000) segments and intents; int8 would wrap at 128.
        channel = np.searchsorted(plan.channel_cum, u[0], side="right").astype(np.int16)
        segment = np.searchsorted(plan.segment_cum, u[1], side="right").astype(np.int16)
        if plan.intent_cum_by_segment is None:
            intent = np.searchsorted(plan.intent_cum, u[2], side="right").astype(np.int16)
        else:  # each segment's own mix, on the same draws (common random numbers)
            intent = np.empty(n, dtype=np.int16)
            for k, cum in enumerate(plan.intent_cum_by_segment):
                mine = segment == k
                intent[mine] = np.searchsorted(cum, u[2][mine], side="right")
        attack = np.full(n, -1, dtype=np.int8)
        if plan.attack_share.any():  # its own stream: adding attackers shifts nobody else's draws
            drawn = np.searchsorted(np.cumsum(plan.attack_share), streams.day("attacks", day).random(n), side="right")
            attack = np.where(drawn < len(plan.attack_share), drawn, -1).astype(np.int8)
        # Who needs a human, on its own stream (the same customers under every policy); a repeat, the same.
        u_needs = streams.day("needs", day).random(n) if plan.day_rules.bot.needs_human.any() else None
        # Whether (and as what) the bot mistakes each intent, first contacts and their repeats: its own stream.
        u_mis = streams.day("misrecognition", day).random((4, n)) if plan.day_rules.bot.misrecognition.any() \
            else None
        rules = plan.rules_on(day)
        gate = plan.policy.automation.gate
        if gate is not None:
            rules = rules.with_share(self._gate_factor(gate, day))
        knowledge = self.knowledge
        per_day = int(DAY / plan.interval)
        today = slice(day * per_day, (day + 1) * per_day) if day >= 0 else slice(0, 0)
        if knowledge.active and day >= 0:  # the warm-up runs on the bot as launched
            knowledge.start_day(day, streams.day("knowledge", day))
            rules = dataclasses.replace(rules, bot=knowledge.rules(rules.bot))
            self.totals.add("curation_cost", knowledge.daily_cost)
            self.totals.series["stale_intents"][today] = float((knowledge.stale_since >= 0).sum())
        base_share = plan.day_rules.bot.share
        shares = base_share > 0
        self.totals.series["automation_factor"][today] = \
            float(np.mean(rules.bot.share[shares] / base_share[shares])) if shares.any() else 1.0
        first = Cohort(plan, rules, arrive, channel, segment, intent, np.zeros(n, np.int8), plan.f0[intent], u[3:],
                       streams.day("patience", day), streams.day("handle", day), streams.day("bot", day), attack,
                       streams.day("security", day).random((5, n)), u_needs, None if u_mis is None else u_mis[:2],
                       bot_slots=self.bot_slots, down=plan.outage(arrive))
        if knowledge.active:
            knowledge.observe(np.bincount(intent[first.outcome == Outcome.ESCALATED], minlength=len(plan.intents)))
        rep = rules.repeat
        if rep.after_abandonment > 0 or rep.after_false_containment > 0 or rep.after_refused > 0:
            # Each customer's possible returns, drawn now as a chain of cohorts (row i is always customer i): the
            # level-th return is talked through as if it happened, and used only if it does.
            cohort = first
            for level in range(rep.max_returns):
                rng = streams.level("repeats", day, level)
                f0 = self._coming_back(cohort, rep.carry_frustration)
                cohort.next = Cohort(plan, rules, np.full(n, math.nan), channel, segment, intent, np.zeros(n, np.int8),
                                     f0, rng.random((3, n)), rng, rng, rng, attack,
                                     streams.level("security_repeats", day, level).random((5, n)), u_needs,
                                     None if u_mis is None else u_mis[2:], repeat_of=cohort,
                                     same_issue=rep.same_issue)
                cohort.retry_delay = rep.abandonment_delay.sample(rng, n)
                cohort.return_delay = rep.false_containment_delay.sample(rng, n)
                cohort = cohort.next
        inside = np.flatnonzero((arrive >= plan.start) & (arrive < plan.end))
        self._admit(first, inside)

    def _gate_factor(self, gate: Gate, day: int) -> float:
        """The rollout gate's factor on ``day``: judged at the start of each period on the one that ended."""
        every = max(1, round(gate.every / DAY))
        if day > 0 and day % every == 0:
            abandonment, csat = period_rates(self.totals, day - every, day)
            if gate.roll_back_above is not None and abandonment > gate.roll_back_above:
                self.gate_step = max(0, self.gate_step - 1)
            elif abandonment <= gate.max_abandonment and (
                    self.gate_csat is None or math.isnan(csat) or csat > self.gate_csat - gate.max_csat_drop):
                self.gate_step = min(len(gate.steps) - 1, self.gate_step + 1)
            self.gate_csat = csat
        return gate.steps[self.gate_step] if day >= 0 else gate.steps[0]

    def _coming_back(self, first: Cohort, carry: bool) -> np.ndarray:
        """F at the start of each contact's potential repeat: as upset as they left (a wrong answer found out
        adds ``misled``; a queue abandoner is taken as they joined the queue, plus leaving unresolved), or, not
        carried, the intent's load; then the retelling, unless the bot recognises them."""
        plan = self.plan
        f = plan.f0[first.intent]
        if carry:
            left = first.frustration
            f = np.where(first.outcome == Outcome.FALSE_CONTAINED, np.minimum(1.0, left + plan.satisfaction.misled),
                         np.where(np.isin(first.outcome, (Outcome.ESCALATED, Outcome.DIRECT)),
                                  plan.frustration.after_leaving_unresolved(left), left))
        return f if plan.history else plan.frustration.on_coming_back(f)

    def _admit(self, cohort: Cohort, index: np.ndarray) -> None:
        """Contacts whose arrival time is set: record the bot's results, schedule repeats, queue the rest."""
        plan = self.plan
        outcome = cohort.outcome[index]
        end = cohort.arrive[index] + cohort.duration[index]
        late = end >= plan.end  # still in the bot when the horizon ends
        done = np.isin(outcome, ENDED_IN_BOT)
        record = done | late
        if cohort.next is not None:  # first, so that the rows recorded below know whether their journey goes on
            rep = cohort.rules.repeat
            for which, p, delays, origin in (
                (Outcome.FALSE_CONTAINED, rep.after_false_containment, cohort.return_delay, Origin.RETURN),
                (Outcome.ABANDONED_BOT, rep.after_abandonment, cohort.retry_delay, Origin.RETRY),
            ):
                hit = (outcome == which) & ~late & (cohort.u_repeat[index] < p)
                for i, t in zip(index[hit].tolist(), (end + delays[index])[hit].tolist(), strict=True):
                    self._repeat(cohort, i, t, origin)
        if record.any():
            self.ledger.add_batch(cohort, index[record], np.where(late, int(Outcome.IN_SYSTEM), outcome)[record],
                                  np.minimum(end, plan.end)[record], cohort.frustration[index[record]])
        entering = ~done & ~late
        if entering.any():
            order = np.argsort(end[entering], kind="stable")
            self._feed(cohort, index[entering][order], end[entering][order])

    def _feed(self, cohort: Cohort, index: np.ndarray, times: np.ndarray) -> None:
        """Hand contacts to the centre at ``times`` (sorted: when each leaves the bot), one pending event at a
        time (a chain, not a heap)."""
        env, centre, queues = self.env, self.centre, self.centre.queue_of
        contacts = [Contact(cohort, i, queues[q], f, budget, handle, priority, head, u_accept,
                            queues[home] if home >= 0 else None)
                    for i, q, f, budget, handle, priority, head, u_accept, home in zip(
                        index.tolist(), cohort.queue[index].tolist(), cohort.frustration[index].tolist(),
                        cohort.budget[index].tolist(), cohort.handle[index].tolist(), cohort.priority[index].tolist(),
                        cohort.head[index].tolist(), cohort.u_accept[index].tolist(), cohort.home[index].tolist(),
                        strict=True)]
        items = zip(times.tolist(), contacts, strict=True)

        def step(event: simpy.Event | None) -> None:
            if event is not None:
                centre.arrive(cast(Contact, event.value))  # the Timeout carries its contact as its value
            item = next(items, None)
            if item is not None:
                t, contact = item
                delay = t - env.now
                Timeout(env, delay if delay > 0.0 else 0.0, contact).callbacks.append(step)

        step(None)

    # --- repeat contacts -------------------------------------------------------------------------------

    def _repeat(self, first: Cohort, index: int, t: float, origin: int) -> None:
        """Contact ``index`` of ``first`` comes back at t as the same row of the cohort of pre-drawn repeats.

        _admit for a single contact, without numpy's per-call overhead; while returns are left
        (repeat_contacts.max_returns), a repeat that ends unresolved in the bot schedules the next one.
        """
        plan = self.plan
        if t >= plan.end:
            self.totals.add("repeats_after_horizon", 1)
            return
        first.continues[index] = True
        cohort = first.next
        assert cohort is not None
        cohort.arrive[index] = t
        cohort.origin[index] = origin
        if plan.handle_by_time is not None:  # the factors of the time it comes back at
            cohort.handle[index] *= plan.handle_by_time.at_time(t)
        if plan.handle_by_day is not None and t >= 0:
            cohort.handle[index] *= plan.handle_by_day[min(int(t // DAY), plan.days - 1)]
        if plan.patience_by_time is not None:
            cohort.budget[index] *= plan.patience_by_time.at_time(t)
        outcome, end = int(cohort.outcome[index]), t + float(cohort.duration[index])
        if cohort.next is not None and end < plan.end:  # this repeat may bring another (repeat_contacts.max_returns)
            rep = cohort.rules.repeat
            u = float(cohort.u_repeat[index])
            if outcome == Outcome.FALSE_CONTAINED and u < rep.after_false_containment:
                self._repeat(cohort, index, end + float(cohort.return_delay[index]), Origin.RETURN)
            elif outcome == Outcome.ABANDONED_BOT and u < rep.after_abandonment:
                self._repeat(cohort, index, end + float(cohort.retry_delay[index]), Origin.RETRY)
        if end >= plan.end or outcome in _ENDED_IN_BOT:
            self.ledger.add(cohort, index, Outcome.IN_SYSTEM if end >= plan.end else outcome, min(end, plan.end),
                            False, math.nan, float(cohort.frustration[index]))
        else:
            self._feed(cohort, np.array([index]), np.array([end]))

    def _abandoned(self, contact: Contact, t: float) -> None:
        cohort = contact.cohort
        if cohort.next is not None and cohort.u_repeat[contact.index] < cohort.rules.repeat.after_abandonment:
            self._repeat(cohort, contact.index, t + float(cohort.retry_delay[contact.index]), Origin.RETRY)

    def _refused(self, contact: Contact, t: float) -> None:
        cohort = contact.cohort
        if cohort.next is not None and cohort.u_repeat[contact.index] < cohort.rules.repeat.after_refused:
            self._repeat(cohort, contact.index, t + float(cohort.retry_delay[contact.index]), Origin.RETRY)

    # --- running ---------------------------------------------------------------------------------------

    def run(self, observer: Observer | None = None) -> RunResult:
        wall = time.perf_counter()
        plan, env, centre = self.plan, self.env, self.centre
        # Opening, closing and shift changes, and day starts, each as a chain of one pending event (memory
        # stays flat over long horizons).
        points = iter(plan.timeline)

        def next_point(event: simpy.Event | None) -> None:
            if event is not None:
                is_open, counts = cast(tuple[bool, dict[int, int]], event.value)
                centre.apply(is_open, counts)
            point = next(points, None)
            if point is not None:
                Timeout(env, point[0] - env.now, point[1:]).callbacks.append(next_point)

        days = iter(range(plan.first_day, plan.days))

        def next_day(event: simpy.Event | None) -> None:
            if event is not None:
                self._day(cast(int, event.value))
            day = next(days, None)
            if day is not None:
                Timeout(env, max(day * DAY, plan.start) - env.now, day).callbacks.append(next_day)

        next_point(None)
        next_day(None)
        checkpoints = [min((day + 1) * DAY, plan.end) for day in range(plan.first_day, plan.days)]
        span = plan.end - plan.start
        # The churn so far (a shrinking base) and the last period's rates (a gate) are read from the totals.
        fold_daily = plan.scenario.demand.customer_base is not None or plan.policy.automation.gate is not None
        for stop in checkpoints:
            env.run(until=stop)
            if fold_daily:
                self.ledger.flush()
            if observer is not None:
                observer.on_progress((stop - plan.start) / span)
        centre.finish()
        self.ledger.flush()
        result = compute_kpis(plan, self.totals)
        records = None
        if self.ledger.keep_records and self.ledger.records:
            records = {k: np.concatenate([r[k] for r in self.ledger.records]) for k in COLUMNS}
        return RunResult(kpis=result.kpis, series=result.series, by_intent=result.by_intent, counts=result.counts,
                         seed=self.streams.seed, replication=self.streams.replication,
                         wall_seconds=time.perf_counter() - wall, records=records, sums=result.sums,
                         daily=result.daily, by_segment=result.by_segment)


def simulate(plan: Plan, seed: int, replication: int = 0, observer: Observer | None = None,
             keep_records: bool = False) -> RunResult:
    """Run one replication of a compiled plan."""
    return Simulation(plan, seed, replication, keep_records).run(observer)
