"""Provides the supervised worker processes that run replications in parallel.

A small pool of our own rather than ``concurrent.futures.ProcessPoolExecutor``, because a run must survive
what the executor cannot: one killed worker breaks an executor and discards every finished result, a stopped
(SIGSTOP) worker hangs it forever, and its queues need semaphores whose cleanup races (the intermittent
``SemLock._rebuild`` traceback). Here each worker has one duplex pipe and nothing else, and the supervisor

- keeps every finished result (the caller stores them as they arrive),
- runs a lost worker's task again once, on a fresh worker, and reports the loss (``Pool.incidents``),
- gives up with ``WorkerLost`` if the same task loses a second worker, so a task that kills its process
  (out of memory, say) cannot loop,
- kills a worker whose heartbeat stops for ``watchdog`` seconds (a stopped or wedged process) and treats it
  as lost,
- kills busy workers when a run is cancelled (a replication can take minutes and gigabytes; finishing it
  would only delay the next run) and all of them on ``close``, which never waits more than a moment.

Workers leave on their own when the main process goes away (the pipe closes, or their parent changes), so
even a SIGKILL of the main process leaves nothing running.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from sandbox.errors import RunCancelled, SandboxError

HEARTBEAT_SECONDS = 0.5  # a worker says it is alive this often, busy or idle
WATCHDOG_SECONDS = 20.0  # silence after which a worker is taken for stopped and killed
_POLL_SECONDS = 0.05  # how often the supervisor checks should_stop while waiting for results


class WorkerLost(SandboxError):
    """One task lost its worker twice: the run stops, keeping what finished."""


class WorkerFailed(RuntimeError):
    """A task raised an exception inside a worker (a bug, not a user mistake); carries the worker's traceback."""

    def __init__(self, message: str, remote_traceback: str):
        super().__init__(message)
        self.remote_traceback = remote_traceback


@dataclass(frozen=True)
class Task:
    """A call to run in a worker: ``key`` names it for the caller (and in reports), ``what`` in words."""

    key: Hashable
    function: Callable[..., Any]
    args: tuple[Any, ...]
    what: str = ""


def _worker_main(conn: Connection, parent: int) -> None:
    """A worker's life: run tasks from the pipe until it closes; beat while alive; leave with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    sending = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with sending:
            conn.send(message)

    def beat() -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            if os.getppid() != parent:  # the main process is gone (even by SIGKILL): so are we
                os._exit(0)
            try:
                send(("beat",))
            except (OSError, ValueError):
                os._exit(0)

    threading.Thread(target=beat, daemon=True, name="sandbox-heartbeat").start()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, function, args = message
        try:
            reply: tuple[Any, ...] = ("done", task_id, function(*args))
        except BaseException as exc:
            reply = ("failed", task_id, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        try:
            send(reply)
        except (OSError, ValueError):
            return


def _ready() -> None:
    """The first task of every worker, so its imports happen before the first real one."""


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    last_heard: float
    task: tuple[int, Task] | None = None  # (attempt id, task) while busy
    ready: bool = False  # False until the warm-up task returns

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()  # SIGKILL: also ends a stopped (SIGSTOP) process
        self.conn.close()


def _describe_end(process: multiprocessing.process.BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"was ended by {signal.Signals(-code).name}"
        except ValueError:
            return f"was ended by signal {-code}"
    return f"exited with code {code}"


@dataclass(eq=False)
class Pool:
    """``size`` supervised worker processes, started at once and reused by every ``run`` on them."""

    size: int
    watchdog: float = WATCHDOG_SECONDS
    incidents: list[str] = field(default_factory=list)  # lost workers, in words, for the caller to report

    def __post_init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")  # fork is unsafe with threads and on macOS
        self._workers: list[_Worker] = []
        self._closed = threading.Event()
        self._lock = threading.Lock()  # close() may come from another thread while run() supervises
        self._ids = 0
        for _ in range(self.size):
            self._start_worker()

    def _start_worker(self) -> None:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_worker_main, args=(theirs, os.getpid()), daemon=True,
                                        name="sandbox-worker")
        process.start()
        theirs.close()
        worker = _Worker(process, ours, time.monotonic())
        self._workers.append(worker)
        self._send(worker, Task(None, _ready, ()))

    def _send(self, worker: _Worker, task: Task) -> None:
        self._ids += 1
        worker.task = (self._ids, task)
        with contextlib.suppress(OSError, ValueError):  # a dead worker is noticed by the supervisor's next look
            worker.conn.send((self._ids, task.function, task.args))

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        if worker in self._workers:
            self._workers.remove(worker)

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers now in the pool."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def run(self, tasks: Iterable[Task], on_result: Callable[[Hashable, Any], None],
            should_stop: Callable[[], bool] = lambda: False) -> None:
        """Run every task, calling ``on_result(key, value)`` as each finishes (in this thread).

        Raises RunCancelled when ``should_stop`` says so or the pool is closed, WorkerLost when one task
        loses two workers, WorkerFailed when a task raises; busy workers are killed and replaced in every case.
        """
        queue = deque(tasks)
        losses: dict[Hashable, int] = {}
        finished = False
        with self._lock:
            for worker in self._workers:  # heartbeats piled up while nobody listened
                worker.last_heard = time.monotonic()
        try:
            while True:
                if self._closed.is_set() or should_stop():
                    raise RunCancelled
                if not queue and not any(w.task is not None and w.task[1].key is not None for w in self._workers):
                    break
                with self._lock:
                    for worker in self._workers:
                        if worker.task is None and queue:
                            self._send(worker, queue.popleft())
                    conns = {w.conn: w for w in self._workers}
                    sentinels = {w.process.sentinel: w for w in self._workers}
                try:
                    ready_ones = wait([*conns, *sentinels], timeout=_POLL_SECONDS)
                except (OSError, ValueError):  # closed from another thread while waiting
                    continue
                for ready in ready_ones:
                    worker = conns[ready] if isinstance(ready, Connection) else sentinels[ready]  # type: ignore[index]
                    if worker not in self._workers:
                        continue
                    if ready is worker.conn:
                        self._receive(worker, on_result)
                now = time.monotonic()
                for worker in list(self._workers):
                    if not worker.process.is_alive() or now - worker.last_heard > self.watchdog:
                        self._lost(worker, queue, losses)
            finished = True
        finally:
            if not finished:
                self._reset_busy()

    def _receive(self, worker: _Worker, on_result: Callable[[Hashable, Any], None]) -> None:
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                worker.last_heard = time.monotonic()
                if message[0] == "beat":
                    continue
                current, worker.task = worker.task, None
                if current is None or current[0] != message[1]:
                    continue  # the answer to a task given up on
                task = current[1]
                if message[0] == "failed":
                    raise WorkerFailed(f"{task.what or 'a task'} failed in a worker: {message[2]}", message[3])
                worker.ready = True
                if task.key is not None:
                    on_result(task.key, message[2])
        except (EOFError, OSError):
            pass  # it died: the liveness check below sees the exit code

    def _lost(self, worker: _Worker, queue: deque[Task], losses: dict[Hashable, int]) -> None:
        alive = worker.process.is_alive()
        worker.kill()
        worker.process.join(1.0)
        end = f"stopped answering for {self.watchdog:g} s and was killed" if alive else _describe_end(worker.process)
        task = worker.task[1] if worker.task is not None else None
        with self._lock:
            self._retire(worker)
            if not self._closed.is_set():
                self._start_worker()
        if task is None or task.key is None:
            state = "idle" if worker.ready else "starting"
            self.incidents.append(f"a worker process (pid {worker.process.pid}) {end} while {state}; it was replaced")
            return
        losses[task.key] = losses.get(task.key, 0) + 1
        if losses[task.key] > 1:
            raise WorkerLost(f"a worker process (pid {worker.process.pid}) {end} while running {task.what}, "
                             "the second worker lost on it; the run stopped there")
        self.incidents.append(f"a worker process (pid {worker.process.pid}) {end} while running {task.what}; "
                              "it was run again on a new worker")
        queue.appendleft(task)

    def _reset_busy(self) -> None:
        """After a stopped or failed run: busy workers are killed (their work is not wanted) and replaced."""
        with self._lock:
            for worker in [w for w in self._workers if w.task is not None and w.task[1].key is not None]:
                self._retire(worker)
                if not self._closed.is_set():
                    self._start_worker()

    def close(self) -> None:
        """End every worker now: idle ones are told to leave, busy ones killed; waits at most about a second."""
        self._closed.set()
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            if worker.task is not None and worker.task[1].key is not None:
                worker.kill()
            else:
                try:
                    worker.conn.send(None)
                except (OSError, ValueError):
                    worker.kill()
        deadline = time.monotonic() + 1.0
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.kill()
                worker.process.join(0.2)
            worker.conn.close()
