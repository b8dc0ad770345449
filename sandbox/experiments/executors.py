"""Provides the executors that run tasks: serially in this process, or on supervised worker processes.

An executor takes tasks and reports a TaskResult for each as it finishes, in whatever order they finish;
callers store results by task key, so every executor gives the same numbers. A task that raises becomes an
error row and the others go on. Stopping (``should_stop``, Ctrl-C) raises RunCancelled or KeyboardInterrupt
after the results already reported; those are the caller's to keep. A cluster executor needs only ``run``.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
import uuid
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

from sandbox.engine.run import Observer
from sandbox.errors import RunCancelled, SandboxError
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


class DaskExecutor:
    """Tasks on a Dask distributed cluster: ``address`` of a running scheduler, or ``local`` worker processes
    on this machine (a LocalCluster started on the first run and closed by ``close``). Needs the ``dask``
    extra. A task is a pure function of its inputs, so the numbers are those of a serial run."""

    def __init__(self, address: str | None = None, local: int | None = None):
        self.address, self.local = address, local
        self.incidents: list[str] = []
        self._client: Any = None
        self._cluster: Any = None

    def _connect(self) -> Any:
        if self._client is None:
            try:
                from distributed import Client, LocalCluster
            except ImportError:
                raise SandboxError("Dask is not installed: pip install 'support-sandbox[dask]'") from None
            try:
                if self.address is None:
                    self._cluster = LocalCluster(n_workers=self.local or 1, threads_per_worker=1, processes=True,
                                                 dashboard_address=None, host="127.0.0.1",
                                                 silence_logs=logging.ERROR + 10)  # failures are result rows
                    self._client = Client(self._cluster)
                else:
                    self._client = Client(self.address, timeout=10)
            except (OSError, TimeoutError, RuntimeError) as exc:
                self.close()
                where = f"reach the Dask scheduler at {self.address}" if self.address else "start a local Dask cluster"
                raise SandboxError(f"cannot {where}: {exc}") from None
        return self._client

    def run(self, tasks: Sequence[RunTask], on_done: Callable[[TaskResult], None],
            should_stop: Callable[[], bool] = lambda: False) -> None:
        from distributed import as_completed

        client = self._connect()
        futures = {client.submit(run_task, task, key=f"sandbox-{uuid.uuid4().hex}", pure=False): task
                   for task in tasks}
        pending = as_completed(futures, with_results=False)
        try:
            while not pending.is_empty():
                if should_stop():
                    raise RunCancelled
                try:
                    batch = pending.next_batch(block=False) or [next(pending)]
                except StopIteration:
                    break
                for future in batch:
                    task = futures[future]
                    if future.status == "error":
                        exc = future.exception()
                        on_done(TaskResult(task, None, f"{task.what} failed on the cluster: "
                                                       f"{type(exc).__name__}: {exc}",
                                           "".join(traceback.format_exception(exc))))
                    else:
                        on_done(TaskResult(task, future.result()))
        finally:
            client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        for closing in (self._client, self._cluster):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.close()
        self._client = self._cluster = None
