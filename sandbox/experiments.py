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
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np

from sandbox import provenance
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import Plan, compile_plan
from sandbox.engine.run import Observer, RunResult, simulate
from sandbox.errors import RunCancelled
from sandbox.metrics.kpis import KPIS
from sandbox.metrics.stats import Difference, Estimate, estimate, paired
from sandbox.workers import Pool, Task, WorkerLost

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

    def snapshot(self) -> Comparison:
        """A copy whose result lists no longer change (for handing to another thread)."""
        return dataclasses.replace(self, results=[list(runs) for runs in self.results])

    def finished(self, policy: int) -> list[RunResult]:
        return [r for r in self.results[policy] if r is not None]

    def complete_replications(self) -> int:
        """Replications finished for every policy (the ones paired differences use)."""
        return sum(all(self.results[p][r] is not None for p in range(len(self.labels)))
                   for r in range(self.replications))

    def keep_complete(self) -> None:
        """After a stop: only replications every policy finished, so that every view (means, paired changes,
        per intent, the Why) is computed over the same customers and the numbers agree with each other."""
        for r in range(self.replications):
            if not all(self.results[p][r] is not None for p in range(len(self.labels))):
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

    def intent_mean(self, policy: int, intent: str, name: str) -> float:
        return estimate([r.by_intent[intent][name] for r in self.finished(policy)]).mean

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready: per policy the KPI estimates, differences and per-replication values."""
        out: dict[str, Any] = {
            "scenario": self.scenario, "seed": self.seed, "replications": self.replications,
            "baseline": self.labels[self.baseline], "cancelled": self.cancelled,
            "complete_replications": self.complete_replications(), "wall_seconds": self.wall_seconds,
            "incidents": self.incidents, "failure": self.failure or None, "provenance": provenance.record(self),
            "policies": {},
        }
        for p, label in enumerate(self.labels):
            runs = self.finished(p)
            out["policies"][label] = {
                "name": self.names[p],
                "kpis": {k: {**self.estimate(p, k).to_dict(),
                             "difference": self.difference(p, k).to_dict() if p != self.baseline else None,
                             "replications": self.values(p, k)} for k in KPIS},
                "by_intent": {i: {f: self.intent_mean(p, i, f) for f in runs[0].by_intent[i]}
                              for i in self.intents} if runs else {},
                "series": {s: self.series_mean(p, s) for s in runs[0].series} if runs else {},
            }
        return out


# --- executors ------------------------------------------------------------------------------------------

_worker_plans: dict[str, Plan] = {}


def _run_task(scenario: Scenario, policy: Policy, replication: int, seed: int) -> RunResult:
    """One replication in a worker process; compiled plans are cached per process by their inputs."""
    key = scenario.model_dump_json() + policy.model_dump_json()
    plan = _worker_plans.get(key)
    if plan is None:
        if len(_worker_plans) > 64:  # edits in a long TUI session would otherwise pile up
            _worker_plans.clear()
        plan = _worker_plans[key] = compile_plan(scenario, policy)
    return simulate(plan, seed, replication)


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


def execute(scenario: Scenario, policies: list[Policy], seed: int, replications: int, workers: int,
            on_result: Callable[[int, int, RunResult], None], should_stop: Callable[[], bool] = lambda: False,
            observer: Observer | None = None, pool: Pool | None = None,
            incidents: list[str] | None = None) -> None:
    """Run every (policy, replication) job; report each result as it finishes; raise RunCancelled if stopped.

    Serial in this process when ``workers`` is 1 and no ``pool`` is given (``observer`` then receives
    within-run progress and may raise RunCancelled to stop mid-run); otherwise on the pool's processes, or
    on a pool made for this call. Lost workers are described in ``incidents``.
    """
    jobs = [(p, r) for r in range(replications) for p in range(len(policies))]
    workers = useful_workers(workers, len(jobs))
    if workers <= 1 and pool is None:
        plans = [compile_plan(scenario, policy) for policy in policies]
        for p, r in jobs:
            if should_stop():
                raise RunCancelled
            on_result(p, r, simulate(plans[p], seed, r, observer))
        return
    own = pool is None
    used = Pool(workers) if pool is None else pool
    seen = len(used.incidents)
    tasks = [Task((p, r), _run_task, (scenario, policies[p], r, seed),
                  f"replication {r + 1} of {policies[p].name}") for p, r in jobs]
    try:
        def done(key: Hashable, result: RunResult) -> None:
            p, r = cast(tuple[int, int], key)
            on_result(p, r, result)

        used.run(tasks, done, should_stop)
    finally:
        if incidents is not None:
            incidents.extend(used.incidents[seen:])
        if own:
            used.close()


def compare(scenario: Scenario, policies: list[Policy], labels: list[str], baseline: int = 0, seed: int = 0,
            replications: int | None = None, workers: int | None = None,
            on_result: Callable[[Comparison], None] | None = None, should_stop: Callable[[], bool] = lambda: False,
            observer: Observer | None = None, pool: Pool | None = None) -> Comparison:
    """Replicate every policy on common random numbers; Ctrl-C or a stop keeps what finished.

    ``on_result`` gets the comparison once before the first run and again after every finished run.
    """
    reps = replications or scenario.horizon.replications
    comparison = Comparison(scenario.name, labels, [p.name for p in policies], baseline, seed, reps,
                            [[None] * reps for _ in policies], intents=list(scenario.intents),
                            scenario_model=scenario, policy_models=list(policies),
                            created=datetime.now(UTC).isoformat(timespec="seconds"))
    started = time.perf_counter()

    def store(p: int, r: int, result: RunResult) -> None:
        comparison.results[p][r] = result
        comparison.wall_seconds = time.perf_counter() - started
        if on_result is not None:
            on_result(comparison)

    n_workers = workers if workers is not None else default_workers(scenario, reps * len(policies))
    if on_result is not None:
        on_result(comparison)  # the empty comparison: sizes are known before the first result
    try:
        execute(scenario, policies, seed, reps, n_workers, store, should_stop, observer, pool, comparison.incidents)
    except (RunCancelled, KeyboardInterrupt):
        comparison.cancelled = True
    except WorkerLost as exc:
        comparison.cancelled = True
        comparison.failure = str(exc)
    if comparison.cancelled:
        comparison.keep_complete()
    comparison.wall_seconds = time.perf_counter() - started
    return comparison
