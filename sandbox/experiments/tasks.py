"""Provides the unit of experimental work: one replication of one policy on one scenario, and its result row.

A task carries everything a worker needs (validated models, seed, replication), nothing global, so any
executor (this process, a process pool, a cluster) runs it the same way and gets the same numbers. A result
row carries what produced it and either the run's result or the error that stopped it: a failing task is a
row, not an exception, and the caller decides what it means for the batch.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import Plan, compile_plan
from sandbox.engine.run import Observer, RunResult, simulate


@dataclass(frozen=True)
class RunTask:
    """One replication: ``key`` is the caller's name for it (a comparison uses (policy, replication))."""

    key: Hashable
    scenario: Scenario
    policy: Policy
    seed: int
    replication: int

    @property
    def what(self) -> str:
        return f"replication {self.replication + 1} of {self.policy.name}"


@dataclass
class TaskResult:
    """A finished task: its result (which carries its own wall time), or the error it raised (with the
    traceback, for --debug)."""

    task: RunTask
    result: RunResult | None
    error: str | None = None
    traceback: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


_plans: dict[tuple[str, str], Plan] = {}  # per process: a worker runs many replications of the same inputs


def plan_for(scenario: Scenario, policy: Policy) -> Plan:
    """The compiled plan of these inputs, cached per process by their content."""
    key = (scenario.model_dump_json(), policy.model_dump_json())
    plan = _plans.get(key)
    if plan is None:
        if len(_plans) > 64:  # edits in a long TUI session would otherwise pile up
            _plans.clear()
        plan = _plans[key] = compile_plan(scenario, policy)
    return plan


def run_task(task: RunTask, observer: Observer | None = None) -> RunResult:
    """Run one task here (in a worker process, or in the caller's when serial)."""
    return simulate(plan_for(task.scenario, task.policy), task.seed, task.replication, observer)
