"""A replication that raises is an error row: the other tasks finish, the comparison keeps the replications
every (working) policy finished, and the JSON output names the failure and what produced every result.
"""

from __future__ import annotations

import copy
import json

import pytest
from conftest import BOT_POLICY, NO_BOT, SEED, SMALL_SCENARIO

from sandbox import __version__, api
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.experiments import RunTask, SerialExecutor, TaskResult, compare, executors
from sandbox.export import to_json

REPLICATIONS = 3


def models() -> tuple[Scenario, list[Policy]]:
    loaded = api.load(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(NO_BOT), copy.deepcopy(BOT_POLICY)])
    return loaded.scenario, loaded.policies


def broken(policy: Policy) -> Policy:
    """A policy the engine cannot compile (no automation section): what a bug in the model looks like."""
    return policy.model_copy(update={"automation": None})


@pytest.mark.parametrize("workers", [1, 2])
def test_a_policy_that_raises_in_every_replication_leaves_the_others_whole(workers: int) -> None:
    scenario, policies = models()
    c = compare(scenario, [policies[0], broken(policies[1]), policies[1]], ["a", "bad", "b"], seed=SEED,
                replications=REPLICATIONS, workers=workers)
    assert not c.cancelled
    assert not c.failure
    assert sorted(e.task.replication for e in c.errors) == list(range(REPLICATIONS))
    assert all(e.task.key[0] == 1 and "AttributeError" in (e.error or "") for e in c.errors)
    assert all(e.traceback for e in c.errors)  # for --debug
    assert len(c.finished(0)) == len(c.finished(2)) == c.complete_replications() == REPLICATIONS
    assert c.finished(1) == []
    whole = compare(scenario, [policies[0], policies[1]], ["a", "b"], seed=SEED, replications=REPLICATIONS,
                    workers=1)
    assert c.values(2, "csat") == whole.values(1, "csat")  # the same numbers as without the broken policy


def test_one_failed_replication_drops_that_replication_for_every_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    real = executors.run_task

    def flaky(task: RunTask, observer: object = None) -> object:
        if task.key == (0, 1):
            raise RuntimeError("injected")
        return real(task, observer)  # type: ignore[arg-type]

    monkeypatch.setattr(executors, "run_task", flaky)
    scenario, policies = models()
    seen: list[TaskResult] = []
    c = compare(scenario, policies, ["a", "b"], seed=SEED, replications=REPLICATIONS,
                executor=SerialExecutor(), on_result=lambda c: seen.extend(c.errors[len(seen):]))
    assert [e.task.key for e in c.errors] == [(0, 1)]
    assert "RuntimeError: injected" in (c.errors[0].error or "")
    assert len(seen) == 1  # streamed as it happened
    assert c.complete_replications() == REPLICATIONS - 1
    assert [r.replication for r in c.finished(0)] == [r.replication for r in c.finished(1)] == [0, 2]
    data = json.loads(to_json(c))
    assert data["errors"] == [{"policy": "a", "replication": 1, "seed": SEED,
                               "error": "replication 2 of no bot failed: RuntimeError: injected"}]
    assert [(r["policy"], r["replication"]) for r in data["runs"]] == [("a", 0), ("a", 2), ("b", 0), ("b", 2)]


def test_json_of_run_and_compare_carries_provenance() -> None:
    c = api.compare(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(NO_BOT), copy.deepcopy(BOT_POLICY)],
                    replications=2, seed=SEED, overrides=["demand.contacts_per_day=300"], days=1)
    data = json.loads(to_json(c))
    record = data["provenance"]
    assert record["version"] == __version__
    assert record["seed"] == SEED
    assert record["replications"] == 2
    assert record["overrides"] == ["demand.contacts_per_day=300", "horizon.days=1"]
    assert "contacts_per_day: 300" in record["scenario"]["yaml"]
    assert len(record["scenario"]["sha256"]) == 64
    assert [p["label"] for p in record["policies"]] == list(data["policies"])
    assert all(len(p["sha256"]) == 64 for p in record["policies"])
    assert all(r["wall_seconds"] > 0 and r["seed"] == SEED for r in data["runs"])
    assert len(data["runs"]) == 4
