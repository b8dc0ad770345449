"""sandbox.units: durations and rates with units, their parsing, formatting and refusals."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sandbox.units import Duration, Rate, format_duration, format_rate, parse_duration, parse_rate

# ---------------------------------------------------------------------------------------------------------
# parse_duration


@pytest.mark.parametrize(("text", "minutes"), [
    ("45s", 0.75), ("45 s", 0.75), (" 45sec ", 0.75), ("90 seconds", 1.5), ("1 second", 1 / 60),
    ("6m", 6.0), ("6min", 6.0), ("6 minutes", 6.0), ("1 minute", 1.0),
    ("1.5h", 90.0), ("2hr", 120.0), ("3 hours", 180.0), ("1 hour", 60.0),
    ("2d", 2880.0), ("1 day", 1440.0), ("0.5days", 720.0),
    (".5h", 30.0), ("1e2s", 100 / 60), ("6M", 6.0), ("1.5H", 90.0),
    ("0s", 0.0), ("0m", 0.0),
])
def test_parse_duration_units(text: str, minutes: float) -> None:
    assert parse_duration(text) == pytest.approx(minutes, rel=1e-12, abs=0)


@pytest.mark.parametrize("zero", [0, 0.0])
def test_bare_zero_is_the_only_bare_number_accepted(zero: float) -> None:
    assert parse_duration(zero) == 0.0
    assert parse_rate(zero) == 0.0


@pytest.mark.parametrize("number", [1, 6, 45, 0.5, -3, 1e-9])
def test_bare_numbers_are_refused_with_a_suggestion(number: float) -> None:
    with pytest.raises(ValueError, match="has no unit") as info:
        parse_duration(number)
    assert f"{number}s" in str(info.value)
    assert f"{number}m" in str(info.value)
    with pytest.raises(ValueError, match="has no unit") as info:
        parse_rate(number)
    assert f"{number}/h" in str(info.value)


@pytest.mark.parametrize("text", ["45", "0", "5ms", "5 weeks", "5w", "m", "", "  ", "abc", "5/h", "1,5h",
                                  "h5", "5 m s", "--5m", "infm", "nanm"])
def test_parse_duration_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration with a unit"):
        parse_duration(text)


@pytest.mark.parametrize("value", [True, False, None, [1], {"m": 1}, b"5m"])
def test_parse_duration_refuses_booleans_and_other_types(value: object) -> None:
    with pytest.raises(ValueError, match="expected a duration with a unit"):
        parse_duration(value)


@pytest.mark.parametrize("value", [True, False, None, [1], b"5/h"])
def test_parse_rate_refuses_booleans_and_other_types(value: object) -> None:
    with pytest.raises(ValueError, match="expected a rate with a unit"):
        parse_rate(value)


# ---------------------------------------------------------------------------------------------------------
# parse_rate


@pytest.mark.parametrize(("text", "per_minute"), [
    ("120/h", 2.0), ("120 / h", 2.0), ("2/min", 2.0), ("2/m", 2.0), ("3000/day", 3000 / 1440),
    ("1/s", 60.0), ("30/hour", 0.5), ("0/h", 0.0), ("1.5/min", 1.5), ("120/H", 2.0),
])
def test_parse_rate_units(text: str, per_minute: float) -> None:
    assert parse_rate(text) == pytest.approx(per_minute, rel=1e-12, abs=0)


@pytest.mark.parametrize("text", ["120", "120/", "/h", "120 per hour", "5/ms", "1h", "120/week", "a/h"])
def test_parse_rate_refuses_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="is not a rate with a unit"):
        parse_rate(text)


# ---------------------------------------------------------------------------------------------------------
# negative, infinite and over-long values: refused by the parser itself, quoting what was written


class _Fields(BaseModel):
    wait: Duration
    rate: Rate


@pytest.mark.parametrize(("text", "message"), [
    ("-5m", "'-5m' is negative"), ("-0.5 hours", "'-0.5 hours' is negative"),
    ("1e400s", "'1e400s' is longer than a year"), ("367d", "'367d' is longer than a year"),
    ("1e9d", "'1e9d' is longer than a year"), (math.inf, "inf is not a duration"), (math.nan, "nan is not a duration"),
])
def test_impossible_durations_are_refused_quoting_the_input(text: str | float, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_duration(text)


@pytest.mark.parametrize(("text", "message"), [("-120/h", "'-120/h' is negative"), ("1e400/h", "not a finite rate"),
                                               (math.inf, "inf is not a rate")])
def test_impossible_rates_are_refused_quoting_the_input(text: str | float, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_rate(text)


@pytest.mark.parametrize(("text", "minutes"), [("45 secs", 0.75), ("4 mins", 4.0), ("2 hrs", 120.0), ("45sec", 0.75),
                                               ("1 day", 1440.0), ("366d", 366 * 1440.0), ("1.5 Hours", 90.0)])
def test_the_documented_grammar_accepts_plural_and_short_units(text: str, minutes: float) -> None:
    assert parse_duration(text) == pytest.approx(minutes)


def test_negative_duration_is_refused_by_every_distribution_and_field() -> None:
    from sandbox.config.distributions import Deterministic, Exponential
    from sandbox.config.scenario import Horizon

    with pytest.raises(ValidationError, match="'-5m' is negative"):
        Exponential(kind="exponential", mean="-5m")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="'-1s' is negative"):
        Deterministic(kind="deterministic", value="-1s")
    with pytest.raises(ValidationError, match="'-2h' is negative"):
        Horizon(warm_up="-2h")  # type: ignore[arg-type]


def test_annotated_types_validate_and_serialise_with_units() -> None:
    model = _Fields(wait="90s", rate="120/h")  # type: ignore[arg-type]
    assert model.wait == 1.5
    assert model.rate == 2.0
    assert model.model_dump(mode="json") == {"wait": "90s", "rate": "120/h"}
    assert model.model_dump() == {"wait": 1.5, "rate": 2.0}  # python mode keeps the internal units
    with pytest.raises(ValidationError) as info:
        _Fields(wait=45, rate="120/h")  # type: ignore[arg-type]
    assert "45 has no unit" in str(info.value)


# ---------------------------------------------------------------------------------------------------------
# formatting and round trips


@pytest.mark.parametrize(("minutes", "text"), [
    (0.0, "0s"), (0.75, "45s"), (1.0, "60s"), (1.5, "90s"), (2.0, "2m"), (2.5, "150s"), (6.0, "6m"),
    (90.0, "90m"), (119.0, "119m"), (120.0, "2h"), (150.0, "150m"), (1440.0, "24h"), (7200.5, "432030s"),
    (-3.0, "-3m"), (math.inf, "inf"),
])
def test_format_duration_examples(minutes: float, text: str) -> None:
    assert format_duration(minutes) == text


@pytest.mark.parametrize(("per_minute", "text"), [(2.0, "120/h"), (0.0, "0/h"), (3000 / 1440, "125/h"),
                                                  (0.5, "30/h")])
def test_format_rate_examples(per_minute: float, text: str) -> None:
    assert format_rate(per_minute) == text


@given(st.floats(min_value=0, max_value=366 * 1440, allow_nan=False, allow_infinity=False))
def test_duration_round_trip_to_six_significant_digits(minutes: float) -> None:
    text = format_duration(minutes)
    assert parse_duration(text) == pytest.approx(minutes, rel=1e-5, abs=1e-300)


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_rate_round_trip_to_six_significant_digits(per_minute: float) -> None:
    assert parse_rate(format_rate(per_minute)) == pytest.approx(per_minute, rel=1e-5, abs=1e-300)


@given(st.sampled_from([("s", 10**5), ("m", 10**5), ("h", 366 * 24), ("d", 366)]), st.data())
def test_realistic_unit_strings_round_trip_exactly(unit_and_max: tuple[str, int], data: st.DataObject) -> None:
    """What people write (whole amounts up to a year) comes back as the same value after formatting."""
    unit, largest = unit_and_max
    amount = data.draw(st.integers(min_value=0, max_value=largest))
    minutes = parse_duration(f"{amount}{unit}")
    assert parse_duration(format_duration(minutes)) == pytest.approx(minutes, rel=1e-12, abs=0)


@given(st.integers(min_value=0, max_value=10**5))
def test_whole_seconds_under_two_minutes_format_as_seconds(seconds: int) -> None:
    text = format_duration(seconds / 60)
    if seconds == 0:
        assert text == "0s"
    elif seconds < 120 or seconds % 60:
        assert text == f"{seconds}s"
    else:
        assert not text.endswith("s")
        assert parse_duration(text) == pytest.approx(seconds / 60, rel=1e-12)


def test_format_duration_is_exact_for_whole_seconds() -> None:
    minutes = parse_duration("1234567s")
    assert parse_duration(format_duration(minutes)) == minutes
