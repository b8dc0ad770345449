"""Provides service targets: a KPI, a comparison and a value, optionally for one channel.

Written as planners say them: ``service_level>=0.8`` (or ``80%``), ``voice.service_level>=80%``,
``abandonment_rate<=5%``, ``asa<=30s``, ``occupancy<=0.85``. Each target names a KPI of docs/kpis.md (``asa``
is short for ``asa_served``, the industry ASA); staffing holds it in every interval (the workforce-planning
convention) or over the day. Only KPIs that staffing moves can be targets.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Literal

from sandbox.errors import ConfigError, Problem
from sandbox.units import parse_duration

# KPI → (unit of its value, the direction staffing moves it: more agents raise "higher" ones).
TARGET_KPIS: dict[str, tuple[Literal["share", "seconds"], Literal["higher", "lower"]]] = {
    "service_level": ("share", "higher"),
    "queue_abandonment_rate": ("share", "lower"),
    "abandonment_rate": ("share", "lower"),
    "asa_served": ("seconds", "lower"),
    "asa_all": ("seconds", "lower"),
    "occupancy": ("share", "lower"),
}
ALIASES = {"asa": "asa_served", "sl": "service_level", "abandonment": "abandonment_rate"}
CHANNELS = ("voice", "chat")
PER_CHANNEL = {"service_level", "queue_abandonment_rate", "abandonment_rate", "asa_served", "asa_all"}

_TARGET_RE = re.compile(r"^\s*(?:(?P<channel>[a-z]+)\.)?(?P<kpi>[a-z_]+)\s*(?P<op><=|>=)\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class Target:
    kpi: str
    op: Literal[">=", "<="]
    value: float  # a share in [0, 1], or seconds
    channel: str | None = None
    text: str = ""  # as written, for messages

    def met(self, observed: float) -> bool:
        """Whether a measured value meets the target (nan, nothing measured, meets it: no contacts, no miss)."""
        if observed != observed:
            return True
        return observed >= self.value if self.op == ">=" else observed <= self.value

    @property
    def label(self) -> str:
        unit, _ = TARGET_KPIS[self.kpi]
        shown = f"{self.value:g} s" if unit == "seconds" else f"{100 * self.value:g}%"
        return f"{self.channel + ' ' if self.channel else ''}{self.kpi} {self.op} {shown}"


def parse_target(text: str) -> Target:
    """One target from its text; ConfigError naming the problem and what would be right."""
    where = f"--target {text}"
    match = _TARGET_RE.match(text.lower())
    if match is None:
        raise ConfigError([Problem(where, None, "", "is not a target",
                                   "write KPI>=VALUE or KPI<=VALUE, e.g. service_level>=0.8, voice.asa<=30s")])
    kpi = ALIASES.get(match["kpi"], match["kpi"])
    channel, op, raw = match["channel"], match["op"], match["value"]
    problems = []
    if kpi not in TARGET_KPIS:
        close = difflib.get_close_matches(kpi, [*TARGET_KPIS, *ALIASES], n=1, cutoff=0.6)
        problems.append(Problem(where, None, match["kpi"], "cannot be a staffing target",
                                f"did you mean {close[0]!r}?" if close else
                                f"choose from {', '.join(sorted(TARGET_KPIS))} (or asa)"))
    if channel is not None and channel not in CHANNELS:
        problems.append(Problem(where, None, channel, "is not a channel", "voice or chat"))
    if problems:
        raise ConfigError(problems)
    unit, better = TARGET_KPIS[kpi]
    if channel is not None and kpi not in PER_CHANNEL:
        raise ConfigError([Problem(where, None, kpi, "is not measured per channel", "leave out the channel")])
    expected = ">=" if better == "higher" else "<="
    if op != expected:
        raise ConfigError([Problem(where, None, kpi, f"more agents make it {better}, so a target is {kpi}"
                                   f"{expected}VALUE", None)])
    try:
        if unit == "seconds":
            value = parse_duration(raw) * 60
        elif raw.endswith("%"):
            value = float(raw[:-1]) / 100
        else:
            value = float(raw)
    except ValueError as exc:
        hint = "a duration such as 30s or 1m" if unit == "seconds" else "a share such as 0.8 or 80%"
        raise ConfigError([Problem(where, None, kpi, f"{raw!r} is not {hint}",
                                   str(exc) if unit == "seconds" else None)]) from None
    if unit == "share" and not 0 < value < 1:
        raise ConfigError([Problem(where, None, kpi, f"{raw} is not a share between 0 and 1 (exclusive)",
                                   "e.g. 0.8 or 80%")])
    if unit == "seconds" and value <= 0:
        raise ConfigError([Problem(where, None, kpi, "must be more than 0 s", None)])
    return Target(kpi, op, value, channel, text)  # type: ignore[arg-type]


def parse_targets(texts: list[str]) -> list[Target]:
    """Every target, with every problem reported at once."""
    found, problems = [], []
    for text in texts:
        try:
            found.append(parse_target(text))
        except ConfigError as exc:
            problems += exc.problems
    if not texts:
        problems.append(Problem("--target", None, "", "no target given",
                                "e.g. --target service_level>=0.8 --target abandonment_rate<=5%"))
    if problems:
        raise ConfigError(problems)
    return found


def parse_share(text: str | float, where: str, allow_zero: bool = True) -> float:
    """``0.3`` or ``30%`` as a share in [0, 1); ConfigError naming ``where`` otherwise."""
    try:
        raw = str(text).strip()
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        value = math.nan
    if not (0 <= value < 1) or (value == 0 and not allow_zero):
        raise ConfigError([Problem(where, None, "", f"{text!r} is not a share between 0 and 1",
                                   "e.g. 0.3 or 30%")])
    return value


def parse_service_target(text: str, where: str = "--target") -> tuple[float, float]:
    """``0.8@20s`` or ``80%@20s``: (share, threshold in minutes)."""
    share, at, threshold = str(text).partition("@")
    if not at:
        raise ConfigError([Problem(where, None, "", f"{text!r} is not a service-level target",
                                   "write SHARE@TIME, e.g. 0.8@20s or 80%@20s")])
    value = parse_share(share, where, allow_zero=False)
    try:
        minutes = parse_duration(threshold.strip())
    except ValueError as exc:
        raise ConfigError([Problem(where, None, "", str(exc), "e.g. 0.8@20s")]) from None
    return value, minutes


def parse_precision(text: str, kpis: dict[str, str]) -> tuple[str, float]:
    """``service_level=0.01`` (or ``1%``), ``asa_served=2s``: a KPI (``kpis``: name → unit) and the 95%
    half-width to replicate down to, in the KPI's own unit (shares as fractions, times in seconds)."""
    where = f"--precision {text}"
    kpi, eq, raw = str(text).partition("=")
    kpi, raw = ALIASES.get(kpi.strip(), kpi.strip()), raw.strip()
    if not eq or not raw:
        raise ConfigError([Problem(where, None, "", "is not KPI=HALF_WIDTH", "e.g. service_level=0.01")])
    if kpi not in kpis:
        close = difflib.get_close_matches(kpi, list(kpis), n=1, cutoff=0.6)
        raise ConfigError([Problem(where, None, kpi, "is not a KPI", f"did you mean {close[0]!r}?" if close
                                   else "see `support-sandbox kpis`")])
    try:
        if kpis[kpi] == "seconds":
            value = parse_duration(raw) * 60
        else:
            value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw.lstrip("$"))
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError([Problem(where, None, kpi, f"{raw!r} is not a half-width above 0",
                                   "e.g. 0.01 for a share, 2s for a time")])
    return kpi, value
