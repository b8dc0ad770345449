"""The same tasks on a real Dask LocalCluster (two worker processes on loopback, started here) give the
numbers of a serial run and of the process pool; a task that raises there is an error row too."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from conftest import BOT_POLICY, NO_BOT, SEED, SMALL_SCENARIO

from sandbox import api

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask() -> Iterator[api.DaskExecutor]:
    executor = api.DaskExecutor(local=2)
    yield executor
    executor.close()


def run(**how: object) -> api.Comparison:
    return api.compare(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(NO_BOT), copy.deepcopy(BOT_POLICY)],
                       replications=4, seed=SEED, **how)  # type: ignore[arg-type]


def test_serial_processes_and_dask_agree(dask: api.DaskExecutor) -> None:
    serial, pooled, distributed = run(workers=1), run(workers=2), run(executor=dask)
    for kpi in api.KPIS:
        for p in (0, 1):
            assert serial.values(p, kpi) == pooled.values(p, kpi) == distributed.values(p, kpi) or \
                all(v != v for v in serial.values(p, kpi) + distributed.values(p, kpi)), kpi
    assert distributed.series_mean(1, "queue_length") == serial.series_mean(1, "queue_length")


def test_a_failing_task_on_dask_is_an_error_row(dask: api.DaskExecutor) -> None:
    loaded = api.load(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(NO_BOT)])
    broken = loaded.policies[0].model_copy(update={"automation": None})
    from sandbox.experiments import compare

    c = compare(loaded.scenario, [loaded.policies[0], broken], ["a", "bad"], replications=2, executor=dask)
    assert len(c.errors) == 2
    assert all("failed on the cluster: AttributeError" in (e.error or "") for e in c.errors)
    assert len(c.finished(0)) == 2


def test_staffing_on_dask_is_the_serial_answer(dask: api.DaskExecutor) -> None:
    args = (copy.deepcopy(SMALL_SCENARIO), copy.deepcopy(NO_BOT), ["service_level>=0.8"], 4, SEED)
    assert api.staff(*args, executor=dask).required == api.staff(*args, workers=1).required
