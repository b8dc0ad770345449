"""Faults in worker processes and in the main process: nothing finished is lost, nothing is left running.

The pool is tested directly with builtin calls as tasks (``time.sleep``, ``os.getpid``, ``signal.raise_signal``:
picklable and quick), so every fault happens at a known moment; the command line is tested in a subprocess
whose workers, and the main process itself, are signalled while a run is in progress.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sandbox import api
from sandbox.errors import RunCancelled
from sandbox.experiments.pool import Pool, Task, WorkerFailed, WorkerLost

from .conftest import Outcome, assert_clean, start_cli

SLOW = ("--set", "demand.contacts_per_day=50000")  # about half a second per replication


@pytest.fixture
def pool():
    """Two workers, both started and ready."""
    made = Pool(2, watchdog=3.0)
    made.run([Task(i, time.sleep, (0.3,)) for i in range(2)], lambda key, value: None)
    yield made
    made.close()


def test_a_killed_worker_is_replaced_its_task_run_again_and_every_result_kept(pool: Pool):
    results: dict = {}
    first: list[int] = []

    def on_result(key, value):
        results[key] = value
        if key == "pid":  # the other worker is now busy with the slow task: kill it
            first.append(value)
            for pid in set(pool.pids) - {value}:
                os.kill(pid, signal.SIGKILL)

    pool.run([Task("pid", os.getpid, (), "the pid task"), Task("slow", time.sleep, (1.5,), "the slow task"),
              *(Task(i, pow, (i, 2), f"square {i}") for i in range(6))], on_result)
    assert results == {"pid": first[0], "slow": None, **{i: i * i for i in range(6)}}
    assert len(pool.incidents) == 1, pool.incidents
    assert "SIGKILL" in pool.incidents[0]
    assert "the slow task" in pool.incidents[0]
    assert "run again" in pool.incidents[0]
    assert len(pool.pids) == 2
    assert first[0] in pool.pids


def test_a_task_that_kills_its_worker_twice_stops_the_run_keeping_what_finished(pool: Pool):
    results: dict = {}
    tasks = [Task(i, pow, (i, 2), f"square {i}") for i in range(4)]
    tasks.append(Task("fatal", os._exit, (3,), "the fatal task"))
    with pytest.raises(WorkerLost, match="exited with code 3 while running the fatal task, the second"):
        pool.run(tasks, results.__setitem__)
    assert results == {i: i * i for i in range(4)}
    assert len(pool.incidents) == 1
    assert "exited with code 3" in pool.incidents[0]
    # The pool is whole again for the next run.
    pool.run([Task("after", pow, (3, 3))], results.__setitem__)
    assert results["after"] == 27


def test_a_stopped_worker_is_killed_by_the_watchdog(pool: Pool):
    results: dict = {}
    started = time.monotonic()
    with pytest.raises(WorkerLost, match="stopped answering for 3 s"):
        pool.run([Task("quick", pow, (2, 2)), Task("stop", signal.raise_signal, (signal.SIGSTOP,), "the stop task")],
                 results.__setitem__)
    took = time.monotonic() - started
    assert results == {"quick": 4}
    assert "stopped answering" in pool.incidents[0]
    assert 5 <= took < 15, took  # two watchdog periods (less a heartbeat each), one per attempt


def test_cancelling_kills_busy_workers_and_keeps_idle_ones(pool: Pool):
    before = set(pool.pids)
    started = time.monotonic()
    with pytest.raises(RunCancelled):
        pool.run([Task("long", time.sleep, (60,))], lambda key, value: None,
                 should_stop=lambda: time.monotonic() - started > 0.5)
    assert time.monotonic() - started < 2
    after = set(pool.pids)
    assert len(after) == 1  # the busy one was killed, the idle one kept
    assert after < before
    results: dict = {}
    pool.run([Task(i, pow, (i, 2)) for i in range(4)], results.__setitem__)  # the next run tops the pool up
    assert results == {i: i * i for i in range(4)}
    assert len(pool.pids) == 2


def test_runs_on_one_pool_take_turns_and_keep_their_own_results(pool: Pool):
    """A second run (a sweep asked for during a comparison) waits for the first instead of mixing with it."""
    first: dict = {}
    second: dict = {}
    running = threading.Thread(target=pool.run, args=([Task(("a", i), time.sleep, (0.2,)) for i in range(6)],
                                                      first.__setitem__), daemon=True)
    running.start()
    time.sleep(0.1)
    pool.run([Task(("b", i), pow, (i, 3)) for i in range(4)], second.__setitem__)
    running.join(10)
    assert set(first) == {("a", i) for i in range(6)}
    assert second == {("b", i): i ** 3 for i in range(4)}
    assert pool.incidents == []


def test_a_slow_caller_is_not_taken_for_a_stopped_worker(pool: Pool):
    """The watchdog measures the workers' silence, not the supervisor's: a callback that blocks for longer
    than the watchdog (a terminal paused with Ctrl-S) kills nobody."""
    results: dict = {}

    def slow(key, value):
        results[key] = value
        if key == 0:
            time.sleep(4)  # longer than the fixture's 3 s watchdog

    pool.run([Task(i, time.sleep, (0.5,)) for i in range(4)], slow)
    assert set(results) == set(range(4))
    assert pool.incidents == []


def _unpicklable() -> object:
    return lambda: None  # a lambda cannot be pickled back to the parent


def test_a_result_that_cannot_be_sent_back_is_a_failure_not_a_lost_worker(pool: Pool):
    with pytest.raises(WorkerFailed, match=r"the bad task failed in a worker: (Pickling|Attribute)Error"):
        pool.run([Task("bad", _unpicklable, (), "the bad task")], lambda key, value: None)
    assert pool.incidents == []


def test_close_ends_busy_workers_at_once():
    pool = Pool(2)
    pool.run([Task(i, time.sleep, (0.3,)) for i in range(2)], lambda key, value: None)
    pids = pool.pids

    outcome: list[BaseException] = []

    def run() -> None:
        try:
            pool.run([Task(i, time.sleep, (60,)) for i in range(2)], lambda key, value: None)
        except BaseException as exc:
            outcome.append(exc)

    running = threading.Thread(target=run, daemon=True)
    running.start()
    time.sleep(0.5)
    started = time.monotonic()
    pool.close()
    assert time.monotonic() - started < 1.5
    running.join(2)
    assert not running.is_alive()
    assert isinstance(outcome[0], RunCancelled)
    assert not any(_alive(pid) for pid in pids)


def test_a_replication_lost_with_its_worker_gives_the_numbers_of_a_serial_run():
    """The retried replication uses its own seed-derived streams: the comparison is the serial one."""
    killed: list[int] = []

    def kill_one(comparison: api.Comparison) -> None:
        if not killed and sum(r is not None for runs in comparison.results for r in runs) == 1:
            for victim in pool.pids:  # one is busy (the other just finished): both lost, one with its task
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

    kwargs = dict(policies=["no-bot", "warm-handoff"], replications=6, days=1, seed=5,
                  overrides=["demand.contacts_per_day=1500"])
    pool = Pool(2)
    # Both workers ready first: on a loaded machine one may still be importing when the other has finished a
    # replication, and a worker killed while starting has no replication to run again.
    deadline = time.monotonic() + 60
    while not all(w.ready for w in pool._workers) and time.monotonic() < deadline:
        pool.run([Task(0, os.getpid, ())], lambda key, value: None)  # the supervisor hears who is ready
        time.sleep(0.1)
    try:
        parallel = api.compare(pool=pool, on_result=kill_one, **kwargs)
    finally:
        pool.close()
    serial = api.compare(workers=1, **kwargs)
    assert len(killed) == 2
    # A busy worker's loss is always reported and its replication run again (both may have been busy); an idle
    # one's is reported if the supervisor still needed it before the run ended (on a loaded machine the new
    # worker may finish the rest first).
    assert sum("run again" in incident for incident in parallel.incidents) >= 1, parallel.incidents
    assert all("run again" in incident or "while idle" in incident for incident in parallel.incidents), \
        parallel.incidents
    assert 1 <= len(parallel.incidents) <= 2
    assert not parallel.cancelled
    for p in range(2):
        for r in range(6):
            np.testing.assert_equal(parallel.results[p][r].kpis, serial.results[p][r].kpis)  # nan == nan


# --- the command line --------------------------------------------------------------------------------------


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _started(tmp_path: Path):
    """A two-worker comparison of 32 replications (about 10 s), once its workers are running."""
    running = start_cli("compare", "-p", "no-bot", "-p", "warm-handoff", "-n", "16", "--days", "1", "-w", "2",
                        "-f", "json", "-o", str(tmp_path / "out.json"), *SLOW, cwd=tmp_path)
    # The wrapper execs into the CLI, so the CLI's pid is the started one.
    _wait_for(lambda: len(_workers_of(running.process.pid)) >= 2)
    time.sleep(2.0)  # imports, then the first replications
    return running


def _workers_of(pid: int) -> set[int]:
    """The worker processes of a CLI process: its children but multiprocessing's resource tracker."""
    try:
        children = {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()
    return {c for c in children if b"resource_tracker" not in _cmdline(c)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting to be reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_cli_a_worker_killed_mid_run_is_reported_and_the_numbers_are_complete(tmp_path: Path):
    running = _started(tmp_path)
    os.kill(sorted(_workers_of(running.process.pid))[0], signal.SIGKILL)
    result: Outcome = running.finish(timeout=120)
    assert_clean(result, max_seconds=120, max_mb=1000)
    assert result.returncode == 0, result
    for wanted in ("warning:", "SIGKILL", "run again"):
        assert wanted in result.stderr, result
    data = json.loads(result.stdout)
    assert data["complete_replications"] == 16
    assert data["incidents"]
    assert not data["cancelled"]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_cli_ended_mid_run_leaves_no_process_behind(tmp_path: Path, how: signal.Signals):
    """SIGTERM: finished replications are printed and written beside the output, exit 143; SIGKILL: the
    workers notice and leave. Either way nothing of the run is left within a few seconds."""
    running = _started(tmp_path)
    workers = _workers_of(running.process.pid)
    os.kill(running.process.pid, how)
    _wait_for(lambda: not _alive(running.process.pid), 10)
    _wait_for(lambda: not any(_alive(pid) for pid in workers), 5)  # checked before anything reaps or kills
    result = running.finish(timeout=30)
    if how is signal.SIGKILL:
        return
    assert_clean(result, max_seconds=120, max_mb=1000)
    assert result.returncode == 143, result
    assert "Terminated" in result.stderr
    data = json.loads(result.stdout)
    assert data["cancelled"] is True
    assert data["complete_replications"] >= 1
    assert (tmp_path / "out.partial.json").exists()
    assert not (tmp_path / "out.json").exists()
