"""Provides the ledger: one row per finished contact, folded into running totals so memory stays flat.

The engine writes rows (whole arrays from the bot stage, single tuples from the queue); every few thousand
rows they are aggregated with numpy into counts and sums per outcome, intent and interval, and dropped unless
per-contact records were asked for. KPIs are computed from these totals in sandbox.metrics.kpis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sandbox.config.scenario import Churn
from sandbox.model.frustration import churn_probability, satisfaction
from sandbox.model.outcomes import N_OUTCOMES, Outcome

COLUMNS = ("outcome", "channel", "segment", "intent", "origin", "arrive", "end", "queued", "wait",
           "frustration", "turns", "failed", "reason", "asked", "refused", "repeats", "handle")
DTYPES = dict(outcome=np.int8, channel=np.int8, segment=np.int8, intent=np.int8, origin=np.int8,
              arrive=float, end=float, queued=bool, wait=float, frustration=float, turns=np.int16,
              failed=np.int16, reason=np.int8, asked=bool, refused=np.int16, repeats=np.int16, handle=float)
ORIGINS = ("new", "retry", "return")  # first contact; retry after abandoning; back after a wrong answer
FRUSTRATED = 0.7  # F at or above this counts as "left frustrated" in the per-intent view
N_REASONS = 5
# Resolution-time histogram: log-spaced bins of 1% width from 1 s to 30 days, enough for a p90 to 1%.
_HIST_EDGES = np.exp(np.arange(np.log(1 / 60), np.log(30 * 1440), np.log(1.01)))
FLUSH_ROWS = 4096


@dataclass
class Totals:
    """Everything a run's KPIs, series and breakdowns are computed from."""

    n_channels: int
    n_segments: int
    n_intents: int
    n_bins: int
    interval: float
    outcome_by_intent: np.ndarray = field(init=False)  # [intent, outcome]
    scalars: dict[str, float] = field(default_factory=dict)
    by_intent: dict[str, np.ndarray] = field(default_factory=dict)
    by_segment: dict[str, np.ndarray] = field(default_factory=dict)
    series: dict[str, np.ndarray] = field(default_factory=dict)
    reasons: np.ndarray = field(init=False)
    resolution_hist: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.outcome_by_intent = np.zeros((self.n_intents, N_OUTCOMES), dtype=np.int64)
        self.reasons = np.zeros(N_REASONS, dtype=np.int64)
        self.resolution_hist = np.zeros(len(_HIST_EDGES) + 1, dtype=np.int64)

    def add(self, name: str, value: float) -> None:
        self.scalars[name] = self.scalars.get(name, 0.0) + float(value)

    def add_by(self, table: dict[str, np.ndarray], name: str, index: np.ndarray, weights: np.ndarray | None,
               size: int) -> None:
        counts = np.bincount(index, weights=weights, minlength=size)[:size]
        if name in table:
            table[name] += counts
        else:
            table[name] = counts.astype(float)

    def resolution_quantile(self, q: float) -> float:
        """Quantile of resolution time (minutes) from the histogram; nan when nothing was resolved."""
        total = self.resolution_hist.sum()
        if total == 0:
            return float("nan")
        i = int(np.searchsorted(np.cumsum(self.resolution_hist), q * total))
        lo = _HIST_EDGES[i - 1] if i > 0 else 0.0
        hi = _HIST_EDGES[min(i, len(_HIST_EDGES) - 1)]
        return float((lo + hi) / 2)


class Ledger:
    """Collects finished contacts and keeps their totals (and, on request, the rows themselves)."""

    def __init__(self, totals: Totals, ceiling: np.ndarray, threshold: np.ndarray, value: np.ndarray,
                 churn: Churn, keep_records: bool = False):
        self.totals = totals
        self._ceiling, self._threshold, self._value, self._churn = ceiling, threshold, value, churn
        self._rows: list[tuple] = []
        self._batches: list[dict[str, np.ndarray]] = []
        self._pending = 0
        self.keep_records = keep_records
        self.records: list[dict[str, np.ndarray]] = []

    def add(self, row: tuple) -> None:
        """One finished contact, as a tuple in COLUMNS order."""
        self._rows.append(row)
        if len(self._rows) >= FLUSH_ROWS:
            self.flush()

    def add_batch(self, columns: dict[str, np.ndarray]) -> None:
        """Many finished contacts at once, as arrays keyed by COLUMNS."""
        if len(columns["outcome"]):
            self._batches.append(columns)

    def flush(self) -> None:
        batches = self._batches
        if self._rows:
            cols = list(zip(*self._rows, strict=True))
            batches.append({name: np.asarray(cols[i], dtype=DTYPES[name]) for i, name in enumerate(COLUMNS)})
        self._rows, self._batches = [], []
        for batch in batches:
            keep = batch["arrive"] >= 0  # contacts that arrived during the warm-up are not reported
            if not keep.all():
                batch = {k: v[keep] for k, v in batch.items()}
            if len(batch["outcome"]):
                self._aggregate(batch)
                if self.keep_records:
                    self.records.append(batch)

    def _aggregate(self, b: dict[str, np.ndarray]) -> None:
        t = self.totals
        outcome, intent, channel = b["outcome"].astype(np.int64), b["intent"].astype(np.int64), b["channel"]
        np.add.at(t.outcome_by_intent, (intent, outcome), 1)
        final = outcome != Outcome.IN_SYSTEM
        f = b["frustration"]
        resolved_repeat = (b["origin"] > 0) | (b["reason"] > 0)
        csat = np.where(final, satisfaction(f, self._ceiling[channel]), 0.0)
        churn = np.where(final, churn_probability(f, outcome, resolved_repeat, self._churn), 0.0)
        lost = churn * self._value[b["segment"]]
        botted = b["turns"] > 0
        escalated = b["reason"] > 0
        queued = b["queued"]
        wait = np.where(queued, b["wait"], 0.0)
        served = outcome == Outcome.SERVED
        abandoned_q = outcome == Outcome.ABANDONED_QUEUE
        within = wait <= self._threshold[channel]
        resolved = (outcome == Outcome.CONTAINED) | served
        resolution = (b["end"] - b["arrive"])[resolved]

        for name, value in (
            ("final", final.sum()), ("bot_handled", botted.sum()), ("escalated", escalated.sum()),
            ("frustration", f[final].sum()), ("csat", csat.sum()), ("churn", churn.sum()),
            ("value_at_risk", lost.sum()), ("repeat_information", b["repeats"].sum()),
            ("retries", (b["origin"] == 1).sum()), ("returns", (b["origin"] == 2).sum()),
            ("asked_human", b["asked"].sum()), ("refused_requests", b["refused"].sum()),
            ("bot_turns", b["turns"].sum()), ("failed_turns", b["failed"].sum()),
            ("queued", queued.sum()), ("wait_all", wait.sum()), ("wait_served", wait[served].sum()),
            ("answered_within_t", (served & within).sum()), ("abandoned_before_t", (abandoned_q & within).sum()),
            ("abandoned_after_t", (abandoned_q & ~within).sum()), ("handle", b["handle"].sum()),
            ("resolution_time", resolution.sum()), ("resolved", len(resolution)),
            ("left_frustrated", (final & (f >= FRUSTRATED)).sum()),
        ):
            t.add(name, value)
        np.add.at(t.reasons, b["reason"].astype(np.int64), 1)
        t.resolution_hist += np.bincount(np.searchsorted(_HIST_EDGES, resolution),
                                         minlength=len(t.resolution_hist))

        n = t.n_intents
        t.add_by(t.by_intent, "frustration", intent, np.where(final, f, 0.0), n)
        t.add_by(t.by_intent, "final", intent, final.astype(float), n)
        t.add_by(t.by_intent, "csat", intent, csat, n)
        t.add_by(t.by_intent, "left_frustrated", intent, (final & (f >= FRUSTRATED)).astype(float), n)
        t.add_by(t.by_intent, "bot_handled", intent, botted.astype(float), n)
        t.add_by(t.by_intent, "escalated", intent, escalated.astype(float), n)
        t.add_by(t.by_intent, "failed_turns", intent, b["failed"].astype(float), n)
        t.add_by(t.by_intent, "handle", intent, b["handle"], n)
        t.add_by(t.by_intent, "returns", intent, (b["origin"] == 2).astype(float), n)
        t.add_by(t.by_intent, "value_at_risk", intent, lost, n)
        t.add_by(t.by_segment, "value_at_risk", b["segment"].astype(np.int64), lost, t.n_segments)
        t.add_by(t.by_segment, "offered", b["segment"].astype(np.int64), None, t.n_segments)

        width, bins = t.interval, t.n_bins
        arrive_bin = np.minimum((b["arrive"] // width).astype(np.int64), bins - 1)
        t.add_by(t.series, "arrivals", arrive_bin, None, bins)
        gone = abandoned_q | (outcome == Outcome.ABANDONED_BOT)
        end_bin = np.clip((b["end"][gone] // width).astype(np.int64), 0, bins - 1)
        t.add_by(t.series, "abandoned", end_bin, None, bins)
        t.add_by(t.series, "escalated", arrive_bin[escalated], None, bins)
