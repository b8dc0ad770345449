"""With every lever added since version 0.2 switched off, the simulator gives the earlier model's numbers.

The goldens in goldens/earlier-model were made by version 0.2 (before journey CSAT, effort, de-escalation,
emotion-weighted bot failures, same-issue repeats, frustration carried into repeats, security and
escalation errors). They are frozen: never regenerate them. The one KPI whose definition changed is compared
under its new name: the earlier ``csat`` (channel CSAT × (1 − F) over finished contacts) is today's
``survey_csat`` with the levers off.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from regression.update_goldens import DAYS, REPLICATIONS, SEED, significant
from sandbox import api

EARLIER = Path(__file__).resolve().parent / "goldens" / "earlier-model"
REPO = Path(__file__).resolve().parents[2]
RENAMED = {"csat": "survey_csat"}


def levers_off(scenario: Path) -> list[str]:
    """The --set overrides that switch every new mechanism off (docs/model.md says what each does)."""
    loaded = api.load_scenario(scenario)
    sets = ["satisfaction.unresolved=1", "satisfaction.per_extra_step=0", "satisfaction.misled=0",
            "repeat_contacts.same_issue=false",
            "repeat_contacts.carry_frustration=false", "frustration.emotional_failure=0",
            *(f"scenario.security.{kind}.share=0" for kind in ("account_takeover", "refund_fraud", "data_extraction"))]
    return sets + [f"agents.groups.{group}.deescalation=0" for group in loaded.agents.groups] + \
        [f"intents.{intent}.needs_human=0" for intent in loaded.intents]


@pytest.mark.parametrize("golden", sorted(EARLIER.glob("*.json")), ids=lambda p: p.stem)
def test_levers_off_reproduce_the_earlier_model(golden: Path) -> None:
    earlier = json.loads(golden.read_text())
    if tuple(earlier["numpy"].split(".")[:2]) != tuple(np.__version__.split(".")[:2]):
        pytest.skip(f"made with numpy {earlier['numpy']}: random streams may differ on numpy {np.__version__}")
    assert (earlier["seed"], earlier["replications"], earlier["days"]) == (SEED, REPLICATIONS, DAYS)
    scenario = REPO / "simulations" / f"{golden.stem}.yaml"
    policies = [REPO / "policies" / f"{name}.yaml" for name in earlier["policies"]]
    c = api.compare(scenario, policies, replications=REPLICATIONS, seed=SEED, days=DAYS, workers=1,
                    overrides=levers_off(scenario))
    changed = []
    for p, label in enumerate(c.labels):
        for kpi, want in earlier["policies"][label].items():
            got = significant(c.estimate(p, RENAMED.get(kpi, kpi)).mean)
            same = got is None and want is None if got is None or want is None else \
                math.isclose(got, want, rel_tol=1e-9)
            if not same:
                changed.append(f"  {label}.{kpi}: earlier {want}, now {got}")
    assert not changed, f"{golden.stem}: {len(changed)} KPIs differ from the earlier model:\n" + "\n".join(changed)
