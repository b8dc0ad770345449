"""Long horizons: contacts per second of a 90-day run against a 1-day run, and peak memory against the days.

Run from the repository root:

    python benchmarks/weeks_speed.py            # 1, 30 and 90 days
    python benchmarks/weeks_speed.py --quick    # 1 and 30 days

The default scenario with its knowledge changing (every intent, twice a month), a weekly feedback loop and
repeat contacts, under the warm-handoff policy, one core. Speed is the median over repeated timings (shared
machines are noisy); memory is the peak traced allocation of one replication. The engine's state is flat in days
(the ledger folds contacts into totals, each day's customers are drawn when the day starts, busy time is folded
daily); what grows is the result itself, every per-interval series over the whole horizon (about 0.15 MiB a
day at 30-minute intervals).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from sandbox import api
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate

OVERRIDES = ["knowledge.changes_per_week=0.5", "improvement.review_every=7d"]


def plan_for(days: int):
    loaded = api.load("ecommerce", ["warm-handoff"], OVERRIDES, days)
    return compile_plan(loaded.scenario, loaded.policies[0])


def rate(days: int, runs: int) -> float:
    plan = plan_for(days)
    simulate(plan, 1, 999)  # warm caches and imports
    rates = []
    for r in range(runs):
        start = time.perf_counter()
        result = simulate(plan, 1, r)
        rates.append(result.kpis["offered"] / (time.perf_counter() - start))
    return statistics.median(rates)


def peak_mib(days: int) -> float:
    plan = plan_for(days)
    tracemalloc.start()
    simulate(plan, 1, 0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 and 30 days only")
    args = parser.parse_args()
    horizons = (1, 30) if args.quick else (1, 30, 90)
    one_day = None
    print(f"{'days':>5} {'contacts/s':>11} {'vs 1 day':>9} {'peak MiB':>9}")
    for days in horizons:
        speed = rate(days, runs=max(3, 60 // days))
        one_day = one_day or speed
        print(f"{days:>5} {speed:>11,.0f} {speed / one_day:>9.2f} {peak_mib(days):>9.1f}")


if __name__ == "__main__":
    main()
