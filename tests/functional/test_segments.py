"""KPIs by customer segment (by_segment): they add up to the run's, and a priority segment shows its priority."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NO_BOT, SEED, erlang_scenario
from validation.replications import family_level, paired_interval, plan_of

from sandbox.engine.run import simulate
from sandbox.model.outcomes import Outcome


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


def test_a_segment_mix_equal_to_the_intent_shares_is_the_model_without_it() -> None:
    import copy

    from conftest import SMALL_SCENARIO

    plain = copy.deepcopy(SMALL_SCENARIO)
    mixed = copy.deepcopy(SMALL_SCENARIO)
    shares = {name: intent["share"] for name, intent in SMALL_SCENARIO["intents"].items()}
    for segment in mixed["segments"].values():
        segment["intent_mix"] = dict(shares)
    a = simulate(plan_of(plain, NO_BOT), seed=SEED, replication=0)
    b = simulate(plan_of(mixed, NO_BOT), seed=SEED, replication=0)
    assert a.kpis == pytest.approx(b.kpis, nan_ok=True)


def test_each_segment_draws_its_own_intents_and_handle_times() -> None:
    import copy

    from conftest import SMALL_SCENARIO

    own = copy.deepcopy(SMALL_SCENARIO)
    own["channels"] = {"voice": {"share": 1, "service_level_threshold": "20s"}}  # handle times without chat load
    own["segments"]["vip"]["intent_mix"] = {"billing_error": 1.0}
    longer = copy.deepcopy(own)
    longer["segments"]["vip"]["handle_time_factor"] = 2.0
    r, r2 = (simulate(plan_of(s, NO_BOT), seed=SEED, replication=0, keep_records=True).records for s in (own, longer))
    assert r is not None
    assert r2 is not None
    vip = r["segment"] == 1
    billing = list(SMALL_SCENARIO["intents"]).index("billing_error")
    assert vip.any()
    assert (r["intent"][vip] == billing).all()
    assert (r["intent"][~vip] != billing).any()  # the others keep the shared mix
    # The same customers (common random numbers): a VIP served in both runs took exactly twice as long.
    served = {(a, g): h for a, g, h, o in zip(r["arrive"], r["segment"], r["handle"], r["outcome"], strict=True)
              if o == int(Outcome.SERVED) and h > 0}
    ratio = {1: [], 0: []}
    for a, g, h, o in zip(r2["arrive"], r2["segment"], r2["handle"], r2["outcome"], strict=True):
        if o == int(Outcome.SERVED) and (a, g) in served:
            ratio[int(g == 1)].append(h / served[(a, g)])
    assert len(ratio[1]) > 10
    assert np.allclose(ratio[1], 2.0)
    assert np.allclose(ratio[0], 1.0)
