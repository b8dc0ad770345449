"""Provides the Erlang calculator planners know: agents for a service-level target, and the table around it.

Erlang C (M/M/N) without patience, Erlang A (M/M/N+M) with an exponential patience (sandbox.erlang holds the
formulas). The answer is the fewest agents whose service level meets the target and whose occupancy stays
under the cap; with shrinkage, the agents to schedule are that / (1 − shrinkage), rounded up. Service level
is SL_all (answered within T over every arrival, abandons count as misses), the project's ``service_level``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

AROUND = 3  # rows shown either side of the answer


@dataclass(frozen=True)
class Row:
    agents: int
    p_wait: float
    service_level: float
    asa_seconds: float  # ASA over served contacts (E[W | served]); with patience, abandoners are not in it
    occupancy: float
    p_abandon: float  # nan without patience
    meets: bool


@dataclass
class Calculation:
    rate_per_hour: float
    aht_minutes: float
    threshold_seconds: float
    target: float
    patience_minutes: float | None
    shrinkage: float
    max_occupancy: float
    required: int  # agents taking contacts
    scheduled: int  # agents to schedule: required / (1 − shrinkage), rounded up
    rows: list[Row] = field(default_factory=list)

    @property
    def load(self) -> float:
        return self.rate_per_hour / 60 * self.aht_minutes

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in asdict(self).items() if k != "rows"}, "load_erlangs": self.load,
                "rows": [asdict(r) for r in self.rows]}


def _row(rate: float, aht: float, n: int, threshold: float, patience: float | None, target: float,
         max_occupancy: float) -> Row:
    from sandbox import erlang  # only here: scipy.special is slow to import, and every command imports the api

    if patience is None:
        if n <= rate * aht:  # an unstable queue: everyone waits, for ever longer
            return Row(n, 1.0, 0.0, math.inf, 1.0, math.nan, False)
        c = erlang.erlang_c_metrics(rate, aht, n, threshold)
        row = Row(n, c.p_wait, c.service_level, c.asa * 60, c.occupancy, math.nan, False)
    else:
        a = erlang.erlang_a(rate, aht, patience, n, threshold)
        row = Row(n, a.p_wait, a.sl_all, a.asa_served * 60, a.occupancy, a.p_abandon, False)
    meets = row.service_level >= target and row.occupancy <= max_occupancy * (1 + 1e-12)
    return Row(**{**asdict(row), "meets": meets})


def scheduled_for(required: int, shrinkage: float) -> int:
    """Agents to schedule so that ``required`` take contacts: 14 at 30% is 14/0.7 = 20 (the float residue of
    the division forgiven, as calculators do)."""
    return math.ceil(required / (1 - shrinkage) * (1 - 1e-12))


def calculate(rate_per_minute: float, aht_minutes: float, target: float, threshold_minutes: float,
              patience_minutes: float | None = None, shrinkage: float = 0.0, max_occupancy: float = 1.0,
              around: int = AROUND) -> Calculation:
    """The fewest agents meeting ``target`` service level within ``threshold_minutes`` (and occupancy at most
    ``max_occupancy``), with the table of ``around`` rows either side."""
    n = max(1, math.floor(rate_per_minute * aht_minutes) + (1 if patience_minutes is None else 0))
    while not _row(rate_per_minute, aht_minutes, n, threshold_minutes, patience_minutes, target,
                   max_occupancy).meets:
        n += 1
    rows = [_row(rate_per_minute, aht_minutes, k, threshold_minutes, patience_minutes, target, max_occupancy)
            for k in range(max(1, n - around), n + around + 1)]
    return Calculation(rate_per_minute * 60, aht_minutes, threshold_minutes * 60, target, patience_minutes,
                       shrinkage, max_occupancy, n, scheduled_for(n, shrinkage), rows)
