"""Pilot tests of the workbench: load, edit knobs, run, cancel, stale results, keys, palette, scenario, charts,
save, export, quit and broken files; the interactions that depend on space at 80x24, 120x36 and 200x50."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.command import CommandPalette
from textual.widgets import Input, Select, SelectionList, Static, TabbedContent

from sandbox import api
from sandbox.metrics.kpis import KPIS
from sandbox.tui.app import RunFinished, RunProgressed, SandboxApp, make_app
from sandbox.tui.screens import (
    CalculatorScreen,
    ConfirmScreen,
    ExportScreen,
    HelpScreen,
    JourneyScreen,
    OptimiseScreen,
    ProblemsScreen,
    SaveScreen,
    ScenarioScreen,
    SensitivityScreen,
)
from sandbox.tui.widgets import FIRST, Chart, Choice, IntentTable, KnobRow, KpiTable

pytestmark = pytest.mark.tui
SIZE = (120, 36)
SIZES = [(80, 24), SIZE, (200, 50)]
FEW = ["no-bot", "warm-handoff", "dead-end"]


async def wait_for_run(app: SandboxApp, pilot, limit: float = 30.0) -> None:
    """Let the worker finish and its messages be handled."""
    waited = 0.0
    while (app.running or app.comparison is None) and waited < limit:
        await pilot.pause(0.05)
        waited += 0.05
    await pilot.pause()
    assert not app.running, "the run did not finish in time"


async def until(pilot, condition, why: str, limit: float) -> None:
    """Pause until ``condition()`` holds (a background worker's result), failing with ``why`` after ``limit`` s."""
    waited = 0.0
    while not condition() and waited < limit:
        await pilot.pause(0.1)
        waited += 0.1
    assert condition(), why


async def dialog(app: SandboxApp, pilot, label: str, key: str, kind: type) -> Any:
    """After the first run, the dialog ``key`` opens for the highlighted ``label``."""
    await wait_for_run(app, pilot)
    await highlight(app, pilot, label)
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(app.screen, kind)
    return app.screen


async def highlight(app: SandboxApp, pilot, label: str) -> None:
    policies = app.query_one("#policies", SelectionList)
    policies.highlighted = [e.label for e in app.workbench.policies].index(label)
    await pilot.pause()
    assert app.current == label


def row(app: SandboxApp, name: str) -> KnobRow:
    return app.query_one(f"#knob-{name.replace('.', '-')}", KnobRow)


async def type_into(app: SandboxApp, pilot, name: str, text: str, *then: str) -> KnobRow:
    knob = row(app, name)
    field = knob.query_one(Input)
    field.focus()
    await pilot.pause()
    field.select_all()  # as focusing the field does; it may have kept the focus since the last edit
    await pilot.press(*text, *then)
    await pilot.pause()
    return knob


def rendered(chart: Chart) -> str:
    return chart.render().plain  # type: ignore[union-attr]


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


@pytest.mark.parametrize("size", SIZES)
async def test_baseline_first_and_what_a_strategist_reads_first_is_on_screen(size: tuple[int, int]):
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=size) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "dead-end")
        await pilot.press("b")
        await wait_for_run(app, pilot)
        table = app.query_one("#kpis", KpiTable)
        headers = [str(c.label) for c in table.columns.values()]
        assert headers[1] == "dead-end (base)"  # first after the KPI names, though third in the list
        assert table.fixed_columns == 2  # and it stays when the table scrolls sideways
        labels = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert labels[: len(FIRST)] == [KPIS[k].label for k in FIRST]
        assert "frustration" in labels
        # Each row is two lines (value, change); the header takes one. All of FIRST fits without scrolling.
        assert 1 + 2 * len(FIRST) <= table.scrollable_content_region.height
        assert table.scroll_y == 0


@pytest.mark.parametrize("size", SIZES)
async def test_bot_share_per_channel(size: tuple[int, int]):
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=size) as pilot:
        await wait_for_run(app, pilot)
        before = app.comparison.estimate(1, "bot_handled").mean
        await highlight(app, pilot, "warm-handoff")
        model = app.workbench.entry("warm-handoff").model
        assert row(app, "automation.share.chat").query_one(Input).value == f"{model.automation.share_for('chat'):g}"
        everyone = row(app, "automation.share").query_one(Input).value
        await type_into(app, pilot, "automation.share.chat", "0.95", "enter")  # enter re-runs
        share = app.workbench.entry("warm-handoff").model.automation.share
        assert share == {"chat": pytest.approx(0.95), "voice": pytest.approx(model.automation.share_for("voice"))}
        assert row(app, "automation.share.voice").query_one(Input).value == f"{model.automation.share_for('voice'):g}"
        assert float(row(app, "automation.share").query_one(Input).value) > float(everyone)  # follows the chat edit
        await wait_for_run(app, pilot)
        assert app.comparison.estimate(1, "bot_handled").mean > before
        # The all-channels knob sets one number for both.
        await type_into(app, pilot, "automation.share", "0.2")
        assert app.workbench.entry("warm-handoff").model.automation.share == pytest.approx(0.2)
        assert row(app, "automation.share.chat").query_one(Input).value == "0.2"
        # Handoff is a choice knob: enter cycles warm → cold.
        row(app, "handoff.mode").query_one(Choice).focus()
        await pilot.press("enter")
        assert app.workbench.entry("warm-handoff").model.handoff.mode == "cold"


async def test_enter_on_an_untouched_share_runs_without_editing():
    app = make_app(policies=FEW, replications=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        runs = app.run_id
        row(app, "automation.share").query_one(Input).focus()
        await pilot.press("enter")  # the summed-up 0.548 must not replace the per-channel shares
        await pilot.pause()
        assert app.run_id == runs + 1
        assert not app.workbench.entry("warm-handoff").edited
        await wait_for_run(app, pilot)


@pytest.mark.parametrize(("name", "text", "reason"), [
    ("escalation.max_bot_turns", "0", "greater than or equal to 1"),
    ("demand.contacts_per_day", "1e7", "less than or equal to"),  # the validation layer's upper limit
    ("replications", "0", "greater than or equal to 1"),
])
async def test_an_invalid_knob_value_is_shown_and_never_runs(name: str, text: str, reason: str):
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        knob = await type_into(app, pilot, name, text)
        assert knob.has_class("-invalid")
        assert reason in str(app.query_one("#knob-error").render())
        assert reason in str(knob.tooltip)
        runs = app.run_id
        await pilot.press("enter")  # submitting an invalid value does not start a run
        app.action_run()
        await pilot.press("a")  # typed into the field: not a key binding
        await pilot.pause(1.0)
        assert app.run_id == runs
        assert not app.running


async def test_invalid_then_valid_again():
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        knob = await type_into(app, pilot, "escalation.max_bot_turns", "0", "escape")
        assert knob.has_class("-invalid")
        await highlight(app, pilot, "dead-end")  # another policy: its own value, not red
        assert not knob.has_class("-invalid")
        await highlight(app, pilot, "warm-handoff")  # back: the bad value as typed, still red
        assert knob.has_class("-invalid")
        assert knob.query_one(Input).value == "0"
        await type_into(app, pilot, "escalation.max_bot_turns", "none")  # 'none' = no turn limit: valid again
        assert not knob.has_class("-invalid")
        assert app.workbench.entry("warm-handoff").model.escalation.max_bot_turns is None


@pytest.mark.parametrize("size", SIZES)
async def test_stale_results_are_marked_until_the_next_run(size: tuple[int, int]):
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=size) as pilot:
        await wait_for_run(app, pilot)
        banner = app.query_one("#stale")
        assert not banner.display
        await highlight(app, pilot, "warm-handoff")
        await type_into(app, pilot, "escalation.max_bot_turns", "2")
        assert banner.display
        assert "Stale" in str(banner.render())
        assert app.query_one("#views").has_class("-stale")
        assert banner.region.height == 1
        assert banner.region.y < size[1]
        await type_into(app, pilot, "escalation.max_bot_turns", "4")  # back to what ran: current again
        assert not banner.display
        await type_into(app, pilot, "escalation.max_bot_turns", "3")
        assert banner.display
        await pilot.press("escape", "r")
        assert not banner.display  # a run is under way
        await wait_for_run(app, pilot)
        assert not banner.display
        app.query_one("#policies", SelectionList).focus()
        await pilot.press("space")  # leaving a policy out changes the inputs too
        await pilot.pause()
        assert banner.display


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


@pytest.mark.parametrize("size", SIZES)
async def test_focus_keys_and_escape_in_a_knob(size: tuple[int, int]):
    app = make_app(policies=FEW, autorun=False)
    app.workbench.replications = 400
    async with app.run_test(size=size) as pilot:
        policies = app.query_one("#policies", SelectionList)
        assert policies.has_focus
        assert policies.styles.border_left[0] == "outer"  # the focus ring
        await pilot.press("k")
        first = app.query(KnobRow).first()
        assert first.query_one(Input).has_focus
        assert first.styles.border_left[0] == "outer"
        assert policies.styles.border_left[0] != "outer"
        assert first.region.height == 1  # scrolled into view in the side panel
        await pilot.press("tab")
        assert not first.query_one(Input).has_focus
        assert app.focused.parent.styles.border_left[0] == "outer"
        await pilot.press("escape")  # no run: esc in a knob goes back to the list
        assert policies.has_focus
        await pilot.press("r")
        await pilot.pause(0.2)
        assert app.running
        await pilot.press("k", "escape")  # in a knob, esc leaves the field and the run goes on
        assert policies.has_focus
        assert app.running
        await pilot.press("l")
        assert policies.has_focus
        await pilot.press("escape")  # elsewhere esc cancels
        await wait_for_run(app, pilot)
        assert app.comparison.cancelled


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


async def test_command_palette_offers_the_apps_actions():
    app = make_app(policies=FEW, replications=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Run the comparison", "Cancel the run", "Make the highlighted policy the baseline",
                       "Export the comparison", "Save the policy", "Sweep the bot share",
                       "Toggle automatic re-run", "Toggle dark/light theme", "Open a scenario",
                       "View: Compare", "View: Over the day", "View: Intents", "View: Why", "View: Sweep"):
            assert wanted in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"over the day")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.query_one("#views", TabbedContent).active == "day"
        await pilot.press("ctrl+p")
        await pilot.press(*"automatic re-run")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.auto


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_open_another_scenario(size: tuple[int, int]):
    app = make_app(policies=FEW, replications=1)
    async with app.run_test(size=size) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        await type_into(app, pilot, "escalation.max_bot_turns", "2", "escape")
        await pilot.press("o")
        assert isinstance(app.screen, ScenarioScreen)
        names = list(api.scenarios())
        assert set(app.screen.scenarios) == set(names)
        target = "telecom-billing-storm"
        steps = names.index(target) - names.index("ecommerce")
        await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
        await pilot.pause()
        expected = api.load_scenario(target)
        assert app.workbench.scenario.name == expected.name
        assert expected.name in app.sub_title
        groups = {r.knob.name.split(".")[2] for r in app.query(KnobRow) if r.knob.name.startswith("agents.")}
        assert groups == set(expected.agents.groups)
        await wait_for_run(app, pilot)
        assert app.comparison.scenario.startswith(expected.name)
        assert app.comparison.labels == ["no-bot", "warm-handoff*", "dead-end"]  # the policy edit was kept


async def test_seed_and_days_knobs_reach_the_run():
    app = make_app(policies=["no-bot", "warm-handoff"], replications=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        intervals = len(app.comparison.results[0][0].series["arrivals"])
        await type_into(app, pilot, "seed", "7")
        await type_into(app, pilot, "horizon.days", "2", "enter")
        await wait_for_run(app, pilot)
        assert app.comparison.seed == 7
        assert len(app.comparison.results[0][0].series["arrivals"]) == 2 * intervals
        assert "2 days" in app.sub_title
        assert "seed 7" in app.sub_title


async def test_views_switch_and_draw():
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        views = app.query_one("#views", TabbedContent)
        for key, view in zip("123456", ("compare", "day", "intents", "why", "sweep", "weeks"), strict=True):
            await pilot.press(key)
            assert views.active == view
        await pilot.press("2")
        await pilot.pause()
        minutes = app.workbench.scenario.horizon.interval_minutes
        for name in ("queue", "abandon", "occupancy"):
            text = rendered(app.query_one(f"#chart-{name}", Chart))
            assert f"per {minutes:g}-min interval" in text
            assert "06:00" in text
            assert "12:00" in text
            assert "18:00" in text
        frontier = rendered(app.query_one("#chart-frontier", Chart))
        for label in FEW:
            assert label in frontier  # every point is named
        await pilot.press("3")
        assert app.query_one("#intent-table", IntentTable).row_count == len(app.workbench.scenario.intents)
        await pilot.press("4")
        markdown = app.query_one("#why-text").source  # type: ignore[attr-defined]
        assert "dead-end sends" in markdown  # the dead-end detector fired with numbers from the run


async def test_the_weeks_view_draws_a_multi_day_run_and_names_its_events():
    app = make_app("knowledge-drift", ["launch-and-leave", "continuous-improvement"], replications=2, days=14)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await pilot.press("6")
        await pilot.pause()
        assert app.query_one("#views", TabbedContent).active == "weeks"
        notes = str(app.query_one("#weeks-legend").render())
        assert "day 5: knowledge change: billing_error, returns" in notes
        assert "day 12: bot outage" in notes
        for name, title in (("resolution", "bot resolution % per day"), ("csat", "CSAT (journey) % per day"),
                            ("abandon", "queue abandonment % per day"), ("stale", "intents with stale knowledge")):
            assert title in rendered(app.query_one(f"#weeks-{name}", Chart))  # drawn (an empty chart has no title)


async def test_the_weeks_view_of_a_one_day_run_says_how_to_get_days():
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await pilot.press("6")
        await pilot.pause()
        assert "set more days" in str(app.query_one("#weeks-legend").render())


async def test_sweep_draws_bands_and_the_current_setting():
    app = make_app(policies=FEW, replications=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        await pilot.press("5")  # the sweep starts for the highlighted policy
        while app.sweep is None:
            await pilot.pause(0.1)
        await pilot.pause()
        label, _, sweep = app.sweep
        assert label == "warm-handoff"
        assert len(sweep.labels) == len(api.SWEEP_SHARES)
        now = row(app, "automation.share").query_one(Input).value
        text = rendered(app.query_one("#sweep-abandon", Chart))
        assert f"now {100 * float(now):.0f}%" in text
        assert "·" in text  # the dotted 95% band
        assert "95% interval" in str(app.query_one("#sweep-title").render())
        await type_into(app, pilot, "automation.share", "0.1")
        assert "now 10%" in rendered(app.query_one("#sweep-abandon", Chart))  # the marker follows the knob
        await type_into(app, pilot, "escalation.max_bot_turns", "2")
        assert "changed since" in str(app.query_one("#sweep-title").render())
        await type_into(app, pilot, "escalation.max_bot_turns", "4")
        await type_into(app, pilot, "demand.contacts_per_day", "900")
        assert "the scenario changed since" in str(app.query_one("#sweep-title").render())
        await app.switch_scenario("bank-priority")  # another scenario: the old curves go
        await pilot.pause()
        assert app.sweep is None
        assert "No sweep yet" in str(app.query_one("#sweep-title").render())
        assert "now" not in rendered(app.query_one("#sweep-abandon", Chart))


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
        row(app, "integration.level").query_one(Choice).focus()
        await pilot.press("enter")  # read → act
        await pilot.pause(1.2)  # the debounce
        assert app.run_id == runs + 1


async def test_save_policy_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(policies=FEW, replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        await type_into(app, pilot, "escalation.max_bot_turns", "none")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SaveScreen)
        await pilot.press("enter")
        await pilot.pause()
    saved = tmp_path / "policies" / "warm-handoff-edited.yaml"
    assert saved.exists()
    assert api.validate([str(saved)]) == {str(saved): []}
    loaded = api.load_policy(saved)
    assert loaded == app.workbench.inputs().policies[1]  # what was saved is what runs
    assert loaded.name.endswith("(edited)")
    assert yaml.safe_load(saved.read_text())["escalation"]["max_bot_turns"] is None


@pytest.mark.parametrize("size", SIZES)
async def test_save_expands_home_and_asks_before_replacing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           size: tuple[int, int]):
    monkeypatch.setenv("HOME", str(tmp_path))
    target = tmp_path / "mine.yaml"
    app = make_app(policies=FEW, autorun=False)
    async with app.run_test(size=size) as pilot:
        await highlight(app, pilot, "warm-handoff")

        async def save_as(text: str) -> None:
            await pilot.press("s")
            assert isinstance(app.screen, SaveScreen)
            field = app.screen.query_one("#path", Input)
            field.value = text
            await pilot.press("enter")
            await pilot.pause()

        await save_as("~/mine.yaml")
        assert target.exists()
        assert not (Path("~") / "mine.yaml").exists()
        target.write_text("# mine\n")
        await save_as("~/mine.yaml")
        assert isinstance(app.screen, ConfirmScreen)
        assert str(target) in str(app.screen.query_one(".dialog-title").render())
        await pilot.press("enter")  # the default answer keeps the file
        await pilot.pause()
        assert target.read_text() == "# mine\n"
        await save_as("~/mine.yaml")
        await pilot.press("y")
        await pilot.pause()
        assert api.load_policy(target) == app.workbench.inputs().policies[1]


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


async def test_an_edited_policy_exports_as_edited_and_runs_as_shown(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    passed: list[tuple] = []
    real = api.compare

    def spy(scenario, policies, **kwargs):
        passed.append((scenario, list(policies), kwargs["labels"]))
        return real(scenario, policies, **kwargs)

    monkeypatch.setattr(api, "compare", spy)
    app = make_app(policies=FEW, replications=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await highlight(app, pilot, "warm-handoff")
        await type_into(app, pilot, "automation.share.chat", "0.9")
        await type_into(app, pilot, "demand.contacts_per_day", "1500", "enter")
        await wait_for_run(app, pilot)
        await pilot.press("escape")  # out of the field, where x would be typed
        scenario, policies, labels = passed[-1]
        assert labels == ["no-bot", "warm-handoff*", "dead-end"]
        assert policies[1].automation.share == {"chat": 0.9, "voice": pytest.approx(0.3)}
        assert policies[1].name.endswith("(edited)")
        assert "0.9" in policies[1].description
        assert scenario.demand.contacts_per_day == 1500
        assert scenario.name.endswith("(edited)")
        assert "warm-handoff*" in [str(c.label) for c in app.query_one("#kpis", KpiTable).columns.values()]
        await pilot.press("x")
        app.screen.query_one("#path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
    text = next((tmp_path / "results").iterdir()).read_text()
    assert "warm-handoff*,Bot-first, warm handoff (edited)," in text.replace('"', "")
    assert "warm-handoff,Bot-first, warm handoff," not in text.replace('"', "")


async def test_export_asks_before_replacing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(policies=FEW, replications=1)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_run(app, pilot)
        for answer in ("n", "y"):
            await pilot.press("x")
            app.screen.query_one("#path", Input).focus()
            await pilot.press("enter")
            await pilot.pause()
            if answer == "n":
                assert not isinstance(app.screen, ConfirmScreen)  # a new file: no question
                files = list((tmp_path / "results").iterdir())
                files[0].write_text("mine")
                continue
            assert isinstance(app.screen, ConfirmScreen)
            await pilot.press("n")
            await pilot.pause()
            assert files[0].read_text() == "mine"


@pytest.mark.parametrize("size", SIZES)
async def test_quit_mid_run_returns_at_once(size: tuple[int, int]):
    app = make_app(policies=FEW, autorun=False)
    app.workbench.replications = 5000  # far more than can finish
    async with app.run_test(size=size) as pilot:
        app.action_run()
        while app.comparison is None or app.comparison.complete_replications() < 1:
            await pilot.pause(0.05)
        await pilot.press("5")  # a sweep as well
        await pilot.pause(0.2)
        pressed = time.perf_counter()
        await pilot.press("q")
    took = time.perf_counter() - pressed
    assert took < 1.0, f"quitting took {took:.2f} s"
    assert app.runner_closed.wait(5), "the worker processes were not closed"
    # Whatever of ours still runs cannot hold the interpreter at exit.
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("sandbox-"))


QUIT_SCRIPT = """
import sys, time
from sandbox.tui.app import make_app

def main():
    # One replication of this day takes seconds: quitting must not wait for it.
    app = make_app(policies=["no-bot", "warm-handoff"], replications=500,
                   overrides=["demand.contacts_per_day=200000"])
    def quit_():
        print(time.time(), flush=True)
        app.action_quit()
    app.call_later(lambda: app.set_timer(3, quit_))
    app.run(headless=True)

if __name__ == "__main__":
    main()
"""


def test_the_process_ends_within_a_second_of_quitting_a_huge_run(tmp_path: Path):
    script = tmp_path / "quit.py"
    script.write_text(QUIT_SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    ended = time.time()
    assert done.returncode == 0, done.stderr
    quit_at = float(done.stdout.split()[-1])
    assert ended - quit_at < 1.5, f"the process ended {ended - quit_at:.1f} s after quitting"


async def test_broken_files_in_the_folder_are_reported_and_the_rest_loads(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "broken.yaml").write_text("name: Broken\nautomation:\n  share: [0.5\n")
    (tmp_path / "policies" / "typo.yaml").write_text("name: Typo\nescalation:\n  max_bot_turn: 3\n")
    (tmp_path / "policies" / "vault.yaml").write_text("name: Vault\nautomation:\n  share: !vault secret\n")
    (tmp_path / "policies" / "deep.yaml").write_text("name: Deep\ndescription: " + "[" * 3000 + "]" * 3000)
    monkeypatch.chdir(tmp_path)
    app = make_app(replications=1, autorun=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        shown = " ".join(str(p) for p in app.screen.problems)
        assert "broken.yaml:4: broken YAML" in shown  # the unclosed list ends at the end of the file
        assert "typo.yaml:3: escalation.max_bot_turn: unknown key (did you mean 'max_bot_turns'?)" in shown
        assert "vault.yaml" in shown
        assert "deep.yaml" in shown
        await pilot.press("escape")
        labels = [e.label for e in app.workbench.policies]
        assert not {"broken", "typo", "vault", "deep"} & set(labels)
        assert "warm-handoff" in labels
        await pilot.press("r")
        await wait_for_run(app, pilot)
        assert app.comparison.complete_replications() == 1


async def test_full_width_hides_and_restores_the_side_panel():
    app = make_app(policies=FEW, autorun=False)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one("#sidebar")
        await pilot.press("f")
        assert not sidebar.display
        assert app.focused is not None
        assert sidebar not in app.focused.ancestors
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


async def test_e_compares_at_equal_service_and_back():
    app = make_app(policies=["no-bot", "warm-handoff"], replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        assert not app.comparison.equal_service
        fixed = app.comparison.estimate(1, "agent_hours").mean
        await pilot.press("e")
        await pilot.pause()
        await wait_for_run(app, pilot, limit=60)
        assert app.comparison.equal_service == ["service_level>=0.8"]
        assert "at equal service" in app.sub_title
        table = app.query_one("#kpis", KpiTable)
        assert any("paid agent hours" in str(table.get_row_at(i)[0]) for i in range(table.row_count))
        assert app.comparison.estimate(1, "agent_hours").mean != fixed  # staffed to the target, not as scheduled
        await pilot.press("e")
        await pilot.pause()
        await wait_for_run(app, pilot)
        assert not app.comparison.equal_service


async def test_c_opens_the_erlang_calculator():
    app = make_app(policies=["no-bot"], replications=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CalculatorScreen)
        assert screen.summary.startswith("14 agents taking contacts")  # §7.1 of the queueing references
        screen.query_one("#calc-rate", Input).value = "400/h"
        await pilot.pause()
        assert screen.summary.startswith("24 agents taking contacts")
        screen.query_one("#calc-rate", Input).value = "lots"
        await pilot.pause()
        assert screen.summary.startswith("--rate")
        await pilot.press("escape")
        assert not isinstance(app.screen, CalculatorScreen)


async def test_m_ranks_what_matters_for_the_highlighted_policy():
    app = make_app(policies=["no-bot", "warm-handoff"], replications=1)
    async with app.run_test(size=SIZE) as pilot:
        screen = await dialog(app, pilot, "warm-handoff", "m", SensitivityScreen)
        await until(pilot, lambda: screen.result is not None, "no tornado in time", 120)
        flags = [e.significant for e in screen.result.effects]
        assert flags == sorted(flags, reverse=True)  # real effects first
        assert screen.result.effects[0].significant
        await pilot.press("escape")
        assert screen.stop.is_set()  # closing stops whatever still runs


async def test_stale_knowledge_flatters_the_survey_and_the_why_view_says_so():
    """Turn the wrong-answers knob up: the journey CSAT falls below the survey's, and Why explains it."""
    app = make_app(policies=["warm-handoff"], replications=2)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_run(app, pilot)
        c = app.comparison
        assert c.estimate(0, "survey_csat").mean - c.estimate(0, "csat").mean < 0.005
        await type_into(app, pilot, "bot.wrong_answers", "8", "enter")
        await wait_for_run(app, pilot)
        c = app.comparison
        assert c.estimate(0, "survey_csat").mean > c.estimate(0, "csat").mean + 0.01
        await pilot.press("4")
        markdown = app.query_one("#why-text").source  # type: ignore[attr-defined]
        assert "a post-contact survey would show CSAT" in markdown


async def test_journeys_follow_the_same_customers_under_two_policies_and_change_with_the_intent():
    app = make_app(policies=["no-bot", "aggressive-automation"], replications=2)
    async with app.run_test(size=SIZE) as pilot:
        screen = await dialog(app, pilot, "aggressive-automation", "j", JourneyScreen)

        async def followed(intent: str) -> None:
            waited = 0.0
            while not (screen.customers and screen.customers[0].intent == intent) and waited < 60:
                await pilot.pause(0.1)
                waited += 0.1
            assert screen.customers, "no journeys in time"
            await pilot.pause()

        first_intent = next(iter(app.workbench.run_scenario().intents))
        await followed(first_intent)
        left = screen.query_one("#journey-first", Static).render().plain  # type: ignore[union-attr]
        right = screen.query_one("#journey-second", Static).render().plain  # type: ignore[union-attr]
        assert left.startswith("no-bot")
        assert right.startswith("aggressive-automation")
        for customer in screen.customers:  # the same customer on both sides, with its rating
            assert customer.clock in left
            assert customer.clock in right
        assert "bot turn" not in left  # no bot: nobody talks to one
        assert "bot turn" in right
        assert "CSAT" in left
        screen.query_one("#intent", Select).value = "billing_error"
        await followed("billing_error")
        assert "billing_error" in screen.query_one("#journey-first", Static).render().plain  # type: ignore[union-attr]
        await pilot.press("escape")
        assert not isinstance(app.screen, JourneyScreen)


async def test_the_cheapest_passing_policy_is_searched_and_its_pareto_front_shown(monkeypatch, tmp_path):
    monkeypatch.setattr("sandbox.tui.app.OPTIMISE_TRIALS", 8)
    monkeypatch.chdir(tmp_path)  # s saves the winner here
    app = make_app(policies=["no-bot", "warm-handoff"], replications=2)
    async with app.run_test(size=SIZE) as pilot:
        screen = await dialog(app, pilot, "warm-handoff", "g", OptimiseScreen)
        await until(pilot, lambda: screen.result is not None, "no search result in time", 180)
        assert screen.tried == 8  # every candidate reported as it finished
        assert all(c.feasible for c in screen.result.front())
        if screen.result.winner is not None:
            await pilot.press("s")
            await pilot.pause()
            assert api.load_policy(tmp_path / "optimised-policy.yaml").name.endswith(f"#{screen.result.winner.number}")
            assert screen.summary.startswith(f"The cheapest that passes: #{screen.result.winner.number}")
        else:
            assert screen.summary == "No candidate passed every check."
        await pilot.press("escape")
        assert screen.stop.is_set()
