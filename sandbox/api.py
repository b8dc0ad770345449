"""Provides the one facade every front end uses: load, validate, run, compare, sweep, schema.

Plain functions taking names, paths or models and returning plain data (dataclasses with ``to_dict``), so a
notebook gets exactly what the CLI and TUI get. Nothing here prints or imports a UI library.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from sandbox import catalog, provenance
from sandbox import report as _report
from sandbox.catalog import DEFAULT_BASELINE, DEFAULT_SCENARIO
from sandbox.config import evidence as _evidence
from sandbox.config import limits
from sandbox.config.inputs import (
    Loaded,
    PolicyRef,
    ScenarioRef,
    detect_kind,
    load,
    load_document_data,
    load_policy,
    load_scenario,
    split_overrides,
    unique_labels,
    validate,
)
from sandbox.config.loader import (
    Document,
    Path_,
    apply_override,
    cross_check,
    read_text,
    read_yaml,
    validate_document,
)
from sandbox.config.loader import load as load_model
from sandbox.config.policy import Policy, Staffing
from sandbox.config.scenario import Horizon, Scenario
from sandbox.config.targets import Target, parse_precision, parse_service_target, parse_share, parse_targets
from sandbox.engine.run import Observer
from sandbox.errors import ConfigError, Problem
from sandbox.experiments import (
    Comparison,
    DaskExecutor,
    Executor,
    Pool,
    PoolExecutor,
    SerialExecutor,
    TaskResult,
    default_workers,
    executor_for,
    useful_workers,
)
from sandbox.experiments import checks as _checks
from sandbox.experiments import compare as _compare
from sandbox.experiments.checkfile import CheckFile
from sandbox.experiments.journeys import Customer
from sandbox.experiments.journeys import follow as follow_journeys
from sandbox.export import (
    OutputError,
    json_text,
    parquet_bytes,
    partial_path,
    policy_yaml,
    tidy_rows,
    to_csv,
    to_json,
    to_markdown,
    write_atomic,
)
from sandbox.insights import Insight, explain
from sandbox.metrics.kpis import HEADLINE, KPI, KPIS
from sandbox.planning import backtest as _backtest
from sandbox.planning import calibrate as _calibration
from sandbox.planning import optimise as _optimise
from sandbox.planning.backtest import Backtest
from sandbox.planning.calculator import Calculation, calculate
from sandbox.planning.demand import COLUMNS as DEMAND_COLUMNS
from sandbox.planning.demand import DemandRow, demand_rows
from sandbox.planning.optimise import Candidate, Search
from sandbox.planning.sensitivity import Sensitivity
from sandbox.planning.sensitivity import sensitivity as run_sensitivity
from sandbox.planning.shifts import Roster, ShiftRules, parse_rules, rosters
from sandbox.planning.staffing import StaffingPlan
from sandbox.planning.staffing import staff as plan_staffing
from sandbox.planning.sweeps import Sweep, Vary, build_grid, parse_varies
from sandbox.units import parse_duration, parse_rate

# The front ends (sandbox.cli, sandbox.tui) import the package only through this module, sandbox.errors and
# sandbox.presentation (tests/unit/test_layers.py keeps it so): what they use of the lower layers is named here.
__all__ = [
    "BACKTEST_MEASURES",
    "DEFAULT_BASELINE",
    "DEFAULT_SCENARIO",
    "HEADLINE",
    "KPI",
    "KPIS",
    "SWEEP_KPIS",
    "SWEEP_SHARES",
    "Backtest",
    "BotEvidence",
    "Calculation",
    "Candidate",
    "CheckReport",
    "Comparison",
    "Customer",
    "DaskExecutor",
    "Demand",
    "Document",
    "Entry",
    "Executor",
    "Horizon",
    "Insight",
    "Loaded",
    "OutputError",
    "Path_",
    "Policy",
    "PolicyRef",
    "Pool",
    "PoolExecutor",
    "Problem",
    "Roster",
    "Scenario",
    "ScenarioRef",
    "Search",
    "Sensitivity",
    "SerialExecutor",
    "ShiftPlan",
    "ShiftRules",
    "StaffingPlan",
    "Sweep",
    "Target",
    "TaskResult",
    "apply_override",
    "backtest",
    "bot_evidence",
    "builtin_dir",
    "calibrate",
    "catalogue",
    "check",
    "commented",
    "compare",
    "configuration_reference",
    "contact_log",
    "cross_check",
    "default_policies",
    "demand",
    "detect_kind",
    "erlang_calculator",
    "explain",
    "footer",
    "journeys",
    "json_text",
    "limits",
    "load",
    "load_document_data",
    "load_policy",
    "load_scenario",
    "optimise",
    "parquet_bytes",
    "parse_space",
    "partial_path",
    "policies",
    "policy_yaml",
    "report",
    "reproduce",
    "resolve",
    "run",
    "scenarios",
    "schema",
    "sensitivity",
    "shifts",
    "split_overrides",
    "staff",
    "sweep",
    "sweep_automation",
    "tidy_rows",
    "to_csv",
    "to_json",
    "to_markdown",
    "validate",
    "validate_document",
    "write_atomic",
]

builtin_dir, resolve, default_policies = catalog.builtin_dir, catalog.resolve, catalog.default_policies
BACKTEST_MEASURES = _backtest.MEASURES
footer, commented = provenance.footer, provenance.commented


def compare(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policies: Sequence[PolicyRef] | None = None,
            baseline: str | int | None = None, replications: int | None = None, seed: int = 0,
            days: int | None = None, overrides: Iterable[str] = (), workers: int | None = None,
            on_result: Callable[[Comparison], None] | None = None,
            should_stop: Callable[[], bool] = lambda: False, observer: Observer | None = None,
            labels: Sequence[str] | None = None, pool: Pool | None = None,
            executor: Executor | None = None, equal_service: Sequence[str | Target] | None = None,
            on_step: Callable[[str], None] | None = None, precision: str | None = None,
            max_replications: int | None = None) -> Comparison:
    """Run every policy on the same seeds and compare them with a baseline (default: the first policy).

    ``on_result`` is called with the growing Comparison after each finished replication; ``should_stop``
    is polled between replications; Ctrl-C or a stop returns what finished, marked ``cancelled``.
    ``labels`` names the policies (default: file stems, or names of policies given as models). A ``pool``
    (``Pool(workers)``, started once, reused) runs the replications in its worker processes; any other
    ``executor`` (sandbox.experiments.Executor) may be given instead.

    ``equal_service`` (targets such as ``service_level>=0.8``) first staffs every policy to those targets
    (``staff``; ``on_step`` hears each simulation of the searches), then compares them so: the question is
    then what each policy costs for the same service, not how it serves with the same agents.

    ``precision`` (``KPI=HALF_WIDTH``, e.g. ``service_level=0.01``) replicates on until every policy's 95%
    interval of that KPI is that narrow, up to ``max_replications`` (default ten times the start, at least 100).
    """
    overrides = list(overrides)
    problems: list[Problem] = []
    goals = (_gather(problems, _targets, equal_service) or []) if equal_service is not None else []
    narrow = _gather(problems, _precision, precision) if precision is not None else None
    try:
        loaded = load(scenario, policies, overrides, days)
    except ConfigError as exc:
        raise ConfigError(problems + exc.problems) from None
    if problems:
        raise ConfigError(problems)
    cap = max_replications or _cap(replications or loaded.scenario.horizon.replications)
    if not loaded.policies:
        raise ConfigError(loaded.skipped or [Problem(None, None, "", "no policies to compare",
                                                     "name at least one policy")])
    names = list(labels) if labels is not None else loaded.labels
    if isinstance(baseline, str) and baseline not in names and loaded.skipped:
        left_out = [p for p in loaded.skipped if p.file and Path(p.file).stem == baseline]
        if left_out:
            raise ConfigError(left_out)  # the baseline asked for is a file with problems: say which
    base = _baseline_index(baseline, names)
    run_policies, scenarios, notes = loaded.policies, None, list[str]()
    if equal_service is not None:
        run_policies, scenarios, notes = _staff_each([(loaded.scenario, p) for p in loaded.policies], goals,
                                                     replications, seed, workers, executor, pool, should_stop,
                                                     on_step)
        if scenarios is None:  # stopped while staffing: an empty comparison, marked cancelled
            run_policies, scenarios, should_stop = loaded.policies, None, lambda: True
    comparison = _compare(loaded.scenario, run_policies, names, baseline=base, seed=seed,
                          replications=replications, workers=workers, executor=executor, on_result=on_result,
                          should_stop=should_stop, observer=observer, pool=pool,
                          overrides=overrides + ([f"horizon.days={days}"] if days is not None else []),
                          scenarios=scenarios, precision=narrow, max_replications=cap)
    comparison.equal_service = [t.text or t.label for t in goals]
    comparison.incidents += notes
    by_file: dict[str | None, list[Problem]] = {}
    for problem in loaded.skipped:
        by_file.setdefault(problem.file, []).append(problem)
    comparison.incidents[:0] = [
        f"left out {found[0].location()}: {found[0].key + ': ' if found[0].key else ''}{found[0].message}"
        + (f" (and {len(found) - 1} more)" if len(found) > 1 else "") + f"; `support-sandbox validate {file}` "
        "lists every problem" for file, found in by_file.items()]
    return comparison


def _gather(problems: list[Problem], parse: Callable[..., Any], *args: Any) -> Any:
    """``parse(*args)``, or None with its problems added to ``problems``: every mistake is reported at once."""
    try:
        return parse(*args)
    except ConfigError as exc:
        problems += exc.problems
        return None


def _precision(text: str) -> tuple[str, float]:
    return parse_precision(text, {k.name: k.unit for k in KPIS.values()})


def _cap(start: int) -> int:
    """How far --precision may replicate: ten times the start, at least 100, within the limit."""
    return min(limits.MAX_REPLICATIONS, max(10 * start, 100))


def _targets(given: Sequence[str | Target]) -> list[Target]:
    """Targets as given (text parsed); none given: service_level>=0.8, the industry's 80/20."""
    texts = [t for t in given if not isinstance(t, Target)]
    found = [t for t in given if isinstance(t, Target)]
    return found + parse_targets(texts) if texts or found else parse_targets(["service_level>=0.8"])


def sweep(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policy: PolicyRef = catalog.DEFAULT_BASELINE,
          vary: Sequence[str] = (), replications: int | None = None, seed: int = 0, days: int | None = None,
          overrides: Iterable[str] = (), workers: int | None = None, executor: Executor | None = None,
          equal_service: Sequence[str | Target] | None = None, on_result: Callable[[Sweep], None] | None = None,
          should_stop: Callable[[], bool] = lambda: False, on_step: Callable[[str], None] | None = None,
          observer: Observer | None = None, precision: str | None = None,
          max_replications: int | None = None) -> Sweep:
    """A grid over any fields (``--vary KEY=START:STOP:STEP`` or ``KEY=A,B,C``), every point on the same seeds
    (sandbox.planning.sweeps); at equal service each point is staffed to the targets first. ``on_result`` gets
    the growing sweep after each finished replication, as ``compare`` gives its growing comparison."""
    problems: list[Problem] = []
    varies: list[Vary] = _gather(problems, parse_varies, list(vary)) or []
    narrow = _gather(problems, _precision, precision) if precision is not None else None
    goals = (_gather(problems, _targets, equal_service) or []) if equal_service is not None else []
    if problems:
        raise ConfigError(problems)
    grid = build_grid(scenario, policy, varies, list(overrides), days)
    policies, scenarios, notes = grid.policies, grid.scenarios, list[str]()
    stop = should_stop
    if equal_service is not None:
        staffed_policies, staffed, notes = _staff_each(list(zip(grid.scenarios, grid.policies, strict=True)), goals,
                                                       replications, seed, workers, executor, None, should_stop,
                                                       on_step)
        if staffed is None:  # stopped while staffing: an empty sweep, marked cancelled
            stop = lambda: True  # noqa: E731
        else:
            policies, scenarios = staffed_policies, staffed
    report = None if on_result is None else lambda comparison: on_result(Sweep(comparison, grid))
    comparison = _compare(grid.scenarios[0], policies, grid.labels, seed=seed, replications=replications,
                          workers=workers, executor=executor, on_result=report, should_stop=stop,
                          observer=observer, overrides=[*overrides, *(f"--vary {v}" for v in vary)],
                          scenarios=scenarios, precision=narrow,
                          max_replications=max_replications
                          or _cap(replications or grid.scenarios[0].horizon.replications))
    comparison.equal_service = [t.text or t.label for t in goals]
    comparison.incidents += notes
    return Sweep(comparison, grid)


def _staff_each(pairs: list[tuple[Scenario, Policy]], goals: list[Target], replications: int | None, seed: int,
                workers: int | None, executor: Executor | None, pool: Pool | None, should_stop: Callable[[], bool],
                on_step: Callable[[str], None] | None) -> tuple[list[Policy], list[Scenario] | None, list[str]]:
    """Every (scenario, policy) staffed to the targets on the comparison's seeds; the policy's own staffing
    override cleared, since the search decides the staffing. Targets out of reach are said in words."""
    reps = replications or pairs[0][0].horizon.replications
    with _search_executor(pairs[0][0], reps, workers, executor, pool) as searching:
        return _staff_all(pairs, goals, reps, seed, searching, should_stop, on_step)


@contextlib.contextmanager
def _search_executor(scenario: Scenario, reps: int, workers: int | None, executor: Executor | None,
                     pool: Pool | None) -> Iterator[Executor]:
    """The executor a search runs its many simulations on: the one given, else a process pool started once
    for the whole search (not once per simulation), or this process for small jobs."""
    if executor is not None:
        yield executor
        return
    n = useful_workers(workers if workers is not None else default_workers(scenario, reps), reps)
    if pool is not None or n <= 1:
        yield executor_for(n, reps, pool=pool)
        return
    own = Pool(n)
    try:
        yield PoolExecutor(pool=own)
    finally:
        own.close()


def _staff_all(pairs: list[tuple[Scenario, Policy]], goals: list[Target], reps: int, seed: int, executor: Executor,
               should_stop: Callable[[], bool],
               on_step: Callable[[str], None] | None) -> tuple[list[Policy], list[Scenario] | None, list[str]]:
    cleared: list[Policy] = []
    scenarios: list[Scenario] = []
    notes: list[str] = []
    for scenario, policy in pairs:
        plain = policy.model_copy(update={"staffing": Staffing()})

        def step(what: str, name: str = policy.name) -> None:
            if on_step is not None:
                on_step(f"staffing {name}: {what}")

        plan = plan_staffing(scenario, plain, goals, reps, seed, executor, should_stop, step)
        if plan.cancelled:
            return cleared, None, notes
        cleared.append(plain)
        scenarios.append(plan.applied_to(scenario))
        notes += [f"{policy.name}: {goal} is out of reach in {len(ks)} intervals ({plan.reasons.get(goal, '')}); "
                  "staffed for the other targets there" for goal, ks in plan.out_of_reach.items()]
        if not plan.converged:
            notes.append(f"{policy.name}: the staffing search stopped after {plan.simulations} simulations "
                         "without settling")
    return cleared, scenarios, notes


def _baseline_index(baseline: str | int | None, labels: list[str]) -> int:
    if baseline is None:
        return 0
    if isinstance(baseline, int):
        return baseline
    if baseline in labels:
        return labels.index(baseline)
    close = difflib.get_close_matches(baseline, labels, n=1, cutoff=0.5)
    raise ConfigError([Problem("--baseline", None, baseline, "is not one of the compared policies",
                               f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(labels)}")])


def run(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policy: PolicyRef = catalog.DEFAULT_BASELINE,
        **kwargs: Any) -> Comparison:
    """Replications of a single policy (a comparison with one column)."""
    return compare(scenario, [policy], **kwargs)


@dataclass(frozen=True)
class Demand:
    """The demand a policy leaves for humans, per queue and interval (sandbox.planning.demand)."""

    comparison: Comparison  # the replications it was measured on (provenance, cancelled)
    rows: list[DemandRow]
    columns: tuple[str, ...] = DEMAND_COLUMNS

    def to_dict(self) -> dict[str, Any]:
        c = self.comparison
        return {"scenario": c.scenario, "policy": c.names[0], "replications": len(c.finished(0)),
                "seed": c.seed, "cancelled": c.cancelled, "rows": [r.to_dict() for r in self.rows],
                "provenance": provenance.record(c)}


def demand(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policy: PolicyRef = catalog.DEFAULT_BASELINE,
           **kwargs: Any) -> Demand:
    """Per queue (skill and channel) and interval: contacts that reach agents under ``policy``, their mean
    handle time and concurrency, with 95% intervals (the file a workforce tool imports). ``kwargs`` as
    ``compare``'s; an interrupted run gives the rows of the replications that finished."""
    c = compare(scenario, [policy], **kwargs)
    assert c.scenario_model is not None
    return Demand(c, demand_rows(c, c.scenario_model) if c.finished(0) else [])


SWEEP_SHARES = tuple(i / 10 for i in range(11))
SWEEP_KPIS = ("bot_resolution_rate", "abandonment_rate", "service_level", "csat", "agent_hours", "total_cost",
              "cost_per_resolved")


def sweep_automation(scenario: ScenarioRef, policy: PolicyRef, shares: Sequence[float] = SWEEP_SHARES,
                     replications: int = 5, seed: int = 0, overrides: Iterable[str] = (),
                     should_stop: Callable[[], bool] = lambda: False, pool: Pool | None = None) -> Comparison:
    """The policy with the bot share set to each value (every channel), compared on common random numbers."""
    loaded = load(scenario, [policy], overrides)
    base = loaded.policies[0]
    variants = [base.model_copy(update={"automation": base.automation.model_copy(update={"share": float(s)})})
                for s in shares]
    labels = [f"{round(100 * s)}%" for s in shares]
    return _compare(loaded.scenario, variants, labels, seed=seed, replications=replications, workers=1,
                    should_stop=should_stop, pool=pool, overrides=list(overrides))


def reproduce(path: str | Path, workers: int | None = None,
              on_result: Callable[[Comparison], None] | None = None, observer: Observer | None = None) -> Comparison:
    """Run again the comparison an exported file (JSON, CSV, Markdown, text table) records in its provenance:
    the same inputs as they ran, seed and replications, so the same numbers."""
    shown = str(path)
    record = provenance.read(read_text(Path(path), MAX_EXPORT_BYTES), shown)
    try:
        scenario = yaml.safe_load(record["scenario"]["yaml"])
        policies = [yaml.safe_load(p["yaml"]) for p in record["policies"]]
        labels = [p["label"] for p in record["policies"]]
        own = [yaml.safe_load(p["scenario"]["yaml"]) for p in record["policies"] if "scenario" in p]
    except (KeyError, TypeError, yaml.YAMLError):
        raise ConfigError([Problem(shown, None, "provenance", "the provenance record is damaged")]) from None
    if own:  # at equal service: each policy ran on its own staffing, recorded as it ran
        if len(own) != len(policies):
            raise ConfigError([Problem(shown, None, "provenance", "the provenance record is damaged")])
        loaded = load(scenario, policies)
        scenarios = [load(s, []).scenario for s in own]
        names = unique_labels(labels)
        comparison = _compare(loaded.scenario, loaded.policies, names,
                              baseline=_baseline_index(record.get("baseline"), names),
                              seed=record.get("seed", 0), replications=record.get("replications"), workers=workers,
                              on_result=on_result, observer=observer, scenarios=scenarios)
        comparison.equal_service = [str(t) for t in record.get("equal_service") or []]
    else:
        comparison = compare(scenario, policies, baseline=record.get("baseline"),
                             replications=record.get("replications"), seed=record.get("seed", 0), labels=labels,
                             workers=workers, on_result=on_result, observer=observer)
    overrides = record.get("overrides", [])  # already applied in the recorded YAML: kept to say how it was made
    comparison.overrides = [str(o) for o in overrides] if isinstance(overrides, list) else []
    return comparison


MAX_EXPORT_BYTES = 200_000_000  # a JSON export carries per-replication values: far larger than a scenario


def schema(kind: str) -> dict[str, Any]:
    """JSON Schema for 'scenario' or 'policy' files."""
    model: type[Scenario] | type[Policy] = Scenario if kind == "scenario" else Policy
    out = model.model_json_schema(by_alias=True)
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = f"support-sandbox {kind}"
    return out


def staff(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policy: PolicyRef = catalog.DEFAULT_BASELINE,
          targets: Sequence[str | Target] = ("service_level>=0.8",), replications: int | None = None,
          seed: int = 0, days: int | None = None, overrides: Iterable[str] = (), workers: int | None = None,
          should_stop: Callable[[], bool] = lambda: False, on_step: Callable[[str], None] | None = None,
          executor: Executor | None = None, per: str = "interval") -> StaffingPlan:
    """The fewest agents per interval of the day and group that meet every target under ``policy``
    (sandbox.planning.staffing): Erlang A to start, then simulation on common random numbers."""
    found = [t for t in targets if isinstance(t, Target)]
    texts = [t for t in targets if not isinstance(t, Target)]
    problems: list[Problem] = []
    found += (_gather(problems, parse_targets, texts) or []) if texts else []
    if per not in ("interval", "day"):
        problems.append(Problem("--per", None, str(per), "is not where targets hold", "interval or day"))
    try:
        loaded = load(scenario, [policy], overrides, days)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(problems)
    reps = replications or loaded.scenario.horizon.replications
    with _search_executor(loaded.scenario, reps, workers, executor, None) as searching:
        return plan_staffing(loaded.scenario, loaded.policies[0], found, reps, seed, searching, should_stop,
                             on_step, per)


@dataclass
class ShiftPlan:
    """Shifts for a staffing plan: one roster per group, and the plan they cover."""

    staffing: StaffingPlan
    rosters: list[Roster]
    rules: ShiftRules

    @property
    def paid_hours(self) -> float:
        return sum(r.paid_hours for r in self.rosters)

    @property
    def cost(self) -> float:
        return sum(r.cost for r in self.rosters)

    def schedule_yaml(self) -> str:
        body = "".join(f"    {r.group}:\n      schedule: {{"
                       + ", ".join(f'"{clock}": {n}' for clock, n in r.schedule().items()) + "}\n"
                       for r in self.rosters)
        return ("# Agents taking contacts per interval under these shifts (support-sandbox shifts). Replace "
                "each group's headcount or schedule with these.\nagents:\n  groups:\n" + body)

    def to_dict(self) -> dict[str, Any]:
        return {"paid_hours": self.paid_hours, "cost": self.cost, "rosters": [r.to_dict() for r in self.rosters],
                "rules": {"lengths_hours": [x / 60 for x in self.rules.lengths], "grid_minutes": self.rules.grid,
                          "break_minutes": self.rules.break_minutes, "break_after_hours": self.rules.break_after / 60,
                          "paid_break": self.rules.paid_break},
                "staffing": self.staffing.to_dict()}


def shifts(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policy: PolicyRef = catalog.DEFAULT_BASELINE,
           targets: Sequence[str | Target] = ("service_level>=0.8",), lengths: str | None = None,
           grid: str | None = None, break_rule: str | None = None, paid_break: bool = False,
           **staff_options: Any) -> ShiftPlan:
    """Staff to the targets (``staff``), then turn each group's requirement into shifts of the allowed lengths
    that minimise paid hours (sandbox.planning.shifts)."""
    rules = parse_rules(lengths, grid, break_rule, paid_break)
    plan = staff(scenario, policy, targets, **staff_options)
    loaded = load(scenario, [policy], staff_options.get("overrides", ()), staff_options.get("days"))
    costs = {name: g.hourly_cost for name, g in loaded.scenario.agents.groups.items()}
    return ShiftPlan(plan, rosters(plan, rules, costs) if not plan.cancelled else [], rules)


def sensitivity(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policy: PolicyRef = catalog.DEFAULT_BASELINE,
                kpi: str = "cost_per_resolved", delta: str | float = 0.2, replications: int | None = None,
                seed: int = 0, days: int | None = None, overrides: Iterable[str] = (), workers: int | None = None,
                executor: Executor | None = None, on_result: Callable[[Comparison], None] | None = None,
                should_stop: Callable[[], bool] = lambda: False) -> Sensitivity:
    """Every numeric assumption moved by ±``delta`` one at a time, ranked by its paired effect on ``kpi``
    (sandbox.planning.sensitivity); noise (an interval spanning 0) ranked after every real effect."""
    problems: list[Problem] = []
    if kpi not in KPIS:
        close = difflib.get_close_matches(kpi, list(KPIS), n=1, cutoff=0.6)
        problems.append(Problem("--kpi", None, kpi, "is not a KPI", f"did you mean {close[0]!r}?" if close
                                else "see `support-sandbox kpis`"))
    share = _gather(problems, parse_share, delta, "--delta", False) or 0.0
    if problems:
        raise ConfigError(problems)
    return run_sensitivity(scenario, policy, kpi, share, replications, seed, list(overrides), days, executor,
                           workers, on_result, should_stop)


@dataclass(frozen=True)
class BotEvidence:
    """Bot evaluation results read into per-intent counts, and the bot-evidence YAML they make."""

    evidence: _evidence.Evidence
    text: str  # the bot-evidence file (a scenario references it: bot_evidence: FILE)
    rows: list[dict[str, Any]]  # per intent: counts, and each rate's mean and 95% interval


def calibrate(file: str | Path, fmt: str = "technion", dates: str | None = None,
              command: str = "", calendar: bool = False,
              columns: str | Path | None = None) -> tuple[_calibration.Calibration, str]:
    """A scenario estimated from a contact log (docs/calibration.md), and its YAML text with the cleaning and
    every estimate (sample size, 95% interval) as comments. ``dates``: ``YYYY-MM-DD:YYYY-MM-DD``, inclusive;
    ``calendar``: over the log's own days, each with its volume, roster and handle-time level; ``columns``: a
    column-mapping file for another export (docs/calibration.md)."""
    problems: list[Problem] = []
    path = _log_source(file, fmt, problems)
    span = _span(dates, "--dates", problems) if dates is not None else None
    mapping = _mapping(columns, fmt, problems)
    if problems:
        raise ConfigError(problems)
    with _reading_log(file):
        found = _calibration.calibrate(path, fmt, span, calendar=calendar,  # type: ignore[arg-type]
                                       mapping=mapping)
    lines = [f"# Written by {command or 'support-sandbox calibrate'}.",
             f"# {found.cleaning.read} records read; cleaning:"]
    lines += [f"#   {step}: {n}" for step, n in found.cleaning.steps.items()]
    first = found.cleaning.first_unreadable
    if first is not None:
        lines.append(f"#   (the first unreadable row: line {first.line}, {first.column} {first.value!r})")
    lines.append("# Estimates (n, 95% interval):")
    for key, e in found.estimates.items():
        interval = f", {e.low:.3g}–{e.high:.3g}" if e.low is not None and e.high is not None else ""
        lines.append(f"#   {key}: {e.value:.4g} (n {e.n}{interval}){'; ' + e.note if e.note else ''}")
    text = "\n".join(lines) + "\n" + yaml.safe_dump(found.scenario, sort_keys=False, allow_unicode=True)
    return found, text


@dataclass
class CheckReport:
    """The verdicts of a checks file (sandbox.experiments.checks), with its JUnit XML and Markdown."""

    name: str
    file: str
    verdicts: list[_checks.Verdict]

    @property
    def passed(self) -> bool:
        return all(v.verdict == "pass" for v in self.verdicts)

    def junit(self) -> str:
        return _checks.to_junit(self.name, self.verdicts)

    def markdown(self) -> str:
        return _checks.to_markdown(self.name, self.verdicts)


def check(file: str | Path, policies: Sequence[PolicyRef] | None = None, scenario: ScenarioRef | None = None,
          replications: int | None = None, workers: int | None = None, baseline: PolicyRef | None = None,
          labels: Sequence[str] | None = None, seed: int | None = None) -> CheckReport:
    """Run a checks file (docs/checks.md): every guardrail for every policy under every stress variant, each
    judged with its 95% interval (pass, fail, or not enough replications to tell, after replicating to the
    file's cap). ``policies``, ``scenario``, ``baseline`` and ``seed`` replace the file's (``labels`` names the
    policies); ``replications`` its starting number."""
    path = catalog.resolve(str(file), "checks")
    checks, _ = load_model(CheckFile, path)
    if replications is not None:
        checks = checks.model_copy(update={"replications": replications,
                                           "max_replications": max(replications, checks.max_replications)})
    if seed is not None:
        checks = checks.model_copy(update={"seed": seed})
    chosen = list(policies) if policies else list(checks.policies)
    if not chosen:
        raise ConfigError([Problem(str(path), None, "policies", "no policy to check",
                                   "list policies in the file or give -p")])
    loaded = load(scenario if scenario is not None else checks.scenario,
                  [baseline if baseline is not None else checks.baseline, *chosen])
    if loaded.skipped:
        raise ConfigError(loaded.skipped)
    verdicts = _checks.run_checks(checks, loaded.scenario, loaded.policies[1:],
                                  list(labels) if labels is not None else loaded.labels[1:], loaded.policies[0],
                                  _runner(workers))
    return CheckReport(checks.name, str(path), verdicts)


def _runner(workers: int | None) -> Callable[..., Comparison]:
    """The comparisons of the gate and the search, on ``workers``."""
    def run(model: Scenario, models: list[Policy], labels: list[str], **kwargs: Any) -> Comparison:
        return _compare(model, models, labels, workers=workers, **kwargs)
    return run


def parse_space(texts: Sequence[str]) -> dict[str, tuple[float, float] | list[Any]]:
    """``--space`` texts: ``key=LOW:HIGH`` (a range) or ``key=a,b,c`` (choices). Whether a range is of whole
    numbers follows the policy setting (optimise.typed), not how the bounds were written."""
    problems: list[Problem] = []
    space: dict[str, tuple[float, float] | list[Any]] = {}
    for text in texts:
        key, sep, rest = text.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--space", None, text, "is not KEY=LOW:HIGH or KEY=a,b"))
            continue
        key = key.strip().removeprefix("policy.")
        try:
            if ":" in rest:
                low, high = (yaml.safe_load(v) for v in rest.split(":", 1))
                if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)) \
                        or low >= high:
                    raise ValueError
                space[key] = (low, high)
            else:
                space[key] = [yaml.safe_load(v) for v in rest.split(",")]
        except (ValueError, yaml.YAMLError):
            problems.append(Problem("--space", None, text, "needs LOW:HIGH with LOW below HIGH, or choices a,b"))
    if problems:
        raise ConfigError(problems)
    return space


def optimise(file: str | Path = "rollout", policy: PolicyRef = "warm-handoff", trials: int = 30,
             replications: int = 5, confirm: int = 3, space: Sequence[str] = (), seed: int = 0,
             scenario: ScenarioRef | None = None, workers: int | None = None,
             on_trial: Callable[[_optimise.Candidate], None] | None = None,
             should_stop: Callable[[], bool] = lambda: False) -> _optimise.Search:
    """The cheapest policy by net cost that passes a checks file (sandbox.planning.optimise): ``policy`` with
    the knobs of ``space`` (``--space`` texts; default SPACE) searched by Optuna, the best ``confirm``
    re-judged on every check and stress variant. Needs the optimise extra (Optuna)."""
    problems: list[Problem] = []
    if not 1 <= trials <= 10_000:
        problems.append(Problem("--trials", None, str(trials), "should be 1 to 10000"))
    if not 2 <= replications <= limits.MAX_REPLICATIONS:
        problems.append(Problem("--replications", None, str(replications), "should be at least 2"))
    if confirm < 1:
        problems.append(Problem("--confirm", None, str(confirm), "should be at least 1"))
    try:
        import optuna  # noqa: F401  (said before any simulation, not after)
    except ImportError:
        problems.append(Problem("optimise", None, "", "needs Optuna", "pip install 'support-sandbox[optimise]'"))
    chosen = _gather(problems, parse_space, list(space)) if space else None
    path = catalog.resolve(str(file), "checks")
    checks, _ = load_model(CheckFile, path)
    if problems:
        raise ConfigError(problems)
    loaded = load(scenario if scenario is not None else checks.scenario, [checks.baseline, policy])
    if loaded.skipped:
        raise ConfigError(loaded.skipped)
    base = loaded.policies[1]
    if chosen is not None:
        chosen = {key: _optimise.typed(base, key, domain) for key, domain in chosen.items()}
    for key, domain in (chosen or _optimise.SPACE).items():
        try:
            _optimise.candidate_policy(base, {key: domain[0]}, 0)
        except Exception as exc:  # a key no policy has: said now, not after the first trial
            problems.append(Problem("--space", None, key, f"is not a policy setting this search can make: {exc}"))
    if problems:
        raise ConfigError(problems)
    return _optimise.search(checks, loaded.scenario, base, loaded.policies[0], _runner(workers), trials,
                            replications, confirm, chosen, seed, on_trial, should_stop)


def report(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policies: Sequence[PolicyRef] | None = None,
           checks: str | Path | None = None, title: str | None = None, **compare_options: Any) -> str:
    """A self-contained HTML report (sandbox.report) of a comparison of ``policies`` on ``scenario``; with
    ``checks`` (a checks file), its verdicts for the policies (the baseline left out) too."""
    comparison = compare(scenario, policies, **compare_options)
    verdicts = None
    if checks is not None and comparison.scenario_model is not None:
        # The checks judge what the report shows: its scenario as it ran, its policies, baseline, seed and labels.
        others = [k for k in range(len(comparison.labels)) if k != comparison.baseline]
        verdicts = check(checks, [comparison.policy_models[k] for k in others] or None, comparison.scenario_model,
                         compare_options.get("replications"), compare_options.get("workers"),
                         comparison.policy_models[comparison.baseline], [comparison.labels[k] for k in others],
                         comparison.seed).verdicts
    return _report.to_html(comparison, verdicts, title)


def journeys(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO,
             policies: Sequence[PolicyRef] = (catalog.DEFAULT_BASELINE,), intent: str | None = None,
             customers: int = 3, seed: int = 0, overrides: Iterable[str] = (),
             days: int | None = None) -> list[Customer]:
    """A few customers of ``intent`` (default: the first) followed step by step under each policy, the same
    customers under each (sandbox.experiments.journeys)."""
    loaded = load(scenario, list(policies), list(overrides), days)
    names = list(loaded.scenario.intents)
    chosen = intent if intent is not None else names[0]
    if chosen not in names:
        close = difflib.get_close_matches(chosen, names, n=1, cutoff=0.6)
        raise ConfigError([Problem("--intent", None, chosen, "is not an intent of this scenario",
                                   f"did you mean {close[0]!r}?" if close else f"one of {', '.join(names)}")])
    if not 1 <= customers <= 50:
        raise ConfigError([Problem("--customers", None, str(customers), "should be between 1 and 50")])
    return follow_journeys(loaded.scenario, loaded.policies, chosen, customers, seed)


def contact_log(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policy: PolicyRef = catalog.DEFAULT_BASELINE,
                seed: int = 0, replication: int = 0, overrides: Iterable[str] = (), days: int | None = None) -> str:
    """One replication's contacts as a CSV in the contact-log format (docs/calibration.md), which
    ``calibrate(..., "generic")`` reads back: the simulator's log, for round trips and for other tools."""
    loaded = load(scenario, [policy], list(overrides), days)
    rows = _calibration.simulated_log(loaded.scenario, loaded.policies[0], seed, replication)
    out = io.StringIO()
    writer = csv.DictWriter(out, ("arrival", "channel", *_calibration.GENERIC_COLUMNS[1:]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _log_source(file: str | Path, fmt: str, problems: list[Problem]) -> Path:
    """A contact log's path and format, their problems added to ``problems``."""
    if fmt not in ("technion", "generic"):
        problems.append(Problem("--format", None, "", f"unknown format {fmt!r}", "one of technion, generic"))
    path = Path(file)
    if not path.is_file():
        problems.append(Problem(str(file), None, "", "file not found" if not path.exists() else "is not a file"))
    return path


@contextlib.contextmanager
def _reading_log(file: str | Path) -> Iterator[None]:
    """A log that cannot be read or estimated from is a problem of the file, not an internal error."""
    try:
        yield
    except _calibration.LogError as exc:
        raise ConfigError([Problem(str(file), exc.line, exc.column, str(exc))]) from None
    except OSError as exc:
        raise ConfigError([Problem(str(file), None, "", f"cannot be read: {exc.strerror}")]) from None


def _mapping(columns: str | Path | None, fmt: str, problems: list[Problem]) -> _calibration.Mapping | None:
    """A column-mapping file read (its problems added to ``problems``); None without one."""
    if columns is None:
        return None
    if fmt != "generic":
        problems.append(Problem("--columns", None, "", "maps the columns of a CSV export: use it with --format "
                                "generic"))
        return None
    try:
        doc = read_yaml(Path(columns))  # broken YAML, duplicate keys, a missing file: named at their line
        if doc.problems:
            raise ConfigError(doc.problems)
        return _calibration.Mapping.of(doc.data)
    except ConfigError as exc:
        problems.extend(exc.problems)
    except _calibration.LogError as exc:
        problems.append(Problem(str(columns), None, "", str(exc)))
    return None


def _span(text: str, option: str, problems: list[Problem]) -> tuple[date, date] | None:
    try:
        first, _, last = text.partition(":")
        span = (date.fromisoformat(first), date.fromisoformat(last or first))
        if span[1] < span[0]:
            raise ValueError
        return span
    except ValueError:
        problems.append(Problem(option, None, "", f"{text!r} is not FROM:TO, e.g. 1999-02-01:1999-02-07"))
        return None


def backtest(file: str | Path, fmt: str = "technion", train: str = "", test: str = "",
             given: str = "volume,staffing,aht", replications: int = 10, seed: int = 0,
             columns: str | Path | None = None) -> Backtest:
    """Calibrate on the ``train`` days of a contact log, simulate each ``test`` day, and score it against the
    log (sandbox.planning.backtest); ``given``: which of the test days' own inputs to use (volume, staffing,
    aht; empty: a pure forecast)."""
    problems: list[Problem] = []
    path = _log_source(file, fmt, problems)
    spans = [_span(text, option, problems) for text, option in ((train, "--train"), (test, "--test"))]
    inputs = tuple(g.strip() for g in given.split(",") if g.strip())
    unknown = [g for g in inputs if g not in _backtest.GIVEN]
    if unknown:
        problems.append(Problem("--given", None, "", f"unknown input {unknown[0]!r}",
                                f"any of {', '.join(_backtest.GIVEN)}, comma-separated"))
    if not 2 <= replications <= limits.MAX_REPLICATIONS:
        problems.append(Problem("--replications", None, "", f"should be 2 to {limits.MAX_REPLICATIONS} "
                                f"(got {replications})"))
    mapping = _mapping(columns, fmt, problems)
    if problems:
        raise ConfigError(problems)
    train_span, test_span = spans
    assert train_span is not None
    assert test_span is not None
    with _reading_log(file):
        return _backtest.backtest(path, fmt, train_span, test_span, inputs, replications, seed,  # type: ignore[arg-type]
                                  mapping)


def bot_evidence(file: str | Path, fmt: str = "csv", tasks: str | Path | None = None, discount: float = 1.0,
                 level: str = "read", command: str = "") -> BotEvidence:
    """Read a bot evaluation (csv, tau-bench or analytics; docs/bot-evidence.md) into uncertain bot rates.

    ``discount`` multiplies the resolution rates (an evaluation against simulated customers); ``level`` names
    the integration level the evaluation ran at (none, read, act: which resolve_* field it measures). Check a
    written file against a scenario with ``load_scenario(scenario, [f"bot_evidence={path}"])``.
    """
    from scipy.stats import beta

    problems = []
    if fmt not in _evidence.FORMATS:
        problems.append(Problem("--format", None, "", f"unknown format {fmt!r}",
                                f"one of {', '.join(_evidence.FORMATS)}"))
    if level not in _evidence.LEVEL_FIELD:
        problems.append(Problem("--level", None, "", f"unknown level {level!r}", "one of none, read, act"))
    if not (isinstance(discount, int | float) and 0 < discount <= 1):
        problems.append(Problem("--discount", None, "", f"should be more than 0 and at most 1 (got {discount})"))
    if problems:
        raise ConfigError(problems)
    found = _evidence.read(Path(file), fmt, Path(tasks) if tasks is not None else None)
    text = _evidence.render(found, discount, level, command)
    rows = []
    for intent, counts in found.intents.items():
        resolve, wrong = _evidence.estimates(counts, discount)
        row: dict[str, Any] = {"intent": intent, "conversations": counts.conversations,
                               "resolved": counts.resolved, "wrong": counts.wrong,
                               "escalated": counts.escalated, "abandoned": counts.abandoned}
        for name, e in (("resolve", resolve), ("wrong_per_turn", wrong)):
            row[name] = None if e is None else (e.mean, *(e.discount * beta.ppf(q, e.alpha, e.beta)
                                                          for q in (0.025, 0.975)))
        rows.append(row)
    return BotEvidence(found, text, rows)


def erlang_calculator(rate: str | float, aht: str | float, target: str = "80%@20s",
                      patience: str | float | None = None, shrinkage: str | float = 0.0,
                      max_occupancy: str | float = 1.0) -> Calculation:
    """The Erlang calculator: agents for a service-level target (Erlang C, or Erlang A with a patience).

    Text takes units (``200/h``, ``3m``, ``80%@20s``, ``2m``, ``30%``); numbers are per minute and minutes.
    Every problem with the inputs is reported at once (ConfigError).
    """
    problems: list[Problem] = []

    def read(parse: Callable[[Any], Any], value: Any, where: str) -> Any:
        try:
            if isinstance(value, int | float) and not isinstance(value, bool) and parse in (parse_duration,
                                                                                             parse_rate):
                if not (math.isfinite(value) and value > 0):
                    raise ValueError(f"{value!r} must be more than 0")
                return float(value)
            return parse(value)
        except ValueError as exc:
            problems.append(Problem(where, None, "", str(exc)))
        except ConfigError as exc:
            problems.extend(exc.problems)
        return None

    per_minute = read(parse_rate, rate, "--rate")
    handle = read(parse_duration, aht, "--aht")
    goal = read(parse_service_target, target, "--target")
    wait = None if patience is None else read(parse_duration, patience, "--patience")
    shrink = read(lambda v: parse_share(v, "--shrinkage"), shrinkage, "--shrinkage")
    cap = read(lambda v: 1.0 if str(v).strip() in ("1", "1.0", "100%") else parse_share(v, "--max-occupancy",
                                                                                         allow_zero=False),
               max_occupancy, "--max-occupancy")
    for value, where in ((per_minute, "--rate"), (handle, "--aht"), (wait, "--patience")):
        if value == 0:
            problems.append(Problem(where, None, "", "must be more than 0"))
    if problems:
        raise ConfigError(problems)
    if (wait is None and per_minute * handle > 10_000) or per_minute * handle > 10_000:
        raise ConfigError([Problem("--rate", None, "", f"a load of {per_minute * handle:,.0f} Erlangs is more than "
                                   "the 10,000 this calculator sizes", "split it into smaller teams")])
    return calculate(per_minute, handle, goal[0], goal[1], wait, shrink, cap)


def configuration_reference() -> str:
    """Every YAML field of scenario and policy files, in Markdown (docs/configuration.md is this)."""
    from sandbox.config.reference import markdown_reference  # only for this: kept off the start-up path

    return markdown_reference()


def scenarios(cwd: Path | None = None) -> dict[str, Path]:
    return catalog.available("simulations", cwd)


def policies(cwd: Path | None = None) -> dict[str, Path]:
    return catalog.available("policies", cwd)


@dataclass(frozen=True)
class Entry:
    """One available scenario or policy file: what it says it is, or why it cannot be used."""

    name: str
    path: Path
    builtin: bool
    description: str
    problems: list[Problem]


def catalogue(kind: catalog.Kind, cwd: Path | None = None) -> list[Entry]:
    """Every available scenario (``"simulations"``) or policy (``"policies"``), each checked on its own."""
    model: type[Scenario] | type[Policy] = Scenario if kind == "simulations" else Policy
    entries = []
    for name, path in catalog.available(kind, cwd).items():
        builtin = catalog.builtin_dir(kind) in path.parents
        try:
            loaded, _ = load_model(model, path)
        except ConfigError as exc:
            entries.append(Entry(name, path, builtin, "", exc.problems))
            continue
        entries.append(Entry(name, path, builtin, loaded.description or loaded.name, []))
    return entries
