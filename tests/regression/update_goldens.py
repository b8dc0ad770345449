"""Regenerate the golden KPI summaries of tests/regression: ``python tests/regression/update_goldens.py``.

Every shipped scenario (simulations/*.yaml) is run with every shipped policy (policies/*.yaml): a fixed seed,
2 replications, 1 day, serially. Each scenario's KPI means per policy, rounded to 6 significant digits, go to
tests/regression/goldens/<scenario>.json with the numpy and Python versions that produced them (numpy does not
promise identical Generator streams across releases, so the test skips when numpy's major.minor differs).

Regenerate only when a change of results is intended, and review the diff of the JSON files before committing.
"""

from __future__ import annotations

import json
import math
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
GOLDENS = Path(__file__).resolve().parent / "goldens"  # goldens/earlier-model: frozen (test_earlier_model)
SEED = 20261127
REPLICATIONS = 2
DAYS = 1
DIGITS = 6


def scenario_files() -> list[Path]:
    return sorted((REPO / "simulations").glob("*.yaml"))


def policy_files() -> list[Path]:
    return sorted((REPO / "policies").glob("*.yaml"))


def significant(value: float, digits: int = DIGITS) -> float | None:
    """``value`` rounded to ``digits`` significant digits; None for nan (JSON has no nan)."""
    if math.isnan(value):
        return None
    if value == 0 or math.isinf(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def summarize(scenario: Path) -> dict[str, Any]:
    """The golden summary of one scenario: KPI means per policy, rounded, with provenance."""
    from sandbox import api
    from sandbox.metrics.kpis import KPIS

    policies = policy_files()
    c = api.compare(scenario, policies, replications=REPLICATIONS, seed=SEED, days=DAYS, workers=1)
    assert not c.cancelled
    assert c.complete_replications() == REPLICATIONS
    return {
        "scenario": scenario.stem,
        "seed": SEED, "replications": REPLICATIONS, "days": DAYS, "significant_digits": DIGITS,
        "numpy": np.__version__, "python": platform.python_version(),
        "policies": {label: {kpi: significant(c.estimate(p, kpi).mean) for kpi in KPIS}
                     for p, label in enumerate(c.labels)},
    }


def golden_path(scenario: Path) -> Path:
    return GOLDENS / f"{scenario.stem}.json"


def main() -> int:
    GOLDENS.mkdir(parents=True, exist_ok=True)
    for scenario in scenario_files():
        path = golden_path(scenario)
        path.write_text(json.dumps(summarize(scenario), indent=2, sort_keys=False) + "\n")
        print(f"wrote {path.relative_to(REPO)}")
    stale = {p.name for p in GOLDENS.glob("*.json")} - {golden_path(s).name for s in scenario_files()}
    for name in sorted(stale):
        print(f"note: goldens/{name} has no scenario any more; delete it")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))  # run from a checkout without installing
    sys.exit(main())
