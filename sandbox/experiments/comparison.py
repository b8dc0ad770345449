"""Provides replicated policy comparisons on common random numbers, run serially or on a process pool.

Replication r of every policy uses the same seed-derived streams, so the policies meet the same customers and
their differences are paired. Jobs are ordered replication-major (every policy's first replication, then the
second, ...) so that paired differences become available as early as possible in a streaming front end.
Results are stored by (policy, replication), never by completion order, so serial and parallel runs give
identical comparisons.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

from sandbox import provenance
from sandbox.config.limits import MAX_REPLICATIONS
from sandbox.config.policy import Policy
from sandbox.config.scenario import AgentAbsence, DemandSurge, KnowledgeChange, Scenario
from sandbox.engine.run import Observer, RunResult
from sandbox.errors import RunCancelled
from sandbox.experiments.executors import Executor, PoolExecutor, SerialExecutor
from sandbox.experiments.pool import Pool, WorkerLost
from sandbox.experiments.tasks import RunTask, TaskResult
from sandbox.metrics.kpis import DAILY, KPIS, RATIO_OF_SUMS, ratio_of_sums
from sandbox.metrics.stats import Difference, Estimate, estimate, paired

# Below this much expected work, starting worker processes costs more than it saves.
PARALLEL_MIN_CONTACTS = 400_000


@dataclass
class Comparison:
    """Policies × replications of one scenario, with summaries and paired differences. Plain data."""

    scenario: str
    labels: list[str]  # short ids, unique (file stems)
    names: list[str]  # display names
    baseline: int
    seed: int
    replications: int
    results: list[list[RunResult | None]]  # [policy][replication]
    wall_seconds: float = 0.0
    cancelled: bool = False
    intents: list[str] = field(default_factory=list)
    # What ran, exactly (after overrides and edits), and when: sandbox.provenance writes it into every output.
    scenario_model: Scenario | None = None
    policy_models: list[Policy] = field(default_factory=list)
    created: str = ""
    incidents: list[str] = field(default_factory=list)  # in words: policy files left out, worker processes lost
    failure: str = ""  # why the run stopped before the end when nobody stopped it (cancelled is then True)
    errors: list[TaskResult] = field(default_factory=list)  # replications that raised, in the order they did
    overrides: list[str] = field(default_factory=list)  # the --set texts the inputs were loaded with
    # Each policy's own scenario when they differ (at equal service: each staffed to the targets), and how.
    policy_scenarios: list[Scenario] = field(default_factory=list)
    equal_service: list[str] = field(default_factory=list)  # the targets every policy was staffed to

    def snapshot(self) -> Comparison:
        """A copy whose result lists no longer change (for handing to another thread)."""
        return dataclasses.replace(self, results=[list(runs) for runs in self.results], errors=list(self.errors),
                                   incidents=list(self.incidents))

    def finished(self, policy: int) -> list[RunResult]:
        return [r for r in self.results[policy] if r is not None]

    def _counted(self) -> list[int]:
        """The policies whose replications must all finish for one to count: all but a policy that failed in
        every replication (its column stays empty; it must not empty the others' too)."""
        failed = [0] * len(self.labels)
        for error in self.errors:
            failed[cast(tuple[int, int], error.task.key)[0]] += 1
        return [p for p in range(len(self.labels)) if failed[p] < self.replications]

    def complete_replications(self) -> int:
        """Replications finished for every policy (the ones paired differences use)."""
        counted = self._counted()
        return sum(bool(counted) and all(self.results[p][r] is not None for p in counted)
                   for r in range(self.replications))

    def keep_complete(self) -> None:
        """After a stop or an error: only replications every policy finished, so that every view (means,
        paired changes, per intent, the Why) is computed over the same customers and the numbers agree."""
        counted = self._counted()
        for r in range(self.replications):
            if not all(self.results[p][r] is not None for p in counted):
                for runs in self.results:
                    runs[r] = None

    def values(self, policy: int, kpi: str) -> list[float]:
        return [r.kpis[kpi] for r in self.finished(policy)]

    def estimate(self, policy: int, kpi: str) -> Estimate:
        found = estimate(self.values(policy, kpi))  # every KPI is a count, time, cost or rate: never below 0
        return found.within(0.0, 1.0 if KPIS[kpi].unit == "share" else math.inf)

    def difference(self, policy: int, kpi: str) -> Difference:
        """Policy − baseline over replications both have finished."""
        pairs = [(a.kpis[kpi], b.kpis[kpi]) for a, b in zip(self.results[policy], self.results[self.baseline],
                                                            strict=True) if a is not None and b is not None]
        found = paired([a for a, _ in pairs], [b for _, b in pairs])
        return found.within(-1.0, 1.0) if KPIS[kpi].unit == "share" else found

    def series_mean(self, policy: int, name: str) -> list[float]:
        """A per-interval series averaged over finished replications."""
        runs = self.finished(policy)
        if not runs:
            return []
        with warnings.catch_warnings():  # an interval with no value in any replication stays nan
            warnings.simplefilter("ignore", RuntimeWarning)
            return [float(x) for x in np.nanmean([r.series[name] for r in runs], axis=0)]

    def daily(self, policy: int, period: int = 1) -> list[dict[str, Any]]:
        """Per day (``period`` 1) or week (7): each of kpis.DAILY as an estimate over the replications; a week's
        value is the mean of its days' (counts: their sum)."""
        runs = self.finished(policy)
        if not runs or not runs[0].daily:
            return []
        days = len(runs[0].daily)
        out = []
        for first in range(0, days, period):
            span = range(first, min(first + period, days))
            row: dict[str, Any] = {"day" if period == 1 else "week": first // period + 1,
                                   "days": [d + 1 for d in span]}
            for name in DAILY:
                combine = np.nansum if name in ("offered", "productive_hours") else np.nanmean
                with warnings.catch_warnings():  # a day without such contacts is nan in every replication
                    warnings.simplefilter("ignore", RuntimeWarning)
                    values = [float(combine([r.daily[d][name] for d in span])) for r in runs]
                found = estimate(values)
                row[name] = found.within(0.0, 1.0 if name in KPIS and KPIS[name].unit == "share" else math.inf) \
                    .to_dict()
            out.append(row)
        return out

    def events_by_day(self) -> dict[int, list[str]]:
        """The scenario's events in plain words, by each day (1: the first) they touch."""
        out: dict[int, list[str]] = {}
        for event in self.scenario_model.events if self.scenario_model is not None else []:
            if isinstance(event, KnowledgeChange):
                out.setdefault(event.day, []).append(f"knowledge change: {', '.join(event.intents)}")
                continue
            if isinstance(event, DemandSurge):
                words = f"demand ×{event.factor:g}"
            elif isinstance(event, AgentAbsence):
                words = f"{event.share:.0%} of {', '.join(event.groups) or 'agents'} absent"
            else:
                words = "bot outage"
            a, b = event.window()
            for day in range(int(a // 1440) + 1, math.ceil(b / 1440) + 1):
                out.setdefault(day, []).append(words)
        return out

    def segment_mean(self, policy: int, segment: str, name: str) -> float:
        """A per-segment figure (kpis.SEGMENT_FIELDS) averaged over the finished replications that define it."""
        values = [r.by_segment[segment][name] for r in self.finished(policy)]
        values = [v for v in values if not math.isnan(v)]
        return estimate(values).mean if values else math.nan

    def intent_mean(self, policy: int, intent: str, name: str) -> float:
        return estimate([r.by_intent[intent][name] for r in self.finished(policy)]).mean

    def to_dict(self, replication_series: bool = False) -> dict[str, Any]:
        """Everything, JSON-ready: per policy the KPI estimates, differences and per-replication values; with
        ``replication_series``, each replication's per-interval series too (the means are always there)."""
        out: dict[str, Any] = {
            "scenario": self.scenario, "seed": self.seed, "replications": self.replications,
            "baseline": self.labels[self.baseline], "cancelled": self.cancelled,
            "complete_replications": self.complete_replications(), "wall_seconds": self.wall_seconds,
            "incidents": self.incidents, "failure": self.failure or None,
            "equal_service": self.equal_service or None, "provenance": provenance.record(self),
            "errors": [{"policy": self.labels[cast(tuple[int, int], e.task.key)[0]],
                        "replication": e.task.replication, "seed": e.task.seed, "error": e.error} for e in self.errors],
            "runs": [{"policy": label, "replication": run.replication, "seed": run.seed,
                      "wall_seconds": run.wall_seconds} for label, runs in zip(self.labels, self.results, strict=True)
                     for run in runs if run is not None],
            "policies": {},
        }
        for p, label in enumerate(self.labels):
            runs = self.finished(p)
            out["policies"][label] = {
                "name": self.names[p],
                "kpis": {k: {**self.estimate(p, k).to_dict(),
                             "difference": self.difference(p, k).to_dict() if p != self.baseline else None,
                             "replications": self.values(p, k),
                             **({"ratio_of_sums": ratio_of_sums(k, [r.sums for r in runs]) if runs else None}
                                if k in RATIO_OF_SUMS else {})} for k in KPIS},
                "sums": {name: [r.sums[name] for r in runs] for name in runs[0].sums} if runs else {},
                "by_intent": {i: {f: self.intent_mean(p, i, f) for f in runs[0].by_intent[i]}
                              for i in self.intents} if runs else {},
                "by_segment": {segment: {f: self.segment_mean(p, segment, f) for f in fields}
                               for segment, fields in runs[0].by_segment.items()} if runs else {},
                "series": {s: self.series_mean(p, s) for s in runs[0].series} if runs else {},
                "daily": self.daily(p),
            }
            if replication_series:
                out["policies"][label]["series_by_replication"] = [
                    {"replication": r.replication, "seed": r.seed, "series": r.series} for r in runs]
        return out


# --- running ----------------------------------------------------------------------------------------------

def default_workers(scenario: Scenario, runs: int) -> int:
    """Serial for small jobs; one process per core when the expected work outweighs process start-up."""
    demand = scenario.demand
    per_day = (demand.contacts_per_day or 0) or (demand.rate or 0) * 1440 or sum(demand.per_interval or [])
    work = per_day * scenario.horizon.days * runs
    cores = os.cpu_count() or 1
    return cores if work >= PARALLEL_MIN_CONTACTS and cores > 1 else 1


def useful_workers(asked: int, jobs: int) -> int:
    """Never more processes than jobs, nor than twice the cores: more only compete for the same CPUs."""
    return max(1, min(asked, jobs, 2 * (os.cpu_count() or 1)))


def executor_for(workers: int, jobs: int, observer: Observer | None = None, pool: Pool | None = None) -> Executor:
    """The warm ``pool`` if given; else serial in this process for one worker (``observer`` then sees
    within-run progress), or a pool started for the run."""
    if pool is not None:
        return PoolExecutor(pool=pool)
    n = useful_workers(workers, jobs)
    return SerialExecutor(observer) if n <= 1 else PoolExecutor(n)


def compare(scenario: Scenario, policies: list[Policy], labels: list[str], *, baseline: int = 0, seed: int = 0,
            replications: int | None = None, workers: int | None = None, executor: Executor | None = None,
            on_result: Callable[[Comparison], None] | None = None, should_stop: Callable[[], bool] = lambda: False,
            observer: Observer | None = None, pool: Pool | None = None, overrides: Sequence[str] = (),
            scenarios: Sequence[Scenario] | None = None, precision: tuple[str, float] | None = None,
            max_replications: int = MAX_REPLICATIONS,
            grow: Callable[[Comparison], int] | None = None) -> Comparison:
    """Replicate every policy on common random numbers; Ctrl-C or a stop keeps what finished.

    ``on_result`` gets the comparison once before the first run and again after every finished run. Runs on
    ``executor`` if given, else on one chosen from ``workers``/``pool`` (see ``executor_for``). A replication
    that fails is an error row (``Comparison.errors``); the others finish, and only replications every
    policy finished are kept. ``overrides`` (the ``--set`` texts) are recorded in the provenance.
    ``scenarios`` gives each policy its own version of the scenario (the same customers, other staffing: a
    comparison at equal service); ``scenario`` is then the one they were made from. ``precision`` (a KPI
    and a half-width) replicates on, after ``replications``, until every policy's 95% interval of that KPI
    is that narrow, or ``max_replications`` are done. ``grow`` (without ``precision``) says after each round how
    many replications the comparison should have (no more than it has: done); the rounds add replications, they
    never run the finished ones again (the rollout gate's doubling).
    """
    reps = replications or scenario.horizon.replications
    comparison = Comparison(scenario.name, labels, [p.name for p in policies], baseline, seed, reps,
                            [[None] * reps for _ in policies], intents=list(scenario.intents),
                            scenario_model=scenario, policy_models=list(policies),
                            created=datetime.now(UTC).isoformat(timespec="seconds"), overrides=list(overrides),
                            policy_scenarios=list(scenarios or []))
    run_on = list(scenarios) if scenarios is not None else [scenario] * len(policies)
    started = time.perf_counter()

    def store(done: TaskResult) -> None:
        p, r = cast(tuple[int, int], done.task.key)
        if done.result is None:
            comparison.errors.append(done)
        else:
            comparison.results[p][r] = done.result
        comparison.wall_seconds = time.perf_counter() - started
        if on_result is not None:
            on_result(comparison)

    if executor is None:
        n_workers = workers if workers is not None else default_workers(scenario, reps * len(policies))
        executor = executor_for(n_workers, reps * len(policies), observer, pool)
    seen = len(executor.incidents)
    if on_result is not None:
        on_result(comparison)  # the empty comparison: sizes are known before the first result
    done = 0
    try:
        while done < comparison.replications:
            # Replication-major: every policy's first replication, then the second, so pairs complete early.
            tasks = [RunTask((p, r), run_on[p], policies[p], seed, r) for r in range(done, comparison.replications)
                     for p in range(len(policies))]
            executor.run(tasks, store, should_stop)
            done = comparison.replications
            if (precision is not None or grow is not None) and not comparison.errors:
                more = _replications_for(comparison, *precision, max_replications) if precision is not None \
                    else min(grow(comparison), max_replications) if grow is not None else done
                if more > done:
                    comparison.replications = more
                    for runs in comparison.results:
                        runs.extend([None] * (more - done))
                    if on_result is not None:
                        on_result(comparison)
    except (RunCancelled, KeyboardInterrupt):
        comparison.cancelled = True
    except WorkerLost as exc:
        comparison.cancelled = True
        comparison.failure = str(exc)
    finally:
        comparison.incidents.extend(executor.incidents[seen:])
    if comparison.cancelled or comparison.errors:
        comparison.keep_complete()
    if precision is not None and not comparison.cancelled:
        kpi, width = precision
        wide = [comparison.labels[p] for p in range(len(policies))
                if not comparison.estimate(p, kpi).half_width <= width]
        if wide:
            comparison.incidents.append(f"{kpi} is still wider than ±{width:g} for {', '.join(wide)} after "
                                        f"{comparison.replications} replications, the most allowed")
    comparison.wall_seconds = time.perf_counter() - started
    return comparison


def _replications_for(comparison: Comparison, kpi: str, width: float, cap: int) -> int:
    """Replications that should bring every policy's half-width of ``kpi`` to ``width``: the usual n·(h/w)²,
    a tenth more for the t quantile settling, at least one more and never more than ``cap``."""
    n = comparison.replications
    needed = n
    for p in range(len(comparison.labels)):
        h = comparison.estimate(p, kpi).half_width
        if not h <= width:  # nan (too few replications) asks for more too
            target = math.ceil(n * (h / width) ** 2 * 1.1) if h == h and width > 0 else 2 * n
            needed = max(needed, target, n + 1)
    return min(needed, cap)
