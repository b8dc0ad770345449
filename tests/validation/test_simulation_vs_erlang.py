"""The simulator with the bot off (or a memoryless bot stage) against the exact Erlang A, B and C formulas.

With exponential inter-arrival, handle and patience times, one skill, one channel, a constant rate around the
clock and patience coupling β = 0, the human stage *is* the M/M/N+M queue, so after a warm-up its long-run
averages must match sandbox.erlang (which tests/validation/test_erlang_reference.py checks against the
published tables in /work/shared/reference/queueing-references.md, cited below as §n).

Statistics (tests/validation/replications.py): each assertion checks that the exact value lies in the
Student-t interval of the replication mean, at the Bonferroni level that keeps a whole test's chance of
failing on a correct simulator at 1%. Replications use the fixed seed SEED. Each case also asserts that its
interval is narrow enough to mean something (``RESOLUTION``), so it cannot pass by being vague.

KPI definitions (sandbox/metrics/kpis.py) against the reference's names (§4.1, §4.2):
queue_abandonment_rate = P(Ab); asa_all = E[W_all]; asa_served = E[W | served]; service_level = SL_all;
service_level_served = SL_served; service_level_excl_early = SL_excl_early_ab; occupancy = busy / staffed,
time-weighted. P(wait) is measured from the per-contact records (share of queue joiners with a positive wait)
and E[Q] from the time-weighted queue_length series.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from conftest import NO_BOT, SEED, erlang_scenario

from sandbox.engine.run import simulate
from sandbox.erlang import ErlangA, erlang_a, erlang_b
from validation.replications import (
    column,
    family_level,
    paired_interval,
    plan_of,
    replicate,
    t_interval,
)

T_MIN = 20 / 60  # erlang_scenario's voice service-level threshold (20 s), in minutes

# measured quantity → ErlangA field (times in minutes on both sides)
MEASURED = {
    "queue_abandonment_rate": "p_abandon",
    "p_wait": "p_wait",
    "asa_all_min": "asa_all",
    "asa_served_min": "asa_served",
    "service_level": "sl_all",
    "service_level_served": "sl_served",
    "service_level_excl_early": "sl_excl_early_ab",
    "occupancy": "occupancy",
    "queue_length": "mean_queue",
}
# Largest CI half-width, relative to the exact value, that a case may have: shares near 1 are measured to a
# few percent, small probabilities and waits to a few tens of percent in the quick cases. A case whose
# interval is wider than this could not detect an error of that size, so it fails instead of passing vaguely.
PRECISE = ("service_level", "service_level_served", "service_level_excl_early", "occupancy")


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    rate_per_hour: float
    handle_min: float
    patience_min: float | None
    agents: int
    days: int
    replications: int
    resolution: tuple[float, float]  # (PRECISE quantities, the others)
    marks: tuple = field(default=())

    def scenario(self) -> dict[str, Any]:
        patience = None if self.patience_min is None else f"{self.patience_min}m"
        return erlang_scenario(self.rate_per_hour, f"{self.handle_min}m", self.agents, patience, days=self.days)

    def exact(self) -> ErlangA:
        patience = math.inf if self.patience_min is None else self.patience_min
        return erlang_a(self.rate_per_hour / 60, self.handle_min, patience, self.agents, T_MIN)


CASES = [
    # §8.1 pyworkforce ErlangA test: 100 calls / 30 min, AHT 3 min, patience 5 min, T = 20 s; N = 14 asserts
    # P(wait) 0.14526, P(Ab) 0.013984, occupancy 0.704297, ASA_all 0.069919 min, SL_all 0.916792.
    Case("erlang-a-N14", "§8.1 N=14", 200, 3, 5, 14, days=2, replications=20, resolution=(0.03, 0.25)),
    # §8.1 table, N = 12 row: P(wait) 0.331802, P(Ab) 0.042711, E[W_all] 0.213556, occupancy 0.797741.
    Case("erlang-a-N12", "§8.1 N=12", 200, 3, 5, 12, days=2, replications=20, resolution=(0.03, 0.15)),
    # §7.1 Call Centre Helper (Erlang C, no abandonment), N = 14, A = 10: P(wait) 0.174132, ASA 7.836 s,
    # SL(20 s) 0.888350, occupancy 0.7143.
    Case("erlang-c-N14", "§7.1 N=14", 200, 3, None, 14, days=2, replications=20, resolution=(0.03, 0.25)),
    # Overloaded: load 24 Erlangs on 20 agents, patience 2 min (the §8.4 teaching example, λ = 48/min, scaled
    # down 6× in rate and up 3× in handle time to keep it quick); Erlang C has no answer here, Erlang A does.
    Case("overloaded-A24-N20", "§8.4 scaled", 480, 3, 2, 20, days=3, replications=20, resolution=(0.03, 0.05),
         marks=(pytest.mark.slow,)),
    # The same three stable cases run three times longer: the intervals shrink by about half.
    Case("erlang-a-N14-long", "§8.1 N=14", 200, 3, 5, 14, days=6, replications=30, resolution=(0.01, 0.1),
         marks=(pytest.mark.slow,)),
    Case("erlang-a-N12-long", "§8.1 N=12", 200, 3, 5, 12, days=6, replications=30, resolution=(0.01, 0.06),
         marks=(pytest.mark.slow,)),
    Case("erlang-c-N14-long", "§7.1 N=14", 200, 3, None, 14, days=6, replications=30, resolution=(0.01, 0.1),
         marks=(pytest.mark.slow,)),
]


def _params(cases: list[Case]) -> list:
    return [pytest.param(c, id=c.name, marks=c.marks) for c in cases]


def _rows(case: Case) -> list[dict[str, float]]:
    return replicate(case.scenario(), NO_BOT, case.replications, SEED)


def check_against(rows: list[dict[str, float]], exact: ErlangA, names: dict[str, str],
                  resolution: tuple[float, float] | None = None) -> None:
    """Every exact value in its measured interval (Bonferroni over ``names``); report all misses at once."""
    level = family_level(len(names))
    misses, vague = [], []
    for measured, attr in names.items():
        interval = t_interval(column(rows, measured), level)
        value = getattr(exact, attr)
        if not interval.contains(value):
            misses.append(f"{measured}: exact {value:.6g} ({attr}) not in {interval}")
        if resolution is not None and value != 0:
            limit = resolution[0] if measured in PRECISE else resolution[1]
            if interval.half > limit * abs(value):
                vague.append(f"{measured}: half-width {interval.half:.3g} > {limit:.0%} of {value:.6g}")
    assert not misses, "simulation disagrees with the exact formula:\n" + "\n".join(misses)
    assert not vague, "interval too wide to test anything:\n" + "\n".join(vague)


@pytest.mark.parametrize("case", _params(CASES))
def test_erlang_a_and_c_steady_state(case: Case) -> None:
    exact = case.exact()
    rows = _rows(case)
    # Exact values from sandbox.erlang.erlang_a (Erlang C when patience is infinite); their sources are the
    # tables cited in CASES. Nine quantities, family-wise 99%.
    check_against(rows, exact, MEASURED, case.resolution)
    if case.patience_min is None:
        # Infinite patience: nobody can abandon, in any replication (not a statistical statement).
        assert column(rows, "queue_abandonment_rate").max() == 0.0
        assert (column(rows, "abandoned_queue") == 0).all()


def test_published_values_are_what_the_cases_compare_with() -> None:
    # The cases compare with sandbox.erlang; pin its values to the published ones they stand for, so the
    # validation cannot drift to a wrong reference. §8.1 (pyworkforce, N = 14) and §7.1 (N = 14).
    a = CASES[0].exact()
    assert (a.p_wait, a.p_abandon, a.occupancy, a.asa_all, a.sl_all) == pytest.approx(
        (0.14526, 0.013984, 0.704297, 0.069919, 0.916792), abs=5e-6)
    c = CASES[2].exact()
    assert (c.p_wait, 60 * c.asa_all, c.sl_all, c.occupancy) == pytest.approx(
        (0.174132, 7.836, 0.888350, 0.7143), abs=5e-4)


# --- Erlang B: no waiting room -------------------------------------------------------------------------

def test_erlang_b_blocking_with_no_waiting_room() -> None:
    # queue_capacity 0: a contact that finds every agent busy is blocked, so the human stage is M/M/N/N and
    # the blocking probability is Erlang B (§2), B(12, 10) = 0.119739 (computed by sandbox.erlang.erlang_b).
    scenario = erlang_scenario(200, "3m", 12, "5m", days=3)
    scenario["agents"]["queue_capacity"] = 0
    rows = replicate(scenario, NO_BOT, 20, SEED)
    b = erlang_b(12, 10.0)
    level = family_level(2)
    blocking = t_interval(column(rows, "blocking"), level)
    assert blocking.contains(b), f"Erlang B {b:.6g} not in {blocking}"
    # Carried load A·(1 − B) on N agents (§2 with §5's busy-agents identity).
    occupancy = t_interval(column(rows, "occupancy"), level)
    assert occupancy.contains(10 * (1 - b) / 12), f"{10 * (1 - b) / 12:.6g} not in {occupancy}"
    assert blocking.half < 0.1 * b
    assert occupancy.half < 0.02 * occupancy.mean
    # Nobody ever waits, so nobody can abandon and every answered contact is within T (exact, every run).
    assert (column(rows, "abandoned_queue") == 0).all()
    assert (column(rows, "asa_all") == 0).all()
    assert (column(rows, "service_level") == 1).all()


# --- identities of §5 on the simulated data -------------------------------------------------------------

def test_littles_law_holds_exactly_on_every_sample_path() -> None:
    # Without a warm-up every queue interval [joined, left) of a contact that arrived in the horizon lies in
    # [0, end) (waits still running at the end are cut there), so ∫Q dt = Σ W over queue joiners exactly:
    # time-average queue length × horizon = queued × ASA_all. A deterministic identity (rounding only).
    scenario = erlang_scenario(200, "3m", 12, "5m", days=1, warm_up=0)
    plan = plan_of(scenario, NO_BOT)
    for r in range(3):
        result = simulate(plan, SEED, r)
        area = float(np.sum(result.series["queue_length"])) * plan.interval
        waits = result.counts["queued"] * result.kpis["asa_all"] / 60
        assert area == pytest.approx(waits, rel=1e-9)
        assert area > 0


def test_littles_law_in_steady_state() -> None:
    # §5 Little's law: E[Q] = λ·E[W_all]. Per replication, the time-averaged queue length and λ × the
    # measured ASA_all estimate the same number, so their paired difference has mean 0 in steady state.
    case = CASES[1]
    rows = _rows(case)
    lam = case.rate_per_hour / 60
    diff = paired_interval(column(rows, "queue_length"), lam * column(rows, "asa_all_min"), 0.99)
    assert diff.contains(0.0), f"E[Q] − λ·E[W_all] = {diff}"
    # The difference is known to within 5% of E[Q] (0.711852 for this case, §8.1 N = 12 via sandbox.erlang).
    assert diff.half < 0.05 * case.exact().mean_queue


def test_exponential_patience_identity() -> None:
    # §5: with exponential patience, P(Ab) = θ·E[W_all]. Both sides are measured on the same contacts:
    # abandonments − θ·Σ(time exposed to abandoning) is a martingale, so the per-replication difference
    # queue_abandonment_rate − θ·ASA_all has mean 0 even over a finite horizon.
    case = CASES[1]
    rows = _rows(case)
    theta = 1 / case.patience_min
    diff = paired_interval(column(rows, "queue_abandonment_rate"), theta * column(rows, "asa_all_min"), 0.99)
    assert diff.contains(0.0), f"P(Ab) − θ·E[W_all] = {diff}"
    # Tight: known to within 5% of P(Ab) = 0.042711 (§8.1 N = 12).
    assert diff.half < 0.05 * case.exact().p_abandon


# --- patience coupling -----------------------------------------------------------------------------------

def _coupled(beta: float, load: float) -> dict[str, Any]:
    scenario = erlang_scenario(200, "3m", 12, "5m", days=2, coupling=beta)
    scenario["intents"]["general"]["emotional_load"] = load
    return scenario


def test_patience_coupling_raises_abandonment_and_beta_zero_is_erlang_a() -> None:
    reps = 20
    calm = _rows(CASES[1])  # the same queue with F₀ = 0
    assert CASES[1].scenario() == erlang_scenario(200, "3m", 12, "5m", days=2)
    assert CASES[1].replications == reps
    upset_decoupled = replicate(_coupled(0.0, 0.5), NO_BOT, reps, SEED)
    upset_coupled = replicate(_coupled(1.0, 0.5), NO_BOT, reps, SEED)
    # β = 0: frustration no longer touches patience, so the queue is exactly the one with calm customers:
    # same seeds, same abandonments and waits in every replication (deterministic).
    for name in ("queue_abandonment_rate", "asa_all", "service_level", "occupancy", "served"):
        assert column(upset_decoupled, name).tolist() == column(calm, name).tolist(), name
    # ... and that queue is Erlang A (§8.1 N = 12: P(Ab) 0.042711, E[W_all] 0.213556, occupancy 0.797741).
    check_against(upset_decoupled, erlang_a(200 / 60, 3, 5, 12, T_MIN),
                  {"queue_abandonment_rate": "p_abandon", "asa_all_min": "asa_all", "occupancy": "occupancy"})
    # β = 1 with F₀ = 0.5: the hazard is at least e^0.5 ≈ 1.65 times Erlang A's, so on the same customers
    # abandonment must rise: the whole 99% interval of the paired difference lies above 0.
    diff = paired_interval(column(upset_coupled, "queue_abandonment_rate"),
                           column(upset_decoupled, "queue_abandonment_rate"), 0.99)
    assert diff.low > 0, f"coupling did not raise abandonment: {diff}"


# --- bot then human: the decomposition of §5 ------------------------------------------------------------

def _memoryless_bot(agents: int) -> dict[str, Any]:
    """§9.1: λ = 1/min, every contact to the bot, contained independently with p = 0.45 after one turn,
    otherwise handed over warm; human stage: exponential handle 6 min, exponential patience 2 min."""
    scenario = erlang_scenario(60, "6m", agents, "2m", days=3)
    scenario["intents"]["general"]["bot"] = {"resolve_with_crm": 0.45, "wrong_answer": 0.0, "turns_to_resolve": 1}
    # No frustration steps inside the bot, so nobody asks for a human or quits: containment is a coin flip.
    scenario["frustration"].update({"failed_turn": 0.0, "ask_for_human": 0.0, "quit_bot": 0.0})
    return scenario


def _bot_policy(mode: str, factor: float = 1.37) -> dict[str, Any]:
    return {"name": f"memoryless bot, {mode}", "automation": {"share": 1},
            "escalation": {"max_bot_turns": 1, "frustration_threshold": None, "honour_requests": "always",
                           "on_low_confidence": False},
            "handoff": {"mode": mode, "cold_handle_factor": factor}}


# §9.1 (warm handoff, handle 6 min) and §9.2 (cold handoff, handle 6/0.73 = 8.22 min): λ = 1/min, p = 0.45,
# patience 2 min, T = 20 s. Published columns: P(wait), P(Ab), ASA_served (s), SL_all, occupancy.
DECOMPOSITION = [
    ("warm", 4, (0.3449, 0.1762, 13.3, 0.6963, 0.680), (pytest.mark.slow,)),
    ("warm", 5, (0.1987, 0.0891, 6.7, 0.8321, 0.601), ()),
    ("warm", 6, (0.1007, 0.0401, 3.1, 0.9185, 0.528), (pytest.mark.slow,)),
    ("warm", 7, (0.0450, 0.0161, 1.3, 0.9651, 0.464), (pytest.mark.slow,)),
    ("cold", 5, (0.3581, 0.1921, 14.1, 0.680, 0.730), (pytest.mark.slow,)),
    ("cold", 6, (0.2314, 0.1124, 8.2, 0.799, 0.669), ()),
    ("cold", 7, (0.1358, 0.0601, 4.4, 0.886, 0.607), (pytest.mark.slow,)),
    ("cold", 8, (0.0721, 0.0293, 2.2, 0.941, 0.549), (pytest.mark.slow,)),
]
COLD_FACTOR = 1 / 0.73  # §9.2: seamless transitions take 27% less assisted time (Gartner 2023)


@pytest.mark.parametrize(("mode", "agents", "published"), [
    pytest.param(mode, n, row, id=f"{mode}-N{n}", marks=marks) for mode, n, row, marks in DECOMPOSITION])
def test_bot_then_human_is_erlang_a_on_the_thinned_stream(mode: str, agents: int, published: tuple) -> None:
    # §5 decomposition: uncapacitated bot, containment independent of timing ⇒ escalations are Poisson with
    # rate λ(1 − p) and the human stage is exactly Erlang A at that rate.
    handle = 6.0 * (COLD_FACTOR if mode == "cold" else 1.0)
    exact = erlang_a(0.55, handle, 2.0, agents, T_MIN)
    # The exact values are the published table row (printed to 4 or 3 decimals, ASA to 0.1 s).
    p_wait, p_ab, asa_s, sl, occ = published
    assert (exact.p_wait, exact.p_abandon, exact.sl_all, exact.occupancy) == pytest.approx(
        (p_wait, p_ab, sl, occ), abs=5e-4)
    assert 60 * exact.asa_served == pytest.approx(asa_s, abs=0.05)

    rows = replicate(_memoryless_bot(agents), _bot_policy(mode, COLD_FACTOR), 20, SEED)
    names = {k: MEASURED[k] for k in ("queue_abandonment_rate", "p_wait", "asa_served_min", "service_level",
                                      "occupancy")}
    check_against(rows, exact, names)
    # The bot stage itself: a contact is contained with probability 0.45 and escalated otherwise.
    level = family_level(2)
    resolved = t_interval(column(rows, "bot_resolution_rate"), level)
    assert resolved.contains(0.45), f"bot resolution {resolved}"
    escalated = t_interval(column(rows, "escalation_rate"), level)
    assert escalated.contains(0.55), f"escalation {escalated}"


def test_scenario_helper_is_what_the_cases_assume() -> None:
    # The cases rely on erlang_scenario giving a constant-rate Poisson stream with no day-level busyness,
    # exponential handle and patience, β = 0, no redials: check the compiled plan says so.
    plan = plan_of(copy.deepcopy(CASES[0].scenario()), NO_BOT)
    assert plan.scenario.demand.busyness_shape is None
    assert plan.expected_per_interval(0) == pytest.approx(np.full(24, 200.0))
    assert plan.scenario.frustration.patience_coupling == 0
    assert plan.scenario.repeat_contacts.after_abandonment == 0
    assert plan.handle[0][0].kind == "exponential"
    assert plan.handle[0][0].mean() == 3.0
    assert plan.patience[0].kind == "exponential"
    assert plan.patience[0].mean() == 5.0
    assert plan.threshold[0] == pytest.approx(T_MIN)
    assert plan.rules_on(0).bot.share.tolist() == [0.0]


def test_chat_slots_are_servers() -> None:
    # Four agents holding up to three chats each, with no slowdown from concurrency, are twelve identical
    # servers: on the same seeds the queue must be exactly the 12-agent voice queue of the §8.1 N = 12 case
    # (which test_erlang_a_and_c_steady_state compares with Erlang A), replication by replication.
    voice = _rows(CASES[1])
    chat = erlang_scenario(200, "3m", 4, "5m", days=2)
    chat["channels"] = {"chat": {"share": 1, "service_level_threshold": "20s"}}
    chat["agents"]["groups"]["team"].update(channels=["chat"], concurrency=3, concurrency_slowdown=0.0)
    rows = replicate(chat, NO_BOT, CASES[1].replications, SEED)
    for name in ("offered", "served", "abandoned_queue", "answered_within_t", "p_wait"):
        assert column(rows, name).tolist() == column(voice, name).tolist(), name
    for name in ("asa_all", "asa_served", "occupancy", "queue_length"):
        assert column(rows, name) == pytest.approx(column(voice, name), rel=1e-9), name
