"""Provides the CLI's output: the comparison table, CSV and JSON, problems on stderr, a delayed progress bar."""

from __future__ import annotations

import io
import math
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from sandbox import api
from sandbox.errors import Problem, printable
from sandbox.presentation import TONE_STYLE, format_difference, format_half_width, format_value

PROGRESS_DELAY = 1.0  # seconds: quicker runs never flash a progress bar


def print_problems(console: Console, problems: list[Problem]) -> None:
    """Every problem on its own line (the first MAX_PROBLEMS_SHOWN of a file full of them), then a count.

    Identical problems are shown once: a mistyped ``--set`` is applied to every policy but is one mistake.
    """
    problems = list(dict.fromkeys(problems))
    for problem in problems[:api.limits.MAX_PROBLEMS_SHOWN]:
        where = Text(problem.location(), style="bold")
        line = Text.assemble(where, ": ", (printable(problem.key) + ": " if problem.key else "", "cyan"),
                             printable(problem.message))
        if problem.hint:
            line.append(f" ({printable(problem.hint)})", style="green")
        console.print(line, highlight=False, soft_wrap=True)
    if len(problems) > api.limits.MAX_PROBLEMS_SHOWN:
        console.print(f"… and {len(problems) - api.limits.MAX_PROBLEMS_SHOWN} more", highlight=False)
    files = {p.file for p in problems}
    noun = "problem" if len(problems) == 1 else "problems"
    console.print(f"[red]{len(problems)} {noun}[/red] in {len(files)} "
                  f"{'input' if len(files) == 1 else 'inputs'}; nothing was run.", highlight=False)


def comparison_table(comparison: api.Comparison, kpis: tuple[str, ...] = api.HEADLINE) -> Table:
    reps = comparison.complete_replications()
    base = printable(comparison.labels[comparison.baseline])
    single = len(comparison.labels) == 1
    interval = "mean ±95% CI" if reps >= 2 else "mean (one replication: no intervals)"
    caption = interval if single else (f"{interval}; below: change vs {base} (shares in points)"
                                       + (", ▲▼ significant, ns not significant" if reps >= 2 else ""))
    table = Table(title=f"{printable(comparison.scenario)} · {reps} replication{'s' if reps != 1 else ''} · "
                        f"seed {comparison.seed}",
                  caption=caption,
                  header_style="bold", show_lines=False, padding=(0, 1))
    table.add_column("KPI", no_wrap=True)
    for p, label in enumerate(comparison.labels):
        header = printable(label) + (" (base)" if p == comparison.baseline and not single else "")
        table.add_column(header, justify="right", overflow="fold")
    for kpi in kpis:
        row: list[Text | str] = [api.KPIS[kpi].label]
        for p in range(len(comparison.labels)):
            est = comparison.estimate(p, kpi)
            cell = Text(format_value(kpi, est.mean))
            hw = format_half_width(kpi, est.half_width)
            if hw:
                cell.append(f" {hw}", style="dim")
            if p != comparison.baseline and not math.isnan(est.mean):
                cell.append("\n")
                cell.append_text(delta_text(comparison, p, kpi))
            row.append(cell)
        table.add_row(*row)
    return table


def delta_text(comparison: api.Comparison, policy: int, kpi: str) -> Text:
    """'▲ +8.8' coloured by whether the change is good, or dim '+0.3 ns'."""
    text, tone = format_difference(kpi, comparison.difference(policy, kpi))
    return Text(text, style=TONE_STYLE[tone])


def table_text(table: Table) -> str:
    """The table as plain text, for --output."""
    console = Console(width=1000, record=True, file=io.StringIO(), color_system=None)
    console.print(table)
    return console.export_text()


class ProgressReporter:
    """Shows a progress bar on stderr, but only once a run has taken longer than PROGRESS_DELAY."""

    def __init__(self, console: Console):
        self.console = console
        self.total = 0
        self.description = ""
        self.started = time.perf_counter()
        self.done = 0
        self.fraction = 0.0
        self.progress: Progress | None = None
        self.task: Any = None

    def on_result(self, comparison: api.Comparison) -> None:
        self.total = comparison.replications * len(comparison.labels)
        self.description = comparison.scenario
        self.done = sum(r is not None for runs in comparison.results for r in runs)
        self.fraction = 0.0
        self._show()

    def on_progress(self, fraction: float) -> None:  # within a run (Observer protocol)
        self.fraction = fraction
        self._show()

    def _show(self) -> None:
        if self.progress is None:
            if (time.perf_counter() - self.started < PROGRESS_DELAY or not self.console.is_terminal
                    or not self.total):
                return
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("replications"), TimeElapsedColumn(), console=self.console,
                                     transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=self.total)
        self.progress.update(self.task, completed=self.done + self.fraction)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
