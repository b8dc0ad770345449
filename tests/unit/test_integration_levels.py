"""What the bot may see and do: integration levels (and the earlier crm flag), per-intent resolution by level,
and which attacks the level and the policy's security leave open (sandbox.engine.plan)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import SMALL_SCENARIO

from sandbox.config.policy import Integration, Policy
from sandbox.config.scenario import IntentBot, Scenario
from sandbox.engine.plan import compile_plan


@pytest.mark.parametrize(("given", "level"), [({}, "read"), ({"crm": True}, "read"), ({"crm": False}, "none"),
                                              ({"level": "act"}, "act"), ({"crm": True, "level": "act"}, "act")])
def test_crm_is_the_earlier_form_of_level_and_level_decides(given: dict[str, object], level: str) -> None:
    assert Integration.model_validate(given).level == level


def test_resolution_by_level() -> None:
    bot = IntentBot(resolve_with_crm=0.6, resolve_without_crm=0.1, resolve_with_actions=0.75)
    assert (bot.resolve("none"), bot.resolve("read"), bot.resolve("act")) == (0.1, 0.6, 0.75)
    plain = IntentBot(resolve_with_crm=0.6)
    assert {plain.resolve(level) for level in ("none", "read", "act")} == {0.6}


def _rules(integration: dict[str, object], security: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    s = copy.deepcopy(SMALL_SCENARIO)
    s["intents"]["order_status"]["bot"]["account_action"] = True
    policy = {"name": "p", "automation": {"share": 1.0}, "integration": integration, "security": security or {}}
    return compile_plan(Scenario.model_validate(s), Policy.model_validate(policy)).rules_on(0).bot


def test_attacks_need_the_access_they_exploit() -> None:
    # kinds: account takeover, refund fraud (both need act), data extraction (needs read)
    assert _rules({"level": "none"}).attack_permitted.tolist() == [False, False, False]
    assert _rules({"level": "read"}).attack_permitted.tolist() == [False, False, True]
    assert _rules({"level": "act"}).attack_permitted.tolist() == [True, True, True]
    assert _rules({"level": "act", "refund_limit": 0}).attack_permitted.tolist() == [True, False, True]


def test_verification_applies_to_account_actions_at_level_act_only() -> None:
    acting = _rules({"level": "act"}, {"verification": True})
    np.testing.assert_array_equal(acting.verify, [True, False, False])  # only the account-action intent
    assert acting.attack_verified.tolist() == [True, True, False]
    reading = _rules({"level": "read"}, {"verification": True})
    assert not reading.verify.any()
    assert not reading.attack_verified.any()
