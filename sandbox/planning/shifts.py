"""Provides shift scheduling: interval requirements turned into shifts that minimise paid hours.

The classic set-covering model (Dantzig 1954) as an integer program solved by HiGHS through scipy's
``milp``: one variable per possible shift (a start on the grid, an allowed length, a break in the middle of
long shifts), the number of agents who work it; every interval must have at least the agents it needs on
duty; the objective is paid hours. Requirements count agents taking contacts; with shrinkage, the agents on
duty are those / (1 − shrinkage), rounded up per interval, as calculators do. Breaks placed here are time off
the floor already: a shrinkage that also counts them would count them twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sandbox.errors import ConfigError, Problem
from sandbox.planning.staffing import StaffingPlan
from sandbox.units import parse_duration

MAX_SHIFT_TYPES = 20_000  # variables: a day of 15-minute starts with a dozen lengths is about 1,000


@dataclass(frozen=True)
class ShiftRules:
    lengths: tuple[float, ...] = (240.0, 360.0, 480.0)  # minutes
    grid: float = 30.0  # start times every this many minutes
    break_minutes: float = 30.0  # taken in the middle of shifts of at least break_after
    break_after: float = 360.0
    paid_break: bool = False


@dataclass(frozen=True)
class Shift:
    start: float  # minutes after midnight
    length: float
    break_at: float | None  # start of the break, minutes after midnight
    break_minutes: float
    paid_minutes: float

    def covers(self, t0: float, t1: float) -> bool:
        """On duty for all of [t0, t1)."""
        if not (self.start <= t0 and t1 <= self.start + self.length + 1e-9):
            return False
        return self.break_at is None or t1 <= self.break_at + 1e-9 or t0 >= self.break_at + self.break_minutes - 1e-9


@dataclass
class Roster:
    group: str
    interval_minutes: float
    need: list[int]  # agents on duty needed per interval of the day
    shifts: list[tuple[Shift, int]]  # (shift, agents working it)
    coverage: list[int] = field(default_factory=list)
    hourly_cost: float = 0.0
    shrinkage: float = 0.0

    @property
    def paid_hours(self) -> float:
        return sum(s.paid_minutes * n for s, n in self.shifts) / 60

    @property
    def cost(self) -> float:
        return self.paid_hours * self.hourly_cost

    @property
    def over(self) -> list[int]:
        return [c - n for c, n in zip(self.coverage, self.need, strict=True)]

    def schedule(self) -> dict[str, int]:
        """Agents taking contacts per interval (on duty × (1 − shrinkage)) as a scenario schedule."""
        out: dict[str, int] = {}
        last = None
        for k, on_duty in enumerate(self.coverage):
            n = math.floor(on_duty * (1 - self.shrinkage) + 1e-9)
            if n != last:
                out[_clock(k * self.interval_minutes)] = n
                last = n
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group, "paid_hours": self.paid_hours, "cost": self.cost,
            "shifts": [{"start": _clock(s.start), "end": _clock(s.start + s.length), "hours": s.length / 60,
                        "break": _clock(s.break_at) if s.break_at is not None else None, "agents": n,
                        "paid_hours": n * s.paid_minutes / 60} for s, n in self.shifts],
            "intervals": [{"interval": _clock(k * self.interval_minutes), "need": need, "on_duty": cov,
                           "over": cov - need} for k, (need, cov) in enumerate(zip(self.need, self.coverage,
                                                                                      strict=True)) if need or cov],
            "schedule": self.schedule(),
        }


def _clock(minutes: float) -> str:
    m = round(minutes) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def parse_rules(lengths: str | None = None, grid: str | None = None, break_rule: str | None = None,
                paid_break: bool = False) -> ShiftRules:
    """``4h,6h,8h``; ``30m``; ``30m@6h`` (a 30-minute break in shifts of 6 hours or more; ``none``)."""
    problems: list[Problem] = []
    rules = ShiftRules(paid_break=paid_break)

    def duration(text: str, where: str) -> float | None:
        try:
            value = parse_duration(text.strip())
        except ValueError as exc:
            problems.append(Problem(where, None, "", str(exc)))
            return None
        if value <= 0:
            problems.append(Problem(where, None, "", "must be more than 0"))
            return None
        return value

    found_lengths = rules.lengths
    if lengths is not None:
        parsed = [duration(part, "--lengths") for part in lengths.split(",")]
        found_lengths = tuple(sorted({p for p in parsed if p is not None}))
    found_grid = rules.grid if grid is None else duration(grid, "--grid") or rules.grid
    brk, after = rules.break_minutes, rules.break_after
    if break_rule is not None:
        if break_rule.strip().lower() == "none":
            brk, after = 0.0, math.inf
        else:
            minutes, at, longer = break_rule.partition("@")
            if not at:
                problems.append(Problem("--break", None, "", f"{break_rule!r} is not LENGTH@SHIFT",
                                        "e.g. 30m@6h: a 30-minute break in shifts of 6 hours or more; or none"))
            else:
                brk = duration(minutes, "--break") or brk
                after = duration(longer, "--break") or after
    for length in found_lengths:
        if abs(length / found_grid - round(length / found_grid)) > 1e-9 or length > 1440:
            problems.append(Problem("--lengths", None, "", f"{length / 60:g}h is not a whole number of grid steps "
                                    f"({found_grid:g} min) up to 24h"))
    if problems:
        raise ConfigError(problems)
    return ShiftRules(found_lengths, found_grid, brk, after, paid_break)


def possible_shifts(rules: ShiftRules, first: float, last: float) -> list[Shift]:
    """Every shift starting on the grid within [first, last) that ends by ``last``."""
    out = []
    for length in rules.lengths:
        start = math.ceil(first / rules.grid) * rules.grid
        while start + length <= last + 1e-9:
            has_break = rules.break_minutes > 0 and length >= rules.break_after
            break_at = None
            if has_break:  # the middle of the shift, on the grid
                break_at = start + math.floor((length - rules.break_minutes) / 2 / rules.grid) * rules.grid
            paid = length - (rules.break_minutes if has_break and not rules.paid_break else 0.0)
            out.append(Shift(start, length, break_at, rules.break_minutes if has_break else 0.0, paid))
            start += rules.grid
    return out


def roster(group: str, need: list[int], interval_minutes: float, rules: ShiftRules, hourly_cost: float = 0.0,
           shrinkage: float = 0.0) -> Roster:
    """The fewest paid hours of shifts that put at least ``need[k]`` agents on duty in every interval k."""
    bins = len(need)
    needed = [k for k in range(bins) if need[k] > 0]
    if not needed:
        return Roster(group, interval_minutes, list(need), [], [0] * bins, hourly_cost, shrinkage)
    first, last = needed[0] * interval_minutes, (needed[-1] + 1) * interval_minutes
    candidates = possible_shifts(rules, first, last)
    if not candidates or any(not any(s.covers(k * interval_minutes, (k + 1) * interval_minutes) for s in candidates)
                             for k in needed):
        raise ConfigError([Problem("--lengths", None, "", f"no allowed shift covers every interval {group} needs "
                                   f"({_clock(first)}–{_clock(last)})", "allow shorter shifts or a finer --grid")])
    if len(candidates) > MAX_SHIFT_TYPES:
        raise ConfigError([Problem("--grid", None, "", f"{len(candidates):,} possible shifts are too many to "
                                   "choose among", "a coarser grid or fewer lengths")])
    from scipy.optimize import Bounds, LinearConstraint, milp  # only here: scipy.optimize is slow to import

    cover = np.array([[s.covers(k * interval_minutes, (k + 1) * interval_minutes) for s in candidates]
                      for k in needed], dtype=float)
    cost = np.array([s.paid_minutes for s in candidates]) / 60
    result = milp(cost, constraints=LinearConstraint(cover, lb=np.array([need[k] for k in needed], dtype=float)),
                  integrality=np.ones(len(candidates)), bounds=Bounds(0, np.inf), options={"time_limit": 60})
    if result.x is None:
        raise ConfigError([Problem("--lengths", None, "", f"the shift problem of {group} has no solution "
                                   f"({result.message})")])
    counts = np.round(result.x).astype(int)
    chosen = [(s, int(n)) for s, n in zip(candidates, counts, strict=True) if n > 0]
    coverage = [sum(n for s, n in chosen if s.covers(k * interval_minutes, (k + 1) * interval_minutes))
                for k in range(bins)]
    return Roster(group, interval_minutes, list(need), sorted(chosen, key=lambda c: (c[0].start, c[0].length)),
                  coverage, hourly_cost, shrinkage)


def on_duty_needed(required: list[int], shrinkage: float) -> list[int]:
    """Agents on duty for ``required`` taking contacts: / (1 − shrinkage), rounded up (float residue forgiven)."""
    return [math.ceil(n / (1 - shrinkage) * (1 - 1e-12)) if n else 0 for n in required]


def rosters(plan: StaffingPlan, rules: ShiftRules, hourly_cost: dict[str, float]) -> list[Roster]:
    """One roster per group of a staffing plan."""
    return [roster(g, on_duty_needed(plan.required[g], plan.shrinkage[g]), plan.interval_minutes, rules,
                   hourly_cost.get(g, 0.0), plan.shrinkage[g]) for g in plan.groups]
