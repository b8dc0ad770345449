"""Checks sandbox.erlang against the published values in /work/shared/reference/queueing-references.md.

Every expected number below is copied literally from that file (§7, §8, §9) and compared to half a unit
in the last digit printed there, so a value that would print differently fails. The identities of §5 are
checked against an independent brute-force implementation written here (plain products for the
stationary distribution, a dense matrix exponential for the tagged customer).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy.linalg import expm

from sandbox.erlang import (
    ErlangA,
    agents_for_service_level,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
)


def printed(decimals: int) -> float:
    """Half a unit in the last printed digit: the largest error that still prints the same."""
    return 0.5 * 10.0**-decimals + 1e-12


def rounded_load_rate(load: float, mean_handle: float) -> float:
    """Arrival rate giving the load rounded to 3 decimals, as callcentretools.com computes (§6.5, §8.2)."""
    return round(load, 3) / mean_handle


# ---------------------------------------------------------------------------------------------------------
# §7.1 Call Centre Helper worked example: 100 calls / 30 min, AHT 180 s, T = 20 s (times in seconds).
CCH_RATE = 200 / 3600
CCH_AHT = 180.0


# Source: §7.1 table (Call Centre Helper example, computed; N = 14 row also in pyworkforce and R ErlangC).
@pytest.mark.parametrize(
    ("agents", "p_wait", "sl_20s", "asa_s", "occupancy"),
    [
        (11, 0.682118, 0.389614, 122.781, 0.9091),
        (12, 0.449388, 0.640158, 40.445, 0.8333),
        (13, 0.285270, 0.795595, 17.116, 0.7692),
        (14, 0.174132, 0.888350, 7.836, 0.7143),
        (15, 0.102042, 0.941453, 3.674, 0.6667),
    ],
)
def test_call_centre_helper_table(agents, p_wait, sl_20s, asa_s, occupancy):
    c = erlang_c_metrics(CCH_RATE, CCH_AHT, agents, 20.0)
    assert c.load == pytest.approx(10.0, abs=1e-12)
    assert c.p_wait == pytest.approx(p_wait, abs=printed(6))
    assert c.service_level == pytest.approx(sl_20s, abs=printed(6))
    assert c.asa == pytest.approx(asa_s, abs=printed(3))
    assert c.occupancy == pytest.approx(occupancy, abs=printed(4))
    assert erlang_c(agents, c.load) == c.p_wait
    assert c.mean_queue == pytest.approx(CCH_RATE * c.asa, rel=1e-12)


def test_r_erlangc_readme_n14():
    # Source: §7.1, R package ErlangC 0.1.0 README (CRAN), same case at N = 14.
    c = erlang_c_metrics(CCH_RATE, CCH_AHT, 14, 20.0)
    assert c.p_wait == pytest.approx(0.1741319, abs=printed(7))
    assert c.service_level == pytest.approx(0.88835, abs=printed(5))
    # Printed with 14 decimals; allow the last couple of ulps for a different summation order.
    assert c.asa == pytest.approx(7.83593701177724, abs=printed(14) + 1e-13)
    assert c.occupancy == pytest.approx(0.7142857, abs=printed(7))


def test_call_centre_helper_staffing_80_20():
    # Source: §7.1: the smallest N meeting 80/20 is 14; N = 13 gives 79.56%.
    assert agents_for_service_level(CCH_RATE, CCH_AHT, 20.0, 0.80) == 14
    assert 100 * erlang_c_metrics(CCH_RATE, CCH_AHT, 13, 20.0).service_level == pytest.approx(
        79.56, abs=printed(2)
    )


# Source: §7.1 pyworkforce v0.5.4 pyworkforce/queuing/tests/test_erlang.py, with its literal inputs
# (transactions=100 per interval=30 min, aht=3 min, asa=0.33 min, not 20 s: see §6.5).
@pytest.mark.parametrize(
    ("max_occupancy", "raw_positions", "sl", "occupancy", "p_wait"),
    [
        (0.85, 14, 0.888, 0.714, 0.174),
        (0.70, 15, 0.941, 0.667, 0.102),
    ],
)
def test_pyworkforce_erlang_c_staffing(max_occupancy, raw_positions, sl, occupancy, p_wait):
    rate, aht, target_time = 100 / 30, 3.0, 0.33
    n = agents_for_service_level(rate, aht, target_time, 0.8, max_occupancy=max_occupancy)
    assert n == raw_positions
    c = erlang_c_metrics(rate, aht, n, target_time)
    assert c.service_level == pytest.approx(sl, abs=printed(3))
    assert c.occupancy == pytest.approx(occupancy, abs=printed(3))
    assert c.p_wait == pytest.approx(p_wait, abs=printed(3))


def test_pyworkforce_target_time_rounding_note():
    # Source: §6.5: at N = 14, T = 0.33 min gives SL 0.887853 against 0.888350 at 20 s.
    assert erlang_c_metrics(100 / 30, 3.0, 14, 0.33).service_level == pytest.approx(0.887853, abs=printed(6))
    assert erlang_c_metrics(100 / 30, 3.0, 14, 20 / 60).service_level == pytest.approx(
        0.888350, abs=printed(6)
    )


# ---------------------------------------------------------------------------------------------------------
# Source: §7.2 Mitan "The Erlang-C formula" tutorial, 48 Erlangs: λ = 12/min, 4 min, T = 15 s (computed).
@pytest.mark.parametrize(
    ("agents", "p_wait", "sl_15s", "asa_s", "occupancy"),
    [
        (53, 0.376542, 0.724516, 18.074, 0.9057),
        (54, 0.301308, 0.792914, 12.052, 0.8889),
        (55, 0.238701, 0.845883, 8.184, 0.8727),
        (56, 0.187154, 0.886485, 5.615, 0.8571),
    ],
)
def test_mitan_48_erlang_table(agents, p_wait, sl_15s, asa_s, occupancy):
    c = erlang_c_metrics(12.0, 4.0, agents, 0.25)
    assert c.p_wait == pytest.approx(p_wait, abs=printed(6))
    assert c.service_level == pytest.approx(sl_15s, abs=printed(6))
    assert 60 * c.asa == pytest.approx(asa_s, abs=printed(3))
    assert c.occupancy == pytest.approx(occupancy, abs=printed(4))


def test_mitan_staffing():
    # Source: §7.2: the smallest N meeting 80% within 15 s is 55.
    assert agents_for_service_level(12.0, 4.0, 0.25, 0.80) == 55


# ---------------------------------------------------------------------------------------------------------
def test_ccmath_erlang_c_demo():
    # Source: §7.3 erlangccmath 1.3.0 tests/test.py: λ = 4/min, AHT 3 min, N = 14, AWT = 0.333 min.
    c = erlang_c_metrics(4.0, 3.0, 14, 0.333)
    # Printed by the package.
    assert c.asa == pytest.approx(0.72, abs=printed(2))
    assert 100 * c.service_level == pytest.approx(61.42, abs=printed(2))
    assert 100 * c.occupancy == pytest.approx(85.71, abs=printed(2))
    # Exact values quoted in the reference.
    assert c.asa == pytest.approx(0.7226, abs=printed(4))
    assert c.service_level == pytest.approx(0.614195, abs=printed(6))
    assert c.occupancy == pytest.approx(0.857143, abs=printed(6))
    assert c.p_wait == pytest.approx(0.481705, abs=printed(6))
    # §6.5: with AWT exactly 1/3 the SL is 0.614280 instead.
    assert erlang_c_metrics(4.0, 3.0, 14, 1 / 3).service_level == pytest.approx(0.614280, abs=printed(6))


# ---------------------------------------------------------------------------------------------------------
# §8.1 pyworkforce ErlangA: 100 calls / 30 min, AHT 3 min, patience 5 min, T = 20 s (times in minutes).
PWF_RATE = 100 / 30


def pwf_erlang_a(agents: int, mean_patience: float = 5.0) -> ErlangA:
    return erlang_a(PWF_RATE, 3.0, mean_patience, agents, 20 / 60)


# Source: §8.1 full table (computed).
@pytest.mark.parametrize(
    ("agents", "p_wait", "p_ab", "w_all", "w_served", "v", "occupancy", "sl_all", "sl_served", "sl_virtual"),
    [
        (12, 0.331802, 0.042711, 0.213556, 0.197690, 0.240656, 0.797741, 0.772279, 0.806736, 0.775633),
        (13, 0.225797, 0.024963, 0.124817, 0.115233, 0.138535, 0.750028, 0.858178, 0.880149, 0.860831),
        (14, 0.145260, 0.013984, 0.069919, 0.064641, 0.076654, 0.704297, 0.916792, 0.929794, 0.918714),
        (15, 0.088547, 0.007514, 0.037572, 0.034866, 0.040779, 0.661657, 0.953856, 0.961078, 0.955143),
        (16, 0.051251, 0.003876, 0.019381, 0.018071, 0.020860, 0.622577, 0.975745, 0.979542, 0.976547),
    ],
)
def test_pyworkforce_erlang_a_table(
    agents, p_wait, p_ab, w_all, w_served, v, occupancy, sl_all, sl_served, sl_virtual
):
    a = pwf_erlang_a(agents)
    tol = printed(6)
    assert a.p_wait == pytest.approx(p_wait, abs=tol)
    assert a.p_abandon == pytest.approx(p_ab, abs=tol)
    assert a.asa_all == pytest.approx(w_all, abs=tol)
    assert a.asa_served == pytest.approx(w_served, abs=tol)
    assert a.mean_virtual_wait == pytest.approx(v, abs=tol)
    assert a.occupancy == pytest.approx(occupancy, abs=tol)
    assert a.sl_all == pytest.approx(sl_all, abs=tol)
    assert a.p_served_within == a.sl_all
    assert a.sl_served == pytest.approx(sl_served, abs=tol)
    assert a.sl_virtual == pytest.approx(sl_virtual, abs=tol)


def test_pyworkforce_erlang_a_regression_asserts():
    # Source: §8.1, pyworkforce/queuing/tests/test_abandonment.py test_erlanga_regression_metrics (N = 14).
    a = pwf_erlang_a(14)
    assert a.p_wait == pytest.approx(0.14526, abs=printed(5))
    assert a.p_abandon == pytest.approx(0.013984, abs=printed(6))
    assert a.occupancy == pytest.approx(0.704297, abs=printed(6))
    assert a.asa_all == pytest.approx(0.069919, abs=printed(6))  # pyworkforce "ASA" is E[W_all]
    assert a.sl_all == pytest.approx(0.916792, abs=printed(6))  # pyworkforce SL is SL_all


@pytest.mark.parametrize("agents", [15, 20, 25])
def test_erlang_a_tends_to_erlang_c(agents):
    # Source: §4 "Erlang C limit", pyworkforce test_erlanga_matches_erlangc_in_patient_limit, with its
    # tolerances: patience 1,000,000 min.
    a = pwf_erlang_a(agents, mean_patience=1_000_000)
    c = erlang_c_metrics(PWF_RATE, 3.0, agents, 20 / 60)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-4)
    assert a.occupancy == pytest.approx(c.occupancy, abs=1e-4)
    assert a.sl_all == pytest.approx(c.service_level, abs=1e-3)


@pytest.mark.parametrize("agents", [11, 15, 20])
def test_infinite_patience_is_erlang_c(agents):
    # Source: §4 Erlang C limit; with θ = 0 every variant collapses to the Erlang C value (§3).
    a = pwf_erlang_a(agents, mean_patience=math.inf)
    c = erlang_c_metrics(PWF_RATE, 3.0, agents, 20 / 60)
    assert a.p_abandon == 0.0
    assert a.p_abandon_within == 0.0
    assert (a.p_wait, a.occupancy, a.mean_queue) == (c.p_wait, c.occupancy, c.mean_queue)
    assert a.asa_all == a.asa_served == a.mean_virtual_wait == c.asa
    for sl in (a.sl_all, a.sl_served, a.sl_excl_early_ab, a.sl_ab_positive, a.sl_virtual):
        assert sl == c.service_level


# ---------------------------------------------------------------------------------------------------------
# §8.2 callcentretools.com, scenario "default": 400 calls / 30 min, AHT 257 s, T = 20 s, patience 60 s,
# load rounded to 3 decimals as the site does (times in seconds).
DEFAULT_AHT = 257.0
DEFAULT_RATE = rounded_load_rate(400 / 1800 * DEFAULT_AHT, DEFAULT_AHT)


# Source: §8.2 scenario "default" table (live site 2026-06-10, chjacamp/erlangR dev/site-verification).
@pytest.mark.parametrize(
    ("agents", "sl_pct", "asa_s", "abandon_pct", "p_wait_a"),
    [
        (58, 19.3, 250.0, 6.29, 0.3191),
        (59, 37.0, 99.3, 5.45, 0.2847),
        (60, 51.2, 54.4, 4.68, 0.2518),
        (61, 62.4, 33.6, 3.99, 0.2206),
        (62, 71.3, 22.1, 3.36, 0.1914),
        (63, 78.3, 15.0, 2.81, 0.1644),
        (64, 83.7, 10.4, 2.32, 0.1397),
        (65, 87.9, 7.3, 1.90, 0.1175),
        (66, 91.0, 5.2, 1.54, 0.0976),
        (67, 93.5, 3.7, 1.23, 0.0802),
        (68, 95.3, 2.6, 0.97, 0.0651),
        (69, 96.6, 1.9, 0.76, 0.0523),
        (70, 97.6, 1.3, 0.59, 0.0414),
    ],
)
def test_callcentretools_default(agents, sl_pct, asa_s, abandon_pct, p_wait_a):
    c = erlang_c_metrics(DEFAULT_RATE, DEFAULT_AHT, agents, 20.0)
    assert c.load == pytest.approx(57.111, abs=1e-12)
    assert 100 * c.service_level == pytest.approx(sl_pct, abs=printed(1))
    assert c.asa == pytest.approx(asa_s, abs=printed(1))
    a = erlang_a(DEFAULT_RATE, DEFAULT_AHT, 60.0, agents, 20.0)
    assert 100 * a.p_abandon == pytest.approx(abandon_pct, abs=printed(2))
    assert a.p_wait == pytest.approx(p_wait_a, abs=printed(4))


def test_callcentretools_load_rounding_matters():
    # Source: §6.5: without rounding A to 57.111, the ASA at N = 58 is 250.1 s, not the site's 250.0 s.
    unrounded = erlang_c_metrics(400 / 1800, DEFAULT_AHT, 58, 20.0)
    assert unrounded.asa == pytest.approx(250.1, abs=printed(1))


S5_AHT = 180.0
S5_RATE = rounded_load_rate(1000 / 3600 * S5_AHT, S5_AHT)


# Source: §8.2 scenario "S5" (1000 calls/h, AHT 180 s, T = 10 s, patience 120 s): Abandon % (Erlang A).
@pytest.mark.parametrize(
    ("agents", "abandon_pct"),
    list(
        zip(
            range(50, 63),
            [6.20, 5.24, 4.39, 3.64, 2.98, 2.41, 1.93, 1.53, 1.20, 0.92, 0.71, 0.53, 0.40],
            strict=True,
        )
    ),
)
def test_callcentretools_s5_abandon(agents, abandon_pct):
    a = erlang_a(S5_RATE, S5_AHT, 120.0, agents, 10.0)
    assert 100 * a.p_abandon == pytest.approx(abandon_pct, abs=printed(2))


# Source: §8.2 scenario "S5": SL % (Erlang C) for N = 51..62.
@pytest.mark.parametrize(
    ("agents", "sl_pct"),
    list(
        zip(
            range(51, 63),
            [20.6, 37.4, 51.1, 62.1, 70.9, 77.8, 83.3, 87.5, 90.8, 93.3, 95.1, 96.5],
            strict=True,
        )
    ),
)
def test_callcentretools_s5_service_level(agents, sl_pct):
    c = erlang_c_metrics(S5_RATE, S5_AHT, agents, 10.0)
    assert 100 * c.service_level == pytest.approx(sl_pct, abs=printed(1))


def test_callcentretools_s5_unstable_at_n_equal_a():
    # Source: §8.2 S5 "N = 50 = A is unstable" and §6.4: no number at N = A.
    with pytest.raises(ValueError, match=r"^unstable"):
        erlang_c_metrics(S5_RATE, S5_AHT, 50, 10.0)


# ---------------------------------------------------------------------------------------------------------
def test_ccmath_erlang_x_every_definition():
    # Source: §8.3 erlangccmath 1.3.0 tests/test.py, Erlang X demo = Erlang A: λ = 4/min, AHT 3 min,
    # patience 1 min, N = 14, AWT = 0.333 min. Also §6.1 and §6.2 (four-decimal versions).
    a = erlang_a(4.0, 3.0, 1.0, 14, 0.333)
    # Printed by the package: its ASA and SL are the virtual-wait definitions.
    assert a.mean_virtual_wait == pytest.approx(0.10, abs=printed(2))
    assert 100 * a.sl_virtual == pytest.approx(87.97, abs=printed(2))
    assert 100 * a.p_abandon == pytest.approx(7.43, abs=printed(2))
    assert 100 * a.occupancy == pytest.approx(79.34, abs=printed(2))
    # Exact values.
    tol = printed(6)
    assert a.p_abandon == pytest.approx(0.074325, abs=tol)
    assert a.occupancy == pytest.approx(0.793436, abs=tol)
    assert a.p_wait == pytest.approx(0.250571, abs=tol)
    assert a.mean_virtual_wait == pytest.approx(0.100441, abs=tol)
    assert a.sl_virtual == pytest.approx(0.879661, abs=tol)
    assert a.asa_all == pytest.approx(0.074325, abs=tol)
    assert a.asa_served == pytest.approx(0.058918, abs=tol)
    assert a.sl_all == pytest.approx(0.861472, abs=tol)
    assert a.sl_served == pytest.approx(0.930642, abs=tol)
    assert a.sl_excl_early_ab == pytest.approx(0.908987, abs=tol)
    assert a.sl_ab_positive == pytest.approx(0.913745, abs=tol)
    # §6.1 / §6.2 four-decimal quotes of the same case.
    tol4 = printed(4)
    for got, want in [
        (a.sl_all, 0.8615),
        (a.sl_excl_early_ab, 0.9090),
        (a.sl_served, 0.9306),
        (a.sl_ab_positive, 0.9137),
        (a.sl_virtual, 0.8797),
        (a.asa_all, 0.0743),
        (a.asa_served, 0.0589),
        (a.mean_virtual_wait, 0.1004),
    ]:
        assert got == pytest.approx(want, abs=tol4)


# ---------------------------------------------------------------------------------------------------------
# §8.4 Zinnov teaching example: λ = 48/min, μ = 1/min, patience 2 min, T = 20 s.
# Source: §8.4 table (computed), Erlang A columns.
@pytest.mark.parametrize(
    ("agents", "p_wait", "p_ab", "asa_served_s", "sl_all", "occupancy"),
    [
        (45, 0.7869, 0.0836, 10.07, 0.7647, 0.9775),
        (48, 0.6015, 0.0476, 5.62, 0.8955, 0.9524),
        (50, 0.4678, 0.0309, 3.62, 0.9430, 0.9303),
        (52, 0.3431, 0.0192, 2.23, 0.9699, 0.9054),
        (55, 0.1936, 0.0086, 1.00, 0.9888, 0.8652),
    ],
)
def test_zinnov_erlang_a(agents, p_wait, p_ab, asa_served_s, sl_all, occupancy):
    a = erlang_a(48.0, 1.0, 2.0, agents, 1 / 3)
    assert a.p_wait == pytest.approx(p_wait, abs=printed(4))
    assert a.p_abandon == pytest.approx(p_ab, abs=printed(4))
    assert 60 * a.asa_served == pytest.approx(asa_served_s, abs=printed(2))
    assert a.sl_all == pytest.approx(sl_all, abs=printed(4))
    assert a.occupancy == pytest.approx(occupancy, abs=printed(4))


# Source: §8.4 table (computed), Erlang C columns.
@pytest.mark.parametrize(
    ("agents", "p_wait", "asa_s", "sl_20s"),
    [
        (50, 0.6945, 20.8, 0.6435),
        (52, 0.4660, 7.0, 0.8772),
        (55, 0.2387, 2.0, 0.9769),
    ],
)
def test_zinnov_erlang_c(agents, p_wait, asa_s, sl_20s):
    c = erlang_c_metrics(48.0, 1.0, agents, 1 / 3)
    assert c.p_wait == pytest.approx(p_wait, abs=printed(4))
    assert 60 * c.asa == pytest.approx(asa_s, abs=printed(1))
    assert c.service_level == pytest.approx(sl_20s, abs=printed(4))


@pytest.mark.parametrize("agents", [45, 48])
def test_zinnov_erlang_c_unstable(agents):
    # Source: §8.4 "Erlang C is stable only with >= 49 agents"; table shows "unstable" at 45 and 48.
    with pytest.raises(ValueError, match=r"^unstable"):
        erlang_c_metrics(48.0, 1.0, agents, 1 / 3)
    with pytest.raises(ValueError, match=r"^unstable"):
        erlang_c(agents, 48.0)
    with pytest.raises(ValueError, match=r"^unstable"):
        erlang_a(48.0, 1.0, math.inf, agents, 1 / 3)


def test_zinnov_erlang_c_stable_from_49():
    # Source: §8.4 "Erlang C is stable only with >= 49 agents".
    assert 0.0 < erlang_c(49, 48.0) < 1.0


# ---------------------------------------------------------------------------------------------------------
# §9 bot-then-human decomposition: humans see Erlang A with λ·(1 − p), mean handle 6 min, patience 2 min,
# T = 20 s (times in minutes).
# Source: §9.1 warm handoff table: λ = 1/min, containment p = 0.45, so 0.55/min reach humans (load 3.3).
@pytest.mark.parametrize(
    ("agents", "p_wait", "p_ab", "asa_served_s", "sl_all", "occupancy"),
    [
        (4, 0.3449, 0.1762, 13.3, 0.6963, 0.680),
        (5, 0.1987, 0.0891, 6.7, 0.8321, 0.601),
        (6, 0.1007, 0.0401, 3.1, 0.9185, 0.528),
        (7, 0.0450, 0.0161, 1.3, 0.9651, 0.464),
    ],
)
def test_bot_warm_handoff(agents, p_wait, p_ab, asa_served_s, sl_all, occupancy):
    a = erlang_a(1.0 * (1 - 0.45), 6.0, 2.0, agents, 1 / 3)
    assert a.load == pytest.approx(3.3, abs=1e-12)
    assert a.p_wait == pytest.approx(p_wait, abs=printed(4))
    assert a.p_abandon == pytest.approx(p_ab, abs=printed(4))
    assert 60 * a.asa_served == pytest.approx(asa_served_s, abs=printed(1))
    assert a.sl_all == pytest.approx(sl_all, abs=printed(4))
    assert a.occupancy == pytest.approx(occupancy, abs=printed(3))


# Source: §9.1 no-bot baseline table: all 1/min go to humans (load 6).
@pytest.mark.parametrize(
    ("agents", "p_wait", "p_ab", "asa_served_s", "sl_all", "occupancy"),
    [
        (8, 0.2082, 0.0771, 6.6, 0.834, 0.692),
        (9, 0.1271, 0.0428, 3.7, 0.903, 0.638),
        (10, 0.0715, 0.0221, 1.9, 0.948, 0.587),
    ],
)
def test_no_bot_baseline(agents, p_wait, p_ab, asa_served_s, sl_all, occupancy):
    a = erlang_a(1.0, 6.0, 2.0, agents, 1 / 3)
    assert a.p_wait == pytest.approx(p_wait, abs=printed(4))
    assert a.p_abandon == pytest.approx(p_ab, abs=printed(4))
    assert 60 * a.asa_served == pytest.approx(asa_served_s, abs=printed(1))
    assert a.sl_all == pytest.approx(sl_all, abs=printed(3))
    assert a.occupancy == pytest.approx(occupancy, abs=printed(3))


# Source: §9.2 cold transfer table: mean handle 6/0.73 min (load 4.52), otherwise as §9.1.
@pytest.mark.parametrize(
    ("agents", "p_wait", "p_ab", "asa_served_s", "sl_all", "occupancy"),
    [
        (5, 0.3581, 0.1921, 14.1, 0.680, 0.730),
        (6, 0.2314, 0.1124, 8.2, 0.799, 0.669),
        (7, 0.1358, 0.0601, 4.4, 0.886, 0.607),
        (8, 0.0721, 0.0293, 2.2, 0.941, 0.549),
    ],
)
def test_bot_cold_transfer(agents, p_wait, p_ab, asa_served_s, sl_all, occupancy):
    a = erlang_a(0.55, 6 / 0.73, 2.0, agents, 1 / 3)
    assert a.load == pytest.approx(4.52, abs=printed(2))
    assert a.p_wait == pytest.approx(p_wait, abs=printed(4))
    assert a.p_abandon == pytest.approx(p_ab, abs=printed(4))
    assert 60 * a.asa_served == pytest.approx(asa_served_s, abs=printed(1))
    assert a.sl_all == pytest.approx(sl_all, abs=printed(3))
    assert a.occupancy == pytest.approx(occupancy, abs=printed(3))


# ---------------------------------------------------------------------------------------------------------
# §5 identities, against a brute-force reference written independently of sandbox.erlang.


def brute_force(rate, aht, patience, agents, threshold):
    """Stationary distribution by plain products, and the tagged customer by a dense matrix exponential."""
    mu, theta = 1 / aht, 1 / patience
    log_pi = [0.0]
    k = 0
    while True:
        k += 1
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        log_pi.append(log_pi[-1] + math.log(rate / death))
        if k > agents and rate < death and log_pi[-1] < max(log_pi) - 50:
            break
    pi = np.exp(np.array(log_pi) - max(log_pi))
    pi /= pi.sum()
    q = pi[agents:]  # q[j]: j customers ahead
    ahead = q.size
    # States 0..ahead-1 (j ahead), then absorbing "served" and "abandoned".
    gen = np.zeros((ahead + 2, ahead + 2))
    gen_virtual = np.zeros_like(gen)
    for j in range(ahead):
        r = agents * mu + j * theta
        target = ahead if j == 0 else j - 1
        gen[j, target] = gen_virtual[j, target] = r
        gen[j, ahead + 1] = theta
        gen[j, j] = -(r + theta)
        gen_virtual[j, j] = -r
    tagged = expm(gen * threshold)
    virtual = expm(gen_virtual * threshold)
    r = agents * mu + np.arange(ahead) * theta
    served_given_j = np.cumprod(r / (r + theta))  # L_j
    return {
        "pi": pi,
        "p_served": pi[:agents].sum() + q @ served_given_j,  # E[e^{−θV}]
        "busy": np.minimum(np.arange(pi.size), agents) @ pi,
        "mean_v": q @ np.cumsum(1 / r),
        "wait_and_served": q @ (served_given_j * np.cumsum(1 / (r + theta))),
        "served_within": pi[:agents].sum() + q @ tagged[:ahead, ahead],
        "abandoned_within": q @ tagged[:ahead, ahead + 1],
        "v_within": pi[:agents].sum() + q @ virtual[:ahead, ahead],
    }


IDENTITY_CASES = [
    (4.0, 3.0, 1.0, 14, 0.333),  # §8.3
    (100 / 30, 3.0, 5.0, 14, 1 / 3),  # §8.1
    (48.0, 1.0, 2.0, 45, 1 / 3),  # §8.4, overloaded
    (0.55, 6.0, 2.0, 4, 1 / 3),  # §9.1
    (75.0, 4.0, 2.0, 280, 1 / 3),  # 300 Erlangs on 280 agents: deep queue, large load
    (75.0, 4.0, 2.0, 320, 0.5),  # 300 Erlangs, underloaded
    (10 / 3, 3.0, 0.01, 15, 1 / 3),  # very impatient: θ ≫ Nμ
    (2.0, 100.0, 20.0, 150, 30.0),  # 200 Erlangs on 150 agents, long threshold
]


@pytest.mark.parametrize(("rate", "aht", "patience", "agents", "threshold"), IDENTITY_CASES)
def test_identities(rate, aht, patience, agents, threshold):
    # Source: §5 identities and §4 tagged-customer closed forms.
    a = erlang_a(rate, aht, patience, agents, threshold)
    ref = brute_force(rate, aht, patience, agents, threshold)
    theta = 1 / patience
    # Little's law and exponential patience: P(Ab) = θ·E[W_all], E[Q] = λ·E[W_all].
    assert a.mean_queue == pytest.approx(rate * a.asa_all, rel=1e-12)
    assert a.p_abandon == pytest.approx(theta * a.asa_all, rel=1e-12)
    # P(Ab) = 1 − E[e^{−θV}], first way: the closed form Σπ_{N+j}·L_j.
    assert a.p_abandon == pytest.approx(1 - ref["p_served"], abs=1e-12)
    # Second way: the module's uniformised tagged-customer chain run to a threshold no one outlasts.
    long_run = erlang_a(rate, aht, patience, agents, threshold + 1e4 * (aht + patience))
    assert long_run.p_served_within == pytest.approx(1 - a.p_abandon, abs=1e-12)
    assert long_run.p_abandon_within == pytest.approx(a.p_abandon, abs=1e-12)
    assert long_run.sl_virtual == pytest.approx(1.0, abs=1e-12)
    # Occupancy = λ(1 − P(Ab))/(Nμ) equals the mean number of busy agents over N.
    assert a.occupancy == pytest.approx(ref["busy"] / agents, rel=1e-11)
    assert a.occupancy == pytest.approx(rate * (1 - a.p_abandon) * aht / agents, rel=1e-12)
    assert a.p_wait == pytest.approx(ref["pi"][agents:].sum(), abs=1e-12)
    assert a.mean_virtual_wait == pytest.approx(ref["mean_v"], rel=1e-11)
    assert a.asa_served == pytest.approx(ref["wait_and_served"] / ref["p_served"], rel=1e-11)
    # Time-dependent probabilities against an independent matrix exponential of the absorbing chain.
    assert a.p_served_within == pytest.approx(ref["served_within"], abs=1e-11)
    assert a.p_abandon_within == pytest.approx(ref["abandoned_within"], abs=1e-11)
    assert a.sl_virtual == pytest.approx(ref["v_within"], abs=1e-11)
    # The SL variants of §4.1 from S_T, L_T and S per arrival.
    assert a.sl_all == a.p_served_within
    assert a.sl_served == pytest.approx(a.p_served_within / (1 - a.p_abandon), rel=1e-12)
    assert a.sl_excl_early_ab == pytest.approx(a.p_served_within / (1 - a.p_abandon_within), rel=1e-12)
    assert a.sl_ab_positive == pytest.approx(a.p_served_within + a.p_abandon_within, rel=1e-12)
    assert a.sl_all <= a.sl_served
    assert a.p_abandon_within <= a.p_abandon
    for sl in (a.sl_all, a.sl_served, a.sl_excl_early_ab, a.sl_ab_positive, a.sl_virtual):
        assert 0.0 <= sl <= 1.0


def test_threshold_zero():
    # At T = 0 only those answered at once meet the target, and nobody has abandoned yet (§4.1 definitions).
    a = pwf_erlang_a(14)
    zero = erlang_a(PWF_RATE, 3.0, 5.0, 14, 0.0)
    assert zero.sl_all == pytest.approx(1 - a.p_wait, abs=1e-12)
    assert zero.sl_virtual == pytest.approx(1 - a.p_wait, abs=1e-12)
    assert zero.p_abandon_within == pytest.approx(0.0, abs=1e-15)


# ---------------------------------------------------------------------------------------------------------
# §2 Erlang B and §3 Erlang C basics.


@pytest.mark.parametrize(("agents", "load"), [(1, 0.5), (5, 3.0), (10, 5.0), (20, 17.5)])
def test_erlang_b_recursion_matches_closed_form(agents, load):
    # Source: §2 closed form B(N, A) = (A^N/N!) / Σ A^k/k!.
    terms = [load**k / math.factorial(k) for k in range(agents + 1)]
    assert erlang_b(agents, load) == pytest.approx(terms[-1] / sum(terms), rel=1e-12)


def test_erlang_b_large_n_is_stable():
    # Source: §2: the recursion stays stable where A^N/N! overflows a double.
    b = erlang_b(2000, 1900.0)
    assert 0.0 < b < 1.0
    assert erlang_b(0, 5.0) == 1.0


@pytest.mark.parametrize(("agents", "load"), [(10, 10.0), (10, 12.5), (1, 1.0)])
def test_erlang_c_unstable(agents, load):
    # Source: §3 "At N <= A there is no steady state: report unstable, never a number."
    with pytest.raises(ValueError, match=r"^unstable"):
        erlang_c(agents, load)
    with pytest.raises(ValueError, match=r"^unstable"):
        erlang_c_metrics(load / 3.0, 3.0, agents, 1.0)


def test_erlang_a_overloaded_is_stable():
    # Source: §4 "The chain is stable for every λ when θ > 0": 300 Erlangs on 200 agents.
    a = erlang_a(75.0, 4.0, 2.0, 200, 1 / 3)
    assert a.p_wait == pytest.approx(1.0, abs=1e-4)
    # Nearly every agent busy, so the abandoned share is what the agents cannot take.
    assert a.occupancy == pytest.approx(1.0, abs=1e-4)
    assert a.p_abandon == pytest.approx(1 - 200 / 300, abs=1e-4)
    for sl in (a.sl_all, a.sl_served, a.sl_excl_early_ab, a.sl_ab_positive, a.sl_virtual):
        assert 0.0 <= sl <= 1.0


def test_erlang_a_speed_at_70_agents():
    # Source: the project brief asks for well under 50 ms per call at N ≈ 70 (§8.2 default scenario).
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        erlang_a(DEFAULT_RATE, DEFAULT_AHT, 60.0, 70, 20.0)
        best = min(best, time.perf_counter() - start)
    assert best < 0.05
