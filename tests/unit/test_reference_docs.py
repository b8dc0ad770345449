"""docs/configuration.md is generated from the models; it must equal what the generator gives today."""

from __future__ import annotations

import difflib
from pathlib import Path

from sandbox.config.reference import markdown_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
REGENERATE = "support-sandbox schema --markdown -o docs/configuration.md"


def test_configuration_reference_has_not_drifted() -> None:
    generated = markdown_reference()
    on_disk = DOC.read_text(encoding="utf-8")
    if on_disk != generated:
        diff = "".join(list(difflib.unified_diff(on_disk.splitlines(True), generated.splitlines(True),
                                                 "docs/configuration.md", "generated"))[:40])
        raise AssertionError(f"docs/configuration.md is out of date; regenerate it with `{REGENERATE}`\n{diff}")


def test_reference_documents_every_model_and_distribution() -> None:
    text = markdown_reference()
    for section in ("### Scenario", "### Demand", "### AgentGroup", "### Policy", "### Escalation",
                    "### Callback", "## Distributions"):
        assert section in text
    for kind in ("exponential", "lognormal", "gamma", "weibull", "deterministic", "empirical", "mixture"):
        assert f"`kind: {kind}`" in text
    assert "| `busyness_shape` |" in text
    assert "| `max_bot_turns` |" in text
    assert "| `rate` | rate or null | `null` |" in text
    assert "| `after_wait` | duration or null | `null` |" in text


def test_constrained_durations_are_documented_as_durations() -> None:
    text = markdown_reference()
    assert "| `service_level_threshold` | duration | **required** |" in text
    assert "| `warm_up` | duration | `0s` |" in text
    assert "| `identification` | duration | `0s` |" in text
