"""Provides the supervised worker processes that run replications in parallel.

A small pool of our own rather than ``concurrent.futures.ProcessPoolExecutor``, because a run must survive
what the executor cannot: one killed worker breaks an executor and discards every finished result, a stopped
(SIGSTOP) worker hangs it forever, and its queues need semaphores whose cleanup races (the intermittent
``SemLock._rebuild`` traceback). Here each worker has one duplex pipe and nothing else, and the supervisor

- keeps every finished result (the caller stores them as they arrive),
- runs a lost worker's task again once, on a fresh worker, and reports the loss (``Pool.incidents``),
- gives up on a task that loses a second worker, so a task that kills its process (out of memory, say)
  cannot loop: with an ``on_failure`` callback that task is reported and the run goes on, without one the
  run stops with ``WorkerLost``,
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
import pickle
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

    def __post_init__(self) -> None:
        if not self.what:
            object.__setattr__(self, "what", f"task {self.key!r}")


def _worker_main(conn: Connection, parent: int) -> None:
    """A worker's life: run tasks from the pipe until it closes; beat while busy; leave with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    sending = threading.Lock()
    busy = threading.Event()  # idle workers stay silent: nobody reads their pipe between runs

    def send(message: tuple[Any, ...]) -> None:
        with sending:
            conn.send(message)

    def beat() -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            if os.getppid() != parent:  # the main process is gone (even by SIGKILL): so are we
                os._exit(0)
            if busy.is_set():
                try:
                    send(("beat",))
                except (OSError, ValueError):
                    os._exit(0)

    threading.Thread(target=beat, daemon=True, name="sandbox-heartbeat").start()
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError):
            return
        busy.set()
        task_id = None
        try:
            message = pickle.loads(raw)
            if message is None:
                return
            task_id, function, args = message
            send(("done", task_id, function(*args)))
        except (EOFError, OSError):
            return
        except BaseException as exc:  # a bug in the task, or a result that cannot be pickled: the caller decides
            try:
                send(("failed", task_id, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
            except (OSError, ValueError):
                return
        finally:
            busy.clear()


def _ready() -> None:
    """The first task of every worker: the simulation's imports, done before the first replication arrives."""
    import sandbox.experiments  # noqa: F401 - imported for its side effect: numpy, simpy, pydantic, the engine


@dataclass(eq=False)
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    last_heard: float
    task: tuple[int, Task] | None = None  # (attempt id, task) while it has one (the warm-up included)
    ready: bool = False  # False until the warm-up task returns

    @property
    def busy(self) -> bool:
        """Running a caller's task (not just warming up)."""
        return self.task is not None and self.task[1].key is not None

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
    """``size`` supervised worker processes, started at once and reused by every ``run`` on them.

    One run at a time: a second ``run`` (a new comparison superseding one being stopped, a sweep asked for
    during a comparison) waits for the first to leave, polling its own ``should_stop`` meanwhile.
    """

    size: int
    watchdog: float = WATCHDOG_SECONDS
    incidents: list[str] = field(default_factory=list)  # lost workers, in words, for the caller to report

    def __post_init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")  # fork is unsafe with threads and on macOS
        self._workers: list[_Worker] = []
        self._closed = threading.Event()
        self._lock = threading.Lock()  # guards _workers: close() may come from another thread
        self._running = threading.Lock()  # held for the whole of a run
        self._ids = 0
        self._failed_starts = 0  # workers lost in a row before they were ready
        self._on_failure: Callable[[Hashable, str, str], None] | None = None  # the current run's
        try:
            for _ in range(self.size):
                self._start_worker()
        except BaseException:
            self.close()
            raise

    def _start_worker(self) -> None:
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_worker_main, args=(theirs, os.getpid()), daemon=True,
                                        name="sandbox-worker")
        # Ctrl-C during the seconds a new interpreter imports would print a traceback from each: the child
        # starts with SIGINT blocked (the mask is inherited) and ignores it once running.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        theirs.close()
        worker = _Worker(process, ours, time.monotonic())
        self._workers.append(worker)
        self._send(worker, Task(None, _ready, (), "starting"))

    def _send(self, worker: _Worker, task: Task) -> None:
        self._ids += 1
        worker.task = (self._ids, task)
        worker.last_heard = time.monotonic()
        with contextlib.suppress(OSError, ValueError):  # a dead worker is noticed by the supervisor's next look
            worker.conn.send((self._ids, task.function, task.args))

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        worker.process.join(0.2)  # reaped, so no zombie holds its sentinel
        if worker in self._workers:
            self._workers.remove(worker)

    def _top_up(self) -> None:
        with self._lock:
            while len(self._workers) < self.size and not self._closed.is_set():
                self._start_worker()

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers now in the pool."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]

    def run(self, tasks: Iterable[Task], on_result: Callable[[Hashable, Any], None],
            should_stop: Callable[[], bool] = lambda: False,
            on_failure: Callable[[Hashable, str, str], None] | None = None) -> None:
        """Run every task, calling ``on_result(key, value)`` as each finishes (in this thread).

        A task that raises, or loses two workers, is passed to ``on_failure(key, message, traceback)`` and
        the others go on; without ``on_failure`` it stops the run with WorkerFailed or WorkerLost. Raises
        RunCancelled when ``should_stop`` says so or the pool is closed. Busy workers of a run that stops
        early are killed (their work is not wanted), and replaced at the next run.
        """
        while not self._running.acquire(timeout=_POLL_SECONDS):
            if self._closed.is_set() or should_stop():
                raise RunCancelled
        self._on_failure = on_failure
        try:
            self._run(deque(tasks), on_result, should_stop)
        finally:
            self._on_failure = None
            self._running.release()

    def _failed(self, task: Task, message: str, remote_traceback: str, error: type[Exception]) -> None:
        if self._on_failure is None:
            raise (WorkerFailed(message, remote_traceback) if error is WorkerFailed else WorkerLost(message))
        self._on_failure(task.key, message, remote_traceback)

    def _run(self, queue: deque[Task], on_result: Callable[[Hashable, Any], None],
             should_stop: Callable[[], bool]) -> None:
        losses: dict[Hashable, int] = {}
        finished = False
        self._top_up()
        looked = time.monotonic()
        try:
            while True:
                if self._closed.is_set() or should_stop():
                    raise RunCancelled
                if not queue and not any(w.busy for w in self._workers):
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
                    if worker in self._workers:
                        self._receive(worker, on_result)
                now = time.monotonic()
                if now - looked > 4 * HEARTBEAT_SECONDS:
                    # This loop was away (a slow on_result, the whole process stopped by Ctrl-Z): the silence
                    # is ours, not the workers'.
                    for worker in self._workers:
                        worker.last_heard = now
                looked = now
                for worker in list(self._workers):
                    if self._closed.is_set():
                        raise RunCancelled
                    # A worker still importing gets three watchdog periods: a loaded machine starts slowly.
                    allowed = self.watchdog * (1 if worker.ready else 3)
                    if not worker.process.is_alive() or (worker.task is not None
                                                         and now - worker.last_heard > allowed):
                        self._receive(worker, on_result)  # what it said before it went
                        self._lost(worker, queue, losses)
            finished = True
        finally:
            if not finished:
                self._drop_busy()

    def _receive(self, worker: _Worker, on_result: Callable[[Hashable, Any], None]) -> None:
        try:
            while worker.conn.poll():
                message = worker.conn.recv()
                worker.last_heard = time.monotonic()
                if message[0] == "beat" or worker.task is None:
                    continue
                attempt, task = worker.task
                if message[1] not in (attempt, None):  # None: the task could not even be unpickled
                    continue
                worker.task = None
                worker.ready = True  # a task that raised leaves its worker alive and ready for the next
                if message[0] == "failed":
                    self._failed(task, f"{task.what} failed in a worker: {message[2]}", message[3], WorkerFailed)
                    continue
                if task.key is not None:
                    on_result(task.key, message[2])
        except (EOFError, OSError):
            pass  # it died: the liveness check sees the exit code

    def _lost(self, worker: _Worker, queue: deque[Task], losses: dict[Hashable, int]) -> None:
        alive = worker.process.is_alive()
        task = worker.task[1] if worker.task is not None else None
        with self._lock:
            self._retire(worker)
            if self._closed.is_set():
                raise RunCancelled  # killed by close(), not lost
            self._start_worker()
        end = f"stopped answering for {self.watchdog:g} s and was killed" if alive else _describe_end(worker.process)
        if task is None or task.key is None:
            self.incidents.append(f"a worker process (pid {worker.process.pid}) {end} while "
                                  f"{'idle' if task is None else 'starting'}; it was replaced")
            self._failed_starts = self._failed_starts + 1 if task is not None else 0
            if self._failed_starts >= 3:
                raise WorkerLost("three worker processes in a row ended while starting; the run stopped")
            return
        self._failed_starts = 0
        losses[task.key] = losses.get(task.key, 0) + 1
        if losses[task.key] > 1:
            self._failed(task, f"a worker process (pid {worker.process.pid}) {end} while running {task.what}, "
                         "the second worker lost on it" + ("; the run stopped there" if self._on_failure is None
                                                            else ""), "", WorkerLost)
            return
        self.incidents.append(f"a worker process (pid {worker.process.pid}) {end} while running {task.what}; "
                              "it was run again on a new worker")
        queue.appendleft(task)

    def _drop_busy(self) -> None:
        """After a stopped or failed run: busy workers are killed; the next run starts new ones."""
        with self._lock:
            for worker in [w for w in self._workers if w.busy]:
                self._retire(worker)

    def close(self) -> None:
        """End every worker now: idle ones are told to leave, busy ones killed; waits at most about a second."""
        self._closed.set()
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            if worker.busy:
                worker.kill()
            else:
                try:
                    worker.conn.send(None)
                except (OSError, ValueError):
                    worker.kill()
        deadline = time.monotonic() + 1.0
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.process.is_alive():
                worker.kill()
        for worker in workers:
            worker.process.join(0.2)
            worker.conn.close()
