"""Provides the Textual workbench: pick policies, turn knobs, run, and read the trade-off.

A thin client of sandbox.api: runs go to a background thread that streams each finished replication back as a
message, so the table fills first and its intervals tighten while the interface keeps answering keys; Esc
cancels and keeps what finished. The threads are daemons and the simulations run in worker processes, so
quitting never waits for a run.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    Footer,
    Header,
    Input,
    Label,
    Markdown,
    ProgressBar,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.selection_list import Selection

from sandbox import api
from sandbox.errors import ConfigError, Problem
from sandbox.tui.screens import (
    OPTIMISE_REPLICATIONS,
    OPTIMISE_TRIALS,
    SENSITIVITY_REPLICATIONS,
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
from sandbox.tui.widgets import TABLE_KPIS, Chart, Choice, IntentTable, KnobRow, KpiTable, legend
from sandbox.tui.workbench import RunInputs, Workbench, contact_share

VIEWS = ("compare", "day", "intents", "why", "sweep", "weeks")
VIEW_TITLES = ("Compare", "Over the day", "Intents", "Why", "Sweep", "Over the weeks")
# The "Over the weeks" charts: (widget, daily KPI, title, scale to percent).
WEEK_CHARTS = (("#weeks-resolution", "bot_resolution_rate", "bot resolution % per day", 100),
               ("#weeks-csat", "csat", "CSAT (journey) % per day", 100),
               ("#weeks-abandon", "queue_abandonment_rate", "queue abandonment % per day", 100),
               ("#weeks-stale", "stale_intents", "intents with stale knowledge", 1))
RENDER_EVERY = 0.2  # seconds between table refreshes while replications stream in
AUTO_DELAY = 0.8  # seconds of quiet after an edit before an automatic re-run
EQUAL_SERVICE = ("service_level>=0.8",)  # the e key: every policy staffed to 80/20 in every interval first
SWEEP_REPLICATIONS = 5  # a point's 95% band is drawn: with fewer, t's tail makes it wider than the curve's range


class RunProgressed(Message):
    def __init__(self, run: int, comparison: api.Comparison):
        super().__init__()
        self.run, self.comparison = run, comparison


class RunFinished(RunProgressed):
    pass


class RunFailed(Message):
    def __init__(self, run: int, error: BaseException):
        super().__init__()
        self.run, self.error = run, error


class SweepFinished(Message):
    def __init__(self, label: str, policy_json: str, comparison: api.Comparison, same: api.Comparison | None):
        super().__init__()
        self.label, self.policy_json, self.comparison, self.same = label, policy_json, comparison, same


class StatusChanged(Message):
    """A line for the status bar from a worker thread (posting never blocks, even while the app closes)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text


class SensitivityFinished(Message):
    def __init__(self, screen: SensitivityScreen, result: api.Sensitivity | None, error: BaseException | None):
        super().__init__()
        self.screen, self.result, self.error = screen, result, error


class SweepFailed(Message):
    def __init__(self, error: BaseException):
        super().__init__()
        self.error = error


def _knob_row(widget: Widget | None) -> KnobRow | None:
    """The knob a control belongs to (None for inputs of dialogs)."""
    if widget is None:
        return None
    return next((a for a in widget.ancestors_with_self if isinstance(a, KnobRow)), None)


def _background(target: Callable[..., None], *args: Any) -> threading.Event:
    """Run ``target(stop, *args)`` in a daemon thread: quitting never waits for it (a Textual thread worker
    runs on the event loop's executor, whose threads are joined at exit)."""
    stop = threading.Event()
    threading.Thread(target=target, args=(stop, *args), daemon=True, name="sandbox-run").start()
    return stop


class SandboxApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "support-sandbox"
    BINDINGS = [
        Binding("r,ctrl+r", "run", "Run"),
        Binding("escape", "escape", "Cancel"),
        Binding("a", "toggle_auto", "Auto"),
        Binding("b", "baseline", "Baseline"),
        Binding("o", "open_scenario", "Scenario", show=False),  # the footer keeps room for Help and Quit at 80
        Binding("s", "save", "Save"),
        Binding("ctrl+s", "save", "Save", show=False, priority=True),
        Binding("x", "export", "Export"),
        Binding("1", "view('compare')", "Views 1-6"),
        *(Binding(str(i + 2), f"view('{v}')", show=False) for i, v in enumerate(VIEWS[1:])),
        Binding("l", "focus_policies", "Policies", show=False),
        Binding("k", "focus_knobs", "Knobs", show=False),
        Binding("w", "sweep", "Sweep", show=False),
        Binding("e", "toggle_equal_service", "Equal service", show=False),
        Binding("c", "calculator", "Erlang calculator", show=False),
        Binding("m", "sensitivity", "What matters", show=False),
        Binding("j", "journeys", "Journeys", show=False),
        Binding("g", "optimise", "Cheapest that passes", show=False),
        Binding("p", "problems", "Problems", show=False),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("f", "toggle_sidebar", "Full width", show=False),
        Binding("question_mark,f1", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]
    auto: reactive[bool] = reactive(False)

    def __init__(self, workbench: Workbench, autorun: bool = True):
        super().__init__()
        self.workbench = workbench
        self.autorun = autorun
        self.current = workbench.baseline if workbench.policies else ""
        self.comparison: api.Comparison | None = None
        self.shown: RunInputs | None = None  # what the comparison on screen was run with
        self._pending: RunInputs | None = None  # what the latest run was started with
        self.sweep: tuple[str, str, api.Comparison] | None = None  # label, policy as swept, result
        self.sweep_same: api.Comparison | None = None  # the same sweep with every point at equal service
        self.same_pending = False
        self.run_id = 0
        self.running = False
        self.sweeping = False
        self.started = 0.0
        self._stop_run: threading.Event | None = None
        self._stop_sweep: threading.Event | None = None
        self._last_render = 0.0
        self._render_timer: Timer | None = None
        self._auto_timer: Timer | None = None
        self._closed = False
        self.runner_closed = threading.Event()  # set once the worker processes are closed
        self.clock = time.perf_counter  # replaceable, so screenshots of a finished run are reproducible
        # Simulations run in worker processes so they never hold this process's interpreter lock, leaving a
        # core for the interface. They start here, before Textual takes over stdout and stderr (spawning a
        # process needs the real ones) and while the interface draws.
        self.pool = api.Pool(max(1, (os.cpu_count() or 2) - 1))

    # --- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with VerticalScroll(id="sidebar"):
                yield Label("POLICIES", id="policies-title", classes="section")
                yield SelectionList[str](id="policies")
                yield Label("KNOBS", id="knobs-title", classes="section")
                yield Vertical(*self._knob_widgets(), id="knobs")
                yield Static("", id="knob-error")
            with Vertical(id="main"):
                yield Static("", id="stale")
                with TabbedContent(id="views"):
                    with TabPane("1 Compare", id="compare"):
                        yield KpiTable(id="kpis")
                    with TabPane("2 Over the day", id="day"):
                        yield Static("", id="day-legend", classes="legend")
                        with Horizontal(classes="charts"):
                            yield Chart(id="chart-queue")
                            yield Chart(id="chart-abandon")
                        with Horizontal(classes="charts"):
                            yield Chart(id="chart-occupancy")
                            yield Chart(id="chart-frontier")
                    with TabPane("3 Intents", id="intents"):
                        yield Label("", id="intents-title")
                        yield IntentTable(id="intent-table")
                    with TabPane("4 Why", id="why"), VerticalScroll():
                        yield Markdown("Run a comparison (r) to see what drives each policy's results.", id="why-text")
                    with TabPane("5 Sweep", id="sweep"):
                        yield Static("Press w to sweep the bot share of the highlighted policy from 0 to 100%.",
                                     id="sweep-title")
                        with Horizontal(classes="charts"):
                            yield Chart(id="sweep-abandon")
                            yield Chart(id="sweep-cost")
                            yield Chart(id="sweep-csat")
                    with TabPane("6 Over the weeks", id="weeks"):
                        yield Static("", id="weeks-legend", classes="legend")
                        with Horizontal(classes="charts"):
                            yield Chart(id="weeks-resolution")
                            yield Chart(id="weeks-csat")
                        with Horizontal(classes="charts"):
                            yield Chart(id="weeks-abandon")
                            yield Chart(id="weeks-stale")
                with Horizontal(id="status"):
                    yield ProgressBar(id="progress", show_eta=False)
                    yield Static("", id="status-text")
        yield Footer()

    def _knob_widgets(self) -> list[Widget]:
        """Knob rows grouped by what they change: the highlighted policy, the scenario, the run."""
        widgets: list[Widget] = []
        section = "policy"
        for knob in self.workbench.knobs():
            if knob.target != section:
                section = knob.target
                title = "SCENARIO · every policy" if section == "scenario" else "RUN"
                widgets.append(Label(title, classes="subsection"))
            widgets.append(KnobRow(knob, self.workbench.shown(knob, self.current)))
        return widgets

    def on_mount(self) -> None:
        self.main = self.screen  # messages keep arriving while a dialog is on top; they update this screen
        self._refresh_policy_list()
        policies = self.main.query_one("#policies", SelectionList)
        policies.highlighted = 0
        policies.focus()
        self._update_titles()
        self._show_knobs()
        if self.workbench.problems:
            self.push_screen(ProblemsScreen("Some files could not be loaded; the others are ready.",
                                            self.workbench.problems))
        if self.autorun:
            self.action_run()

    def on_unmount(self) -> None:
        self._shut_down()

    def _update_titles(self) -> None:
        wb = self.workbench
        days = wb.scenario.horizon.days
        edited = " (edited)" if wb.scenario_edited else ""
        self.sub_title = (f"{wb.scenario.name}{edited} · {days} day{'s' if days != 1 else ''} · "
                          f"{wb.replications} reps · seed {wb.seed}{' · auto' if self.auto else ''}"
                          f"{' · at equal service' if wb.equal_service else ''}")
        star = " *" if self.current and wb.entry(self.current).edited else ""
        self.main.query_one("#knobs-title", Label).update(f"KNOBS  {self.current}{star}")

    def _refresh_policy_list(self) -> None:
        wb = self.workbench
        policies = self.main.query_one("#policies", SelectionList)
        highlighted = policies.highlighted
        policies.clear_options()
        policies.add_options([
            Selection(e.label + (" (base)" if e.label == wb.baseline else "") + (" *" if e.edited else ""),
                      e.label, e.label in wb.selected) for e in wb.policies])
        if highlighted is not None and wb.policies:
            policies.highlighted = min(highlighted, len(wb.policies) - 1)

    def _show_knobs(self, keep: KnobRow | None = None) -> None:
        """Every knob's value for the highlighted policy, except the one being typed into."""
        wb = self.workbench
        # Never the focused field either: a redraw of the policy list can re-highlight mid-typing, and writing
        # the last valid value back would swallow what is being typed ("0." on the way to "0.65").
        typing = _knob_row(self.focused) if isinstance(self.focused, Input) else None
        for row in self.main.query(KnobRow):
            if row is not keep and row is not typing and self.current:
                row.show(wb.shown(row.knob, self.current), wb.problem(row.knob, self.current))
        lines = [f"⚠ {p.key}: {p.message}" + (f" ({p.hint})" if p.hint else "")
                 for (_, label), (p, _) in wb.invalid.items() if label in ("", self.current)]
        self.main.query_one("#knob-error", Static).update("\n".join(lines))

    # --- policies and knobs ----------------------------------------------------------------------

    def on_selection_list_selection_highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        if event.selection.value == self.current:
            return  # the list was redrawn (an edit marked it), not moved: keep what is being typed
        self.current = event.selection.value
        self._show_knobs()
        self._update_titles()
        self._show_intents()
        self._show_sweep()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.workbench.selected = list(event.selection_list.selected)
        self._edited()

    def _apply(self, row: KnobRow, text: str) -> bool:
        problem = self.workbench.set(row.knob, self.current, text)
        row.mark(problem)
        self._show_knobs(keep=row)  # a share edit changes the other share knobs' values
        self._update_titles()
        self._refresh_policy_list()
        self._edited()
        return problem is None

    def _edited(self) -> None:
        """After any change of inputs: mark results stale and, with auto on, schedule a re-run."""
        self._show_stale()
        self._show_sweep()
        self._schedule_auto()

    def on_input_changed(self, event: Input.Changed) -> None:
        if not event.input.has_focus:
            return  # set by the program (mount, switching policy), not typed
        row = _knob_row(event.input)
        if row is not None:
            row.touched = True
            self._apply(row, event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        row = _knob_row(event.input)
        if row is None:
            return
        # Enter on a field that was not typed into only runs: re-reading the shown text would turn a summed-up
        # value (the share of contacts) into an edit.
        if not row.touched or self._apply(row, event.value):
            self.action_run()

    def on_choice_changed(self, event: Choice.Changed) -> None:
        row = _knob_row(event.choice)
        if row is not None:
            self._apply(row, event.value)

    def _schedule_auto(self) -> None:
        if self._auto_timer is not None:
            self._auto_timer.stop()
            self._auto_timer = None
        if self.auto and not self.workbench.invalid:
            self._auto_timer = self.set_timer(AUTO_DELAY, self.action_run)

    def action_focus_policies(self) -> None:
        self.main.query_one("#policies", SelectionList).focus()

    def action_focus_knobs(self) -> None:
        self.main.query(KnobRow).first().control.focus()

    # --- scenario ----------------------------------------------------------------------------------

    def action_open_scenario(self) -> None:
        found = api.scenarios(self.workbench.cwd)
        builtin = api.builtin_dir("simulations")
        where = {name: "built-in" if builtin in path.parents else str(path) for name, path in found.items()}
        current = Path(self.workbench.scenario_ref).stem

        def chosen(name: str | None) -> None:
            if name is not None and (name != current or self.workbench.scenario_edits):
                self.call_later(self.switch_scenario, name)

        self.push_screen(ScenarioScreen(where, current), chosen)

    async def switch_scenario(self, ref: str) -> None:
        """Open another scenario for the same policies (and run, as after any edit)."""
        before = self.workbench.scenario_ref
        problems = self.workbench.switch_scenario(ref)
        if self.workbench.scenario_ref == before and problems:
            self.push_screen(ProblemsScreen(f"Scenario {ref} could not be opened", problems))
            return
        self._stop_runs()
        self.comparison, self.shown, self.sweep, self.sweep_same = None, None, None, None
        if self.current not in [e.label for e in self.workbench.policies]:
            self.current = self.workbench.baseline
        knobs = self.main.query_one("#knobs", Vertical)
        await knobs.remove_children()  # the new scenario's rows reuse the ids of the old ones
        await knobs.mount(*self._knob_widgets())
        self._refresh_policy_list()
        self._update_titles()
        self._render_all()
        self._show_knobs()
        self._show_sweep()
        self.notify(f"Opened {self.workbench.scenario.name}")
        if problems:
            self.push_screen(ProblemsScreen("These policies do not fit the new scenario and were left out",
                                            problems))
        self._status("")
        if self.autorun or self.auto:
            self.action_run()

    # --- running ---------------------------------------------------------------------------------

    def action_run(self) -> None:
        wb = self.workbench
        if wb.invalid:
            problem = next(iter(wb.invalid.values()))[0]
            self.notify(f"Fix {problem.key} first: {problem.message}", severity="error")
            return
        if not wb.selected:
            self.notify("Include at least one policy (space in the policy list).", severity="warning")
            return
        inputs = wb.inputs()
        if self._stop_run is not None:
            self._stop_run.set()  # a superseded run stops; its messages are ignored (run id)
        self.run_id += 1
        self.running, self.started = True, self.clock()
        self._pending = inputs
        total = inputs.replications * len(inputs.policies)
        self.main.query_one("#progress", ProgressBar).update(total=total, progress=0)
        self._status(f"running {len(inputs.policies)} policies × {inputs.replications} replications …  esc cancels")
        self._stop_run = _background(self._run, self.run_id, inputs)
        self._show_stale()

    def _run(self, stop: threading.Event, run: int, inputs: RunInputs) -> None:
        try:
            result = api.compare(inputs.scenario, inputs.policies, baseline=inputs.baseline,
                                 replications=inputs.replications, seed=inputs.seed, labels=inputs.labels,
                                 pool=self.pool,
                                 on_result=lambda c: self._post(RunProgressed(run, c.snapshot())),
                                 should_stop=stop.is_set,
                                 equal_service=list(inputs.equal_service) or None,
                                 on_step=lambda what: self._say(f"{what} …  esc cancels"))
        except Exception as exc:  # a failed run is shown, never a crash
            self.post_message(RunFailed(run, exc))
            return
        self.post_message(RunFinished(run, result))  # post_message is thread-safe

    def _say(self, text: str, stop: threading.Event | None = None) -> None:
        """The status line, from a worker thread (not once its work is no longer wanted)."""
        if stop is None or not stop.is_set():
            self.post_message(StatusChanged(text))

    def on_status_changed(self, message: StatusChanged) -> None:
        with contextlib.suppress(NoMatches):  # posted by a worker thread as the app was closing
            self._status(message.text)

    def _post(self, message: Message) -> None:
        self.post_message(message)  # thread-safe: called from the run's thread

    def on_run_finished(self, message: RunFinished) -> None:
        self.on_run_progressed(message)

    def on_run_progressed(self, message: RunProgressed) -> None:
        if message.run != self.run_id:
            return  # a superseded run
        if self.shown is not self._pending:
            self.shown = self._pending
            self._show_stale()
        self.comparison = message.comparison
        done = sum(r is not None for runs in message.comparison.results for r in runs)
        self.main.query_one("#progress", ProgressBar).update(progress=done)
        if isinstance(message, RunFinished):
            if self._render_timer is not None:  # the final render below supersedes a pending refresh
                self._render_timer.stop()
                self._render_timer = None
            self.running = False
            elapsed = self.clock() - self.started
            c = message.comparison
            what = "stopped after" if c.failure else "cancelled after" if c.cancelled else "done:"
            self._status(f"{what} {done} replications in {elapsed:.1f} s · "
                         f"{c.complete_replications()} complete per policy")
            if c.failure:
                self.notify(c.failure, title="The run stopped", severity="error", timeout=15)
            for error in c.errors[:3]:  # a bug met by a replication: the others ran; say which and why
                self.notify(error.error or "", title="A replication failed", severity="error", timeout=15)
            for incident in c.incidents:  # lost workers: the numbers are whole, but say what happened
                self.notify(incident, severity="warning", timeout=10)
            self._render_all()
            self._show_stale()
        elif self.clock() - self._last_render >= RENDER_EVERY:
            self._render_table()
        elif self._render_timer is None:
            self._render_timer = self.set_timer(RENDER_EVERY, self._render_table)

    def on_run_failed(self, message: RunFailed) -> None:
        if message.run != self.run_id:
            return
        self.running = False
        self._status("the run failed")
        self._show_stale()
        problems = message.error.problems if isinstance(message.error, ConfigError) else [
            Problem(None, None, "", f"{type(message.error).__name__}: {message.error}")]
        self.push_screen(ProblemsScreen("The run failed", problems))

    def action_escape(self) -> None:
        """Esc in a knob leaves the field for the policy list; anywhere else it cancels what runs."""
        if _knob_row(self.focused) is not None:
            self.action_focus_policies()
            return
        self.action_cancel()

    def action_cancel(self) -> None:
        cancelled = False
        if self.running and self._stop_run is not None:
            self._stop_run.set()
            self._status("cancelling … finished replications are kept")
            cancelled = True
        if self.sweeping and self._stop_sweep is not None:
            self._stop_sweep.set()
            self.sweeping = False
            self.main.query_one("#sweep-title", Static).update("Sweep cancelled · w runs it again")
            cancelled = True
        elif self.same_pending and self._stop_sweep is not None:  # the curves stay; the extra one is dropped
            self._stop_sweep.set()
            self.same_pending = False
            self._show_sweep()
            self._status("the equal-service curve was cancelled · w runs the sweep again")
            cancelled = True
        if not cancelled:
            self.notify("Nothing is running.", timeout=2)

    def _stop_runs(self) -> None:
        for stop in (self._stop_run, self._stop_sweep):
            if stop is not None:
                stop.set()
        self.running = self.sweeping = self.same_pending = False
        self.run_id += 1  # whatever is still in flight is ignored

    def action_toggle_equal_service(self) -> None:
        """Compare with the agents as scheduled, or with every policy staffed to 80% in 20 s first."""
        wb = self.workbench
        wb.equal_service = () if wb.equal_service else EQUAL_SERVICE
        self.notify("At equal service: every policy is staffed to " + ", ".join(EQUAL_SERVICE) + " in every "
                    "interval first, then compared (agent hours and cost show what the service costs)"
                    if wb.equal_service else "Agents as scheduled: every policy gets the scenario's staffing",
                    timeout=6)
        self._update_titles()
        self._show_stale()
        if self.auto or self.comparison is not None:
            self.action_run()

    def action_calculator(self) -> None:
        self.push_screen(CalculatorScreen())

    def action_journeys(self) -> None:
        """A few customers followed under the baseline and the highlighted policy (or the next one)."""
        wb = self.workbench
        if wb.invalid or not wb.selected:
            self.notify("Fix the red knobs first." if wb.invalid else "Include a policy first.", severity="error")
            return
        policies = {e.label: e.run_model() for e in wb.policies if e.label in wb.selected}
        first = wb.baseline if wb.baseline in policies else next(iter(policies))
        others = [label for label in policies if label != first]
        second = self.current if self.current in policies and self.current != first else (others or [first])[0]
        self.push_screen(JourneyScreen(wb.run_scenario(), policies, first, second, wb.seed))

    def action_optimise(self, checks: str = "service-floor") -> None:
        """The cheapest policy like the highlighted one that passes a checks file, and the Pareto front."""
        wb = self.workbench
        if not self.current or wb.invalid:
            self.notify("Fix the red knobs first." if wb.invalid else "Highlight a policy first.", severity="error")
            return
        stop = threading.Event()
        screen = OptimiseScreen(self.current, checks, stop)
        self.push_screen(screen)
        scenario, policy, seed = wb.run_scenario(), wb.entry(self.current).run_model(), wb.seed

        def shown(call: Callable[..., None], *args: Any) -> None:
            if screen.is_attached and not stop.is_set():
                self.call_from_thread(call, *args)

        def work() -> None:
            try:
                result = api.optimise(checks, policy, OPTIMISE_TRIALS, OPTIMISE_REPLICATIONS, 2, (), seed, scenario,
                                      on_trial=lambda c: shown(screen.trial, c), should_stop=stop.is_set)
            except Exception as exc:  # shown, never a crash
                shown(screen.failed, exc)
                return
            shown(screen.show, result)

        threading.Thread(target=work, daemon=True, name="sandbox-optimise").start()

    def action_sensitivity(self) -> None:
        """Every assumption moved ±20% for the highlighted policy, ranked by effect on cost per resolved."""
        wb = self.workbench
        if not self.current or wb.invalid:
            self.notify("Fix the red knobs first." if wb.invalid else "Highlight a policy first.", severity="error")
            return
        stop = threading.Event()
        screen = SensitivityScreen(self.current, "cost_per_resolved", stop)
        self.push_screen(screen)
        scenario, policy, seed = wb.run_scenario(), wb.entry(self.current).run_model(), wb.seed

        def work() -> None:
            try:
                result = api.sensitivity(scenario, policy, "cost_per_resolved", 0.2, SENSITIVITY_REPLICATIONS, seed,
                                         executor=api.PoolExecutor(pool=self.pool) if self.pool else None,
                                         should_stop=stop.is_set)
            except Exception as exc:  # shown, never a crash
                if not stop.is_set():
                    self.post_message(SensitivityFinished(screen, None, exc))
                return
            if not stop.is_set() and not result.comparison.cancelled:
                self.post_message(SensitivityFinished(screen, result, None))

        threading.Thread(target=work, daemon=True, name="sandbox-sensitivity").start()

    def on_sensitivity_finished(self, message: SensitivityFinished) -> None:
        if not message.screen.is_attached:  # closed meanwhile
            return
        if message.result is not None:
            message.screen.show(message.result)
        elif message.error is not None:
            message.screen.failed(message.error)

    def action_toggle_auto(self) -> None:
        self.auto = not self.auto
        self._update_titles()
        self.notify(f"Automatic re-run {'on' if self.auto else 'off'}")
        if self.auto and self._is_stale():
            self._schedule_auto()

    def action_baseline(self) -> None:
        if self.current:
            self.workbench.baseline = self.current
            if self.current not in self.workbench.selected:
                self.workbench.selected.append(self.current)
            self._refresh_policy_list()
            self.action_run()

    def action_quit(self) -> None:  # type: ignore[override]
        """Leave at once, whatever runs: stop the threads and close the worker processes without waiting."""
        self._shut_down()
        self.exit()

    def _shut_down(self) -> None:
        if self._closed:
            return
        self._closed = True
        for stop in (self._stop_run, self._stop_sweep):
            if stop is not None:
                stop.set()
        # Closing the pool may wait for a busy worker; a daemon thread does it so that nothing here waits.
        def close() -> None:
            self.pool.close()
            self.runner_closed.set()

        threading.Thread(target=close, daemon=True, name="sandbox-close").start()

    # --- rendering -------------------------------------------------------------------------------

    def _status(self, text: str) -> None:
        self.main.query_one("#status-text", Static).update(text)

    def _is_stale(self) -> bool:
        return self.shown is not None and not self.running and self.shown.signature != self.workbench.inputs(
        ).signature

    def _show_stale(self) -> None:
        """Results from before an edit stay readable but say so until the next run."""
        stale = self._is_stale()
        banner = self.main.query_one("#stale", Static)
        banner.display = stale
        if stale:
            hint = "re-running shortly" if self.auto else "r re-runs"
            banner.update(f"⚠ Stale: inputs changed since these results were computed · {hint}")
        self.main.query_one("#views").set_class(stale, "-stale")

    def _render_table(self) -> None:
        self._render_timer = None
        self._last_render = self.clock()
        if self.main.is_attached:  # a pending refresh can fire while the app is closing
            table = self.main.query_one("#kpis", KpiTable)
            if self.comparison is not None and self.comparison.equal_service:  # the agents are what differs
                table.show(self.comparison, (*TABLE_KPIS[:3], "agent_hours", *TABLE_KPIS[3:]))
            else:
                table.show(self.comparison)

    def _render_all(self) -> None:
        self._render_table()
        self._show_intents()
        self._show_why()
        self._show_day()
        self._show_weeks()

    def _column(self, label: str) -> int | None:
        """The shown comparison's column of a workbench policy (None if it was not in that run)."""
        if self.shown is None or label not in self.shown.entries:
            return None
        return self.shown.entries.index(label)

    def _show_intents(self) -> None:
        p = self._column(self.current)
        title = f"Per intent · {self.current}" if p is None or self.comparison is None else \
            f"Per intent · {self.comparison.labels[p]} · means over {len(self.comparison.finished(p))} replications"
        self.main.query_one("#intents-title", Label).update(title)
        self.main.query_one("#intent-table", IntentTable).show(self.comparison, p)

    def _show_why(self) -> None:
        c = self.comparison
        if c is None:
            self.main.query_one("#why-text", Markdown).update("Run a comparison (r) to see what drives each "
                                                              "policy's results.")
            return
        lines = [f"Baseline: **{c.labels[c.baseline]}** · {c.complete_replications()} replications", ""]
        last = None
        for insight in api.explain(c):
            if insight.policy != last:
                lines += [f"### {insight.policy}", ""]
                last = insight.policy
            lines += [f"- {insight.text}", ""]
        if last is None:
            lines.append("Nothing stands out: no dead ends, repeats, wrong answers or queue trouble in this run.")
        self.main.query_one("#why-text", Markdown).update("\n".join(lines))

    def _show_day(self) -> None:
        c = self.comparison
        if c is None or not any(c.finished(p) for p in range(len(c.labels))):
            for chart in self.main.query("#day Chart"):
                if isinstance(chart, Chart):
                    chart.clear()
            self.main.query_one("#day-legend", Static).update("")
            return
        first = c.finished(next(p for p in range(len(c.labels)) if c.finished(p)))[0]
        horizon = self.shown.scenario.horizon if self.shown else self.workbench.scenario.horizon
        interval = horizon.interval_minutes
        n = len(first.series["queue_length"])
        # Each interval's value is drawn at its midpoint on a clock axis (08:00 …) shared by the three charts.
        hours = [(i + 0.5) * interval / 60 for i in range(n)]
        clock = (n * interval / 60, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                     "sunday").index(horizon.start))
        per = f"per {interval:g}-min interval"
        shown = [p for p in range(len(c.labels)) if c.finished(p)]
        series = {name: {c.labels[p]: [scale * v for v in c.series_mean(p, name)] for p in shown}
                  for name, scale in (("queue_length", 1), ("abandoned", 1), ("occupancy", 100))}
        self.main.query_one("#day-legend", Static).update(legend([c.labels[p] for p in shown]))
        self.main.query_one("#chart-queue", Chart).draw_lines(f"queue (time-average) {per}", hours,
                                                              series["queue_length"], clock=clock)
        self.main.query_one("#chart-abandon", Chart).draw_lines(f"gave up {per}", hours,
                                                                series["abandoned"], clock=clock)
        self.main.query_one("#chart-occupancy", Chart).draw_lines(f"occupancy % {per}", hours,
                                                                  series["occupancy"], clock=clock)
        points = {label: (100 * c.estimate(p, "abandonment_rate").mean, c.estimate(p, "cost_per_resolved").mean)
                  for p, label in enumerate(c.labels)}
        self.main.query_one("#chart-frontier", Chart).draw_points("cost per resolved $ vs abandonment %",
                                                                  points, "abandonment %", "")

    def _show_weeks(self) -> None:
        """The KPIs per day for every policy (scenario events named under the legend); a one-day run says so."""
        c = self.comparison
        charts = [chart for chart in self.main.query("#weeks Chart") if isinstance(chart, Chart)]
        shown = [p for p in range(len(c.labels)) if c.finished(p)] if c is not None else []
        days = len(c.daily(shown[0])) if c is not None and shown else 0
        legend_box = self.main.query_one("#weeks-legend", Static)
        if c is None or days < 2:
            for chart in charts:
                chart.clear()
            legend_box.update("One day per run: set more days (--days, or horizon.days) to see the days and weeks."
                              if c is not None and shown else "")
            return
        x = [float(d) for d in range(1, days + 1)]
        daily = {p: c.daily(p) for p in shown}
        events = c.events_by_day()
        notes = "; ".join(f"day {d}: {', '.join(words)}" for d, words in sorted(events.items()) if d <= days)
        legend_box.update(legend([c.labels[p] for p in shown]) + (f"\n{notes}" if notes else ""))
        for chart_id, name, title, scale in WEEK_CHARTS:
            series = {c.labels[p]: [scale * (row[name]["mean"] if row[name]["mean"] is not None else math.nan)
                                    for row in daily[p]] for p in shown}
            self.main.query_one(chart_id, Chart).draw_lines(title, x, series, xlabel="day")

    # --- views, sweep ------------------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.main.query_one("#views", TabbedContent).active = view

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "day":
            self._show_day()
        elif event.pane.id == "sweep" and (self.sweep is None or self.sweep[0] != self.current) and \
                not self.sweeping:
            self.action_sweep()

    def action_sweep(self) -> None:
        wb = self.workbench
        if not self.current:
            return
        if wb.invalid:
            self.notify("Fix the red knobs first.", severity="error")
            return
        if self._stop_sweep is not None:
            self._stop_sweep.set()
        policy = wb.entry(self.current).run_model()
        self.sweeping, self.same_pending, self.sweep_same = True, False, None
        self.main.query_one("#sweep-title", Static).update(
            f"Sweeping the bot share of {self.current} from 0 to 100% ({SWEEP_REPLICATIONS} replications a "
            "point) …  esc cancels")
        self._stop_sweep = _background(self._sweep, self.current, wb.run_scenario(), policy, wb.seed)

    def _sweep(self, stop: threading.Event, label: str, scenario, policy, seed: int) -> None:  # type: ignore[no-untyped-def]
        try:
            result = api.sweep_automation(scenario, policy, api.SWEEP_SHARES, replications=SWEEP_REPLICATIONS,
                                          seed=seed, should_stop=stop.is_set, pool=self.pool)
        except Exception as exc:  # shown, never a crash (unless nobody wants it any more)
            if not stop.is_set():
                self.post_message(SweepFailed(exc))
            return
        if result.failure or result.errors:  # part of a sweep is not a sweep
            self.post_message(SweepFailed(RuntimeError(result.failure or result.errors[0].error)))
            return
        if stop.is_set():
            return
        # The same shares with every point staffed to the same service: what automation saves in agents.
        self.post_message(SweepFinished(label, _without_share(policy), result, None))
        try:
            same = api.sweep(scenario, policy, ["policy.automation.share=0:1:0.1"], replications=SWEEP_REPLICATIONS,
                             seed=seed, should_stop=stop.is_set, equal_service=list(EQUAL_SERVICE),
                             executor=api.PoolExecutor(pool=self.pool) if self.pool is not None else None,
                             on_step=lambda what: self._say(f"sweep at equal service: {what} …", stop))
        except Exception as exc:  # shown, never a crash (unless nobody wants it any more)
            if not stop.is_set():
                self.post_message(SweepFailed(exc))
            return
        if not stop.is_set() and not same.comparison.cancelled and not same.comparison.errors:
            self.post_message(SweepFinished(label, _without_share(policy), result, same.comparison))


    def on_sweep_finished(self, message: SweepFinished) -> None:
        self.sweeping = False
        self.sweep = (message.label, message.policy_json, message.comparison)
        self.sweep_same = message.same
        self.same_pending = message.same is None  # the equal-service curve is still being worked out
        self._show_sweep()
        if not self.same_pending:
            self._status("sweep done, also at equal service")

    def on_sweep_failed(self, message: SweepFailed) -> None:
        self.sweeping = self.same_pending = False
        self.main.query_one("#sweep-title", Static).update(f"The sweep failed: {message.error}")
        self.notify(f"Sweep failed: {message.error}", severity="error")

    def _show_sweep(self) -> None:
        """The sweep's curves with their 95% bands, and where the highlighted policy stands now."""
        if self.sweeping:
            return
        if self.sweep is None:  # nothing swept on these inputs (or the scenario changed): no old curves
            self.main.query_one("#sweep-title", Static).update("No sweep yet: w sweeps the highlighted policy")
            for chart_id in ("sweep-abandon", "sweep-cost", "sweep-csat"):
                self.main.query_one(f"#{chart_id}", Chart).clear()
            return
        label, policy_json, c = self.sweep
        wb = self.workbench
        shares = [100 * s for s in api.SWEEP_SHARES][: len(c.labels)]
        marker = None
        note = ""
        if label in [e.label for e in wb.policies]:
            entry = wb.entry(label)
            now = 100 * contact_share(entry.model, wb.scenario)
            marker = (now, f"now {now:.0f}%")
            if _without_share(entry.run_model()) != policy_json:
                note = " · ⚠ other knobs of this policy changed since: w re-runs"
        if c.scenario_model is not None and c.scenario_model != wb.run_scenario():
            note = " · ⚠ the scenario changed since: w re-runs"
        title = (f"Bot share of {label} on every channel, 0 to 100% · {c.complete_replications()} replications a "
                 f"point · dotted: 95% interval · │ its share of contacts now{note}")
        if self.sweep_same is not None:
            title += " · cost also at equal service (" + ", ".join(EQUAL_SERVICE) + " per interval)"
        elif self.same_pending:
            title += " · working out the cost at equal service …"

        if label != self.current:
            title += f" · (highlighted: {self.current}; w sweeps it)"
        heading = Text(title)
        if self.sweep_same is not None:  # which cost curve is which, in the charts' colours
            heading.append("\ncost per resolved:  ").append_text(legend(["agents as scheduled", "at equal service"]))
        self.main.query_one("#sweep-title", Static).update(heading)
        for chart_id, kpi, scale, top, name in (
                ("sweep-abandon", "abandonment_rate", 100, 100, "abandonment %"),
                ("sweep-cost", "cost_per_resolved", 1, math.inf, "cost per resolved $"),
                ("sweep-csat", "csat", 100, 100, "CSAT %")):
            estimates = [c.estimate(p, kpi) for p in range(len(c.labels))]
            mean = [scale * e.mean for e in estimates]
            # The interval is cut to the values the KPI can take (a share is never below 0 or above 100%).
            band = ([max(0.0, scale * e.low) for e in estimates], [min(top, scale * e.high) for e in estimates])
            lines, bands = {kpi: mean}, {kpi: band}
            same = self.sweep_same
            if chart_id == "sweep-cost" and same is not None and len(same.labels) == len(c.labels):
                at_same = [same.estimate(p, kpi) for p in range(len(same.labels))]
                lines = {"agents as scheduled": mean, "at equal service": [e.mean for e in at_same]}
                bands = {"agents as scheduled": band, "at equal service": ([max(0.0, e.low) for e in at_same],
                                                                           [e.high for e in at_same])}
            self.main.query_one(f"#{chart_id}", Chart).draw_lines(name, shares, lines, xlabel="bot share %",
                                                                  bands=bands, marker=marker)

    # --- files -------------------------------------------------------------------------------------

    def _confirm_overwrite(self, path: Path, then: Callable[[], None]) -> None:
        """Run ``then`` at once for a new file, after a yes for an existing one."""
        if not path.exists():
            then()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.push_screen(ConfirmScreen(f"{path} exists. Replace it?", "Replace"), answered)

    def action_save(self) -> None:
        if not self.current:
            return
        label = self.current
        default = Path.cwd() / "policies" / f"{label}-edited.yaml"

        def save(path: Path) -> None:
            try:
                problems = self.workbench.save_policy(label, path)
            except OSError as exc:
                self.notify(f"Cannot write {path}: {exc.strerror}", severity="error")
                return
            if problems:
                self.push_screen(ProblemsScreen(f"Saved {path}, but it does not validate", problems))
            else:
                self.notify(f"Saved {path} (validated)")

        def chosen(path: Path | None) -> None:
            if path is not None:
                path = path.expanduser()
                self._confirm_overwrite(path, partial(save, path))

        self.push_screen(SaveScreen(label, default), chosen)

    def action_export(self) -> None:
        if self.comparison is None:
            self.notify("Nothing to export yet: run a comparison first (r).", severity="warning")
            return
        slug = self.workbench.scenario.name.lower().replace(" ", "-").replace(",", "")
        comparison = self.comparison
        if self._is_stale():
            self.notify("Exporting the results on screen, which are from before your last edits.",
                        severity="warning")

        def export(fmt: str, path: Path) -> None:
            text = {"csv": api.to_csv, "json": api.to_json, "md": api.to_markdown}[fmt](comparison)
            try:
                api.write_atomic(path, text)
            except OSError as exc:
                self.notify(f"Cannot write {path}: {exc.strerror}", severity="error")
                return
            self.notify(f"Exported {path}")

        def chosen(choice: tuple[str, Path] | None) -> None:
            if choice is not None:
                fmt, path = choice[0], choice[1].expanduser()
                self._confirm_overwrite(path, partial(export, fmt, path))

        self.push_screen(ExportScreen(Path.cwd() / "results" / f"{slug}-comparison"), chosen)

    def action_problems(self) -> None:
        if self.workbench.problems:
            self.push_screen(ProblemsScreen("Problems in your files", self.workbench.problems))
        else:
            self.notify("No problems in your files.")

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_sidebar(self) -> None:
        """Give the views the whole width (on a small terminal the table then shows more policies)."""
        sidebar = self.main.query_one("#sidebar")
        sidebar.display = not sidebar.display
        if not sidebar.display and self.focused is not None and sidebar in self.focused.ancestors:
            self.main.query_one("#kpis").focus()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette (ctrl+p) offers every action of the workbench by name, with its key."""
        commands = [
            ("Run the comparison", "r · run the selected policies now", self.action_run),
            ("Cancel the run", "esc · stop; finished replications are kept", self.action_cancel),
            ("Make the highlighted policy the baseline", "b · compare every policy against it",
             self.action_baseline),
            ("Toggle automatic re-run", "a · re-run after each valid edit", self.action_toggle_auto),
            ("Sweep the bot share", "w · the highlighted policy from 0 to 100%", self.action_sweep),
            ("Open a scenario", "o · switch scenario, keeping the policies", self.action_open_scenario),
            ("Save the policy", "s · the highlighted policy with its edits as YAML", self.action_save),
            ("Export the comparison", "x · CSV, JSON or Markdown", self.action_export),
            ("Go to the policy list", "l", self.action_focus_policies),
            ("Go to the knobs", "k", self.action_focus_knobs),
            ("Toggle dark/light theme", "t", self.action_toggle_theme),
            ("Toggle the side panel", "f · full width for the views", self.action_toggle_sidebar),
            ("Show problems in your files", "p", self.action_problems),
            ("Help", "? or F1 · every key, and how to read the numbers", self.action_help),
        ]
        for i, (view, title) in enumerate(zip(VIEWS, VIEW_TITLES, strict=True)):
            commands.insert(3 + i, (f"View: {title}", f"{i + 1}", partial(self.action_view, view)))
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
        yield from super().get_system_commands(screen)


def _without_share(policy: Any) -> str:
    """A policy apart from its bot share: a sweep varies the share, so only the rest can make it outdated."""
    automation = policy.automation.model_copy(update={"share": 0.0})
    return str(policy.model_copy(update={"automation": automation, "name": "", "description": ""})
               .model_dump_json())


def make_app(scenario: str | None = None, policies: list[str] | None = None, cwd: Path | None = None,
             seed: int = 0, autorun: bool = True, replications: int | None = None,
             overrides: list[str] | tuple[str, ...] = (), days: int | None = None,
             baseline: str | None = None) -> SandboxApp:
    """The app on a scenario (default: the built-in one) and policies (default: all available); shared by the
    CLI and the tests. Raises ConfigError for inputs the caller named that are wrong."""
    workbench = Workbench.open(scenario or api.DEFAULT_SCENARIO, policies, cwd, seed, overrides, days, replications,
                               baseline)
    return SandboxApp(workbench, autorun)
