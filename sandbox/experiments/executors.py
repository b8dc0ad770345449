"""Provides the executors that run tasks: serially in this process, or on supervised worker processes.

An executor takes tasks and reports a TaskResult for each as it finishes, in whatever order they finish;
callers store results by task key, so every executor gives the same numbers. A task that raises becomes an
error row and the others go on. Stopping (``should_stop``, Ctrl-C) raises RunCancelled or KeyboardInterrupt
after the results already reported; those are the caller's to keep. A cluster executor needs only ``run``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

from sandbox.engine.run import Observer
from sandbox.errors import RunCancelled
from sandbox.experiments.pool import Pool, Task
from sandbox.experiments.tasks import RunTask, TaskResult, run_task


class Executor(Protocol):
    incidents: list[str]  # what went wrong around the tasks (lost worker processes), in words

    def run(self, tasks: Sequence[RunTask], on_done: Callable[[TaskResult], None],
            should_stop: Callable[[], bool] = lambda: False) -> None: ...


class SerialExecutor:
    """Tasks one after another in this process; ``observer`` sees within-run progress and may stop a run."""

    def __init__(self, observer: Observer | None = None):
        self.observer = observer
        self.incidents: list[str] = []

    def run(self, tasks: Sequence[RunTask], on_done: Callable[[TaskResult], None],
            should_stop: Callable[[], bool] = lambda: False) -> None:
        for task in tasks:
            if should_stop():
                raise RunCancelled
            try:
                result = run_task(task, self.observer)
            except (RunCancelled, KeyboardInterrupt, MemoryError):
                raise
            except Exception as exc:  # a bug in the model, seen in one task: the batch decides
                on_done(TaskResult(task, None, f"{task.what} failed: {type(exc).__name__}: {exc}",
                                   traceback.format_exc()))
                continue
            on_done(TaskResult(task, result))


class PoolExecutor:
    """Tasks on supervised worker processes (sandbox.experiments.pool): the given warm ``pool``, reused
    across runs (the workbench's), or one of ``workers`` processes started for each run and closed after."""

    def __init__(self, workers: int = 1, pool: Pool | None = None):
        self.workers = workers
        self.pool = pool
        self.incidents: list[str] = []

    def run(self, tasks: Sequence[RunTask], on_done: Callable[[TaskResult], None],
            should_stop: Callable[[], bool] = lambda: False) -> None:
        own = self.pool is None
        pool = Pool(self.workers) if self.pool is None else self.pool
        seen = len(pool.incidents)
        by_key = {task.key: task for task in tasks}

        def done(key: Hashable, value: Any) -> None:
            on_done(TaskResult(by_key[key], value))

        def failure(key: Hashable, message: str, remote_traceback: str) -> None:
            on_done(TaskResult(by_key[key], None, message, remote_traceback))

        try:
            pool.run([Task(task.key, run_task, (task,), task.what) for task in tasks], done, should_stop, failure)
        finally:
            self.incidents.extend(pool.incidents[seen:])
            if own:
                pool.close()
