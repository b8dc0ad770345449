"""Provides the frustration model: how F grows and falls, and how it shortens patience (sandbox.model.satisfaction
turns F into CSAT and churn).

F is an index in [0, 1]: 0 calm, 1 furious. It starts at the intent's emotional load and rises by fixed steps
(failed bot turn, heavier on emotional intents; repeated information, transfer, refused request, leaving
unresolved) and linearly while waiting in the queue; it is capped at 1. It falls only in a human's hands: a
served contact ends with F reduced by the agent group's de-escalation share. The equations, defaults and
their sources are in docs/model.md.

Queue patience is a *budget* τ drawn from the segment's patience distribution and spent at rate exp(β·F(s))
while waiting, so the customer abandons at the first t with ∫₀ᵗ exp(β·F(s)) ds = τ. With exponential τ this
is exactly the proportional-hazards form θ·exp(β·F) (Emadi & Swaminathan; Akşin et al.); with β = 0 the
patience is the segment's distribution unchanged, which is what Erlang A assumes. Because F grows linearly
while waiting, the abandonment moment has a closed form: it is computed once when the contact joins the
queue, never polled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from sandbox.config.scenario import Churn, Frustration

F = TypeVar("F", float, np.ndarray)


def _raised(f: F, step: F | float) -> F:
    """F + step, capped at 1: element-wise for a batch (the bot stage), plain for one contact (the queue)."""
    if isinstance(f, np.ndarray):
        return np.minimum(1.0, f + step)
    return min(1.0, f + step)


@dataclass(frozen=True)
class FrustrationModel:
    """Scenario coefficients bound to the equations. Every change of F is one of the ``after_*`` steps below,
    called by the bot stage (sandbox.model.conversation) and the engine; nothing else adds to F."""

    params: Frustration
    churn: Churn

    def after_failed_turn(self, f: F, weight: F | float = 1.0) -> F:
        """A bot turn that did not help; ``weight`` (failure_weight) makes it hurt an upset customer more."""
        return _raised(f, self.params.failed_turn * weight)

    def failure_weight(self, emotional_load: np.ndarray) -> np.ndarray:
        """1 + η·load: a failed bot turn on an emotional intent hurts more (angry customers penalise bots,
        Crolic et al. 2022); η = 0 makes every failure cost the same."""
        return 1.0 + self.params.emotional_failure * emotional_load

    def after_service(self, f: float, deescalation: float) -> float:
        """A human conversation calms the customer: F falls by the agent group's share ``deescalation``."""
        return f * (1.0 - deescalation)

    def after_ignored_request(self, f: F) -> F:
        """Asked for a human and was refused."""
        return _raised(f, self.params.ignored_request)

    def after_handover(self, f: F, cold: bool) -> F:
        """Handed from the bot to the human queue; a cold handoff also makes the customer repeat everything."""
        return _raised(f, self.params.transfer + (self.params.repeat_information if cold else 0.0))

    def after_leaving_unresolved(self, f: F) -> F:
        """Gave up (on the bot or the queue), was refused or turned away: the issue is still open."""
        return _raised(f, self.params.left_unresolved)

    def on_coming_back(self, f: F) -> F:
        """A repeat contact starts from the intent's load plus having to explain it all again."""
        return _raised(f, self.params.repeat_information)

    def after_wait(self, f_entry: float, wait: float) -> float:
        """F after ``wait`` minutes in the queue."""
        return min(1.0, f_entry + self.params.per_minute_waiting * wait)

    def abandonment_delay(self, f_entry: float, budget: float) -> float:
        """Minutes until a customer who joins the queue at F = f_entry with patience budget τ gives up."""
        if budget <= 0 or math.isinf(budget):
            return budget
        beta, d = self.params.patience_coupling, self.params.per_minute_waiting
        rate0 = math.exp(beta * f_entry)
        if beta == 0 or d == 0 or f_entry >= 1:
            return budget / rate0
        bd = beta * d
        to_cap = (1 - f_entry) / d  # minutes until F reaches its cap of 1
        spent_by_cap = (math.exp(beta) - rate0) / bd
        if budget <= spent_by_cap:
            return math.log1p(budget * bd / rate0) / bd
        return to_cap + (budget - spent_by_cap) / math.exp(beta)

    def ask_probability(self, f: np.ndarray) -> np.ndarray:
        """P(ask for a human after a failed turn) = 1 − exp(−κ·F)."""
        return -np.expm1(-self.params.ask_for_human * f)

    def quit_probability(self, f: np.ndarray) -> np.ndarray:
        """P(give up on the bot after a failed turn) = 1 − exp(−κq·F)."""
        return -np.expm1(-self.params.quit_bot * f)
