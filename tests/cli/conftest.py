"""Fixtures of the CLI tests: the app run in process with stdout and stderr kept apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from sandbox.cli.main import app

Invoke = Callable[..., Result]


@pytest.fixture
def cli() -> Invoke:
    """``cli("compare", ...)`` runs the app in process; see result.exit_code, .stdout, .stderr."""
    runner = CliRunner()

    def invoke(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(app, list(args), **kwargs)

    return invoke
