"""`support-sandbox validate`: ✓ for good files, every located problem on stderr and exit 2 for bad ones."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from .conftest import Invoke
from .helpers import BAD, REPO

SHIPPED = sorted((REPO / "simulations").glob("*.yaml")) + sorted((REPO / "policies").glob("*.yaml"))

BAD_LINES = [
    ":3: demand.rate: '-20/h' is negative; rates are 0 or more",
    ":4: demand.busynes_shape: unknown key (did you mean 'busyness_shape'?)",
    ":5: channels: the shares must sum to 1, but voice 0.6 + chat 0.3 = 0.9",
    ":6: channels.voice.service_level_threshold: 20 has no unit; write 20s, 20m or 20h",
    ":9: segments.all.priority: should be a valid integer",
    ":11: intents.general.handle_time: give either mean and cv, or median and sigma (got mean)",
    ":14: agents.groups.team.concurency: unknown key (did you mean 'concurrency'?)",
]


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_shipped_files_pass(cli: Invoke) -> None:
    assert len(SHIPPED) >= 9
    result = cli("validate", *map(str, SHIPPED))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines() == [f"✓ {p}" for p in SHIPPED]


def test_shipped_scenarios_by_name(cli: Invoke) -> None:
    result = cli("validate", "ecommerce", "bank-priority", "telecom-billing-storm")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["✓ ecommerce", "✓ bank-priority", "✓ telecom-billing-storm"]


def test_shipped_policy_by_name(cli: Invoke) -> None:
    result = cli("validate", "no-bot")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["✓ no-bot"]


def test_invalid_file_reports_every_problem(cli: Invoke, bad_file: Path) -> None:
    result = cli("validate", str(bad_file))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(BAD_LINES) + 1
    for line, expected in zip(lines, BAD_LINES, strict=False):
        assert line.startswith(str(bad_file) + expected), (line, expected)
    assert lines[-1] == "7 problems in 1 input; nothing was run."


def test_mix_of_valid_and_invalid(cli: Invoke, bad_file: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(textwrap.dedent("""\
        name: typo policy
        automation:
          share: 0.5
          bypass_intents: [order_stats]
        """), encoding="utf-8")
    scenario = REPO / "simulations" / "ecommerce.yaml"
    no_bot = REPO / "policies" / "no-bot.yaml"
    result = cli("validate", str(scenario), str(bad_file), str(no_bot), str(policy))
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [f"✓ {scenario}", f"✓ {no_bot}"]
    errors = result.stderr.splitlines()
    assert errors[-1] == "8 problems in 2 inputs; nothing was run."
    assert sum(line.startswith(str(bad_file) + ":") for line in errors) == 7
    # the policy is checked against the valid scenario given with it
    assert f"{policy}:4: automation.bypass_intents[0]: intent 'order_stats' is not in scenario 'E-commerce, small " \
           "team' (did you mean 'order_status'?)" in errors


def test_missing_and_broken_files(cli: Invoke, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ndemand: [1, 2\n  x: y\n", encoding="utf-8")
    missing = tmp_path / "missing.yaml"
    result = cli("validate", str(broken), str(missing), "ecommrce")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{broken}:3: broken YAML: expected ',' or ']', but got ':'",
        f"{missing}: file not found",
        "ecommrce: no scenario or policy by this name in ./simulations, ./policies or the built-ins (did you mean "
        "'ecommerce'?)",
        "3 problems in 3 inputs; nothing was run.",
    ]


def test_validate_needs_a_file(cli: Invoke) -> None:
    result = cli("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.output
