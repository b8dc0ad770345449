"""sandbox.model.frustration: the closed-form abandonment moment against numerical integration, the
failure weight and de-escalation (satisfaction and churn: test_satisfaction.py)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from sandbox.config.scenario import Churn, Frustration
from sandbox.model.frustration import FrustrationModel


def model(beta: float = 0.5, d: float = 0.05, **churn: float) -> FrustrationModel:
    return FrustrationModel(Frustration(patience_coupling=beta, per_minute_waiting=d), Churn(**churn))


def spent(f0: float, beta: float, d: float, t: float) -> float:
    """∫₀ᵗ exp(β·min(1, F0 + d·s)) ds by quadrature, split at the cap so the kink is an endpoint."""
    cap = (1 - f0) / d if d > 0 and f0 < 1 else math.inf
    rate = lambda s: math.exp(beta * min(1.0, f0 + d * s))  # noqa: E731
    if t <= cap:
        return quad(rate, 0, t, epsabs=1e-13, epsrel=1e-12)[0]
    return quad(rate, 0, cap, epsabs=1e-13, epsrel=1e-12)[0] + (t - cap) * math.exp(beta)


def numerical_delay(f0: float, beta: float, d: float, tau: float) -> float:
    """Solve ∫₀ᵗ exp(β·F(s)) ds = τ for t with brentq (the rate is at least 1, so t ≤ τ)."""
    return brentq(lambda t: spent(f0, beta, d, t) - tau, 0.0, tau, xtol=1e-12, rtol=1e-12)


GRID = [(f0, beta, d, tau)
        for f0 in (0.0, 0.1, 0.45, 0.9, 1.0)
        for beta in (0.0, 0.5, 2.0)
        for d in (0.0, 0.05, 0.5)
        for tau in (0.01, 1.0, 3.0, 30.0)]


@pytest.mark.parametrize(("f0", "beta", "d", "tau"), GRID)
def test_abandonment_delay_solves_the_integral(f0: float, beta: float, d: float, tau: float) -> None:
    got = model(beta, d).abandonment_delay(f0, tau)
    assert got == pytest.approx(numerical_delay(f0, beta, d, tau), rel=1e-8, abs=1e-10)
    # and the budget spent by then is exactly τ
    assert spent(f0, beta, d, got) == pytest.approx(tau, rel=1e-8)


def test_grid_covers_both_sides_of_the_cap() -> None:
    """Some grid points reach F = 1 before abandoning, some do not (so both branches are exercised)."""
    reach = [(1 - f0) / d < numerical_delay(f0, beta, d, tau)
             for f0, beta, d, tau in GRID if d > 0 and beta > 0 and f0 < 1]
    assert any(reach)
    assert not all(reach)


@pytest.mark.parametrize("tau", [0.001, 0.5, 2.0, 17.3, 1e4])
@pytest.mark.parametrize("f0", [0.0, 0.3, 1.0])
def test_no_coupling_returns_the_budget_exactly(f0: float, tau: float) -> None:
    assert model(beta=0.0, d=0.05).abandonment_delay(f0, tau) == tau


def test_no_growth_divides_by_the_constant_rate() -> None:
    assert model(beta=0.5, d=0.0).abandonment_delay(0.4, 3.0) == pytest.approx(3.0 / math.exp(0.2), rel=1e-14)


def test_already_furious_customers_spend_at_the_capped_rate() -> None:
    assert model(beta=2.0, d=0.05).abandonment_delay(1.0, 3.0) == pytest.approx(3.0 / math.exp(2.0), rel=1e-14)


@pytest.mark.parametrize("f0", [0.0, 0.5, 1.0])
def test_zero_and_infinite_budgets(f0: float) -> None:
    m = model(beta=2.0, d=0.5)
    assert m.abandonment_delay(f0, 0.0) == 0.0
    assert m.abandonment_delay(f0, math.inf) == math.inf


def test_delay_is_monotone_in_budget_and_coupling() -> None:
    taus = np.linspace(0.01, 20, 200)
    delays = [model(1.0, 0.1).abandonment_delay(0.2, t) for t in taus]
    assert all(b > a for a, b in itertools.pairwise(delays))
    by_beta = [model(b, 0.1).abandonment_delay(0.2, 5.0) for b in (0.0, 0.5, 1.0, 2.0, 4.0)]
    assert all(b < a for a, b in itertools.pairwise(by_beta))


def test_after_wait_grows_linearly_and_caps() -> None:
    m = model(d=0.05)
    assert m.after_wait(0.2, 4.0) == pytest.approx(0.4)
    assert m.after_wait(0.9, 10.0) == 1.0
    assert m.after_wait(0.3, 0.0) == 0.3


def test_exponential_budget_gives_proportional_hazard() -> None:
    """With exponential τ (mean 1/θ) and d = 0 the abandonment time is exponential with rate θ·exp(β·F)."""
    rng = np.random.default_rng(11)
    n, theta, beta, f0 = 100_000, 0.5, 1.5, 0.4
    m = model(beta=beta, d=0.0)
    delays = np.array([m.abandonment_delay(f0, t) for t in rng.exponential(1 / theta, n)])
    expected_mean = 1 / (theta * math.exp(beta * f0))
    assert abs(delays.mean() - expected_mean) < 5 * delays.std(ddof=1) / math.sqrt(n)


def test_ask_and_quit_probabilities() -> None:
    m = FrustrationModel(Frustration(ask_for_human=2.0, quit_bot=0.3), Churn())
    f = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(m.ask_probability(f), 1 - np.exp(-2.0 * f), rtol=1e-14)
    np.testing.assert_allclose(m.quit_probability(f), 1 - np.exp(-0.3 * f), rtol=1e-14)
    assert m.ask_probability(np.array([0.5]))[0] == pytest.approx(0.632, abs=5e-4)  # "at F = 0.5: 63%"


def test_failed_turns_hurt_emotional_intents_more_and_eta_zero_is_the_earlier_step() -> None:
    m = FrustrationModel(Frustration(emotional_failure=1.0), Churn())
    load = np.array([0.0, 0.45, 1.0])
    weight = m.failure_weight(load)
    np.testing.assert_allclose(weight, [1.0, 1.45, 2.0], rtol=1e-14)
    np.testing.assert_allclose(m.after_failed_turn(np.full(3, 0.1), weight), [0.22, 0.1 + 0.12 * 1.45, 0.34],
                               rtol=1e-12)
    flat = FrustrationModel(Frustration(emotional_failure=0.0), Churn())
    np.testing.assert_array_equal(flat.failure_weight(load), np.ones(3))


@pytest.mark.parametrize("calm", [0.0, 0.3, 1.0])
def test_deescalation_lowers_frustration_by_its_share_and_never_raises_it(calm: float) -> None:
    m = FrustrationModel(Frustration(), Churn())
    for f in (0.0, 0.4, 1.0):
        assert m.after_service(f, calm) == pytest.approx(f * (1 - calm))
        assert m.after_service(f, calm) <= f
