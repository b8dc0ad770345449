"""Provides the rollout gate: policy checks (sandbox.experiments.checkfile) run and judged with their 95% intervals.

A check passes when its whole 95% interval is on the allowed side of the limit, fails when the whole interval
is on the other, and is undecided otherwise; undecided checks replicate more (doubling, on common random
numbers: the finished replications are kept and new ones added) up to the file's cap, and are then "not
enough replications to tell", which does not pass a gate. ``vs_baseline: not_significantly_worse`` fails
when the paired interval of policy − baseline is significantly on the worse side, and passes otherwise. Per
interval, each interval with at least MIN_INTERVAL_CONTACTS contacts on average is judged, and the check takes
the worst verdict; per intent, each intent of the list likewise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import numpy as np

from sandbox.config.policy import Policy
from sandbox.config.scenario import AgentAbsence, BotOutage, DemandSurge, Scenario
from sandbox.errors import ConfigError, Problem
from sandbox.experiments.checkfile import EMOTIONAL, INTERVAL_KPIS, Check, CheckFile, Stress
from sandbox.experiments.comparison import Comparison, compare
from sandbox.metrics.kpis import KPIS
from sandbox.metrics.stats import Estimate, estimate
from sandbox.presentation import format_value

MIN_INTERVAL_CONTACTS = 10  # an interval judged "per interval" has at least this many contacts on average
VERDICTS = ("pass", "fail", "undecided")


@dataclass
class Verdict:
    check: str
    policy: str
    variant: str
    verdict: str  # VERDICTS
    reason: str  # in plain words
    replications: int


def variant(scenario: Scenario, stress: Stress | None) -> Scenario:
    """The scenario with a stress variant's events added (None: as is)."""
    if stress is None:
        return scenario
    events = list(scenario.events)
    days = f"{scenario.horizon.days * 24}h"
    if stress.demand != 1:
        events.append(DemandSurge(kind="demand_surge", day=1, start="00:00", length=days, factor=stress.demand))
    if stress.bot_outage is not None:
        events.append(BotOutage(kind="bot_outage", day=1, start=stress.at, length=f"{stress.bot_outage}m"))
    if stress.agent_absence is not None:
        events.append(AgentAbsence(kind="agent_absence", day=1, start="00:00", length="24h",
                                   share=stress.agent_absence))
    return scenario.model_copy(update={"events": events})  # each event validated as it was made


def _side(found: Estimate, check: Check, point: bool = False) -> str:
    """pass, fail or undecided for a value's interval against the check's limit (``point``: its mean alone)."""
    if point and not math.isnan(found.mean):
        low = high = found.mean
    elif found.n < 2 or math.isnan(found.half_width):
        return "undecided"
    else:
        low, high = found.mean - found.half_width, found.mean + found.half_width
    if check.at_most is not None:
        return "pass" if high <= check.at_most else "fail" if low > check.at_most else "undecided"
    assert check.at_least is not None
    return "pass" if low >= check.at_least else "fail" if high < check.at_least else "undecided"


def _limit(check: Check) -> str:
    value = check.at_most if check.at_most is not None else check.at_least
    assert value is not None
    shown = f"{value:g}" if check.per_contacts else format_value(check.kpi, value)
    return f"the limit is {'at most' if check.at_most is not None else 'at least'} {shown}"


def judge(check: Check, comparison: Comparison, policy: int, scenario: Scenario,
          point: bool = False) -> tuple[str, str]:
    """(verdict, reason) of one check for one policy of a comparison; ``point``: judged on the means alone (a
    search's quick look: never undecided, except vs_baseline, which stays a significance test)."""
    label = KPIS[check.kpi].label
    runs = comparison.finished(policy)
    if check.vs_baseline is not None:
        diff = comparison.difference(policy, check.kpi)
        worse = (diff.mean > 0) == (KPIS[check.kpi].better == "lower")
        shown = f"{format_value(check.kpi, diff.mean, signed=True)} ±{format_value(check.kpi, diff.half_width)}"
        if diff.significant and worse:
            return "fail", f"{label} is significantly worse than the baseline ({shown})"
        return "pass", f"{label} is not significantly worse than the baseline ({shown})"
    if check.per == "run":
        if check.per_contacts is not None:
            values = [r.kpis[check.kpi] / r.kpis["offered"] * check.per_contacts if r.kpis["offered"] else 0.0
                      for r in runs]
            found = estimate(values)
            what = f"{label} per {check.per_contacts:g} contacts: {found.mean:.3g} ±{found.half_width:.2g}"
        else:
            found = comparison.estimate(policy, check.kpi)
            what = f"{label}: {format_value(check.kpi, found.mean)} ±{format_value(check.kpi, found.half_width)}"
        return _side(found, check, point), f"{what}; {_limit(check)}"
    if check.per == "intent":
        names = intents_of(check, scenario)
        judged = []
        for name in names:
            found = estimate([r.by_intent[name][check.kpi] for r in runs if check.kpi in r.by_intent[name]])
            judged.append((_side(found, check, point), name, found))
        return _worst(judged, check, "intent")
    numerator, denominator = INTERVAL_KPIS[check.kpi]
    channels = list(scenario.channels)
    if not runs:
        return "undecided", "no finished replication to judge"
    tops = np.array([np.sum([r.series[f"{c}.{numerator}"] for c in channels], axis=0) for r in runs])
    bottoms = np.array([np.sum([r.series[f"{c}.{denominator}"] for c in channels], axis=0) for r in runs])
    judged = []
    interval = scenario.horizon.interval_minutes
    for k in np.flatnonzero(bottoms.mean(axis=0) >= MIN_INTERVAL_CONTACTS).tolist():
        rates = np.where(bottoms[:, k] > 0, tops[:, k] / np.maximum(bottoms[:, k], 1), 0.0)
        minute = int(k * interval)
        when = f"from day {minute // 1440 + 1} {minute % 1440 // 60:02d}:{minute % 60:02d}"
        found = estimate(rates.tolist())
        judged.append((_side(found, check, point), when, found))
    return _worst(judged, check, "interval")


def intents_of(check: Check, scenario: Scenario) -> list[str]:
    """The intents a per-intent check judges; a ConfigError when it names none of the scenario's."""
    if check.intents == "emotional":
        names = [i for i, spec in scenario.intents.items() if spec.emotional_load >= EMOTIONAL]
        if not names:
            raise ConfigError([Problem(None, None, check.name, f"no intent of {scenario.name!r} has an emotional "
                                       f"load of {EMOTIONAL} or more")])
        return names
    unknown = [i for i in check.intents if i not in scenario.intents]
    if unknown:
        raise ConfigError([Problem(None, None, check.name, f"{unknown[0]!r} is not an intent of {scenario.name!r}",
                                   f"one of {', '.join(scenario.intents)}")])
    return list(check.intents) or list(scenario.intents)


def _worst(judged: list[tuple[str, str, Estimate]], check: Check, what: str) -> tuple[str, str]:
    if not judged:  # a gate never passes on nothing
        return "undecided", (f"no {what} to judge" + (f" (none had {MIN_INTERVAL_CONTACTS} or more contacts on "
                                                      "average)" if what == "interval" else ""))
    for verdict in ("fail", "undecided"):
        hits = [(name, found) for v, name, found in judged if v == verdict]
        if hits:
            name, found = hits[0]
            more = f" (and {len(hits) - 1} more)" if len(hits) > 1 else ""
            return verdict, (f"{KPIS[check.kpi].label} {format_value(check.kpi, found.mean)} "
                             f"±{format_value(check.kpi, found.half_width)} in the {what} {name}{more}; "
                             f"{_limit(check)}")
    return "pass", f"all {len(judged)} {what}s within the limit ({_limit(check).removeprefix('the limit is ')})"


def run_checks(checks: CheckFile, scenario: Scenario, policies: list[Policy], labels: list[str], baseline: Policy,
               run: Callable[..., Comparison] = compare) -> list[Verdict]:
    """Every check for every policy under every variant it names; undecided ones replicate more, to the cap."""
    out: list[Verdict] = []
    for check in checks.checks:  # names the scenario does not have: said before any run
        if check.per == "intent":
            intents_of(check, scenario)
    variants: list[tuple[str, Stress | None]] = [("as is", None), *((s.name, s) for s in checks.stress)]
    for name, stress in variants:
        mine = [c for c in checks.checks if c.under is None or name in c.under]
        if not mine:
            continue
        model = variant(scenario, stress)

        def judged(comparison: Comparison, model: Scenario = model, mine: list[Check] = mine) -> list[Any]:
            return [(c, k, *judge(c, comparison, k + 1, model)) for c in mine for k in range(len(policies))]

        def grow(comparison: Comparison) -> int:  # double while a check is undecided (the finished ones kept)
            undecided = any(v == "undecided" for _, _, v, _ in judged(comparison))
            return min(2 * comparison.replications, checks.max_replications) if undecided \
                else comparison.replications

        comparison = run(model, [baseline, *policies], ["baseline", *labels], seed=checks.seed,
                         replications=checks.replications, grow=grow, max_replications=checks.max_replications)
        found = judged(comparison)
        done = comparison.complete_replications()
        for check, k, verdict, reason in found:
            if verdict == "undecided":
                reason += f"; not enough replications to tell ({done}, " + \
                    ("the run was stopped)" if comparison.cancelled else "the cap)")
            out.append(Verdict(check.name, labels[k], name, verdict, reason, done))
    return out


def to_junit(name: str, verdicts: list[Verdict]) -> str:
    """JUnit XML: a test suite per variant, a test case per check and policy; a fail is a <failure>, not enough
    replications a <failure type="undecided"> (a gate does not pass on it)."""
    root = ElementTree.Element("testsuites", name=name, tests=str(len(verdicts)),
                               failures=str(sum(v.verdict != "pass" for v in verdicts)), errors="0")
    for variant_name in dict.fromkeys(v.variant for v in verdicts):
        mine = [v for v in verdicts if v.variant == variant_name]
        suite = ElementTree.SubElement(root, "testsuite", name=variant_name, tests=str(len(mine)),
                                       failures=str(sum(v.verdict != "pass" for v in mine)), errors="0",
                                       skipped="0", time="0")
        for v in mine:
            case = ElementTree.SubElement(suite, "testcase", name=f"{v.check} [{v.policy}]",
                                          classname=f"{name}.{variant_name}", time="0")
            if v.verdict != "pass":
                failure = ElementTree.SubElement(case, "failure", message=v.reason,
                                                 type="undecided" if v.verdict == "undecided" else "fail")
                failure.text = v.reason
            out = ElementTree.SubElement(case, "system-out")
            out.text = f"{v.reason} ({v.replications} replications)"
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


WORDS = {"pass": "pass", "fail": "fail", "undecided": "not enough replications to tell"}


def worst_first(verdicts: list[Verdict]) -> list[Verdict]:
    return sorted(verdicts, key=lambda v: ("fail", "undecided", "pass").index(v.verdict))


def to_markdown(name: str, verdicts: list[Verdict]) -> str:
    """The summary a CI log or a pull request shows: a line a check, failures first."""
    marks = {"pass": "✅", "fail": "❌", "undecided": "❔"}
    passed = sum(v.verdict == "pass" for v in verdicts)
    lines = [f"## {name}", "", f"{passed} of {len(verdicts)} checks pass.", "",
             "| verdict | check | policy | under | why |", "|---|---|---|---|---|"]

    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # a | in a name would end the cell

    for v in worst_first(verdicts):
        lines.append(f"| {marks[v.verdict]} {WORDS[v.verdict]} | {cell(v.check)} | {cell(v.policy)} | "
                     f"{cell(v.variant)} | {cell(v.reason)} |")
    return "\n".join(lines) + "\n"
