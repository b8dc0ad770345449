"""The rollout gate (support-sandbox check): checks with known answers, replicating until decided, JUnit XML
valid against the schema, exit codes, and bad files named at their line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import xmlschema
import yaml
from typer.testing import CliRunner

from sandbox import api
from sandbox.cli.main import app

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "junit.xsd"
BOT = {"name": "half to a bot", "automation": {"share": 0.5}}


def _files(tmp_path: Path, checks: list[dict[str, Any]], **extra: Any) -> Path:
    from conftest import erlang_scenario

    scenario = tmp_path / "erlang.yaml"
    scenario.write_text(yaml.safe_dump(erlang_scenario(60, "4m", 5, "3m", days=1, warm_up="0m")))
    policy = tmp_path / "bot.yaml"
    policy.write_text(yaml.safe_dump(BOT))
    spec = {"name": "test gate", "scenario": str(scenario), "policies": [str(policy)], "baseline": "no-bot",
            "replications": 4, "max_replications": 4, "checks": checks, **extra}
    path = tmp_path / "gate.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_an_obvious_fail_and_an_obvious_pass(tmp_path: Path) -> None:
    path = _files(tmp_path, [
        {"name": "hardly anyone abandons", "kpi": "abandonment_rate", "at_most": 0.001},
        {"name": "not everyone abandons", "kpi": "abandonment_rate", "at_most": 0.99},
        {"name": "abandonment every interval under 99%", "kpi": "abandonment_rate", "per": "interval",
         "at_most": 0.99},
    ])
    verdicts = {v.check: v for v in api.check(path).verdicts}
    assert verdicts["hardly anyone abandons"].verdict == "fail"
    assert "the limit is at most 0.1%" in verdicts["hardly anyone abandons"].reason
    assert verdicts["not everyone abandons"].verdict == "pass"
    assert verdicts["abandonment every interval under 99%"].verdict == "pass"


def test_a_close_call_replicates_until_it_is_decided(tmp_path: Path) -> None:
    # The limit sits 2.5 of the 40-replication half-widths above the mean: 4 replications cannot tell (their
    # interval is over three times as wide), the cap of 64 can.
    from conftest import erlang_scenario

    scenario = erlang_scenario(60, "4m", 5, "3m", days=1, warm_up="0m")
    wide = api.compare(scenario, ["no-bot", BOT], replications=40).estimate(1, "abandonment_rate")
    limit = wide.mean + 2.5 * wide.half_width
    check = [{"name": "close call", "kpi": "abandonment_rate", "at_most": round(limit, 5)}]
    capped = api.check(_files(tmp_path, check)).verdicts[0]
    assert capped.verdict == "undecided"
    assert "not enough replications to tell (4, the cap)" in capped.reason
    decided = api.check(_files(tmp_path, check, max_replications=64)).verdicts[0]
    assert decided.verdict == "pass"
    assert 4 < decided.replications <= 64


def test_stress_variants_and_the_baseline_comparison(tmp_path: Path) -> None:
    path = _files(tmp_path, [
        {"name": "CSAT not below no-bot", "kpi": "csat", "vs_baseline": "not_significantly_worse"},
        {"name": "abandonment at most 50%", "kpi": "abandonment_rate", "at_most": 0.5, "under": ["five times"]},
    ], stress=[{"name": "five times", "demand": 5.0}])
    verdicts = api.check(path).verdicts
    assert {(v.check, v.variant) for v in verdicts} == {("CSAT not below no-bot", "as is"),
                                                         ("CSAT not below no-bot", "five times"),
                                                         ("abandonment at most 50%", "five times")}
    # five times the calls on five agents: most callers give up
    tripled = next(v for v in verdicts if v.check == "abandonment at most 50%")
    assert tripled.verdict == "fail"


def test_the_cli_exits_by_verdict_and_writes_valid_junit(tmp_path: Path) -> None:
    schema = xmlschema.XMLSchema(SCHEMA)
    failing = _files(tmp_path, [{"name": "hardly anyone abandons", "kpi": "abandonment_rate", "at_most": 0.001}])
    junit = tmp_path / "junit.xml"
    result = CliRunner().invoke(app, ["check", str(failing), "--junit", str(junit)])
    assert result.exit_code == 1, result.output
    assert "❌ fail" in result.stdout
    assert "hardly anyone abandons" in result.stdout
    schema.validate(junit)
    assert 'failures="1"' in junit.read_text()
    passing = _files(tmp_path, [{"name": "not everyone abandons", "kpi": "abandonment_rate", "at_most": 0.99}])
    result = CliRunner().invoke(app, ["check", str(passing), "--junit", str(junit)])
    assert result.exit_code == 0, result.output
    schema.validate(junit)
    assert "<failure" not in junit.read_text()


@pytest.mark.parametrize(("check", "message"), [
    ({"name": "x", "kpi": "abandonment", "at_most": 0.1}, "'abandonment' is not a KPI"),
    ({"name": "x", "kpi": "csat", "at_most": 0.1, "at_least": 0.0}, "exactly one of at_most, at_least"),
    ({"name": "x", "kpi": "csat", "per": "interval", "at_least": 0.5}, "per: interval judges abandonment_rate"),
    ({"name": "x", "kpi": "occupancy", "vs_baseline": "not_significantly_worse"}, "has no better direction"),
    ({"name": "x", "kpi": "net_cost", "per": "intent", "at_most": 1}, "per: intent judges the per-intent"),
    ({"name": "x", "kpi": "csat", "at_least": 0.5, "intents": ["a"]}, "intents are judged with per: intent"),
    ({"name": "x", "kpi": "dead_ended", "per": "intent", "intents": ["refunds"], "at_most": 0},
     "'refunds' is not an intent"),
    ({"name": "x", "kpi": "dead_ended", "per": "intent", "intents": "emotional", "at_most": 0},
     "no intent of 'erlang' has an emotional load"),
])
def test_a_bad_checks_file_exits_2_naming_the_line(tmp_path: Path, check: dict[str, Any], message: str) -> None:
    path = _files(tmp_path, [check])
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    if "intent" not in message:  # a name the scenario lacks is said by the check's name, not a file line
        assert f"{path}:" in result.output  # file and line


def test_the_shipped_checks_files_load() -> None:
    from sandbox.catalog import available
    from sandbox.config.loader import load
    from sandbox.experiments.checkfile import CheckFile

    shipped = available("checks")
    assert "rollout" in shipped
    for path in shipped.values():
        checks, _ = load(CheckFile, path)
        assert checks.checks



def test_a_stress_time_that_is_not_a_clock_is_refused_at_load(tmp_path: Path) -> None:
    path = _files(tmp_path, [{"name": "x", "kpi": "csat", "at_least": 0.5}],
                  stress=[{"name": "late outage", "bot_outage": "2h", "at": "25:00"}])
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    assert "stress[0].at" in result.output


def test_replicating_more_keeps_the_finished_replications(tmp_path: Path) -> None:
    # One comparison per variant that grows (4 → 8 → …), not a new one from scratch for each doubling.
    from sandbox.config.loader import load
    from sandbox.experiments import compare
    from sandbox.experiments.checkfile import CheckFile
    from sandbox.experiments.checks import run_checks

    path = _files(tmp_path, [{"name": "close", "kpi": "abandonment_rate", "at_most": 0.5}], max_replications=16)
    checks, _ = load(CheckFile, path)
    scenario = api.load_scenario(checks.scenario)
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        comparison = compare(*args, **kwargs)
        calls.append(comparison.complete_replications())
        return comparison

    # a limit no interval reaches is decided at once; one nobody can tell is replicated to the cap
    run_checks(checks, scenario, [api.load_policy(BOT)], ["bot"], api.load_policy("no-bot"), counting)
    assert calls == [4]
    calls.clear()
    undecidable = checks.model_copy(update={"checks": [checks.checks[0].model_copy(update={"per": "interval",
                                                                                         "at_most": 2.0})]})
    verdicts = run_checks(undecidable, api.load_scenario(dict(yaml.safe_load((tmp_path / "erlang.yaml").read_text()),
                                                            demand={"rate": "0.1/h", "busyness_shape": None})),
                          [api.load_policy(BOT)], ["bot"], api.load_policy("no-bot"), counting)
    assert calls == [16]  # one growing comparison, to the cap
    assert verdicts[0].verdict == "undecided"
