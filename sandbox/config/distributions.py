"""Provides the duration distributions of the YAML files, each with its analytic mean and a batch sampler.

Every distribution is written as a mapping with a ``kind`` key, for example
``{kind: lognormal, mean: 6m, cv: 1.13}``; all times are in minutes once parsed. Samplers draw whole
numpy arrays from a caller-supplied Generator: the engine never draws one number at a time.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sandbox.config import limits
from sandbox.units import Duration

# A cv of 100 already puts 99.99% of the mass near 0; larger values only overflow the moments.
Spread = Annotated[float, Field(gt=0, le=100)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, **limits.STRICT)

    @model_validator(mode="after")
    def _finite_mean(self) -> Self:
        # Finite parameters can still give an overflowing mean (a lognormal with sigma 10 and a year's median).
        # Pydantic runs this before the subclass's own checks, so parameters may still be incomplete or
        # contradictory here (no mean, all-zero weights): those the subclass reports; only overflow is ours.
        try:
            with np.errstate(all="ignore"):
                mean = self.mean()
        except OverflowError:
            mean = math.inf
        except Exception:
            return self
        if math.isnan(mean):
            return self
        if mean > limits.MAX_DURATION_MINUTES:
            raise ValueError("these parameters give a mean longer than a year; lower the spread or the scale")
        return self

    def mean(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def scaled(self, factor: float) -> Distribution:
        """The same shape with every value multiplied by ``factor`` (used for channel handle-time factors)."""
        raise NotImplementedError  # pragma: no cover


class Exponential(_Dist):
    """Memoryless: the Erlang-C/Erlang-A assumption for handle time and patience."""

    kind: Literal["exponential"]
    mean_: Duration = Field(alias="mean", gt=0, description="Mean duration.")

    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)

    def scaled(self, factor: float) -> Exponential:
        return self.model_copy(update={"mean_": self.mean_ * factor})


class Lognormal(_Dist):
    """Right-skewed; fits call-centre service times far better than the exponential (Brown et al., JASA 2005).

    Give either ``mean`` and ``cv`` (coefficient of variation), or ``median`` and ``sigma`` (the log-sd).
    """

    kind: Literal["lognormal"]
    mean_: Duration | None = Field(None, alias="mean", gt=0, description="Mean (with cv).")
    cv: Spread | None = Field(None, description="Coefficient of variation, sd/mean (with mean).")
    median: Duration | None = Field(None, gt=0, description="Median (with sigma).")
    sigma: float | None = Field(None, gt=0, le=10, description="Standard deviation of log(duration) (with median).")

    @model_validator(mode="after")
    def _one_parametrisation(self) -> Self:
        by_mean = self.mean_ is not None and self.cv is not None
        by_median = self.median is not None and self.sigma is not None
        given = [k for k, v in (("mean", self.mean_), ("cv", self.cv), ("median", self.median),
                                ("sigma", self.sigma)) if v is not None]
        if by_mean == by_median or len(given) != 2:
            raise ValueError(f"give either mean and cv, or median and sigma (got {', '.join(given) or 'none'})")
        return self

    def log_params(self) -> tuple[float, float]:
        """(mu, sigma) of the underlying normal."""
        if self.median is not None and self.sigma is not None:
            return math.log(self.median), self.sigma
        assert self.mean_ is not None
        assert self.cv is not None
        s2 = math.log1p(self.cv**2)
        return math.log(self.mean_) - s2 / 2, math.sqrt(s2)

    def mean(self) -> float:
        mu, sigma = self.log_params()
        return math.exp(mu + sigma**2 / 2)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        mu, sigma = self.log_params()
        return rng.lognormal(mu, sigma, size)

    def scaled(self, factor: float) -> Lognormal:
        if self.median is not None:
            return self.model_copy(update={"median": self.median * factor})
        assert self.mean_ is not None
        return self.model_copy(update={"mean_": self.mean_ * factor})


class Gamma(_Dist):
    """Between deterministic (cv → 0) and heavy-tailed; cv = 1 is the exponential."""

    kind: Literal["gamma"]
    mean_: Duration = Field(alias="mean", gt=0, description="Mean duration.")
    cv: Spread = Field(description="Coefficient of variation, sd/mean; the shape is 1/cv².")

    def mean(self) -> float:
        return self.mean_

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1 / self.cv**2
        return rng.gamma(shape, self.mean_ / shape, size)

    def scaled(self, factor: float) -> Gamma:
        return self.model_copy(update={"mean_": self.mean_ * factor})


class Weibull(_Dist):
    """Monotone hazard: shape < 1 decreasing, > 1 increasing (patience with an early or late surge).

    Give ``shape`` with either ``scale`` or ``mean``.
    """

    kind: Literal["weibull"]
    shape: float = Field(ge=0.1, le=100, description="Shape k; k = 1 is the exponential.")
    scale: Duration | None = Field(None, gt=0, description="Scale λ (or give mean instead).")
    mean_: Duration | None = Field(None, alias="mean", gt=0, description="Mean (or give scale instead).")

    @model_validator(mode="after")
    def _scale_or_mean(self) -> Self:
        if (self.scale is None) == (self.mean_ is None):
            raise ValueError("give shape with exactly one of scale or mean")
        return self

    def _scale(self) -> float:
        if self.scale is not None:
            return self.scale
        assert self.mean_ is not None
        return self.mean_ / math.gamma(1 + 1 / self.shape)

    def mean(self) -> float:
        return self._scale() * math.gamma(1 + 1 / self.shape)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self._scale() * rng.weibull(self.shape, size)

    def scaled(self, factor: float) -> Weibull:
        if self.scale is not None:
            return self.model_copy(update={"scale": self.scale * factor})
        assert self.mean_ is not None
        return self.model_copy(update={"mean_": self.mean_ * factor})


class Deterministic(_Dist):
    """Always the same value (a scripted IVR step, a fixed bot turn)."""

    kind: Literal["deterministic"]
    value: Duration = Field(ge=0, description="The duration.")

    def mean(self) -> float:
        return self.value

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value)

    def scaled(self, factor: float) -> Deterministic:
        return self.model_copy(update={"value": self.value * factor})


class Empirical(_Dist):
    """Resamples observed durations, optionally weighted (e.g. from your own contact records)."""

    kind: Literal["empirical"]
    values: list[Duration] = Field(min_length=1, max_length=limits.MAX_LIST, description="Observed durations.")
    weights: list[Annotated[float, Field(ge=0, le=1e9)]] | None = Field(
        None, max_length=limits.MAX_LIST, description="Relative weight of each value (default: equal)."
    )

    @model_validator(mode="after")
    def _weights_match(self) -> Self:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"{len(self.weights)} weights for {len(self.values)} values")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _probabilities(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def mean(self) -> float:
        p = self._probabilities()
        return float(np.mean(self.values) if p is None else np.dot(p, self.values))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=size, p=self._probabilities())

    def scaled(self, factor: float) -> Empirical:
        return self.model_copy(update={"values": [v * factor for v in self.values]})


class Component(BaseModel):
    """One part of a mixture."""

    model_config = ConfigDict(extra="forbid", frozen=True, **limits.STRICT)
    weight: float = Field(gt=0, le=1e9, description="Relative weight of this component.")
    distribution: Distribution = Field(description="The component's distribution.")


class Mixture(_Dist):
    """A weighted mix, e.g. quick questions and long investigations in one intent."""

    kind: Literal["mixture"]
    components: list[Component] = Field(min_length=1, max_length=100, description="The components and their weights.")

    def _probabilities(self) -> np.ndarray:
        w = np.array([c.weight for c in self.components])
        return w / w.sum()

    def mean(self) -> float:
        return float(sum(p * c.distribution.mean() for p, c in zip(self._probabilities(), self.components,
                                                                    strict=True)))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        which = rng.choice(len(self.components), size=size, p=self._probabilities())
        out = np.empty(size)
        for i, comp in enumerate(self.components):
            mask = which == i
            out[mask] = comp.distribution.sample(rng, int(mask.sum()))
        return out

    def scaled(self, factor: float) -> Mixture:
        return self.model_copy(update={"components": [
            c.model_copy(update={"distribution": c.distribution.scaled(factor)}) for c in self.components
        ]})


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Weibull | Deterministic | Empirical | Mixture,
    Field(discriminator="kind"),
]
Component.model_rebuild()
