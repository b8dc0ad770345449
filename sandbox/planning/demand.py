"""Provides the demand left for humans: per queue (skill and channel) and interval, what reaches agents.

This is the file a workforce-management tool plans staff from: contacts that joined the queue (after the bot,
repeat contacts included, as they happened in the simulation), their average handle time
(handle + after-contact work of the served ones, with the cold-handoff factor in it) and the concurrency of
the agents who take them, each with a 95% interval over replications. Intervals are those of the day, per
simulated day (day 1, 2, ... with its weekday), at the time the contact joined the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sandbox.config.scenario import WEEKDAYS, Scenario
from sandbox.engine.plan import DAY
from sandbox.experiments import Comparison
from sandbox.metrics.stats import estimate


@dataclass(frozen=True)
class DemandRow:
    skill: str
    channel: str
    day: int  # 1 = the first simulated day
    weekday: str
    start: str  # HH:MM of the interval
    contacts: float  # joined the queue: mean over replications
    contacts_half_width: float  # 95%; nan with one replication
    aht_seconds: float  # mean handle + after-contact work of the served; nan where nobody was served
    aht_half_width: float
    concurrency: str  # of the groups that take this queue ("1" for voice; "3", or "2-3" for several, for chat)

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and v != v else v) for k, v in self.__dict__.items()}


COLUMNS = tuple(DemandRow.__dataclass_fields__)


def _concurrency(scenario: Scenario, skill: str, channel: str) -> str:
    values = sorted({(g.concurrency if channel == "chat" else 1) for g in scenario.agents.groups.values()
                     if skill in g.skills and channel in g.channels})  # never empty: validation sees to it
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


def demand_rows(c: Comparison, scenario: Scenario) -> list[DemandRow]:
    """Rows for every queue and interval in which any replication had a contact join that queue."""
    runs = c.finished(0)
    interval = scenario.horizon.interval_minutes
    per_day = round(DAY / interval)
    skills = list(dict.fromkeys(i.skill for i in scenario.intents.values()))
    start_day = WEEKDAYS.index(scenario.horizon.start)
    rows = []
    for skill in skills:
        for channel in scenario.channels:
            key = f"queue.{skill}.{channel}"
            if f"{key}.queued" not in runs[0].series:
                continue
            queued, served, busy = (np.array([r.series[f"{key}.{n}"] for r in runs], dtype=float)
                                    for n in ("queued", "served", "busy"))
            concurrency = _concurrency(scenario, skill, channel)
            with np.errstate(invalid="ignore", divide="ignore"):
                aht = np.where(served > 0, busy / np.where(served > 0, served, 1), np.nan) * 60
            for k in np.flatnonzero(queued.sum(axis=0) > 0):
                day, slot = divmod(int(k), per_day)
                minutes = round(slot * interval)
                contacts, handle = estimate(queued[:, k]), estimate(aht[:, k])
                rows.append(DemandRow(skill, channel, day + 1, WEEKDAYS[(start_day + day) % 7],
                                      f"{minutes // 60:02d}:{minutes % 60:02d}", contacts.mean,
                                      contacts.half_width, handle.mean, handle.half_width, concurrency))
    return rows
