"""A day's own inputs (scenario.calendar) and fractional availability on agent groups (AgentGroup.availability)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox.config.policy import Policy
from sandbox.config.scenario import AgentGroup, Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate

NO_BOT = Policy.model_validate({"name": "no bot", "automation": {"share": 0}})
BASE: dict[str, Any] = {
    "name": "calendar",
    "horizon": {"days": 3, "interval": "60m"},
    "hours": {"default": "00:00-24:00"},
    "demand": {"contacts_per_day": 1000, "busyness_shape": None},
    "channels": {"voice": {"share": 1, "service_level_threshold": "20s"}},
    "segments": {"all": {"share": 1}},
    "intents": {"q": {"share": 1, "emotional_load": 0, "handle_time": {"kind": "exponential", "mean": "4m"}}},
    "agents": {"groups": {"a": {"skills": ["general"], "channels": ["voice"], "headcount": 8}}},
    "frustration": {"patience_coupling": 0},
    "repeat_contacts": {"after_abandonment": 0, "after_false_containment": 0},
}


def _run(spec: dict[str, Any], replication: int = 0) -> Any:
    return simulate(compile_plan(Scenario.model_validate(spec), NO_BOT), seed=3, replication=replication)


def test_availability_takes_contacts_with_agent_minutes_and_pays_the_roster() -> None:
    group = AgentGroup.model_validate({"skills": ["general"], "headcount": 9, "availability": 0.7})
    effective = group.effective(60)
    # 6.3 agents: 7 for the first 18 minutes of every hour, 6 for the other 42
    assert effective.schedule is not None
    assert effective.headcount_at(0) == 7
    assert effective.headcount_at(18) == 6
    assert effective.headcount_at(60) == 7
    # a fraction that rounds up to a whole short piece keeps its agent (10 × 0.995 between 08:00 and 08:05)
    changed = AgentGroup.model_validate({"skills": ["general"], "schedule": {"00:00": 10, "08:05": 10},
                                         "availability": 0.995}).effective(60)
    assert changed.headcount_at(8 * 60 + 1) == 10
    # 8 agents available 75% of the time take contacts exactly as 6 do, and cost as 8
    spec = copy.deepcopy(BASE)
    spec["agents"]["groups"]["a"]["availability"] = 0.75
    six = copy.deepcopy(BASE)
    six["agents"]["groups"]["a"]["headcount"] = 6
    rostered, whole = _run(spec).kpis, _run(six).kpis
    for name in ("abandonment_rate", "asa_served", "service_level", "occupancy"):
        assert rostered[name] == whole[name], name
    assert rostered["productive_hours"] == pytest.approx(whole["productive_hours"])
    assert rostered["agent_hours"] == pytest.approx(whole["agent_hours"] * 8 / 6)  # paid agent hours


def test_a_calendar_day_has_its_own_volume_roster_and_handle_time() -> None:
    spec = copy.deepcopy(BASE)
    spec["calendar"] = [
        {"day": 2, "date": "1999-02-08", "contacts": 2000, "handle_time_factor": 0.5},
        {"day": 3, "schedules": {"a": {"00:00": 3, "12:00": 12}}, "exact_counts": True,
         "intraday_profile": [1.0] * 12 + [3.0] * 12},
    ]
    days = _run(spec).daily
    assert days[0]["offered"] == pytest.approx(1000, abs=4 * 1000 ** 0.5)  # Poisson: 4 standard deviations
    assert days[1]["offered"] == pytest.approx(2000, abs=4 * 2000 ** 0.5)
    assert days[2]["offered"] == 1000  # exact counts: 1000 × the profile, rounded, no noise
    assert days[2]["productive_hours"] == pytest.approx(3 * 12 + 12 * 12, abs=1)  # the day's roster (and the overrun)
    assert days[0]["productive_hours"] == pytest.approx(8 * 24, abs=1)
    # half the handle time on day 2: its busy time per contact is about half of day 1's
    busy = [d["occupancy"] * d["productive_hours"] / d["offered"] for d in days[:2]]
    assert busy[1] / busy[0] == pytest.approx(0.5, rel=0.15)


@pytest.mark.parametrize(("entry", "where", "message"), [
    ([{"day": 2}, {"day": 2}], "calendar[1].day", "listed twice"),
    ([{"day": 1, "schedules": {"b": {"00:00": 1}}}], "calendar[0].schedules.b", "not an agent group"),
    ([{"day": 1, "intraday_profile": [1.0] * 5}], "calendar[0].intraday_profile", "has 5 values"),
])
def test_calendar_mistakes_are_named_at_their_key(entry: list[dict[str, Any]], where: str, message: str) -> None:
    from sandbox import api
    from sandbox.errors import ConfigError

    spec = copy.deepcopy(BASE)
    spec["calendar"] = entry
    with pytest.raises(ConfigError) as found:
        api.load_scenario(spec)
    assert any(p.key == where and message in p.message for p in found.value.problems), found.value.problems
