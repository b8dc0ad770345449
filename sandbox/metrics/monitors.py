"""Provides the time-weighted level monitor (queue length, busy slots, agents on duty).

A level holds between changes, so its average is ∫level dt / time, split over reporting intervals; averaging
it once per event instead is the classic bug (a queue that is long for a second and empty for an hour would
look half full). Time before 0 is warm-up and is not recorded.
"""

from __future__ import annotations

import numpy as np


class Level:
    """A piecewise-constant quantity with its integral per reporting interval over [0, end)."""

    __slots__ = ("areas", "end", "level", "t", "width")

    def __init__(self, start: float, end: float, width: float):
        self.t = start
        self.end = end
        self.width = width
        self.level = 0.0
        self.areas = [0.0] * max(1, round(end / width))

    def add(self, t: float, delta: float) -> None:
        """At time t the level changes by delta (t never goes backwards)."""
        if t > self.t:
            if self.level and t > 0 and self.t < self.end:
                self._spread(max(self.t, 0.0), min(t, self.end))
            self.t = t
        self.level += delta

    def _spread(self, a: float, b: float) -> None:
        width, level, areas = self.width, self.level, self.areas
        i = int(a // width)
        while a < b:
            edge = min((i + 1) * width, b)
            areas[i] += level * (edge - a)
            a = edge
            i += 1

    def close(self) -> list[float]:
        """Account up to the end of the horizon and return the integral per interval."""
        self.add(self.end, 0.0)
        return self.areas


def interval_areas(start: np.ndarray, end: np.ndarray, weight: np.ndarray, width: float, n_bins: int) -> np.ndarray:
    """Σ weight × overlap of each [start, end) with each reporting interval, for many intervals at once.

    Used for the queue length (each waiting contact is one [joined, left) interval) and busy slots (each
    service is [answered, answered + handle + wrap-up) with its slots): integrating them per interval gives
    the same time-weighted averages as a level monitor, without touching the per-event path.
    """
    horizon = n_bins * width
    a, b = np.clip(start, 0, horizon), np.clip(end, 0, horizon)
    keep = b > a
    a, b, w = a[keep], b[keep], weight[keep].astype(float)
    edges = np.arange(n_bins + 1) * width

    def ramp(points: np.ndarray) -> np.ndarray:
        # Σ_i w_i · max(0, e − p_i) at every edge e, from prefix sums over the sorted points.
        order = np.argsort(points, kind="stable")
        p, wp = points[order], w[order]
        cw = np.concatenate(([0.0], np.cumsum(wp)))
        cwp = np.concatenate(([0.0], np.cumsum(wp * p)))
        k = np.searchsorted(p, edges, side="left")
        return edges * cw[k] - cwp[k]

    return np.diff(ramp(a) - ramp(b))
