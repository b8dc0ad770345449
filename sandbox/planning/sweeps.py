"""Provides sweeps over any field: a grid of values of scenario and policy fields, run on common random numbers.

``--vary policy.automation.share.chat=0:1:0.1`` (start:stop:step, both ends included) or
``--vary scenario.demand.contacts_per_day=1000,1200,1400`` (a list; values as in YAML: ``30s``, ``true``).
Several ``--vary`` make a grid (every combination). Each point is the scenario and policy with those values
set, exactly as ``--set`` would set them, and validated as such; every point meets the same customers, so the
differences between points are paired. The points run as the columns of one comparison (the first point is
the baseline), on any executor. ``tidy`` turns the result into one row per point, KPI and statistic.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

import yaml

from sandbox.config.inputs import PolicyRef, ScenarioRef, load
from sandbox.config.limits import MAX_LIST
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.errors import ConfigError, Problem
from sandbox.experiments import Comparison
from sandbox.metrics.kpis import KPIS

MAX_POINTS = 1_000  # a grid beyond this is a typo in a step more often than a plan


@dataclass(frozen=True)
class Vary:
    key: str  # as written, e.g. policy.automation.share.chat
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        """The short name of the field (its last part) for labels and columns."""
        return self.key.rsplit(".", 1)[-1]


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_vary(text: str) -> Vary:
    where = f"--vary {text}"
    key, eq, raw = text.partition("=")
    key = key.strip()
    if not eq or not key or not raw.strip():
        raise ConfigError([Problem(where, None, "", "is not a field and its values",
                                   "write KEY=START:STOP:STEP or KEY=A,B,C, e.g. policy.automation.share=0:1:0.1")])
    if raw.count(":") == 2:
        try:
            start, stop, step = (_number(part) for part in raw.split(":"))
        except ValueError:
            raise ConfigError([Problem(where, None, key, f"{raw!r} is not START:STOP:STEP with numbers",
                                       "e.g. 0:1:0.1")]) from None
        if step <= 0 or stop < start:
            raise ConfigError([Problem(where, None, key, "needs START ≤ STOP and a STEP above 0", "e.g. 0:1:0.1")])
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_LIST:
            raise ConfigError([Problem(where, None, key, f"makes {count:,} values", "use a larger step")])
        digits = max(0, -math.floor(math.log10(step)) + 2)  # 0.1 steps give 0.3, not 0.30000000000000004
        values: tuple[Any, ...] = tuple(round(start + i * step, digits) for i in range(count))
        if all(float(v).is_integer() for v in values) and all(float(x).is_integer() for x in (start, step)):
            values = tuple(int(v) for v in values)
    else:
        try:
            values = tuple(yaml.safe_load(part.strip()) for part in raw.split(","))
        except yaml.YAMLError:
            raise ConfigError([Problem(where, None, key, f"{raw!r} is not a list of values", "e.g. 1000,1200")]) \
                from None
    return Vary(key, values)


def parse_varies(texts: list[str]) -> list[Vary]:
    found, problems = [], []
    for text in texts:
        try:
            found.append(parse_vary(text))
        except ConfigError as exc:
            problems += exc.problems
    if not texts:
        problems.append(Problem("--vary", None, "", "nothing to vary", "e.g. --vary policy.automation.share=0:1:0.1"))
    points = math.prod(len(v.values) for v in found) if found else 0
    if points > MAX_POINTS:
        problems.append(Problem("--vary", None, "", f"the grid has {points:,} points, more than {MAX_POINTS:,}",
                                "fewer values or fewer fields"))
    if problems:
        raise ConfigError(problems)
    return found


def _text(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


@dataclass
class Grid:
    varies: list[Vary]
    points: list[dict[str, Any]]  # key → value at each point
    labels: list[str]
    scenarios: list[Scenario]
    policies: list[Policy]


def build_grid(scenario: ScenarioRef, policy: PolicyRef, varies: list[Vary], overrides: list[str],
               days: int | None = None) -> Grid:
    """Every point of the grid loaded and validated; every problem at every point reported at once."""
    points = [dict(zip([v.key for v in varies], combo, strict=True))
              for combo in itertools.product(*(v.values for v in varies))]
    scenarios, policies, labels, problems = [], [], [], []
    for point in points:
        sets = [*overrides, *(f"{key}={_text(value)}" for key, value in point.items())]
        try:
            loaded = load(scenario, [policy], sets, days)
        except ConfigError as exc:
            named = {f"--set {key}={_text(value)}": f"--vary {key}={_text(value)}" for key, value in point.items()}
            found = [dataclasses.replace(p, file=named.get(p.file or "", p.file)) for p in exc.problems]
            problems += [p for p in found if p not in problems]
            continue
        scenarios.append(loaded.scenario)
        policies.append(loaded.policies[0])
        labels.append(", ".join(f"{key.rsplit('.', 1)[-1]}={_text(value)}" for key, value in point.items()))
    if problems:
        raise ConfigError(problems)
    return Grid(varies, points, labels, scenarios, policies)


def tidy(comparison: Comparison, grid: Grid) -> list[dict[str, Any]]:
    """One row per point, KPI and statistic (mean, half-width, low, high, replications)."""
    rows = []
    for p, point in enumerate(grid.points):
        for kpi in KPIS:
            est = comparison.estimate(p, kpi)
            base = {**{v.key: point[v.key] for v in grid.varies}, "kpi": kpi}
            for statistic, value in (("mean", est.mean), ("half_width", est.half_width), ("low", est.low),
                                     ("high", est.high), ("replications", est.n)):
                rows.append({**base, "statistic": statistic, "value": value})
    return rows


@dataclass
class Sweep:
    """A grid's results: the comparison whose columns are the points, and the grid that made them."""

    comparison: Comparison
    grid: Grid

    def rows(self) -> list[dict[str, Any]]:
        return tidy(self.comparison, self.grid)

    def to_dict(self) -> dict[str, Any]:
        return {"vary": {v.key: list(v.values) for v in self.grid.varies}, "points": self.grid.points,
                "rows": self.rows(), "comparison": self.comparison.to_dict()}
