"""Provides the modal screens: help, problems, save a policy, export a comparison."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Markdown, RadioButton, RadioSet, Static

from sandbox.errors import Problem

HELP = """\
# support-sandbox

Compare support policies on the same simulated customers. Numbers are means over replications with a 95%
confidence interval; the second line of each cell is the paired change against the **baseline**:
**▲/▼** marks a significant change (green = better, red = worse), *(n.s.)* one that is not significant.

| key | does |
|---|---|
| `r` | run the comparison now (also `ctrl+r`, or Enter in a knob) |
| `esc` | cancel the run (finished replications stay) |
| `a` | re-run automatically after each valid edit |
| `space` | include or leave out the highlighted policy |
| `b` | make the highlighted policy the baseline |
| `1`–`5` | views: Compare, Over the day, Intents, Why, Sweep |
| `w` | run the automation sweep for the highlighted policy |
| `s` | save the highlighted policy with its edits as YAML (`ctrl+s` even while typing) |
| `x` | export the comparison (CSV, JSON, Markdown) |
| `p` | show problems found in your files |
| `t` | switch dark/light theme |
| `f` | hide or show the side panel: full width for the views |
| `?` | this help · `q` quit |

**Knobs** edit the highlighted policy (bot share … CRM data) or the scenario for every policy (bot quality,
volume, agents). An invalid value turns red with its reason below and never starts a run.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide"):
            yield Markdown(HELP)
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
