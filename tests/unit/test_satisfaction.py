"""sandbox.model.satisfaction: the survey and journey CSAT equation (resolution, effort, emotion), its
switch-off to the earlier CSAT × (1 − F), and SQM's churn rates scaled by frustration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.config.scenario import Churn, Satisfaction
from sandbox.model.outcomes import UNRESOLVED, Outcome
from sandbox.model.satisfaction import churn_probability, satisfaction, unavoidable_churn

OFF = Satisfaction(unresolved=1.0, per_extra_step=0.0, misled=0.0)  # every new lever switched off
share = st.floats(0, 1)


def _sat(f: float, resolved: bool, steps: int, params: Satisfaction, ceiling: float = 0.9) -> float:
    return float(satisfaction(np.array([f]), np.array([ceiling]), np.array([resolved]), np.array([steps]),
                              params)[0])


def test_switched_off_it_is_the_earlier_ceiling_times_calm() -> None:
    f = np.array([0.0, 0.25, 0.5, 1.0])
    ceiling = np.array([0.9, 0.88, 0.92, 0.9])
    for resolved in (True, False):
        got = satisfaction(f, ceiling, np.full(4, resolved), np.array([0, 1, 2, 3]), OFF)
        np.testing.assert_allclose(got, [0.9, 0.66, 0.46, 0.0], rtol=1e-14)


def test_the_default_formula() -> None:
    d = Satisfaction()
    assert _sat(0.2, True, 0, d) == pytest.approx(0.9 * 0.8)
    assert _sat(0.2, True, 2, d) == pytest.approx(0.9 * 0.85 ** 2 * 0.8)
    assert _sat(0.2, False, 1, d) == pytest.approx(0.9 * 0.2 * 0.85 * 0.8)


@given(f=share, steps=st.integers(0, 6), unresolved=share, step=share)
def test_resolved_never_scores_below_unresolved_at_the_same_effort_and_emotion(f: float, steps: int,
                                                                                unresolved: float,
                                                                                step: float) -> None:
    params = Satisfaction(unresolved=unresolved, per_extra_step=step)
    assert _sat(f, True, steps, params) >= _sat(f, False, steps, params)


@given(f=share, more=share, steps=st.integers(0, 6), resolved=st.booleans())
def test_more_effort_or_frustration_never_raises_satisfaction(f: float, more: float, steps: int,
                                                              resolved: bool) -> None:
    d = Satisfaction()
    assert _sat(f, resolved, steps + 1, d) <= _sat(f, resolved, steps, d)
    assert _sat(min(1.0, f + more), resolved, steps, d) <= _sat(f, resolved, steps, d)


def test_abandoned_customers_score_far_below_resolved_ones_by_default() -> None:
    d = Satisfaction()
    assert _sat(0.5, False, 0, d) < 0.25 * _sat(0.5, True, 0, d)


@given(f0=share, extra=share)
def test_unavoidable_churn_is_that_of_a_first_contact_resolution_at_the_arrival_mood(f0: float,
                                                                                     extra: float) -> None:
    churn = Churn()
    base = float(unavoidable_churn(np.array([f0]), churn)[0])
    assert base == pytest.approx(min(1.0, 0.05 * (0.5 + f0)))
    f = min(1.0, f0 + extra)
    for outcome in (Outcome.CONTAINED, Outcome.SERVED, *UNRESOLVED):
        for repeat in (False, True):
            assert _churn(f, outcome, repeat) >= base - 1e-12  # nothing is served better than perfectly


def _churn(f: float, outcome: Outcome, repeat: bool, churn: Churn | None = None) -> float:
    return float(churn_probability(np.array([f]), np.array([int(outcome)]), np.array([repeat]),
                                   churn or Churn())[0])


@pytest.mark.parametrize(("outcome", "repeat", "rate"), [
    (Outcome.CONTAINED, False, 0.05), (Outcome.SERVED, False, 0.05),
    (Outcome.SERVED, True, 0.09), (Outcome.CONTAINED, True, 0.09),
    (Outcome.CALLBACK, False, 0.09), (Outcome.CALLBACK, True, 0.09),
    *[(o, False, 0.25) for o in UNRESOLVED], *[(o, True, 0.25) for o in UNRESOLVED],
])
def test_sqm_rates_at_half_frustration(outcome: Outcome, repeat: bool, rate: float) -> None:
    assert _churn(0.5, outcome, repeat) == pytest.approx(rate, rel=1e-14)


@pytest.mark.parametrize("f", [0.0, 0.2, 0.7, 1.0])
def test_churn_scales_with_half_plus_frustration(f: float) -> None:
    assert _churn(f, Outcome.SERVED, False) == pytest.approx(0.05 * (0.5 + f), rel=1e-14)
    assert _churn(f, Outcome.SERVED, True) == pytest.approx(0.09 * (0.5 + f), rel=1e-14)
    assert _churn(f, Outcome.ABANDONED_QUEUE, False) == pytest.approx(0.25 * (0.5 + f), rel=1e-14)


def test_churn_is_capped_at_one() -> None:
    churn = Churn(unresolved=0.9)
    assert _churn(1.0, Outcome.DEAD_ENDED, False, churn) == 1.0
    assert _churn(0.5, Outcome.DEAD_ENDED, False, churn) == pytest.approx(0.9)


def test_churn_is_vectorised_elementwise() -> None:
    f = np.array([0.5, 0.5, 0.5, 1.0])
    outcome = np.array([Outcome.SERVED, Outcome.SERVED, Outcome.BLOCKED, Outcome.CONTAINED])
    repeat = np.array([False, True, False, False])
    np.testing.assert_allclose(churn_probability(f, outcome, repeat, Churn()), [0.05, 0.09, 0.25, 0.075],
                               rtol=1e-14)
