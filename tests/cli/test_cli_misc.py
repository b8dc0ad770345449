"""The CLI in process: version, help, list, kpis, internal errors, and parallel determinism."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox import __version__, api, experiments
from sandbox.experiments import executors
from sandbox.metrics.kpis import KPIS
from sandbox.presentation import markdown_kpis

from .conftest import Invoke
from .helpers import QUICK, without_wall_time


def test_version(cli: Invoke) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"support-sandbox {__version__}"


def test_help_lists_the_commands(cli: Invoke) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("compare", "run", "validate", "schema", "kpis", "list"):
        assert command in result.stdout


def test_unknown_command_is_a_usage_error(cli: Invoke) -> None:
    result = cli("frobnicate")
    assert result.exit_code == 2
    assert "No such command" in result.output


def test_list(cli: Invoke) -> None:
    result = cli("list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Scenarios"
    assert "Policies" in lines
    for name in (*api.scenarios(), *api.policies()):
        assert any(line.split()[0] == name for line in lines if line.startswith("  ")), name
    ecommerce = next(line for line in lines if line.split()[:2] == ["ecommerce", "built-in"])
    assert "An online shop's weekday" in ecommerce  # what it says it is


def test_list_flags_a_broken_file_and_a_default_compare_leaves_it_out(cli: Invoke, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "broken.yaml").write_text("name: broken\nautomation: {share: 2}\n")
    monkeypatch.chdir(tmp_path)
    listed = cli("list")
    assert listed.exit_code == 0
    line = next(x for x in listed.stdout.splitlines() if x.split()[:1] == ["broken"])
    assert "✗ 1 problem: automation.share" in line
    compared = cli("compare", "-n", "1", "--days", "1", "--set", "demand.contacts_per_day=60")
    assert compared.exit_code == 0, compared.output
    assert "warning: left out" in compared.stderr
    assert "broken.yaml:2" in compared.stderr
    assert "warm-handoff" in compared.stdout
    assert "broken" not in compared.stdout
    named = cli("compare", "-p", "broken", "-n", "1")  # asked for by name: its problems stop the run
    assert named.exit_code == 2
    assert "automation.share" in named.stderr
    as_baseline = cli("compare", "-b", "broken", "-n", "1")  # as the baseline: its own problem, not "no such"
    assert as_baseline.exit_code == 2
    assert "broken.yaml:2" in as_baseline.stderr


def test_a_valid_policy_that_does_not_fit_the_scenario_is_not_left_out_quietly(
        cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "mine.yaml").write_text("name: mine\nautomation: {share: 0.5, bypass_intents: [nope]}\n")
    monkeypatch.chdir(tmp_path)
    result = cli("compare", "-n", "1", "--days", "1")
    assert result.exit_code == 2
    assert "mine.yaml" in result.stderr
    assert "nope" in result.stderr


def test_kpis(cli: Invoke) -> None:
    result = cli("kpis", "--markdown")
    assert result.exit_code == 0
    assert result.stdout == markdown_kpis()
    table = cli("kpis")
    assert table.exit_code == 0
    assert all(name[:12] in table.stdout for name in KPIS)


# ---------------------------------------------------------------------------------------------------------
# internal errors


def test_internal_error_exits_1_without_traceback(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(api, "compare", boom)
    result = cli("compare", *QUICK)
    assert result.exit_code == 1
    assert "internal error: RuntimeError: engine exploded" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_debug_shows_the_exception(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(api, "compare", boom)
    result = cli("--debug", "compare", *QUICK)
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    # and the flag does not stick to the next invocation
    assert "--debug" in cli("compare", *QUICK).stderr


def test_parallel_workers_give_the_serial_numbers(cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """-w 2 (a process pool) stores results by (policy, replication): identical JSON to a serial run."""
    pools: list[int | None] = []

    class CountingPool(experiments.Pool):
        def __init__(self, size: int, **kwargs: Any) -> None:
            pools.append(size)
            super().__init__(size, **kwargs)

    monkeypatch.setattr(executors, "Pool", CountingPool)
    serial = cli("compare", *QUICK, "-f", "json", "--seed", "3", "-w", "1")
    assert pools == []
    parallel = cli("compare", *QUICK, "-f", "json", "--seed", "3", "-w", "2")
    assert pools == [2]
    assert serial.exit_code == parallel.exit_code == 0, serial.output + parallel.output
    assert without_wall_time(parallel.stdout) == without_wall_time(serial.stdout)
