"""Provides one-at-a-time sensitivity: every numeric assumption moved down and up, ranked by its effect on a KPI.

Each assumption of the scenario and the policy (a rate, a time, a probability, a cost; not the horizon, the
opening hours, the priorities, or the shares that must add up to 1) is set to (1 − δ) and (1 + δ) times its
value, one at a time, exactly as ``--set`` would set it; a value the validation refuses (a probability above
1) is left out and named. Every point meets the same customers as the base (common random numbers), so each
effect is a paired difference with a 95% interval: an effect whose interval spans 0 is noise and is ranked
after every real one, whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.config.inputs import PolicyRef, ScenarioRef, load
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.errors import ConfigError
from sandbox.experiments import Comparison, Executor
from sandbox.experiments import compare as run_points
from sandbox.metrics.stats import Difference
from sandbox.units import format_duration, parse_duration

# Keys (last part) never moved: structure, not assumptions, or shares that must add up to 1 with others.
FIXED_KEYS = {"share", "priority", "days", "replications", "interval", "warm_up", "concurrency"}
FIXED_SECTIONS = {"horizon", "hours"}


@dataclass
class Effect:
    key: str
    base: Any
    low: Any
    high: Any
    at_low: Difference | None  # KPI at the low value − KPI at the base, paired
    at_high: Difference | None

    @property
    def size(self) -> float:
        return max((abs(d.mean) for d in (self.at_low, self.at_high) if d is not None and d.mean == d.mean),
                   default=0.0)

    @property
    def significant(self) -> bool:
        return any(d is not None and d.significant for d in (self.at_low, self.at_high))


@dataclass
class Sensitivity:
    kpi: str
    delta: float
    comparison: Comparison
    base_value: float
    effects: list[Effect]  # ranked: significant ones by size, then the rest by size
    left_out: dict[str, str] = field(default_factory=dict)  # key → why

    def to_dict(self) -> dict[str, Any]:
        def diff(d: Difference | None) -> dict[str, Any] | None:
            return None if d is None else d.to_dict()

        return {"kpi": self.kpi, "delta": self.delta, "base": self.base_value,
                "replications": self.comparison.complete_replications(), "seed": self.comparison.seed,
                "effects": [{"key": e.key, "base": e.base, "low": e.low, "high": e.high, "at_low": diff(e.at_low),
                             "at_high": diff(e.at_high), "significant": e.significant} for e in self.effects],
                "left_out": self.left_out}


def _leaves(data: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(data, dict):
        return [leaf for k, v in data.items() for leaf in _leaves(v, (*path, str(k)))]
    return [] if isinstance(data, list) else [(path, data)]


def _moved(value: Any, factor: float) -> Any | None:
    """The value times ``factor`` in its own form (a duration stays a duration), or None if it cannot move."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if value == 0:
            return None
        moved = value * factor
        return round(moved) if isinstance(value, int) else float(f"{moved:.6g}")
    if isinstance(value, str):
        try:
            minutes = parse_duration(value)
        except ValueError:
            return None
        return None if minutes == 0 else format_duration(minutes * factor)
    return None


def assumptions(scenario: Scenario, policy: Policy) -> list[tuple[str, Any]]:
    """Every numeric assumption as (dotted key with scenario./policy. prefix, value)."""
    out = []
    for prefix, model in (("scenario", scenario), ("policy", policy)):
        for path, value in _leaves(model.model_dump(mode="json", by_alias=True)):
            if not path or path[0] in FIXED_SECTIONS or path[-1] in FIXED_KEYS or path[0] == "$schema":
                continue
            if path[0] == "agents" and "schedule" in path:  # the staffing: policy.staffing.scale moves it whole
                continue
            if _moved(value, 1.1) is not None:
                out.append((".".join((prefix, *path)), value))
    if policy.automation.share:  # the bot share is the policy's main lever: moved as one number if it is one
        out += [("policy.automation.share", policy.automation.share)] if isinstance(policy.automation.share,
                                                                                       float) else []
    return out


def sensitivity(scenario: ScenarioRef, policy: PolicyRef, kpi: str, delta: float = 0.2,
                replications: int | None = None, seed: int = 0, overrides: list[str] | None = None,
                days: int | None = None, executor: Executor | None = None, workers: int | None = None,
                on_result: Callable[[Comparison], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> Sensitivity:
    base = load(scenario, [policy], overrides or [], days)
    points: list[tuple[str, str, Any]] = []  # (key, "low"/"high", value)
    scenarios, policies, labels = [base.scenario], [base.policies[0]], ["base"]
    left_out: dict[str, str] = {}
    keys = assumptions(base.scenario, base.policies[0])
    for key, value in keys:
        for side, factor in (("low", 1 - delta), ("high", 1 + delta)):
            moved = _moved(value, factor)
            if moved is None or moved == value:
                left_out.setdefault(key, "too small to move by a whole unit")
                continue
            try:
                loaded = load(scenario, [policy], [*(overrides or []), f"{key}={moved}"], days)
            except ConfigError as exc:
                left_out[key] = f"{side} value {moved} refused: {exc.problems[0].message}"
                continue
            scenarios.append(loaded.scenario)
            policies.append(loaded.policies[0])
            labels.append(f"{key} {side}")
            points.append((key, side, moved))
    c = run_points(base.scenario, policies, labels, seed=seed, replications=replications, executor=executor,
                   workers=workers, on_result=on_result, should_stop=should_stop, scenarios=scenarios,
                   overrides=[*(overrides or []), f"sensitivity {kpi} ±{100 * delta:g}%"])
    effects: dict[str, Effect] = {}
    for column, (key, side, moved) in enumerate(points, start=1):
        found = effects.setdefault(key, Effect(key, dict(keys)[key], None, None, None, None))
        diff = c.difference(column, kpi) if c.finished(column) else None
        if side == "low":
            found.low, found.at_low = moved, diff
        else:
            found.high, found.at_high = moved, diff
    ranked = sorted(effects.values(), key=lambda e: (not e.significant, -e.size))
    # A key moved one way only (the other refused) keeps its one effect; one never moved is named instead.
    return Sensitivity(kpi, delta, c, c.estimate(0, kpi).mean, ranked,
                       {k: v for k, v in left_out.items() if k not in effects})
