"""Directions a customer-experience leader would check, on random valid configurations (hypothesis).

Each pair of runs differs in one lever only and meets the same customers (common random numbers). Where the
lever cannot change who goes where (de-escalation acts after service), the check is exact, path by path.
Where it does (wrong answers, verification change the queue), it is statistical: over REPLICATIONS paired
replications the change must not be significantly in the wrong direction, at a confidence high enough
(99.9%, t quantile) that 40 examples keep the family-wise false-alarm rate near 5%.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
from conftest import SEED
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate

from .test_invariants import policies, scenarios

REPLICATIONS = 12
T = float(stats.t.ppf(0.9995, REPLICATIONS - 1))


def kpi(scenario: dict[str, Any], policy: dict[str, Any], name: str) -> np.ndarray:
    plan = compile_plan(Scenario.model_validate(scenario), Policy.model_validate(policy))
    return np.array([simulate(plan, SEED, r).kpis[name] for r in range(REPLICATIONS)])


def not_significantly_above(after: np.ndarray, before: np.ndarray) -> bool:
    """The paired change after − before is not significantly positive (replications where either is nan,
    an empty denominator, are left out)."""
    ok = ~(np.isnan(after) | np.isnan(before))
    diff = after[ok] - before[ok]
    if len(diff) < 2 or np.all(diff == diff[0]):
        return len(diff) < 2 or diff[0] <= 1e-12
    return bool(diff.mean() - T * diff.std(ddof=1) / math.sqrt(len(diff)) <= 0)


@given(scenarios(), policies(), st.sampled_from([0.1, 0.3, 0.6]))
def test_more_wrong_answers_never_raise_journey_csat(scenario: dict[str, Any], policy: dict[str, Any],
                                                      more: float) -> None:
    """Where a wrong answer cannot be a shortcut: the bot hands over after its first failed turn, and a
    misled customer who comes back brings the same issue (repeat_contacts.same_issue), which the bot that
    could not solve it still cannot, and starts as upset as they left plus satisfaction.misled (the defaults:
    carry_frustration, misled 0.3). Then a wrong answer only adds a return, an extra step and more frustration.

    Outside that a wrong answer can raise csat, each in plain words: where honest failure is a dead end (sent
    away for good), a wrong answer found out is a later way to a person (the return is routed afresh); where
    the honest path is several more failed turns, a wrong answer cuts them short, and costs less than they
    would have where being misled is cheap; with same_issue off the return is a fresh chance at the bot.
    docs/model.md §Satisfaction explains it, tests/functional/test_outcomes.py shows it."""
    scenario["repeat_contacts"].update(same_issue=True, carry_frustration=True)
    scenario["satisfaction"]["misled"] = 0.3
    policy["escalation"]["max_bot_turns"] = 1
    worse = copy.deepcopy(scenario)
    for intent in worse["intents"].values():
        intent["bot"]["wrong_answer"] = min(1.0, intent["bot"]["wrong_answer"] + more)
    assert not_significantly_above(kpi(worse, policy, "csat"), kpi(scenario, policy, "csat"))


@given(scenarios(), policies())
def test_verification_never_raises_incidents(scenario: dict[str, Any], policy: dict[str, Any]) -> None:
    on, off = copy.deepcopy(policy), copy.deepcopy(policy)
    on["security"]["verification"], off["security"]["verification"] = True, False
    assert not_significantly_above(kpi(scenario, on, "incidents"), kpi(scenario, off, "incidents"))


@given(scenarios(), policies(), st.sampled_from([0.2, 0.5, 1.0]))
def test_deescalation_only_calms(scenario: dict[str, Any], policy: dict[str, Any], calm: float) -> None:
    """Agents who calm customers change nobody's path: the same contacts, waits and costs, and never a more
    frustrated, less satisfied or likelier-to-churn customer."""
    flat, calming = copy.deepcopy(scenario), copy.deepcopy(scenario)
    for group in flat["agents"]["groups"].values():
        group["deescalation"] = 0.0
    for group in calming["agents"]["groups"].values():
        group["deescalation"] = calm
    plan_flat = compile_plan(Scenario.model_validate(flat), Policy.model_validate(policy))
    plan_calm = compile_plan(Scenario.model_validate(calming), Policy.model_validate(policy))
    a, b = simulate(plan_flat, SEED, 0).kpis, simulate(plan_calm, SEED, 0).kpis
    for name in ("offered", "served", "abandoned_queue", "asa_all", "total_cost", "incidents"):
        assert (math.isnan(a[name]) and math.isnan(b[name])) or a[name] == b[name], name
    for name, better in (("frustration_mean", -1), ("churn_risk", -1), ("csat", 1), ("survey_csat", 1)):
        if not math.isnan(a[name]):
            assert better * (b[name] - a[name]) >= -1e-12, (name, a[name], b[name])
