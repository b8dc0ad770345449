"""Provides bot capacity: how many conversations the bot holds at once, and what happens beyond that.

A deployment serves a limited number of concurrent conversations (model throughput, vendor rate limits, a
licence). Its replies slow down as it fills: each turn takes (1 + ``slowdown`` × share of the capacity in use
when the conversation starts) times as long. A contact that finds it full overflows to the human queue, or,
if the policy says wait, waits first-come first-served for a free slot; one whose patience runs out first
gives up on the bot (docs/model.md §3).

The day's first contacts are taken in arrival order, so the pass is sequential; the slots still in use at
the end of a day carry over to the next (``in_progress``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass
class Held:
    """What the capacity did to each contact of the batch."""

    overflowed: np.ndarray  # found the bot full and went to the human queue instead (policy: overflow)
    gave_up: np.ndarray  # waited for a free slot longer than their patience (policy: wait)
    wait: np.ndarray  # minutes waited for a free slot before the conversation started
    slower: np.ndarray  # minutes the slower replies added to the conversation


def hold(arrive: np.ndarray, duration: np.ndarray, offered: np.ndarray, patience: np.ndarray, capacity: int,
         slowdown: float, wait_when_full: bool, in_progress: list[float]) -> Held:
    """Admit the ``offered`` contacts (arrival-sorted ``arrive``) to a bot of ``capacity`` slots.

    ``duration``: each conversation's length at no load; ``in_progress``: a heap of the end times of the
    conversations already running, updated in place."""
    n = len(arrive)
    overflowed, gave_up = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    wait, slower = np.zeros(n), np.zeros(n)
    for i in np.flatnonzero(offered).tolist():
        t = float(arrive[i])
        while in_progress and in_progress[0] <= t:
            heapq.heappop(in_progress)
        start = t
        if len(in_progress) >= capacity:
            if not wait_when_full:
                overflowed[i] = True
                continue
            start = in_progress[0]  # first come, first served: the next slot to free is this contact's
            if start - t > patience[i]:
                gave_up[i] = True
                wait[i] = patience[i]
                continue
            heapq.heappop(in_progress)
            wait[i] = start - t
        slower[i] = duration[i] * slowdown * len(in_progress) / capacity
        heapq.heappush(in_progress, start + duration[i] + slower[i])
    return Held(overflowed, gave_up, wait, slower)
