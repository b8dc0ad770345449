"""Provides what produced a result: the version, the inputs exactly as they ran, the seed, and when.

Every output carries this record (JSON in full, CSV and Markdown as a commented block, the table as a footer),
so a result can be reproduced from the file alone: ``support-sandbox reproduce FILE`` reads the record back
and runs the same comparison. The inputs are the validated models after every ``--set`` override and
workbench edit, written as YAML; the hash identifies them in a line.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

import yaml

from sandbox import __version__
from sandbox.errors import ConfigError, Problem

if TYPE_CHECKING:
    from pydantic import BaseModel

    from sandbox.experiments import Comparison

_BLOCK_START, _BLOCK_END = "--- provenance ---", "--- end of provenance ---"


def model_yaml(model: BaseModel) -> str:
    """A validated model as YAML that loads back to an equal model (every field, defaults included)."""
    data = model.model_dump(mode="json", by_alias=True)
    data.pop("$schema", None)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(comparison: Comparison) -> dict[str, Any]:
    """The provenance of a comparison as plain data."""
    out: dict[str, Any] = {
        "tool": "support-sandbox", "version": __version__, "created": comparison.created,
        "seed": comparison.seed, "replications": comparison.replications,
        "complete_replications": comparison.complete_replications(), "baseline": comparison.labels[comparison.baseline],
        "overrides": list(comparison.overrides),  # informative: the YAML below already has them applied
    }
    if comparison.scenario_model is not None:
        text = model_yaml(comparison.scenario_model)
        out["days"] = comparison.scenario_model.horizon.days
        out["scenario"] = {"name": comparison.scenario, "sha256": digest(text), "yaml": text}
    out["policies"] = [{"label": label, "name": policy.name, "sha256": digest(text), "yaml": text}
                       for label, policy in zip(comparison.labels, comparison.policy_models, strict=False)
                       for text in [model_yaml(policy)]]
    if comparison.policy_scenarios:  # at equal service: each policy ran on its own staffing of the scenario
        out["equal_service"] = list(comparison.equal_service)
        for entry, own in zip(out["policies"], comparison.policy_scenarios, strict=True):
            text = model_yaml(own)
            entry["scenario"] = {"sha256": digest(text), "yaml": text}
    return out


def footer(comparison: Comparison) -> str:
    """One line for a table: enough to tell two results apart and to find the full record."""
    rec = record(comparison)
    parts = [f"support-sandbox {rec['version']}", rec["created"]]
    if "scenario" in rec:
        parts.append(f"scenario {rec['scenario']['name']} {rec['scenario']['sha256'][:10]}")
    parts.append("policies " + ", ".join(f"{p['label']} {p['sha256'][:10]}" for p in rec["policies"]))
    parts.append(f"seed {rec['seed']}, {rec['replications']} replications"
                 + (f", {rec['days']} day{'s' if rec['days'] != 1 else ''}" if "days" in rec else ""))
    return " · ".join(parts)


def commented(comparison: Comparison, prefix: str = "# ") -> str:
    """The full record as a block of comment lines (for CSV and plain-text files)."""
    body = yaml.safe_dump(record(comparison), sort_keys=False, allow_unicode=True, width=100)
    lines = [_BLOCK_START, *body.splitlines(), _BLOCK_END]
    return "".join(f"{prefix}{line}".rstrip() + "\n" for line in lines)


def read(text: str, source: str) -> dict[str, Any]:
    """The provenance record inside an exported file (JSON, CSV, Markdown or text table)."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError([Problem(source, exc.lineno, "", f"broken JSON: {exc.msg}")]) from None
        found = data.get("provenance") if isinstance(data, dict) else None
    else:
        match = re.search(rf"^(.*?){re.escape(_BLOCK_START)}\n(.*?)^\1{re.escape(_BLOCK_END)}", text,
                          re.MULTILINE | re.DOTALL)
        found = None
        if match:
            prefix = match.group(1)
            body = "\n".join(line[len(prefix):] if line.startswith(prefix) else line.lstrip("#").lstrip()
                             for line in match.group(2).splitlines())
            try:
                found = yaml.safe_load(body)
            except yaml.YAMLError:
                found = None
    if not isinstance(found, dict) or "scenario" not in found or "policies" not in found:
        raise ConfigError([Problem(source, None, "", "has no provenance record to reproduce",
                                   "export with support-sandbox 0.2 or later (JSON, CSV or Markdown)")])
    return found
