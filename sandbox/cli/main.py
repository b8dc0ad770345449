"""Provides the support-sandbox command line: thin commands over sandbox.api, exit codes, no tracebacks.

Exit codes: 0 success; 1 a failure that is not the user's (a bug: rerun with --debug for the traceback);
2 bad input (click's own code for usage errors); 130 interrupted by Ctrl-C, 143 by SIGTERM (finished replications
are still printed).
"""

from __future__ import annotations

import contextlib
import json
import math
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from sandbox import __version__, api
from sandbox.cli.render import (
    ProgressReporter,
    backtest_chart,
    comparison_table,
    erlang_table,
    period_table,
    print_problems,
    shifts_table,
    staffing_chart,
    staffing_table,
    sweep_table,
    table_text,
    tornado,
)
from sandbox.errors import ConfigError, SandboxError, printable
from sandbox.presentation import format_half_width, format_value, markdown_kpis

T = TypeVar("T")
Result = TypeVar("Result", api.Comparison, api.Sweep)  # what a run command grows and shows
app = typer.Typer(add_completion=False, no_args_is_help=False, rich_markup_mode="rich",
                  pretty_exceptions_enable=False,
                  help="Try AI-assistant support policies on simulated customers before real ones.")
out = Console()
err = Console(stderr=True)
_state = {"debug": False}


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


ScenarioArg = Annotated[str, typer.Argument(help="Scenario name (see `list`) or YAML path.")]
PolicyOpt = Annotated[list[str] | None, typer.Option("--policy", "-p", help="Policy name or YAML path; repeat "
                                                      "for several. Default: every available policy.")]
RepsOpt = Annotated[int | None, typer.Option("--replications", "-n", min=1, max=api.limits.MAX_REPLICATIONS,
                                              help="Replications per policy "
                                              "(default: the scenario's horizon.replications).")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Base seed; same seed, same numbers.")]
DaysOpt = Annotated[int | None, typer.Option("--days", min=1, max=api.limits.MAX_DAYS, help="Override horizon.days.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="Override a field: dotted.key=value (the dotted "
                                                   "keys errors print). Prefix scenario. or policy. if needed.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
ColumnsOpt = Annotated[Path | None, typer.Option("--columns", help="With --format generic: a YAML file mapping "
                                                  "another export's columns, outcome words and time format onto "
                                                  "the contact-log format (docs/calibration.md).")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Also write the result to this file "
                                                 "(atomically), in --format; a table is written as plain text.")]
def _flag(name: str, help: str) -> Any:
    """An on/off option, shown in --help without a value placeholder."""
    return typer.Option(name, metavar="", help=help)


AllOpt = Annotated[bool, _flag("--all", "Show every KPI in the table; in JSON, add each replication's "
                                "per-interval series (series_by_replication) to their means.")]
DocOutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write it to this file (atomically) "
                                                    "instead of printing it.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-w", min=1, max=api.limits.MAX_WORKERS,
                                                 help="Worker processes (default: "
                                                 "serial for small jobs, one per core for large ones).")]


TargetOpt = Annotated[list[str] | None, typer.Option("--target", "-t", help="A service target, repeatable: "
                                                     "service_level>=0.8, voice.service_level>=80%, "
                                                     "abandonment_rate<=5%, asa<=30s, occupancy<=0.85.")]


PrecisionOpt = Annotated[str | None, typer.Option("--precision", help="KPI=HALF_WIDTH: replicate until every "
                                                 "policy's 95% interval is this narrow (e.g. service_level=0.01; "
                                                 "-n is then where it starts).")]
DaskLocalOpt = Annotated[int | None, typer.Option("--dask-local", min=1, max=api.limits.MAX_WORKERS,
                                                 help="Run on a local Dask cluster of this many worker "
                                                 "processes (needs the dask extra).")]
ClusterOpt = Annotated[str | None, typer.Option("--cluster", help="Run on the Dask scheduler at this address, "
                                                "e.g. tcp://10.0.0.5:8786 (needs the dask extra).")]


@contextlib.contextmanager
def _executor(dask_local: int | None, cluster: str | None) -> Iterator[api.Executor | None]:
    """The Dask executor the flags ask for (closed afterwards), or None for the default process pool."""
    if dask_local is not None and cluster is not None:
        err.print("[red]error:[/red] --dask-local and --cluster: give one of them", highlight=False)
        raise typer.Exit(2)
    if dask_local is None and cluster is None:
        yield None
        return
    executor = api.DaskExecutor(address=cluster, local=dask_local)
    try:
        yield executor
    finally:
        executor.close()


def _fail(exc: BaseException) -> NoReturn:
    if isinstance(exc, ConfigError):
        print_problems(err, exc.problems)
        raise typer.Exit(2)
    if isinstance(exc, api.OutputError):
        err.print(f"[red]error:[/red] {escape(printable(str(exc)))}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    if _state["debug"]:
        raise exc
    err.print(f"[red]error:[/red] {exc}" if isinstance(exc, SandboxError) else
              f"[red]internal error:[/red] {type(exc).__name__}: {exc}\nRerun with --debug for the traceback "
              "and report it.", highlight=False)
    raise typer.Exit(1)


def _run_comparison(scenario: str, policies: list[str] | None, *, baseline: str | None = None,
                    replications: int | None = None, seed: int = 0, days: int | None = None,
                    overrides: list[str] | None = None, workers: int | None = None, fmt: Format = Format.table,
                    output: Path | None = None, show_all: bool = False, why: bool = False,
                    equal_service: list[str] | None = None, dask_local: int | None = None,
                    cluster: str | None = None, precision: str | None = None) -> None:
    with _executor(dask_local, cluster) as executor:
        _run_and_emit(lambda progress, on_result: api.compare(
            scenario, policies, baseline=baseline, replications=replications, seed=seed, days=days,
            overrides=overrides or (), workers=workers, on_result=on_result, observer=progress,
            equal_service=equal_service, on_step=progress.step, executor=executor, precision=precision), fmt,
            output, show_all,
            why or bool(equal_service))


def _run_and_emit(start: Callable[[ProgressReporter, Callable[[Result], None]], Result], fmt: Format,
                  output: Path | None, show_all: bool, why: bool = False, kpis: list[str] | None = None) -> None:
    """Run with progress on stderr; print (and write) what finished, even after Ctrl-C or SIGTERM. ``start``
    gets the progress bar and the callback for the growing result (the bar and the --output checkpoint)."""
    if _is_parquet(output):
        try:
            api.parquet_bytes([])  # a missing pyarrow is said before the run, not after it
        except api.OutputError as exc:
            _fail(exc)
    progress = ProgressReporter(err)
    checkpoint = _Checkpoint(output, lambda result: _file_content(result, fmt, output, show_all, kpis))

    def on_result(result: Result) -> None:
        progress.on_result(_comparison_of(result))
        checkpoint(result)

    try:
        with _terminate_as_interrupt() as terminated:
            result = start(progress, on_result)
    except KeyboardInterrupt:  # before any replication ran (loading, starting workers): nothing to show
        progress.close()
        raise typer.Exit(143 if terminated else 130) from None
    except Exception as exc:  # what was checkpointed stays on disk
        progress.close()
        _fail(exc)
    progress.close()
    # What finished is printed whatever happens now: a second Ctrl-C must not lose it half-way.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if threading.current_thread() is threading.main_thread() \
        else None
    comparison = _comparison_of(result)
    try:
        _emit(result, fmt, output, show_all, kpis)
        if not comparison.cancelled:
            checkpoint.discard()  # the complete result is written: the partial one is history
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if why and fmt is Format.table:
        for insight in api.explain(comparison):
            out.print(f"• {insight.text}", highlight=False)
    _report_end(comparison, terminated)


CHECKPOINT_SECONDS = 5.0  # how stale the partial file may get; rendering it costs milliseconds


def _comparison_of(result: api.Comparison | api.Sweep) -> api.Comparison:
    return result.comparison if isinstance(result, api.Sweep) else result


class _Checkpoint:
    """With --output, what has finished is on disk while the run goes on, even if the process is killed
    without warning: the partial file (results.partial.json) is rewritten atomically, at most every
    CHECKPOINT_SECONDS, whenever more replications are complete; the complete result later replaces it."""

    def __init__(self, output: Path | None, render: Callable[[Any], str | bytes]):
        self.output, self.render = output, render
        self.written, self.last = 0, time.monotonic()

    def __call__(self, result: api.Comparison | api.Sweep) -> None:
        complete = _comparison_of(result).complete_replications()
        if self.output is None or complete <= self.written or time.monotonic() - self.last < CHECKPOINT_SECONDS:
            return
        try:
            api.write_atomic(api.partial_path(self.output), self.render(result))
        except api.OutputError:
            return  # the final write reports an unwritable output once, clearly; a checkpoint just skips
        self.written, self.last = complete, time.monotonic()

    def discard(self) -> None:
        if self.output is not None and self.written:
            with contextlib.suppress(OSError):
                api.partial_path(self.output).unlink()


def _report_end(comparison: api.Comparison, terminated: list[bool]) -> None:
    """Lost workers, and why a run stopped early, on stderr; the exit code says how it ended."""
    for incident in comparison.incidents:
        err.print(f"[yellow]warning:[/yellow] {escape(printable(incident))}", highlight=False, soft_wrap=True)
    finished = f"showing the {comparison.complete_replications()} complete replications that finished."
    for error in comparison.errors:  # a bug in the model, met by one replication: the others still ran
        if _state["debug"] and error.traceback:
            err.print(error.traceback, markup=False, highlight=False)
        err.print(f"[red]error:[/red] {escape(printable(error.error or ''))}", highlight=False, soft_wrap=True)
    if comparison.errors:
        err.print(f"{len(comparison.errors)} replication{'s' if len(comparison.errors) > 1 else ''} failed; "
                  f"{finished} Rerun with --debug for the traceback and report it.", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if comparison.failure:
        err.print(f"[red]error:[/red] {escape(printable(comparison.failure))}; {finished}", highlight=False,
                  soft_wrap=True)
        raise typer.Exit(1)
    if comparison.cancelled:
        err.print(f"[yellow]{'Terminated' if terminated else 'Interrupted'}:[/yellow] {finished}")
        raise typer.Exit(143 if terminated else 130)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[list[bool]]:
    """SIGTERM (a `kill`, a closing job scheduler) stops a run as Ctrl-C does: finished work is kept and
    printed, workers are ended. The list it yields becomes non-empty once SIGTERM has arrived."""
    terminated: list[bool] = []
    if threading.current_thread() is not threading.main_thread():
        yield terminated
        return

    def stop(signum: int, frame: object) -> None:
        if not terminated:
            terminated.append(True)
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield terminated
    finally:
        signal.signal(signal.SIGTERM, previous)


def _planned(start: Callable[[ProgressReporter, api.Executor | None], T], dask_local: int | None,
             cluster: str | None) -> tuple[T, list[bool]]:
    """A planning command's work, with progress on stderr and SIGTERM taken as Ctrl-C; its mistakes exit 2."""
    progress = ProgressReporter(err)
    try:
        with _terminate_as_interrupt() as terminated, _executor(dask_local, cluster) as executor:
            result = start(progress, executor)
    except Exception as exc:
        progress.close()
        _fail(exc)
    progress.close()
    return result, terminated


def _csv(rows: list[dict[str, Any]]) -> str:
    """Rows of plain values as CSV with a header (the planning commands' tidy outputs)."""
    if not rows:
        return ""
    return ",".join(rows[0]) + "\n" + "".join(",".join(_csv_cell(v) for v in row.values()) + "\n" for row in rows)


def _csv_cell(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "" if value != value else f"{value:.10g}"
    text = str(value)
    return f'"{text}"' if "," in text or '"' in text else text


def _write_output(output: Path | None, text: str | bytes, cancelled: bool) -> None:
    """Atomically; an interrupted run never replaces a complete result: it goes beside it, named partial."""
    if output is None:
        return
    target = api.partial_path(output) if cancelled else output
    try:
        api.write_atomic(target, text)
    except api.OutputError as exc:
        _fail(exc)
    if cancelled:
        err.print(f"[yellow]Partial result written to[/yellow] {printable(str(target))}", highlight=False)


def _table(result: api.Comparison | api.Sweep, show_all: bool, kpis: list[str] | None) -> Table:
    if isinstance(result, api.Sweep):
        return sweep_table(result, tuple(kpis or api.SWEEP_KPIS))
    return comparison_table(result, tuple(api.KPIS) if show_all else api.HEADLINE)


def _shown_table(result: api.Comparison | api.Sweep, show_all: bool, kpis: list[str] | None) -> str:
    """The table as plain text at its natural width, with its footer line."""
    text = table_text(_table(result, show_all, kpis))
    periods = None if isinstance(result, api.Sweep) else period_table(result)
    if periods is not None:
        text += table_text(periods)
    return text + printable(api.footer(_comparison_of(result))) + "\n"


def _file_text(result: api.Comparison | api.Sweep, fmt: Format, show_all: bool, kpis: list[str] | None) -> str:
    """What --output holds, and stdout shows for CSV and JSON; a table also carries, commented, the inputs
    it can be reproduced from."""
    comparison = _comparison_of(result)
    if fmt is Format.json:
        return api.json_text(result.to_dict()) + "\n" if isinstance(result, api.Sweep) else \
            api.to_json(result, replication_series=show_all) + "\n"
    if fmt is Format.csv:
        return api.commented(comparison) + _csv(result.rows()) if isinstance(result, api.Sweep) else \
            api.to_csv(result)
    return _shown_table(result, show_all, kpis) + api.commented(comparison)


def _is_parquet(output: Path | None) -> bool:
    return output is not None and output.suffix.lower() == ".parquet"


def _parquet(result: api.Comparison | api.Sweep) -> bytes:
    """The tidy rows (those of the CSV) as Parquet: what an output named *.parquet holds, whatever --format."""
    return api.parquet_bytes(result.rows() if isinstance(result, api.Sweep) else api.tidy_rows(result))


def _file_content(result: api.Comparison | api.Sweep, fmt: Format, output: Path | None, show_all: bool,
                  kpis: list[str] | None) -> str | bytes:
    return _parquet(result) if _is_parquet(output) else _file_text(result, fmt, show_all, kpis)


def _emit(result: api.Comparison | api.Sweep, fmt: Format, output: Path | None, show_all: bool,
          kpis: list[str] | None = None) -> None:
    comparison = _comparison_of(result)
    text = _file_text(result, fmt, show_all, kpis)
    if fmt is not Format.table:
        sys.stdout.write(text)
    elif out.is_terminal:
        out.print(_table(result, show_all, kpis))
        periods = None if isinstance(result, api.Sweep) else period_table(result)
        if periods is not None:
            out.print(periods)
        out.print(printable(api.footer(comparison)), style="dim", highlight=False)
    else:  # piped: plain text at its natural width, never wrapped at 80 columns
        sys.stdout.write(_shown_table(result, show_all, kpis))
    _write_output(output, _parquet(result) if _is_parquet(output) else text, comparison.cancelled)


@app.callback(invoke_without_command=True)
def main_callback(ctx: typer.Context,
                  debug: Annotated[bool, _flag("--debug", "Show tracebacks of internal errors.")] = False,
                  version: Annotated[bool, _flag("--version", "Print the version.")] = False) -> None:
    """Without a command: open the workbench on the built-in default scenario (in a terminal), or print its
    comparison (when the output is not a terminal)."""
    _state["debug"] = debug
    if version:
        out.print(f"support-sandbox {__version__}")
        raise typer.Exit
    if ctx.invoked_subcommand is None:
        if sys.stdout.isatty() and sys.stdin.isatty():
            _open_tui(api.DEFAULT_SCENARIO, None, 0)
        else:
            _run_comparison(api.DEFAULT_SCENARIO, None)


def _open_tui(scenario: str, policies: list[str] | None, seed: int, replications: int | None = None,
              overrides: list[str] | None = None, baseline: str | None = None, days: int | None = None) -> None:
    # Imported here so that the other commands never load Textual.
    from sandbox.tui.app import make_app

    try:
        # Everything named on the command line is checked before the screen opens: a wrong name exits 2 with
        # the located problem, like `compare`.
        application = make_app(scenario, policies, seed=seed, replications=replications,
                               overrides=overrides or (), days=days, baseline=baseline)
    except Exception as exc:
        _fail(exc)
        return
    application.run()
    if application.return_code:  # Textual has printed what went wrong
        raise typer.Exit(application.return_code)


@app.command()
def tui(scenario: ScenarioArg = api.DEFAULT_SCENARIO, policy: PolicyOpt = None,
        baseline: Annotated[str | None, typer.Option("--baseline", "-b", help="Policy to compare against "
                                                     "(default: the first).")] = None,
        replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None) -> None:
    """Open the interactive workbench: pick policies, turn knobs, run, read why."""
    _open_tui(scenario, policy, seed, replications, set_, baseline, days)


@app.command()
def compare(scenario: ScenarioArg = api.DEFAULT_SCENARIO, policy: PolicyOpt = None,
            baseline: Annotated[str | None, typer.Option("--baseline", "-b", help="Policy to compare against "
                                                         "(default: the first).")] = None,
            replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None,
            fmt: FormatOpt = Format.table, output: OutputOpt = None, workers: WorkersOpt = None,
            all_kpis: AllOpt = False,
            why: Annotated[bool, _flag("--why", "After the table, the main drivers in plain words.")] = False,
            equal_service: Annotated[bool, _flag("--equal-service", "Staff every policy to the --target "
                                                 "service first (default service_level>=0.8), then compare: "
                                                 "the cost of the same service.")] = False,
            target: TargetOpt = None, dask_local: DaskLocalOpt = None, cluster: ClusterOpt = None,
            precision: PrecisionOpt = None) -> None:
    """Compare policies side by side on one scenario (same seeds: paired differences)."""
    if target and not equal_service:
        err.print("[red]error:[/red] --target: only with --equal-service (or in `staff`)", highlight=False)
        raise typer.Exit(2)
    _run_comparison(scenario, policy, baseline=baseline, replications=replications, seed=seed, days=days,
                    overrides=set_, workers=workers, fmt=fmt, output=output, show_all=all_kpis, why=why,
                    equal_service=(target or ["service_level>=0.8"]) if equal_service else None,
                    dask_local=dask_local, cluster=cluster, precision=precision)


@app.command()
def run(scenario: ScenarioArg = api.DEFAULT_SCENARIO,
        policy: Annotated[str, typer.Option("--policy", "-p", help="Policy name or YAML path.")]
        = api.DEFAULT_BASELINE,
        replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None,
        fmt: FormatOpt = Format.table, output: OutputOpt = None, workers: WorkersOpt = None,
        all_kpis: AllOpt = False, dask_local: DaskLocalOpt = None, cluster: ClusterOpt = None,
        precision: PrecisionOpt = None,
        records: Annotated[Path | None, typer.Option("--records", help="Also write replication 1's contacts as a "
                                                     "contact log (CSV, docs/calibration.md), which calibrate "
                                                     "--format generic reads back.")] = None) -> None:
    """Run one policy on a scenario and report its KPIs with confidence intervals."""
    if records is not None:
        try:
            api.write_atomic(records, api.contact_log(scenario, policy, seed, 0, set_ or (), days))
        except (ConfigError, api.OutputError) as exc:
            _fail(exc)
    _run_comparison(scenario, [policy], replications=replications, seed=seed, days=days, overrides=set_,
                    workers=workers, fmt=fmt, output=output, show_all=all_kpis, dask_local=dask_local,
                    cluster=cluster, precision=precision)


@app.command()
def reproduce(file: Annotated[Path, typer.Argument(help="A result exported by compare, run or the workbench "
                                                   "(JSON, CSV, Markdown or a table written with -o).")],
              fmt: FormatOpt = Format.table, output: OutputOpt = None, workers: WorkersOpt = None,
              all_kpis: AllOpt = False) -> None:
    """Run again what an exported result records (inputs as they ran, seed, replications): the same numbers."""
    _run_and_emit(lambda progress, on_result: api.reproduce(file, workers=workers, on_result=on_result,
                                                 observer=progress), fmt, output, all_kpis)


@app.command()
def validate(files: Annotated[list[str], typer.Argument(help="Scenario and policy YAML files (or names).")]) -> None:
    """Check files and report every problem at once (file, line, key, did-you-mean); exit 2 if any."""
    try:
        report = api.validate(files)
    except Exception as exc:
        _fail(exc)
        return
    problems = [p for found in report.values() for p in found]
    for name, found in report.items():
        if not found:
            out.print(f"[green]✓[/green] {name}", highlight=False)
    if problems:
        print_problems(err, problems)
        raise typer.Exit(2)


@app.command()
def schema(kind: Annotated[str, typer.Argument(help="scenario or policy")] = "scenario",
           markdown: Annotated[bool, _flag("--markdown", "Field reference in Markdown "
                                                  "(docs/configuration.md) instead of JSON Schema.")] = False,
           output: DocOutputOpt = None) -> None:
    """Print the JSON Schema of scenario or policy files (for editor completion and checks)."""
    if kind not in ("scenario", "policy"):
        err.print(f"[red]error:[/red] kind must be 'scenario' or 'policy', not {escape(printable(repr(kind)))}",
                  highlight=False)
        raise typer.Exit(2)
    text = api.configuration_reference() if markdown else json.dumps(api.schema(kind), indent=2) + "\n"
    if output is not None:
        api.write_atomic(output, text)
    else:
        sys.stdout.write(text)


@app.command()
def staff(scenario: ScenarioArg = api.DEFAULT_SCENARIO,
          policy: Annotated[str, typer.Option("--policy", "-p", help="Policy name or YAML path.")]
          = api.DEFAULT_BASELINE,
          target: TargetOpt = None, replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None,
          set_: SetOpt = None, fmt: FormatOpt = Format.table, output: OutputOpt = None, workers: WorkersOpt = None,
          schedule: Annotated[Path | None, typer.Option("--schedule-out", help="Write the answer as a YAML "
                                                         "schedule snippet for the scenario.")] = None,
          dask_local: DaskLocalOpt = None, cluster: ClusterOpt = None,
          per: Annotated[str, typer.Option("--per", help="Where targets hold: every interval (interval, the "
                                           "workforce-planning convention) or over the open day (day).")]
          = "interval") -> None:
    """The fewest agents per interval and group that meet every target under a policy (Erlang A, then
    simulation on common random numbers)."""
    plan, terminated = _planned(lambda progress, executor: api.staff(
        scenario, policy, target or ["service_level>=0.8"], replications, seed, days, set_ or (), workers,
        on_step=progress.step, executor=executor, per=per), dask_local, cluster)
    if plan.cancelled:
        err.print(f"[yellow]{'Terminated' if terminated else 'Interrupted'}:[/yellow] after {plan.simulations} "
                  "simulations; the search had no answer yet.")
        raise typer.Exit(143 if terminated else 130)
    if fmt is Format.json:
        text = api.json_text(plan.to_dict()) + "\n"
        sys.stdout.write(text)
    elif fmt is Format.csv:
        text = _csv(plan.rows())
        sys.stdout.write(text)
    else:
        table = staffing_table(plan)
        out.print(table)
        chart = staffing_chart(plan, out.width)
        out.print(Text.from_ansi(chart))
        now = sum(plan.scheduled[g][k] for g in plan.groups for k in plan.open_bins) * plan.interval_minutes / 60
        over_day = "; over the day: " + ", ".join(
            f"{c.target} {100 * c.value:.1f}%" if not c.target.startswith("asa") else f"{c.target} {c.value:.0f} s"
            for c in plan.day) if plan.day else ""
        summary = (f"{plan.productive_hours():g} agent-hours a day taking contacts meet the targets "
                   f"{'over the day' if plan.per == 'day' else 'in every interval'} ({plan.paid_hours():g} paid); "
                   f"the current schedule has {now:g}{over_day}.")
        out.print(summary, highlight=False)
        out.print(plan.schedule_yaml(), highlight=False, markup=False, soft_wrap=True)  # YAML: never wrapped
        text = table_text(table) + summary + "\n" + plan.schedule_yaml()
    for line in plan.history if _state["debug"] else []:
        err.print(line, highlight=False)
    for goal, intervals in plan.out_of_reach.items():
        err.print(f"[yellow]warning:[/yellow] {escape(printable(goal))} is out of reach in "
                  f"{len(intervals)} interval{'s' if len(intervals) > 1 else ''} ({plan.clock(intervals[0])}"
                  f"{'…' + plan.clock(intervals[-1]) if len(intervals) > 1 else ''}): {plan.reasons[goal]}; "
                  "the answer meets the other targets there.", highlight=False, soft_wrap=True)
    if not plan.converged:
        err.print(f"[yellow]warning:[/yellow] the search stopped after {plan.simulations} simulations without "
                  "settling; the answer is its last staffing.", highlight=False, soft_wrap=True)
    try:
        if output is not None:
            api.write_atomic(output, text)
        if schedule is not None:
            api.write_atomic(schedule, plan.schedule_yaml())
    except api.OutputError as exc:
        _fail(exc)
    if not plan.converged or plan.out_of_reach:
        raise typer.Exit(1)


@app.command()
def sweep(scenario: ScenarioArg = api.DEFAULT_SCENARIO,
          policy: Annotated[str, typer.Option("--policy", "-p", help="Policy name or YAML path.")]
          = api.DEFAULT_BASELINE,
          vary: Annotated[list[str] | None, typer.Option("--vary", help="A field and its values, repeatable (a "
                                                          "grid): policy.automation.share=0:1:0.1 or "
                                                          "scenario.demand.contacts_per_day=1000,1200.")] = None,
          replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None,
          fmt: FormatOpt = Format.table, output: OutputOpt = None, workers: WorkersOpt = None,
          kpi: Annotated[list[str] | None, typer.Option("--kpi", help="KPIs in the table (repeatable).")] = None,
          equal_service: Annotated[bool, _flag("--equal-service", "Staff every point to the --target service "
                                               "first (default service_level>=0.8).")] = False,
          target: TargetOpt = None, dask_local: DaskLocalOpt = None, cluster: ClusterOpt = None,
          precision: PrecisionOpt = None) -> None:
    """Vary any fields over a grid, every point on the same seeds: one row per point, KPI and statistic."""
    unknown = [k for k in kpi or [] if k not in api.KPIS]
    if unknown:
        print_problems(err, [api.Problem("--kpi", None, k, "is not a KPI", "see `support-sandbox kpis`")
                             for k in unknown])
        raise typer.Exit(2)
    with _executor(dask_local, cluster) as executor:
        _run_and_emit(lambda progress, on_result: api.sweep(
            scenario, policy, vary or [], replications, seed, days, set_ or (), workers, executor,
            (target or ["service_level>=0.8"]) if equal_service else None, on_result=on_result,
            on_step=progress.step, observer=progress, precision=precision), fmt, output, False, kpis=kpi)


@app.command()
def shifts(scenario: ScenarioArg = api.DEFAULT_SCENARIO,
           policy: Annotated[str, typer.Option("--policy", "-p", help="Policy name or YAML path.")]
           = api.DEFAULT_BASELINE,
           target: TargetOpt = None, replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None,
           set_: SetOpt = None, workers: WorkersOpt = None,
           lengths: Annotated[str, typer.Option("--lengths", help="Allowed shift lengths.")] = "4h,6h,8h",
           grid: Annotated[str, typer.Option("--grid", help="Shifts start every this long.")] = "30m",
           break_rule: Annotated[str, typer.Option("--break", help="LENGTH@SHIFT: a break in the middle of "
                                                   "shifts this long or longer; or none.")] = "30m@6h",
           paid_break: Annotated[bool, _flag("--paid-break", "Breaks are paid.")] = False,
           fmt: FormatOpt = Format.table, output: OutputOpt = None,
           schedule: Annotated[Path | None, typer.Option("--schedule-out", help="Write the roster's coverage as a "
                                                          "YAML schedule snippet for the scenario.")] = None,
           dask_local: DaskLocalOpt = None, cluster: ClusterOpt = None) -> None:
    """Staff to the targets, then turn the requirement into shifts that minimise paid hours (HiGHS)."""
    plan, terminated = _planned(lambda progress, executor: api.shifts(
        scenario, policy, target or ["service_level>=0.8"], lengths, grid, break_rule, paid_break,
        replications=replications, seed=seed, days=days, overrides=set_ or (), workers=workers,
        on_step=progress.step, executor=executor), dask_local, cluster)
    if plan.staffing.cancelled:
        err.print(f"[yellow]{'Terminated' if terminated else 'Interrupted'}:[/yellow] no staffing to turn into "
                  "shifts yet.")
        raise typer.Exit(143 if terminated else 130)
    if fmt is Format.json:
        text = api.json_text(plan.to_dict()) + "\n"
        sys.stdout.write(text)
    elif fmt is Format.csv:
        text = _csv([{"group": r.group, "start": s["start"], "end": s["end"], "break": s["break"] or "",
                      "agents": s["agents"], "paid_hours": s["paid_hours"]}
                     for r in plan.rosters for s in r.to_dict()["shifts"]])
        sys.stdout.write(text)
    else:
        table = shifts_table(plan)
        out.print(table)
        out.print(plan.schedule_yaml(), highlight=False, markup=False, soft_wrap=True)
        text = table_text(table) + plan.schedule_yaml()
    try:
        if output is not None:
            api.write_atomic(output, text)
        if schedule is not None:
            api.write_atomic(schedule, plan.schedule_yaml())
    except api.OutputError as exc:
        _fail(exc)


@app.command()
def check(file: Annotated[str, typer.Argument(help="A checks file (name in ./checks or the built-ins, or a path).")]
          = "rollout", policy: PolicyOpt = None,
          scenario: Annotated[str | None, typer.Option("--scenario", help="Instead of the file's scenario.")] = None,
          replications: RepsOpt = None, workers: WorkersOpt = None,
          junit: Annotated[Path | None, typer.Option("--junit", help="Also write JUnit XML here (for CI).")] = None,
          output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the Markdown summary "
                                                      "here.")] = None) -> None:
    """The rollout gate: run a checks file's guardrails; exit 0 when all pass, 1 when one does not, 2 on bad
    input. The Markdown summary goes to stdout."""
    try:
        report = api.check(file, policy or None, scenario, replications, workers)
        text = report.markdown()
        if junit is not None:
            api.write_atomic(junit, report.junit())
        if output is not None:
            api.write_atomic(output, text)
    except (ConfigError, api.OutputError) as exc:
        _fail(exc)
    sys.stdout.write(text)
    if not report.passed:
        raise typer.Exit(1)


@app.command()
def optimise(file: Annotated[str, typer.Argument(help="The checks file the policy must pass (name or path).")]
             = "rollout",
             policy: Annotated[str, typer.Option("--policy", "-p", help="The policy to start from.")] = "warm-handoff",
             trials: Annotated[int, typer.Option("--trials", help="Candidates to simulate.")] = 30,
             replications: Annotated[int, typer.Option("--replications", "-n", help="Replications per "
                                                       "candidate (the confirmation uses the file's).")] = 5,
             confirm: Annotated[int, typer.Option("--confirm", help="Cheapest feasible candidates re-judged on "
                                                  "every check and stress variant.")] = 3,
             space: Annotated[list[str] | None, typer.Option("--space", help="A knob and its range, "
                                                             "KEY=LOW:HIGH or KEY=a,b (repeat; default: the "
                                                             "built-in space, docs/checks.md).")] = None,
             scenario: Annotated[str | None, typer.Option("--scenario", help="Instead of the file's.")] = None,
             seed: SeedOpt = 0, workers: WorkersOpt = None,
             output: Annotated[Path, typer.Option("--output", "-o", help="Where the winning policy's YAML goes.")]
             = Path("optimised-policy.yaml")) -> None:
    """Search for the cheapest policy by net cost that passes the checks; print the Pareto front of cost,
    abandonment and CSAT; write the winner as a policy YAML. Exit 0 with a winner, 1 without."""
    def tell(c: Any) -> None:
        state = "passes" if c.feasible else f"fails {', '.join(c.failed)}"
        err.print(f"[dim]trial {c.number}/{trials}: net cost {format_value('net_cost', c.net_cost)}, abandonment "
                  f"{format_value('abandonment_rate', c.abandonment)}, CSAT {format_value('csat', c.csat)}; "
                  f"{escape(state)}[/dim]", highlight=False)

    try:
        with _terminate_as_interrupt():
            found = api.optimise(file, policy, trials, replications, confirm, space or (), seed, scenario, workers,
                                 on_trial=tell)
    except ConfigError as exc:
        _fail(exc)
    table = Table("#", "net cost", "abandonment", "CSAT", "settings", title="Pareto front (feasible: cost, "
                  "abandonment and CSAT, none beaten on all three)", title_justify="left")
    for c in found.front():
        table.add_row(str(c.number), format_value("net_cost", c.net_cost), format_value("abandonment_rate",
                      c.abandonment), format_value("csat", c.csat), escape(c.settings()))
    out.print(table)
    for c, verdicts in found.confirmed:
        bad = [v for v in verdicts if v.verdict != "pass"]
        words = "passes every check" if not bad else f"{len(bad)} of {len(verdicts)} checks do not pass: " + \
            "; ".join(f"{v.check} ({v.variant}): {v.reason}" for v in bad[:3])
        out.print(f"confirmed #{c.number} ({format_value('net_cost', c.net_cost)}): {escape(words)}", highlight=False)
    if found.winner is None:
        err.print("no candidate passed every check; widen --space or raise --trials", highlight=False)
        raise typer.Exit(1)
    try:
        api.write_atomic(output, api.policy_yaml(found.winner.policy, f"support-sandbox optimise {file}"))
    except api.OutputError as exc:
        _fail(exc)
    out.print(f"the cheapest that passes: #{found.winner.number}, net cost "
              f"{format_value('net_cost', found.winner.net_cost)}; written to {escape(str(output))}", highlight=False)


@app.command()
def report(scenario: ScenarioArg = api.DEFAULT_SCENARIO, policy: PolicyOpt = None,
           output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")]
           = Path("report.html"),
           checks: Annotated[str | None, typer.Option("--checks", help="Also run this checks file's guardrails for "
                                                      "the policies (the first, the baseline, left out).")] = None,
           title: Annotated[str | None, typer.Option("--title", help="The report's title.")] = None,
           replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None,
           workers: WorkersOpt = None) -> None:
    """One self-contained HTML file for stakeholders: the comparison, charts, the checks, the assumptions and
    their sources, and the provenance of every number (opens offline in any browser)."""
    if output.is_dir() or not output.parent.is_dir():  # said before the run, not after it
        _fail(api.OutputError(f"cannot write {output}: " + ("it is a folder; give a file name" if output.is_dir()
                                                            else f"no folder {output.parent}")))
    text, _ = _planned(lambda progress, executor: api.report(
        scenario, policy, checks, title, replications=replications, seed=seed, days=days, overrides=set_ or (),
        workers=workers, executor=executor, on_result=progress.on_result), None, None)
    try:
        api.write_atomic(output, text)
    except api.OutputError as exc:
        _fail(exc)
    err.print(f"wrote {escape(str(output))}", highlight=False)


@app.command()
def journeys(scenario: ScenarioArg = api.DEFAULT_SCENARIO, policy: PolicyOpt = None,
             intent: Annotated[str | None, typer.Option("--intent", help="Whose journeys (default: the first "
                                                       "intent).")] = None,
             customers: Annotated[int, typer.Option("--customers", "-n", min=1, max=50,
                                                    help="Customers to follow.")] = 3,
             seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None) -> None:
    """Follow a few customers of one intent step by step, the same customers under each policy."""
    try:
        found = api.journeys(scenario, policy or [api.DEFAULT_BASELINE], intent, customers, seed, set_ or (), days)
    except ConfigError as exc:
        _fail(exc)
    for customer in found:
        out.print(f"[bold]{customer.clock} · {customer.segment} · {customer.channel} · {customer.intent}[/bold]")
        for journey in customer.journeys:
            out.print(f"  [underline]{escape(journey.policy)}[/underline]", highlight=False)
            for step in journey.steps:
                level = " " * 6 if step.frustration is None else f"F {step.frustration:.2f}"
                out.print(f"    [dim]{level}[/dim] {escape(step.what)}", highlight=False)
            out.print(f"    {journey.rating()}", highlight=False)
    if not found:
        err.print("no customer with this intent in the first replication")


@app.command()
def sensitivity(scenario: ScenarioArg = api.DEFAULT_SCENARIO,
                policy: Annotated[str, typer.Option("--policy", "-p", help="Policy name or YAML path.")]
                = api.DEFAULT_BASELINE,
                kpi: Annotated[str, typer.Option("--kpi", help="The KPI whose drivers to rank.")] = "cost_per_resolved",
                delta: Annotated[str, typer.Option("--delta", help="How far each assumption moves, down and up.")]
                = "20%",
                top: Annotated[int, typer.Option("--top", min=1, help="Assumptions shown in the table.")] = 15,
                replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None,
                fmt: FormatOpt = Format.table, output: OutputOpt = None, workers: WorkersOpt = None,
                dask_local: DaskLocalOpt = None, cluster: ClusterOpt = None) -> None:
    """Which assumption matters most: each moved ±delta one at a time, ranked by its effect on a KPI."""
    result, terminated = _planned(lambda progress, executor: api.sensitivity(
        scenario, policy, kpi, delta, replications, seed, days, set_ or (), workers, executor,
        on_result=progress.on_result), dask_local, cluster)
    if fmt is Format.json:
        text = api.json_text(result.to_dict()) + "\n"
        sys.stdout.write(text)
    elif fmt is Format.csv:
        text = "key,base,low,high,at_low,at_low_half_width,at_high,at_high_half_width,significant\n" + "".join(
            ",".join([e.key, str(e.base), str(e.low), str(e.high),
                      *(f"{x:.6g}" if x == x else "" for d in (e.at_low, e.at_high)
                        for x in ((d.mean, d.half_width) if d is not None else (math.nan, math.nan))),
                      str(e.significant).lower()]) + "\n" for e in result.effects)
        sys.stdout.write(text)
    else:
        table = tornado(result, top)
        out.print(table)
        text = table_text(table)
        for key, why in result.left_out.items():
            err.print(f"[dim]left out {escape(printable(key))}: {escape(printable(why))}[/dim]", highlight=False)
    _write_output(output, text, result.comparison.cancelled)
    _report_end(result.comparison, terminated)


@app.command()
def erlang(rate: Annotated[str, typer.Option("--rate", help="Arrival rate, e.g. 200/h.")],
           aht: Annotated[str, typer.Option("--aht", help="Average handle time, e.g. 3m or 180s.")],
           target: Annotated[str, typer.Option("--target", help="Service level, SHARE@TIME.")] = "80%@20s",
           patience: Annotated[str | None, typer.Option("--patience", help="Mean patience (exponential), e.g. "
                                                        "2m: Erlang A with abandonment instead of Erlang C.")] = None,
           shrinkage: Annotated[str, typer.Option("--shrinkage", help="Share of paid time not taking contacts, "
                                                  "e.g. 30%.")] = "0",
           max_occupancy: Annotated[str, typer.Option("--max-occupancy", help="Occupancy cap, e.g. 85%.")] = "100%",
           fmt: FormatOpt = Format.table, output: OutputOpt = None) -> None:
    """The Erlang calculator: agents needed for a service level, and the table around the answer."""
    try:
        calc = api.erlang_calculator(rate, aht, target, patience, shrinkage, max_occupancy)
    except ConfigError as exc:
        _fail(exc)
        return
    if fmt is Format.json:
        text = api.json_text(calc.to_dict()) + "\n"
    elif fmt is Format.csv:
        columns = ["agents", "p_wait", "service_level", "asa_seconds", "occupancy", "p_abandon", "meets"]
        text = ",".join(columns) + "\n" + "".join(
            ",".join(str(getattr(r, c)).lower() if c == "meets" else f"{getattr(r, c):.6g}" for c in columns) + "\n"
            for r in calc.rows)
    else:
        table = erlang_table(calc)
        out.print(table)
        text = table_text(table)
    if fmt is not Format.table:
        sys.stdout.write(text)
    if output is not None:
        try:
            api.write_atomic(output, text)
        except api.OutputError as exc:
            _fail(exc)


@app.command()
def demand(scenario: ScenarioArg = api.DEFAULT_SCENARIO,
           policy: Annotated[str, typer.Option("--policy", "-p", help="Policy name or YAML path.")]
           = api.DEFAULT_BASELINE,
           replications: RepsOpt = None, seed: SeedOpt = 0, days: DaysOpt = None, set_: SetOpt = None,
           fmt: FormatOpt = Format.table, output: OutputOpt = None, workers: WorkersOpt = None,
           dask_local: DaskLocalOpt = None, cluster: ClusterOpt = None) -> None:
    """The demand a policy leaves for humans, per queue (skill, channel) and interval: contacts, average handle
    time and concurrency with 95% intervals, for a workforce-management tool (-f csv)."""
    found, terminated = _planned(lambda progress, executor: api.demand(
        scenario, policy, replications=replications, seed=seed, days=days, overrides=set_ or (), workers=workers,
        on_result=progress.on_result, observer=progress, executor=executor), dask_local, cluster)
    rows = [r.to_dict() for r in found.rows]
    if fmt is Format.json:
        text = api.json_text(found.to_dict()) + "\n"
        sys.stdout.write(text)
    elif fmt is Format.csv:
        text = _csv(rows) or ",".join(found.columns) + "\n"
        sys.stdout.write(text)
    else:
        table = Table("skill", "channel", "day", "start", "contacts", "AHT (s)", "concurrency",
                      title=f"Demand left for humans under {escape(found.comparison.names[0])}",
                      title_justify="left")

        def pm(mean: float | None, half: float | None, digits: int) -> str:
            if mean is None:
                return "-"
            return f"{mean:.{digits}f}" + (f" ± {half:.{digits}f}" if half is not None else "")

        for r in rows:
            table.add_row(escape(r["skill"]), r["channel"], f"{r['day']} {r['weekday'][:3]}", r["start"],
                          pm(r["contacts"], r["contacts_half_width"], 1), pm(r["aht_seconds"], r["aht_half_width"], 0),
                          r["concurrency"])
        out.print(table)
        text = table_text(table)
    _write_output(output, text, found.comparison.cancelled)
    _report_end(found.comparison, terminated)


@app.command(name="bot-evidence")
def bot_evidence(
        file: Annotated[Path, typer.Argument(help="The evaluation results: a CSV of counts, a tau-bench results "
                                             "file (JSON or JSON lines) or a bot-analytics export.")],
        fmt: Annotated[str, typer.Option("--format", help="csv, tau-bench or analytics (docs/bot-evidence.md).")]
        = "csv",
        tasks: Annotated[Path | None, typer.Option("--tasks", help="tau-bench: a CSV mapping task_id to "
                                                   "intent.")] = None,
        discount: Annotated[float, typer.Option("--discount", help="Simulated-to-real discount on resolution "
                                                "rates (e.g. 0.85 for an evaluation against simulated "
                                                "customers).")] = 1.0,
        level: Annotated[str, typer.Option("--level", help="Integration level the bot was evaluated at: none, "
                                           "read or act.")] = "read",
        scenario: Annotated[str | None, typer.Option("--scenario", help="Check the written file against this "
                                                     "scenario (its intents, valid rates).")] = None,
        output: OutputOpt = None) -> None:
    """Turn bot evaluation results into per-intent bot rates with their uncertainty, for a scenario's
    bot_evidence."""
    command = "support-sandbox bot-evidence " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        found = api.bot_evidence(file, fmt, tasks, discount, level, command)
        if output is None:
            sys.stdout.write(found.text)
            return
        api.write_atomic(output, found.text)
        if scenario is not None:
            api.load_scenario(scenario, [f"bot_evidence={output.resolve()}"])
    except (ConfigError, api.OutputError) as exc:
        _fail(exc)
    table = Table("intent", "n", "resolved [95%]", "wrong/turn [95%]", "escalated", "abandoned",
                  title=f"{escape(str(output))} (a scenario's bot_evidence)", title_justify="left")

    def rate(value: tuple[float, float, float] | None) -> str:
        return "-" if value is None else f"{100 * value[0]:.1f}% [{100 * value[1]:.1f}–{100 * value[2]:.1f}]"

    for row in found.rows:
        n = row["conversations"] or 1
        table.add_row(escape(row["intent"]), str(row["conversations"]), rate(row["resolve"]),
                      rate(row["wrong_per_turn"]), f"{row['escalated'] / n:.0%}", f"{row['abandoned'] / n:.0%}")
    out.print(table)
    for reason, count in found.evidence.skipped.items():
        err.print(f"[yellow]note:[/yellow] skipped {count} records: {escape(reason)}", highlight=False)


@app.command()
def calibrate(
        log: Annotated[Path, typer.Argument(help="A contact log: the Technion call-log format, or a CSV with the "
                                            "documented columns (docs/calibration.md).")],
        fmt: Annotated[str, typer.Option("--format", help="technion or generic.")] = "technion",
        dates: Annotated[str | None, typer.Option("--dates", help="Only these days, FROM:TO (YYYY-MM-DD, "
                                                  "inclusive).")] = None,
        calendar: Annotated[bool, _flag("--calendar", "Over the log's own days: a calendar entry per date with "
                                        "its volume, roster and handle-time level (replays the log).")] = False,
        columns: ColumnsOpt = None, output: OutputOpt = None) -> None:
    """Estimate a scenario from a real contact log: arrivals, handle times, patience, hours and agents, each
    with its sample size and interval, every cleaning step counted."""
    command = "support-sandbox calibrate " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        found, text = api.calibrate(log, fmt, dates, command, calendar, columns)
        if output is None:
            sys.stdout.write(text)
        else:
            api.write_atomic(output, text)
    except (ConfigError, api.OutputError) as exc:
        _fail(exc)
    console = err if output is None else out
    table = Table("estimate", "value", "n", "95% interval", "note", title=f"calibrated from {escape(log.name)}",
                  title_justify="left")
    for key, e in found.estimates.items():
        interval = f"{e.low:.3g}–{e.high:.3g}" if e.low is not None and e.high is not None else ""
        table.add_row(escape(key), f"{e.value:.4g}", str(e.n), interval, escape(e.note))
    console.print(table)
    steps = ", ".join(f"{escape(step)} {n}" for step, n in found.cleaning.steps.items()) or "nothing to clean"
    console.print(f"{found.cleaning.read} records read; {steps}", highlight=False)


@app.command()
def backtest(
        log: Annotated[Path, typer.Argument(help="A contact log (as for calibrate).")],
        train: Annotated[str, typer.Option("--train", help="Days to calibrate on, FROM:TO (YYYY-MM-DD).")],
        test: Annotated[str, typer.Option("--test", help="Days to simulate and score, FROM:TO.")],
        fmt: Annotated[str, typer.Option("--format", help="technion or generic.")] = "technion",
        given: Annotated[str, typer.Option("--given", help="The test days' own inputs to use: any of volume, "
                                           "staffing, aht ('' for a pure forecast).")] = "volume,staffing,aht",
        replications: Annotated[int, typer.Option("--replications", "-r", help="Replications per test day.")] = 10,
        seed: SeedOpt = 0, columns: ColumnsOpt = None,
        output_format: Annotated[Format, typer.Option("--output-format", "-f", help="Output format (--format is "
                                                      "the log's).")] = Format.table,
        output: OutputOpt = None) -> None:
    """Calibrate on some days of a contact log and score the simulation of others against what happened."""
    try:
        result = api.backtest(log, fmt, train, test, given, replications, seed, columns)
    except ConfigError as exc:
        _fail(exc)
    measures = api.BACKTEST_MEASURES
    if output_format is Format.json:
        text = api.json_text(result.to_dict()) + "\n"
    elif output_format is Format.csv:
        rows = [{"day": d["day"], "offered": d["offered"], "measure": name, "observed": d[name]["observed"],
                 "simulated": d[name]["simulated"], "half_width": d[name]["half_width"]}
                for d in result.to_dict()["days"] for name, _, _ in measures]
        text = _csv(rows)
    else:
        table = Table("day", "offered", *(label for _, label, _ in measures),
                      title=f"backtest · given {', '.join(result.given) or 'nothing (a forecast)'} · "
                            f"{result.replications} replications a day · observed / simulated ±95%",
                      title_justify="left")
        for d in result.days:
            table.add_row(str(d.day), str(d.offered), *(
                f"{format_value(name, d.observed[name])} / {format_value(name, d.simulated[name][0])} "
                f"{format_half_width(name, d.simulated[name][1])}" for name, _, _ in measures))
        for which, k in (("mean abs. error", 0), ("bias (sim − obs)", 1)):
            table.add_row(which, "", *(f"{100 * result.error(name)[k]:+.1f} pts".replace("+", "" if k == 0 else "+")
                                       if unit == "share" else format_value(name, result.error(name)[k], signed=k == 1)
                                       for name, _, unit in measures))
        chart = backtest_chart(result, out.width)
        text = table_text(table) + Text.from_ansi(chart).plain + "\n"
        if output is None and out.is_terminal:
            out.print(table)
            out.print(Text.from_ansi(chart))
            return
    if output is not None:
        _write_output(output, text, False)
    else:
        sys.stdout.write(text)


@app.command()
def kpis(markdown: Annotated[bool, _flag("--markdown", "As Markdown (docs/kpis.md).")] = False,
         output: DocOutputOpt = None) -> None:
    """Explain every KPI: its unit, which direction is better, and its exact definition."""
    if markdown or output is not None:
        text = markdown_kpis()
        if output is not None:
            api.write_atomic(output, text)
        else:
            sys.stdout.write(text)
        return
    table = Table("KPI", "unit", "definition", show_lines=False)
    for k in api.KPIS.values():
        table.add_row(k.name, k.unit, k.definition)
    out.print(table)


@app.command(name="list")
def list_(
    cwd: Annotated[Path | None, typer.Option(hidden=True)] = None,
) -> None:
    """List the scenarios and policies available here (./simulations, ./policies) and built in, with what each
    says it is; a file with problems is flagged (run `validate` on it for all of them)."""
    for title, kind in (("Scenarios", "simulations"), ("Policies", "policies")):
        rows = []
        for entry in api.catalogue(kind, cwd):  # type: ignore[arg-type]
            where = "built-in" if entry.builtin else printable(str(entry.path))
            if entry.problems:
                first = entry.problems[0]
                what = Text(f"✗ {len(entry.problems)} problem{'s' if len(entry.problems) != 1 else ''}: "
                            f"{printable(first.key + ': ' if first.key else '')}{printable(first.message)}",
                            style="red")
            else:
                what = Text(printable(entry.description))
            rows.append((printable(entry.name), where, what))
        # Names and places in full; the description gets one line of what is left (`validate` says more).
        name_width = max((len(r[0]) for r in rows), default=0)
        where_width = max((len(r[1]) for r in rows), default=0)
        room = max(20, out.width - name_width - where_width - 7)
        out.print(title, style="bold", highlight=False, markup=False)
        for name, where, what in rows:
            line = Text.assemble(f"  {name:{name_width}s}  ", (f"{where:{where_width}s}", "dim"), "  ", what)
            if out.is_terminal:
                what.truncate(room, overflow="ellipsis")
                out.print(Text.assemble(line[:name_width + where_width + 6], what), highlight=False, no_wrap=True)
            else:  # piped: whole lines, for grep
                sys.stdout.write(line.plain + "\n")


def main() -> None:
    """Entry point: an exception that escapes a command becomes a message and an exit code, not a traceback."""
    try:
        app()  # standalone mode: usage errors exit 2, Ctrl-C outside a run exits 1
    except SystemExit:
        raise
    except Exception as exc:
        try:
            _fail(exc)
        except typer.Exit as done:
            sys.exit(done.exit_code)
