"""`support-sandbox tui`: the options reach the workbench; wrong names exit 2 with the located problem."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from sandbox.cli.main import app
from sandbox.tui import app as tui_app

pytestmark = pytest.mark.tui


def test_a_misspelled_policy_exits_2_with_a_did_you_mean_and_no_traceback():
    done = subprocess.run([sys.executable, "-m", "sandbox", "tui", "-p", "warm-handof"], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "warm-handof" in done.stderr
    assert "did you mean 'warm-handoff'?" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(("args", "wanted"), [
    (["--baseline", "warm"], "--baseline"),
    (["--set", "escalation.max_bot_turn=3"], "did you mean 'max_bot_turns'?"),
    (["--set", "demand.contacts_per_day=-5"], "demand.contacts_per_day"),
    (["no-such-scenario"], "no scenario by this name"),
])
def test_wrong_options_exit_2(args: list[str], wanted: str):
    result = CliRunner().invoke(app, ["tui", "-p", "no-bot", "-p", "warm-handoff", *args])
    assert result.exit_code == 2, result.output
    assert wanted in result.output
    assert "Traceback" not in result.output


def test_options_reach_the_workbench(monkeypatch: pytest.MonkeyPatch):
    opened: list[tui_app.SandboxApp] = []

    def run(self: tui_app.SandboxApp, *args, **kwargs) -> None:
        opened.append(self)
        self._shut_down()  # not shown: only what it was opened with matters here

    monkeypatch.setattr(tui_app.SandboxApp, "run", run)
    result = CliRunner().invoke(app, ["tui", "bank-priority", "-p", "no-bot", "-p", "warm-handoff", "-n", "3",
                                      "--seed", "9", "--days", "2", "--baseline", "warm-handoff",
                                      "--set", "escalation.max_bot_turns=2", "--set", "bot.quality=0.8"])
    assert result.exit_code == 0, result.output
    inputs = opened[0].workbench.inputs()
    assert inputs.scenario.name.startswith("Bank")
    assert (inputs.replications, inputs.seed, inputs.scenario.horizon.days) == (3, 9, 2)
    assert inputs.labels[inputs.baseline] == "warm-handoff*"
    assert [p.escalation.max_bot_turns for p in inputs.policies] == [2, 2]
    assert inputs.scenario.bot.quality == 0.8
