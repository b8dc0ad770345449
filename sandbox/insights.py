"""Provides the "why" of a comparison: the main drivers of each policy's results, in plain words.

Each detector looks for one of the failure modes of AI support (dead ends, cold handoffs and repeated
information, emotional intents held by the bot, wrong answers coming back, under-staffing after escalation,
containment that flatters) and, when the run shows it, writes a sentence with the run's own numbers.
Nothing here is canned: a detector that finds nothing says nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sandbox.experiments import Comparison
from sandbox.metrics.stats import paired
from sandbox.presentation import format_value

FRUSTRATED_SHARE = 0.25  # an intent where a quarter or more of customers leave frustrated is worth naming


@dataclass(frozen=True)
class Insight:
    policy: str  # label
    mode: str  # which failure mode (or "cost")
    weight: float  # for ordering: roughly, the share of customers affected
    text: str


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.0f}%"


class _View:
    """Means over a policy's finished replications, by KPI and by intent."""

    def __init__(self, comparison: Comparison, policy: int):
        self.c, self.p = comparison, policy
        self.label = comparison.labels[policy]

    def kpi(self, name: str) -> float:
        return self.c.estimate(self.p, name).mean

    def intent(self, intent: str, name: str) -> float:
        return self.c.intent_mean(self.p, intent, name)

    def top_intent(self, name: str) -> tuple[str, float]:
        values = {i: self.intent(i, name) for i in self.c.intents}
        best = max(values, key=lambda i: -1 if math.isnan(values[i]) else values[i])
        return best, values[best]


def _dead_ends(v: _View, base: _View) -> Insight | None:
    dead = v.kpi("dead_ended")
    if not dead > 0:
        return None
    share = dead / v.kpi("offered")
    intent, n = v.top_intent("dead_ended")
    text = (f"{v.label} sends {_pct(share)} of customers away unresolved ({dead:.0f} a run): the bot ran out of "
            f"answers and nothing hands them to a person. {_pct(n / dead)} of them came about {intent}, which "
            f"the bot resolves {_pct(v.intent(intent, 'bot_resolution_rate'))} of the time.")
    refused, asked = v.kpi("refused_requests"), v.kpi("asked_human")
    if refused > 0:  # requests, not customers: one customer may ask several times
        text += (f" Customers asked for a human in {asked:.0f} bot conversations a run and {refused:.0f} of their "
                 "requests were refused (a customer can ask more than once).")
    return Insight(v.label, "dead_end", share, text)


def _repeated_information(v: _View, base: _View) -> Insight | None:
    repeats, offered = v.kpi("repeat_information"), v.kpi("offered")
    if not repeats > 0:
        return None
    # Times, not customers: a customer handed off cold and then coming back repeats themselves twice.
    again = round(v.kpi("repeat_contacts"))
    cold = round(repeats) - again  # the rest were cold handoffs (rounded so that the parts add up)
    where = " and ".join(part for part in (f"{cold} on cold handoffs" if cold > 0 else "",
                                           f"{again} on repeat contacts" if again > 0 else "") if part)
    text = (f"{v.label}: customers had to repeat what they had already said {repeats:.0f} times a run "
            f"({100 * repeats / offered:.0f} per 100 contacts): {where}; each repeat lengthens the handling and "
            f"adds frustration. CSAT {format_value('csat', v.kpi('csat'))}"
            f"{_against(v, base, format_value('csat', base.kpi('csat')))}.")
    return Insight(v.label, "repeated_information", repeats / offered, text)


def _against(v: _View, base: _View, shown: str) -> str:
    """' against X with the baseline', or nothing when v is the baseline (it is not compared with itself)."""
    return "" if v.p == base.p else f" against {shown} with {base.label}"


def _emotional_intents(v: _View, base: _View) -> Insight | None:
    worst, worst_share = None, 0.0
    for intent in v.c.intents:
        handled = v.intent(intent, "bot_handled")
        share = v.intent(intent, "left_frustrated")
        if handled > 0 and share >= FRUSTRATED_SHARE and share > worst_share:
            worst, worst_share = intent, share
    if worst is None:
        return None
    handled, offered = v.intent(worst, "bot_handled"), v.intent(worst, "offered")
    text = (f"{v.label}: {_pct(worst_share)} of {worst} customers leave frustrated (F ≥ 0.7)"
            f"{_against(v, base, _pct(base.intent(worst, 'left_frustrated')))}. The bot handles {handled:.0f} of the "
            f"{offered:.0f} {worst} contacts a run and resolves {_pct(v.intent(worst, 'bot_resolution_rate'))} "
            "of those; the rest reach a person upset, or leave.")
    weight = worst_share * v.intent(worst, "offered") / v.kpi("offered")
    return Insight(v.label, "emotional_intent", weight, text)


def _wrong_answers(v: _View, base: _View) -> Insight | None:
    wrong = v.kpi("false_contained")
    if not wrong > 0:
        return None
    returns = sum(v.intent(i, "returns") for i in v.c.intents)
    intent, n = v.top_intent("false_contained")
    text = (f"{v.label}: {_pct(v.kpi('false_containment_rate'))} of bot conversations ({wrong:.0f} a run) ended "
            f"with a wrong answer the customer believed, most often about {intent} ({n:.0f}).")
    if returns > 0:
        text += f" {returns:.0f} of those customers came back within the horizon as repeat contacts."
    return Insight(v.label, "wrong_answers", wrong / v.kpi("offered"), text)


def _survey_flatters(v: _View, base: _View) -> Insight | None:
    """The post-contact survey believes wrong answers; the journey does not."""
    survey, journey = v.kpi("survey_csat"), v.kpi("csat")
    wrong = v.kpi("false_contained")
    if not (survey - journey >= 0.005 and wrong > 0):
        return None
    text = (f"{v.label}: a post-contact survey would show CSAT {_pct(survey)}, but only {_pct(journey)} of "
            f"customer journeys end satisfied: {wrong:.0f} customers a run rated a wrong answer as resolved and "
            "found out later. Judge the bot on the journey, not on its survey.")
    return Insight(v.label, "survey_vs_journey", survey - journey, text)


def _calming(v: _View, base: _View) -> Insight | None:
    calmed = v.kpi("calmed")
    if not calmed >= 0.02:
        return None
    text = (f"{v.label}: agents talked the customers they served down by {calmed:.2f} on the 0–1 frustration "
            f"scale on average ({v.kpi('served'):.0f} served a run): the empathy a bot lacks, and a reason to "
            "route upset customers to people.")
    return Insight(v.label, "deescalation", calmed * v.kpi("served") / v.kpi("offered"), text)


def _security(v: _View, base: _View) -> Insight | None:
    attacks, incidents = v.kpi("attacks"), v.kpi("incidents")
    failed = v.kpi("verification_failed")
    if not (attacks > 0 or failed > 0):
        return None
    by_bot = v.kpi("incidents_bot")
    text = (f"{v.label}: {incidents:.1f} security incidents a run ({by_bot:.1f} by the bot) from {attacks:.0f} "
            f"attacks, costing {format_value('incident_cost', v.kpi('incident_cost'))}")
    policy = v.c.policy_models[v.p] if len(v.c.policy_models) > v.p else None
    if failed > 0:
        text += f"; verifying identity sent {failed:.0f} genuine customers a run to a person."
    elif by_bot > 0 and policy is not None:
        guard = policy.security
        what = ("acts on accounts without verifying who it talks to" if policy.integration.level == "act"
                and not guard.verification else f"reads account data (level {policy.integration.level})")
        text += f"; the bot {what}" + (", with no guardrail." if guard.guardrails == 0 else ".")
    else:
        text += "."
    if v.p != base.p:
        text += (f" {base.label}: {base.kpi('incidents'):.1f} incidents, "
                 f"{format_value('incident_cost', base.kpi('incident_cost'))}.")
    return Insight(v.label, "security", incidents / max(attacks, 1.0), text)


def _net_cost(v: _View, base: _View) -> Insight | None:
    """Cheaper to run is not cheaper: churn and incidents are costs too."""
    if v.p == base.p:
        return None
    run, net = v.c.difference(v.p, "total_cost"), v.c.difference(v.p, "net_cost")
    if not net.significant and not run.significant:
        return None
    run_word = "cheaper" if run.mean < 0 else "dearer"
    net_word = "cheaper" if net.mean < 0 else "dearer"
    but = "and" if run_word == net_word and net.significant else "but"
    running = (f"{format_value('total_cost', abs(run.mean))} {run_word} to run" if run.significant else
               "no different to run within the noise")
    netted = (f"{format_value('net_cost', abs(net.mean))} {net_word} in net cost" if net.significant else
              "no different in net cost within the noise")
    text = (f"{v.label} is {running} than {base.label} {but} {netted} "
            f"({format_value('net_cost', v.kpi('net_cost'))} vs {format_value('net_cost', base.kpi('net_cost'))}): "
            f"churn above what perfect service would still lose costs "
            f"{format_value('churn_cost', v.kpi('churn_cost'))} vs "
            f"{format_value('churn_cost', base.kpi('churn_cost'))}, incidents "
            f"{format_value('incident_cost', v.kpi('incident_cost'))} vs "
            f"{format_value('incident_cost', base.kpi('incident_cost'))}; it resolves {v.kpi('resolved'):.0f} "
            f"contacts against {base.kpi('resolved'):.0f}.")
    return Insight(v.label, "net_cost", 0.5 if but == "but" else 0.0, text)


def _escalation_errors(v: _View, base: _View) -> Insight | None:
    """What a handoff policy trades: handing over too early, and too late or never."""
    early, missed = v.kpi("premature_escalations"), v.kpi("missed_escalations")
    if not (early >= 0.5 or missed >= 0.5):
        return None
    parts = []
    if early >= 0.5:
        intent, n = v.top_intent("premature_escalations")
        parts.append(f"{early:.0f} contacts a run went to a person although the bot could have resolved them "
                     f"(premature; most about {intent}, {n:.0f})")
    if missed >= 0.5:
        intent, n = v.top_intent("missed_escalations")
        parts.append(f"{missed:.0f} that needed a person stayed with the bot or reached one only late (missed; "
                     f"most about {intent}, {n:.0f})")
    text = f"{v.label}: " + ", and ".join(parts) + "."
    if v.p != base.p:
        text += (f" {base.label}: {base.kpi('premature_escalations'):.0f} premature, "
                 f"{base.kpi('missed_escalations'):.0f} missed.")
    return Insight(v.label, "escalation_errors", (early + missed) / v.kpi("offered"), text)


def _flattering_containment(v: _View, base: _View) -> Insight | None:
    industry, verified = v.kpi("containment_rate"), v.kpi("bot_resolution_rate")
    if math.isnan(industry) or industry - verified < 0.10:
        return None
    text = (f"{v.label} would report {_pct(industry)} containment by the usual definition, but only "
            f"{_pct(verified)} of bot conversations actually resolved the issue: the rest are dead ends, "
            f"abandons and wrong answers that never reached a person.")
    return Insight(v.label, "flattering_containment", industry - verified, text)


def _understaffed(v: _View, base: _View) -> Insight | None:
    diff = v.c.difference(v.p, "queue_abandonment_rate")
    occupancy = v.kpi("occupancy")
    if not (diff.significant and diff.mean > 0) and not occupancy > 0.85:
        return None
    hours = "" if v.p == base.p else f" ({base.kpi('agent_hours'):.0f} with {base.label})"
    text = (f"{v.label}: {_pct(v.kpi('queue_abandonment_rate'))} of contacts that reach the queue give up "
            f"waiting{_against(v, base, _pct(base.kpi('queue_abandonment_rate')))}; answered ones wait "
            f"{format_value('asa_served', v.kpi('asa_served'))} on average and agents are "
            f"{_pct(occupancy)} busy with {v.kpi('agent_hours'):.0f} agent hours{hours}. The queue gets "
            f"{v.kpi('escalated'):.0f} escalations a run on top of direct contacts.")
    return Insight(v.label, "understaffed", max(diff.mean, 0.0), text)


def _cost(v: _View, base: _View) -> Insight | None:
    diff = v.c.difference(v.p, "cost_per_resolved")
    if not diff.significant:
        return None
    word = "saves" if diff.mean < 0 else "adds"
    text = (f"{v.label} {word} {format_value('cost_per_resolved', abs(diff.mean))} per resolved contact against "
            f"{base.label} ({format_value('cost_per_resolved', v.kpi('cost_per_resolved'))} vs "
            f"{format_value('cost_per_resolved', base.kpi('cost_per_resolved'))}), with value at risk "
            f"{format_value('value_at_risk', v.kpi('value_at_risk'))} vs "
            f"{format_value('value_at_risk', base.kpi('value_at_risk'))}.")
    return Insight(v.label, "cost", 0.0, text)


def _equal_service(v: _View, base: _View) -> Insight | None:
    """At equal service: how many agent-hours a day, and how much money, a policy needs against the baseline
    to meet the same targets."""
    c = v.c
    if not c.equal_service or v.p == base.p:
        return None
    days = c.scenario_model.horizon.days if c.scenario_model is not None else 1
    hours = c.difference(v.p, "agent_hours").mean / days
    money = c.difference(v.p, "total_cost").mean / days
    if math.isnan(hours):
        return None
    word = "fewer" if hours < 0 else "more"
    cost = "saving" if money < 0 else "costing"
    text = (f"{v.label} needs {abs(hours):.0f} {word} agent-hours a day than {base.label} at these targets "
            f"({', '.join(c.equal_service)}): {format_value('total_cost', v.kpi('agent_cost') / days)} of agents "
            f"a day against {format_value('total_cost', base.kpi('agent_cost') / days)}, "
            f"{cost} {format_value('total_cost', abs(money))} a day in all with the bot's own cost; CSAT "
            f"{_pct(v.kpi('csat'))} vs {_pct(base.kpi('csat'))}, churn risk {_pct(v.kpi('churn_risk'))} vs "
            f"{_pct(base.kpi('churn_risk'))}; net cost, churn and incidents counted, "
            f"{format_value('net_cost', v.kpi('net_cost') / days)} vs "
            f"{format_value('net_cost', base.kpi('net_cost') / days)} a day.")
    return Insight(v.label, "equal_service", 1.0, text)


def _drift(v: _View, base: _View) -> Insight | None:
    """Over two weeks or more: whether the bot's resolution moved between the first and the last week (paired
    over replications), and what the knowledge did meanwhile."""
    runs = v.c.finished(v.p)
    weeks = len(runs[0].daily) // 7 if runs else 0
    if weeks < 2:
        return None

    def week(w: int, name: str) -> list[float]:
        return [float(np.nanmean([r.daily[d][name] for d in range(7 * w, 7 * w + 7)])) for r in runs]

    first, last = week(0, "bot_resolution_rate"), week(weeks - 1, "bot_resolution_rate")
    if len(runs) < 2 or any(math.isnan(x) for x in first + last):
        return None
    change = paired(last, first)
    if not change.significant:
        return None
    stale = float(np.mean(week(weeks - 1, "stale_intents")))
    csat_first, csat_last = float(np.mean(week(0, "csat"))), float(np.mean(week(weeks - 1, "csat")))
    changes = sorted(d for d, words in v.c.events_by_day().items() if any("knowledge" in w for w in words))
    when = f" (scheduled changes on day {', '.join(map(str, changes))})" if changes else ""
    how = "fell" if change.mean < 0 else "rose"
    why = (f"with {stale:.1f} intents' knowledge stale on average in the last week{when}: nobody updated what it "
           "answers from" if change.mean < 0 else
           f"as its reviews fixed stale answers and it learned from escalated conversations ({stale:.1f} intents "
           "stale on average in the last week)")
    text = (f"{v.label}'s bot resolution {how} from {_pct(float(np.mean(first)))} in week 1 to "
            f"{_pct(float(np.mean(last)))} in week {weeks}, {why}; CSAT {_pct(csat_first)} → {_pct(csat_last)}.")
    return Insight(v.label, "drift", abs(change.mean), text)


DETECTORS = (_drift, _equal_service, _net_cost, _dead_ends, _repeated_information, _emotional_intents, _wrong_answers,
             _survey_flatters, _escalation_errors, _flattering_containment, _security, _calming, _understaffed,
             _cost)


def explain(comparison: Comparison) -> list[Insight]:
    """Insights for every policy with finished replications, the weightiest first within each policy."""
    base = _View(comparison, comparison.baseline)
    out: list[Insight] = []
    for p in range(len(comparison.labels)):
        if not comparison.finished(p):
            continue
        view = _View(comparison, p)
        found = [ins for detect in DETECTORS if (ins := detect(view, base)) is not None]
        found = [i for i in found if p != comparison.baseline or i.mode not in ("cost", "understaffed", "net_cost")]
        out += sorted(found, key=lambda i: -i.weight)
    return out
