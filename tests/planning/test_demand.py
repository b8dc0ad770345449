"""The demand left for humans: per queue and interval, it adds up to what the simulation's agents did."""

from __future__ import annotations

import copy
import csv
import io

import numpy as np
import pytest
from conftest import BOT_POLICY, SEED, SMALL_SCENARIO
from typer.testing import CliRunner

from sandbox import api
from sandbox.cli.main import app
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate
from sandbox.model.outcomes import Outcome


@pytest.mark.parametrize("policy", [BOT_POLICY, {"name": "cold", "automation": {"share": 0.6},
                                                 "handoff": {"mode": "cold", "cold_handle_factor": 1.3}}])
def test_the_queues_add_up_to_the_simulated_agent_workload(policy: dict) -> None:
    plan = compile_plan(Scenario.model_validate(SMALL_SCENARIO), Policy.model_validate(policy))
    run = simulate(plan, SEED, 0, keep_records=True)
    rows = run.records
    assert rows is not None
    served = rows["outcome"] == Outcome.SERVED
    queues = [(s, c) for s in plan.skills for c in plan.channels]
    assert len(queues) == 4  # general and billing, on voice and chat
    for name, expected in (("queued", rows["queued"].sum()), ("served", served.sum()),
                           ("busy", rows["busy"][served].sum())):
        total = sum(np.sum(run.series[f"queue.{s}.{c}.{name}"]) for s, c in queues)
        assert total == pytest.approx(float(expected), rel=1e-9), name
    billing = np.array([plan.skill[i] == "billing" for i in rows["intent"]])
    chat = rows["channel"] == plan.channels.index("chat")
    assert np.sum(run.series["queue.billing.chat.served"]) == (served & billing & chat).sum()


def test_the_export_gives_every_queue_its_contacts_handle_time_and_concurrency() -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    scenario["agents"]["groups"]["billing"]["concurrency"] = 3
    scenario["agents"]["groups"]["service"]["concurrency"] = 2
    found = api.demand(scenario, BOT_POLICY, replications=3, seed=SEED, workers=1)
    by_queue = {(r.skill, r.channel) for r in found.rows}
    assert {("billing", "chat"), ("general", "voice")} <= by_queue
    for r in found.rows:
        assert r.concurrency == {("billing", "chat"): "3", ("general", "chat"): "2-3"}.get((r.skill, r.channel), "1")
        assert r.contacts > 0
        assert r.contacts_half_width >= 0
    c = found.comparison
    total = sum(r.contacts for r in found.rows) * len(c.finished(0))
    assert total == pytest.approx(sum(x.counts["queued"] for x in c.finished(0)))
    with_aht = [r for r in found.rows if r.aht_seconds == r.aht_seconds]
    assert with_aht
    assert all(60 < r.aht_seconds < 3600 for r in with_aht)


def test_the_cli_writes_the_csv_a_workforce_tool_imports(tmp_path) -> None:
    out = tmp_path / "demand.csv"
    result = CliRunner().invoke(app, ["demand", "-p", "warm-handoff", "-n", "2", "--days", "1", "-f", "csv",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows
    assert set(rows[0]) == set(api.Demand.columns)
    assert {r["channel"] for r in rows} == {"voice", "chat"}
    assert all(r["day"] == "1" and r["weekday"] == "monday" for r in rows)
