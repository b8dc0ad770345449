"""Provides the backtest: calibrate on some days of a contact log, simulate others, compare with what happened.

Each test day is simulated on its own (sandbox.planning.calibrate.day_scenario: one day, its weekday, the bot
off: the log is the human stage), from the training days' scenario, or with that day's own observed inputs
(``given``) as its calendar entry:

* ``volume``: the day's contacts per hour, replayed exactly, instead of the training average;
* ``staffing``: the day's roster per half hour (with the calibrated availability), instead of the training one;
* ``aht``: the training handle times scaled by the day's mean handle time over the training days' mean.

With all three the backtest isolates the simulator from forecasting; with none it is a pure forecast. Per day
and measure it reports the observed value, the simulated mean with its 95% interval over replications (the
simulation's own noise), and over the days the mean absolute error and the bias.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from sandbox.metrics.stats import estimate
from sandbox.planning.calibrate import (
    GIVEN,
    SLOT,
    Calibration,
    Cleaning,
    Contact,
    Format,
    LogError,
    Mapping,
    estimate_scenario,
    offered_contacts,
    simulate_days,
    staffing,
)

# (name, label, unit): what each test day is scored on; the simulated value is the KPI of the same name.
MEASURES = (("abandonment_rate", "abandonment", "share"), ("asa_served", "ASA of served", "seconds"),
            ("asa_all", "mean wait of all", "seconds"), ("service_level", "service level", "share"),
            ("occupancy", "occupancy", "share"))


@dataclass
class DayScore:
    day: date
    offered: int
    observed: dict[str, float]
    simulated: dict[str, tuple[float, float]]  # mean, 95% half-width over replications


@dataclass
class Backtest:
    calibration: Calibration
    given: tuple[str, ...]
    replications: int
    days: list[DayScore]

    def error(self, name: str) -> tuple[float, float]:
        """Mean absolute error and bias (simulated − observed) over the test days with both values."""
        pairs = [(d.simulated[name][0], d.observed[name]) for d in self.days
                 if not (math.isnan(d.simulated[name][0]) or math.isnan(d.observed[name]))]
        if not pairs:
            return math.nan, math.nan
        diff = np.array([s - o for s, o in pairs])
        return float(np.abs(diff).mean()), float(diff.mean())

    def to_dict(self) -> dict[str, Any]:
        return {"given": list(self.given), "replications": self.replications,
                "training_days": [str(d) for d in self.calibration.days],
                "days": [{"day": str(d.day), "offered": d.offered,
                          **{name: {"observed": d.observed[name], "simulated": d.simulated[name][0],
                                    "half_width": d.simulated[name][1]} for name, _, _ in MEASURES}}
                         for d in self.days],
                "errors": {name: dict(zip(("mean_absolute_error", "bias"), self.error(name), strict=True))
                           for name, _, _ in MEASURES}}


def observed(contacts: list[Contact], threshold: float, available: float) -> dict[str, float]:
    """A day's measures from its log, with the definitions of the KPIs of the same names (docs/kpis.md);
    ``available``: the agent-minutes available for contacts (roster × availability)."""
    n = len(contacts)
    served = [c for c in contacts if c.outcome == "served"]
    waits = [c.wait or 0.0 for c in contacts if c.outcome in ("served", "abandoned")]
    busy = sum(c.handle or 0.0 for c in served)
    return {
        "abandonment_rate": sum(c.outcome == "abandoned" for c in contacts) / n if n else math.nan,
        "asa_served": 60 * float(np.mean([c.wait or 0.0 for c in served])) if served else math.nan,
        "asa_all": 60 * float(np.mean(waits)) if waits else math.nan,
        "service_level": sum((c.wait or 0.0) <= threshold for c in served) / n if n else math.nan,
        "occupancy": busy / available if available > 0 else math.nan,
    }


def backtest(path: Path, fmt: Format, train: tuple[date, date], test: tuple[date, date],
             given: tuple[str, ...] = GIVEN, replications: int = 10, seed: int = 0,
             mapping: Mapping | None = None) -> Backtest:
    """Calibrate on ``train``, simulate each day of ``test``, score them (module docstring)."""
    cleaning = Cleaning()
    training = offered_contacts(path, fmt, train, cleaning, "--train", mapping)
    calibration = estimate_scenario(training, cleaning, path.name, fmt)
    testing = offered_contacts(path, fmt, test, Cleaning(), "--test", mapping)
    by_day: dict[date, list[Contact]] = {}
    for c in testing:
        by_day.setdefault(c.arrival.date(), []).append(c)
    found = staffing(testing, sorted(by_day))
    rosters = {d: found.roster[k] for k, d in enumerate(sorted(by_day))}
    open_days = {d: cs for d, cs in by_day.items() if rosters[d].sum() > 0}  # a closed day: nothing to score
    if not open_days:
        raise LogError("no open day to score in --test")
    training_handle = float(np.mean([c.handle for c in training if c.outcome == "served" and c.handle] or [0.0]))
    threshold = 20 / 60  # the calibrated scenario's voice service-level threshold
    availability = calibration.scenario["agents"]["groups"]["agents"].get("availability", 1.0)
    runs = simulate_days(calibration.scenario, open_days, rosters, given, training_handle, replications, seed)
    scores = []
    for day, contacts in sorted(open_days.items()):
        simulated = {}
        for name, _, _ in MEASURES:
            values = [run[name] for run in runs[day] if not math.isnan(run[name])]
            est = estimate(values) if values else None
            simulated[name] = (est.mean, est.half_width) if est is not None else (math.nan, math.nan)
        available = float(rosters[day].sum()) * SLOT * availability
        scores.append(DayScore(day, len(contacts), observed(contacts, threshold, available), simulated))
    return Backtest(calibration, given, replications, scores)
