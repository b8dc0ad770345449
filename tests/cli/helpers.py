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
# The quick comparison most CLI tests use: the built-in default scenario, two policies, two one-day runs.
QUICK = ("-p", "no-bot", "-p", "warm-handoff", "-n", "2", "--days", "1")


def run_cli(*args: str, cwd: Path | None = None, executable: list[str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed console script in a subprocess, as a user runs it."""
    command = (executable or [str(EXECUTABLE)]) + list(args)
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd or REPO, timeout=timeout, env=env,
                          check=False)


def without_wall_time(text: str) -> dict[str, Any]:
    """A comparison's JSON without the one field that differs between identical runs."""
    data = json.loads(text)
    assert isinstance(data.pop("wall_seconds"), float)
    return data
