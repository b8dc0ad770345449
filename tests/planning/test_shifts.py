"""The shift solver: known optima on small cases (checked by enumeration), coverage always met, the rules
(lengths, grid, breaks) respected, and the CLI's roster."""

from __future__ import annotations

import itertools

import pytest
from typer.testing import CliRunner

from sandbox.cli.main import app
from sandbox.errors import ConfigError
from sandbox.planning.shifts import ShiftRules, on_duty_needed, parse_rules, possible_shifts, roster

HOUR = 60.0


def brute_force(need: list[int], rules: ShiftRules, width: float) -> float:
    """The least paid hours by trying every count (0..max need) of every possible shift."""
    needed = [k for k, n in enumerate(need) if n]
    shifts = possible_shifts(rules, needed[0] * width, (needed[-1] + 1) * width)
    best = float("inf")
    for counts in itertools.product(range(max(need) + 1), repeat=len(shifts)):
        if all(sum(c for s, c in zip(shifts, counts, strict=True) if s.covers(k * width, (k + 1) * width)) >= need[k]
               for k in needed):
            best = min(best, sum(c * s.paid_minutes for s, c in zip(shifts, counts, strict=True)) / 60)
    return best


@pytest.mark.parametrize("need", [
    [0, 0, 2, 2, 2, 2, 0],
    [1, 1, 3, 3, 1, 1],
    [2, 0, 0, 1, 1, 2],
    [1, 2, 1, 2, 1, 2],
])
def test_small_cases_reach_the_optimum(need: list[int]) -> None:
    rules = ShiftRules(lengths=(2 * HOUR, 4 * HOUR), grid=HOUR, break_minutes=0, break_after=float("inf"))
    r = roster("team", need, HOUR, rules)
    assert all(c >= n for c, n in zip(r.coverage, need, strict=True))
    assert r.paid_hours == pytest.approx(brute_force(need, rules, HOUR))


@pytest.mark.parametrize("need", [[0, 2, 2, 2, 2, 2, 2, 0], [1, 1, 2, 2, 2, 2, 1, 1]])
def test_breaks_are_off_the_floor_and_unpaid(need: list[int]) -> None:
    rules = ShiftRules(lengths=(3 * HOUR, 6 * HOUR), grid=HOUR, break_minutes=HOUR, break_after=6 * HOUR)
    r = roster("team", need, HOUR, rules)
    assert all(c >= n for c, n in zip(r.coverage, need, strict=True))
    for shift, _ in r.shifts:
        if shift.length == 6 * HOUR:
            assert shift.break_at is not None
            assert shift.paid_minutes == 5 * HOUR
            assert not shift.covers(shift.break_at, shift.break_at + HOUR)
    assert r.paid_hours == pytest.approx(brute_force(need, rules, HOUR))


def test_shrinkage_scales_the_agents_on_duty() -> None:
    assert on_duty_needed([14, 7, 0], 0.3) == [20, 10, 0]


def test_rules_are_checked() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules("4h,7m", "30m", "30m6h")
    assert {p.file for p in caught.value.problems} == {"--lengths", "--break"}
    with pytest.raises(ConfigError, match="no allowed shift covers"):
        roster("team", [1, 1, 1], HOUR, ShiftRules(lengths=(8 * HOUR,), grid=HOUR))


def test_cli_roster() -> None:
    result = CliRunner().invoke(app, ["shifts", "ecommerce", "-p", "warm-handoff", "-n", "3", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "group,start,end,break,agents,paid_hours"
    assert len(lines) > 3
