"""One-at-a-time sensitivity: effects where the model puts them, noise ranked after real effects."""

from __future__ import annotations

import copy

import pytest
from conftest import BOT_POLICY, SEED, SMALL_SCENARIO

from sandbox import api
from sandbox.errors import ConfigError


@pytest.fixture(scope="module")
def result() -> api.Sensitivity:
    return api.sensitivity(copy.deepcopy(SMALL_SCENARIO), copy.deepcopy(BOT_POLICY), "total_cost", "20%",
                           replications=4, seed=SEED, workers=2)


def test_hourly_cost_moves_agent_cost_by_exactly_its_share(result: api.Sensitivity) -> None:
    by_key = {e.key: e for e in result.effects}
    base_agent_cost = result.comparison.estimate(0, "agent_cost").mean
    rise = sum(by_key[f"scenario.agents.groups.{g}.hourly_cost"].at_high.mean for g in ("service", "billing"))
    assert rise == pytest.approx(0.2 * base_agent_cost)


def test_ranking_puts_noise_last(result: api.Sensitivity) -> None:
    flags = [e.significant for e in result.effects]
    assert flags == sorted(flags, reverse=True)  # every real effect before any noise
    real = [e.size for e in result.effects if e.significant]
    assert real == sorted(real, reverse=True)
    by_key = {e.key: e for e in result.effects}
    value = by_key["scenario.segments.vip.value_at_risk"]  # money at risk is not a cost
    assert value.size == 0
    assert not value.significant


def test_structure_is_not_an_assumption(result: api.Sensitivity) -> None:
    keys = {e.key for e in result.effects}
    assert not any(k.endswith(".share") and "automation" not in k for k in keys)
    assert not any(k.startswith("scenario.horizon") for k in keys)


def test_mistakes() -> None:
    with pytest.raises(ConfigError) as caught:
        api.sensitivity("ecommerce", "no-bot", "cst_per_resolved", "200%")
    assert [p.file for p in caught.value.problems] == ["--kpi", "--delta"]
