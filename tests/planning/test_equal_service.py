"""Comparing at equal service: every policy is staffed to the same targets first, so a bot that takes work
off the agents shows as fewer agent-hours (not as idle agents), and the staffing is reproducible."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from conftest import BOT_POLICY, NO_BOT, SEED, SMALL_SCENARIO

from sandbox import api
from sandbox.export import to_json


def test_a_helpful_bot_needs_fewer_agent_hours_at_the_same_service(tmp_path: Path) -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    for intent in scenario["intents"].values():
        intent.setdefault("bot", {})["resolve_with_crm"] = 0.8
    halved = copy.deepcopy(BOT_POLICY) | {"staffing": {"scale": 0.5}}  # ignored: the search staffs
    c = api.compare(scenario, [copy.deepcopy(NO_BOT), halved], replications=6, seed=SEED,
                    equal_service=["service_level>=0.8"])
    assert c.equal_service == ["service_level>=0.8"]
    assert all(p.staffing.scale == 1 for p in c.policy_models)
    for p in (0, 1):
        assert c.estimate(p, "service_level").mean >= 0.8
    hours = c.difference(1, "agent_hours")
    assert hours.mean < 0
    assert hours.significant
    words = " ".join(i.text for i in api.explain(c))
    assert "fewer agent-hours a day than no-bot at these targets (service_level>=0.8)" in words
    path = tmp_path / "equal.json"
    path.write_text(to_json(c))
    again = api.reproduce(path)
    assert again.equal_service == c.equal_service
    assert again.values(1, "agent_hours") == c.values(1, "agent_hours")
    assert json.loads(to_json(again))["provenance"]["policies"][1]["scenario"]["sha256"] == \
        json.loads(path.read_text())["provenance"]["policies"][1]["scenario"]["sha256"]
