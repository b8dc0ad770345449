"""Journeys (sandbox.experiments.journeys): the same customers under each policy, told from their records."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from sandbox import api
from sandbox.cli.main import app


def test_the_same_customers_are_followed_under_each_policy() -> None:
    found = api.journeys("ecommerce", ["no-bot", "aggressive-automation"], "billing_error", 4, seed=2)
    assert len(found) == 4
    scenario = api.load_scenario("ecommerce")
    load = scenario.intents["billing_error"].emotional_load
    csat_ceiling = {name: c.csat_ceiling for name, c in scenario.channels.items()}
    for customer in found:
        assert [j.policy for j in customer.journeys] == ["No bot", "Aggressive automation, fewer agents"]
        no_bot = customer.journeys[0]
        for journey in customer.journeys:
            assert journey.steps[0].frustration == pytest.approx(load)  # everyone starts at the intent's load
            assert journey.steps[-1].frustration == pytest.approx(journey.frustration)  # and ends at the engine's
            levels = [s.frustration for s in journey.steps[:-1] if s.frustration is not None]
            assert levels == sorted(levels)  # frustration only rises until an agent calms it
        assert not any("bot turn" in s.what for s in no_bot.steps)
        if no_bot.outcome == "served by an agent" and not no_bot.continues:
            # resolved at once, no extra step: CSAT = the channel's ceiling × (1 − F at the end)
            assert no_bot.csat == pytest.approx(csat_ceiling[customer.channel] * (1 - no_bot.frustration))
    assert any(any("bot turn" in s.what for s in c.journeys[1].steps) for c in found)


def test_journeys_cli_prints_each_policy_and_refuses_an_unknown_intent() -> None:
    result = CliRunner().invoke(app, ["journeys", "-p", "no-bot", "-p", "warm-handoff", "--intent", "returns",
                                      "-n", "2"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("No bot") == 2
    assert "CSAT" in result.stdout
    bad = CliRunner().invoke(app, ["journeys", "--intent", "refunds"])
    assert bad.exit_code == 2
    assert "is not an intent of this scenario" in bad.output
