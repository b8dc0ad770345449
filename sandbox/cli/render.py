"""Provides the CLI's output: the comparison table, CSV and JSON, problems on stderr, a delayed progress bar."""

from __future__ import annotations

import io
import math
import re
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sandbox import api
from sandbox.errors import Problem, printable
from sandbox.presentation import TONE_STYLE, format_difference, format_half_width, format_value, tornado_bar

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
    if comparison.equal_service and "agent_hours" not in kpis:  # what differs when the service is the same
        at = kpis.index("total_cost") if "total_cost" in kpis else len(kpis)
        kpis = (*kpis[:at], "agent_hours", *kpis[at:])
    same = f" · at equal service ({', '.join(comparison.equal_service)})" if comparison.equal_service else ""
    table = Table(title=f"{printable(comparison.scenario)} · {reps} replication{'s' if reps != 1 else ''} · "
                        f"seed {comparison.seed}{printable(same)}",
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


PERIOD_KPIS = ("bot_resolution_rate", "csat", "queue_abandonment_rate", "stale_intents", "automation_factor")
_PERIOD_LABELS = {"stale_intents": "stale intents", "automation_factor": "bot share × (rollout)"}


def period_table(comparison: api.Comparison) -> Table | None:
    """The headline drift per week (14 days or more) or per day (2–13): each KPI's mean over the replications per
    period and policy, with the scenario's events of that period; None for a one-day run."""
    days = len(comparison.daily(comparison.baseline))
    if days < 2:
        return None
    period = 7 if days >= 14 else 1
    what = "week" if period == 7 else "day"
    table = Table(title=f"Per {what} (mean over replications)", header_style="bold", padding=(0, 1))
    table.add_column(what, justify="right")
    for label in comparison.labels:
        table.add_column(printable(label), justify="right", overflow="fold")
    table.add_column("events", overflow="fold")
    rows = [comparison.daily(p, period) for p in range(len(comparison.labels))]
    events = comparison.events_by_day()
    for kpi in PERIOD_KPIS:
        label = api.KPIS[kpi].label if kpi in api.KPIS else _PERIOD_LABELS[kpi]
        table.add_section()
        table.add_row(Text(label, style="bold"), *[""] * (len(comparison.labels) + 1))
        for k, first in enumerate(rows[0]):
            cells = [format_value(kpi, row[k][kpi]["mean"]) if kpi in api.KPIS else f"{row[k][kpi]['mean']:.2f}"
                     for row in rows]
            seen = "; ".join(f"{what_} (day {d})" for d in first["days"] for what_ in events.get(d, []))
            table.add_row(str(first[what]), *cells, Text(printable(seen), style="dim"))
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
                                     TextColumn("replications"), TimeElapsedColumn(), TextColumn("left"),
                                     TimeRemainingColumn(), console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=self.total)
        self.progress.update(self.task, completed=self.done + self.fraction)

    def step(self, what: str) -> None:
        """A search's simulation finished (the staffing search): how many, and what the last one tried."""
        self.done += 1
        if self.progress is None:
            if time.perf_counter() - self.started < PROGRESS_DELAY or not self.console.is_terminal:
                return
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                     console=self.console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task("", total=None)
        self.progress.update(self.task, description=f"simulation {self.done}: {printable(what)}")

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def erlang_table(calc: api.Calculation) -> Table:
    """The calculator's table around the answer, the answer's row in bold."""
    patience = calc.patience_minutes is not None
    model = f"Erlang A, patience {calc.patience_minutes:g} min" if patience else "Erlang C"
    table = Table(title=f"{calc.rate_per_hour:g}/h × AHT {calc.aht_minutes * 60:g} s = {calc.load:.2f} Erlangs · "
                        f"target {100 * calc.target:g}% in {calc.threshold_seconds:g} s · {model}",
                  caption=f"{calc.required} agents taking contacts"
                  + (f"; {calc.scheduled} to schedule at {100 * calc.shrinkage:g}% shrinkage" if calc.shrinkage
                     else "") + (f"; occupancy at most {100 * calc.max_occupancy:g}%" if calc.max_occupancy < 1
                                 else "") + ". Service level: answered within T / all arrivals.",
                  header_style="bold", padding=(0, 1))
    for name in ("agents", "P(wait)", "service level", "ASA", "occupancy", *(["P(abandon)"] if patience else []),
                 "meets"):
        table.add_column(name, justify="right")
    for row in calc.rows:
        cells = [str(row.agents), f"{100 * row.p_wait:.1f}%", f"{100 * row.service_level:.1f}%",
                 "∞" if math.isinf(row.asa_seconds) else f"{row.asa_seconds:.1f} s", f"{100 * row.occupancy:.1f}%",
                 *([f"{100 * row.p_abandon:.1f}%"] if patience else []), "yes" if row.meets else "no"]
        table.add_row(*cells, style="bold" if row.agents == calc.required else None)
    return table


def staffing_table(plan: api.StaffingPlan) -> Table:
    """Per open interval: each group's required agents (scheduled now), the gap, and each target's value."""
    table = Table(title=f"{printable(plan.scenario)} · {printable(plan.policy)} · targets "
                        + ", ".join(printable(t.text or t.label) for t in plan.targets),
                  caption=f"agents taking contacts per interval (now scheduled); gap = scheduled − required; * one "
                          f"fewer misses a target · {plan.replications} replications × {plan.days} "
                          f"day{'s' if plan.days != 1 else ''}, seed {plan.seed}, {plan.simulations} simulations",
                  header_style="bold", padding=(0, 1))
    table.add_column("interval")
    for group in plan.groups:
        table.add_column(printable(group), justify="right")
    table.add_column("gap", justify="right")
    for target in plan.targets:
        text = printable(target.text or target.label)
        table.add_column(re.sub(r"\s*([<>]=)", r"\n\1", text, count=1), justify="right")
    for k in plan.open_bins:
        cells: list[Text | str] = [plan.clock(k)]
        for g in plan.groups:
            mark = "*" if plan.binding[g][k] else " "
            cells.append(f"{plan.required[g][k]}{mark} ({plan.scheduled[g][k]})")
        gap = sum(plan.scheduled[g][k] - plan.required[g][k] for g in plan.groups)
        cells.append(Text(f"{gap:+d}", style="red" if gap < 0 else "green" if gap > 0 else ""))
        for check, target in zip(plan.checks[k], plan.targets, strict=False):
            shown = f"{check.value:.0f} s" if target.kpi.startswith("asa") else f"{100 * check.value:.1f}%"
            shown = "–" if check.value != check.value else shown
            cells.append(Text(shown, style="" if check.met else "red"))
        table.add_row(*cells)
    return table


def staffing_chart(plan: api.StaffingPlan, width: int = 100) -> str:
    """Required against scheduled agents per interval, in the terminal (plotext)."""
    import plotext as plt  # only for this chart: kept off the start-up path

    x = list(range(len(plan.open_bins)))
    required = [sum(plan.required[g][k] for g in plan.groups) for k in plan.open_bins]
    scheduled = [sum(plan.scheduled[g][k] for g in plan.groups) for k in plan.open_bins]
    plt.clear_figure()
    plt.plot_size(max(40, min(width, 120)), 15)
    plt.theme("clear")
    plt.plot(x, scheduled, label="scheduled now", marker="dot")
    plt.plot(x, required, label="required", marker="hd")
    step = max(1, len(x) // 8)
    plt.xticks(x[::step], [plan.clock(k) for k in plan.open_bins][::step])
    plt.title("Agents taking contacts per interval")
    return str(plt.build())


def backtest_chart(result: api.Backtest, width: int = 100) -> str:
    """Observed against simulated abandonment per test day (plotext; the intervals are in the table)."""
    import plotext as plt  # only for this chart: kept off the start-up path

    x = list(range(len(result.days)))
    observed = [100 * d.observed["abandonment_rate"] for d in result.days]
    simulated = [100 * d.simulated["abandonment_rate"][0] for d in result.days]
    plt.clear_figure()
    plt.plot_size(max(40, min(width, 120)), 15)
    plt.theme("clear")
    plt.plot(x, observed, label="observed", marker="hd")
    plt.plot(x, simulated, label="simulated", marker="dot")
    plt.xticks(x, [f"{d.day:%a %d}" for d in result.days])
    plt.title("Abandonment per test day, %")
    return str(plt.build())


def sweep_table(sweep: api.Sweep, kpis: tuple[str, ...]) -> Table:
    """One row per point of the grid, the chosen KPIs as columns (mean ±95% CI)."""
    c = sweep.comparison
    reps = c.complete_replications()
    same = f" · at equal service ({', '.join(c.equal_service)})" if c.equal_service else ""
    table = Table(title=f"{printable(c.scenario)} · {printable(c.names[0])} · {reps} replications a point · "
                        f"seed {c.seed}{printable(same)}", caption="mean ±95% CI; every point on the same seeds",
                  header_style="bold", padding=(0, 1))
    for vary in sweep.grid.varies:
        table.add_column(printable(vary.name), justify="right")
    for kpi in kpis:
        table.add_column(api.KPIS[kpi].label, justify="right")
    for p, point in enumerate(sweep.grid.points):
        cells: list[Text | str] = [printable(str(point[v.key])) for v in sweep.grid.varies]
        for kpi in kpis:
            est = c.estimate(p, kpi)
            cells.append(f"{format_value(kpi, est.mean)} {format_half_width(kpi, est.half_width)}".strip())
        table.add_row(*cells)
    return table


def shifts_table(plan: api.ShiftPlan) -> Table:
    """The roster: every shift worked, by group, with its agents and paid hours."""
    rules = plan.rules
    table = Table(title=f"Shifts for {printable(plan.staffing.policy)} · lengths "
                        + ", ".join(f"{x / 60:g}h" for x in rules.lengths) + f" · starts every {rules.grid:g} min"
                        + (f" · {rules.break_minutes:g}-min {'paid' if rules.paid_break else 'unpaid'} break from "
                           f"{rules.break_after / 60:g}h" if rules.break_minutes else ""),
                  caption=f"{plan.paid_hours:g} paid hours a day, {format_value('total_cost', plan.cost)}; agents "
                          "on duty beyond the need, summed over the intervals: " + ", ".join(
                              f"{printable(r.group)} {sum(r.over)}" for r in plan.rosters),
                  header_style="bold", padding=(0, 1))
    for name, justify in (("group", "left"), ("start", "left"), ("end", "left"), ("break", "left"),
                          ("agents", "right"), ("paid hours", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for roster in plan.rosters:
        for shift in roster.to_dict()["shifts"]:
            table.add_row(printable(roster.group), shift["start"], shift["end"], shift["break"] or "",
                          str(shift["agents"]), f"{shift['paid_hours']:g}")
        table.add_row(Text(printable(roster.group), style="bold"), Text("total", style="bold"), "", "", "",
                      Text(f"{roster.paid_hours:g}", style="bold"), end_section=True)
    return table


def tornado(result: api.Sensitivity, top: int = 15, width: int = 21) -> Table:
    """The ranked effects as a tornado: each assumption's change of the KPI at (1 − δ) ░ and (1 + δ) █."""
    kpi = result.kpi
    shown = result.effects[:top]
    scale = max((e.size for e in shown), default=0.0) or 1.0
    table = Table(title=f"What moves {api.KPIS[kpi].label} ({format_value(kpi, result.base_value)} at the base) · "
                        f"each assumption ±{100 * result.delta:g}%, one at a time",
                  caption=f"░ at −{100 * result.delta:g}%, █ at +{100 * result.delta:g}%; paired over "
                          f"{result.comparison.complete_replications()} replications; ns: the interval spans 0 "
                          "(noise), ranked last", header_style="bold", padding=(0, 1))
    table.add_column("assumption", overflow="fold")
    for name in ("base", "at −", "at +"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for e in shown:
        bar = tornado_bar(e.at_low.mean if e.at_low else None, e.at_high.mean if e.at_high else None, scale, width)

        def change(diff: Any) -> Text:
            if diff is None:
                return Text("refused", style="dim")
            text, tone = format_difference(kpi, diff)
            return Text(text or "0", style=TONE_STYLE.get(tone, ""))

        short = e.key.removeprefix("scenario.").removeprefix("policy.")  # which: the name says (agents, bot…)
        table.add_row(printable(short), printable(str(e.base)), change(e.at_low), change(e.at_high),
                      Text(bar, style="" if e.significant else "dim"))
    return table
