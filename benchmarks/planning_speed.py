"""Planning speed: the sweep's parallel speed-up, Dask's overhead per task, and the staffing search's wall time.

Run from the repository root after `pip install -e ".[test]"` (Dask is in the test extra):

    python benchmarks/planning_speed.py            # the figures quoted in the issue notes
    python benchmarks/planning_speed.py --quick    # smaller, for a look

Prints:
1. a sweep of 11 automation levels × 20 replications × 7 days on the default scenario, serially and on the
   process pool (one worker per core), and the speed-up (medians of --repeat runs);
2. the overhead per task of Dask (a LocalCluster of two workers on loopback) against the process pool, on
   many tiny tasks, where overhead is all there is;
3. the wall time of `staff` on the default scenario over a 7-day week with two targets on the process pool,
   and how it grows with the interval length (60, 30, 15 minutes) and the number of agent groups (1, 2, 4).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

from sandbox import api
from sandbox.experiments import DaskExecutor, PoolExecutor, SerialExecutor

TARGETS = ["service_level>=0.8", "queue_abandonment_rate<=0.05"]


def timed(function: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def sweep_speedup(replications: int, days: int, repeat: int) -> None:
    cores = os.cpu_count() or 1
    vary = ["policy.automation.share=0:1:0.1"]

    def run(workers: int) -> None:
        api.sweep("ecommerce", "warm-handoff", vary, replications=replications, days=days, workers=workers)

    serial = timed(lambda: run(1), repeat)
    parallel = timed(lambda: run(cores), repeat)
    print(f"1. Sweep: 11 automation levels × {replications} replications × {days} days, default scenario")
    print(f"   serial {serial:7.1f} s   {cores} workers {parallel:7.1f} s   speed-up {serial / parallel:4.2f}x")


def dask_overhead(tasks: int) -> None:
    tiny = {"name": "tiny", "horizon": {"days": 1, "interval": "60m"}, "hours": {"default": "09:00-10:00"},
            "demand": {"contacts_per_day": 5, "busyness_shape": None},
            "channels": {"voice": {"share": 1, "service_level_threshold": "20s"}},
            "segments": {"all": {"share": 1}}, "intents": {"general": {"share": 1}},
            "agents": {"groups": {"team": {"skills": ["general"], "channels": ["voice"], "headcount": 1}}}}
    policy = {"name": "no bot", "automation": {"share": 0}}

    def on(executor: Any) -> float:
        started = time.perf_counter()
        api.compare(tiny, [policy], replications=tasks, executor=executor)
        return time.perf_counter() - started

    serial = on(SerialExecutor())
    pool_executor = PoolExecutor(workers=2, pool=api.Pool(2))
    on(pool_executor)  # warm
    pooled = on(pool_executor)
    assert pool_executor.pool is not None
    pool_executor.pool.close()
    dask = DaskExecutor(local=2)
    on(dask)  # warm: the cluster starts on the first run
    distributed = on(dask)
    dask.close()
    print(f"2. Overhead per task, {tasks} tiny replications on two workers (warm)")
    print(f"   serial {1000 * serial / tasks:6.2f} ms/task   process pool {1000 * pooled / tasks:6.2f} ms/task   "
          f"Dask {1000 * distributed / tasks:6.2f} ms/task   (Dask − pool: "
          f"{1000 * (distributed - pooled) / tasks:+.2f} ms/task)")


def staffing(days: int, replications: int) -> None:
    cores = os.cpu_count() or 1

    def search(**sets: Any) -> tuple[float, int]:
        overrides = [f"{k}={v}" for k, v in sets.items()]
        started = time.perf_counter()
        plan = api.staff("ecommerce", "warm-handoff", TARGETS, replications=replications, days=days,
                         overrides=overrides, workers=cores)
        return time.perf_counter() - started, plan.simulations

    wall, sims = search()
    print(f"3. staff, default scenario, {days} days, {replications} replications, two targets, {cores} workers")
    print(f"   {wall:6.1f} s ({sims} simulations)")
    for interval in ("60m", "30m", "15m"):
        wall, sims = search(**{"horizon.interval": interval})
        print(f"   interval {interval:>4}: {wall:6.1f} s ({sims} simulations)")
    base = api.load_scenario("ecommerce")
    for n in (1, 2, 4):
        groups = list(base.agents.groups.items())
        sets: dict[str, Any] = {}
        if n == 1:
            sets["agents.groups"] = "{service: {skills: [general, billing], schedule: {'07:00': 8}}}"
        elif n == 4:
            extra = ", ".join(f"{name}{i}: {{skills: {group.skills}, schedule: {{'07:00': 2}}}}"
                              for i in (2,) for name, group in groups)
            current = ", ".join(f"{name}: {{skills: {group.skills}, schedule: {{'07:00': 4}}}}"
                                for name, group in groups)
            sets["agents.groups"] = "{" + current + ", " + extra + "}"
        wall, sims = search(**sets)
        print(f"   {n} group{'s' if n > 1 else ' '}: {wall:6.1f} s ({sims} simulations)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        sweep_speedup(replications=4, days=2, repeat=1)
        dask_overhead(tasks=100)
        staffing(days=2, replications=5)
    else:
        sweep_speedup(replications=20, days=7, repeat=3)
        dask_overhead(tasks=400)
        staffing(days=7, replications=10)


if __name__ == "__main__":
    main()
