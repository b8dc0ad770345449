"""sandbox.presentation: how KPI values and interval half-widths are written for people, by unit."""

from __future__ import annotations

import math

import pytest

from sandbox.metrics.kpis import HEADLINE, KPIS
from sandbox.presentation import format_half_width, format_value

# one KPI of each unit
SHARE, SECONDS, MINUTES, MONEY, COUNT, INDEX = ("csat", "asa_served", "resolution_time_mean", "total_cost",
                                                "offered", "frustration_mean")


def test_the_examples_cover_every_unit() -> None:
    chosen = {SHARE: "share", SECONDS: "seconds", MINUTES: "minutes", MONEY: "money", COUNT: "count",
              INDEX: "index"}
    assert {k: KPIS[k].unit for k in chosen} == chosen
    assert {k.unit for k in KPIS.values()} == set(chosen.values())


@pytest.mark.parametrize(("kpi", "value", "text"), [
    (SHARE, 0.061, "6.1%"), (SHARE, 1.0, "100.0%"), (SHARE, 0.0, "0.0%"), (SHARE, 0.12345, "12.3%"),
    (SECONDS, 48.4, "48 s"), (SECONDS, 10.0, "10 s"), (SECONDS, 3.84, "3.8 s"), (SECONDS, 0.0, "0.0 s"),
    (SECONDS, 125.6, "126 s"),
    (MINUTES, 6.94, "6.9 min"), (MINUTES, 0.04, "0.0 min"), (MINUTES, 123.45, "123.5 min"),
    (MONEY, 5.8, "$5.80"), (MONEY, 99.5, "$99.50"), (MONEY, 100.0, "$100"), (MONEY, 5606.4, "$5,606"),
    (MONEY, 9999.0, "$9,999"), (MONEY, 10_000.0, "$10.0k"), (MONEY, 24_300.0, "$24.3k"),
    (MONEY, 1_000_000.0, "$1.0M"), (MONEY, 1_530_000.0, "$1.5M"), (MONEY, -4994.0, "-$4,994"),
    (MONEY, -2_500_000.0, "-$2.5M"), (MONEY, 0.0, "$0.00"),
    (COUNT, 1060.0, "1,060"), (COUNT, 15.0, "15"), (COUNT, 10.5, "10.5"), (COUNT, 0.0, "0"),
    (COUNT, 1234567.0, "1,234,567"), (COUNT, 150.4, "150"), (COUNT, 99.44, "99.4"),
    (INDEX, 0.4567, "0.46"), (INDEX, 0.0, "0.00"), (INDEX, 1.0, "1.00"),
])
def test_format_value(kpi: str, value: float, text: str) -> None:
    assert format_value(kpi, value) == text


@pytest.mark.parametrize(("kpi", "value", "text"), [
    (SHARE, 0.088, "+8.8"), (SHARE, -0.018, "-1.8"), (SHARE, 0.0, "0.0"),  # percentage points, no % sign
    (SECONDS, -2.44, "-2.4 s"), (SECONDS, 12.0, "+12 s"),
    (MINUTES, -1.44, "-1.4 min"), (MINUTES, 0.3, "+0.3 min"),
    (MONEY, 4994.0, "+$4,994"), (MONEY, -4994.0, "-$4,994"), (MONEY, 0.21, "+$0.21"), (MONEY, 12_500.0, "+$12.5k"),
    (COUNT, 4.5, "+4.5"), (COUNT, 0.0, "0"), (COUNT, -1234.0, "-1,234"), (COUNT, 250.0, "+250"),
    (INDEX, 0.1, "+0.10"), (INDEX, -0.05, "-0.05"),
])
def test_format_signed_differences(kpi: str, value: float, text: str) -> None:
    assert format_value(kpi, value, signed=True) == text


@pytest.mark.parametrize("kpi", [SHARE, SECONDS, MINUTES, MONEY, COUNT, INDEX])
@pytest.mark.parametrize("signed", [False, True])
def test_missing_values_are_a_dash(kpi: str, signed: bool) -> None:
    assert format_value(kpi, math.nan, signed) == "–"
    assert format_value(kpi, None, signed) == "–"


@pytest.mark.parametrize(("kpi", "half", "text"), [
    # time units are left to the mean printed beside the half-width
    (SHARE, 0.194, "±19.4"), (SECONDS, 16.2, "±16"), (SECONDS, 4.0, "±4.0"), (MINUTES, 0.6, "±0.6"),
    (MONEY, 78_100.0, "±$78.1k"), (MONEY, 77.42, "±$77.42"), (COUNT, 1346.86, "±1,347"), (COUNT, 57.2, "±57.2"),
    (INDEX, 0.05, "±0.05"),
])
def test_format_half_width(kpi: str, half: float, text: str) -> None:
    assert format_half_width(kpi, half) == text


@pytest.mark.parametrize("kpi", [SHARE, SECONDS, MINUTES, MONEY, COUNT, INDEX])
def test_no_half_width_is_empty(kpi: str) -> None:
    assert format_half_width(kpi, math.nan) == ""
    assert format_half_width(kpi, None) == ""
    assert format_half_width(kpi, 0.0) == ""


def test_unknown_kpi_is_an_error() -> None:
    with pytest.raises(KeyError):
        format_value("no_such_kpi", 1.0)


def test_kpi_catalogue_is_consistent() -> None:
    assert all(name == k.name for name, k in KPIS.items())
    assert set(HEADLINE) <= set(KPIS)
    assert all(k.better in (None, "lower", "higher") and k.definition and k.label for k in KPIS.values())


def test_money_just_below_a_million() -> None:
    assert format_value(MONEY, 999_950.0) == "$1.0M"


def _diff(mean: float, half: float, n: int):
    from sandbox.metrics.stats import Difference
    return Difference(mean, half, n)


@pytest.mark.parametrize(("kpi", "mean", "half", "n", "text", "tone"), [
    (SHARE, 0.088, 0.01, 5, "▲ +8.8", "good"),  # csat up: better
    ("abandonment_rate", 0.088, 0.01, 5, "▲ +8.8", "bad"),
    ("occupancy", 0.05, 0.01, 5, "▲ +5.0", "changed"),  # no better direction
    (SHARE, 0.003, 0.01, 5, "+0.3 ns", "ns"),
    (SHARE, -0.0004, 0.0001, 20, "▼ -0.04", "bad"),  # significant but below display precision: never -0.0
    (MINUTES, 0.02, 0.01, 20, "▲ +0.02 min", "changed"),  # resolution time is never better or worse
    (SHARE, 0.42, math.nan, 1, "+42.0", "no interval"),  # one replication
    (SHARE, 0.0, 0.0, 5, "", ""),  # identical in every replication
])
def test_a_change_reads_as_its_significance_and_direction(kpi: str, mean: float, half: float, n: int, text: str,
                                                         tone: str) -> None:
    from sandbox.presentation import format_difference
    assert format_difference(kpi, _diff(mean, half, n)) == (text, tone)


def test_rate_intervals_stay_within_the_range_of_a_rate() -> None:
    """Two replications of a service level near 1: the t-interval passes 1; the reported one stops there."""
    from sandbox.metrics.stats import estimate
    wide = estimate([0.99, 0.80])
    assert wide.high > 1
    assert wide.low < 0
    bounded = wide.within(0.0, 1.0)
    assert (bounded.low, bounded.high) == (0.0, 1.0)
    assert bounded.to_dict()["high"] == 1.0
    narrow = estimate([0.90, 0.91, 0.92]).within(0.0, 1.0)
    assert (narrow.low, narrow.high) == (narrow.mean - narrow.half_width, narrow.mean + narrow.half_width)
