"""Provides experiments: tasks (one replication each), executors that run them, and the comparisons built on
them. ``tasks`` holds the unit of work and its result row, ``executors`` the serial and process-pool ways to
run tasks, ``pool`` the supervised worker processes, ``comparison`` policies compared on common random numbers.
"""

from sandbox.experiments.comparison import Comparison, compare, default_workers, executor_for, useful_workers
from sandbox.experiments.executors import DaskExecutor, Executor, PoolExecutor, SerialExecutor
from sandbox.experiments.pool import Pool, WorkerFailed, WorkerLost
from sandbox.experiments.tasks import RunTask, TaskResult, run_task

__all__ = ["Comparison", "DaskExecutor", "Executor", "Pool", "PoolExecutor", "RunTask", "SerialExecutor", "TaskResult",
           "WorkerFailed", "WorkerLost", "compare", "default_workers", "executor_for", "run_task", "useful_workers"]
