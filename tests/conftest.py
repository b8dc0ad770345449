"""Shared fixtures: small scenarios built in code, fixed seeds, and hypothesis profiles."""

from __future__ import annotations

import copy
import importlib
import os
import pkgutil
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import sandbox
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario

# "ci" draws the same examples on every machine (derandomize), so a run is reproducible; "explore" draws new
# ones each time and more of them, to look for counterexamples by hand (HYPOTHESIS_PROFILE=explore).
settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# Hypothesis mixes constants found in the loaded modules of the project into what it draws, so the examples of
# a derandomized test depend on which modules other tests happened to import. Importing them all first makes
# a test draw the same examples alone, in a folder or in the whole suite (as CI runs it).
for _module in pkgutil.walk_packages(sandbox.__path__, "sandbox."):
    if not _module.name.endswith("__main__"):  # that one runs the command line
        importlib.import_module(_module.name)

SEED = 20261127


def erlang_scenario(rate_per_hour: float, mean_handle: str, agents: int, patience: str | None, days: int = 2,
                    warm_up: str = "2h", coupling: float = 0.0) -> dict[str, Any]:
    """Bot off, one intent, exponential everything, constant rate around the clock: an M/M/N+M queue."""
    return {
        "name": "erlang",
        "horizon": {"days": days, "interval": "60m", "warm_up": warm_up},
        "hours": {"default": "00:00-24:00"},
        "demand": {"rate": f"{rate_per_hour}/h", "busyness_shape": None},
        "channels": {"voice": {"share": 1, "service_level_threshold": "20s"}},
        "segments": {"all": {"share": 1, "patience": None if patience is None else
                             {"kind": "exponential", "mean": patience}}},
        "intents": {"general": {"share": 1, "emotional_load": 0,
                                "handle_time": {"kind": "exponential", "mean": mean_handle}}},
        "agents": {"groups": {"team": {"skills": ["general"], "channels": ["voice"], "headcount": agents}}},
        "frustration": {"patience_coupling": coupling},
        "repeat_contacts": {"after_abandonment": 0, "after_false_containment": 0},
    }


SMALL_SCENARIO: dict[str, Any] = {
    "name": "small",
    "horizon": {"days": 1, "interval": "60m", "replications": 3},
    "hours": {"default": "08:00-18:00"},
    "demand": {"contacts_per_day": 400},
    "channels": {"voice": {"share": 0.5, "service_level_threshold": "20s"},
                 "chat": {"share": 0.5, "service_level_threshold": "60s", "handle_time_factor": 1.5}},
    "segments": {"regular": {"share": 0.8, "patience": {"kind": "exponential", "mean": "3m"}},
                 "vip": {"share": 0.2, "patience": {"kind": "exponential", "mean": "6m"}, "priority": 1,
                         "value_at_risk": 1000}},
    "intents": {
        "order_status": {"share": 0.5, "emotional_load": 0.05,
                         "bot": {"resolve_with_crm": 0.8, "resolve_without_crm": 0.2}},
        "billing_error": {"share": 0.3, "emotional_load": 0.45, "skill": "billing",
                          "bot": {"resolve_with_crm": 0.17, "wrong_answer": 0.08}},
        "cancellation": {"share": 0.2, "emotional_load": 0.35},
    },
    "agents": {"groups": {
        "service": {"skills": ["general"], "headcount": 4},
        "billing": {"skills": ["billing", "general"], "headcount": 2},
    }},
    "repeat_contacts": {"after_abandonment": 0.3, "after_false_containment": 0.5},
}

BOT_POLICY: dict[str, Any] = {
    "name": "bot",
    "automation": {"share": {"chat": 0.8, "voice": 0.4}},
    "escalation": {"max_bot_turns": 3, "frustration_threshold": 0.6},
}
NO_BOT: dict[str, Any] = {"name": "no bot", "automation": {"share": 0}}


@pytest.fixture
def small_scenario() -> Scenario:
    return Scenario.model_validate(copy.deepcopy(SMALL_SCENARIO))


@pytest.fixture
def bot_policy() -> Policy:
    return Policy.model_validate(copy.deepcopy(BOT_POLICY))


@pytest.fixture
def no_bot() -> Policy:
    return Policy.model_validate(copy.deepcopy(NO_BOT))
