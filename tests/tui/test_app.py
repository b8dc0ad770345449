"""Pilot tests of the workbench: load, edit a knob, run, cancel, switch views, save, export, broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from textual.widgets import Input, SelectionList, TabbedContent

from sandbox import api
from sandbox.tui.app import RunFinished, RunProgressed, SandboxApp, make_app
from sandbox.tui.screens import ExportScreen, HelpScreen, ProblemsScreen, SaveScreen
from sandbox.tui.widgets import Chart, Choice, IntentTable, KnobRow, KpiTable

pytestmark = pytest.mark.tui
SIZE = (120, 36)
FEW = ["no-bot", "warm-handoff", "dead-end"]


async def wait_for_run(app: SandboxApp, pilot, limit: float = 30.0) -> None:
    """Let the worker finish and its messages be handled."""
    waited = 0.0
    while (app.running or app.comparison is None) and waited < limit:
        await pilot.pause(0.05)
        waited += 0.05
    await pilot.pause()
    assert not app.running, "the run did not finish in time"


async def highlight(app: SandboxApp, pilot, label: str) -> None:
    policies = app.query_one("#policies", SelectionList)
    policies.highlighted = [e.label for e in app.workbench.policies].index(label)
    await pilot.pause()
    assert app.current == label


async def test_opens_on_default_scenario_and_runs_at_once():
    messages: list[str] = []
    app = make_app(replications=3)
    async with app.run_test(size=SIZE, message_hook=lambda m: messages.append(type(m).__name__)) as pilot:
        await wait_for_run(app, pilot)
        table = app.query_one("#kpis", KpiTable)
        assert "RunFinished" in messages
        assert messages.count("RunProgressed") >= len(app.workbench.policies) * 3  # streamed, one per replication
        assert table.row_count > 10
        assert len(table.columns) == 1 + len(app.workbench.policies)
        assert app.comparison is not None
        assert app.comparison.complete_replications() == 3
        assert app.workbench.scenario.name in app.sub_title


async def test_editing_a_knob_changes_the_policy_and_the_results():
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        before = app.comparison.estimate(1, "bot_handled").mean
        await highlight(app, pilot, "warm-handoff")
        share = app.query_one("#knob-automation-share", KnobRow).query_one(Input)
        share.focus()
        await pilot.pause()
        await pilot.press(*"0.95", "enter")  # focusing selected the old value; enter re-runs
        await pilot.pause()
        assert app.workbench.entry("warm-handoff").model.automation.share == pytest.approx(0.95)
        await wait_for_run(app, pilot)
        assert app.comparison.estimate(1, "bot_handled").mean > before
        # Handoff is a choice knob: enter cycles warm → cold.
        app.query_one("#knob-handoff-mode", KnobRow).query_one(Choice).focus()
        await pilot.press("enter")
        assert app.workbench.entry("warm-handoff").model.handoff.mode == "cold"


async def test_an_invalid_knob_value_is_shown_and_never_runs():
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        row = app.query_one("#knob-escalation-max_bot_turns", KnobRow)
        row.query_one(Input).focus()
        await pilot.pause()
        await pilot.press("0")
        await pilot.pause()
        assert row.has_class("-invalid")
        assert "greater than or equal to 1" in str(app.query_one("#knob-error").render())
        runs = app.run_id
        await pilot.press("enter")  # submitting an invalid value does not start a run
        app.action_run()
        await pilot.pause()
        assert app.run_id == runs
        await pilot.press("backspace", "n", "o", "n", "e")  # 'none' = no turn limit: valid again
        await pilot.pause()
        assert not row.has_class("-invalid")
        assert app.workbench.entry("warm-handoff").model.escalation.max_bot_turns is None


async def test_cancel_keeps_finished_replications():
    app = make_app(policies=FEW, autorun=False)
    app.workbench.replications = 400  # long enough to cancel mid-way
    async with app.run_test(size=SIZE) as pilot:
        app.action_run()
        while app.comparison is None or app.comparison.complete_replications() < 1:
            await pilot.pause(0.05)
        await pilot.press("escape")
        await wait_for_run(app, pilot)
        assert app.comparison.cancelled
        assert 1 <= app.comparison.complete_replications() < 400
        assert app.query_one("#kpis", KpiTable).row_count > 0  # what finished is still shown


async def test_keys_are_answered_during_a_run():
    app = make_app(policies=FEW, autorun=False)
    app.workbench.replications = 200
    async with app.run_test(size=SIZE) as pilot:
        app.action_run()
        await pilot.pause(0.2)
        assert app.running
        await pilot.press("3")  # switch view while the worker runs
        assert app.query_one("#views", TabbedContent).active == "intents"
        await pilot.press("escape")
        await wait_for_run(app, pilot)


async def test_views_switch_and_draw():
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        views = app.query_one("#views", TabbedContent)
        for key, view in zip("12345", ("compare", "day", "intents", "why", "sweep"), strict=True):
            await pilot.press(key)
            assert views.active == view
        await pilot.press("2")
        for chart in app.query(Chart):
            if chart.id and chart.id.startswith("chart"):
                assert chart.plt._active.monitor.y, f"{chart.id} has no data"  # plotext kept the series
        await pilot.press("3")
        assert app.query_one("#intent-table", IntentTable).row_count == len(app.workbench.scenario.intents)
        await pilot.press("4")
        markdown = app.query_one("#why-text").source  # type: ignore[attr-defined]
        assert "dead-end sends" in markdown  # the dead-end detector fired with numbers from the run
        await pilot.press("5")  # the sweep starts for the highlighted policy
        while app.sweep is None:
            await pilot.pause(0.1)
        assert len(app.sweep[1].labels) == 11


async def test_baseline_and_auto_rerun():
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        await pilot.press("b")
        await wait_for_run(app, pilot)
        assert app.comparison.labels[app.comparison.baseline] == "warm-handoff"
        await pilot.press("a")
        assert app.auto
        runs = app.run_id
        app.query_one("#knob-integration-crm", KnobRow).query_one(Choice).focus()
        await pilot.press("enter")  # CRM on → off
        await pilot.pause(1.2)  # the debounce
        assert app.run_id == runs + 1


async def test_save_policy_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        app.workbench.set(app.workbench.knobs()[1], "warm-handoff", "none")  # max turns: none
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SaveScreen)
        await pilot.press("enter")
        await pilot.pause()
    saved = tmp_path / "policies" / "warm-handoff-edited.yaml"
    assert saved.exists()
    assert api.validate([str(saved)]) == {str(saved): []}
    loaded = api.load_policy(saved)
    edited = app.workbench.entry("warm-handoff").model
    assert loaded.model_copy(update={"name": edited.name}) == edited
    assert loaded.name.endswith("(edited)")
    assert yaml.safe_load(saved.read_text())["escalation"]["max_bot_turns"] is None


@pytest.mark.parametrize(("presses", "suffix"), [((), ".csv"), (("down", "enter"), ".json"),
                                                  (("down", "down", "enter"), ".md")])
async def test_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, presses: tuple[str, ...], suffix: str):
    monkeypatch.chdir(tmp_path)
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ExportScreen)
        app.screen.query_one("#format").focus()
        await pilot.press(*presses)
        app.screen.query_one("#path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
    files = list((tmp_path / "results").iterdir())
    assert [f.suffix for f in files] == [suffix]
    text = files[0].read_text()
    if suffix == ".json":
        assert set(json.loads(text)["policies"]) == set(FEW)
    elif suffix == ".csv":
        assert next(line for line in text.splitlines() if not line.startswith("#")).startswith("policy,name,kpi,mean")
    else:
        assert text.startswith("## E-commerce")
        assert "| abandonment |" in text


async def test_broken_file_in_the_folder_is_reported_and_the_rest_loads(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "broken.yaml").write_text("name: Broken\nautomation:\n  share: [0.5\n")
    (tmp_path / "policies" / "typo.yaml").write_text("name: Typo\nescalation:\n  max_bot_turn: 3\n")
    monkeypatch.chdir(tmp_path)
    app = make_app(replications=1, autorun=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        shown = " ".join(str(p) for p in app.screen.problems)
        assert "broken.yaml:4: broken YAML" in shown  # the unclosed list ends at the end of the file
        assert "typo.yaml:3: escalation.max_bot_turn: unknown key (did you mean 'max_bot_turns'?)" in shown
        await pilot.press("escape")
        labels = [e.label for e in app.workbench.policies]
        assert "broken" not in labels
        assert "typo" not in labels
        assert "warm-handoff" in labels


async def test_full_width_hides_and_restores_the_side_panel():
    app = make_app(policies=FEW, autorun=False)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one("#sidebar")
        await pilot.press("f")
        assert not sidebar.display
        await pilot.press("f")
        assert sidebar.display


async def test_help_screen():
    app = make_app(policies=FEW, autorun=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_a_failed_run_is_shown_not_raised(monkeypatch: pytest.MonkeyPatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "compare", explode)
    app = make_app(policies=FEW, replications=1)
    async with app.run_test(size=SIZE) as pilot:
        while not isinstance(app.screen, ProblemsScreen):
            await pilot.pause(0.05)
        assert "boom" in str(app.screen.problems[0])
        assert not app.running


def test_streamed_progress_messages_carry_snapshots():
    """Results arrive as copies, so the table never reads a list the worker is still filling."""
    assert issubclass(RunFinished, RunProgressed)
