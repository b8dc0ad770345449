"""KPIs are computed from totals alone: totals written by hand (no simulation, no engine) give the KPIs their
definitions in docs/kpis.md say, worked out here by hand."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from sandbox.metrics.kpis import KPIS, compute_kpis
from sandbox.metrics.ledger import Totals
from sandbox.model.outcomes import Outcome, Reason


@dataclass
class Shape:
    """A run of one 8-hour day in two 4-hour intervals, open all along; two intents."""

    end: float = 480.0
    interval: float = 240.0
    n_bins: int = 2
    intents: list[str] = field(default_factory=lambda: ["billing", "tech"])
    channels: list[str] = field(default_factory=lambda: ["voice"])
    skills: list[str] = field(default_factory=lambda: ["general"])
    timeline: list[tuple[float, bool, dict[int, int]]] = field(default_factory=lambda: [(0.0, True, {0: 2})])
    bot_cost_per_conversation: float = 0.5
    bot_cost_per_resolution: float = 1.0


def hand_made() -> Totals:
    t = Totals(n_intents=2, n_bins=2, interval=240.0, n_channels=1)
    # 100 contacts: 60 talked to the bot (30 contained, 5 believed a wrong answer, 5 gave up, 20 escalated);
    # 40 went straight to the queue; of the 60 queued, 50 were served and 10 abandoned.
    t.outcome_by_intent[0, Outcome.CONTAINED] = 30
    t.outcome_by_intent[0, Outcome.FALSE_CONTAINED] = 5
    t.outcome_by_intent[0, Outcome.ABANDONED_BOT] = 5
    t.outcome_by_intent[1, Outcome.SERVED] = 50
    t.outcome_by_intent[1, Outcome.ABANDONED_QUEUE] = 10
    t.reasons[Reason.MAX_TURNS], t.reasons[Reason.REQUEST] = 15, 5
    for name, value in {"bot_handled": 60, "escalated": 20, "queued": 60, "wait_served": 50 * 0.5,
                        "wait_all": 50 * 0.5 + 10 * 2.0, "answered_within_t": 40, "abandoned_before_t": 4,
                        "final": 100, "csat": 63.0, "journeys": 90, "survey_csat": 72.0,
                        "churn_cost": 155.0, "frustration": 25.0, "churn": 8.0, "agent_minutes": 2 * 480,
                        "paid_minutes": 2 * 480 / 0.8,
                        "agent_cost": 2 * 8 * 30.0}.items():
        t.add(name, value)
    t.by_channel["queued"][0] = [20, 40]
    t.by_channel["answered_within_t"][0] = [18, 22]
    t.by_channel["offered"][0] = [50, 50]
    t.by_channel["gave_up"][0] = [5, 10]
    t.series["busy_area"][:] = [240.0, 480.0]  # agent-minutes busy per interval, of 480 staffed in each
    t.series["staffed_area"] = np.array([480.0, 480.0])
    t.series["on_duty_area"] = np.array([480.0, 480.0])
    return t


def test_kpis_follow_their_definitions_from_hand_made_totals() -> None:
    k = compute_kpis(Shape(), hand_made()).kpis
    assert set(k) == set(KPIS)
    assert k["offered"] == 100
    assert k["bot_resolution_rate"] == pytest.approx(30 / 60)
    assert k["containment_rate"] == pytest.approx(40 / 60)  # the industry figure counts gave-ups as contained
    assert k["escalated_max_turns"] + k["escalated_request"] == k["escalated"] == 20
    assert k["abandonment_rate"] == pytest.approx(15 / 100)
    assert k["queue_abandonment_rate"] == pytest.approx(10 / 60)
    assert k["asa_served"] == pytest.approx(30.0)  # seconds
    assert k["asa_all"] == pytest.approx((25 + 20) / 60 * 60)
    assert k["service_level"] == pytest.approx(40 / 60)
    assert k["service_level_served"] == pytest.approx(40 / 50)
    assert k["service_level_excl_early"] == pytest.approx(40 / 56)
    assert k["service_level_voice"] == pytest.approx(40 / 60)
    assert k["abandonment_rate_voice"] == pytest.approx(15 / 100)
    assert np.isnan(k["service_level_chat"])  # no chat in this run
    assert k["csat"] == pytest.approx(63 / 90)  # per journey that ended
    assert k["survey_csat"] == pytest.approx(72 / 100)  # per finished contact
    assert k["occupancy"] == pytest.approx(720 / 960)
    assert k["agent_hours"] == pytest.approx(20)  # paid: 16 productive hours at 20% shrinkage
    assert k["productive_hours"] == pytest.approx(16)
    assert k["bot_cost"] == pytest.approx(60 * 0.5 + 35 * 1.0)
    assert k["total_cost"] == pytest.approx(65 + 480)
    assert k["resolved"] == 80
    assert k["cost_per_resolved"] == pytest.approx(545 / 80)
    assert k["churn_cost"] == pytest.approx(155)
    assert k["net_cost"] == pytest.approx(545 + 155)


def test_series_and_a_misspelt_total() -> None:
    computed = compute_kpis(Shape(), hand_made())
    assert computed.series["occupancy"] == [0.5, 1.0]
    assert computed.series["agents_on_duty"] == [2.0, 2.0]
    assert computed.series["voice.answered_within_t"] == [18.0, 22.0]
    assert computed.by_intent["billing"]["contained"] == 30
    with pytest.raises(KeyError, match="no total named 'queueed'"):
        hand_made().get("queueed")
