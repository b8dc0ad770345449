"""Every output records what produced it, and `reproduce` runs it again to the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .helpers import QUICK, finish, start_cli, without_wall_time


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_an_export_reproduces_from_its_own_provenance(tmp_path: Path, fmt: str) -> None:
    first = tmp_path / f"result.{fmt}"
    # An override that changes the numbers: reproduce must not fall back to the shipped policy.
    done = finish(start_cli("compare", *QUICK, "--set", "escalation.max_bot_turns=2", "-f", fmt, "-o", str(first)))
    assert done.returncode == 0, done.stderr
    again = finish(start_cli("reproduce", str(first), "-f", fmt))
    assert again.returncode == 0, again.stderr
    if fmt == "json":
        original, rerun = without_wall_time(first.read_text()), without_wall_time(again.stdout)
        assert rerun == original
        assert original["provenance"]["policies"][1]["yaml"].count("max_bot_turns: 2") == 1
    else:
        def rows(text: str) -> list[str]:
            return [line for line in text.splitlines() if "created:" not in line]
        assert rows(again.stdout) == rows(first.read_text())


def test_table_footer_and_json_name_version_inputs_and_seed(tmp_path: Path) -> None:
    done = finish(start_cli("compare", *QUICK, "--seed", "7", "-f", "json"))
    record = json.loads(done.stdout)["provenance"]
    assert record["seed"] == 7
    assert record["replications"] == 2
    assert record["days"] == 1
    assert record["version"]
    assert record["created"]
    assert [p["label"] for p in record["policies"]] == ["no-bot", "warm-handoff"]
    assert len(record["scenario"]["sha256"]) == 64
    table = finish(start_cli("compare", *QUICK, "--seed", "7"))
    assert f"scenario {record['scenario']['name']} {record['scenario']['sha256'][:10]}" in table.stdout
    assert "seed 7, 2 replications, 1 day" in table.stdout


def test_piped_table_is_plain_and_unwrapped() -> None:
    done = finish(start_cli("compare", *QUICK))
    assert "\u200b" not in done.stdout
    assert any("warm-handoff" in line and "no-bot (base)" in line for line in done.stdout.splitlines())


def test_a_single_policy_run_has_no_baseline_language() -> None:
    done = finish(start_cli("run", "-p", "warm-handoff", "-n", "2"))
    assert done.returncode == 0, done.stderr
    assert "(base)" not in done.stdout
    assert "change vs" not in done.stdout


def test_reproduce_refuses_a_file_without_provenance(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("policy,kpi\n")
    done = finish(start_cli("reproduce", str(path)))
    assert done.returncode == 2
    assert str(path) in done.stderr
    assert "no provenance record" in done.stderr
    assert "Traceback" not in done.stderr
