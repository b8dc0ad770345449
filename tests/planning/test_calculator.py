"""The Erlang calculator against the published values of queueing-references.md §7–§8."""

from __future__ import annotations

import pytest

from sandbox import api
from sandbox.errors import ConfigError
from sandbox.planning.calculator import calculate, scheduled_for


def test_call_centre_helper_example() -> None:
    """§7.1: 100 calls per 30 min, AHT 180 s, 80/20: 14 agents, 20 scheduled at 30% shrinkage."""
    c = calculate(100 / 30, 3.0, 0.8, 20 / 60, shrinkage=0.3, max_occupancy=0.85)
    assert (c.required, c.scheduled) == (14, 20)
    row = next(r for r in c.rows if r.agents == 14)
    assert row.p_wait == pytest.approx(0.174132, abs=1e-6)
    assert row.service_level == pytest.approx(0.888350, abs=1e-6)
    assert row.asa_seconds == pytest.approx(7.836, abs=1e-3)
    assert row.occupancy == pytest.approx(0.7143, abs=1e-4)
    assert not next(r for r in c.rows if r.agents == 13).meets  # 79.56%
    capped = calculate(100 / 30, 3.0, 0.8, 20 / 60, shrinkage=0.3, max_occupancy=0.70)
    assert (capped.required, capped.scheduled) == (15, 22)  # pyworkforce: raw 15, positions 22


def test_the_48_erlang_example() -> None:
    assert calculate(12.0, 4.0, 0.8, 15 / 60).required == 55  # §7.2


def test_erlang_a_with_patience() -> None:
    """§8.1 (pyworkforce ErlangA): 100 calls / 30 min, AHT 3 min, patience 5 min, N = 14."""
    c = calculate(100 / 30, 3.0, 0.9, 20 / 60, patience_minutes=5.0)
    row = next(r for r in c.rows if r.agents == 14)
    assert row.p_wait == pytest.approx(0.145260, abs=1e-6)
    assert row.p_abandon == pytest.approx(0.013984, abs=1e-6)
    assert row.service_level == pytest.approx(0.916792, abs=1e-6)
    assert c.required == 14  # 13 gives 0.858


def test_scheduled_forgives_float_residue() -> None:
    assert scheduled_for(14, 0.3) == 20
    assert scheduled_for(7, 0.3) == 10
    assert scheduled_for(15, 0.3) == 22


def test_api_reads_units_and_reports_every_problem() -> None:
    c = api.erlang_calculator("200/h", "180s", "80%@20s", shrinkage="30%", max_occupancy="85%")
    assert (c.required, c.scheduled) == (14, 20)
    with pytest.raises(ConfigError) as caught:
        api.erlang_calculator("200", "-3m", "1.2@20s", patience="soon", shrinkage="120%")
    assert [p.file for p in caught.value.problems] == ["--rate", "--aht", "--target", "--patience", "--shrinkage"]
