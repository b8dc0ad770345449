"""Provides the workbench's widgets: knob rows, the KPI table, the per-intent table and the charts."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static
from textual_plotext import PlotextPlot

from sandbox import api
from sandbox.errors import Problem
from sandbox.presentation import TONE_STYLE, format_difference, format_half_width, format_value
from sandbox.tui.workbench import Knob

# What a strategist reads first comes first, so it is on screen without scrolling even at 80x24; then the rest
# of the headline KPIs in their usual order.
FIRST = ("abandonment_rate", "csat", "survey_csat", "net_cost", "cost_per_resolved", "frustration_mean")
TABLE_KPIS = (*FIRST, *(k for k in api.HEADLINE if k not in FIRST))

INTENT_COLUMNS = (
    ("offered", "offered", "count"), ("bot_handled", "to bot", "count"),
    ("bot_resolution_rate", "bot resolved", "share"),
    ("false_containment_rate", "wrong answer", "share"), ("escalation_rate", "escalated", "share"),
    ("premature_escalations", "too early", "count"), ("missed_escalations", "too late", "count"),
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
        self.touched = False  # typed into since last shown: Enter then applies the text before running
        self.tooltip = knob.help

    def compose(self) -> ComposeResult:
        yield Label(self.knob.label, classes="knob-label")
        if self.knob.kind == "choice":
            yield Choice(self.knob.choices, self.initial, classes="knob-input")
        else:
            yield Input(self.initial, classes="knob-input", select_on_focus=True)

    @property
    def control(self) -> Widget:
        return self.query_one(".knob-input")

    def show(self, value: str, problem: Problem | None = None) -> None:
        """Display a value (and whether it is invalid) without reporting it as an edit."""
        widget = self.control
        if isinstance(widget, Choice):
            widget.set_value(value)
        elif isinstance(widget, Input) and widget.value != value:
            with widget.prevent(Input.Changed):
                widget.value = value
        self.touched = False
        self.mark(problem)

    def mark(self, problem: Problem | None) -> None:
        self.set_class(problem is not None, "-invalid")
        self.tooltip = f"{problem.key}: {problem.message}" if problem else self.knob.help


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
    """Policies side by side: mean ±CI, the change against the baseline; the best value is bold and underlined.

    The baseline is the first column and, with the KPI names, stays in view when the table scrolls sideways.
    """

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.fixed_columns = 2

    def show(self, comparison: api.Comparison | None, kpis: tuple[str, ...] = TABLE_KPIS) -> None:
        if comparison is None:
            self.clear(columns=True)
            return
        order = [comparison.baseline, *(p for p in range(len(comparison.labels)) if p != comparison.baseline)]
        headers = ["KPI"]
        for p in order:
            label = comparison.labels[p]
            # Long names would make every column wide; the policy list shows them in full.
            short = label if len(label) <= 16 else label[:15] + "…"
            headers.append(short + (" (base)" if p == comparison.baseline else ""))
        rows = []
        for kpi in kpis:
            cells = self._cells(comparison, kpi)
            rows.append([Text(api.KPIS[kpi].label), *(cells[p] for p in order)])
        fill(self, headers, rows, height=2)

    @staticmethod
    def _cells(comparison: api.Comparison, kpi: str) -> list[Text]:
        means = [comparison.estimate(p, kpi).mean for p in range(len(comparison.labels))]
        better = api.KPIS[kpi].better
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
                text, tone = format_difference(kpi, comparison.difference(p, kpi))
                cell.append(text, style=TONE_STYLE[tone])
            cells.append(cell)
        return cells


class IntentTable(DataTable):
    """Per intent for one policy: where the bot resolves, fails, gives wrong answers, who leaves frustrated."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True

    def show(self, comparison: api.Comparison | None, p: int | None) -> None:
        """The intents of the comparison's policy ``p`` (None: not in the comparison)."""
        if comparison is None or p is None or not comparison.finished(p):
            self.clear(columns=True)
            return
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


WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
Series = dict[str, list[float]]
Bands = dict[str, tuple[list[float], list[float]]]


def clock_ticks(hours: float, width: int, first_weekday: int = 0) -> tuple[list[float], list[str]]:
    """Ticks for an axis of hours since the first midnight: '08:00' within a day; over several days each
    midnight is named by its weekday ('Tue'), and ticks are as dense as the width allows."""
    room = max(2, width // 8)  # a label and a gap
    step = next((s for s in (1, 2, 3, 4, 6, 12, 24, 48, 72, 168, 336, 720) if hours / s <= room), 1440)
    ticks = [float(t) for t in range(0, int(hours) + 1, step)]
    labels = []
    for t in ticks:
        day, hour = divmod(int(t), 24)
        if hours <= 24:
            labels.append(f"{int(t):02d}:00")  # the end of a single day is 24:00, not the next 00:00
        elif hour == 0:
            labels.append(WEEKDAY_NAMES[(first_weekday + day) % 7])
        else:
            labels.append(f"{hour:02d}:00")
    return ticks, labels


def _fit(title: str, width: int) -> str:
    """plotext leaves out a title wider than the chart; cut it instead."""
    return title if len(title) <= width else title[: max(0, width - 1)] + "…"


def place_labels(points: list[tuple[float, float, str]], x_per_cell: float, y_per_row: float
                 ) -> list[tuple[float, float]]:
    """Where each point's name goes: one cell right of its point, moved a row down (or up) while it would
    overwrite a name already placed, so names of nearby points stay readable."""
    placed: list[tuple[float, float, float]] = []  # x from, x to, row
    out = []
    for x, y, label in points:
        start = x + 2 * x_per_cell
        end = start + len(label) * x_per_cell
        row = round(y / y_per_row) if y_per_row else 0
        for shift in (0, -1, 1, -2, 2, -3, 3):
            r = row + shift
            if not any(r == pr and start < pe and end > ps for ps, pe, pr in placed):
                row = r
                break
        placed.append((start, end, row))
        out.append((start, row * y_per_row))
    return out


class Chart(PlotextPlot):
    """A plotext chart drawn from plain series at its current size; series are coloured by position (PALETTE).

    What to draw is kept, and the figure is built in ``render``, because tick density, titles and where names
    go depend on the size the chart has when it is drawn.
    """

    def __init__(self, **kwargs: object):
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._draw: Callable[[int, int], None] | None = None

    def render(self) -> RenderResult:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if self._draw is not None:
            self._draw(self.size.width, self.size.height)
        return super().render()

    def clear(self) -> None:
        self._draw = None
        self.refresh()

    def draw_lines(self, title: str, x: list[float], series: Series, xlabel: str = "", ylabel: str = "",
                   clock: tuple[float, int] | None = None, bands: Bands | None = None,
                   marker: tuple[float, str] | None = None) -> None:
        """Lines by series; ``bands`` adds each series' low and high as dotted lines of its colour, ``marker``
        a vertical line at x with a note, ``clock`` (hours, first weekday) a time-of-day x axis."""

        def draw(width: int, height: int) -> None:
            plt = self.plt
            plt.title(_fit(title, width))
            plt.xlabel(xlabel)
            plt.ylabel(ylabel)
            for i, (name, values) in enumerate(series.items()):
                colour = PALETTE[i % len(PALETTE)][0]
                for low_high in (bands or {}).get(name, ()):
                    band = [(a, b) for a, b in zip(x, low_high, strict=False) if not math.isnan(b)]
                    if band:
                        plt.plot([a for a, _ in band], [b for _, b in band], marker="·", color=colour)
                points = [(a, b) for a, b in zip(x, values, strict=False) if not math.isnan(b)]
                if points:
                    plt.plot([a for a, _ in points], [b for _, b in points], marker="braille", color=colour)
            if clock is not None:
                plt.xlim(0, clock[0])  # every per-interval chart spans the same clock, whatever its data
                plt.xticks(*clock_ticks(clock[0], width - 8, clock[1]))
            if marker is not None:
                plt.vline(marker[0], "yellow+")
                # Centred unless that would push the note off the plot at either end.
                low, high = (min(x), max(x)) if x else (0.0, 1.0)
                where = (marker[0] - low) / ((high - low) or 1)
                align: Literal["left", "center", "right"] = "left" if where < 0.2 else "right" if where > 0.8 \
                    else "center"
                plt.text(marker[1], marker[0], _top(series, bands), color="yellow+", alignment=align)

        self._draw = draw
        self.refresh()

    def draw_points(self, title: str, points: dict[str, tuple[float, float]], xlabel: str, ylabel: str) -> None:
        """One point per series with its name written beside it."""
        shown = [(x, y, label, i) for i, (label, (x, y)) in enumerate(points.items())
                 if not (math.isnan(x) or math.isnan(y))]

        def draw(width: int, height: int) -> None:
            plt = self.plt
            plt.title(_fit(title, width))
            plt.xlabel(xlabel)
            plt.ylabel(ylabel)
            if not shown:
                return
            xs = [p[0] for p in shown]
            ys = [p[1] for p in shown]
            span_x = (max(xs) - min(xs)) or max(abs(xs[0]), 1.0)
            span_y = (max(ys) - min(ys)) or max(abs(ys[0]), 1.0)
            longest = max(len(p[2]) for p in shown)
            cells = max(10, width - 8)  # the plot area, less the y ticks
            # Room on the right for the longest name, and above and below so no point sits on the frame.
            right = span_x * (1.05 + longest / max(1, cells - longest)) if cells > longest + 4 else span_x * 0.5
            left, top, bottom = min(xs) - 0.05 * span_x, max(ys) + 0.12 * span_y, min(ys) - 0.12 * span_y
            plt.xlim(left, min(xs) + right)
            plt.ylim(bottom, top)
            rows = max(3, height - 5)
            spots = place_labels([(x, y, label) for x, y, label, _ in shown], (min(xs) + right - left) / cells,
                                 (top - bottom) / rows)
            for (x, y, label, i), (lx, ly) in zip(shown, spots, strict=True):
                colour = PALETTE[i % len(PALETTE)][0]
                plt.scatter([x], [y], marker="●", color=colour)
                plt.text(label, lx, ly, color=colour, alignment="left")

        self._draw = draw
        self.refresh()


def _top(series: Series, bands: Bands | None) -> float:
    values = [v for vs in series.values() for v in vs]
    values += [v for pair in (bands or {}).values() for vs in pair for v in vs]
    finite = [v for v in values if not math.isnan(v)]
    return max(finite) if finite else 0.0
