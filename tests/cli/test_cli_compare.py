"""`support-sandbox compare` and `run`: table, JSON and CSV output, --output, --set, --baseline, errors."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sandbox.cli.main import app
from sandbox.metrics.kpis import DAILY, HEADLINE, KPIS, RATIO_OF_SUMS

from .conftest import Invoke
from .helpers import QUICK, without_wall_time


@pytest.fixture(scope="module")
def quick_json() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["compare", *QUICK, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_table(cli: Invoke) -> None:
    result = cli("compare", *QUICK)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "E-commerce, small team · 2 replications · seed 0" in text
    for kpi in HEADLINE:
        assert KPIS[kpi].label in text, kpi
    assert "(base)" in text
    assert "warm-" in text
    assert "change vs no-bot" in text


def test_table_with_every_kpi(cli: Invoke) -> None:
    result = cli("compare", *QUICK, "--all")
    assert result.exit_code == 0, result.output
    missing = [k.label for k in KPIS.values() if k.label not in result.stdout]
    assert not missing


def test_json_structure(quick_json: dict[str, Any]) -> None:
    data = quick_json
    assert (data["scenario"], data["seed"], data["replications"], data["baseline"]) == \
        ("E-commerce, small team", 0, 2, "no-bot")
    assert data["cancelled"] is False
    assert data["complete_replications"] == 2
    assert list(data["policies"]) == ["no-bot", "warm-handoff"]
    for label, policy in data["policies"].items():
        assert set(policy["kpis"]) == set(KPIS)
        for kpi, entry in policy["kpis"].items():
            assert len(entry["replications"]) == 2, (label, kpi)
            finite = [v for v in entry["replications"] if v is not None]
            if finite:
                assert entry["mean"] == pytest.approx(sum(finite) / len(finite)), (label, kpi)
            if label == "no-bot":
                assert entry["difference"] is None
            else:
                diff = entry["difference"]
                assert set(diff) == {"mean", "half_width", "n", "low", "high", "significant"}
                base = data["policies"]["no-bot"]["kpis"][kpi]["replications"]
                pairs = [a - b for a, b in zip(entry["replications"], base, strict=True)
                         if a is not None and b is not None]
                if pairs:
                    assert diff["mean"] == pytest.approx(sum(pairs) / len(pairs)), kpi
                    assert diff["n"] == len(pairs)
        assert policy["series"]
        assert policy["by_intent"]
    bot = data["policies"]["warm-handoff"]["kpis"]
    assert bot["bot_handled"]["mean"] > 0
    assert data["policies"]["no-bot"]["kpis"]["bot_handled"]["replications"] == [0.0, 0.0]


def test_json_ratio_of_sums_and_the_counts_behind_them(quick_json: dict[str, Any]) -> None:
    # Each ratio KPI also comes as Σ numerator / Σ denominator over replications, from the per-replication sums
    # the JSON carries; with one replication's sums it is that replication's own ratio.
    for policy in quick_json["policies"].values():
        sums, kpis = policy["sums"], policy["kpis"]
        for kpi, (numerator, denominator, scale) in RATIO_OF_SUMS.items():
            if sum(sums[denominator]):
                expected = sum(sums[numerator]) / sum(sums[denominator]) * scale
                assert kpis[kpi]["ratio_of_sums"] == pytest.approx(expected), kpi
            for r, value in enumerate(kpis[kpi]["replications"]):
                if value is not None:
                    assert value == pytest.approx(sums[numerator][r] / sums[denominator][r] * scale), kpi
        for count in ("queued", "answered_within_t", "abandoned_before_t", "abandoned_after_t", "blocked",
                      "messages"):
            assert len(kpis[count]["replications"]) == 2
        assert kpis["queued"]["replications"] == sums["queued"]
    assert quick_json["policies"]["no-bot"]["kpis"]["service_level"]["ratio_of_sums"] > 0
    assert "series_by_replication" not in quick_json["policies"]["no-bot"]  # only when asked (--all)


def test_json_with_all_has_each_replications_series(cli: Invoke, quick_json: dict[str, Any]) -> None:
    result = cli("compare", *QUICK, "--format", "json", "--all")
    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)["policies"]["warm-handoff"]
    runs = policy["series_by_replication"]
    assert [r["replication"] for r in runs] == [0, 1]
    for name, mean in policy["series"].items():
        for i, m in enumerate(mean):
            values = [r["series"][name][i] for r in runs if r["series"][name][i] is not None]
            if values:
                assert m == pytest.approx(sum(values) / len(values)), name


def test_json_has_no_nan(quick_json: dict[str, Any]) -> None:
    """NaN is not JSON: undefined KPIs (no-bot's bot resolution rate) are null."""
    assert quick_json["policies"]["no-bot"]["kpis"]["bot_resolution_rate"]["mean"] is None
    json.dumps(quick_json, allow_nan=False)


def test_csv(cli: Invoke, quick_json: dict[str, Any]) -> None:
    result = cli("compare", *QUICK, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# --- provenance ---\n")
    data = "".join(line for line in io.StringIO(result.stdout) if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(data)))
    assert tuple(rows[0]) == ("policy", "name", "kpi", "mean", "half_width", "low", "high", "n", "diff_mean",
                              "diff_half_width", "diff_significant", "day")
    assert len(rows) == 2 * len(KPIS)  # one day: no rows per day
    assert {r["day"] for r in rows} == {""}
    assert {(r["policy"], r["kpi"]) for r in rows} == {(p, k) for p in ("no-bot", "warm-handoff") for k in KPIS}
    by_key = {(r["policy"], r["kpi"]): r for r in rows}
    assert by_key[("no-bot", "offered")]["name"] == "No bot"
    assert by_key[("no-bot", "offered")]["diff_mean"] == ""
    assert by_key[("warm-handoff", "offered")]["diff_significant"] in ("True", "False")
    for (policy, kpi), row in by_key.items():
        mean = quick_json["policies"][policy]["kpis"][kpi]["mean"]
        assert (row["mean"] == "") == (mean is None)
        if mean is not None:
            assert float(row["mean"]) == pytest.approx(mean, rel=1e-12)
        assert int(row["n"]) == quick_json["policies"][policy]["kpis"][kpi]["n"]


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_output_file_is_written_atomically(cli: Invoke, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / "out" / f"result.{fmt}"
    result = cli("compare", *QUICK, "--format", fmt, "--output", str(target))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temporary file left
    written = target.read_text(encoding="utf-8")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not the 0600 of a temporary file
    if fmt == "table":
        assert "contacts offered" in written
        assert "\x1b[" not in written
    else:
        assert written == result.stdout


@pytest.mark.parametrize("command", [["compare", *QUICK[:4], "-n", "3"],
                                     ["sweep", "--vary", "policy.automation.share=0,1", "-n", "3"]])
def test_output_is_checkpointed_as_replications_finish(cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       command: list[str]) -> None:
    """While a run goes on, the finished replications are on disk beside the output (a process killed
    without warning loses only what was running); the complete result replaces them at the end."""
    main = sys.modules["sandbox.cli.main"]  # the package exports the function main, which hides the module
    monkeypatch.setattr(main, "CHECKPOINT_SECONDS", 0.0)
    target = tmp_path / "result.json"
    seen: list[int] = []
    write = main.api.write_atomic

    def spy(path: Path, text: str) -> Path:
        if path.name == "result.partial.json":
            data = json.loads(text)
            seen.append((data.get("comparison") or data)["complete_replications"])
        return write(path, text)

    monkeypatch.setattr(main.api, "write_atomic", spy)
    result = cli(*command, "--days", "1", "-w", "1", "-f", "json", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert seen == [1, 2, 3]  # each time more replications were complete, never the same twice
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]  # the partial file is gone
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(result.stdout)


def test_output_over_an_existing_file(cli: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    target.write_text("old", encoding="utf-8")
    result = cli("compare", *QUICK, "-f", "json", "-o", str(target))
    assert result.exit_code == 0
    assert json.loads(target.read_text(encoding="utf-8"))["replications"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_output_to_an_impossible_place(cli: Invoke, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = cli("compare", *QUICK, "-f", "json", "-o", str(blocker / "result.json"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
    assert "Traceback" not in result.output


def test_set_changes_results(cli: Invoke, quick_json: dict[str, Any]) -> None:
    result = cli("compare", *QUICK, "--format", "json", "--set", "escalation.max_bot_turns=2")
    assert result.exit_code == 0, result.output
    changed = json.loads(result.stdout)
    before, after = quick_json["policies"], changed["policies"]
    # the bot policy's conversations are cut short…
    assert after["warm-handoff"]["kpis"]["escalation_rate"]["mean"] > \
        before["warm-handoff"]["kpis"]["escalation_rate"]["mean"]
    assert after["warm-handoff"]["kpis"] != before["warm-handoff"]["kpis"]
    # …while the no-bot baseline, which has no bot conversations, meets exactly the same customers
    assert after["no-bot"]["kpis"] == before["no-bot"]["kpis"]


def test_set_scenario_key(cli: Invoke, quick_json: dict[str, Any]) -> None:
    result = cli("compare", *QUICK, "-f", "json", "--set", "demand.contacts_per_day=600")
    assert result.exit_code == 0, result.output
    offered = json.loads(result.stdout)["policies"]["no-bot"]["kpis"]["offered"]["mean"]
    assert offered < 0.75 * quick_json["policies"]["no-bot"]["kpis"]["offered"]["mean"]


def test_bad_set_is_reported_with_its_location(cli: Invoke) -> None:
    result = cli("compare", *QUICK, "--set", "escalation.max_bot_turns=0")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == \
        "--set escalation.max_bot_turns=0: escalation.max_bot_turns: should be greater than or equal to 1 (got 0)"


def test_unknown_set_key_has_did_you_mean(cli: Invoke) -> None:
    result = cli("compare", *QUICK, "--set", "escalaton.max_bot_turns=2")
    assert result.exit_code == 2
    assert "--set escalaton.max_bot_turns=2: escalaton: unknown key (did you mean 'escalation'?)" in result.stderr


def test_unknown_scenario_has_did_you_mean(cli: Invoke) -> None:
    result = cli("compare", "ecommrce", "-p", "no-bot", "-n", "2")
    assert result.exit_code == 2
    assert "ecommrce: no scenario by this name in ./simulations or the built-ins (did you mean 'ecommerce'?)" \
        in result.stderr


def test_unknown_policy_has_did_you_mean(cli: Invoke) -> None:
    result = cli("compare", "-p", "no-bt", "-n", "2", "--days", "1")
    assert result.exit_code == 2
    assert "no-bt: no policy by this name in ./policies or the built-ins (did you mean 'no-bot'?)" in result.stderr


def test_baseline_not_among_policies(cli: Invoke) -> None:
    result = cli("compare", *QUICK, "--baseline", "dead-end")
    assert result.exit_code == 2
    assert result.stderr.startswith("--baseline: dead-end: is not one of the compared policies")


def test_baseline_typo_has_did_you_mean(cli: Invoke) -> None:
    result = cli("compare", *QUICK, "--baseline", "warm-handof")
    assert result.exit_code == 2
    assert "(did you mean 'warm-handoff'?)" in result.stderr


def test_baseline_among_policies(cli: Invoke, quick_json: dict[str, Any]) -> None:
    result = cli("compare", *QUICK, "-f", "json", "--baseline", "warm-handoff")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["baseline"] == "warm-handoff"
    assert data["policies"]["warm-handoff"]["kpis"]["offered"]["difference"] is None
    diff = data["policies"]["no-bot"]["kpis"]["csat"]["difference"]["mean"]
    before = quick_json["policies"]["warm-handoff"]["kpis"]["csat"]["difference"]["mean"]
    assert diff == pytest.approx(-before, rel=1e-9)


def test_invalid_options_are_usage_errors(cli: Invoke) -> None:
    assert cli("compare", *QUICK, "--format", "xml").exit_code == 2
    assert cli("compare", "-n", "0").exit_code == 2
    assert cli("compare", "--seed", "-1").exit_code == 2
    assert cli("compare", "--no-such-option").exit_code == 2


def test_run_command(cli: Invoke) -> None:
    result = cli("run", "-p", "warm-handoff", "-n", "2", "--days", "1", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data["policies"]) == ["warm-handoff"]
    assert data["baseline"] == "warm-handoff"
    assert len(data["policies"]["warm-handoff"]["kpis"]["csat"]["replications"]) == 2


def test_run_command_table_default_policy(cli: Invoke) -> None:
    result = cli("run", "-n", "2", "--days", "1")
    assert result.exit_code == 0, result.output
    assert "no-bot" in result.stdout
    assert "(base)" not in result.stdout
    assert "contacts offered" in result.stdout


def test_run_on_a_scenario_file(cli: Invoke, tmp_path: Path) -> None:
    import yaml
    from conftest import SMALL_SCENARIO

    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL_SCENARIO), encoding="utf-8")
    result = cli("run", str(path), "-p", "no-bot", "-n", "2", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenario"] == "small"
    assert data["replications"] == 2


def test_same_seed_same_json(cli: Invoke) -> None:
    first = cli("compare", *QUICK, "-f", "json", "--seed", "7")
    second = cli("compare", *QUICK, "-f", "json", "--seed", "7")
    assert first.exit_code == second.exit_code == 0
    assert without_wall_time(first.stdout) == without_wall_time(second.stdout)
    other = cli("compare", *QUICK, "-f", "json", "--seed", "8")
    assert without_wall_time(other.stdout)["policies"] != without_wall_time(first.stdout)["policies"]


def test_csv_of_several_days_adds_a_row_per_day_and_daily_kpi(cli: Invoke) -> None:
    result = cli("compare", "-p", "no-bot", "--days", "3", "--replications", "2", "--format", "csv")
    assert result.exit_code == 0, result.output
    data = "".join(line for line in io.StringIO(result.stdout) if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(data)))
    daily = [r for r in rows if r["day"]]
    assert {(r["day"], r["kpi"]) for r in daily} == {(str(d), k) for d in (1, 2, 3) for k in DAILY}
    whole = {r["kpi"]: r["mean"] for r in rows if not r["day"]}
    assert sum(float(r["mean"]) for r in daily if r["kpi"] == "offered") == pytest.approx(float(whole["offered"]))


def test_a_run_of_weeks_prints_the_drift_per_week_with_its_events(cli: Invoke) -> None:
    result = cli("compare", "knowledge-drift", "-p", "launch-and-leave", "-p", "continuous-improvement", "--days",
                 "14", "--replications", "6", "--why")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Per week (mean over replications)" in text
    for row in ("bot resolution", "stale intents", "bot share × (rollout)"):
        assert row in text
    assert "knowledge change: billing_error, returns (day 5)" in text
    assert "bot outage (day 12)" in text
    assert "launch-and-leave's bot resolution fell from" in " ".join(text.split())  # the Why names the drift
