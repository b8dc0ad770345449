"""Provides the checks file: guardrails a policy must hold before it is rolled out (``checks/*.yaml``, docs/checks.md).

Each check names a KPI (docs/kpis.md) and a limit, over the whole run, in every interval, per intent, per
contacts offered, or against the baseline policy; stress variants (more demand, a bot outage, agents absent)
are built from the scenario's events and every check is judged under each. sandbox.experiments.checks runs
and judges them.
"""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from sandbox.config import limits
from sandbox.config.scenario import Name, Probability, Strict, Text, parse_clock
from sandbox.metrics.kpis import INTENT_FIELDS, KPIS
from sandbox.units import Duration

# Per-interval KPIs: the per-channel series that make them (numerator, denominator), both by interval of
# arrival (kpis.daily's definitions), summed over the channels.
INTERVAL_KPIS = {"abandonment_rate": ("gave_up", "offered")}
EMOTIONAL = 0.3  # "emotional intents": emotional load at least this (as policies/emotional-bypass.yaml)


class Stress(Strict):
    """A stress variant of the scenario: its events plus these (sandbox.config.scenario events)."""

    name: Text = Field(description="How the variant is named in the results, e.g. '+20% demand'.")
    demand: float = Field(1.0, gt=0, le=limits.MAX_FACTOR,
                          description="Arrivals × this over the whole horizon (a demand_surge event).")
    bot_outage: Duration | None = Field(None, gt=0, le=limits.MAX_DURATION_MINUTES,
                                        description="A bot outage of this length on day 1 (a bot_outage event).")
    agent_absence: Probability | None = Field(None, description="Share of the agents absent all of day 1.")
    at: str = Field("10:00", max_length=5, description="When the outage starts on day 1 (HH:MM).")

    @field_validator("at")
    @classmethod
    def _clock(cls, text: str) -> str:
        if not re.match(r"^\d{1,2}:\d{2}$", text) or not 0 <= parse_clock(text) < 1440:
            raise ValueError("should be a time of day as HH:MM, e.g. 10:00")
        return text


class Check(Strict):
    """One guardrail: a KPI and a limit, judged with its 95% interval."""

    name: Text = Field(description="What it guards, in plain words (the name in reports and JUnit).")
    kpi: str = Field(description="A KPI of docs/kpis.md (`support-sandbox kpis`).")
    at_most: float | None = Field(None, description="The KPI must be at most this (a share as 0.05).")
    at_least: float | None = Field(None, description="The KPI must be at least this.")
    per: Literal["run", "interval", "intent"] = Field(
        "run", description="run: the KPI over the horizon; interval: in every reporting interval with at least "
        "10 contacts on average (abandonment_rate); intent: for each intent of `intents`.")
    intents: list[Name] | Literal["emotional"] = Field(
        [], description="With per: intent, the intents judged ('emotional': emotional load ≥ 0.3; empty: all).")
    per_contacts: float | None = Field(None, gt=0, description="The KPI (a count) per this many contacts "
                                       "offered, e.g. incidents per 10000.")
    vs_baseline: Literal["not_significantly_worse"] | None = Field(
        None, description="Instead of a limit: fails when the paired 95% interval says the policy is worse than "
        "the baseline policy.")
    under: list[Text] | None = Field(None, description="The variants it is judged under ('as is' and stress "
                                     "names; default: all).")

    @field_validator("kpi")
    @classmethod
    def _known(cls, kpi: str) -> str:
        if kpi not in KPIS:
            raise ValueError(f"{kpi!r} is not a KPI (see support-sandbox kpis)")
        return kpi

    @model_validator(mode="after")
    def _one_rule(self) -> Self:
        limits_given = (self.at_most is not None) + (self.at_least is not None)
        if (limits_given == 1) == (self.vs_baseline is not None) or limits_given == 2:
            raise ValueError("give exactly one of at_most, at_least or vs_baseline")
        if self.per == "interval" and self.kpi not in INTERVAL_KPIS:
            raise ValueError(f"per: interval judges {', '.join(INTERVAL_KPIS)}")
        if self.per == "intent" and self.kpi not in INTENT_FIELDS:
            raise ValueError(f"per: intent judges the per-intent figures ({', '.join(INTENT_FIELDS)})")
        if self.per != "run" and (self.vs_baseline is not None or self.per_contacts is not None):
            raise ValueError("vs_baseline and per_contacts are judged over the run (per: run)")
        if self.per != "intent" and self.intents:
            raise ValueError("intents are judged with per: intent")
        if self.vs_baseline is not None and KPIS[self.kpi].better is None:
            raise ValueError(f"{self.kpi} has no better direction: give at_most or at_least instead of vs_baseline")
        if self.under == []:
            raise ValueError("under names no variant: leave it out to judge under all")
        return self


class CheckFile(Strict):
    """Guardrails for policies, judged on a scenario and its stress variants."""

    name: Text = Field(description="What the checks are for.")
    scenario: str = Field("ecommerce", max_length=limits.MAX_TEXT, description="Scenario name or path.")
    policies: list[str] = Field([], max_length=limits.MAX_LIST, description="Policies under test (names or paths; "
                                "the CLI's -p replaces them).")
    baseline: str = Field("no-bot", max_length=limits.MAX_TEXT, description="The policy vs_baseline compares with.")
    replications: int = Field(10, ge=2, le=limits.MAX_REPLICATIONS, description="Replications to start with.")
    max_replications: int = Field(80, ge=2, le=limits.MAX_REPLICATIONS, description="The cap: a check still "
                                  "undecided then is 'not enough replications to tell'.")
    seed: int = Field(0, ge=0, description="Base seed.")
    stress: list[Stress] = Field([], max_length=limits.MAX_LIST, description="Stress variants.")
    checks: list[Check] = Field(min_length=1, max_length=limits.MAX_LIST, description="The guardrails.")

    @model_validator(mode="after")
    def _names(self) -> Self:
        variants = {"as is", *(s.name for s in self.stress)}
        for check in self.checks:
            unknown = [v for v in check.under or [] if v not in variants]
            if unknown:
                raise ValueError(f"check {check.name!r}: under names {unknown[0]!r}, not a variant "
                                 f"({', '.join(sorted(variants))})")
        if self.max_replications < self.replications:
            raise ValueError("max_replications is below replications")
        return self
