"""Service targets as planners write them, and every mistake named."""

from __future__ import annotations

import pytest

from sandbox.config.targets import parse_target, parse_targets
from sandbox.errors import ConfigError


@pytest.mark.parametrize(("text", "kpi", "op", "value", "channel"), [
    ("service_level>=0.8", "service_level", ">=", 0.8, None),
    ("voice.service_level>=80%", "service_level", ">=", 0.8, "voice"),
    ("abandonment_rate<=5%", "abandonment_rate", "<=", 0.05, None),
    ("asa<=30s", "asa_served", "<=", 30.0, None),
    ("chat.asa_all <= 1m", "asa_all", "<=", 60.0, "chat"),
    ("occupancy<=0.85", "occupancy", "<=", 0.85, None),
])
def test_targets_parse(text: str, kpi: str, op: str, value: float, channel: str | None) -> None:
    t = parse_target(text)
    assert (t.kpi, t.op, t.channel) == (kpi, op, channel)
    assert t.value == pytest.approx(value)


@pytest.mark.parametrize(("text", "message"), [
    ("service_level=0.8", "is not a target"),
    ("sevice_level>=0.8", "did you mean 'service_level'"),
    ("csat>=0.8", "cannot be a staffing target"),
    ("fax.service_level>=0.8", "is not a channel"),
    ("voice.occupancy<=0.8", "is not measured per channel"),
    ("service_level<=0.8", "more agents make it higher"),
    ("service_level>=1.5", "not a share"),
    ("asa<=soon", "not a duration"),
])
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_target(text)
    assert message in str(caught.value.problems[0].message) + str(caught.value.problems[0].hint)
    assert caught.value.problems[0].file == f"--target {text}"


def test_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_targets(["csat>=0.8", "service_level>=0.8", "asa<=x"])
    assert len(caught.value.problems) == 2
