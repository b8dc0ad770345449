"""sandbox.insights: every sentence of the Why view is true of the run, names its denominator, and a detector
that has nothing to say stays silent (the baseline is never compared with itself)."""

from __future__ import annotations

import re

import pytest

from sandbox import api
from sandbox.insights import explain

FAST = dict(replications=2, days=1, seed=3, overrides=["demand.contacts_per_day=500"])


@pytest.fixture(scope="module")
def with_dead_end_baseline() -> api.Comparison:
    return api.compare(policies=["dead-end", "no-bot", "cold-handoff"], **FAST)


def test_the_baseline_is_never_compared_with_itself(with_dead_end_baseline: api.Comparison) -> None:
    for insight in explain(with_dead_end_baseline):
        if insight.policy == "dead-end":
            for compared in ("with dead-end", "for dead-end", "against"):
                assert compared not in insight.text, insight.text


def test_shares_are_shares_and_requests_are_not_customers(with_dead_end_baseline: api.Comparison) -> None:
    for insight in explain(with_dead_end_baseline):
        for percent in re.findall(r"(\d+)% of", insight.text):
            assert int(percent) <= 100, insight.text
        if "refused" in insight.text:
            for words in ("requests were refused", "conversations"):
                assert words in insight.text, insight.text
        if "repeat what they had already said" in insight.text:
            for words in ("times a run", "per 100 contacts"):
                assert words in insight.text, insight.text


def test_numbers_in_a_sentence_are_the_runs_own(with_dead_end_baseline: api.Comparison) -> None:
    c = with_dead_end_baseline
    p = c.labels.index("dead-end")
    dead = c.estimate(p, "dead_ended").mean
    text = next(i.text for i in explain(c) if i.policy == "dead-end" and i.mode == "dead_end")
    assert f"({dead:.0f} a run)" in text
    assert f"sends {100 * dead / c.estimate(p, 'offered').mean:.0f}% of customers away" in text


def test_a_policy_without_a_bot_has_no_bot_insights() -> None:
    c = api.compare(policies=["no-bot", "no-bot"], **FAST)
    modes = {i.mode for i in explain(c)}
    assert not modes & {"dead_end", "emotional_intent", "wrong_answers", "flattering_containment",
                        "survey_vs_journey"}
    assert not modes & {"cost", "net_cost"}  # identical policies: no significant difference to explain


def test_cold_handoffs_are_named_only_where_the_handoff_is_cold(with_dead_end_baseline: api.Comparison) -> None:
    texts = {i.policy: i.text for i in explain(with_dead_end_baseline) if i.mode == "repeated_information"}
    assert "on cold handoffs" in texts["cold-handoff"]
    for warm in ("no-bot", "dead-end"):
        assert "cold" not in texts.get(warm, ""), texts[warm]


NO_ATTACKS = [f"scenario.security.{kind}.share=0" for kind in ("account_takeover", "refund_fraud", "data_extraction")]


def test_security_speaks_of_incidents_and_friction_and_is_silent_without_attacks() -> None:
    c = api.compare(policies=["bot-acts-unverified", "bot-acts-verified"], replications=4, days=1, seed=3)
    texts = {i.policy: i.text for i in explain(c) if i.mode == "security"}
    assert "acts on accounts without verifying who it talks to" in texts["bot-acts-unverified"]
    p = c.labels.index("bot-acts-verified")
    assert f"sent {c.estimate(p, 'verification_failed').mean:.0f} genuine customers a run" in \
        texts["bot-acts-verified"]
    quiet = api.compare(policies=["warm-handoff", "no-bot"], replications=2, days=1, seed=3, overrides=NO_ATTACKS)
    assert not [i for i in explain(quiet) if i.mode == "security"]  # no attacks, no verification: nothing to say


def test_the_survey_is_called_flattering_only_when_wrong_answers_make_it_so() -> None:
    honest = api.compare(policies=["warm-handoff"], **{**FAST, "overrides": ["bot.wrong_answers=0"]})
    assert not [i for i in explain(honest) if i.mode == "survey_vs_journey"]
    stale = api.compare(policies=["warm-handoff"], **{**FAST, "overrides": ["bot.wrong_answers=8"]})
    text = next(i.text for i in explain(stale) if i.mode == "survey_vs_journey")
    survey = stale.estimate(0, "survey_csat").mean
    assert f"would show CSAT {100 * survey:.0f}%" in text


def test_net_cost_names_both_costs_and_what_was_resolved() -> None:
    c = api.compare(policies=["warm-handoff", "aggressive-automation"], replications=6, days=1, seed=3)
    text = next(i.text for i in explain(c) if i.mode == "net_cost")
    assert text.startswith("aggressive-automation is ")
    assert "cheaper to run" in text
    assert "dearer in net cost" in text
    assert f"it resolves {c.estimate(1, 'resolved').mean:.0f} contacts" in text
    assert not [i for i in explain(c) if i.mode == "net_cost" and i.policy == "warm-handoff"]  # the baseline


def test_calming_is_silent_when_agents_do_not_deescalate() -> None:
    flat = [f"agents.groups.{g}.deescalation=0" for g in ("service", "billing")]
    c = api.compare(policies=["no-bot"], **{**FAST, "overrides": [*FAST["overrides"], *flat]})
    assert not [i for i in explain(c) if i.mode == "deescalation"]
    calming = api.compare(policies=["no-bot"], **FAST)
    assert [i for i in explain(calming) if i.mode == "deescalation"]
