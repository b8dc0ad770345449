"""Provides the policy search: the cheapest policy by net cost that passes a checks file, and the Pareto front of
cost, abandonment and CSAT among the policies tried.

Optuna's TPE sampler (seeded: the same search every time) proposes policies: a base policy with the knobs of
SPACE (or a space given) set. Each is simulated on common random numbers with the baseline (the same customers
for every candidate), judged by the checks file's checks as the scenario is (sandbox.experiments.checks), and
scored by its mean net cost; a candidate whose means break a check is infeasible (Optuna's constraint: the number
of checks broken; a search's few replications cannot prove a pass, so the means decide here). The cheapest
feasible candidates are then confirmed: every check under every stress variant, replicated to the file's cap;
the winner is the cheapest that passes them all. Noisy objectives: a candidate's cost is a mean over
replications, so the search ranks by it and the confirmation re-judges the best few.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.experiments.checkfile import CheckFile
from sandbox.experiments.checks import Verdict, judge, run_checks
from sandbox.experiments.comparison import Comparison

# The default space: dotted policy key → (low, high) for numbers (ints when both are ints), or a list of choices.
SPACE: dict[str, tuple[float, float] | list[Any]] = {
    "automation.share.voice": (0.0, 1.0),
    "automation.share.chat": (0.0, 1.0),
    "escalation.max_bot_turns": (1, 8),
    "escalation.frustration_threshold": (0.3, 0.9),
    "handoff.mode": ["warm", "cold"],
    "security.verification": [True, False],
    "integration.level": ["none", "read", "act"],  # what the bot may do with account data (and be tricked into)
    "staffing.scale": (0.6, 1.4),
}


@dataclass
class Candidate:
    number: int
    values: dict[str, Any]  # the knobs as set
    policy: Policy
    net_cost: float
    abandonment: float
    csat: float
    failed: list[str]  # checks failed as the scenario is
    pareto: bool = False

    @property
    def feasible(self) -> bool:
        return not self.failed

    def settings(self) -> str:
        """The knobs as set, short: share.voice=0.3, max_bot_turns=5, …"""
        return ", ".join(f"{'.'.join(k.split('.')[-2:])}={v}" for k, v in self.values.items())


@dataclass
class Search:
    candidates: list[Candidate]
    confirmed: list[tuple[Candidate, list[Verdict]]] = field(default_factory=list)  # cheapest first
    winner: Candidate | None = None

    def front(self) -> list[Candidate]:
        """The feasible candidates no other feasible one beats on all of cost, abandonment and CSAT, cheapest
        first."""
        return sorted((c for c in self.candidates if c.pareto), key=lambda c: c.net_cost)


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):  # automation.share: one number for every channel becomes per channel
            child = {c: child for c in ("voice", "chat")} if isinstance(child, int | float) else {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def typed(base: Policy, key: str, domain: tuple[float, float] | list[Any]) -> tuple[float, float] | list[Any]:
    """A range searched as the setting is: whole numbers for an integer setting (max_bot_turns, a headcount),
    fractions otherwise (a share written 0:1 is not the choice of 0 or 1)."""
    if isinstance(domain, list):
        return domain
    node: Any = base.model_dump(mode="json", by_alias=True)
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    whole = isinstance(node, int) and not isinstance(node, bool) if node is not None else \
        key.startswith("staffing.headcount.")  # a group's headcount, not set in the base: whole agents
    low, high = domain
    return (int(low), int(high)) if whole and float(low).is_integer() and float(high).is_integer() \
        else (float(low), float(high))


def candidate_policy(base: Policy, values: dict[str, Any], number: int) -> Policy:
    data = base.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.pop("$schema", None)
    for key, value in values.items():
        _set(data, key, value)
    data["name"] = f"{base.name}, searched #{number}"
    data["description"] = "Found by support-sandbox optimise: " + ", ".join(f"{k} = {v}" for k, v in values.items())
    return Policy.model_validate(data)


def _mark_front(candidates: list[Candidate]) -> None:
    feasible = [c for c in candidates if c.feasible and not math.isnan(c.net_cost)]
    for c in feasible:
        c.pareto = not any(
            o is not c and o.net_cost <= c.net_cost and o.abandonment <= c.abandonment and o.csat >= c.csat
            and (o.net_cost < c.net_cost or o.abandonment < c.abandonment or o.csat > c.csat) for o in feasible)


def search(checks: CheckFile, scenario: Scenario, base: Policy, baseline: Policy,
           run: Callable[..., Comparison], trials: int = 30, replications: int = 5, confirm: int = 3,
           space: dict[str, tuple[float, float] | list[Any]] | None = None, seed: int = 0,
           on_trial: Callable[[Candidate], None] | None = None,
           should_stop: Callable[[], bool] = lambda: False) -> Search:
    """The search of the module docstring: ``trials`` candidates of ``replications`` each, then the ``confirm``
    cheapest feasible ones re-judged on every check and variant."""
    import optuna  # only for this command: kept off the start-up path

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = space or SPACE
    as_is = [c for c in checks.checks if c.under is None or "as is" in c.under]
    candidates: list[Candidate] = []

    def propose(trial: optuna.Trial) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, domain in space.items():
            if isinstance(domain, list):
                values[key] = trial.suggest_categorical(key, domain)
            elif all(isinstance(x, int) for x in domain):
                values[key] = trial.suggest_int(key, int(domain[0]), int(domain[1]))
            else:
                values[key] = round(trial.suggest_float(key, float(domain[0]), float(domain[1])), 3)
        return values

    def objective(trial: optuna.Trial) -> float:
        values = propose(trial)
        policy = candidate_policy(base, values, trial.number + 1)
        comparison = run(scenario, [baseline, policy], ["baseline", "candidate"], seed=seed,
                         replications=replications)
        failed = [c.name for c in as_is if judge(c, comparison, 1, scenario, point=True)[0] == "fail"]
        found = Candidate(trial.number + 1, values, policy, comparison.estimate(1, "net_cost").mean,
                          comparison.estimate(1, "abandonment_rate").mean, comparison.estimate(1, "csat").mean, failed)
        candidates.append(found)
        trial.set_constraint("checks broken", float(len(failed)))  # > 0: infeasible
        if on_trial is not None:
            on_trial(found)
        if should_stop():
            trial.study.stop()
        return found.net_cost

    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    study.optimize(objective, n_trials=trials)
    _mark_front(candidates)
    result = Search(candidates)
    cheapest = sorted((c for c in candidates if c.feasible), key=lambda c: c.net_cost)[:confirm]
    for c in cheapest:
        if should_stop():
            break
        verdicts = run_checks(checks, scenario, [c.policy], [f"#{c.number}"], baseline, run)
        result.confirmed.append((c, verdicts))
        if result.winner is None and all(v.verdict == "pass" for v in verdicts):
            result.winner = c
    return result
