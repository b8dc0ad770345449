"""Helpers of the robustness tests: the real CLI in a subprocess, bounded in time and memory.

``run_cli`` starts ``python -m sandbox ...`` in its own session with an address-space limit (RLIMIT_AS), so
a memory blow-up fails the test with a MemoryError instead of swapping the machine, and kills the whole
process group when it runs past its time limit (a hang is a failure, not a stuck CI job). The peak resident
memory of the process and of every process it waited for comes from ``os.wait4``.

``assert_user_error`` states the README's promise for bad input: exit code 2, a message naming the file
(and line and dotted key where there is one) or the option, no traceback, no "internal error", quickly and
in little memory.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
PYTHON = sys.executable

TIME_LIMIT = 10.0  # seconds for one bad-input case (the CLI itself starts in ~0.6 s)
MEMORY_LIMIT_MB = 500  # peak resident memory of one bad-input case (a normal `validate` takes ~80 MB)
ADDRESS_SPACE_MB = 2048  # RLIMIT_AS: far above any honest run, so only a blow-up reaches it
# Environment of every run: no colour, a dumb terminal, wide lines (problems are never wrapped), one BLAS
# thread (its per-thread buffers would only count against RLIMIT_AS).
ENV = {"NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200", "LINES": "50", "OPENBLAS_NUM_THREADS": "1",
       "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass
class Outcome:
    """What one CLI run did."""

    args: Sequence[str | bytes]
    returncode: int | None  # None: killed at the time limit
    out: bytes
    err: bytes
    seconds: float
    peak_mb: float
    timed_out: bool
    processes: int = 1  # the most processes seen in its group at once

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8", "backslashreplace")

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8", "backslashreplace")

    def __str__(self) -> str:  # shown by failing assertions
        shown = " ".join(a.decode("utf-8", "backslashreplace") if isinstance(a, bytes) else a for a in self.args)
        return (f"\n$ {shown}\nexit {self.returncode}{' (killed at the time limit)' if self.timed_out else ''}, "
                f"{self.seconds:.2f} s, {self.peak_mb:.0f} MB peak, {self.processes} processes"
                f"\n--- stderr ---\n{self.stderr[-3000:]}"
                f"\n--- stdout ---\n{self.stdout[-1500:]}")


# Sets the address-space limit, then becomes the command (a preexec_fn would not be safe: cases run from
# threads). Arguments pass through as bytes, so file names that are not UTF-8 arrive unchanged.
_WRAPPER = ("import os, resource, sys\n"
            "limit = int(sys.argv[1]) * 1024 * 1024\n"
            "resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n"
            "command = [os.fsencode(a) for a in sys.argv[2:]]\n"
            "os.execv(command[0], command)\n")


class Running:
    """A started CLI process (for tests that signal it while it runs)."""

    def __init__(self, args: Sequence[str | bytes], cwd: Path | None, env: dict[str, str] | None,
                 memory_mb: int, stdin: int | None = subprocess.DEVNULL, command: Sequence[str] | None = None):
        self.prefix = list(command or [PYTHON, "-m", "sandbox"])
        self.args = [*self.prefix, *args]
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by finish()
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self.started = time.perf_counter()
        # A new session: the process group can be signalled as a terminal's Ctrl-C would, and killed whole.
        self.process = subprocess.Popen([PYTHON, "-S", "-c", _WRAPPER, str(memory_mb), *self.args],
                                        stdout=self._out, stderr=self._err, stdin=stdin, cwd=cwd or REPO,
                                        env={**os.environ, **ENV, **(env or {})}, start_new_session=True)

    def stderr_so_far(self) -> str:
        self._err.flush()
        with open(self._err.fileno(), "rb", closefd=False) as handle:
            handle.seek(0)
            return handle.read().decode("utf-8", "backslashreplace")

    def interrupt(self) -> None:
        """Ctrl-C in a terminal: SIGINT to the whole foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def finish(self, timeout: float = TIME_LIMIT, max_processes: int = 64) -> Outcome:
        """Wait, killing the process group at ``timeout`` or once it has more than ``max_processes`` processes
        (a `--workers 1000` that really started a thousand would take the machine down with it)."""
        pid = self.process.pid
        deadline = self.started + timeout
        timed_out = False
        self.most_processes = 1
        polls = 0
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                break
            polls += 1
            if polls % 10 == 0:
                self.most_processes = max(self.most_processes, _group_size(pid))
            if time.perf_counter() > deadline or self.most_processes > max_processes:
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - self.started
        code = os.waitstatus_to_exitcode(status)
        self.process.returncode = code  # reaped here; keeps Popen from warning
        if not timed_out:  # stray workers of a killed run are killed too; of a finished one they are gone
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self._out.seek(0)
        self._err.seek(0)
        out, err = self._out.read(), self._err.read()
        self._out.close()
        self._err.close()
        return Outcome(self.args[len(self.prefix):], None if timed_out else code, out, err, seconds,
                       usage.ru_maxrss / 1024, timed_out, self.most_processes)


def _group_size(pgid: int) -> int:
    """Processes in a process group (Linux /proc; 1 where it cannot be read)."""
    count = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 1
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # after the command name: state, ppid, pgrp
            count += 1
    return max(count, 1)


def start_cli(*args: str | bytes, cwd: Path | None = None, env: dict[str, str] | None = None,
              memory_mb: int = ADDRESS_SPACE_MB, command: Sequence[str] | None = None) -> Running:
    return Running(args, cwd, env, memory_mb, command=command)


def run_cli(*args: str | bytes, cwd: Path | None = None, timeout: float = TIME_LIMIT,
            env: dict[str, str] | None = None, memory_mb: int = ADDRESS_SPACE_MB,
            command: Sequence[str] | None = None, max_processes: int = 64) -> Outcome:
    """``python -m sandbox *args`` (or ``command *args``), killed after ``timeout`` seconds or when it starts
    more than ``max_processes`` processes, with at most ``memory_mb`` of address space."""
    return Running(args, cwd, env, memory_mb, command=command).finish(timeout, max_processes)


def assert_clean(result: Outcome, max_seconds: float = TIME_LIMIT, max_mb: float = MEMORY_LIMIT_MB) -> None:
    """No hang, no blow-up, no traceback, no internal error: whatever the exit code."""
    assert not result.timed_out, (f"killed: it started {result.processes} processes" if result.processes > 64 else
                                  "killed: it did not finish within the time limit") + str(result)
    both = result.stdout + result.stderr
    assert "Traceback" not in both, f"a traceback{result}"
    assert "internal error" not in both.lower(), f"an internal error{result}"
    assert "MemoryError" not in both, f"ran out of memory{result}"
    assert result.seconds <= max_seconds, f"took {result.seconds:.1f} s, more than {max_seconds:g} s{result}"
    assert result.peak_mb <= max_mb, f"peak memory {result.peak_mb:.0f} MB, more than {max_mb:g} MB{result}"


def assert_user_error(result: Outcome, *mentions: str, line: tuple[str, int] | None = None,
                      absent: Sequence[str] = (), max_seconds: float = TIME_LIMIT,
                      max_mb: float = MEMORY_LIMIT_MB) -> None:
    """Exit 2 with a clear message: every string of ``mentions`` (file, key, option) in stderr, ``file:line``
    when ``line`` is given, none of ``absent``; quickly, in little memory, without a traceback."""
    assert_clean(result, max_seconds, max_mb)
    assert result.returncode == 2, f"exit code {result.returncode}, not 2{result}"
    assert result.stderr.strip(), f"no message on stderr{result}"
    for text in mentions:
        assert text in result.stderr, f"stderr does not mention {text!r}{result}"
    if line is not None:
        file, number = line
        assert f"{file}:{number}" in result.stderr, f"stderr does not locate {file}:{number}{result}"
    for text in absent:
        assert text not in result.stderr, f"stderr mentions {text!r}, which it should not{result}"


_LIMIT_WORDS = re.compile(r"at most|no more than|maximum|\bmax\b|limit|exceed|too (large|many|long|big|high)|"
                          r"larger than|longer than|more than|<=|≤|between", re.IGNORECASE)


def assert_mentions_limit(result: Outcome, *numbers: str) -> None:
    """The message says that a limit was passed, by wording or by the limit's value (any of ``numbers``)."""
    text = result.stderr
    assert _LIMIT_WORDS.search(text) or any(n in text for n in numbers), \
        f"stderr does not say what the limit is (expected e.g. 'at most' or one of {numbers}){result}"


# --- inputs --------------------------------------------------------------------------------------------

# A valid scenario with one key per line, so every case can say on which line its problem is.
BASE_SCENARIO = """\
name: base
horizon:
  days: 1
  warm_up: 0s
hours:
  default: "08:00-18:00"
demand:
  contacts_per_day: 200
  weekday_factors:
    monday: 1.0
  busyness_shape: 20
channels:
  voice:
    share: 1
    service_level_threshold: 20s
    handle_time_factor: 1.0
segments:
  all:
    share: 1
    value_at_risk: 100
intents:
  general:
    share: 1
    handle_time: {kind: exponential, mean: 5m}
bot:
  identification: 0s
  quality: 1.0
  cost_per_resolution: 0.99
agents:
  groups:
    team:
      skills: [general]
      headcount: 3
      hourly_cost: 40
"""

BASE_POLICY = """\
name: robust
automation:
  share: 0.5
escalation:
  max_bot_turns: 3
  frustration_threshold: 0.6
staffing:
  scale: 1.0
"""


def line_of(text: str, dotted_key: str) -> int:
    """The line of a key in a block-style YAML text like BASE_SCENARIO (``demand.contacts_per_day``)."""
    parts = dotted_key.split(".")
    line, indent = 0, 0
    lines = text.splitlines()
    for depth, part in enumerate(parts):
        for i in range(line, len(lines)):
            if lines[i].startswith(" " * indent + part + ":"):
                line, indent = i, indent + 2
                break
        else:
            raise KeyError(f"{dotted_key}: no {part!r} at depth {depth}")
        line = line + 1 if depth < len(parts) - 1 else line
    return line + 1


def replace_value(text: str, dotted_key: str, value: str) -> str:
    """``text`` with the value of an existing block-style key replaced by ``value`` (raw YAML, one line)."""
    number = line_of(text, dotted_key)
    lines = text.splitlines()
    head = lines[number - 1].split(":", 1)[0]
    lines[number - 1] = f"{head}: {value}"
    return "\n".join(lines) + "\n"


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write("name.yaml", text_or_bytes)`` → the path of a new file in tmp_path."""

    def make(name: str | bytes, content: str | bytes) -> Path:
        path = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), os.fsencode(name))))
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return make
