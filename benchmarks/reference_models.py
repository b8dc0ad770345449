"""Provides two independent reference implementations of the Erlang-A (M/M/N+M) queue.

They exist only as benchmark comparators: one written in idiomatic Ciw, one in
textbook SimPy, so a benchmark script can compare simulation speed and cross-check
results against an outside implementation. They are not part of the package.
Time unit: minutes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import ciw
import numpy as np
import simpy


@dataclass
class RefResult:
    """Outcome of one reference run.

    Only customers arriving in [0, horizon) are counted; one still waiting or in
    service at the horizon counts in ``contacts`` but neither served nor abandoned.
    ``wall_seconds`` is ``time.perf_counter()`` around model construction, the run
    and result extraction (imports excluded).
    """

    contacts: int
    served: int
    abandoned: int
    mean_wait_served: float  # minutes; nan when nobody was served
    wall_seconds: float


def run_ciw(lam: float, mean_handle: float, mean_patience: float, agents: int,
            horizon: float, seed: int) -> RefResult:
    """Erlang-A in Ciw 3.x: one node, FIFO, reneging only while waiting."""
    t0 = time.perf_counter()
    # ciw.seed() is Ciw's only seeding mechanism and it seeds *global* state
    # (the stdlib `random` module, used by ciw.dists.Exponential, plus ciw.rng),
    # which is why it is confined to this benchmark file.
    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(lam)],  # Ciw takes rates
        service_distributions=[ciw.dists.Exponential(1 / mean_handle)],
        number_of_servers=[agents],
        reneging_time_distributions=[ciw.dists.Exponential(1 / mean_patience)],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(horizon)  # processes events dated < horizon
    # include_incomplete=True adds one synthetic "incomplete" record per
    # customer still in the node, so len(records) == arrivals in [0, horizon).
    records = sim.get_all_records(include_incomplete=True)
    waits = [r.waiting_time for r in records if r.record_type == "service"]
    abandoned = sum(r.record_type == "renege" for r in records)
    wall = time.perf_counter() - t0
    return RefResult(len(records), len(waits), abandoned,
                     float(np.mean(waits)) if waits else float("nan"), wall)


def run_plain_simpy(lam: float, mean_handle: float, mean_patience: float, agents: int,
                    horizon: float, seed: int) -> RefResult:
    """Erlang-A in textbook SimPy ("bank renege" style): one process per customer."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=agents)
    tally = {"contacts": 0, "served": 0, "abandoned": 0, "wait": 0.0}

    def customer(env):
        arrived = env.now
        patience = rng.exponential(mean_patience)
        with server.request() as req:
            result = yield req | env.timeout(patience)
            if req in result:
                wait = env.now - arrived
                yield env.timeout(rng.exponential(mean_handle))
                tally["served"] += 1  # only reached if service ends before horizon
                tally["wait"] += wait
            else:
                tally["abandoned"] += 1

    def arrivals(env):
        while True:
            yield env.timeout(rng.exponential(1 / lam))
            tally["contacts"] += 1
            env.process(customer(env))

    env.process(arrivals(env))
    env.run(until=horizon)  # events dated >= horizon never fire
    wall = time.perf_counter() - t0
    served = tally["served"]
    return RefResult(tally["contacts"], served, tally["abandoned"],
                     tally["wait"] / served if served else float("nan"), wall)


if __name__ == "__main__":
    params = dict(lam=10.0, mean_handle=3.0, mean_patience=2.0, agents=30,
                  horizon=600.0, seed=1)
    p_ab = {}
    for name, fn in (("ciw", run_ciw), ("plain simpy", run_plain_simpy)):
        r = fn(**params)
        p_ab[name] = r.abandoned / r.contacts
        print(f"{name:12s} contacts={r.contacts} served={r.served} "
              f"abandoned={r.abandoned} P(abandon)={p_ab[name]:.4f} "
              f"mean_wait_served={r.mean_wait_served:.4f} min "
              f"wall={r.wall_seconds:.3f}s contacts/s={r.contacts / r.wall_seconds:,.0f}")
    # Exact P(abandon) from the Erlang-A birth-death chain (truncated far out).
    lam, h, th, n_ag = (params[k] for k in ("lam", "mean_handle", "mean_patience", "agents"))
    pi = np.cumprod([1.0] + [lam / (min(n, n_ag) / h + max(n - n_ag, 0) / th)
                             for n in range(1, 500)])
    exact = (pi * np.maximum(np.arange(500) - n_ag, 0)).sum() / th / pi.sum() / lam
    # One 600-minute run at this size has an SD of ~0.9 points in P(abandon),
    # so the two models (and the exact value) should agree to within a couple of points.
    print(f"exact P(abandon)={exact:.4f}; |ciw - simpy|="
          f"{abs(p_ab['ciw'] - p_ab['plain simpy']):.4f}")
