"""Import layering, checked in fresh interpreters so other tests' imports cannot hide a violation.

The core (config, model, metrics, engine, api) must import without any UI library, so notebooks and worker
processes stay light; only sandbox.engine may import SimPy.
"""

from __future__ import annotations

import json
import subprocess
import sys


UI = ("textual", "typer", "rich", "click")


def loaded_after(*modules: str) -> set[str]:
    """Top-level module names in sys.modules after importing ``modules`` in a new interpreter."""
    code = ("import importlib, json, sys\n"
            f"for name in {list(modules)!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_core_does_not_import_ui_libraries() -> None:
    loaded = loaded_after("sandbox.api", "sandbox.engine.run", "sandbox.config.loader", "sandbox.experiments")
    assert "sandbox" in loaded and "numpy" in loaded  # the probe itself works
    assert not loaded & set(UI), sorted(loaded & set(UI))


NOT_ENGINE = ("sandbox.model", "sandbox.model.conversation", "sandbox.model.frustration", "sandbox.model.outcomes",
              "sandbox.metrics", "sandbox.metrics.ledger", "sandbox.metrics.stats", "sandbox.metrics.kpis",
              "sandbox.metrics.monitors", "sandbox.config", "sandbox.config.loader", "sandbox.config.reference",
              "sandbox.units", "sandbox.errors", "sandbox.erlang")


def test_only_the_engine_imports_simpy() -> None:
    """Importing every non-engine module together brings in no SimPy, so none of them does on its own."""
    loaded = loaded_after(*NOT_ENGINE)
    assert "simpy" not in loaded
    assert not loaded & set(UI)


def test_the_engine_does_import_simpy() -> None:
    """The check above can fail: importing the engine does bring SimPy in."""
    assert "simpy" in loaded_after("sandbox.engine.run")


def test_the_cli_imports_its_ui_libraries() -> None:
    loaded = loaded_after("sandbox.cli.main")
    assert {"typer", "rich"} <= loaded
