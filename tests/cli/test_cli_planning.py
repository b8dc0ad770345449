"""The planner's commands: erlang and staff, their outputs and their mistakes."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
import yaml

from sandbox.config.scenario import Scenario

from .conftest import Invoke


def test_erlang_table_and_csv(cli: Invoke) -> None:
    result = cli("erlang", "--rate", "200/h", "--aht", "180s", "--shrinkage", "30%", "--max-occupancy", "85%")
    assert result.exit_code == 0, result.output
    assert "14 agents taking contacts; 20 to schedule at 30% shrinkage" in " ".join(result.stdout.split())
    rows = list(csv.DictReader(io.StringIO(cli("erlang", "--rate", "200/h", "--aht", "3m", "-f", "csv").stdout)))
    first = next(r for r in rows if r["meets"] == "true")
    assert first["agents"] == "14"
    assert float(first["service_level"]) == 0.88835


def test_erlang_mistakes_exit_2_naming_the_option(cli: Invoke) -> None:
    result = cli("erlang", "--rate", "200", "--aht", "3m", "--target", "80%")
    assert result.exit_code == 2
    assert "--rate" in result.stderr
    assert "--target" in result.stderr
    assert "Traceback" not in result.output


def test_staff_csv_columns_and_a_schedule_that_loads(cli: Invoke, tmp_path: Path) -> None:
    snippet = tmp_path / "schedule.yaml"
    result = cli("staff", "ecommerce", "-p", "warm-handoff", "-t", "service_level>=0.8", "-n", "4", "-f", "csv",
                 "--schedule-out", str(snippet))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:5] == ["interval", "group", "required", "scheduled", "gap"]
    assert all(int(r["gap"]) == int(r["scheduled"]) - int(r["required"]) for r in rows)
    groups = yaml.safe_load(snippet.read_text())["agents"]["groups"]
    scenario = yaml.safe_load(Path("simulations/ecommerce.yaml").read_text())
    for name, group in groups.items():
        scenario["agents"]["groups"][name]["schedule"] = group["schedule"]
    Scenario.model_validate(scenario)  # plugs back in


def test_staff_json_and_out_of_reach(cli: Invoke) -> None:
    result = cli("staff", "ecommerce", "-p", "dead-end", "-t", "abandonment_rate<=1%", "-n", "3", "-f", "json")
    assert result.exit_code == 1  # a target no staffing meets: said, and the exit code says so
    data = json.loads(result.stdout)
    assert "abandonment_rate<=1%" in data["out_of_reach"]
    assert "out of reach" in result.stderr
    assert "give up in the bot" in result.stderr


def test_staff_mistakes(cli: Invoke) -> None:
    result = cli("staff", "ecommerce", "-t", "sevice_level>=0.8", "-t", "voice.asa<=x", "--set", "demand.rate=-1")
    assert result.exit_code == 2
    assert result.stderr.count("--target") == 2
    assert "--set" in result.stderr
    assert "did you mean 'service_level'" in result.stderr


def strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_sweep_json_is_strict_and_tidy(cli: Invoke) -> None:
    result = cli("sweep", "ecommerce", "-p", "warm-handoff", "--vary", "policy.automation.share=0,1", "-n", "2",
                 "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = strict_json(result.stdout)
    assert data["vary"] == {"policy.automation.share": [0, 1]}
    assert {r["statistic"] for r in data["rows"]} == {"mean", "half_width", "low", "high", "replications"}
    unstable = cli("erlang", "--rate", "600/h", "--aht", "3m", "-f", "json")  # rows below the load: ASA ∞
    strict_json(unstable.stdout)


def test_staff_with_nothing_open_is_a_user_error(cli: Invoke) -> None:
    for command in ("staff", "shifts"):
        result = cli(command, "ecommerce", "--set", "hours.default=closed", "-n", "2")
        assert result.exit_code == 2, result.output
        assert "nothing to staff" in result.stderr
        assert "Traceback" not in result.output


def test_sweep_writes_its_tidy_rows_as_parquet(cli: Invoke, tmp_path: Path) -> None:
    """The Parquet file holds exactly the CSV's rows, with one type per column."""
    import pyarrow.parquet as pq

    args = ("sweep", "--vary", "policy.automation.share=0,0.5", "-n", "2", "--days", "1")
    target = tmp_path / "sweep.parquet"
    assert cli(*args, "-o", str(target)).exit_code == 0
    table = pq.read_table(target)
    assert str(table.schema.field("policy.automation.share").type) == "double"
    assert str(table.schema.field("value").type) == "double"
    rows = list(csv.DictReader(line for line in cli(*args, "-f", "csv").stdout.splitlines()
                               if not line.startswith("#")))
    assert table.num_rows == len(rows)
    for got, want in zip(table.to_pylist(), rows, strict=True):
        assert (got["kpi"], got["statistic"]) == (want["kpi"], want["statistic"])
        assert got["policy.automation.share"] == float(want["policy.automation.share"])
        assert (got["value"] is None) == (want["value"] == "")
        if got["value"] is not None:
            assert got["value"] == pytest.approx(float(want["value"]), rel=1e-9)


def test_parquet_without_pyarrow_is_one_clear_message(cli: Invoke, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if the extra were not installed
    result = cli("compare", "-p", "no-bot", "-n", "2", "--days", "1", "-o", str(tmp_path / "c.parquet"))
    assert result.exit_code == 2, result.output
    assert "pip install 'support-sandbox[parquet]'" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not list(tmp_path.iterdir())
