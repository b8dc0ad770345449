"""Provides the staffing search: the fewest agents per interval and group that meet every service target.

In the manner of the iterative staffing algorithm of Feldman, Mandelbaum, Massey & Whitt (2008, time-varying
arrivals with abandonment): an analytic start, then correction by simulation until the targets hold.

1. **Start (Erlang A).** The current schedule is simulated once; per interval of the day, the contacts that
   joined the human queue (after the bot, repeats included) give each channel's arrival rate; the mean handle
   time comes from the plan (channel factors, the handoff's factor, after-contact work), a chat agent holds
   ``concurrency`` chats, and the customers' mean patience is the segments' average. Erlang A sizes each
   interval on its own; the total is split across the groups in the proportions of the current schedule.
2. **Correct up.** The staffing is simulated (the same seeds every time: common random numbers, so two
   staffings meet the same customers); every interval that misses a target gets one agent more, until none
   misses.
3. **Trim down.** Group by group, one agent is taken from every interval that has slack; intervals that then
   do not meet every target with 95% confidence (the value beyond the target by its half-width over
   replications) get theirs back and are marked binding for that group. Repeated until every (interval,
   group) is binding or empty. The answer meets every target, and one agent fewer in a binding interval
   misses one (the trial that found it binding, on the same seeds).

Targets hold per interval of the day (the workforce-planning convention): each interval's value pools every
simulated day and replication (answered within T over all who joined the queue in that interval, and so on).
Over the day instead (``per="day"``), the targets hold for the open day as a whole: agents are added where
the intervals fall furthest short and taken, in halving batches, from those with the most to spare.
A day's schedule is the same every day, so with several days the targets hold on average over the days.
An open interval keeps at least one agent. The policy's own staffing override is ignored: this decides it.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox.config.policy import Policy, Staffing
from sandbox.config.scenario import Scenario
from sandbox.config.targets import Target
from sandbox.engine.plan import DAY
from sandbox.errors import ConfigError, Problem, RunCancelled
from sandbox.experiments import Comparison, Executor, SerialExecutor
from sandbox.experiments import compare as run_replications
from sandbox.metrics.stats import estimate

MAX_ROUNDS = 60  # simulations a search may take before it stops and says so


@dataclass
class IntervalCheck:
    """A target in one interval of the day: the pooled value, its 95% half-width over replications."""

    target: str
    value: float
    half_width: float
    met: bool  # the pooled value meets the target
    confident: bool  # ... by at least the half-width: met with 95% confidence


@dataclass
class StaffingPlan:
    scenario: str
    policy: str
    targets: list[Target]
    interval_minutes: float
    groups: list[str]
    open_bins: list[int]  # intervals of the day that are open on some simulated day
    start: dict[str, list[int]]  # Erlang A's start, per group and interval of the day
    required: dict[str, list[int]]  # the answer: agents taking contacts
    scheduled: dict[str, list[int]]  # the scenario's schedule as it was
    shrinkage: dict[str, float]
    checks: list[list[IntervalCheck]]  # per interval of the day, per target, at the answer
    binding: dict[str, list[bool]]  # one agent fewer of this group in this interval misses a target
    replications: int
    seed: int
    days: int
    simulations: int = 0
    wall_seconds: float = 0.0
    converged: bool = True  # False: out of simulations (MAX_ROUNDS) before the search settled
    cancelled: bool = False
    # Targets no staffing meets in some intervals (target text → intervals), and why in words.
    out_of_reach: dict[str, list[int]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    per: str = "interval"  # where the targets hold: in every interval, or over the open day
    day: list[IntervalCheck] = field(default_factory=list)  # the targets over the whole open day, at the answer
    history: list[str] = field(default_factory=list)  # what each simulation tried, in words

    def clock(self, k: int) -> str:
        minutes = round(k * self.interval_minutes)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    def paid(self, group: str, k: int) -> int:
        """Paid agents to schedule for ``required`` to take contacts (shrinkage)."""
        n = self.required[group][k]
        return math.ceil(n / (1 - self.shrinkage[group]) * (1 - 1e-12)) if n else 0

    def rows(self) -> list[dict[str, Any]]:
        """One row per open interval and group: interval,group,required,scheduled,gap (+ paid, binding)."""
        return [{"interval": self.clock(k), "group": g, "required": self.required[g][k],
                 "scheduled": self.scheduled[g][k], "gap": self.scheduled[g][k] - self.required[g][k],
                 "paid": self.paid(g, k), "binding": self.binding[g][k]}
                for k in self.open_bins for g in self.groups]

    def productive_hours(self) -> float:
        """Agent hours a day taking contacts (the required agents over the open intervals)."""
        return sum(self.required[g][k] for g in self.groups for k in self.open_bins) * self.interval_minutes / 60

    def paid_hours(self) -> float:
        return sum(self.paid(g, k) for g in self.groups for k in self.open_bins) * self.interval_minutes / 60

    def schedule(self, group: str) -> dict[str, int]:
        """The group's requirement as a scenario schedule: an entry wherever the count changes."""
        out: dict[str, int] = {}
        last = None
        for k in self.open_bins:
            n = self.required[group][k]
            if n != last:
                out[self.clock(k)] = n
                last = n
        return out

    def schedule_yaml(self) -> str:
        """A snippet that replaces the groups' staffing in the scenario (agents.groups.NAME.schedule)."""
        def flow(schedule: dict[str, int]) -> str:  # the shipped scenarios' style: {"08:00": 6, "10:00": 12}
            return "{" + ", ".join(f"{json.dumps(clock)}: {n}" for clock, n in schedule.items()) + "}"

        body = "agents:\n  groups:\n" + "".join(f"    {g}:\n      schedule: {flow(self.schedule(g))}\n"
                                                for g in self.groups)
        return ("# Agents taking contacts per interval, from `support-sandbox staff` (targets: "
                + ", ".join(t.text or t.label for t in self.targets) + "). Replace each group's headcount or "
                "schedule with these.\n" + body)

    def applied_to(self, scenario: Scenario) -> Scenario:
        """The scenario with every group staffed as this plan requires (its schedule replaced)."""
        groups = {name: group.model_copy(update={"headcount": None, "schedule": self.schedule(name) or {"00:00": 0}})
                  for name, group in scenario.agents.groups.items()}
        return scenario.model_copy(update={"agents": scenario.agents.model_copy(update={"groups": groups})})

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "policy": self.policy, "targets": [t.text or t.label for t in self.targets],
            "per": self.per, "day": [vars(c) for c in self.day], "interval_minutes": self.interval_minutes,
            "replications": self.replications,
            "seed": self.seed, "days": self.days, "simulations": self.simulations, "wall_seconds": self.wall_seconds,
            "converged": self.converged, "cancelled": self.cancelled,
            "out_of_reach": {t: {"intervals": [self.clock(k) for k in ks], "why": self.reasons.get(t, "")}
                             for t, ks in self.out_of_reach.items()},
            "productive_hours_per_day": self.productive_hours(), "paid_hours_per_day": self.paid_hours(),
            "rows": self.rows(),
            "checks": {self.clock(k): [vars(c) for c in self.checks[k]] for k in self.open_bins},
            "schedule": {g: self.schedule(g) for g in self.groups}, "start": self.start, "history": self.history,
        }


# --- measuring a staffing ---------------------------------------------------------------------------------

_PARTS = {  # KPI → (numerator series, denominator series, scale): pooled ratios per interval
    "service_level": ("answered_within_t", "queued", 1.0),
    "queue_abandonment_rate": ("abandoned_queue", "queued", 1.0),
    "abandonment_rate": ("gave_up", "offered", 1.0),
    "asa_served": ("wait_served", "served", 60.0),
    "asa_all": ("wait_all", "queued", 60.0),
}


def _by_interval(c: Comparison, name: str, bins: int) -> np.ndarray:
    """A per-interval series as [replication, interval of the day], summed over days."""
    runs = c.finished(0)
    values = np.array([r.series[name] for r in runs], dtype=float)
    days = values.shape[1] // bins
    return np.nan_to_num(values[:, :days * bins]).reshape(len(runs), days, bins).sum(axis=1)


def _measure(c: Comparison, targets: list[Target], channels: list[str], bins: int,
             units: list[list[int]] | None = None) -> list[list[IntervalCheck]]:
    """Every target in every unit of time: each interval of the day, or the ``units`` given (lists of
    intervals pooled together: the whole open day, for targets that hold over the day)."""
    units = units if units is not None else [[k] for k in range(bins)]
    out: list[list[IntervalCheck]] = [[] for _ in units]
    for target in targets:
        if target.kpi == "occupancy":
            occupancy = np.array([r.series["occupancy"] for r in c.finished(0)], dtype=float)
            days = occupancy.shape[1] // bins
            by_bin = occupancy[:, :days * bins].reshape(len(occupancy), days, bins)
            with warnings.catch_warnings():  # an interval nobody staffed has no occupancy: nan, left out
                warnings.simplefilter("ignore", RuntimeWarning)
                per_rep = np.stack([np.nanmean(by_bin[:, :, unit], axis=(1, 2)) for unit in units], axis=1)
                pooled = np.nanmean(per_rep, axis=0)
        else:
            top, bottom, scale = _PARTS[target.kpi]
            used = [target.channel] if target.channel else channels
            used = [ch for ch in used if ch in channels]
            zero = np.zeros((len(c.finished(0)), bins))
            by_bin_num = sum((_by_interval(c, f"{ch}.{top}", bins) for ch in used), zero)
            by_bin_den = sum((_by_interval(c, f"{ch}.{bottom}", bins) for ch in used), zero)
            num = np.stack([by_bin_num[:, unit].sum(axis=1) for unit in units], axis=1)
            den = np.stack([by_bin_den[:, unit].sum(axis=1) for unit in units], axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_rep = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan) * scale
                pooled = np.where(den.sum(axis=0) > 0, num.sum(axis=0) / np.maximum(den.sum(axis=0), 1e-300),
                                  np.nan) * scale
        for k in range(len(units)):
            column = per_rep[:, k]
            est = estimate([float(v) for v in column if v == v])
            value = float(pooled[k])
            margin = est.half_width if est.half_width == est.half_width else 0.0
            sure = target.met(value - margin if target.op == ">=" else value + margin)
            out[k].append(IntervalCheck(target.text or target.label, value, est.half_width, target.met(value), sure))
    return out


# --- the search -----------------------------------------------------------------------------------------------

class _Search:
    def __init__(self, scenario: Scenario, policy: Policy, targets: list[Target], replications: int, seed: int,
                 executor: Executor, should_stop: Callable[[], bool], on_step: Callable[[str], None] | None):
        self.scenario, self.targets = scenario, targets
        self.policy = policy.model_copy(update={"staffing": Staffing()})  # the search decides the staffing
        self.replications, self.seed, self.executor = replications, seed, executor
        self.should_stop, self.on_step = should_stop, on_step
        self.width = scenario.horizon.interval_minutes
        self.bins = round(DAY / self.width)
        self.groups = list(scenario.agents.groups)
        self.channels: list[str] = list(scenario.channels)
        self.open = self._open_bins()
        self.simulations = 0
        self.history: list[str] = []
        self.seen: dict[bytes, Comparison] = {}
        self.beyond: dict[str, list[int]] = {}  # target → intervals no staffing brings it to
        self.reasons: dict[str, str] = {}

    def _open_bins(self) -> list[int]:
        """Intervals of the day with humans open for all of it on at least one simulated day."""
        first = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].index(
            self.scenario.horizon.start)
        found = set()
        for day in range(min(self.scenario.horizon.days, 7)):
            window = self.scenario.hours.window((first + day) % 7)
            if window is None:
                continue
            for k in range(self.bins):
                if window[0] <= k * self.width and (k + 1) * self.width <= window[1] + 1e-9:
                    found.add(k)
        return sorted(found)

    def current(self) -> np.ndarray:
        out = np.zeros((len(self.groups), self.bins), dtype=int)
        for g, group in enumerate(self.scenario.agents.groups.values()):
            for k in range(self.bins):
                out[g, k] = group.headcount_at(k * self.width)
        return out

    def staffed(self, staffing: np.ndarray) -> Scenario:
        groups = {}
        for g, (name, group) in enumerate(self.scenario.agents.groups.items()):
            schedule: dict[str, int] = {}
            last = None
            for k in range(self.bins):
                n = int(staffing[g, k])
                if n != last:
                    minutes = round(k * self.width)
                    schedule[f"{minutes // 60:02d}:{minutes % 60:02d}"] = n
                    last = n
            groups[name] = group.model_copy(update={"headcount": None, "schedule": schedule})
        agents = self.scenario.agents.model_copy(update={"groups": groups})
        return self.scenario.model_copy(update={"agents": agents})

    def measured(self, c: Comparison) -> list[list[IntervalCheck]]:
        return _measure(c, self.targets, self.channels, self.bins)

    def evaluate(self, staffing: np.ndarray, what: str) -> list[list[IntervalCheck]]:
        """Simulate a staffing (on the search's fixed seeds) and check every target in every interval."""
        key = staffing.tobytes()
        if key in self.seen:  # the same staffing on the same seeds: the same numbers
            self.last = self.seen[key]
            self.last_checks = self.measured(self.last)
            return self.last_checks
        if self.should_stop():
            raise RunCancelled
        if self.simulations >= MAX_ROUNDS:
            raise _OutOfRounds
        self.simulations += 1
        c = run_replications(self.staffed(staffing), [self.policy], [self.policy.name], seed=self.seed,
                             replications=self.replications, executor=self.executor, should_stop=self.should_stop)
        if c.cancelled:
            raise RunCancelled
        if c.errors:
            raise RuntimeError(c.errors[0].error)
        self.history.append(f"{what}: {int(staffing[:, self.open].sum()) * self.width / 60:g} agent-hours a day")
        if self.on_step is not None:
            self.on_step(self.history[-1])
        self.last = self.seen[key] = c
        self.last_checks = self.measured(c)
        return self.last_checks

    def failing(self, checks: list[list[IntervalCheck]], confident: bool = False) -> list[int]:
        """Open intervals missing a target within reach (``confident``: not meeting it with 95% confidence)."""
        return [k for k in self.open if not all(x.confident if confident else x.met for x in checks[k]
                                                if k not in self.beyond.get(x.target, ()))]

    def give_up_on(self, target: str, k: int, why: str) -> None:
        """Stop sizing interval ``k`` for ``target``: more agents do not bring it there."""
        if k not in self.beyond.setdefault(target, []):
            self.beyond[target].append(k)
            self.reasons.setdefault(target, why)

    # 1. Erlang A on the load that reached the humans
    def out_of_reach(self, c: Comparison) -> None:
        """Intervals where more customers give up in the bot than an abandonment_rate target allows: no
        staffing changes that, so none is added for it (they are reported instead)."""
        for target in self.targets:
            if target.kpi != "abandonment_rate":
                continue
            used = [target.channel] if target.channel else self.channels
            gave_up = sum(_by_interval(c, f"{ch}.gave_up", self.bins).sum(axis=0) for ch in used)
            in_queue = sum(_by_interval(c, f"{ch}.abandoned_queue", self.bins).sum(axis=0) for ch in used)
            offered = sum(_by_interval(c, f"{ch}.offered", self.bins).sum(axis=0) for ch in used)
            for k in self.open:
                if offered[k] > 0 and (gave_up[k] - in_queue[k]) / offered[k] > target.value:
                    self.give_up_on(target.text or target.label, k, "more customers give up in the bot than the "
                                    "target allows, which no staffing changes (queue_abandonment_rate targets "
                                    "the queue alone)")

    def erlang_start(self, current: np.ndarray) -> np.ndarray:
        self.evaluate(current, "the current schedule")
        c = self.last
        self.out_of_reach(c)
        scale = self.replications * (len(c.finished(0)[0].series["arrivals"]) // self.bins) * self.width
        segments = self.scenario.segments
        patience = sum(s.share * s.patience.mean() for s in segments.values() if s.patience is not None) or math.inf
        concurrency = max((g.concurrency for g in self.scenario.agents.groups.values()), default=1)
        totals = np.zeros(self.bins, dtype=int)
        for k in self.open:
            need = 0.0
            for ch in self.channels:
                joined = _by_interval(c, f"{ch}.queued", self.bins)[:, k].sum()
                if joined <= 0:
                    continue
                rate = joined / scale  # per minute
                handle = self.mean_handle(ch)
                n = _erlang_agents(rate, handle, patience, self.scenario.channels[ch].service_level_threshold,  # type: ignore[index]
                                   [t for t in self.targets if t.channel in (None, ch)])
                need += n / (concurrency if ch == "chat" else 1)
            totals[k] = max(1, math.ceil(need - 1e-9))
        return self.split(totals, current)

    def mean_handle(self, channel: str) -> float:
        """Mean agent time per contact on a channel: the intents' handle times (by share) × the channel's
        factor, plus the groups' mean after-contact work. Only the start uses it: simulation corrects."""
        intents = self.scenario.intents.values()
        factor = self.scenario.channels[channel].handle_time_factor  # type: ignore[index]
        handle = sum(i.share * i.handle_time.mean() for i in intents) / sum(i.share for i in intents) * factor
        groups = self.scenario.agents.groups.values()
        return handle + sum(g.after_contact_work for g in groups) / len(groups)

    def split(self, totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Totals per interval shared across groups in proportion to ``weights`` (largest remainder)."""
        out = np.zeros_like(weights)
        for k in self.open:
            w = weights[:, k].astype(float)
            if w.sum() <= 0:
                w = np.ones(len(self.groups))
            share = totals[k] * w / w.sum()
            base = np.floor(share).astype(int)
            for g in np.argsort(-(share - base), kind="stable")[: totals[k] - base.sum()]:
                base[g] += 1
            out[:, k] = base
        return out

    def day_checks(self) -> list[IntervalCheck]:
        """The targets over the whole open day of the last simulation."""
        return _measure(self.last, self.targets, self.channels, self.bins, [self.open])[0]

    def run_per_day(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[IntervalCheck]], bool]:
        """Targets over the day: agents go where the intervals miss most, and come off where they miss least,
        in halving batches, while the day still meets every target with 95% confidence."""
        current = self.current()
        start = self.erlang_start(current)
        staffing = start.copy()
        weights = np.where(current.sum(axis=0) > 0, current, 1)
        cap = 3 * start.sum(axis=0) + 5
        binding = np.zeros_like(staffing, dtype=bool)

        def slack(checks: list[list[IntervalCheck]], k: int) -> float:
            """How far interval k is beyond its targets (negative: short of them), the tightest target."""
            gaps = [(x.value - t.value if t.op == ">=" else t.value - x.value) / max(abs(t.value), 1e-9)
                    for x, t in zip(checks[k], self.targets, strict=True) if x.value == x.value]
            return min(gaps, default=math.inf)

        try:
            checks = self.evaluate(staffing, "Erlang A start")
            while not all(x.confident for x in self.day_checks()):
                short = sorted(self.open, key=lambda k: slack(checks, k))
                worst = [k for k in short if slack(checks, k) < 0] or short[: max(1, len(short) // 3)]
                added = [k for k in worst if staffing[:, k].sum() < cap[k]]
                if not added:
                    for x in self.day_checks():
                        if not x.confident:
                            self.give_up_on(x.target, self.open[0], "three times the Erlang start did not reach it")
                    break
                for k in added:
                    self.add(staffing, weights, cap, k)
                checks = self.evaluate(staffing, f"one more agent in {len(added)} intervals")
            batch = max(1, len(self.open) // 2)
            while True:
                order = [k for k in sorted(self.open, key=lambda k: -slack(checks, k))
                         if staffing[:, k].sum() > 1 and not binding[:, k].all()]
                if not order:
                    break
                trial = order[:batch]
                fewer = staffing.copy()
                for k in trial:  # from the group with the most agents beyond its share of the weights
                    want = (staffing[:, k].sum() - 1) * weights[:, k] / weights[:, k].sum()
                    g = int(np.argmax(np.where(staffing[:, k] > 0, staffing[:, k] - want, -np.inf)))
                    fewer[g, k] -= 1
                trial_checks = self.evaluate(fewer, f"one fewer agent in {len(trial)} intervals")
                if all(x.confident for x in self.day_checks()):
                    staffing, checks = fewer, trial_checks
                elif batch > 1:
                    batch = max(1, batch // 2)
                else:
                    binding[:, trial] = True
            checks = self.evaluate(staffing, "the answer")
        except _OutOfRounds:
            return start, staffing, np.zeros_like(staffing, dtype=bool), self.measured(self.last), False
        return start, staffing, binding, checks, True

    def run(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[IntervalCheck]], bool]:
        current = self.current()
        start = self.erlang_start(current)
        staffing = start.copy()
        weights = np.where(current.sum(axis=0) > 0, current, 1)
        # Staffing cannot lower what it does not touch (customers giving up on the bot, say): an interval
        # still missing at three times its start is reported as out of staffing's reach.
        cap = 3 * start.sum(axis=0) + 5
        try:
            # 2. up until every target holds with 95% confidence
            checks = self.evaluate(staffing, "Erlang A start")
            while failing := self.failing(checks, confident=True):
                for k in failing:
                    self.add(staffing, weights, cap, k)
                checks = self.evaluate(staffing, f"one more agent in {len(failing)} intervals")
            # 3. down, group by group, until every (interval, group) is binding or empty
            binding = np.zeros_like(staffing, dtype=bool)
            while True:
                moved = False
                trimmed: dict[int, list[int]] = {}  # interval → groups trimmed there in this round, in order
                for g in range(len(self.groups)):
                    trial = [k for k in self.open if staffing[g, k] > 0 and not binding[g, k]
                             and staffing[:, k].sum() > 1]
                    if not trial:
                        continue
                    fewer = staffing.copy()
                    fewer[g, trial] -= 1
                    missed = set(self.failing(self.evaluate(fewer, f"one fewer {self.groups[g]} agent in "
                                                                   f"{len(trial)} intervals"), confident=True))
                    binding[g, [k for k in trial if k in missed]] = True
                    kept = [k for k in trial if k not in missed]
                    if kept:
                        staffing[g, kept] -= 1
                        moved = True
                        for k in kept:
                            trimmed.setdefault(k, []).append(g)
                if not moved:
                    break
                checks = self.evaluate(staffing, "the trimmed staffing")
                # trims next to each other can add up (a queue carries over): put one back where they did
                while failing := self.failing(checks, confident=True):
                    for k in failing:
                        if trimmed.get(k):  # undo this round's last trim there: that group was needed
                            g = trimmed[k].pop()
                            staffing[g, k] += 1
                            binding[g, k] = True
                        else:
                            self.add(staffing, weights, cap, k)
                    checks = self.evaluate(staffing, f"one agent back in {len(failing)} intervals")
            checks = self.evaluate(staffing, "the answer")
        except _OutOfRounds:
            return start, staffing, np.zeros_like(staffing, dtype=bool), self.measured(self.last), False
        return start, staffing, binding, checks, True


    def add(self, staffing: np.ndarray, weights: np.ndarray, cap: np.ndarray, k: int) -> None:
        """One agent more in interval ``k``, to the group furthest below its share of the weights; an
        interval already at its cap is out of staffing's reach."""
        if staffing[:, k].sum() >= cap[k]:
            for check in self.last_checks[k]:
                if not check.confident:
                    self.give_up_on(check.target, k, "three times the Erlang start did not reach it")
            return
        total = staffing[:, k].sum() + 1
        want = total * weights[:, k] / weights[:, k].sum()
        staffing[int(np.argmax(want - staffing[:, k])), k] += 1


class _OutOfRounds(Exception):
    pass


def _erlang_agents(rate: float, handle: float, patience: float, threshold: float, targets: list[Target]) -> int:
    """The fewest agents (or chat slots) Erlang A says meet every target at this load."""
    from sandbox.erlang import erlang_a, erlang_c_metrics  # only here: scipy.special is slow to import

    n = max(1, math.floor(rate * handle))
    while n < 100_000:
        if patience == math.inf:
            if n <= rate * handle:
                n += 1
                continue
            c = erlang_c_metrics(rate, handle, n, threshold)
            values = {"service_level": c.service_level, "queue_abandonment_rate": 0.0, "abandonment_rate": 0.0,
                      "asa_served": c.asa * 60, "asa_all": c.asa * 60, "occupancy": c.occupancy}
        else:
            a = erlang_a(rate, handle, patience, n, threshold)
            values = {"service_level": a.sl_all, "queue_abandonment_rate": a.p_abandon,
                      "abandonment_rate": a.p_abandon, "asa_served": a.asa_served * 60, "asa_all": a.asa_all * 60,
                      "occupancy": a.occupancy}
        if all(t.met(values[t.kpi]) for t in targets):
            return n
        n += 1
    return n


def staff(scenario: Scenario, policy: Policy, targets: list[Target], replications: int = 10, seed: int = 0,
          executor: Executor | None = None, should_stop: Callable[[], bool] = lambda: False,
          on_step: Callable[[str], None] | None = None, per: str = "interval") -> StaffingPlan:
    """The fewest agents per interval of the day and group meeting every target under this policy, in every
    interval (``per="interval"``, the default) or over the open day (``per="day"``)."""
    if not targets:
        raise ConfigError([Problem("--target", None, "", "no target given", "e.g. --target service_level>=0.8")])
    missing = sorted({t.channel for t in targets if t.channel and t.channel not in scenario.channels})
    if missing:
        raise ConfigError([Problem("--target", None, ch, "the scenario has no such channel",
                                   f"it has {', '.join(scenario.channels)}") for ch in missing])
    started = time.perf_counter()
    search = _Search(scenario, policy, targets, replications, seed, executor or SerialExecutor(), should_stop, on_step)
    if not search.open:
        raise ConfigError([Problem("hours", None, "", "humans are open for no whole reporting interval on any "
                                   "simulated day: there is nothing to staff",
                                   "open hours.default (or a weekday) for at least one interval")])
    names = search.groups
    current = search.current()
    plan = StaffingPlan(scenario.name, policy.name, targets, search.width, names, search.open,
                        {}, {}, {n: current[g].tolist() for g, n in enumerate(names)},
                        {n: g.shrinkage for n, g in scenario.agents.groups.items()}, [], {},
                        replications, seed, scenario.horizon.days)
    plan.per = per
    try:
        start, staffing, binding, checks, converged = search.run_per_day() if per == "day" else search.run()
    except (RunCancelled, KeyboardInterrupt):
        plan.cancelled = True
        plan.converged = False
        plan.required = plan.start = plan.scheduled
        plan.binding = {n: [False] * search.bins for n in names}
        plan.checks = [[] for _ in range(search.bins)]
    else:
        plan.start = {n: start[g].tolist() for g, n in enumerate(names)}
        plan.required = {n: staffing[g].tolist() for g, n in enumerate(names)}
        plan.binding = {n: binding[g].tolist() for g, n in enumerate(names)}
        plan.checks, plan.converged, plan.day = checks, converged, search.day_checks()
    plan.simulations, plan.history = search.simulations, search.history
    plan.out_of_reach, plan.reasons = search.beyond, search.reasons
    plan.wall_seconds = time.perf_counter() - started
    return plan
