"""The outcome and security model gives the answers a customer-experience leader would expect (issue: outcomes
and security), each judged with its paired 95% confidence interval on common random numbers."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from sandbox import api
from sandbox.cli.main import app

INTENTS = ("order_status", "returns", "product_question", "billing_error", "cancellation", "account_change")
REPS = 10


def compare(policies: list[str], overrides: tuple[str, ...] | list[str] = (), **kwargs: Any) -> api.Comparison:
    return api.compare("ecommerce", policies, replications=REPS, days=1, seed=11, workers=1,
                       overrides=list(overrides), **kwargs)


def test_the_default_comparison_shows_journey_and_survey_csat_net_cost_and_incidents() -> None:
    result = CliRunner().invoke(app, ["compare", "-p", "warm-handoff", "-p", "bot-acts-unverified", "-n", "2",
                                      "--days", "1"])
    assert result.exit_code == 0, result.output
    for row in ("CSAT (journey)", "CSAT (survey)", "net cost", "security incidents"):
        assert row in result.stdout, row


def test_wrong_answers_flatter_the_survey_and_hurt_the_journey() -> None:
    wrong = compare(["warm-handoff"], [f"intents.{i}.bot.wrong_answer=0.3" for i in INTENTS])
    right = compare(["warm-handoff"], [f"intents.{i}.bot.wrong_answer=0.0" for i in INTENTS])
    journey_w, journey_r = wrong.estimate(0, "csat"), right.estimate(0, "csat")
    assert journey_w.high < journey_r.low  # clearly lower on the journey
    survey_w, survey_r = wrong.estimate(0, "survey_csat"), right.estimate(0, "survey_csat")
    assert survey_w.mean >= survey_r.mean - survey_r.half_width  # the survey does not see it
    gap = [s - j for s, j in zip(wrong.values(0, "survey_csat"), wrong.values(0, "csat"), strict=True)]
    assert min(gap) > 0  # in every replication the survey is above the journey


def test_cheaper_to_run_is_not_cheaper_when_it_resolves_less() -> None:
    c = compare(["warm-handoff", "aggressive-automation"])
    running, net = c.difference(1, "cost_per_resolved"), c.difference(1, "net_cost")
    assert running.significant
    assert running.mean < 0
    assert net.significant
    assert net.mean > 0
    assert c.difference(1, "resolved").mean < 0


def test_unverified_account_actions_show_their_price_and_verification_its_friction() -> None:
    c = compare(["bot-acts-unverified", "bot-acts-verified"])
    incidents = c.difference(1, "incidents")
    assert incidents.significant
    assert incidents.mean < 0
    assert c.difference(1, "incident_cost").mean < 0
    assert c.estimate(0, "verification_failed").mean == 0
    assert c.estimate(1, "verification_failed").low > 0  # genuine customers pay for it


def test_a_bot_that_only_reads_cannot_be_talked_into_account_changes() -> None:
    only_takeovers = ["scenario.security.account_takeover.share=0.05", "scenario.security.refund_fraud.share=0",
                      "scenario.security.data_extraction.share=0"]
    c = compare(["warm-handoff", "bot-acts-unverified"], only_takeovers)
    assert sum(c.values(0, "incidents_bot")) == 0  # level read
    assert c.estimate(1, "incidents_bot").low > 0  # level act, nothing in the way


def test_customers_left_without_a_resolution_score_far_below_resolved_ones() -> None:
    staffed = compare(["no-bot"])
    nobody = compare(["no-bot"], ["policy.staffing.scale=0"])
    assert nobody.estimate(0, "abandonment_rate").mean > 0.9
    assert nobody.estimate(0, "csat").high < 0.3 * staffed.estimate(0, "csat").low


@pytest.mark.parametrize("calm", [0.0, 0.6])
def test_agents_who_calm_customers_raise_csat_without_changing_the_queue(calm: float) -> None:
    sets = [f"agents.groups.{g}.deescalation={calm}" for g in ("service", "billing")]
    c = compare(["no-bot"], sets)
    base = compare(["no-bot"], [f"agents.groups.{g}.deescalation=0.3" for g in ("service", "billing")])
    assert c.values(0, "asa_all") == base.values(0, "asa_all")
    direction = c.estimate(0, "csat").mean - base.estimate(0, "csat").mean
    assert direction > 0 if calm > 0.3 else direction < 0


@pytest.mark.parametrize("same_issue", [False, True])
def test_misled_customers_return_with_the_issue_the_bot_could_not_solve(same_issue: bool) -> None:
    """Why more wrong answers lower csat, shown where the earlier model let them raise it (docs/model.md
    §Satisfaction): no agents, abandoners who never return, unresolved customers never satisfied and customers
    who give up after one failed turn, so honest failure is a dead end. If a returning misled customer drew a
    new issue (same_issue off), the return would be a fresh chance at the bot and csat would rise; with the
    same issue (the default) the bot still cannot solve it and csat does not rise."""
    dead_end = ["policy.staffing.scale=0", "satisfaction.misled=0", "satisfaction.unresolved=0",
                "bot.give_up_after=1", "repeat_contacts.after_false_containment=0.5",
                "repeat_contacts.after_abandonment=0", f"repeat_contacts.same_issue={str(same_issue).lower()}"]
    wrong = compare(["warm-handoff"], [*dead_end, *(f"intents.{i}.bot.wrong_answer=0.3" for i in INTENTS)])
    right = compare(["warm-handoff"], [*dead_end, *(f"intents.{i}.bot.wrong_answer=0.0" for i in INTENTS)])
    paired = [w - r for w, r in zip(wrong.values(0, "csat"), right.values(0, "csat"), strict=True)]
    mean = sum(paired) / len(paired)
    half = 2.262 * (sum((d - mean) ** 2 for d in paired) / (len(paired) - 1) / len(paired)) ** 0.5  # t(0.975, 9)
    if same_issue:
        assert mean - half <= 0  # not significantly higher
    else:
        assert mean - half > 0  # a fresh issue is a second chance
