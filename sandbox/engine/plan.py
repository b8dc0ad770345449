"""Provides the Plan: a (scenario, policy) pair compiled into the arrays and timelines the engine runs on.

Compiling once keeps name lookups, unit handling and policy overrides out of the per-contact path.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass

import numpy as np

from sandbox.config.distributions import Distribution
from sandbox.config.policy import Callback, Handoff, Policy
from sandbox.config.scenario import (
    WEEKDAYS,
    AgentAbsence,
    AgentGroup,
    BotOutage,
    CalendarDay,
    DemandSurge,
    Estimate,
    RepeatContacts,
    Satisfaction,
    Scenario,
    Security,
    rate,
)
from sandbox.model.conversation import BotRules
from sandbox.model.frustration import FrustrationModel

DAY = 1440.0
# Sun–Thu mean calls per clock hour, Technion "Anonymous Bank" 1999 (Brown et al. 2005; docs/model.md);
# 02–05 h is reported as a 0.5–1.2 range, taken as 0.8.
DEFAULT_PROFILE = (5.2, 2.0, 0.8, 0.8, 0.8, 0.8, 6.1, 40.8, 87.9, 122.5, 139.7, 121.6, 108.7, 114.3, 120.8,
                   120.4, 115.2, 92.9, 79.5, 64.9, 58.9, 60.6, 54.7, 42.1)


@dataclass(frozen=True)
class GroupPlan:
    name: str
    spec: AgentGroup
    skills: frozenset[str]
    channels: frozenset[str]
    concurrency: int


@dataclass(frozen=True)
class DayRules:
    """The rules in force on one day: what the bot can do and what the policy does with contacts. The same
    every day today; multi-day dynamics (a bot that learns, customers who adapt) change them by day here."""

    bot: BotRules
    turn_time: Distribution  # of one bot turn
    handoff: Handoff  # cold-handoff handle factor, priority and head start of escalated contacts
    callback: Callback
    repeat: RepeatContacts

    def with_share(self, factor: float) -> DayRules:
        """These rules with the automation share multiplied by ``factor`` (a ramp or gate step)."""
        return dataclasses.replace(self, bot=dataclasses.replace(self.bot, share=self.bot.share * factor))


@dataclass(frozen=True)
class Evidence:
    """The bot's rates that were measured, not typed (scenario Estimates), by intent (None: an exact number).

    Each replication draws one value of each from its Beta, by inverse transform of a uniform from the
    "evidence" stream: the same uniforms under every policy (common random numbers), and a lower estimate
    never draws a higher value from the same uniform."""

    resolve: tuple[Estimate | None, ...]  # at the policy's integration level, before bot.quality
    wrong: tuple[Estimate | None, ...]  # before bot.wrong_answers
    quality: float
    wrong_answers: float

    def draw(self, rules: BotRules, rng: np.random.Generator) -> BotRules:
        from scipy.stats import beta  # only runs that sample estimates pay for importing scipy.stats

        u = rng.random((2, len(self.resolve)))

        def sampled(estimates: tuple[Estimate | None, ...], fixed: np.ndarray, scale: float,
                    uniforms: np.ndarray) -> np.ndarray:
            out = fixed.copy()
            for i, e in enumerate(estimates):
                if e is not None:
                    out[i] = min(1.0, e.discount * float(beta.ppf(uniforms[i], e.alpha, e.beta)) * scale)
            return out

        return dataclasses.replace(rules, resolve=sampled(self.resolve, rules.resolve, self.quality, u[0]),
                                   wrong=sampled(self.wrong, rules.wrong, self.wrong_answers, u[1]))


@dataclass(frozen=True)
class Plan:
    """A (scenario, policy) pair compiled for the engine, which reads nothing else: ``scenario`` and ``policy``
    are kept for provenance and the plan's own methods."""

    scenario: Scenario
    policy: Policy
    start: float  # -warm-up
    end: float  # days × 1440
    interval: float
    n_bins: int
    channel_cum: np.ndarray
    segment_cum: np.ndarray
    intent_cum: np.ndarray
    # By segment, where any segment has its own intent mix: [segment, intent] cumulative shares (None: one mix);
    # and each segment's handle-time factor (None: all 1).
    intent_cum_by_segment: np.ndarray | None
    segment_handle: np.ndarray | None
    f0: np.ndarray  # by intent
    skill: list[str]  # by intent
    skills: list[str]  # the distinct skills intents need, in order of first use
    handle: list[list[Distribution]]  # [intent][channel]
    patience: list[Distribution | None]  # by segment
    zero_patience: np.ndarray
    priority: np.ndarray  # by segment
    head_start: np.ndarray  # by segment
    value: np.ndarray  # by segment
    ceiling: np.ndarray  # by channel
    satisfaction: Satisfaction
    threshold: np.ndarray  # by channel: service-level T
    frustration: FrustrationModel
    groups: list[GroupPlan]
    timeline: list[tuple[float, bool, dict[int, int]]]  # (time, humans open after it, group → headcount)
    mean_handle: dict[tuple[str, str], float]  # (skill, channel) → mean handle time, for wait predictions
    day_rules: DayRules
    channels: list[str]
    intents: list[str]
    at_closing: str  # serve | clear | callback
    queue_capacity: int | None
    lines: list[int | None]  # by channel: contacts in the human stage at once (None: no limit)
    message_after: float | None  # a contact still waiting this long leaves a message (None: never)
    handle_by_time: DayProfile | None  # handle-time factors by time of arrival (None: none)
    patience_by_time: DayProfile | None  # patience factors by time of arrival (None: none)
    busyness_shape: float | None
    bot_cost_per_conversation: float
    bot_cost_per_resolution: float
    # Attacks by kind (Security.KINDS): shares of all contacts, and the loss per incident at the bot and at an
    # agent (a bot's refund is capped by the policy's refund limit).
    attack_share: np.ndarray
    attack_agent_success: np.ndarray
    attack_cost_bot: np.ndarray
    attack_cost_agent: np.ndarray
    history: bool  # the bot recognises a returning customer: no retelling on a repeat contact
    transfer_time: float  # an agent's time to pass a misrouted contact on
    bot_capacity: int | None  # concurrent bot conversations (None: no limit)
    bot_slowdown: float  # at capacity, turns last 1 + this times as long
    wait_for_bot: bool  # a contact finding the bot full waits (else it overflows to humans)
    evidence: Evidence | None  # measured rates to sample once per replication (bot.uncertainty sample)

    def for_replication(self, rng: np.random.Generator) -> Plan:
        """The plan one replication runs: the measured bot rates drawn from their uncertainty (if any)."""
        if self.evidence is None:
            return self
        rules = self.evidence.draw(self.day_rules.bot, rng)
        return dataclasses.replace(self, day_rules=dataclasses.replace(self.day_rules, bot=rules))

    def rules_on(self, day: int) -> DayRules:
        """The rules in force on ``day`` (0 = the first day of the horizon; negative = warm-up): the policy's
        rollout ramp scales the automation share (the bot's knowledge, sandbox.model.knowledge, comes on top)."""
        if not self.policy.automation.ramp:
            return self.day_rules
        return self.day_rules.with_share(self.policy.automation.ramp_factor(day))

    def surge(self, day: int) -> np.ndarray | None:
        """Per interval of ``day``: the demand_surge events' factor (the interval's covered share of each); None
        when no surge touches the day."""
        width = self.interval
        starts = day * DAY + np.arange(int(DAY / width)) * width
        factor = None
        for event in self.scenario.events:
            if isinstance(event, DemandSurge):
                a, b = event.window()
                covered = np.clip(np.minimum(starts + width, b) - np.maximum(starts, a), 0, None) / width
                if covered.any():
                    factor = (np.ones(len(starts)) if factor is None else factor) * (1 + (event.factor - 1) * covered)
        return factor

    def outage(self, arrive: np.ndarray) -> np.ndarray | None:
        """Which of these arrivals find the bot down (bot_outage events); None when none does."""
        down = None
        for event in self.scenario.events:
            if isinstance(event, BotOutage):
                a, b = event.window()
                hit = (arrive >= a) & (arrive < b)
                if hit.any():
                    down = hit if down is None else down | hit
        return down

    @property
    def first_day(self) -> int:
        return math.floor(self.start / DAY)

    @property
    def days(self) -> int:
        return self.scenario.horizon.days

    def weekday(self, day: int) -> int:
        return (WEEKDAYS.index(self.scenario.horizon.start) + day) % 7

    def expected_per_interval(self, day: int) -> np.ndarray:
        """Expected arrivals in each interval of ``day`` before the busyness factor."""
        demand, width = self.scenario.demand, self.interval
        per_day = int(DAY / width)
        if demand.rate is not None:
            return np.full(per_day, demand.rate * width)
        factor = demand.weekday_factors.get(WEEKDAYS[self.weekday(day)], 1.0)  # type: ignore[call-overload]
        own = self.calendar.get(day)  # the day's own volume or shape (scenario.calendar)
        shape = own.intraday_profile if own is not None and own.intraday_profile is not None else None
        if demand.per_interval is not None and shape is None:
            expected = np.asarray(demand.per_interval, dtype=float) * factor
            return expected if own is None or own.contacts is None else expected * own.contacts / expected.sum()
        profile = np.asarray(shape or demand.intraday_profile or DEFAULT_PROFILE, dtype=float)
        if len(profile) == 24 and per_day != 24:
            profile = np.repeat(profile, per_day // 24)
        if own is not None and own.contacts is not None:
            total = own.contacts
        elif demand.contacts_per_day is not None:
            total = demand.contacts_per_day * factor
        else:  # per_interval with the day's own shape
            total = float(np.sum(demand.per_interval)) * factor  # type: ignore[arg-type]
        return total * profile / profile.sum()

    @functools.cached_property
    def calendar(self) -> dict[int, CalendarDay]:
        """scenario.calendar by day index (0: the first day of the horizon)."""
        return {entry.day - 1: entry for entry in self.scenario.calendar}

    @functools.cached_property
    def handle_by_day(self) -> np.ndarray | None:
        """The calendar's handle-time factor per day of the horizon (None: no day has one)."""
        if all(e.handle_time_factor == 1 for e in self.scenario.calendar):
            return None
        factors = np.ones(self.days)
        for day, entry in self.calendar.items():
            if day < self.days:
                factors[day] = entry.handle_time_factor
        return factors


@dataclass(frozen=True)
class DayProfile:
    """Factors by time of day (demand.handle_time_profile, patience_profile): one per hour or interval."""

    factors: np.ndarray
    width: float  # minutes each factor covers

    @classmethod
    def of(cls, values: list[float] | None) -> DayProfile | None:
        return None if values is None else cls(np.asarray(values, dtype=float), DAY / len(values))

    def at(self, t: np.ndarray) -> np.ndarray:
        return self.factors[((t % DAY) // self.width).astype(np.int64)]

    def at_time(self, t: float) -> float:
        return float(self.factors[int((t % DAY) // self.width)])


def _cumulative(shares: list[float]) -> np.ndarray:
    cum = np.cumsum(shares)
    cum[-1] = 1.0  # shares sum to 1 within validation tolerance; make the last bucket catch rounding
    return cum


def _headcounts(scenario: Scenario, policy: Policy, interval: float) -> tuple[dict[str, AgentGroup],
                                                                             dict[int, list[AgentGroup]]]:
    """Agent groups with the policy's staffing override applied to headcount or schedule and their availability
    (AgentGroup.effective) turned into agents taking contacts; and the same for the calendar's days that have
    their own rosters (day index: 0 the first day)."""
    staffing = policy.staffing

    def scaled(n: int) -> int:
        return math.floor(n * staffing.scale + 0.5)

    def staffed(name: str, group: AgentGroup) -> AgentGroup:
        if name in staffing.headcount:
            group = group.model_copy(update={"headcount": staffing.headcount[name], "schedule": None})
        elif group.schedule is not None:
            group = group.model_copy(update={"schedule": {k: scaled(v) for k, v in group.schedule.items()}})
        else:
            assert group.headcount is not None
            group = group.model_copy(update={"headcount": scaled(group.headcount)})
        return group.effective(interval)

    usual = {name: staffed(name, group) for name, group in scenario.agents.groups.items()}
    by_day = {}
    for entry in scenario.calendar:
        if entry.schedules:
            by_day[entry.day - 1] = [
                staffed(name, group.model_copy(update={"headcount": None, "schedule": entry.schedules[name]}))
                if name in entry.schedules else usual[name] for name, group in scenario.agents.groups.items()]
    return usual, by_day


def _timeline(scenario: Scenario, usual: list[AgentGroup], by_day: dict[int, list[AgentGroup]], start: float,
              end: float, first_day: int, weekday0: int) -> list[tuple[float, bool, dict[int, int]]]:
    """Opening, closing and staffing changes in time order; adjacent windows (24/7) are merged. ``by_day``: the
    groups of the days with their own rosters."""
    points: dict[float, tuple[bool | None, dict[int, int]]] = {}

    def at(t: float, is_open: bool | None, counts: dict[int, int]) -> None:
        prev_open, prev_counts = points.get(t, (None, {}))
        points[t] = (is_open if is_open is not None else prev_open, {**prev_counts, **counts})

    for day in range(first_day, math.ceil(end / DAY)):
        window = scenario.hours.window((weekday0 + day) % 7)
        if window is None:
            continue
        groups = by_day.get(day, usual)
        base = day * DAY
        opened, closed = base + window[0], base + window[1]
        at(opened, True, {i: g.headcount_at(window[0]) for i, g in enumerate(groups)})
        for i, g in enumerate(groups):
            for clock in g.change_points():
                if window[0] < clock < window[1]:
                    at(base + clock, None, {i: g.headcount_at(clock)})
        at(closed, False, dict.fromkeys(range(len(groups)), 0))
    absences = [e for e in scenario.events if isinstance(e, AgentAbsence)]
    if absences:
        _absent(points, absences, list(scenario.agents.groups), usual, by_day, weekday0, scenario)
    # A close at midnight followed by an open at the same instant is no close at all (24/7 operation).
    timeline, is_open = [], False
    for t in sorted(points):
        flag, counts = points[t]
        if t >= end:
            break
        is_open = is_open if flag is None else flag
        timeline.append((max(t, start), is_open, counts))
    merged: list[tuple[float, bool, dict[int, int]]] = []
    for t, flag, counts in timeline:
        if merged and merged[-1][0] == t:
            merged[-1] = (t, flag, {**merged[-1][2], **counts})
        else:
            merged.append((t, flag, counts))
    return merged


def _absent(points: dict[float, tuple[bool | None, dict[int, int]]], absences: list[AgentAbsence], names: list[str],
            usual: list[AgentGroup], by_day: dict[int, list[AgentGroup]], weekday0: int, scenario: Scenario) -> None:
    """Headcounts with the agent_absence events' shares missing while each lasts (in place): a point at every
    start and end, and every point's headcount scaled by the share absent then."""
    for event in absences:
        for t in event.window():
            points.setdefault(t, (None, {}))
    for t in sorted(points):
        day = math.floor(t / DAY)
        window = scenario.hours.window((weekday0 + day) % 7)
        clock = t - day * DAY
        is_open = window is not None and window[0] <= clock < window[1]
        flag, counts = points[t]
        full = {}
        for i, g in enumerate(by_day.get(day, usual)):
            if not is_open:
                full[i] = counts.get(i, 0) if i in counts else 0
                continue
            present = 1.0
            for event in absences:
                a, b = event.window()
                if a <= t < b and (not event.groups or names[i] in event.groups):
                    present *= 1 - event.share
            full[i] = math.floor(g.headcount_at(clock) * present + 0.5)
        points[t] = (flag, full)


def compile_plan(scenario: Scenario, policy: Policy) -> Plan:
    horizon = scenario.horizon
    start, end = -horizon.warm_up, horizon.days * DAY
    interval = horizon.interval_minutes
    channels, segments, intents = list(scenario.channels), list(scenario.segments), list(scenario.intents)
    bot, esc = scenario.bot, policy.escalation
    frustration = FrustrationModel(scenario.frustration, scenario.churn)
    level, guard, attacks = policy.integration.level, policy.security, scenario.security
    rank = {"none": 0, "read": 1, "act": 2}
    kinds = Security.KINDS
    verifying = guard.verification and level == "act"
    refunds = policy.integration.refund_limit
    measured = [scenario.intents[i].bot.resolve(level) for i in intents]
    wrong = [scenario.intents[i].bot.wrong_answer for i in intents]

    def uncertain(values: list[float | Estimate]) -> tuple[Estimate | None, ...]:
        return tuple(v if isinstance(v, Estimate) else None for v in values)

    evidence = None
    if bot.uncertainty == "sample" and any(isinstance(v, Estimate) for v in measured + wrong):
        evidence = Evidence(uncertain(measured), uncertain(wrong), bot.quality, bot.wrong_answers)
    shares = np.array([scenario.intents[i].share for i in intents])
    confusion = np.zeros((len(intents), len(intents)))  # [true intent, the intent the bot takes it for]
    for k, name in enumerate(intents):
        weights = scenario.intents[name].bot.mistaken_for
        row = np.array([weights.get(i, 0.0) for i in intents]) if weights is not None else shares.copy()
        row[k] = 0.0
        confusion[k] = np.cumsum(row / row.sum()) if row.sum() > 0 else 1.0
        confusion[k, -1] = 1.0
    rules = BotRules(
        share=np.array([policy.automation.share_for(c) for c in channels]),
        bypass_intent=np.array([i in policy.automation.bypass_intents or (
            policy.automation.bypass_emotional_load is not None
            and scenario.intents[i].emotional_load >= policy.automation.bypass_emotional_load) for i in intents]),
        bypass_segment=np.array([s in policy.automation.bypass_segments for s in segments]),
        resolve=np.minimum(1.0, np.array([rate(v) for v in measured]) * bot.quality),
        failure_weight=frustration.failure_weight(np.array([scenario.intents[i].emotional_load for i in intents])),
        wrong=np.minimum(1.0, np.array([rate(v) for v in wrong]) * bot.wrong_answers),
        p_turn=np.array([1 / scenario.intents[i].bot.turns_to_resolve for i in intents]),
        identification=bot.identification,
        give_up_after=bot.give_up_after,
        low_confidence_detection=bot.low_confidence_detection,
        low_confidence_false_alarm=bot.low_confidence_false_alarm,
        needs_human=np.array([scenario.intents[i].needs_human for i in intents]),
        misrecognition=np.array([scenario.intents[i].bot.misrecognition for i in intents]),
        confusion=confusion,
        max_turns=esc.max_bot_turns,
        threshold=esc.frustration_threshold,
        honour=esc.honour_requests,
        on_low_confidence=esc.on_low_confidence,
        cold=policy.handoff.mode == "cold",
        frustration=frustration,
        verify=np.array([verifying and scenario.intents[i].bot.account_action for i in intents]),
        verification_time=guard.verification_time,
        genuine_failure=guard.genuine_failure,
        impostor_caught=guard.impostor_caught,
        guardrails=guard.guardrails,
        attack_permitted=np.array([rank[level] >= rank[Security.NEEDS[k]]
                                   and not (k == "refund_fraud" and refunds == 0) for k in kinds]),
        attack_verified=np.array([verifying and Security.NEEDS[k] == "act" for k in kinds]),
        attack_success=np.array([attacks.attack(k).bot_success for k in kinds]),
    )
    staffed, staffed_by_day = _headcounts(scenario, policy, interval)
    groups = [GroupPlan(name, g, frozenset(g.skills), frozenset(g.channels),
                        g.concurrency if "chat" in g.channels else 1) for name, g in staffed.items()]
    handle = [[scenario.intents[i].handle_time.scaled(scenario.channels[c].handle_time_factor)  # type: ignore[index]
               for c in channels] for i in intents]
    mean_handle: dict[tuple[str, str], list[float]] = {}
    for i, name in enumerate(intents):
        for c, channel in enumerate(channels):
            weight = scenario.intents[name].share * scenario.channels[channel].share  # type: ignore[index]
            key = (scenario.intents[name].skill, channel)
            acc = mean_handle.setdefault(key, [0.0, 0.0])
            acc[0] += weight * handle[i][c].mean()
            acc[1] += weight
    first_day = math.floor(start / DAY)
    return Plan(
        scenario=scenario, policy=policy, start=start, end=end, interval=interval,
        n_bins=round(end / interval),
        channel_cum=_cumulative([scenario.channels[c].share for c in channels]),  # type: ignore[index]
        segment_cum=_cumulative([scenario.segments[s].share for s in segments]),
        intent_cum=_cumulative([scenario.intents[i].share for i in intents]),
        intent_cum_by_segment=np.array([_cumulative([(scenario.segments[s].intent_mix or {}).get(i, 0.0)
                                                     if scenario.segments[s].intent_mix is not None
                                                     else scenario.intents[i].share for i in intents])
                                        for s in segments])
        if any(scenario.segments[s].intent_mix is not None for s in segments) else None,
        segment_handle=np.array([scenario.segments[s].handle_time_factor for s in segments])
        if any(scenario.segments[s].handle_time_factor != 1 for s in segments) else None,
        f0=np.array([scenario.intents[i].emotional_load for i in intents]),
        skill=[scenario.intents[i].skill for i in intents],
        skills=list(dict.fromkeys(scenario.intents[i].skill for i in intents)),
        handle=handle,
        patience=[scenario.segments[s].patience for s in segments],
        zero_patience=np.array([scenario.segments[s].zero_patience for s in segments]),
        priority=np.array([scenario.segments[s].priority for s in segments]),
        head_start=np.array([scenario.segments[s].head_start for s in segments]),
        value=np.array([scenario.segments[s].value_at_risk for s in segments]),
        ceiling=np.array([scenario.channels[c].csat_ceiling for c in channels]),  # type: ignore[index]
        satisfaction=scenario.satisfaction,
        threshold=np.array([scenario.channels[c].service_level_threshold for c in channels]),  # type: ignore[index]
        frustration=frustration,
        groups=groups,
        timeline=_timeline(scenario, [g.spec for g in groups], staffed_by_day, start, end, first_day,
                           WEEKDAYS.index(horizon.start)),
        mean_handle={k: v[0] / v[1] for k, v in mean_handle.items() if v[1] > 0},
        day_rules=DayRules(rules, bot.turn_time, policy.handoff, policy.callback, scenario.repeat_contacts),
        channels=[str(c) for c in channels],
        intents=intents,
        at_closing=scenario.hours.at_closing,
        queue_capacity=scenario.agents.queue_capacity,
        lines=[scenario.channels[c].lines for c in channels],  # type: ignore[index]
        message_after=policy.message.after_wait,
        handle_by_time=DayProfile.of(scenario.demand.handle_time_profile),
        patience_by_time=DayProfile.of(scenario.demand.patience_profile),
        busyness_shape=scenario.demand.busyness_shape,
        bot_cost_per_conversation=bot.cost_per_conversation,
        bot_cost_per_resolution=bot.cost_per_resolution,
        attack_share=np.array([attacks.attack(k).share for k in kinds]),
        attack_agent_success=np.array([attacks.attack(k).agent_success for k in kinds]),
        attack_cost_bot=np.array([min(attacks.attack(k).cost, refunds) if k == "refund_fraud" and refunds is not None
                                  else attacks.attack(k).cost for k in kinds]),
        attack_cost_agent=np.array([attacks.attack(k).cost for k in kinds]),
        history=policy.integration.history,
        transfer_time=scenario.agents.transfer_time,
        bot_capacity=bot.capacity,
        bot_slowdown=bot.slowdown_at_capacity,
        wait_for_bot=policy.automation.when_bot_full == "wait",
        evidence=evidence,
    )
