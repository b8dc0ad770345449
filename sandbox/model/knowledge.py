"""Provides the bot's knowledge over days: changes that make it stale, updates that fix it, and a feedback loop
that learns from escalated conversations (docs/model.md §3a).

State per intent, carried from one day to the next within a replication (each replication starts fresh):

* stale since a day, or fresh. A knowledge change (at random, Poisson with the scenario's rate per intent, or
  scheduled by a knowledge_change event) makes a fresh intent stale; while stale, the bot resolves (1 − q) of
  what it resolved and gives confident wrong answers with probability at least q.
* fixed by a routine update L days after it went stale (scenario knowledge.update_lag), or sooner by a review
  of the policy's feedback loop (improvement), which spends its curation hours on the stalest intents first;
* examples learned: the hours a review has left read escalated conversations, which raise the intent's
  resolution along a learning curve a = a0 + g·(1 − a0)·(1 − exp(−n / n0)).

Everything happens at the start of a day, in this order: routine updates, the review, the day's changes.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sandbox.config.policy import Policy
from sandbox.config.scenario import KnowledgeChange, Scenario
from sandbox.model.conversation import BotRules

DAY = 1440.0


class Knowledge:
    """One replication's bot knowledge, day by day."""

    def __init__(self, scenario: Scenario, policy: Policy, intents: list[str]):
        k, imp = scenario.knowledge, policy.improvement
        self.per_day = np.array([k.rate(i) for i in intents]) / 7
        self.q = k.stale_wrong_answer
        self.lag = None if k.update_lag is None else max(1, round(k.update_lag / DAY))  # in whole days
        self.scheduled: dict[int, list[int]] = {}
        for event in scenario.events:
            if isinstance(event, KnowledgeChange):
                self.scheduled.setdefault(event.day - 1, []).extend(intents.index(i) for i in event.intents)
        self.every = None if imp.review_every is None else max(1, round(imp.review_every / DAY))
        self.improvement = imp
        n = len(intents)
        self.stale_since = np.full(n, -1)  # the day it went stale; −1: fresh
        self.examples = np.zeros(n)  # escalated conversations reviewed so far
        self.pending = np.zeros(n)  # escalated since the last review
        # Off, the bot's rules are the scenario's every day, to the last digit (nothing drawn, nothing changed).
        self.active = bool(self.per_day.any() or self.scheduled or self.every is not None)

    @property
    def daily_cost(self) -> float:
        """Curation paid per day while the feedback loop runs (its budget, used or not)."""
        if self.every is None:
            return 0.0
        return self.improvement.curation_hours_per_week / 7 * self.improvement.hourly_cost

    def start_day(self, day: int, rng: np.random.Generator) -> None:
        """Updates, the review and the day's knowledge changes, at the start of ``day`` (0: the first)."""
        stale = self.stale_since >= 0
        if self.lag is not None:
            self.stale_since[stale & (day - self.stale_since >= self.lag)] = -1
        if self.every is not None and day > 0 and day % self.every == 0:
            self._review()
        changed = rng.poisson(self.per_day) > 0 if self.per_day.any() else np.zeros(len(self.per_day), bool)
        changed[self.scheduled.get(day, [])] = True
        self.stale_since[changed & (self.stale_since < 0)] = day

    def _review(self) -> None:
        imp = self.improvement
        hours = imp.curation_hours_per_week * self.every / 7  # type: ignore[operator]
        for i in np.argsort(np.where(self.stale_since >= 0, self.stale_since, np.iinfo(np.int64).max),
                            kind="stable"):
            if self.stale_since[i] < 0 or hours < imp.hours_per_fix:
                break
            self.stale_since[i] = -1
            hours -= imp.hours_per_fix
        readable = hours * imp.conversations_per_hour
        total = self.pending.sum()
        if total > 0:
            self.examples += self.pending * min(1.0, readable / total)
        self.pending[:] = 0.0

    def observe(self, escalated_by_intent: np.ndarray) -> None:
        """The day's escalated conversations, for the next review to read."""
        if self.every is not None:
            self.pending += escalated_by_intent

    def rules(self, base: BotRules) -> BotRules:
        """The bot's rules today: learned resolution, less where stale, with stale wrong answers."""
        imp = self.improvement
        resolve = base.resolve
        if self.every is not None and self.examples.any():
            gained = imp.max_gain * (1 - resolve) * -np.expm1(-self.examples / imp.examples)
            resolve = resolve + gained
        stale = self.stale_since >= 0
        wrong = base.wrong
        if stale.any():
            resolve = np.where(stale, resolve * (1 - self.q), resolve)
            wrong = np.where(stale, np.maximum(wrong, self.q), wrong)
        if resolve is base.resolve and wrong is base.wrong:
            return base
        return dataclasses.replace(base, resolve=resolve, wrong=wrong)
