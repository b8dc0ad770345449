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
    assert not modes & {"dead_end", "emotional_intent", "wrong_answers", "flattering_containment"}
    assert "cost" not in modes  # identical policies: no significant difference to explain


def test_cold_handoffs_are_named_only_where_the_handoff_is_cold(with_dead_end_baseline: api.Comparison) -> None:
    texts = {i.policy: i.text for i in explain(with_dead_end_baseline) if i.mode == "repeated_information"}
    assert "on cold handoffs" in texts["cold-handoff"]
    for warm in ("no-bot", "dead-end"):
        assert "cold" not in texts.get(warm, ""), texts[warm]
