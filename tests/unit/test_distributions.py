"""sandbox.config.distributions: analytic means against samples, scaling, and refused parametrisations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import SEED
from pydantic import TypeAdapter, ValidationError
from scipy import stats

from sandbox.config.distributions import Distribution, Empirical, Lognormal, Mixture, Weibull

N_DRAWS = 200_000
Z = 5.0  # standard errors allowed between the analytic and the sample mean
ADAPTER: TypeAdapter[Any] = TypeAdapter(Distribution)

# (id, YAML mapping, independently computed mean in minutes)
CASES: list[tuple[str, dict[str, Any], float]] = [
    ("exponential", {"kind": "exponential", "mean": "45s"}, 0.75),
    ("lognormal-mean-cv", {"kind": "lognormal", "mean": "6m", "cv": 1.13}, 6.0),
    ("lognormal-median-sigma", {"kind": "lognormal", "median": "4m", "sigma": 0.8}, 4 * math.exp(0.8**2 / 2)),
    ("gamma", {"kind": "gamma", "mean": "5m", "cv": 0.5}, 5.0),
    ("gamma-heavy", {"kind": "gamma", "mean": "2m", "cv": 2.0}, 2.0),
    ("weibull-scale", {"kind": "weibull", "shape": 1.5, "scale": "3m"}, 3 * math.gamma(1 + 1 / 1.5)),
    ("weibull-mean", {"kind": "weibull", "shape": 0.7, "mean": "2m"}, 2.0),
    ("deterministic", {"kind": "deterministic", "value": "30s"}, 0.5),
    ("empirical", {"kind": "empirical", "values": ["1m", "2m", "6m"]}, 3.0),
    ("empirical-weighted", {"kind": "empirical", "values": ["1m", "2m", "6m"], "weights": [2, 1, 1]},
     (2 * 1 + 2 + 6) / 4),
    ("mixture", {"kind": "mixture", "components": [
        {"weight": 3, "distribution": {"kind": "exponential", "mean": "1m"}},
        {"weight": 1, "distribution": {"kind": "lognormal", "mean": "20m", "cv": 0.5}},
    ]}, 0.75 * 1 + 0.25 * 20),
    ("mixture-nested", {"kind": "mixture", "components": [
        {"weight": 1, "distribution": {"kind": "deterministic", "value": "1m"}},
        {"weight": 1, "distribution": {"kind": "mixture", "components": [
            {"weight": 1, "distribution": {"kind": "gamma", "mean": "4m", "cv": 1}},
            {"weight": 3, "distribution": {"kind": "weibull", "shape": 2, "mean": "8m"}}]}},
    ]}, 0.5 * 1 + 0.5 * (0.25 * 4 + 0.75 * 8)),
]
IDS = [c[0] for c in CASES]


def make(spec: dict[str, Any]) -> Any:
    return ADAPTER.validate_python(spec)


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in CASES], ids=IDS)
def test_analytic_mean(spec: dict[str, Any], expected: float) -> None:
    assert make(spec).mean() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in CASES], ids=IDS)
def test_sample_mean_matches_analytic_mean(spec: dict[str, Any], expected: float) -> None:
    dist = make(spec)
    draws = dist.sample(np.random.default_rng(SEED), N_DRAWS)
    assert draws.shape == (N_DRAWS,)
    assert np.all(np.isfinite(draws))
    assert np.all(draws >= 0)
    se = draws.std(ddof=1) / math.sqrt(N_DRAWS)
    if se == 0:  # deterministic
        assert np.all(draws == expected)
    else:
        assert abs(draws.mean() - dist.mean()) < Z * se, (draws.mean(), dist.mean(), se)


def test_lognormal_parametrisations_agree() -> None:
    by_mean = Lognormal(kind="lognormal", mean="6m", cv=1.13)  # type: ignore[call-arg]
    mu, sigma = by_mean.log_params()
    assert sigma == pytest.approx(math.sqrt(math.log(1 + 1.13**2)))
    assert math.exp(mu) * math.exp(sigma**2 / 2) == pytest.approx(6.0)
    by_median = Lognormal(kind="lognormal", median=f"{math.exp(mu)!r}m", sigma=sigma)  # type: ignore[call-arg]
    assert by_median.mean() == pytest.approx(6.0)


def test_lognormal_sample_has_the_requested_cv() -> None:
    draws = make({"kind": "lognormal", "mean": "6m", "cv": 0.5}).sample(np.random.default_rng(SEED), N_DRAWS)
    # Standard error of a sample sd is about sd·sqrt((kurtosis − 1)/(4n)); 5 SE with the sample's kurtosis.
    kurt = stats.kurtosis(draws, fisher=False)
    se_cv = 0.5 * math.sqrt((kurt - 1) / (4 * N_DRAWS)) + 0.5 * 0.5 / math.sqrt(N_DRAWS)
    assert abs(draws.std(ddof=1) / draws.mean() - 0.5) < Z * se_cv


def test_weibull_and_gamma_shapes_match_scipy() -> None:
    """A Kolmogorov–Smirnov check that the parametrisation is the textbook one, not just the mean."""
    rng = np.random.default_rng(SEED)
    weibull = make({"kind": "weibull", "shape": 1.5, "scale": "3m"}).sample(rng, 20_000)
    assert stats.kstest(weibull, stats.weibull_min(c=1.5, scale=3.0).cdf).pvalue > 1e-4
    gamma = make({"kind": "gamma", "mean": "5m", "cv": 0.5}).sample(rng, 20_000)
    assert stats.kstest(gamma, stats.gamma(a=4.0, scale=5.0 / 4.0).cdf).pvalue > 1e-4


def test_empirical_weights_give_the_frequencies() -> None:
    dist = make({"kind": "empirical", "values": ["1m", "2m", "6m"], "weights": [2, 1, 0]})
    draws = dist.sample(np.random.default_rng(SEED), N_DRAWS)
    assert set(np.unique(draws)) == {1.0, 2.0}
    share = float(np.mean(draws == 1.0))
    assert abs(share - 2 / 3) < Z * math.sqrt(2 / 9 / N_DRAWS)


@pytest.mark.parametrize("spec", [c[1] for c in CASES], ids=IDS)
@pytest.mark.parametrize("factor", [0.5, 1.5, 3.0])
def test_scaled_multiplies_the_mean(spec: dict[str, Any], factor: float) -> None:
    dist = make(spec)
    scaled = dist.scaled(factor)
    assert type(scaled) is type(dist)
    assert scaled.mean() == pytest.approx(factor * dist.mean(), rel=1e-12)
    assert dist.mean() == pytest.approx(make(spec).mean(), rel=0)  # the original is untouched (frozen copy)


@pytest.mark.parametrize("spec", [c[1] for c in CASES], ids=IDS)
def test_scaled_keeps_the_shape(spec: dict[str, Any]) -> None:
    """Same seed: every draw of the scaled distribution is the original draw times the factor."""
    dist = make(spec)
    base = dist.sample(np.random.default_rng(SEED), 1000)
    scaled = dist.scaled(2.5).sample(np.random.default_rng(SEED), 1000)
    np.testing.assert_allclose(scaled, 2.5 * base, rtol=1e-9)


def test_samplers_draw_from_the_given_generator_only() -> None:
    spec = CASES[1][1]
    a = make(spec).sample(np.random.default_rng(7), 50)
    np.random.default_rng(99).random(10)
    b = make(spec).sample(np.random.default_rng(7), 50)
    np.testing.assert_array_equal(a, b)
    assert make(spec).sample(np.random.default_rng(7), 0).shape == (0,)


# ---------------------------------------------------------------------------------------------------------
# refused parametrisations


@pytest.mark.parametrize(("spec", "message"), [
    ({"kind": "lognormal", "mean": "6m"}, "give either mean and cv, or median and sigma (got mean)"),
    ({"kind": "lognormal", "sigma": 0.5}, "(got sigma)"),
    ({"kind": "lognormal"}, "(got none)"),
    ({"kind": "lognormal", "mean": "6m", "sigma": 0.5}, "(got mean, sigma)"),
    ({"kind": "lognormal", "mean": "6m", "cv": 1, "median": "4m"}, "(got mean, cv, median)"),
    ({"kind": "lognormal", "mean": "6m", "cv": 1, "median": "4m", "sigma": 1}, "(got mean, cv, median, sigma)"),
    ({"kind": "weibull", "shape": 2, "scale": "1m", "mean": "1m"}, "exactly one of scale or mean"),
    ({"kind": "weibull", "shape": 2}, "exactly one of scale or mean"),
    ({"kind": "empirical", "values": ["1m", "2m"], "weights": [1]}, "1 weights for 2 values"),
    ({"kind": "empirical", "values": ["1m"], "weights": [1, 2]}, "2 weights for 1 values"),
    ({"kind": "empirical", "values": ["1m", "2m"], "weights": [0, 0]}, "weights must not all be zero"),
    ({"kind": "empirical", "values": ["1m", "-2m"]}, "'-2m' is negative"),
    ({"kind": "empirical", "values": []}, "at least 1 item"),
    ({"kind": "empirical", "values": ["1m"], "weights": [-1]}, "greater than or equal to 0"),
    ({"kind": "exponential", "mean": "0s"}, "greater than 0"),
    ({"kind": "exponential", "mean": 5}, "5 has no unit"),
    ({"kind": "exponential", "mean": "5m", "cv": 1}, "Extra inputs are not permitted"),
    ({"kind": "gamma", "mean": "5m"}, "Field required"),
    ({"kind": "gamma", "mean": "5m", "cv": 0}, "greater than 0"),
    ({"kind": "weibull", "shape": 0, "scale": "1m"}, "greater than or equal to 0.1"),
        ({"kind": "lognormal", "median": "300d", "sigma": 10}, "mean longer than a year"),
        ({"kind": "lognormal", "mean": "6m", "cv": 1e308}, "less than or equal to 100"),
        ({"kind": "gamma", "mean": "6m", "cv": float("inf")}, "finite number"),
        ({"kind": "exponential", "mean": "1e400s"}, "longer than a year"),
    ({"kind": "mixture", "components": []}, "at least 1 item"),
    ({"kind": "mixture", "components": [{"weight": 0, "distribution": {"kind": "deterministic", "value": "1m"}}]},
     "greater than 0"),
    ({"kind": "normal", "mean": "5m"}, "does not match any of the expected tags"),
    ({"mean": "5m"}, "Unable to extract tag using discriminator 'kind'"),
])
def test_wrong_parametrisations_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        make(spec)
    assert message in str(info.value)


def test_models_are_frozen() -> None:
    dist = Weibull(kind="weibull", shape=2, mean="3m")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        dist.shape = 3  # type: ignore[misc]
    assert isinstance(make(CASES[9][1]), Empirical)
    assert isinstance(make(CASES[10][1]), Mixture)
