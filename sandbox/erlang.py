"""Provides the exact steady-state Erlang B, Erlang C (M/M/N) and Erlang A (M/M/N+M) formulas.

These are the reference values the simulator is validated against; the formulas and the section numbers
(§2–§4) are those of the project's queueing reference, ``queueing-references.md``. Every function takes
rates and times in one consistent unit of the caller's choosing (the package itself uses minutes).

Which definition each quantity uses (names as in the reference, §4.1 and §4.2):

* Erlang C: ``p_wait`` = C(N, A); ``asa`` = E[W] = C·AHT/(N − A), the same over all arrivals and over
  served ones because nobody abandons; ``service_level`` = 1 − C·exp(−(N − A)·T/AHT) (this is also
  SL_erlangC); ``occupancy`` = A/N; ``mean_queue`` = λ·E[W].
* Erlang A:
  ``p_wait`` = P(k ≥ N) seen by an arrival (PASTA); ``p_abandon`` = θ·E[Q]/λ;
  ``mean_queue`` = E[Q]; ``asa_all`` = ASA_all = E[W_all] = E[Q]/λ, where abandoners count their time
  until abandoning; ``asa_served`` = ASA_served = E[W | served]; ``mean_virtual_wait`` = ASA_virtual = E[V];
  ``occupancy`` = λ·(1 − P(Ab))/(N·μ);
  ``p_served_within`` = P(served, W ≤ T); ``p_abandon_within`` = P(abandoned, W ≤ T);
  ``sl_all`` = SL_all = S_T/arrivals; ``sl_served`` = SL_served = S_T/S;
  ``sl_excl_early_ab`` = SL_excl_early_ab = S_T/(arrivals − L_T);
  ``sl_ab_positive`` = SL_ab_positive = (S_T + L_T)/arrivals; ``sl_virtual`` = SL_virtual = P(V ≤ T).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "ErlangA",
    "ErlangC",
    "agents_for_service_level",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
]

# The reference truncates the birth–death chain once the remaining probability mass is below this.
_TAIL_MASS = 1e-16
# Poisson weights beyond this tail mass cannot move a probability at double precision.
_POISSON_TAIL = 1e-18
# Refuse chains longer than this: an overloaded queue with a patience far longer than the handle time puts
# its mass millions of places deep, and the answer would take minutes and gigabytes for no insight.
_MAX_QUEUE_STATES = 2_000_000


@dataclass(frozen=True)
class ErlangC:
    """Erlang C (M/M/N) steady state; see the module docstring for the definition of each field."""

    agents: int
    load: float
    p_wait: float
    asa: float
    service_level: float
    occupancy: float
    mean_queue: float


@dataclass(frozen=True)
class ErlangA:
    """Erlang A (M/M/N+M, Palm) steady state; see the module docstring for each field's definition."""

    agents: int
    load: float
    p_wait: float
    p_abandon: float
    mean_queue: float
    asa_all: float
    asa_served: float
    mean_virtual_wait: float
    occupancy: float
    p_served_within: float
    p_abandon_within: float
    sl_all: float
    sl_served: float
    sl_excl_early_ab: float
    sl_ab_positive: float
    sl_virtual: float


def _check_agents(agents: int) -> int:
    n = operator.index(agents)  # refuses 14.5 agents instead of silently truncating
    if n < 0:
        raise ValueError(f"agents must be >= 0, got {n}")
    return n


def _check_positive(name: str, value: float) -> float:
    value = float(value)
    if not (value > 0.0 and math.isfinite(value)):
        raise ValueError(f"{name} must be positive and finite, got {value}")
    return value


def _check_threshold(threshold: float) -> float:
    threshold = float(threshold)
    if not threshold >= 0.0:  # also refuses NaN
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    return threshold


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability B(N, A) of M/M/N/N, by the recursion of §2.

    The recursion keeps every intermediate in [0, 1], where the closed form A^N/N! overflows for large N.
    """
    n = _check_agents(agents)
    load = float(load)
    if not (load >= 0.0 and math.isfinite(load)):
        raise ValueError(f"load must be >= 0 and finite, got {load}")
    b = 1.0
    for k in range(1, n + 1):
        ab = load * b
        b = ab / (k + ab)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability of waiting C(N, A) = N·B/(N − A·(1 − B)); raises ``ValueError`` when N ≤ A (§3)."""
    n = _check_agents(agents)
    b = erlang_b(n, load)
    if n <= load:
        raise ValueError(f"unstable: {n} agents <= load {load:.6g} Erlangs; Erlang C has no steady state")
    return n * b / (n - load * (1.0 - b))


def _erlang_c_from_load(arrival_rate: float, mean_handle: float, n: int, threshold: float) -> ErlangC:
    load = arrival_rate * mean_handle
    c = erlang_c(n, load)
    asa = c * mean_handle / (n - load)
    # exp(-inf) = 0 gives SL(inf) = 1 without a special case.
    service_level = 1.0 - c * math.exp(-(n - load) * threshold / mean_handle)
    return ErlangC(
        agents=n,
        load=load,
        p_wait=c,
        asa=asa,
        service_level=service_level,
        occupancy=load / n,
        mean_queue=arrival_rate * asa,
    )


def erlang_c_metrics(arrival_rate: float, mean_handle: float, agents: int, threshold: float) -> ErlangC:
    """Erlang C (M/M/N) measures at N agents and service-level threshold T; ``ValueError`` if N ≤ A."""
    return _erlang_c_from_load(
        _check_positive("arrival_rate", arrival_rate),
        _check_positive("mean_handle", mean_handle),
        _check_agents(agents),
        _check_threshold(threshold),
    )


def agents_for_service_level(
    arrival_rate: float,
    mean_handle: float,
    threshold: float,
    target: float,
    max_occupancy: float = 1.0,
) -> int:
    """Erlang C staffing as calculators do it (§3): max(smallest N with SL(T) ≥ target, ⌈A/max occupancy⌉).

    Shrinkage is left to the caller, because calculators disagree on how to round N/(1 − shrinkage).
    """
    arrival_rate = _check_positive("arrival_rate", arrival_rate)
    mean_handle = _check_positive("mean_handle", mean_handle)
    threshold = _check_threshold(threshold)
    target = float(target)
    if not 0.0 <= target < 1.0:
        # SL(T) < 1 at every N for finite T, so a target of 1 would never be met.
        raise ValueError(f"target must be in [0, 1), got {target}")
    max_occupancy = float(max_occupancy)
    if not 0.0 < max_occupancy <= 1.0:
        raise ValueError(f"max_occupancy must be in (0, 1], got {max_occupancy}")
    load = arrival_rate * mean_handle
    # Ten Erlangs at 0.7 is 14.285..., but 7/0.7 is 10.000000000000002 in floating point: forgive the
    # rounding residue so that it does not cost an extra agent.
    ratio = load / max_occupancy
    n_occ = math.ceil(ratio * (1.0 - 1e-12))
    n = math.floor(load) + 1  # the smallest stable N
    while _erlang_c_from_load(arrival_rate, mean_handle, n, threshold).service_level < target:
        n += 1
    return max(n, n_occ)


def _queue_log_weights(
    arrival_rate: float, service_all: float, theta: float, log_pi_n: float, log_floor: float
) -> np.ndarray:
    """Unnormalised log π_{N+j}, j = 0..J, with J the first index whose tail mass is negligible.

    ``log_floor`` is a lower bound on log Σπ (the largest single term), so the test "tail < 1e-16 of the
    total" is conservative.
    """
    # The chain climbs while λ exceeds the death rate, so the mass peaks near j* = (λ − Nμ)/θ.
    j_mode = max(0, math.ceil((arrival_rate - service_all) / theta))
    size = j_mode + 256
    while True:
        if size > _MAX_QUEUE_STATES:
            raise ValueError(
                f"the queue distribution needs more than {_MAX_QUEUE_STATES} states "
                "(overloaded with a very long patience); shorten the patience or add agents"
            )
        j = np.arange(1, size + 1, dtype=float)
        log_ratio = math.log(arrival_rate) - np.log(service_all + j * theta)
        log_q = np.concatenate(([log_pi_n], log_pi_n + np.cumsum(log_ratio)))
        # Ratios λ/(Nμ + jθ) fall with j, so once below 1 the tail after J is at most
        # π_J·ρ/(1 − ρ) with ρ the next ratio.
        rho = np.exp(log_ratio)
        with np.errstate(divide="ignore"):
            log_tail = log_q[:-1] + log_ratio - np.log1p(-np.minimum(rho, 1.0))
        done = (rho < 1.0) & (log_tail < math.log(_TAIL_MASS) + max(log_floor, float(log_q.max())))
        hits = np.flatnonzero(done)
        if hits.size:
            return log_q[: hits[0] + 1]
        size *= 2


def _poisson_cutoff(mean: float) -> int:
    """A step count beyond which the Poisson(mean) tail is below ``_POISSON_TAIL``."""
    # scipy.stats.poisson.isf returns NaN for tails this small, so start ten deviations out and verify.
    n = math.ceil(mean + 10.0 * math.sqrt(mean) + 45.0)
    while special.pdtrc(n, mean) > _POISSON_TAIL:
        n += math.ceil(math.sqrt(mean)) + 5
    return n


def _hypoexp_mixture_cdf(rates: np.ndarray, weights: np.ndarray, t: float) -> np.ndarray:
    """Σ_j w_j·P(Exp(s_0) + … + Exp(s_j) ≤ t) for each row of ``rates``/``weights`` (shape (m, J+1)).

    Each row is a pure-death chain that steps j → j − 1 at rate s_j and is absorbed from 0 at rate s_0,
    started from the weights; the answer is the mass absorbed by t. Uniformisation adds only
    non-negative terms, so unlike the alternating closed form of the hypoexponential CDF it stays
    accurate for deep queues.
    """
    if t == 0.0:
        return np.zeros(rates.shape[0])
    if math.isinf(t):
        return weights.sum(axis=1)
    big_lambda = float(rates.max())
    mean_steps = big_lambda * t
    down = rates / big_lambda
    stay = 1.0 - down
    n_max = _poisson_cutoff(mean_steps)
    total = weights.sum()
    p = weights.copy()
    absorbed = np.zeros(rates.shape[0])
    result = np.zeros(rates.shape[0])  # the n = 0 term: nothing absorbed yet
    pmf = np.empty(0)
    pmf_start = 1
    for n in range(1, n_max + 1):
        if n - pmf_start >= pmf.size:
            # Poisson weights in blocks: a long threshold can mean millions of possible steps while the
            # chain drains in a few hundred. Plain ufuncs, because scipy.stats' generic machinery costs
            # more than the whole chain.
            pmf_start = n
            steps = np.arange(n, min(n + 512, n_max + 1), dtype=float)
            pmf = np.exp(special.xlogy(steps, mean_steps) - mean_steps - special.gammaln(steps + 1.0))
        absorbed += p[:, 0] * down[:, 0]
        moved = p[:, 1:] * down[:, 1:]
        p *= stay
        p[:, :-1] += moved
        result += pmf[n - pmf_start] * absorbed
        if p.sum() <= _POISSON_TAIL * total:
            # Everything left will be absorbed at later steps; weight it by the Poisson tail.
            return result + float(special.pdtrc(n, mean_steps)) * (absorbed + p.sum(axis=1))
    return result + float(special.pdtrc(n_max, mean_steps)) * absorbed


def _erlang_a_from_erlang_c(c: ErlangC) -> ErlangA:
    # With infinite patience nobody abandons: every ASA and SL variant collapses to the Erlang C value.
    return ErlangA(
        agents=c.agents,
        load=c.load,
        p_wait=c.p_wait,
        p_abandon=0.0,
        mean_queue=c.mean_queue,
        asa_all=c.asa,
        asa_served=c.asa,
        mean_virtual_wait=c.asa,
        occupancy=c.occupancy,
        p_served_within=c.service_level,
        p_abandon_within=0.0,
        sl_all=c.service_level,
        sl_served=c.service_level,
        sl_excl_early_ab=c.service_level,
        sl_ab_positive=c.service_level,
        sl_virtual=c.service_level,
    )


def erlang_a(
    arrival_rate: float,
    mean_handle: float,
    mean_patience: float,
    agents: int,
    threshold: float,
) -> ErlangA:
    """Erlang A (M/M/N+M) measures at N agents, exponential patience and service-level threshold T (§4).

    Stable at every load when the patience is finite. ``mean_patience = math.inf`` gives Erlang C, and so
    raises ``ValueError`` when N ≤ A.
    """
    arrival_rate = _check_positive("arrival_rate", arrival_rate)
    mean_handle = _check_positive("mean_handle", mean_handle)
    threshold = _check_threshold(threshold)
    n = _check_agents(agents)
    if n < 1:
        raise ValueError("Erlang A needs at least one agent")
    mean_patience = float(mean_patience)
    if mean_patience == math.inf:
        return _erlang_a_from_erlang_c(_erlang_c_from_load(arrival_rate, mean_handle, n, threshold))
    mean_patience = _check_positive("mean_patience", mean_patience)

    mu = 1.0 / mean_handle
    theta = 1.0 / mean_patience
    load = arrival_rate * mean_handle
    service_all = n * mu

    # Logs keep A^k/k! finite for loads of hundreds of Erlangs.
    k = np.arange(n + 1, dtype=float)
    log_below = k * math.log(load) - special.gammaln(k + 1.0)
    log_q = _queue_log_weights(arrival_rate, service_all, theta, float(log_below[-1]), float(log_below.max()))
    log_z = float(special.logsumexp(np.concatenate((log_below[:-1], log_q))))
    pi_below = np.exp(log_below[:-1] - log_z)  # k = 0..N-1: answered at once
    q = np.exp(log_q - log_z)  # q[j] = π_{N+j}: j customers ahead of an arrival

    j = np.arange(q.size, dtype=float)
    r = service_all + j * theta  # rate at which the line ahead moves up
    p_wait = float(q.sum())
    mean_queue = float(j @ q)
    p_abandon = theta * mean_queue / arrival_rate
    p_served = 1.0 - p_abandon
    asa_all = mean_queue / arrival_rate
    mean_virtual_wait = float(q @ np.cumsum(1.0 / r))
    # L_j = P(served | j ahead) = ∏ r_i/(r_i + θ), summed in logs because it underflows for deep queues.
    survive = np.exp(np.cumsum(-np.log1p(theta / r)))
    w_served = q * survive
    mean_wait_and_served = float(w_served @ np.cumsum(1.0 / (r + theta)))

    # E[e^{−θV}; V ≤ T] given j ahead is L_j times the CDF of the hypoexponential with rates r_i + θ, so
    # both mixtures below are plain hypoexponential CDFs.
    f_virtual, f_served = _hypoexp_mixture_cdf(np.vstack((r, r + theta)), np.vstack((q, w_served)), threshold)
    answered_at_once = float(pi_below.sum())
    sl_virtual = min(1.0, answered_at_once + float(f_virtual))
    # The within-T probabilities cannot exceed their T = ∞ limits; the clamps only remove rounding residue
    # (about 1e-16) that would otherwise push ratios such as SL_served a hair above 1.
    p_served_within = min(p_served, answered_at_once + float(f_served))
    # P(ab, W ≤ T) = P(min(V, τ) ≤ T) − P(served, W ≤ T), and P(min(V, τ) > T) = e^{−θT}·P(V > T).
    still_waiting_at_t = math.exp(-theta * threshold) * (p_wait - float(f_virtual))
    p_abandon_within = min(p_abandon, max(0.0, p_wait - still_waiting_at_t - float(f_served)))

    return ErlangA(
        agents=n,
        load=load,
        p_wait=p_wait,
        p_abandon=p_abandon,
        mean_queue=mean_queue,
        asa_all=asa_all,
        asa_served=mean_wait_and_served / p_served,
        mean_virtual_wait=mean_virtual_wait,
        occupancy=arrival_rate * p_served / service_all,
        p_served_within=p_served_within,
        p_abandon_within=p_abandon_within,
        sl_all=p_served_within,
        sl_served=min(1.0, p_served_within / p_served),
        sl_excl_early_ab=min(1.0, p_served_within / (1.0 - p_abandon_within)),
        sl_ab_positive=min(1.0, p_served_within + p_abandon_within),
        sl_virtual=sl_virtual,
    )
