"""The policy search (support-sandbox optimise): on a small space with a known best point, and the winner as a
policy file that validates."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sandbox import api
from sandbox.cli.main import app
from sandbox.erlang import erlang_a


def _gate(tmp_path: Path) -> Path:
    from conftest import erlang_scenario

    scenario = tmp_path / "erlang.yaml"
    scenario.write_text(yaml.safe_dump(erlang_scenario(60, "4m", 5, "3m", days=1, warm_up="1h")))
    policy = tmp_path / "humans.yaml"
    policy.write_text(yaml.safe_dump({"name": "humans only", "automation": {"share": 0}}))
    gate = tmp_path / "gate.yaml"
    gate.write_text(yaml.safe_dump({
        "name": "abandonment floor", "scenario": str(scenario), "policies": [str(policy)], "baseline": "no-bot",
        "replications": 6, "max_replications": 24,
        "checks": [{"name": "abandonment at most 8%", "kpi": "abandonment_rate", "at_most": 0.08}]}))
    return gate


def test_the_search_finds_the_fewest_agents_that_hold_the_floor(tmp_path: Path) -> None:
    # Erlang A (60 calls/h, 4-minute calls, 3-minute patience): 5 agents lose 11.3%, 6 lose 5.5%. With cost
    # rising with every agent and nothing else to gain, the cheapest policy under an 8% floor is 6 agents.
    assert erlang_a(1.0, 4.0, 3.0, 5, 1 / 3).p_abandon > 0.08 > erlang_a(1.0, 4.0, 3.0, 6, 1 / 3).p_abandon
    gate = _gate(tmp_path)
    found = api.optimise(gate, str(tmp_path / "humans.yaml"), trials=16, replications=4, confirm=2,
                         space=["staffing.headcount.team=3:10"])
    assert found.winner is not None
    assert found.winner.values == {"staffing.headcount.team": 6}
    tried = {c.values["staffing.headcount.team"]: c for c in found.candidates}
    if 5 in tried:
        assert not tried[5].feasible  # 5 agents break the floor
    front = found.front()
    assert front
    assert all(c.feasible for c in front)
    assert found.winner in front  # the cheapest feasible is never beaten on cost


def test_the_cli_writes_the_winner_as_a_policy_that_validates(tmp_path: Path) -> None:
    gate = _gate(tmp_path)
    out = tmp_path / "best.yaml"
    result = CliRunner().invoke(app, ["optimise", str(gate), "-p", str(tmp_path / "humans.yaml"), "--trials", "8",
                                      "-n", "3", "--confirm", "2", "--space", "staffing.headcount.team=5:9",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Pareto front" in result.stdout
    assert "the cheapest that passes" in result.stdout
    policy = api.load_policy(out)
    assert policy.staffing.headcount["team"] >= 6
    bad = CliRunner().invoke(app, ["optimise", str(gate), "--space", "staffing.scale=2:1"])
    assert bad.exit_code == 2
    assert "LOW below HIGH" in bad.output


@pytest.mark.parametrize("text", ["nonsense", "=1:2"])
def test_a_bad_space_is_refused(text: str) -> None:
    with pytest.raises(api.ConfigError):
        api.parse_space([text])
