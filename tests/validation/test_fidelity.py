"""Trunk lines, leave-a-message and virtual waiting time against their exact models.

With the bot off and exponential times the human stage is a birth–death chain (n contacts in the system,
births λ while n < K, deaths min(n, N)·μ + (n − N)⁺·θ), so:

- trunk lines K (channels.*.lines) make it M/M/N/K+M: a call that finds K in the system is blocked
  (PASTA: P(block) = π_K), and among the accepted P(Ab) = θ·E[Lq] / (λ(1 − π_K)), E[W_all] = E[Lq] / (λ(1 − π_K));
- the virtual wait V of a customer who finds n ≥ N in the system is the time until an agent is free for it,
  whether it stays or not: k = n − N ahead of it, each leaving at θ, and the N agents finishing at Nμ, so V is a
  sum of exponentials with rates Nμ + jθ, j = k, …, 0 (the tagged-customer chain); V = 0 for n < N.

Statistics as in test_simulation_vs_erlang.py: the exact value must lie in the replication interval at the
Bonferroni level of the test, and the interval must be narrow enough to mean something.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
from conftest import NO_BOT, SEED, SMALL_SCENARIO, erlang_scenario
from scipy.linalg import expm

from sandbox.engine.run import RunResult, simulate
from sandbox.erlang import erlang_a
from sandbox.model.outcomes import Outcome
from validation.replications import column, family_level, paired_interval, plan_of, replicate, t_interval


def birth_death(lam: float, mu: float, theta: float, agents: int, capacity: int | None) -> np.ndarray:
    """Stationary π_n of M/M/N/K+M (K = ``capacity``; None: unlimited, truncated where π is negligible)."""
    top = capacity if capacity is not None else agents + 2000
    weights = [1.0]
    for n in range(1, top + 1):
        death = min(n, agents) * mu + max(n - agents, 0) * theta
        weights.append(weights[-1] * lam / death)
    pi = np.array(weights)
    return pi / pi.sum()


def virtual_wait(pi: np.ndarray, mu: float, theta: float, agents: int, t: float) -> tuple[float, float]:
    """E[V] and P(V ≤ t) for an arrival that sees the stationary π (tagged-customer chain)."""
    ahead = len(pi) - agents  # arrivals that find n = N + k, k = 0 … ahead − 1
    rates = agents * mu + np.arange(ahead) * theta
    mean = float(sum(pi[agents + k] * np.sum(1 / rates[:k + 1]) for k in range(ahead)))
    # Pure-death chain on k customers ahead; absorption when an agent reaches the tagged customer.
    generator = np.diag(-rates) + np.diag(rates[1:], -1)
    survival = expm(generator * t) @ np.ones(ahead)
    return mean, 1.0 - float(pi[agents:] @ survival)


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in
                                        ((a[k], b[k]) for k in a))


# --- trunk lines ---------------------------------------------------------------------------------------

def test_trunk_lines_match_the_finite_birth_death_chain() -> None:
    # 5 agents, 4 min calls, 80 calls/h (5.3 erlangs), patience 3 min, 8 lines: heavy blocking and abandonment.
    lam, mu, theta, agents, lines = 80 / 60, 1 / 4, 1 / 3, 5, 8
    scenario = erlang_scenario(80, "4m", agents, "3m", days=3)
    scenario["channels"]["voice"]["lines"] = lines
    rows = replicate(scenario, NO_BOT, 20, SEED)
    pi = birth_death(lam, mu, theta, agents, lines)
    accepted = lam * (1 - pi[-1])
    lq = float(sum(max(n - agents, 0) * p for n, p in enumerate(pi)))
    busy = float(sum(min(n, agents) * p for n, p in enumerate(pi)))
    exact = {"blocking": pi[-1], "queue_abandonment_rate": theta * lq / accepted, "asa_all_min": lq / accepted,
             "occupancy": busy / agents}
    level = family_level(len(exact))
    for name, value in exact.items():
        found = t_interval(column(rows, name), level)
        assert found.contains(value), f"{name}: exact {value:.6g} not in {found}"
        assert found.half < 0.1 * value, f"{name}: {found} too wide to test anything"


def test_lines_reduce_to_the_queue_cap_in_one_queue() -> None:
    # One queue, no after-contact work: "N + Q in the system" and "Q waiting" refuse the same calls, so the two
    # runs are the same run, contact for contact.
    scenario = erlang_scenario(80, "4m", 5, "3m", days=1)
    capped, lined = copy.deepcopy(scenario), copy.deepcopy(scenario)
    capped["agents"]["queue_capacity"] = 2
    lined["channels"]["voice"]["lines"] = 5 + 2
    for r in range(3):
        a = simulate(plan_of(capped, NO_BOT), SEED, r)
        b = simulate(plan_of(lined, NO_BOT), SEED, r)
        assert a.kpis["blocked"] > 0
        assert _same(a.kpis, b.kpis)


def test_unlimited_lines_change_nothing() -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    plenty = copy.deepcopy(scenario)
    for channel in plenty["channels"].values():
        channel["lines"] = 1_000_000
    for r in range(2):
        assert _same(simulate(plan_of(scenario, NO_BOT), SEED, r).kpis, simulate(plan_of(plenty, NO_BOT), SEED, r).kpis)


def test_fewer_lines_block_more_in_a_multi_skill_centre() -> None:
    # Two skills, two channels: the voice lines are shared by both skills' queues. Fewer lines block more voice
    # calls (a paired interval above 0); chats, with their own unlimited sessions, are never blocked.
    few, many = copy.deepcopy(SMALL_SCENARIO), copy.deepcopy(SMALL_SCENARIO)
    few["channels"]["voice"]["lines"], many["channels"]["voice"]["lines"] = 3, 6
    n = 10
    a = [simulate(plan_of(few, NO_BOT), SEED, r) for r in range(n)]
    b = [simulate(plan_of(many, NO_BOT), SEED, r) for r in range(n)]
    more = paired_interval([x.kpis["blocked"] for x in a], [y.kpis["blocked"] for y in b], family_level(1))
    assert more.low > 0, f"blocked(3 lines) − blocked(6 lines) = {more}"
    for result in (*a, *b):
        assert result.kpis["blocked"] == result.kpis["offered"] - sum(
            result.kpis[k] for k in ("contained", "false_contained", "dead_ended", "abandoned_bot", "turned_away",
                                     "abandoned_queue", "served", "callbacks", "messages", "in_system"))


# --- virtual waiting time ------------------------------------------------------------------------------

def test_virtual_wait_matches_the_tagged_customer_chain() -> None:
    # M/M/N+M, 6 agents, 5 min calls, 78 calls/h (6.5 erlangs: overloaded, held by abandonment), patience 2 min.
    lam, mu, theta, agents, t = 78 / 60, 1 / 5, 1 / 2, 6, 20 / 60
    rows = replicate(erlang_scenario(78, "5m", agents, "2m", days=3), NO_BOT, 20, SEED)
    mean, within = virtual_wait(birth_death(lam, mu, theta, agents, None), mu, theta, agents, t)
    level = family_level(2)
    v = t_interval(column(rows, "asa_virtual") / 60, level)
    sl = t_interval(column(rows, "service_level_virtual"), level)
    assert v.contains(mean), f"E[V] {mean:.6g} min not in {v}"
    assert sl.contains(within), f"P(V ≤ 20 s) {within:.6g} not in {sl}"
    assert v.half < 0.1 * mean
    assert sl.half < 0.1 * within
    # The virtual wait counts the abandoners' would-be waits: longer than the actual wait of everyone.
    assert (column(rows, "asa_virtual") > column(rows, "asa_all")).all()


def test_virtual_wait_is_the_actual_wait_without_abandonment() -> None:
    # Infinitely patient customers all stay, so each one's virtual wait is its wait: the KPIs coincide.
    scenario = erlang_scenario(200, "3m", 11, None, days=1)
    for r in range(3):
        k = simulate(plan_of(scenario, NO_BOT), SEED, r).kpis
        assert k["asa_virtual"] == pytest.approx(k["asa_all"], rel=1e-9)
        assert k["service_level_virtual"] == pytest.approx(k["service_level"], rel=1e-9)
        assert k["asa_all"] > 0


# --- leave a message -----------------------------------------------------------------------------------

def _draining_day(patience: str | None) -> dict[str, Any]:
    """20 busy hours, then 4 without arrivals, so every queue episode ends (and is settled) in the horizon."""
    scenario = erlang_scenario(70, "4m", 5, patience, days=1, warm_up=0)
    scenario["demand"] = {"per_interval": [70] * 20 + [0] * 4, "busyness_shape": None}
    scenario["channels"]["voice"]["service_level_threshold"] = "1m"
    return scenario


def _run(scenario: dict[str, Any], policy: dict[str, Any], r: int) -> RunResult:
    return simulate(plan_of(scenario, policy), SEED, r, keep_records=True)


def test_infinitely_patient_callers_leave_a_message_at_the_threshold() -> None:
    # With message.after_wait T and no abandonment, exactly the callers whose virtual wait exceeds T leave a
    # message, each after waiting exactly T; nobody abandons and nobody is answered after T.
    policy = {**NO_BOT, "message": {"after_wait": "1m"}}
    for r in range(3):
        result = _run(_draining_day(None), policy, r)
        k, rec, sums = result.kpis, result.records, result.sums
        assert rec is not None
        left = rec["outcome"] == Outcome.MESSAGE
        assert k["messages"] == left.sum() > 20
        assert rec["wait"][left] == pytest.approx(1.0, abs=1e-9)
        assert (rec["wait"][rec["outcome"] == Outcome.SERVED] <= 1.0).all()
        assert k["abandoned_queue"] == 0
        assert k["in_system"] == 0
        assert k["messages"] == sums["virtual_queued"] - sums["virtual_within_t"]


def test_a_message_threshold_beyond_every_wait_changes_nothing() -> None:
    for patience in (None, "3m"):
        scenario = _draining_day(patience)
        for r in range(2):
            plain = _run(scenario, NO_BOT, r)
            late = _run(scenario, {**NO_BOT, "message": {"after_wait": "10h"}}, r)
            assert max(plain.records["wait"]) < 600  # type: ignore[index]
            assert _same(plain.kpis, late.kpis)


# --- handle time and patience by time of day ------------------------------------------------------------

def _by_arrival(result: RunResult) -> dict[str, np.ndarray]:
    """The per-contact records in arrival order (rows are stored as contacts finish)."""
    rec = result.records
    assert rec is not None
    order = np.argsort(rec["arrive"], kind="stable")
    return {k: v[order] for k, v in rec.items()}


def test_time_of_day_factors_scale_each_contacts_own_draws() -> None:
    # Common random numbers: with the profiles, each contact has the same handle and patience draws, scaled by
    # the factor of the hour it arrived in. Served in both runs: handle ratio = that factor; abandoned in both
    # (patience coupling 0, so the wait is the patience): wait ratio = the patience factor.
    scenario = erlang_scenario(150, "4m", 10, "2m", days=1, warm_up=0)
    shaped = copy.deepcopy(scenario)
    handle = [1.0] * 12 + [1.5] * 12
    patience = [2.0] * 8 + [0.5] * 16
    shaped["demand"]["handle_time_profile"], shaped["demand"]["patience_profile"] = handle, patience
    for r in range(2):
        a, b = _by_arrival(_run(scenario, NO_BOT, r)), _by_arrival(_run(shaped, NO_BOT, r))
        assert (a["arrive"] == b["arrive"]).all()  # the same customers
        hour = (a["arrive"] // 60).astype(int)
        both = (a["outcome"] == Outcome.SERVED) & (b["outcome"] == Outcome.SERVED)
        assert both.sum() > 1000
        assert b["handle"][both] / a["handle"][both] == pytest.approx(np.array(handle)[hour[both]], rel=1e-12)
        both = (a["outcome"] == Outcome.ABANDONED_QUEUE) & (b["outcome"] == Outcome.ABANDONED_QUEUE)
        assert both.sum() > 50
        assert b["wait"][both] / a["wait"][both] == pytest.approx(np.array(patience)[hour[both]], rel=1e-9)


def test_flat_time_of_day_factors_are_the_model_without_them() -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    flat = copy.deepcopy(scenario)
    flat["demand"]["handle_time_profile"] = [1.0] * 24
    flat["demand"]["patience_profile"] = [1.0] * 24
    for r in range(2):
        assert _same(simulate(plan_of(scenario, NO_BOT), SEED, r).kpis, simulate(plan_of(flat, NO_BOT), SEED, r).kpis)


def test_a_constant_handle_factor_is_erlang_a_with_the_longer_calls() -> None:
    # Exponential handle times scaled by 1.25 all day are exponential with a mean 1.25 times longer: the
    # simulation with the factor must agree with the exact Erlang A of that mean.
    scenario = erlang_scenario(200, "2.4m", 11, "2m", days=3)
    scenario["demand"]["handle_time_profile"] = [1.25] * 24
    rows = replicate(scenario, NO_BOT, 20, SEED)
    exact = erlang_a(200 / 60, 3.0, 2.0, 11, 20 / 60)
    level = family_level(2)
    for name, value in (("queue_abandonment_rate", exact.p_abandon), ("service_level", exact.sl_all)):
        found = t_interval(column(rows, name), level)
        assert found.contains(value), f"{name}: exact {value:.6g} not in {found}"


# --- chat speed that follows the agent's load ------------------------------------------------------------

def erlang_chat(lam: float, mu: float, theta: float, agents: int, conc: int, slowdown: float,
                max_queue: int = 400) -> dict[str, float]:
    """Exact stationary measures of an Erlang-chat system: N agents holding up to K chats each, new chats to a
    least-loaded agent, each of an agent's k chats finishing at μ / (1 + slowdown·(k − 1)), a FCFS queue (only
    when every agent holds K) with exponential patience θ. State: how many agents hold 0…K chats, and the queue."""
    def loads(n: int, k: int) -> list[tuple[int, ...]]:  # ways to spread n agents over loads 0..k
        if k == 0:
            return [(n,)]
        return [(*rest, m) for m in range(n + 1) for rest in loads(n - m, k - 1)]

    configs = loads(agents, conc)
    full = tuple([0] * conc + [agents])
    states = [(c, 0) for c in configs] + [(full, q) for q in range(1, max_queue + 1)]
    index = {s: i for i, s in enumerate(states)}
    rate = [0.0] + [mu / (1 + slowdown * (k - 1)) for k in range(1, conc + 1)]
    q_matrix = np.zeros((len(states), len(states)))
    for (c, q), i in index.items():
        def go(target: tuple[tuple[int, ...], int], r: float, i: int = i) -> None:
            if r > 0 and target in index:
                q_matrix[i, index[target]] += r
        low = next((j for j in range(conc) if c[j] > 0), None)
        if low is not None and q == 0:  # an arrival joins a least-loaded agent
            go((tuple(x - (j == low) + (j == low + 1) for j, x in enumerate(c)), 0), lam)
        else:
            go((full, q + 1), lam)
        for k in range(1, conc + 1):  # one of the c[k] agents with k chats finishes one
            r = c[k] * k * rate[k]
            if q > 0:
                go((full, q - 1), r)  # ... and takes the head of the queue
            else:
                go((tuple(x - (j == k) + (j == k - 1) for j, x in enumerate(c)), 0), r)
        go((full, q - 1), q * theta)
    np.fill_diagonal(q_matrix, -q_matrix.sum(axis=1))
    a = np.vstack([q_matrix.T, np.ones(len(states))])
    b = np.zeros(len(states) + 1)
    b[-1] = 1
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    busy = np.array([sum(k * c[k] for k in range(conc + 1)) for c, _ in states])
    queue = np.array([q for _, q in states])
    return {"occupancy": float(pi @ busy) / (agents * conc), "queue_abandonment_rate": theta * float(pi @ queue) / lam,
            "asa_all_min": float(pi @ queue) / lam}


def _chat_scenario(follows: bool) -> dict[str, Any]:
    scenario = erlang_scenario(70, "6m", 4, "3m", days=3)
    scenario["channels"] = {"chat": {"share": 1, "service_level_threshold": "60s"}}
    scenario["agents"]["groups"]["team"].update(channels=["chat"], concurrency=3, concurrency_slowdown=0.25,
                                                slowdown_follows_load=follows)
    return scenario


def test_load_following_chat_speed_matches_the_erlang_chat_chain() -> None:
    # 4 agents × 3 chats, 6 min solo chats slowed 25% per extra chat, 70 chats/h (73% of the slots), patience 3 min.
    rows = replicate(_chat_scenario(True), NO_BOT, 20, SEED)
    exact = erlang_chat(70 / 60, 1 / 6, 1 / 3, 4, 3, 0.25)
    level = family_level(len(exact))
    for name, value in exact.items():
        found = t_interval(column(rows, name), level)
        assert found.contains(value), f"{name}: exact {value:.6g} not in {found}"
        assert found.half < 0.1 * value, f"{name}: {found} too wide to test anything"


def test_the_speed_switch_changes_the_model() -> None:
    # The same customers with the length fixed by the load at each chat's start (the default): a different
    # model, whose occupancy the paired interval separates from the load-following one (on this case the fixed
    # lengths keep more slots busy: 75.2% against the chain's 73.4%).
    level = family_level(1)
    fixed = column(replicate(_chat_scenario(False), NO_BOT, 20, SEED), "occupancy")
    following = column(replicate(_chat_scenario(True), NO_BOT, 20, SEED), "occupancy")
    change = paired_interval(fixed, following, level)
    assert not change.contains(0.0), f"fixed − following occupancy {change}"
