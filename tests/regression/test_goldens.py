"""Every shipped scenario × every shipped policy against its golden KPI summary (tests/regression/goldens).

A difference means results changed. If that was intended, run ``python tests/regression/update_goldens.py``
and review the diff of the JSON files; if not, something changed the simulation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from regression.update_goldens import (
    DAYS,
    DIGITS,
    REPLICATIONS,
    SEED,
    golden_path,
    policy_files,
    scenario_files,
    significant,
    summarize,
)
from sandbox.metrics.kpis import KPIS

UPDATE = "If the change is intended, run `python tests/regression/update_goldens.py` and review the diff."


def major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_every_shipped_scenario_has_a_golden() -> None:
    assert scenario_files(), "no shipped scenarios found"
    missing = [s.name for s in scenario_files() if not golden_path(s).exists()]
    assert not missing, f"no golden for {missing}. {UPDATE}"


@pytest.mark.parametrize("scenario", scenario_files(), ids=lambda p: p.stem)
def test_scenario_matches_golden(scenario: Path) -> None:
    path = golden_path(scenario)
    if not path.exists():
        pytest.fail(f"{path} is missing. {UPDATE}")
    golden = json.loads(path.read_text())
    if major_minor(golden["numpy"]) != major_minor(np.__version__):
        pytest.skip(f"goldens were made with numpy {golden['numpy']}, this is numpy {np.__version__}: numpy does "
                    "not promise identical random streams across releases, so results may differ legitimately. "
                    "Regenerate them with `python tests/regression/update_goldens.py` on this numpy.")
    assert (golden["seed"], golden["replications"], golden["days"], golden["significant_digits"]) == \
        (SEED, REPLICATIONS, DAYS, DIGITS), f"the golden was made with other settings. {UPDATE}"
    current = summarize(scenario)
    assert sorted(current["policies"]) == sorted(golden["policies"]) == sorted(p.stem for p in policy_files()), \
        f"the shipped policies changed. {UPDATE}"
    changed = []
    for policy, kpis in current["policies"].items():
        expected = golden["policies"][policy]
        assert set(kpis) == set(expected) == set(KPIS), f"the KPI set changed. {UPDATE}"
        for kpi, value in kpis.items():
            want = expected[kpi]
            if value is None or want is None:
                ok = value is None and want is None
            else:
                ok = math.isclose(value, want, rel_tol=1e-9, abs_tol=0.0)
            if not ok:
                changed.append(f"  {policy}.{kpi}: golden {want}, now {value}")
    assert not changed, f"{scenario.stem}: {len(changed)} KPI means changed:\n" + "\n".join(changed) + f"\n{UPDATE}"


def test_rounding_keeps_six_significant_digits() -> None:
    assert significant(123456789.0) == 123457000.0
    assert significant(0.000123456789) == 0.000123457
    assert significant(-2.5e-7) == -2.5e-7
    assert significant(0.0) == 0.0
    assert significant(float("nan")) is None
