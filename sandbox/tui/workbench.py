"""Provides the workbench state behind the TUI: what is loaded, which knobs were turned, what a run gets.

No Textual here: every knob is a dotted-key override validated by the same loader as ``--set``, so an invalid
value gets the same located message as on the command line, and the state can be tested headless.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sandbox import api, catalog
from sandbox.config.loader import Document, apply_override, cross_check, validate_document
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.errors import ConfigError, Problem
from sandbox.export import policy_yaml, write_atomic

Target = Literal["policy", "scenario", "run"]
NONE_WORDS = ("none", "off", "null", "no", "-", "")


@dataclass(frozen=True)
class Knob:
    """One control: a label, where it writes, and how its text is read."""

    name: str
    label: str
    target: Target
    kind: Literal["float", "int", "optional_int", "optional_float", "choice"]
    choices: tuple[str, ...] = ()
    help: str = ""


POLICY_KNOBS = (
    Knob("automation.share", "bot share", "policy", "float", help="share of contacts offered to the bot (0–1)"),
    Knob("escalation.max_bot_turns", "max turns", "policy", "optional_int",
         help="hand over after this many unhelpful turns; 'none' = dead end"),
    Knob("escalation.frustration_threshold", "escalate at", "policy", "optional_float",
         help="hand over when frustration reaches this (0–1); 'off' to disable"),
    Knob("escalation.honour_requests", "human asks", "policy", "choice",
         ("always", "after 1", "after 2", "after 3", "never"), "honour a request for a human"),
    Knob("handoff.mode", "handoff", "policy", "choice", ("warm", "cold"), "does the conversation travel?"),
    Knob("integration.crm", "CRM data", "policy", "choice", ("on", "off"), "the bot reads account data"),
)
SCENARIO_KNOBS = (
    Knob("bot.quality", "bot quality", "scenario", "float", help="× every intent's bot resolution probability"),
    Knob("demand.contacts_per_day", "contacts/day", "scenario", "float", help="expected contacts per day"),
)
RUN_KNOBS = (Knob("replications", "replications", "run", "int", help="replications per policy"),)


def agent_knob(group: str) -> Knob:
    return Knob(f"agents.groups.{group}", f"staff {group}"[:13], "scenario", "int",
                help=f"agents in group {group} at the busiest time (the schedule is scaled)")


@dataclass
class PolicyEntry:
    label: str
    path: Path | None
    data: dict[str, Any]  # as loaded, before knob edits
    model: Policy  # with knob edits
    edited: bool = False


@dataclass
class Workbench:
    """Scenario, policies, knob edits and run settings; ``inputs()`` is what a run gets."""

    scenario_ref: str
    scenario_data: dict[str, Any]
    scenario: Scenario  # with knob edits
    policies: list[PolicyEntry]
    problems: list[Problem] = field(default_factory=list)  # files that could not be loaded
    selected: list[str] = field(default_factory=list)
    baseline: str = ""
    replications: int = 10
    seed: int = 0
    scenario_edits: dict[str, Any] = field(default_factory=dict)
    policy_edits: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: dict[tuple[str, str], Problem] = field(default_factory=dict)  # (knob, label) → problem

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, scenario: str = catalog.DEFAULT_SCENARIO, policies: list[str] | None = None,
             cwd: Path | None = None, seed: int = 0) -> Workbench:
        """Load a scenario and policies; broken policy files become problems, not failures."""
        path = catalog.resolve(scenario, "simulations", cwd)
        loaded = api.load(path, [], cwd=cwd)
        doc_data = api.load_document_data(path)
        refs = policies if policies is not None else catalog.default_policies(cwd)
        entries, problems = [], []
        for ref in refs:
            try:
                ppath = catalog.resolve(ref, "policies", cwd)
                data = api.load_document_data(ppath)
                model = api.load(loaded.scenario, [ppath], cwd=cwd).policies[0]
            except ConfigError as exc:
                problems += exc.problems
                continue
            entries.append(PolicyEntry(ppath.stem, ppath, data, model))
        labels = [e.label for e in entries]
        return cls(scenario_ref=str(path), scenario_data=doc_data, scenario=loaded.scenario, policies=entries,
                   problems=problems, selected=labels, baseline=labels[0] if labels else "",
                   replications=loaded.scenario.horizon.replications, seed=seed)

    def entry(self, label: str) -> PolicyEntry:
        return next(e for e in self.policies if e.label == label)

    # --- knobs -----------------------------------------------------------------------------------

    def knobs(self) -> list[Knob]:
        groups = [agent_knob(g) for g in self.scenario.agents.groups]
        volume = [k for k in SCENARIO_KNOBS if k.name != "demand.contacts_per_day"
                  or self.scenario.demand.contacts_per_day is not None]
        return [*POLICY_KNOBS, *volume, *groups, *RUN_KNOBS]

    def value(self, knob: Knob, label: str) -> str:
        """The knob's current value as text."""
        if knob.target == "run":
            return str(self.replications)
        if knob.name.startswith("agents.groups."):
            group = self.scenario.agents.groups[knob.name.split(".")[2]]
            peak = max((group.schedule or {"00:00": 0}).values())
            return str(group.headcount if group.headcount is not None else peak)
        model = self.scenario if knob.target == "scenario" else self.entry(label).model
        value: Any = model
        for part in knob.name.split("."):
            value = getattr(value, part)
        if knob.name == "automation.share" and isinstance(value, dict):
            value = sum(value.values()) / len(value)
        if knob.name == "escalation.honour_requests" and isinstance(value, int):
            return f"after {value}"
        if knob.name == "integration.crm":
            return "on" if value else "off"
        if value is None:
            return "none" if knob.kind == "optional_int" else "off"
        return f"{value:g}" if isinstance(value, float) else str(value)

    def _parse(self, knob: Knob, text: str) -> Any:
        text = text.strip().lower()
        if knob.kind in ("optional_int", "optional_float") and text in NONE_WORDS:
            return None
        if knob.kind == "choice":
            if knob.name == "escalation.honour_requests" and text.startswith("after"):
                return int(text.split()[1])
            if knob.name == "integration.crm":
                return text == "on"
            return text
        try:
            return int(text) if knob.kind in ("int", "optional_int") else float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a {'whole ' if 'int' in knob.kind else ''}number") from None

    def set(self, knob: Knob, label: str, text: str) -> Problem | None:
        """Turn a knob for a policy (or the scenario); return the problem if the value is invalid."""
        key = (knob.name, label if knob.target == "policy" else "")
        try:
            value = self._parse(knob, text)
        except ValueError as exc:
            problem = Problem("knob", None, knob.name, str(exc))
            self.invalid[key] = problem
            return problem
        if knob.target == "run":
            if not isinstance(value, int) or value < 1:
                problem = Problem("knob", None, knob.name, "should be a whole number ≥ 1")
                self.invalid[key] = problem
                return problem
            self.replications = value
            self.invalid.pop(key, None)
            return None
        if knob.target == "scenario":
            edits = {**self.scenario_edits, **self._scenario_override(knob, value)}
            problems = self._revalidate_scenario(edits)
        else:
            edits = {**self.policy_edits.get(label, {}), knob.name: value}
            problems = self._revalidate_policy(label, edits)
        if problems:
            self.invalid[key] = problems[0]
            return problems[0]
        self.invalid.pop(key, None)
        return None

    def _scenario_override(self, knob: Knob, value: Any) -> dict[str, Any]:
        if not knob.name.startswith("agents.groups."):
            return {knob.name: value}
        name = knob.name.split(".")[2]
        base = Scenario.model_validate(self.scenario_data).agents.groups[name]
        if not isinstance(value, int) or value < 0:
            return {f"{knob.name}.headcount": value}  # let validation word the error
        if base.headcount is not None:
            return {f"{knob.name}.headcount": value}
        assert base.schedule is not None
        peak = max(base.schedule.values()) or 1
        return {f"{knob.name}.schedule": {t: round(n * value / peak) for t, n in base.schedule.items()}}

    def _revalidate_scenario(self, edits: dict[str, Any]) -> list[Problem]:
        doc = Document(copy.deepcopy(self.scenario_data), self.scenario_ref)
        for key, value in edits.items():
            apply_override(doc, tuple(key.split(".")), value, "knob")
        model, problems = validate_document(doc, Scenario)
        if model is None:
            return problems
        cross = [p for e in self.policies for p in cross_check(model, e.model, Document(e.data, str(e.path)))]
        if cross:
            return cross
        self.scenario, self.scenario_edits = model, edits
        return []

    def _revalidate_policy(self, label: str, edits: dict[str, Any]) -> list[Problem]:
        entry = self.entry(label)
        doc = Document(copy.deepcopy(entry.data), str(entry.path))
        for key, value in edits.items():
            apply_override(doc, tuple(key.split(".")), value, "knob")
        model, problems = validate_document(doc, Policy)
        if model is None:
            return problems
        entry.model, entry.edited = model, True
        self.policy_edits[label] = edits
        return []

    # --- what a run gets -------------------------------------------------------------------------

    def inputs(self) -> tuple[Scenario, list[Policy], list[str], int]:
        labels = [e.label for e in self.policies if e.label in self.selected]
        models = [self.entry(label).model for label in labels]
        base = labels.index(self.baseline) if self.baseline in labels else 0
        return self.scenario, models, labels, base

    def save_policy(self, label: str, path: Path) -> list[Problem]:
        """Write the policy with its edits; validate the written file (and against the scenario) before saying so."""
        entry = self.entry(label)
        model = entry.model
        if entry.edited and not model.name.endswith("(edited)"):
            model = model.model_copy(update={"name": f"{model.name} (edited)"})
        write_atomic(path, policy_yaml(model))
        report = api.validate([str(path)])
        problems = report.get(str(path), [])
        if not problems:
            try:
                api.load(self.scenario, [path])
            except ConfigError as exc:
                problems = exc.problems
        return problems
