"""Provides the duration and rate types of the YAML files: ``45s``, ``6m``, ``1.5h``, ``120/h``.

Inside the package every time is in **minutes** and every rate is **per minute**; only the YAML surface and
the reports use other units. Bare numbers are refused for durations (is ``6`` seconds or minutes?) except 0.

The grammar, one for every duration and rate: a number, optional spaces, then a unit: ``s``, ``sec``,
``secs``, ``second(s)``; ``m``, ``min``, ``mins``, ``minute(s)``; ``h``, ``hr``, ``hrs``, ``hour(s)``; ``d``,
``day(s)``. A rate is a number, ``/`` and one of those units. Durations are finite and lie between 0 and a
year; messages quote what was written, never the converted minutes.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_DURATION_UNITS = {
    "s": 1 / 60, "sec": 1 / 60, "secs": 1 / 60, "second": 1 / 60, "seconds": 1 / 60,
    "m": 1.0, "min": 1.0, "mins": 1.0, "minute": 1.0, "minutes": 1.0,
    "h": 60.0, "hr": 60.0, "hrs": 60.0, "hour": 60.0, "hours": 60.0,
    "d": 1440.0, "day": 1440.0, "days": 1440.0,
}
MAX_MINUTES = 366 * 1440.0  # sandbox.config.limits.MAX_DURATION_MINUTES (units sits below config)
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_DURATION_RE = re.compile(rf"^\s*{_NUMBER}\s*([a-z]+)\s*$")
_RATE_RE = re.compile(rf"^\s*{_NUMBER}\s*/\s*([a-z]+)\s*$")
DURATION_HINT = "a duration with a unit, such as 45s, 6m or 1.5h"
RATE_HINT = "a rate with a unit, such as 120/h, 2/min or 3000/day"


def parse_duration(value: Any) -> float:
    """Turn ``45s`` / ``6m`` / ``1.5h`` / ``2d`` into minutes; 0 may be written bare."""
    if isinstance(value, bool):
        raise ValueError(f"expected {DURATION_HINT}")
    if isinstance(value, int | float):
        if value == 0:
            return 0.0
        if isinstance(value, int) and abs(value) > 1e300:  # beyond any float: say so rather than overflow
            raise ValueError("is far too large; write a number with a unit, such as 45s")
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a duration; write a finite number with a unit, such as 45s")
        raise ValueError(f"{value:g} has no unit; write {value:g}s, {value:g}m or {value:g}h")
    if not isinstance(value, str):
        raise ValueError(f"expected {DURATION_HINT}")
    match = _DURATION_RE.match(value.lower())
    if not match or match.group(2) not in _DURATION_UNITS:
        raise ValueError(f"{value!r} is not {DURATION_HINT}")
    minutes = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if minutes < 0:
        raise ValueError(f"{value!r} is negative; durations are 0 or more")
    if not minutes <= MAX_MINUTES:  # also catches 1e400s, which parses as infinity
        raise ValueError(f"{value!r} is longer than a year (366d), the longest duration allowed")
    return minutes


def parse_rate(value: Any) -> float:
    """Turn ``120/h`` / ``2/min`` / ``3000/day`` into a rate per minute."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected {RATE_HINT}")
    if isinstance(value, int | float):
        if value == 0:
            return 0.0
        if isinstance(value, int) and abs(value) > 1e300:  # beyond any float: say so rather than overflow
            raise ValueError("is far too large; write a number with a unit, such as 120/h")
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a rate; write a finite number with a unit, such as 120/h")
        raise ValueError(f"{value:g} has no unit; write {value:g}/h or {value:g}/min")
    match = _RATE_RE.match(value.lower())
    if not match or match.group(2) not in _DURATION_UNITS:
        raise ValueError(f"{value!r} is not {RATE_HINT}")
    rate = float(match.group(1)) / _DURATION_UNITS[match.group(2)]
    if rate < 0:
        raise ValueError(f"{value!r} is negative; rates are 0 or more")
    if not math.isfinite(rate):
        raise ValueError(f"{value!r} is not a finite rate")
    return rate


def _trim(number: float) -> str:
    # 12 significant digits: exact for anything typed by hand, without float noise such as 0.30000000000000004.
    return f"{number:.12g}"


def format_duration(minutes: float) -> str:
    """The shortest exact unit string for a duration in minutes (the inverse of parse_duration)."""
    if minutes == 0:
        return "0s"
    if not math.isfinite(minutes):
        return str(minutes)
    seconds = minutes * 60
    if abs(seconds) < 120 or (abs(seconds - round(seconds)) < 1e-9 and round(seconds) % 60):
        return f"{_trim(seconds)}s"
    if abs(minutes) < 120 or minutes % 60:
        return f"{_trim(minutes)}m"
    return f"{_trim(minutes / 60)}h"


def format_rate(per_minute: float) -> str:
    """A rate per minute as ``N/h`` (the unit planners think in), or per day or minute when that is exact."""
    per_hour = per_minute * 60
    for value, unit in ((per_hour, "h"), (per_minute * 1440, "day"), (per_minute, "min")):
        if abs(value - round(value, 6)) < 1e-9:
            return f"{_trim(value)}/{unit}"
    return f"{_trim(per_hour)}/h"


# The schema accepts what the loader accepts: a string with a unit, or a bare 0.
Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\s*[-+]?[0-9.]+\s*[a-z]+\s*$"}, {"const": 0}],
                    "description": DURATION_HINT}),
]
Rate = Annotated[
    float,
    BeforeValidator(parse_rate),
    PlainSerializer(format_rate, return_type=str, when_used="json"),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\s*[-+]?[0-9.]+\s*/\s*[a-z]+\s*$"}, {"const": 0}],
                    "description": RATE_HINT}),
]
