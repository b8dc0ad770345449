"""Provides the stakeholder report: one self-contained HTML file of a comparison, for people who never open a
terminal.

Everything is inline (styles, charts as SVG, the provenance): the file opens offline in any browser and can be
mailed. It holds the headline comparison with 95% intervals and paired changes, charts of the main KPIs and of
the day, the plain-words explanations, the checks' verdicts when a checks file was run, the scenario's
assumptions with the sources their descriptions cite, every KPI's definition, and the provenance (the inputs as
they ran, with digests): every number in the file comes from that one run.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator
from typing import Any

import yaml
from pydantic import BaseModel

from sandbox import provenance
from sandbox.experiments.checks import WORDS, Verdict, worst_first
from sandbox.experiments.comparison import Comparison
from sandbox.insights import explain
from sandbox.metrics.kpis import HEADLINE, KPIS
from sandbox.presentation import format_difference, format_half_width, format_value

CHARTED = ("abandonment_rate", "csat", "cost_per_resolved", "net_cost")
COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7")
CITES = re.compile(r"\b(19|20)\d\d\b")  # a description that names a year names its source

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text { text-align: left; }
.delta { color: #666; font-size: 0.8rem; display: block; } .better { color: #2a7a2a; } .worse { color: #b22; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; } figure { margin: 0; }
figcaption { font-size: 0.85rem; color: #555; text-align: center; }
.pass { color: #2a7a2a; font-weight: bold; } .fail { color: #b22; font-weight: bold; }
.undecided { color: #a60; font-weight: bold; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
.small { font-size: 0.85rem; color: #555; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def bar_chart(comparison: Comparison, kpi: str, width: int = 330, height: int = 210) -> str:
    """Each policy's mean of ``kpi`` as a bar with its 95% interval as an error bar (inline SVG)."""
    found = [comparison.estimate(p, kpi) for p in range(len(comparison.labels))]
    top = max((e.mean + (0 if math.isnan(e.half_width) else e.half_width) for e in found), default=0.0)
    top = top if top > 0 and not math.isnan(top) else 1.0
    left, bottom, space = 10, 40, (width - 20) / max(len(found), 1)
    scale = (height - bottom - 20) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{_e(KPIS[kpi].label)} by policy">']
    for p, e in enumerate(found):
        x, h = left + p * space + space * 0.15, max(0.0, e.mean) * scale
        y = height - bottom - h
        colour = COLOURS[p % len(COLOURS)]
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{space * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                     f'<title>{_e(comparison.labels[p])}: {_e(format_value(kpi, e.mean))} '
                     f'{_e(format_half_width(kpi, e.half_width))}</title></rect>')
        if not math.isnan(e.half_width) and e.half_width > 0:
            cx, lo, hi = x + space * 0.35, e.mean - e.half_width, e.mean + e.half_width
            y_lo, y_hi = height - bottom - max(lo, 0) * scale, height - bottom - hi * scale
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y_lo:.1f}" y2="{y_hi:.1f}" stroke="#222"/>'
                         f'<line x1="{cx - 5:.1f}" x2="{cx + 5:.1f}" y1="{y_hi:.1f}" y2="{y_hi:.1f}" stroke="#222"/>'
                         f'<line x1="{cx - 5:.1f}" x2="{cx + 5:.1f}" y1="{y_lo:.1f}" y2="{y_lo:.1f}" stroke="#222"/>')
        parts.append(f'<text x="{x + space * 0.35:.1f}" y="{y - 6:.1f}" font-size="11" text-anchor="middle">'
                     f'{_e(format_value(kpi, e.mean))}</text>')
        parts.append(f'<text x="{x + space * 0.35:.1f}" y="{height - bottom + 14:.1f}" font-size="10" '
                     f'text-anchor="middle">{_e(comparison.labels[p][:18])}</text>')
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{height - bottom}" y2="{height - bottom}" stroke="#999"/>')
    parts.append("</svg>")
    return "".join(parts)


def day_chart(comparison: Comparison, name: str = "queue_length", width: int = 680, height: int = 230) -> str:
    """A per-interval series (mean over replications) for each policy, as lines (inline SVG)."""
    series = [comparison.series_mean(p, name) for p in range(len(comparison.labels))]
    points = max((len(s) for s in series), default=0)
    values = [v for s in series for v in s if not math.isnan(v)]
    top = max(values, default=0.0) or 1.0
    left, bottom = 40, 30
    dx = (width - left - 10) / max(points - 1, 1)
    scale = (height - bottom - 10) / top
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{_e(name)} over time">']
    parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{height - bottom}" y2="{height - bottom}" stroke="#999"/>'
                 f'<text x="{left - 4}" y="14" font-size="10" text-anchor="end">{top:.3g}</text>'
                 f'<text x="{left - 4}" y="{height - bottom}" font-size="10" text-anchor="end">0</text>')
    per_hour = 60 / comparison.scenario_model.horizon.interval_minutes if comparison.scenario_model else 2.0
    for k in range(0, points, max(1, round(6 * per_hour))):  # a tick every six hours
        hour = round(k / per_hour) % 24
        parts.append(f'<text x="{left + k * dx:.1f}" y="{height - bottom + 12}" font-size="9" '
                     f'text-anchor="middle">{hour:02d}:00</text>')
    for p, s in enumerate(series):
        path = " ".join(f"{left + k * dx:.1f},{height - bottom - (0 if math.isnan(v) else v) * scale:.1f}"
                        for k, v in enumerate(s))
        parts.append(f'<polyline fill="none" stroke="{COLOURS[p % len(COLOURS)]}" stroke-width="2" '
                     f'points="{path}"><title>{_e(comparison.labels[p])}</title></polyline>')
        parts.append(f'<text x="{left + 8 + 150 * p}" y="{height - 8}" font-size="11" '
                     f'fill="{COLOURS[p % len(COLOURS)]}">■ {_e(comparison.labels[p][:22])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _assumptions(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, Any, str]]:
    """(dotted key, value, description) of every field whose description cites a source (names a year)."""
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = f"{prefix}{info.alias or name}"
        if isinstance(value, BaseModel):
            yield from _assumptions(value, key + ".")
        elif isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, BaseModel):
                    yield from _assumptions(v, f"{key}.{k}.")
        elif info.description and CITES.search(info.description):
            yield key, value, info.description


def _headline(comparison: Comparison) -> str:
    rows = ["<table><tr><th>KPI</th>" + "".join(
        f"<th>{_e(label)}{' (baseline)' if p == comparison.baseline else ''}</th>"
        for p, label in enumerate(comparison.labels)) + "</tr>"]
    for kpi in HEADLINE:
        cells = [f"<td>{_e(KPIS[kpi].label)}</td>"]
        for p in range(len(comparison.labels)):
            e = comparison.estimate(p, kpi)
            cell = f"{_e(format_value(kpi, e.mean))} {_e(format_half_width(kpi, e.half_width))}"
            if p != comparison.baseline:
                text, tone = format_difference(kpi, comparison.difference(p, kpi))  # as the CLI and TUI show it
                if text:
                    css = {"good": " better", "bad": " worse"}.get(tone, "")
                    cell += f'<span class="delta{css}">Δ {_e(text)}</span>'
            cells.append(f"<td>{cell}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(rows) + "</table>"


def _checks(verdicts: list[Verdict]) -> str:
    rows = ['<table><tr><th>verdict</th><th>check</th><th>policy</th><th>under</th><th>why</th></tr>']
    for v in worst_first(verdicts):
        rows.append(f'<tr><td class="{v.verdict}">{WORDS[v.verdict]}</td><td class="text">{_e(v.check)}</td>'
                    f'<td class="text">{_e(v.policy)}</td><td class="text">{_e(v.variant)}</td>'
                    f'<td class="text">{_e(v.reason)}</td></tr>')
    passed = sum(v.verdict == "pass" for v in verdicts)
    return f"<p>{passed} of {len(verdicts)} checks pass.</p>" + "".join(rows) + "</table>"


def to_html(comparison: Comparison, verdicts: list[Verdict] | None = None, title: str | None = None) -> str:
    """The report (module docstring) as one HTML document."""
    heading = title or f"{comparison.scenario}: {', '.join(comparison.labels)}"
    base = comparison.labels[comparison.baseline]
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{_e(heading)}</title><style>{STYLE}</style></head><body>",
             f"<h1>{_e(heading)}</h1>",
             f'<p class="small">Simulated with support-sandbox: {comparison.complete_replications()} replications '
             f"of the same customers for every policy (seed {comparison.seed}). Each number is a mean with its 95% "
             f"confidence interval; Δ is the paired change against the baseline, {_e(base)} (▲/▼: significant; "
             "ns: not).</p>",
             "<h2>The comparison</h2>", _headline(comparison),
             '<h2>Charts</h2><div class="charts">']
    for kpi in CHARTED:
        parts.append(f"<figure>{bar_chart(comparison, kpi)}<figcaption>{_e(KPIS[kpi].label)} "
                     "(bars: mean; whiskers: 95% interval)</figcaption></figure>")
    parts.append(f"<figure>{day_chart(comparison)}<figcaption>contacts waiting for an agent, by interval (mean over "
                 "replications)</figcaption></figure></div>")
    insights = explain(comparison)
    if insights:
        parts.append("<h2>Why, in plain words</h2><ul>")
        parts += [f"<li>{_e(i.text)}</li>" for i in insights]  # each names its policy
        parts.append("</ul>")
    if verdicts:
        parts += ["<h2>Rollout checks</h2>", _checks(verdicts)]
    if comparison.scenario_model is not None:
        parts.append("<h2>Assumptions and their sources</h2><p class='small'>The scenario's values whose "
                     "documented defaults cite a public source (docs/configuration.md has every field).</p>"
                     "<table><tr><th>assumption</th><th>value here</th><th>what it is, and its source</th></tr>")
        for key, value, description in _assumptions(comparison.scenario_model):
            shown = "not set (the description says what applies)" if value is None else value
            parts.append(f'<tr><td>{_e(key)}</td><td>{_e(shown)}</td><td class="text">{_e(description)}</td></tr>')
        parts.append("</table>")
    parts.append("<h2>What each KPI means</h2><table><tr><th>KPI</th><th>definition</th></tr>")
    parts += [f'<tr><td>{_e(KPIS[k].label)}</td><td class="text">{_e(KPIS[k].definition)}</td></tr>'
              for k in HEADLINE]
    parts.append("</table>")
    record = provenance.record(comparison)
    parts += ["<h2>Provenance</h2>", f'<p class="small">{_e(provenance.footer(comparison))}. Every number above '
              "comes from this one run; the inputs as they ran follow (<code>support-sandbox reproduce</code> "
              "runs them again from a JSON or CSV export of the same comparison).</p>",
              f"<details><summary>inputs, as run</summary><pre>"
              f"{_e(yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=100))}</pre></details>",
              "</body></html>"]
    return "\n".join(parts) + "\n"
