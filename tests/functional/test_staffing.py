"""Agents on duty follow the opening hours, the groups' schedules and the policy's staffing, with or without a
warm-up and whatever weekday the horizon starts on."""

from __future__ import annotations

import copy

import pytest
from conftest import NO_BOT, SEED, SMALL_SCENARIO
from validation.replications import plan_of

from sandbox.engine.run import simulate

HOURLY_COST = 40.0  # AgentGroup.hourly_cost default


def scenario(start: str, warm_up: str | int) -> dict:
    s = copy.deepcopy(SMALL_SCENARIO)
    s["horizon"].update(days=2, start=start, warm_up=warm_up)
    s["hours"] = {"default": "08:00-18:00", "sunday": "closed", "saturday": "10:00-14:00", "at_closing": "clear"}
    s["agents"]["groups"]["service"] = {"skills": ["general"], "schedule": {"00:00": 1, "09:00": 2, "12:00": 5}}
    return s  # billing keeps its flat headcount of 2


def expected_on_duty(weekday: str, scale: float) -> list[float | None]:
    """Agents on duty per clock hour; None for hours whose count depends on contacts (the closing hour)."""
    def scaled(n: int) -> int:
        return int(n * scale + 0.5)  # Staffing.scale rounds to whole agents

    out: list[float | None] = [0.0] * 24
    if weekday == "sunday":
        return out
    first, last = (10, 14) if weekday == "saturday" else (8, 18)
    for hour in range(first, last):
        service = scaled(1) if hour < 9 else scaled(2) if hour < 12 else scaled(5)
        out[hour] = float(service + scaled(2))
    out[last] = None  # with at_closing: clear, agents still finish the contact in hand after closing
    return out


@pytest.mark.parametrize("warm_up", [0, "3h", "1d"])
@pytest.mark.parametrize(("start", "second"), [("monday", "tuesday"), ("saturday", "sunday"), ("sunday", "monday")])
@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_agents_on_duty_follow_hours_schedule_and_scale(start: str, second: str, warm_up: str | int,
                                                        scale: float) -> None:
    policy = copy.deepcopy(NO_BOT)
    policy["staffing"] = {"scale": scale}
    result = simulate(plan_of(scenario(start, warm_up), policy), SEED, 0)
    on_duty = result.series["agents_on_duty"]
    expected = expected_on_duty(start, scale) + expected_on_duty(second, scale)
    for hour, (got, want) in enumerate(zip(on_duty, expected, strict=True)):
        if want is not None:
            assert got == pytest.approx(want, abs=1e-9), f"hour {hour}: {got} agents on duty, expected {want}"
    scheduled = sum(w for w in expected if w is not None)
    late = sum(got for got, want in zip(on_duty, expected, strict=True) if want is None)
    assert result.kpis["agent_hours"] == pytest.approx(scheduled + late, rel=1e-12)
    assert result.kpis["agent_cost"] == pytest.approx(HOURLY_COST * result.kpis["agent_hours"], rel=1e-12)


def test_at_closing_serve_keeps_only_the_staff_on_duty_at_closing():
    """Five agents start 90-minute calls at 11:00; four of their shifts end at 11:15, while the calls last. At
    12:00 humans close with at_closing: serve. When the calls end at 12:30 the one agent on duty at closing
    serves the queue out; the four whose shifts had ended go home instead of taking new calls."""
    s = {
        "name": "closing", "horizon": {"days": 1, "interval": "60m"},
        "hours": {"default": "08:00-12:00", "at_closing": "serve"},
        "demand": {"contacts_per_day": 200},
        "channels": {"voice": {"share": 1, "service_level_threshold": "20s"}},
        "segments": {"all": {"share": 1, "patience": {"kind": "deterministic", "value": "2d"}}},
        "intents": {"general": {"share": 1, "handle_time": {"kind": "deterministic", "value": "90m"}}},
        "agents": {"groups": {"team": {"skills": ["general"], "channels": ["voice"],
                                       "schedule": {"08:00": 5, "11:15": 1}}}},
    }
    on_duty = simulate(plan_of(s, NO_BOT), SEED, 0).series["agents_on_duty"]
    assert on_duty[10] == pytest.approx(5)
    assert 1 < on_duty[12] < 5  # all five finish the call in hand, which began soon after 11:00
    assert on_duty[13] == pytest.approx(1)  # only the agent on duty at closing serves the queue out
    assert on_duty[14] == pytest.approx(1)
