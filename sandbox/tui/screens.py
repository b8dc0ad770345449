"""Provides the modal screens: help, problems, save a policy, export a comparison, confirm, pick a scenario,
the Erlang calculator, the sensitivity tornado, the journeys of a few customers under two policies."""

from __future__ import annotations

import threading
from pathlib import Path

from rich.console import Group
from rich.markdown import Markdown as RichMarkdown
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, RadioButton, RadioSet, Select, Static
from textual.widgets.option_list import Option

from sandbox import api
from sandbox.errors import ConfigError, Problem
from sandbox.presentation import format_difference, format_value, tornado_bar

SENSITIVITY_REPLICATIONS = 5  # per point of the m key's tornado: a quick look; the CLI takes -n

INTRO = """\
Compare support policies on the same simulated customers. Numbers are means over replications with a 95%
confidence interval; the second line of each cell is the paired change against the **baseline** (always the
first column): **▲/▼** marks a significant change (green = better, red = worse), *ns* one that is not; one
replication gives no intervals."""

KEYS = (
    ("r", "run the comparison now (also ctrl+r, or Enter in a knob)"),
    ("esc", "in a knob: back to the policy list; elsewhere: cancel the run (finished replications stay)"),
    ("a", "re-run automatically after each valid edit"),
    ("l  k", "go to the policy list / the knobs (tab moves on, shift+tab back)"),
    ("space", "include or leave out the highlighted policy"),
    ("b", "make the highlighted policy the baseline"),
    ("o", "open another scenario (the policies and their edits are kept)"),
    ("1–6", "views: Compare, Over the day, Intents, Why, Sweep, Over the weeks"),
    ("w", "sweep the bot share of the highlighted policy from 0 to 100%"),
    ("e", "compare at equal service: every policy staffed to 80% in 20 s per interval first (or back)"),
    ("s", "save the highlighted policy with its edits as YAML (ctrl+s even while typing)"),
    ("x", "export the comparison (CSV, JSON, Markdown)"),
    ("p", "show problems found in your files"),
    ("c", "the Erlang calculator: agents for a service level (Erlang C, or A with a patience)"),
    ("m", "what matters: every assumption ±20%, ranked by its effect on cost per resolved contact"),
    ("j", "journeys: follow a few customers of one intent, turn by turn, under two policies side by side"),
    ("g", "search the cheapest policy like the highlighted one that passes checks/service-floor.yaml: the Pareto "
          "front of cost, abandonment and CSAT"),
    ("t", "switch dark/light theme"),
    ("f", "hide or show the side panel: full width for the views"),
    ("ctrl+p", "the command palette: every action by name"),
    ("?  q", "this help · quit"),
)

KNOBS = """\
**Knobs** edit the highlighted policy (bot share … CRM data), the scenario for every policy (bot quality, volume,
agents, days) or the run (replications, seed). *bot share* sets every channel and shows the share of all
contacts; the ↳ rows set one channel each. An invalid value turns red with its reason below and never starts a
run. Results from before an edit are marked **stale** until the next run; an edited policy is marked * and runs,
exports and saves as edited."""


def _keys_table() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column(style="bold dark_orange", no_wrap=True)
    table.add_column(ratio=1)
    for key, does in KEYS:
        table.add_row(key, does)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label("support-sandbox · keys", classes="dialog-title")
            yield Static(RichMarkdown(INTRO), classes="help-text")
            yield Static(_keys_table(), classes="help-keys")
            yield Static(RichMarkdown(KNOBS), classes="help-text")
            yield Button("Close", variant="primary", id="close")

    def on_button_pressed(self) -> None:
        self.dismiss()


class ProblemsScreen(ModalScreen[None]):
    """Problems with file, line and key; the app goes on with what did load."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Close")]

    def __init__(self, title: str, problems: list[Problem]):
        super().__init__()
        self.heading, self.problems = title, problems

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(self.heading, classes="dialog-title")
            for problem in self.problems:
                yield Static(str(problem), classes="problem")
            yield Button("Close", variant="primary", id="close")

    def on_button_pressed(self) -> None:
        self.dismiss()


class SaveScreen(ModalScreen[Path | None]):
    """Ask where to save the edited policy."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, label: str, default: Path):
        super().__init__()
        self.label, self.default = label, default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Save policy '{self.label}' with its edits as", classes="dialog-title")
            yield Input(str(self.default), id="path")
            yield Static("Scenario knobs (bot quality, volume, agents) are not part of a policy.", classes="hint")
            yield Button("Save", variant="primary", id="save")

    def on_input_submitted(self) -> None:
        self._save()

    def on_button_pressed(self) -> None:
        self._save()

    def _save(self) -> None:
        text = self.query_one("#path", Input).value.strip()
        self.dismiss(Path(text) if text else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ExportScreen(ModalScreen[tuple[str, Path] | None]):
    """Choose a format and a file for the comparison."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    FORMATS = ("csv", "json", "md")

    def __init__(self, default_stem: Path):
        super().__init__()
        self.stem = default_stem

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Export the comparison", classes="dialog-title")
            with RadioSet(id="format"):
                yield RadioButton("CSV (one row per policy and KPI)", value=True)
                yield RadioButton("JSON (everything, per replication)")
                yield RadioButton("Markdown (the table)")
            yield Input(str(self.stem.with_suffix(".csv")), id="path")
            yield Button("Export", variant="primary", id="export")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        path = self.query_one("#path", Input)
        path.value = str(Path(path.value).with_suffix("." + self.FORMATS[event.index]))

    def on_input_submitted(self) -> None:
        self._export()

    def on_button_pressed(self) -> None:
        self._export()

    def _export(self) -> None:
        index = self.query_one("#format", RadioSet).pressed_index
        text = self.query_one("#path", Input).value.strip()
        self.dismiss((self.FORMATS[max(index, 0)], Path(text)) if text else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; y or Enter on Yes confirms, n or esc declines."""

    BINDINGS = [Binding("escape,n", "answer(False)", "No"), Binding("y", "answer(True)", "Yes")]

    def __init__(self, question: str, yes: str = "Yes"):
        super().__init__()
        self.question, self.yes = question, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            with Horizontal(classes="buttons"):
                yield Button(self.yes, variant="warning", id="yes")
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe answer is the default

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ScenarioScreen(ModalScreen[str | None]):
    """Pick a scenario: the working directory's and the built-in ones, the open one highlighted."""

    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def __init__(self, scenarios: dict[str, str], current: str):
        super().__init__()
        self.scenarios, self.current = scenarios, current  # name → where it comes from

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Open a scenario (policies and their edits are kept)", classes="dialog-title")
            width = max(map(len, self.scenarios), default=0)
            yield OptionList(*(Option(f"{name:{width}}  {where}", id=name) for name, where in self.scenarios.items()),
                             id="scenarios")
            yield Static("Enter opens · esc cancels. Scenario knob edits are reset; days are kept.", classes="hint")

    def on_mount(self) -> None:
        options = self.query_one("#scenarios", OptionList)
        names = list(self.scenarios)
        if self.current in names:
            options.highlighted = names.index(self.current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class CalculatorScreen(ModalScreen[None]):
    """The Erlang calculator: agents for a service level, recomputed as the inputs change."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]
    FIELDS = (("rate", "arrival rate", "200/h"), ("aht", "handle time", "3m"), ("target", "target", "80%@20s"),
              ("patience", "patience (empty: Erlang C)", ""), ("shrinkage", "shrinkage", "30%"),
              ("max_occupancy", "max occupancy", "85%"))

    summary = ""  # the answer in words (or the problems), as shown

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label("Erlang calculator", classes="dialog-title")
            for key, label, value in self.FIELDS:
                with Horizontal(classes="calc-row"):
                    yield Label(label, classes="calc-label")
                    yield Input(value, id=f"calc-{key}", compact=True)
            yield Static(id="calc-result")
            yield Button("Close", variant="primary", id="close")

    def on_mount(self) -> None:
        self.query_one("#calc-rate", Input).focus()
        self._compute()

    def on_input_changed(self) -> None:
        self._compute()

    def on_button_pressed(self) -> None:
        self.dismiss()

    def _compute(self) -> None:
        values = {key: self.query_one(f"#calc-{key}", Input).value.strip() for key, _, _ in self.FIELDS}
        out = self.query_one("#calc-result", Static)
        try:
            calc = api.erlang_calculator(values["rate"], values["aht"], values["target"], values["patience"] or None,
                                         values["shrinkage"] or "0", values["max_occupancy"] or "100%")
        except ConfigError as exc:
            self.summary = "\n".join(f"{p.file}: {p.message}" for p in exc.problems)
            out.update(Text(self.summary, style="red"))
            return
        patience = calc.patience_minutes is not None
        table = Table(box=None, header_style="bold", padding=(0, 2, 0, 0))
        for name in ("agents", "P(wait)", "service level", "ASA", "occupancy", *(["P(abandon)"] if patience else [])):
            table.add_column(name, justify="right")
        for row in calc.rows:
            table.add_row(str(row.agents), f"{100 * row.p_wait:.1f}%", f"{100 * row.service_level:.1f}%",
                          "∞" if row.asa_seconds == float("inf") else f"{row.asa_seconds:.1f} s",
                          f"{100 * row.occupancy:.1f}%", *([f"{100 * row.p_abandon:.1f}%"] if patience else []),
                          style="bold green" if row.agents == calc.required else None)
        self.summary = (f"{calc.required} agents taking contacts ({calc.load:.2f} Erlangs, "
                        f"{'Erlang A' if patience else 'Erlang C'}); {calc.scheduled} to schedule at "
                        f"{100 * calc.shrinkage:g}% shrinkage.")
        out.update(Group(table, Text(self.summary, style="bold")))


class BackgroundScreen(ModalScreen[None]):
    """A dialog whose work runs in a thread for the highlighted policy: closing it stops the work."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, label: str, stop: threading.Event):
        super().__init__()
        self.label, self.stop = label, stop

    def on_unmount(self) -> None:
        self.stop.set()  # closing the dialog stops its runs

    def on_button_pressed(self) -> None:
        self.dismiss()


class SensitivityScreen(BackgroundScreen):
    """What matters most for a KPI under the highlighted policy: the CLI's `sensitivity` as a tornado."""

    TOP = 12

    def __init__(self, label: str, kpi: str, stop: threading.Event):
        super().__init__(label, stop)
        self.kpi = kpi
        self.result: api.Sensitivity | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(f"What moves {api.KPIS[self.kpi].label} under {self.label}", classes="dialog-title")
            yield Static(f"moving every assumption ±20%, one at a time, {SENSITIVITY_REPLICATIONS} replications "
                         "each …  esc closes", id="tornado")
            yield Button("Close", variant="primary", id="close")

    def show(self, result: api.Sensitivity) -> None:
        """The ranked effects, real ones first (ns: the interval spans 0)."""
        self.result = result
        shown = result.effects[: self.TOP]
        scale = max((e.size for e in shown), default=0.0) or 1.0
        table = Table(box=None, header_style="bold", padding=(0, 2, 0, 0))
        for name, justify in (("assumption", "left"), ("at −20%", "right"), ("at +20%", "right"), ("", "left")):
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for e in shown:
            cells = [format_difference(self.kpi, d)[0] or "0" if d is not None else "refused"
                     for d in (e.at_low, e.at_high)]
            bar = tornado_bar(e.at_low.mean if e.at_low else None, e.at_high.mean if e.at_high else None, scale)
            table.add_row(e.key.removeprefix("scenario.").removeprefix("policy."), *cells, bar,
                          style=None if e.significant else "dim")
        base = format_value(self.kpi, result.base_value)
        note = Text(f"{base} at the base · ░ at −20%, █ at +20% · paired over "
                    f"{result.comparison.complete_replications()} replications; dim: noise", style="dim")
        self.query_one("#tornado", Static).update(Group(table, note))

    def failed(self, error: BaseException) -> None:
        self.query_one("#tornado", Static).update(Text(f"The sensitivity run failed: {error}", style="red"))


JOURNEY_CUSTOMERS = 3  # followed per intent: enough to see a pattern, few enough to read side by side


def journey_text(customer: api.Customer, k: int) -> Text:
    """One customer's journey under the k-th policy, a line a step, frustration rising in red."""
    journey = customer.journeys[k]
    text = Text()
    text.append(f"{customer.clock} · {customer.segment} · {customer.channel}\n", style="bold")
    for step in journey.steps:  # F first, in a column of its own: the rise reads down the page
        if step.frustration is not None:
            text.append(f"F {step.frustration:.2f} ", style="red" if step.frustration >= 0.5 else "dim")
        else:
            text.append(" " * 7)
        text.append(f"{step.what}\n")
    text.append(f"  {journey.rating()}\n\n", style="bold")
    return text


class JourneyScreen(ModalScreen[None]):
    """A few customers of one intent followed step by step, the same customers under two policies side by side:
    bot turns, frustration rising, the request for a human, the handoff, the wait, the agent, the outcome and its
    satisfaction (sandbox.experiments.journeys)."""

    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def __init__(self, scenario: api.Scenario, policies: dict[str, api.Policy], first: str, second: str, seed: int):
        super().__init__()
        self.scenario, self.policies, self.seed = scenario, policies, seed
        self.first, self.second = first, second
        self.customers: list[api.Customer] = []

    def compose(self) -> ComposeResult:
        labels = [(label, label) for label in self.policies]
        with Vertical(classes="dialog journeys"):
            yield Label("Journeys: the same customers under two policies", classes="dialog-title")
            with Horizontal(classes="journey-pickers"):
                yield Select([(i, i) for i in self.scenario.intents], value=next(iter(self.scenario.intents)),
                             allow_blank=False, id="intent", prompt="intent")
                yield Select(labels, value=self.first, allow_blank=False, id="first")
                yield Select(labels, value=self.second, allow_blank=False, id="second")
            with Horizontal():
                with VerticalScroll(classes="journey-column"):
                    yield Static("following …", id="journey-first")
                with VerticalScroll(classes="journey-column"):
                    yield Static("", id="journey-second")
            yield Static("F: frustration (0 calm – 1 furious); between the start and the end it is retold with the "
                         "model's own steps. esc closes", classes="hint")

    def on_mount(self) -> None:
        self.follow()

    def on_select_changed(self) -> None:
        self.follow()

    def follow(self) -> None:
        intent = self.query_one("#intent", Select).value
        first, second = self.query_one("#first", Select).value, self.query_one("#second", Select).value
        self.query_one("#journey-first", Static).update("following …")
        self.query_one("#journey-second", Static).update("")
        chosen = [self.policies[str(first)], self.policies[str(second)]]

        def work() -> None:
            try:
                customers = api.journeys(self.scenario, chosen, str(intent), JOURNEY_CUSTOMERS, self.seed)
            except Exception as exc:  # shown, never a crash
                self.app.call_from_thread(self.failed, exc)
                return
            self.app.call_from_thread(self.show, customers, str(first), str(second))

        self.run_worker(work, thread=True, exclusive=True, group="journeys")

    def show(self, customers: list[api.Customer], first: str, second: str) -> None:
        if not self.is_attached:
            return
        self.customers = customers
        for k, (widget, label) in enumerate((("#journey-first", first), ("#journey-second", second))):
            body = Text(f"{label}\n\n", style="bold underline")
            for customer in customers:
                if len(customer.journeys) > k:
                    body.append_text(journey_text(customer, k))
            if not customers:
                body.append("no customer with this intent in the first replication", style="dim")
            self.query_one(widget, Static).update(body)

    def failed(self, error: BaseException) -> None:
        if self.is_attached:
            self.query_one("#journey-first", Static).update(Text(f"Following failed: {error}", style="red"))


OPTIMISE_TRIALS, OPTIMISE_REPLICATIONS = 20, 4  # the g key's search: a quick look; the CLI takes --trials, -n


class OptimiseScreen(BackgroundScreen):
    """The cheapest policy like the highlighted one that passes a checks file (the CLI's `optimise`): trials as
    they finish, then the Pareto front of cost, abandonment and CSAT, the confirmations and the winner; s saves
    the winner as a policy YAML."""

    BINDINGS = [*BackgroundScreen.BINDINGS, Binding("s", "save", "Save the winner")]

    def __init__(self, label: str, checks: str, stop: threading.Event):
        super().__init__(label, stop)
        self.checks = checks
        self.result: api.Search | None = None
        self.tried = 0
        self.summary = ""  # the outcome in words, as shown

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Label(f"The cheapest policy like {self.label} that passes {self.checks}", classes="dialog-title")
            yield Static(f"searching: {OPTIMISE_TRIALS} candidates of {OPTIMISE_REPLICATIONS} replications, then "
                         "the best confirmed on every check …  esc stops", id="search")
            yield Button("Close", variant="primary", id="close")

    def trial(self, candidate: api.Candidate) -> None:
        self.tried += 1
        state = "passes" if candidate.feasible else f"breaks {', '.join(candidate.failed)}"
        self.query_one("#search", Static).update(
            f"candidate {self.tried}/{OPTIMISE_TRIALS}: net cost {format_value('net_cost', candidate.net_cost)}, "
            f"{state} …  esc stops")

    def show(self, result: api.Search) -> None:
        self.result = result
        table = Table(box=None, header_style="bold", padding=(0, 2, 0, 0), title="Pareto front: none beaten on "
                      "all of cost, abandonment and CSAT", title_justify="left")
        for name in ("#", "net cost", "abandonment", "CSAT", "settings"):
            table.add_column(name, justify="left" if name == "settings" else "right")
        for c in result.front():
            table.add_row(str(c.number), format_value("net_cost", c.net_cost),
                          format_value("abandonment_rate", c.abandonment), format_value("csat", c.csat),
                          c.settings(),
                          style="bold green" if c is result.winner else None)
        lines = []
        for c, verdicts in result.confirmed:
            bad = list(dict.fromkeys(v.check for v in verdicts if v.verdict != "pass"))  # once, whatever the variant
            lines.append(f"confirmed #{c.number}: " + ("passes every check" if not bad
                                                        else "does not pass " + "; ".join(bad)))
        winner = (f"The cheapest that passes: #{result.winner.number}, net cost "
                  f"{format_value('net_cost', result.winner.net_cost)} (bold). s saves it as a policy YAML."
                  if result.winner else "No candidate passed every check.")
        self.summary = winner
        self.query_one("#search", Static).update(Group(table, Text("\n".join(lines), style="dim"),
                                                       Text(winner, style="bold")))

    def failed(self, error: BaseException) -> None:
        self.query_one("#search", Static).update(Text(f"The search failed: {error}", style="red"))

    def action_save(self) -> None:
        if self.result is None or self.result.winner is None:
            self.notify("No winner to save yet.", severity="warning")
            return
        path = Path("optimised-policy.yaml")
        try:
            api.write_atomic(path, api.policy_yaml(self.result.winner.policy, f"the workbench's search "
                                                   f"({self.checks})"))
        except api.OutputError as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(f"Saved {path}")
