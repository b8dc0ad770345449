"""Shared helpers of the CLI tests: a real `support-sandbox` subprocess and JSON comparison."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXECUTABLE = Path(sys.executable).parent / "support-sandbox"
# A scenario with seven problems of six kinds (test_cli_validate.BAD_LINES lists them).
BAD = (REPO / "tests" / "fixtures" / "invalid" / "many-problems.yaml").read_text(encoding="utf-8")
# The quick comparison most CLI tests use: the built-in default scenario, two policies, two one-day runs.
QUICK = ("-p", "no-bot", "-p", "warm-handoff", "-n", "2", "--days", "1")


def start_cli(*args: str, cwd: Path | None = None, executable: list[str] | None = None) -> subprocess.Popen[str]:
    """Start the installed console script (or ``executable``) in a subprocess, as a user runs it."""
    command = (executable or [str(EXECUTABLE)]) + list(args)
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, cwd=cwd or REPO, env=env)


def finish(process: subprocess.Popen[str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Wait for a started process; several started together run in parallel (they are import-bound)."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def without_wall_time(text: str) -> dict[str, Any]:
    """A comparison's JSON without the fields that differ between identical runs: run time and date."""
    data = json.loads(text)
    assert isinstance(data.pop("wall_seconds"), float)
    assert isinstance(data["provenance"].pop("created"), str)
    for run in data["runs"]:
        assert isinstance(run.pop("wall_seconds"), float)
    return data
