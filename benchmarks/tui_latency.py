"""Workbench latency: first numbers, the whole default comparison, and key response during a run.

Run from the repository root: python benchmarks/tui_latency.py [--runs 5]

Drives the real app headless (Textual's run_test) on the built-in default scenario with the shipped policies,
10 replications of one simulated day each, and prints the median over runs of:
- time from start to the first KPI numbers on screen (the first streamed replication rendered);
- time from start to the finished comparison;
- how late the interface's event loop runs while the simulation thread works (a key press is handled on
  that loop, so this is how long a key waits), and how long switching views takes mid-run.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time

from textual.widgets import TabbedContent

from sandbox.tui.app import SandboxApp, make_app
from sandbox.tui.widgets import KpiTable


async def one_run() -> tuple[float, float, list[float], float]:
    """First numbers, completion, event-loop lags during the run, and one view switch's latency."""
    start = time.perf_counter()
    app: SandboxApp = make_app(replications=10)
    first = 0.0
    lags: list[float] = []
    switch = float("nan")
    async with app.run_test(size=(120, 36)):
        table = app.query_one("#kpis", KpiTable)
        views = app.query_one("#views", TabbedContent)
        tick = 0.01
        while app.running or app.comparison is None:
            before = time.perf_counter()
            await asyncio.sleep(tick)  # a key press waits for the same loop as this sleep
            lags.append(time.perf_counter() - before - tick)
            if not first and table.row_count:
                first = time.perf_counter() - start
            if app.running and math.isnan(switch):  # once, mid-run
                pressed = time.perf_counter()
                app.action_view("intents")  # what the key "3" runs
                while views.active != "intents":
                    await asyncio.sleep(0.001)
                switch = time.perf_counter() - pressed
        done = time.perf_counter() - start
    return first or done, done, lags, switch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(one_run())  # warm-up: imports and caches
    firsts, dones, lags, switches = [], [], [], []
    for _ in range(args.runs):
        first, done, run_lags, switch = asyncio.run(one_run())
        firsts.append(first)
        dones.append(done)
        lags += run_lags
        switches.append(switch)
    print("Default comparison in the workbench (6 policies × 10 replications × 1 day), "
          f"median of {args.runs} runs, including app start:")
    print(f"   first numbers on screen   {statistics.median(firsts):5.2f} s")
    print(f"   comparison complete       {statistics.median(dones):5.2f} s")
    lags.sort()
    print(f"   event-loop delay during the run: median {1000 * statistics.median(lags):.0f} ms, "
          f"95th percentile {1000 * lags[int(0.95 * len(lags))]:.0f} ms, max {1000 * lags[-1]:.0f} ms")
    print(f"   switching views during the run: median {1000 * statistics.median(switches):.0f} ms")


if __name__ == "__main__":
    main()
