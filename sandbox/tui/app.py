"""Provides the Textual workbench: pick policies, turn knobs, run, and read the trade-off.

A thin client of sandbox.api: runs go to a background thread worker that streams each finished replication
back as a message, so the table fills first and its intervals tighten while the interface keeps answering
keys; Esc cancels and keeps what finished.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
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
from textual.worker import get_current_worker

from sandbox import api
from sandbox.catalog import DEFAULT_SCENARIO
from sandbox.errors import ConfigError, Problem
from sandbox.experiments import Comparison
from sandbox.export import to_csv, to_json, to_markdown, write_atomic
from sandbox.insights import explain
from sandbox.tui.screens import ExportScreen, HelpScreen, ProblemsScreen, SaveScreen
from sandbox.tui.widgets import Chart, Choice, IntentTable, KnobRow, KpiTable, legend
from sandbox.tui.workbench import Workbench

VIEWS = ("compare", "day", "intents", "why", "sweep")
RENDER_EVERY = 0.2  # seconds between table refreshes while replications stream in
AUTO_DELAY = 0.8  # seconds of quiet after an edit before an automatic re-run


class RunProgressed(Message):
    def __init__(self, run: int, comparison: Comparison):
        super().__init__()
        self.run, self.comparison = run, comparison


class RunFinished(RunProgressed):
    pass


class RunFailed(Message):
    def __init__(self, run: int, error: BaseException):
        super().__init__()
        self.run, self.error = run, error


class SweepFinished(Message):
    def __init__(self, label: str, comparison: Comparison):
        super().__init__()
        self.label, self.comparison = label, comparison


def _knob_row(widget: Widget) -> KnobRow | None:
    """The knob a control belongs to (None for inputs of dialogs)."""
    return next((a for a in widget.ancestors if isinstance(a, KnobRow)), None)


class SandboxApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "support-sandbox"
    BINDINGS = [
        Binding("r,ctrl+r", "run", "Run"),
        Binding("escape", "cancel", "Cancel"),
        Binding("a", "toggle_auto", "Auto"),
        Binding("b", "baseline", "Baseline"),
        Binding("s", "save", "Save"),
        Binding("ctrl+s", "save", "Save", show=False, priority=True),
        Binding("x", "export", "Export"),
        Binding("1", "view('compare')", "Views 1-5"),
        *(Binding(str(i + 2), f"view('{v}')", show=False) for i, v in enumerate(VIEWS[1:])),
        Binding("w", "sweep", "Sweep", show=False),
        Binding("p", "problems", "Problems", show=False),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("f", "toggle_sidebar", "Full width", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]
    auto: reactive[bool] = reactive(False)

    def __init__(self, workbench: Workbench, autorun: bool = True):
        super().__init__()
        self.workbench = workbench
        self.autorun = autorun
        self.current = workbench.baseline if workbench.policies else ""
        self.comparison: Comparison | None = None
        self.sweep: tuple[str, Comparison] | None = None
        self.run_id = 0
        self.running = False
        self.started = 0.0
        self._last_render = 0.0
        self._render_timer: Timer | None = None
        self._auto_timer: Timer | None = None
        self.clock = time.perf_counter  # replaceable, so screenshots of a finished run are reproducible
        # Simulations run in worker processes so they never hold this process's interpreter lock, leaving a
        # core for the interface. They start here, before Textual takes over stdout and stderr (spawning a
        # process needs the real ones) and while the interface draws.
        self.runner = api.Runner(max(1, (os.cpu_count() or 2) - 1))

    # --- layout ------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with VerticalScroll(id="sidebar"):
                yield Label("POLICIES", classes="section")
                yield SelectionList[str](id="policies")
                yield Label("KNOBS", id="knobs-title", classes="section")
                with Vertical(id="knobs"):
                    for knob in self.workbench.knobs():
                        yield KnobRow(knob, self.workbench.value(knob, self.current))
                yield Static("", id="knob-error")
            with Vertical(id="main"):
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
                        yield Label("Press w to sweep the bot share of the highlighted policy from 0 to 100%.",
                                    id="sweep-title")
                        with Horizontal(classes="charts"):
                            yield Chart(id="sweep-abandon")
                            yield Chart(id="sweep-cost")
                            yield Chart(id="sweep-csat")
                with Horizontal(id="status"):
                    yield ProgressBar(id="progress", show_eta=False)
                    yield Static("", id="status-text")
        yield Footer()

    def on_mount(self) -> None:
        self.main = self.screen  # messages keep arriving while a dialog is on top; they update this screen
        self._refresh_policy_list()
        policies = self.main.query_one("#policies", SelectionList)
        policies.highlighted = 0
        policies.focus()
        self._update_titles()
        if self.workbench.problems:
            self.push_screen(ProblemsScreen("Some files could not be loaded; the others are ready.",
                                            self.workbench.problems))
        if self.autorun:
            self.action_run()

    def on_unmount(self) -> None:
        self.runner.close()

    def _update_titles(self) -> None:
        wb = self.workbench
        days = wb.scenario.horizon.days
        self.sub_title = (f"{wb.scenario.name} · {days} day{'s' if days != 1 else ''} · {wb.replications} reps · "
                          f"seed {wb.seed}{' · auto' if self.auto else ''}")
        edited = " *" if self.current and self.workbench.entry(self.current).edited else ""
        self.main.query_one("#knobs-title", Label).update(f"KNOBS  {self.current}{edited}")

    def _refresh_policy_list(self) -> None:
        wb = self.workbench
        policies = self.main.query_one("#policies", SelectionList)
        highlighted = policies.highlighted
        policies.clear_options()
        policies.add_options([
            Selection(e.label + (" (base)" if e.label == wb.baseline else "") + (" *" if e.edited else ""),
                      e.label, e.label in wb.selected) for e in wb.policies])
        if highlighted is not None:
            policies.highlighted = highlighted

    # --- policies and knobs ----------------------------------------------------------------------

    def on_selection_list_selection_highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        if event.selection.value == self.current:
            return  # the list was redrawn (an edit marked it), not moved: keep what is being typed
        self.current = event.selection.value
        for row in self.main.query(KnobRow):
            row.show(self.workbench.value(row.knob, self.current))
            problem = self.workbench.invalid.get((row.knob.name, self.current if row.knob.target == "policy"
                                                  else ""))
            row.set_class(problem is not None, "-invalid")
        self._update_titles()
        self._show_intents()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        self.workbench.selected = list(event.selection_list.selected)
        self._schedule_auto()

    def _apply(self, row: KnobRow, text: str) -> bool:
        problem = self.workbench.set(row.knob, self.current, text)
        row.set_class(problem is not None, "-invalid")
        message = self.main.query_one("#knob-error", Static)
        message.update(f"⚠ {problem.key}: {problem.message}" if problem else "")
        self._update_titles()
        self._refresh_policy_list()
        return problem is None

    def on_input_changed(self, event: Input.Changed) -> None:
        if not event.input.has_focus:
            return  # set by the program (mount, switching policy), not typed
        row = _knob_row(event.input)
        if row is not None and self._apply(row, event.value):
            self._schedule_auto()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        row = _knob_row(event.input)
        if row is not None and self._apply(row, event.value):
            self.action_run()

    def on_choice_changed(self, event: Choice.Changed) -> None:
        row = _knob_row(event.choice)
        if row is not None and self._apply(row, event.value):
            self._schedule_auto()

    def _schedule_auto(self) -> None:
        if not self.auto:
            return
        if self._auto_timer is not None:
            self._auto_timer.stop()
        self._auto_timer = self.set_timer(AUTO_DELAY, self.action_run)

    # --- running ---------------------------------------------------------------------------------

    def action_run(self) -> None:
        wb = self.workbench
        if wb.invalid:
            problem = next(iter(wb.invalid.values()))
            self.notify(f"Fix {problem.key} first: {problem.message}", severity="error")
            return
        if not wb.selected:
            self.notify("Include at least one policy (space in the policy list).", severity="warning")
            return
        scenario, policies, labels, baseline = wb.inputs()
        self.run_id += 1
        self.running, self.started = True, self.clock()
        total = wb.replications * len(policies)
        self.main.query_one("#progress", ProgressBar).update(total=total, progress=0)
        self._status(f"running {len(policies)} policies × {wb.replications} replications …  esc cancels")
        self._run(self.run_id, scenario, policies, labels, baseline, wb.replications, wb.seed)

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run(self, run: int, scenario, policies, labels, baseline, replications, seed) -> None:  # type: ignore[no-untyped-def]
        worker = get_current_worker()
        try:
            result = api.compare(scenario, policies, baseline=baseline, replications=replications, seed=seed,
                                 labels=labels, runner=self.runner,
                                 on_result=lambda c: self._post(RunProgressed(run, c.snapshot())),
                                 should_stop=lambda: worker.is_cancelled)
        except Exception as exc:  # a failed run is shown, never a crash
            self.post_message(RunFailed(run, exc))
            return
        self.post_message(RunFinished(run, result))

    def _post(self, message: Message) -> None:
        self.post_message(message)  # thread-safe: called from the run's worker thread

    def on_run_finished(self, message: RunFinished) -> None:
        self.on_run_progressed(message)

    def on_run_progressed(self, message: RunProgressed) -> None:
        if message.run != self.run_id:
            return  # a superseded run
        self.comparison = message.comparison
        done = sum(r is not None for runs in message.comparison.results for r in runs)
        self.main.query_one("#progress", ProgressBar).update(progress=done)
        if isinstance(message, RunFinished):
            if self._render_timer is not None:  # the final render below supersedes a pending refresh
                self._render_timer.stop()
            self.running = False
            elapsed = self.clock() - self.started
            what = "cancelled after" if message.comparison.cancelled else "done:"
            self._status(f"{what} {done} replications in {elapsed:.1f} s · "
                         f"{message.comparison.complete_replications()} complete per policy")
            self._render_all()
        elif self.clock() - self._last_render >= RENDER_EVERY:
            self._render_table()
        elif self._render_timer is None:
            self._render_timer = self.set_timer(RENDER_EVERY, self._render_table)

    def on_run_failed(self, message: RunFailed) -> None:
        if message.run != self.run_id:
            return
        self.running = False
        self._status("the run failed")
        problems = message.error.problems if isinstance(message.error, ConfigError) else [
            Problem(None, None, "", f"{type(message.error).__name__}: {message.error}")]
        self.push_screen(ProblemsScreen("The run failed", problems))

    def action_cancel(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "run")
            self._status("cancelling … finished replications are kept")

    def action_toggle_auto(self) -> None:
        self.auto = not self.auto
        self._update_titles()
        self.notify(f"Automatic re-run {'on' if self.auto else 'off'}")

    def action_baseline(self) -> None:
        if self.current:
            self.workbench.baseline = self.current
            if self.current not in self.workbench.selected:
                self.workbench.selected.append(self.current)
            self._refresh_policy_list()
            self.action_run()

    # --- rendering -------------------------------------------------------------------------------

    def _status(self, text: str) -> None:
        self.main.query_one("#status-text", Static).update(text)

    def _render_table(self) -> None:
        self._render_timer = None
        self._last_render = self.clock()
        if self.main.is_attached:  # a pending refresh can fire while the app is closing
            self.main.query_one("#kpis", KpiTable).show(self.comparison)

    def _render_all(self) -> None:
        self._render_table()
        self._show_intents()
        self._show_why()
        self._show_day()

    def _show_intents(self) -> None:
        self.main.query_one("#intents-title", Label).update(f"Per intent · {self.current}")
        self.main.query_one("#intent-table", IntentTable).show(self.comparison, self.current)

    def _show_why(self) -> None:
        c = self.comparison
        if c is None:
            return
        lines = [f"Baseline: **{c.labels[c.baseline]}** · {c.complete_replications()} replications", ""]
        last = None
        for insight in explain(c):
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
            return
        first = c.finished(next(p for p in range(len(c.labels)) if c.finished(p)))[0]
        interval = self.workbench.scenario.horizon.interval_minutes
        n = len(first.series["queue_length"])
        hours = [i * interval / 60 for i in range(n)]
        series = {name: {label: c.series_mean(p, name) for p, label in enumerate(c.labels) if c.finished(p)}
                  for name in ("queue_length", "abandoned", "occupancy")}
        self.main.query_one("#day-legend", Static).update(legend([label for p, label in enumerate(c.labels)
                                                              if c.finished(p)]))
        self.main.query_one("#chart-queue", Chart).draw_lines("queue length (time-average)", hours,
                                                              series["queue_length"])
        self.main.query_one("#chart-abandon", Chart).draw_lines("abandoned per interval", hours, series["abandoned"])
        self.main.query_one("#chart-occupancy", Chart).draw_lines("occupancy", hours, series["occupancy"])
        points = {label: (100 * c.estimate(p, "abandonment_rate").mean, c.estimate(p, "cost_per_resolved").mean)
                  for p, label in enumerate(c.labels) if c.finished(p)}
        self.main.query_one("#chart-frontier", Chart).draw_points("cost per resolved $ vs abandonment %", points,
                                                              "abandonment %", "")

    # --- views, sweep ------------------------------------------------------------------------------

    def action_view(self, view: str) -> None:
        self.main.query_one("#views", TabbedContent).active = view

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "day":
            self._show_day()
        elif event.pane.id == "sweep" and (self.sweep is None or self.sweep[0] != self.current):
            self.action_sweep()

    def action_sweep(self) -> None:
        if not self.current or self.workbench.invalid:
            return
        self.main.query_one("#sweep-title", Label).update(
            f"Sweeping the bot share of {self.current} from 0 to 100% (3 replications a point) …")
        self._sweep(self.current, self.workbench.scenario, self.workbench.entry(self.current).model,
                    self.workbench.seed)

    @work(thread=True, exclusive=True, group="sweep", exit_on_error=False)
    def _sweep(self, label: str, scenario, policy, seed: int) -> None:  # type: ignore[no-untyped-def]
        worker = get_current_worker()
        try:
            result = api.sweep_automation(scenario, policy, api.SWEEP_SHARES, replications=3, seed=seed,
                                          should_stop=lambda: worker.is_cancelled, runner=self.runner)
        except Exception as exc:  # shown, never a crash
            self.call_from_thread(self.notify, f"Sweep failed: {exc}", severity="error")
            return
        self.post_message(SweepFinished(label, result))

    def on_sweep_finished(self, message: SweepFinished) -> None:
        self.sweep = (message.label, message.comparison)
        c = message.comparison
        shares = [100 * s for s in api.SWEEP_SHARES][: len(c.labels)]

        def curve(kpi: str, scale: float = 1.0) -> dict[str, list[float]]:
            return {kpi: [scale * c.estimate(p, kpi).mean for p in range(len(c.labels))]}

        self.main.query_one("#sweep-title", Label).update(
            f"Bot share of {message.label} from 0 to 100% · {c.complete_replications()} replications a point")
        self.main.query_one("#sweep-abandon", Chart).draw_lines("abandonment %", shares, curve("abandonment_rate", 100),
                                                          xlabel="bot share %")
        self.main.query_one("#sweep-cost", Chart).draw_lines("cost per resolved $", shares, curve("cost_per_resolved"),
                                                       xlabel="bot share %")
        self.main.query_one("#sweep-csat", Chart).draw_lines("CSAT %", shares, curve("csat", 100), xlabel="bot share %")

    # --- files -------------------------------------------------------------------------------------

    def action_save(self) -> None:
        if not self.current:
            return
        default = Path.cwd() / "policies" / f"{self.current}-edited.yaml"

        def save(path: Path | None) -> None:
            if path is None:
                return
            try:
                problems = self.workbench.save_policy(self.current, path)
            except OSError as exc:
                self.notify(f"Cannot write {path}: {exc.strerror}", severity="error")
                return
            if problems:
                self.push_screen(ProblemsScreen(f"Saved {path}, but it does not validate", problems))
            else:
                self.notify(f"Saved {path} (validated)")

        self.push_screen(SaveScreen(self.current, default), save)

    def action_export(self) -> None:
        if self.comparison is None:
            self.notify("Nothing to export yet: run a comparison first (r).", severity="warning")
            return
        slug = self.workbench.scenario.name.lower().replace(" ", "-").replace(",", "")
        comparison = self.comparison

        def export(choice: tuple[str, Path] | None) -> None:
            if choice is None:
                return
            fmt, path = choice
            text = {"csv": to_csv, "json": to_json, "md": to_markdown}[fmt](comparison)
            try:
                write_atomic(path, text)
            except OSError as exc:
                self.notify(f"Cannot write {path}: {exc.strerror}", severity="error")
                return
            self.notify(f"Exported {path}")

        self.push_screen(ExportScreen(Path.cwd() / "results" / f"{slug}-comparison"), export)

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

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"


def make_app(scenario: str | None = None, policies: list[str] | None = None, cwd: Path | None = None,
             seed: int = 0, autorun: bool = True, replications: int | None = None) -> SandboxApp:
    """The app on a scenario (default: the built-in one) and policies (default: all available); shared by the
    CLI and the tests."""
    workbench = Workbench.open(scenario or DEFAULT_SCENARIO, policies, cwd, seed)
    if replications is not None:
        workbench.replications = replications
    return SandboxApp(workbench, autorun)
