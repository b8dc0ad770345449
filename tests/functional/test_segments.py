"""KPIs by customer segment (by_segment): they add up to the run's, and a priority segment shows its priority."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NO_BOT, SEED, erlang_scenario
from validation.replications import family_level, paired_interval, plan_of

from sandbox.engine.run import simulate


def _two_segments() -> dict:
    scenario = erlang_scenario(80, "4m", 6, "3m", days=2)
    patience = {"kind": "exponential", "mean": "3m"}
    scenario["segments"] = {"regular": {"share": 0.8, "patience": patience},
                            "priority": {"share": 0.2, "patience": patience, "priority": 1}}
    return scenario


def test_segments_add_up_to_the_run() -> None:
    result = simulate(plan_of(_two_segments(), NO_BOT), seed=SEED, replication=0)
    segments = result.by_segment
    assert set(segments) == {"regular", "priority"}
    assert sum(s["offered"] for s in segments.values()) == result.kpis["offered"]
    weighted = sum(s["abandonment_rate"] * s["offered"] for s in segments.values()) / result.kpis["offered"]
    assert weighted == pytest.approx(result.kpis["abandonment_rate"])


def test_the_priority_segment_waits_less_and_abandons_less_with_the_same_patience() -> None:
    level = family_level(2)
    plan = plan_of(_two_segments(), NO_BOT)
    rows = [simulate(plan, seed=SEED, replication=r).by_segment for r in range(10)]
    for name in ("asa_served", "queue_abandonment_rate"):
        gap = paired_interval(np.array([r["priority"][name] for r in rows]),
                              np.array([r["regular"][name] for r in rows]), level)
        assert gap.high < 0, f"{name}, priority − regular: {gap}"
