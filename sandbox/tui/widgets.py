"""Provides the workbench's widgets: knob rows, the KPI table, the per-intent table and the charts."""

from __future__ import annotations

import math

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Static
from textual_plotext import PlotextPlot

from sandbox.experiments import Comparison
from sandbox.metrics.kpis import HEADLINE, KPIS, format_half_width, format_value
from sandbox.tui.workbench import Knob

INTENT_COLUMNS = (
    ("offered", "offered", "count"), ("bot_handled", "to bot", "count"),
    ("bot_resolution_rate", "bot resolved", "share"),
    ("false_containment_rate", "wrong answer", "share"), ("escalation_rate", "escalated", "share"),
    ("dead_ended", "dead ends", "count"), ("abandoned_bot", "quit bot", "count"),
    ("abandoned_queue", "quit queue", "count"), ("left_frustrated", "left frustrated", "share"),
    ("csat", "CSAT", "share"),
)


class Choice(Static, can_focus=True):
    """A compact cycling choice: Enter, space, ←/→ or a click moves to the next option."""

    BINDINGS = [Binding("enter,space,right", "step(1)", "next", show=False),
                Binding("left", "step(-1)", "previous", show=False)]

    class Changed(Message):
        def __init__(self, choice: Choice, value: str):
            super().__init__()
            self.choice, self.value = choice, value

    def __init__(self, options: tuple[str, ...], value: str, **kwargs: object):
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.options = options
        self.value = value if value in options else options[0]

    def render(self) -> Text:
        return Text(f"‹ {self.value} ›")

    def set_value(self, value: str) -> None:
        self.value = value if value in self.options else self.options[0]
        self.refresh()

    def action_step(self, delta: int) -> None:
        self.value = self.options[(self.options.index(self.value) + delta) % len(self.options)]
        self.refresh()
        self.post_message(self.Changed(self, self.value))

    def on_click(self) -> None:
        self.action_step(1)


class KnobRow(Horizontal):
    """A label and its input (text for numbers, a Choice for options)."""

    def __init__(self, knob: Knob, value: str):
        super().__init__(classes="knob", id=f"knob-{knob.name.replace('.', '-')}")
        self.knob, self.initial = knob, value

    def compose(self) -> ComposeResult:
        yield Label(self.knob.label, classes="knob-label")
        if self.knob.kind == "choice":
            yield Choice(self.knob.choices, self.initial, classes="knob-input")
        else:
            yield Input(self.initial, classes="knob-input", select_on_focus=True)

    def show(self, value: str) -> None:
        """Display a value without reporting it as an edit."""
        widget = self.query_one(".knob-input")
        if isinstance(widget, Choice):
            widget.set_value(value)
        elif isinstance(widget, Input) and widget.value != value:
            with widget.prevent(Input.Changed):
                widget.value = value
        self.set_class(False, "-invalid")
        self.tooltip = self.knob.help


def fill(table: DataTable, headers: list[str], rows: list[list[Text]], height: int = 1) -> None:
    """Replace a table's content, sizing each column to its widest line now (DataTable would otherwise measure
    new rows only when it next falls idle, so a redrawn table could show with its headers' widths)."""
    table.clear(columns=True)
    for i, header in enumerate(headers):
        lines = [line for row in rows for line in row[i].plain.split("\n")]
        table.add_column(header, width=max([cell_len(header), *map(cell_len, lines)]))
    for row in rows:
        table.add_row(*row, height=height)


class KpiTable(DataTable):
    """Policies side by side: mean ±CI, the change against the baseline; the best value is bold and underlined."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show(self, comparison: Comparison | None, kpis: tuple[str, ...] = HEADLINE) -> None:
        if comparison is None:
            self.clear(columns=True)
            return
        headers = ["KPI"]
        for p, label in enumerate(comparison.labels):
            # Long names would make every column wide; the policy list shows them in full.
            short = label if len(label) <= 16 else label[:15] + "…"
            headers.append(short + (" (base)" if p == comparison.baseline else ""))
        fill(self, headers, [[Text(KPIS[kpi].label), *self._cells(comparison, kpi)] for kpi in kpis], height=2)

    @staticmethod
    def _cells(comparison: Comparison, kpi: str) -> list[Text]:
        means = [comparison.estimate(p, kpi).mean for p in range(len(comparison.labels))]
        better = KPIS[kpi].better
        finite = [m for m in means if not math.isnan(m)]
        best = (min(finite) if better == "lower" else max(finite)) if better and len(set(finite)) > 1 else None
        cells = []
        for p, mean in enumerate(means):
            est = comparison.estimate(p, kpi)
            cell = Text()
            cell.append(format_value(kpi, mean), style="bold underline" if mean == best else "")
            if est.half_width and not math.isnan(est.half_width):
                cell.append(f" {format_half_width(kpi, est.half_width)}", style="dim")
            cell.append("\n")
            if p != comparison.baseline:
                diff = comparison.difference(p, kpi)
                if not math.isnan(diff.mean) and not (diff.mean == 0 and not diff.half_width):
                    text = format_value(kpi, diff.mean, signed=True)
                    if diff.significant:
                        good = better is not None and (diff.mean < 0) == (better == "lower")
                        colour = "green" if good else "red" if better else "yellow"
                        cell.append(f"{'▲' if diff.mean > 0 else '▼'} {text}", style=colour)
                    else:
                        cell.append(f"{text} (n.s.)", style="dim")
            cells.append(cell)
        return cells


class IntentTable(DataTable):
    """Per intent for one policy: where the bot resolves, fails, gives wrong answers, who leaves frustrated."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show(self, comparison: Comparison | None, label: str) -> None:
        if comparison is None or label not in comparison.labels:
            self.clear(columns=True)
            return
        p = comparison.labels.index(label)
        rows = []
        for intent in comparison.intents:
            row = [Text(intent)]
            for key, _, unit in INTENT_COLUMNS:
                value = comparison.intent_mean(p, intent, key)
                if math.isnan(value):
                    row.append(Text("–", style="dim"))
                elif unit == "share":
                    style = "red" if key == "left_frustrated" and value >= 0.25 else ""
                    row.append(Text(f"{100 * value:.0f}%", style=style))
                else:
                    row.append(Text(f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"))
            rows.append(row)
        fill(self, ["intent", *(title for _, title, _ in INTENT_COLUMNS)], rows)


# One colour per policy, the same in every chart and in the legend (plotext name, Rich name).
PALETTE = (("cyan+", "bright_cyan"), ("red+", "bright_red"), ("green+", "bright_green"), ("orange+", "dark_orange"),
           ("magenta+", "bright_magenta"), ("blue+", "bright_blue"), ("yellow+", "yellow"), ("gray+", "grey70"))


def legend(labels: list[str]) -> Text:
    """'● no-bot  ● warm-handoff …' in the charts' colours."""
    text = Text()
    for i, label in enumerate(labels):
        text.append("● ", style=PALETTE[i % len(PALETTE)][1])
        text.append(label + "  ")
    return text


class Chart(PlotextPlot):
    """A plotext chart that redraws from plain series; series are coloured by their position (PALETTE)."""

    def _reset(self, title: str, xlabel: str, ylabel: str) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        plt.xlabel(xlabel)
        if ylabel:
            plt.ylabel(ylabel)

    def draw_lines(self, title: str, x: list[float], series: dict[str, list[float]], xlabel: str = "hour",
                   ylabel: str = "") -> None:
        self._reset(title, xlabel, ylabel)
        for i, values in enumerate(series.values()):
            points = [(a, b) for a, b in zip(x, values, strict=False) if not math.isnan(b)]
            if points:
                self.plt.plot([a for a, _ in points], [b for _, b in points], marker="braille",
                              color=PALETTE[i % len(PALETTE)][0])
        self.refresh()

    def draw_points(self, title: str, points: dict[str, tuple[float, float]], xlabel: str, ylabel: str) -> None:
        self._reset(title, xlabel, ylabel)
        for i, (x, y) in enumerate(points.values()):
            if not (math.isnan(x) or math.isnan(y)):
                self.plt.scatter([x], [y], marker="●", color=PALETTE[i % len(PALETTE)][0])
        self.refresh()
