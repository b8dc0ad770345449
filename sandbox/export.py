"""Provides the headless outputs of a comparison and a policy: JSON, CSV, Markdown and YAML, written atomically.

The CLI and the TUI both write through here, so an export from either is the same file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from sandbox.config.policy import Policy
from sandbox.experiments import Comparison
from sandbox.metrics.kpis import HEADLINE, KPIS, format_half_width, format_value


def _clean(value: Any) -> Any:
    """NaN and infinity are not JSON; they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def to_json(comparison: Comparison) -> str:
    return json.dumps(_clean(comparison.to_dict()), indent=2)


CSV_FIELDS = ("policy", "name", "kpi", "mean", "half_width", "low", "high", "n", "diff_mean", "diff_half_width",
              "diff_significant")


def to_csv(comparison: Comparison) -> str:
    """One row per policy and KPI (long format, easy to pivot)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for p, label in enumerate(comparison.labels):
        for kpi in KPIS:
            est = comparison.estimate(p, kpi)
            diff = comparison.difference(p, kpi) if p != comparison.baseline else None
            writer.writerow(_clean({
                "policy": label, "name": comparison.names[p], "kpi": kpi, "mean": est.mean,
                "half_width": est.half_width, "low": est.low, "high": est.high, "n": est.n,
                "diff_mean": diff.mean if diff else None, "diff_half_width": diff.half_width if diff else None,
                "diff_significant": diff.significant if diff else None,
            }))
    return out.getvalue()


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, path.stat().st_mode if path.exists() else 0o666 & ~_umask())  # mkstemp makes it 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_markdown(comparison: Comparison, kpis: tuple[str, ...] = HEADLINE) -> str:
    """A Markdown table: one row per KPI, mean ±95% CI, and the paired change against the baseline."""
    base = comparison.labels[comparison.baseline]
    head = ["KPI", *[f"{label}{' (base)' if p == comparison.baseline else ''}"
                     for p, label in enumerate(comparison.labels)]]
    lines = [f"## {comparison.scenario}", "",
             f"{comparison.complete_replications()} replications, seed {comparison.seed}. Mean ±95% CI; "
             f"Δ is the paired change against {base} (ns: not significant at 95%).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kpi in kpis:
        cells = [KPIS[kpi].label]
        for p in range(len(comparison.labels)):
            est = comparison.estimate(p, kpi)
            cell = f"{format_value(kpi, est.mean)} {format_half_width(kpi, est.half_width)}".strip()
            if p != comparison.baseline:
                diff = comparison.difference(p, kpi)
                if not math.isnan(diff.mean):
                    cell += f" (Δ {format_value(kpi, diff.mean, signed=True)}{'' if diff.significant else ' ns'})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def policy_yaml(policy: Policy) -> str:
    """A policy as YAML that validates and loads back to an equal policy (defaults left out)."""
    data = policy.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    data.pop("$schema", None)
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "# yaml-language-server: $schema=../docs/schemas/policy.schema.json\n" + body
