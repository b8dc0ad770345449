"""Engine speed: contacts simulated per second per core, and the Erlang-A race against Ciw and plain SimPy.

Run from the repository root after `pip install -e ".[bench]"`:

    python benchmarks/engine_speed.py            # the figures quoted in the issue notes
    python benchmarks/engine_speed.py --quick    # a smaller, faster version

Prints:
1. the built-in default scenario, each shipped policy: contacts per second on one core (median of
   repeated timings), and all policies together;
2. the Erlang-A configuration (bot off, exponential everything) in support-sandbox, Ciw and a plain
   one-generator-per-customer SimPy model, with ratios taken within the same run, and each one's P(abandon)
   beside the exact Erlang-A value;
3. memory: the peak traced allocation of a short and a long horizon (flat = the ledger folds contacts into
   totals instead of keeping them).

Everything runs in this one process, one core; timings are medians because shared machines are noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference_models import run_ciw, run_plain_simpy

from sandbox import api
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate
from sandbox.erlang import erlang_a


def _median_rate(plan, runs: int, seed: int = 1) -> tuple[float, float]:
    """Median contacts/s over `runs` replications, and the mean contacts per run."""
    simulate(plan, seed, 999)  # warm caches and imports
    rates, contacts = [], []
    for r in range(runs):
        start = time.perf_counter()
        result = simulate(plan, seed, r)
        elapsed = time.perf_counter() - start
        rates.append(result.kpis["offered"] / elapsed)
        contacts.append(result.kpis["offered"])
    return statistics.median(rates), statistics.mean(contacts)


def default_scenario(runs: int) -> None:
    loaded = api.load()
    print(f"1. Default scenario '{loaded.scenario.name}', {runs} replications of "
          f"{loaded.scenario.horizon.days} day(s) per policy, one core")
    total_contacts = total_time = 0.0
    for label, policy in zip(loaded.labels, loaded.policies, strict=True):
        plan = compile_plan(loaded.scenario, policy)
        rate, contacts = _median_rate(plan, runs)
        total_contacts += contacts * runs
        total_time += contacts * runs / rate
        print(f"   {label:24s} {rate:>10,.0f} contacts/s   ({contacts:,.0f} contacts per replication)")
    print(f"   {'all policies':24s} {total_contacts / total_time:>10,.0f} contacts/s")


def erlang_race(days: float, seeds: int) -> None:
    lam, handle, patience, agents = 10.0, 3.0, 2.0, 30  # per minute; 30 Erlangs on 30 agents, patience 2 min
    horizon = days * 1440
    scenario = {
        "name": "erlang-a", "horizon": {"days": int(days), "interval": "60m"},
        "hours": {"default": "00:00-24:00"}, "demand": {"rate": f"{lam * 60}/h", "busyness_shape": None},
        "channels": {"voice": {"share": 1, "service_level_threshold": "20s"}},
        "segments": {"all": {"share": 1, "patience": {"kind": "exponential", "mean": f"{patience}m"}}},
        "intents": {"general": {"share": 1, "emotional_load": 0,
                                "handle_time": {"kind": "exponential", "mean": f"{handle}m"}}},
        "agents": {"groups": {"team": {"skills": ["general"], "channels": ["voice"], "headcount": agents}}},
        "frustration": {"patience_coupling": 0},
        "repeat_contacts": {"after_abandonment": 0, "after_false_containment": 0},
    }
    loaded = api.load(scenario, [{"name": "no bot", "automation": {"share": 0}}])
    plan = compile_plan(loaded.scenario, loaded.policies[0])
    exact = erlang_a(lam, handle, patience, agents, 1 / 3).p_abandon
    print(f"\n2. Erlang A: λ = {lam * 60:.0f}/h, AHT {handle:.0f} min, patience {patience:.0f} min, {agents} agents, "
          f"{days:.0f} simulated days per run, {seeds} runs each (median); exact P(abandon) = {exact:.4f}")
    rows = {"support-sandbox": [], "Ciw": [], "plain SimPy": []}
    p_ab = {name: [] for name in rows}
    simulate(plan, 0, 999)
    for seed in range(seeds):
        start = time.perf_counter()
        r = simulate(plan, seed, 0)
        rows["support-sandbox"].append(r.kpis["offered"] / (time.perf_counter() - start))
        p_ab["support-sandbox"].append(r.kpis["queue_abandonment_rate"])
        for name, model in (("Ciw", run_ciw), ("plain SimPy", run_plain_simpy)):
            ref = model(lam, handle, patience, agents, horizon, seed)
            rows[name].append(ref.contacts / ref.wall_seconds)
            p_ab[name].append(ref.abandoned / ref.contacts)
    ours = statistics.median(rows["support-sandbox"])
    for name, rates in rows.items():
        rate = statistics.median(rates)
        print(f"   {name:16s} {rate:>10,.0f} contacts/s   support-sandbox is {ours / rate:5.1f}x   "
              f"P(abandon) {statistics.mean(p_ab[name]):.4f}")


def _peak(scenario, policy) -> tuple[float, float]:
    plan = compile_plan(scenario, policy)
    tracemalloc.start()
    result = simulate(plan, 1, 0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result.kpis["offered"], peak / 2**20


def memory(days: int) -> None:
    loaded = api.load(policies=["warm-handoff"])
    base, policy = loaded.scenario, loaded.policies[0]
    print("\n3. Memory: peak traced allocation, warm-handoff on the default scenario")
    for label, n_days, factor in (("base", days, 1), ("10x the contacts per day", days, 10),
                                  ("6x the days", 6 * days, 1)):
        scenario = base.model_copy(update={
            "horizon": base.horizon.model_copy(update={"days": n_days}),
            "demand": base.demand.model_copy(update={"contacts_per_day": base.demand.contacts_per_day * factor}),
            "agents": base.agents.model_copy(update={"groups": {
                k: g.model_copy(update={"schedule": {t: n * factor for t, n in g.schedule.items()}})
                for k, g in base.agents.groups.items()}}),
        })
        contacts, peak = _peak(scenario, policy)
        print(f"   {label:26s} {n_days:3d} days {contacts:>10,.0f} contacts   peak {peak:6.1f} MiB")
    print("   (a day's batch of contacts and the per-interval series are held; finished contacts are not)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and shorter horizons")
    args = parser.parse_args()
    default_scenario(runs=5 if args.quick else 20)
    erlang_race(days=1 if args.quick else 3, seeds=3 if args.quick else 5)
    memory(days=2 if args.quick else 10)


if __name__ == "__main__":
    main()
