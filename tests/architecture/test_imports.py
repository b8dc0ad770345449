"""Import layering, checked in fresh interpreters so other tests' imports cannot hide a violation.

The core (config, model, metrics, engine, experiments, api, export) must import without any UI library, so
notebooks and worker processes stay light; only sandbox.engine may import SimPy; the CLI loads Textual only
when the workbench is opened.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

UI = ("textual", "typer", "rich", "click")
NOT_ENGINE = ("sandbox.model", "sandbox.model.conversation", "sandbox.model.frustration", "sandbox.model.outcomes",
              "sandbox.metrics", "sandbox.metrics.ledger", "sandbox.metrics.stats", "sandbox.metrics.kpis",
              "sandbox.metrics.monitors", "sandbox.config", "sandbox.config.loader", "sandbox.config.reference",
              "sandbox.units", "sandbox.errors", "sandbox.erlang")
PROBES = {
    "core": ("sandbox.api", "sandbox.engine.run", "sandbox.config.loader", "sandbox.experiments", "sandbox.export"),
    "not engine": NOT_ENGINE,
    "engine": ("sandbox.engine.run",),
    "cli": ("sandbox.cli.main",),
}


def _probe(modules: tuple[str, ...]) -> subprocess.Popen[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {list(modules)!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """Top-level module names in sys.modules after each probe's imports, each in a new interpreter."""
    started = {name: _probe(modules) for name, modules in PROBES.items()}  # side by side: import-bound
    out = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        out[name] = set(json.loads(stdout))
    return out


def test_core_does_not_import_ui_libraries(loaded: dict[str, set[str]]) -> None:
    assert "sandbox" in loaded["core"]
    assert "numpy" in loaded["core"]
    assert not loaded["core"] & set(UI), sorted(loaded["core"] & set(UI))


def test_only_the_engine_imports_simpy(loaded: dict[str, set[str]]) -> None:
    """Importing every non-engine module together brings in no SimPy, so none of them does on its own."""
    assert "simpy" not in loaded["not engine"]
    assert not loaded["not engine"] & set(UI)


def test_the_engine_does_import_simpy(loaded: dict[str, set[str]]) -> None:
    """The check above can fail: importing the engine does bring SimPy in."""
    assert "simpy" in loaded["engine"]


def test_the_cli_loads_textual_only_for_the_workbench(loaded: dict[str, set[str]]) -> None:
    assert {"typer", "rich"} <= loaded["cli"]
    assert "textual" not in loaded["cli"]
