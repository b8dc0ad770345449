"""Routing rules (agents.routing, agents.groups.*.overflow_after) against exact models and their limits.

The N-model: skills a and b on voice, group A serves a only, group B serves b and a; exponential handle times
(equal for both skills) and patience. With B looking at its queues in skill order (b first, then a) and an
arriving a-contact sent to group A first (group order) or to a free agent at random, the centre is a Markov
chain in (busy A, busy B, a waiting, b waiting), solved exactly here. With an overflow delay longer than every
wait, B never takes an a-contact and each skill is its own Erlang A queue.

Statistics as in test_simulation_vs_erlang.py: the exact value must lie in the replication interval at the
Bonferroni level of the test, and the interval must be narrow enough to mean something.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from conftest import NO_BOT, SEED, erlang_scenario
from scipy.sparse import diags, lil_matrix
from scipy.sparse.linalg import spsolve

from sandbox.engine.run import simulate
from sandbox.erlang import erlang_a
from sandbox.model.outcomes import Outcome
from validation.replications import family_level, paired_interval, plan_of, t_interval

LAM_A, LAM_B, MU, THETA, N_A, N_B = 40 / 60, 20 / 60, 1 / 6, 1 / 3, 4, 3  # per minute; 6 erlangs on 7 agents


def n_model(selection: str, b_first: bool = True, top: int = 60) -> dict[str, float]:
    """Exact P(abandon) per skill and occupancy per group of the N-model (module docstring); queues truncated at
    ``top``, where their probability is negligible."""
    states = [(i, j, qa, qb) for i in range(N_A + 1) for j in range(N_B + 1) for qa in range(top + 1)
              for qb in range(top + 1)
              if not (qa and (i < N_A or j < N_B)) and not (qb and j < N_B)]
    index = {s: k for k, s in enumerate(states)}
    q = lil_matrix((len(states), len(states)))

    def go(frm: tuple[int, int, int, int], to: tuple[int, int, int, int], rate: float) -> None:
        if rate > 0 and to in index:  # beyond the truncation: dropped
            q[index[frm], index[to]] += rate

    for s in states:
        i, j, qa, qb = s
        free_a, free_b = N_A - i, N_B - j
        if free_a + free_b == 0:
            go(s, (i, j, qa + 1, qb), LAM_A)
        elif selection == "group_order":
            go(s, (i + 1, j, qa, qb) if free_a else (i, j + 1, qa, qb), LAM_A)
        else:  # random: a free agent at random, so each group in proportion to its free agents
            go(s, (i + 1, j, qa, qb), LAM_A * free_a / (free_a + free_b))
            go(s, (i, j + 1, qa, qb), LAM_A * free_b / (free_a + free_b))
        go(s, (i, j + 1, qa, qb) if free_b else (i, j, qa, qb + 1), LAM_B)
        go(s, (i, j, qa - 1, qb) if qa else (i - 1, j, qa, qb), i * MU)  # an A agent frees: a's head, or idles
        order = [(qb, (i, j, qa, qb - 1)), (qa, (i, j, qa - 1, qb))]
        nxt = next((to for waiting, to in (order if b_first else order[::-1]) if waiting), (i, j - 1, qa, qb))
        go(s, nxt, j * MU)
        go(s, (i, j, qa - 1, qb), qa * THETA)
        go(s, (i, j, qa, qb - 1), qb * THETA)
    off = q.tocsr()
    a = (off - diags(np.asarray(off.sum(axis=1)).ravel())).T.tolil()
    a[0, :] = 1.0  # one balance equation replaced by Σπ = 1
    b = np.zeros(len(states))
    b[0] = 1.0
    pi = spsolve(a.tocsr(), b)
    arr = np.array(states, dtype=float)
    return {"a.abandoned": THETA * float(pi @ arr[:, 2]) / LAM_A, "b.abandoned": THETA * float(pi @ arr[:, 3]) / LAM_B,
            "A.occupancy": float(pi @ arr[:, 0]) / N_A, "B.occupancy": float(pi @ arr[:, 1]) / N_B}


def n_scenario(selection: str = "group_order", queue_selection: str = "skill_order",
               overflow: str | None = None, b_first: bool = True) -> dict[str, Any]:
    scenario = erlang_scenario(60, "6m", 1, "3m", days=4)
    scenario["intents"] = {name: {"share": share, "emotional_load": 0, "skill": name,
                                  "handle_time": {"kind": "exponential", "mean": "6m"}}
                           for name, share in (("a", 2 / 3), ("b", 1 / 3))}
    groups: dict[str, Any] = {"ga": {"skills": ["a"], "channels": ["voice"], "headcount": N_A},
                              "gb": {"skills": ["b", "a"] if b_first else ["a", "b"], "channels": ["voice"],
                                    "headcount": N_B}}
    if overflow is not None:
        groups["gb"]["overflow_after"] = {"a": overflow}
    scenario["agents"] = {"groups": groups, "routing": {"agent_selection": selection,
                                                        "queue_selection": queue_selection}}
    return scenario


def measure(scenario: dict[str, Any], replications: int = 20) -> dict[str, np.ndarray]:
    """Per replication: each skill's queue abandonment and each group's occupancy over the open intervals."""
    plan = plan_of(scenario, NO_BOT)
    rows: dict[str, list[float]] = {}
    for r in range(replications):
        result = simulate(plan, seed=SEED, replication=r)
        for skill in ("a", "b"):
            row = result.by_intent[skill]
            rows.setdefault(f"{skill}.abandoned", []).append(row["abandoned_queue"] / row["offered"])
        for group, key in (("A", "ga"), ("B", "gb")):
            rows.setdefault(f"{group}.occupancy", []).append(float(np.mean(result.series[f"group.{key}.occupancy"])))
    return {name: np.array(values) for name, values in rows.items()}


def _check(found: dict[str, np.ndarray], exact: dict[str, float]) -> None:
    level = family_level(len(exact))
    for name, value in exact.items():
        interval = t_interval(found[name], level)
        assert interval.contains(value), f"{name}: exact {value:.6g} not in {interval}"
        assert interval.half < 0.1 * value, f"{name}: {interval} too wide to test anything"


def test_group_order_and_skill_order_match_the_n_model_chain() -> None:
    _check(measure(n_scenario()), n_model("group_order"))


def test_random_agent_selection_matches_the_n_model_chain() -> None:
    _check(measure(n_scenario("random")), n_model("random"))


def test_skill_order_follows_the_groups_list() -> None:
    # B with a listed first: B serves a's queue before b's, which raises b's abandonment (the exact chain too).
    exact = n_model("group_order", b_first=False)
    assert exact["b.abandoned"] > n_model("group_order")["b.abandoned"]
    _check(measure(n_scenario(b_first=False)), exact)


def test_an_overflow_delay_of_zero_is_the_model_without_one() -> None:
    for selection in ("group_order", "longest_idle"):
        plain, zero = (plan_of(n_scenario(selection, "priority", overflow), NO_BOT) for overflow in (None, "0s"))
        for r in range(3):
            a, b = simulate(plain, seed=SEED, replication=r), simulate(zero, seed=SEED, replication=r)
            assert a.kpis == b.kpis or all(x == y or (x != x and y != y) for x, y in
                                           zip(a.kpis.values(), b.kpis.values(), strict=True)), selection


def test_an_overflow_delay_beyond_every_wait_leaves_each_skill_its_own_erlang_a_queue() -> None:
    found = measure(n_scenario(overflow="1000m"), replications=12)
    exact = {"a.abandoned": erlang_a(LAM_A, 1 / MU, 1 / THETA, N_A, 1 / 3).p_abandon,
             "b.abandoned": erlang_a(LAM_B, 1 / MU, 1 / THETA, N_B, 1 / 3).p_abandon}
    _check(found, exact)


def test_a_longer_overflow_delay_shifts_work_from_the_overflow_group_back_to_the_skill_queue() -> None:
    level = family_level(4)
    runs = {delay: measure(n_scenario(overflow=delay), replications=12) for delay in ("0s", "30s", "2m")}
    for shorter, longer in (("0s", "30s"), ("30s", "2m")):
        more_abandoned = paired_interval(runs[longer]["a.abandoned"], runs[shorter]["a.abandoned"], level)
        assert more_abandoned.low > 0, f"a's abandonment {shorter} → {longer}: {more_abandoned}"
        less_busy = paired_interval(runs[longer]["B.occupancy"], runs[shorter]["B.occupancy"], level)
        assert less_busy.high < 0, f"B's occupancy {shorter} → {longer}: {less_busy}"


def _twins(selection: str) -> dict[str, Any]:
    """Two identical groups of 5 on one skill, 3 erlangs: who takes an arriving call decides who is busier."""
    scenario = erlang_scenario(30, "6m", 5, "3m", days=4)
    team = scenario["agents"]["groups"].pop("team")
    scenario["agents"]["groups"] = {"first": team, "second": copy.deepcopy(team)}
    scenario["agents"]["routing"] = {"agent_selection": selection}
    return scenario


def test_longest_idle_and_random_selection_balance_identical_groups_and_group_order_does_not() -> None:
    level = family_level(3)
    for selection in ("group_order", "longest_idle", "random"):
        plan = plan_of(_twins(selection), NO_BOT)
        occupancy: dict[str, list[float]] = {"first": [], "second": []}
        for r in range(12):
            series = simulate(plan, seed=SEED, replication=r).series
            for group in occupancy:
                occupancy[group].append(float(np.mean(series[f"group.{group}.occupancy"])))
        gap = paired_interval(occupancy["first"], occupancy["second"], level)
        if selection == "group_order":
            assert gap.low > 0.1, f"{selection}: first − second occupancy {gap}"
        else:
            assert gap.contains(0.0), f"{selection}: first − second occupancy {gap}"
            assert gap.half < 0.02, f"{selection}: {gap} too wide to test anything"


def test_oldest_head_lets_the_overflow_skill_compete_on_waiting_time() -> None:
    # Under skill order B always serves b first; taking the oldest head instead hands B to a's customers
    # whenever theirs has waited longer: b waits more and abandons more, a less (paired, common random numbers).
    level = family_level(2)
    by_skill = measure(n_scenario(), replications=12)
    by_age = measure(n_scenario(queue_selection="oldest_head"), replications=12)
    assert paired_interval(by_age["b.abandoned"], by_skill["b.abandoned"], level).low > 0
    assert paired_interval(by_age["a.abandoned"], by_skill["a.abandoned"], level).high < 0


def test_a_queue_only_overflow_groups_take_waits_the_delay_before_anyone_answers() -> None:
    # Both groups take a only after 1 minute: no a-contact is answered sooner (and nothing breaks when no group
    # takes a queue at once).
    scenario = n_scenario(overflow="1m")
    scenario["agents"]["groups"]["ga"]["overflow_after"] = {"a": "1m"}
    plan = plan_of(scenario, NO_BOT)
    records = simulate(plan, seed=SEED, replication=0, keep_records=True).records
    assert records is not None
    a_served = (records["intent"] == 0) & (records["outcome"] == int(Outcome.SERVED))
    assert a_served.sum() > 100
    assert records["wait"][a_served].min() >= 1.0 - 1e-9
    b_served = (records["intent"] == 1) & (records["outcome"] == int(Outcome.SERVED))
    assert records["wait"][b_served].min() == 0.0  # b is still answered at once
