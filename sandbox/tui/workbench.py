"""Provides the workbench state behind the TUI: what is loaded, which knobs were turned, what a run gets.

No Textual here: every knob is a dotted-key override validated by the same loader as ``--set``, so an invalid
value gets the same located message as on the command line, and the state can be tested headless.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from sandbox import api
from sandbox.errors import ConfigError, Problem

Target = Literal["policy", "scenario", "run"]
NONE_WORDS = ("none", "off", "null", "no", "-", "")
KNOB = "knob"  # where a knob's value came from, as problems print it
EDITED = " (edited)"


@dataclass(frozen=True)
class Knob:
    """One control: a label, where it writes, and how its text is read."""

    name: str
    label: str
    target: Target
    kind: Literal["float", "int", "optional_int", "optional_float", "choice"]
    choices: tuple[str, ...] = ()
    help: str = ""


SHARE = "automation.share"
SHARE_ALL = Knob(SHARE, "bot share", "policy", "float",
                 help="share of contacts offered to the bot, every channel (shown: the share of all contacts)")
POLICY_KNOBS = (
    Knob("escalation.max_bot_turns", "max turns", "policy", "optional_int",
         help="hand over after this many unhelpful turns; 'none' = dead end"),
    Knob("escalation.frustration_threshold", "escalate at", "policy", "optional_float",
         help="hand over when frustration reaches this (0–1); 'off' to disable"),
    Knob("escalation.honour_requests", "human asks", "policy", "choice",
         ("always", "after 1", "after 2", "after 3", "never"), "honour a request for a human"),
    Knob("handoff.mode", "handoff", "policy", "choice", ("warm", "cold"), "does the conversation travel?"),
    Knob("integration.level", "bot access", "policy", "choice", ("none", "read", "act"),
         "what the bot may do: answer only, read account data, or act on the account"),
    Knob("security.verification", "verify id", "policy", "choice", ("on", "off"),
         "verify identity before account actions (at access act)"),
)
SCENARIO_KNOBS = (
    Knob("bot.quality", "bot quality", "scenario", "float", help="× every intent's bot resolution probability"),
    Knob("bot.wrong_answers", "wrong answers", "scenario", "float",
         help="× every intent's wrong-answer risk: stale knowledge looks good on the survey, not on the journey"),
    Knob("demand.contacts_per_day", "contacts/day", "scenario", "float", help="expected contacts per day"),
)
DAYS = Knob("horizon.days", "days", "scenario", "int", help="simulated days per replication")
RUN_KNOBS = (Knob("replications", "replications", "run", "int", help="replications per policy"),
             Knob("seed", "seed", "run", "int", help="base seed: the same seed gives the same numbers"))


def agent_knob(group: str) -> Knob:
    return Knob(f"agents.groups.{group}", f"staff {group}"[:14], "scenario", "int",
                help=f"agents in group {group} at the busiest time (the schedule is scaled)")


def channel_knob(channel: str) -> Knob:
    return Knob(f"{SHARE}.{channel}", f" ↳ {channel}", "policy", "float",
                help=f"share of {channel} contacts offered to the bot (0–1)")


def contact_share(policy: api.Policy, scenario: api.Scenario) -> float:
    """The share of all contacts offered to the bot: per-channel shares weighted by the channels' volumes."""
    weights = {name: spec.share for name, spec in scenario.channels.items()}
    total = sum(weights.values()) or 1.0
    return sum(w * policy.automation.share_for(name) for name, w in weights.items()) / total


def _flat(value: Any, prefix: str, depth: int, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and depth > 0:
        for k, v in value.items():
            _flat(v, f"{prefix}.{k}" if prefix else str(k), depth - 1, out)
    else:
        out[prefix] = value


def changes(before: BaseModel, after: BaseModel, depth: int = 4) -> list[str]:
    """What differs, as 'dotted.key old → new' (deeper mappings say only that they changed)."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flat(before.model_dump(mode="json", by_alias=True), "", depth, a)
    _flat(after.model_dump(mode="json", by_alias=True), "", depth, b)
    out = []
    for key in sorted(set(a) | set(b)):
        if key in ("name", "description") or a.get(key) == b.get(key):
            continue
        old, new = a.get(key), b.get(key)
        out.append(f"{key} changed" if isinstance(old, dict) or isinstance(new, dict) else f"{key} {old} → {new}")
    return out


def _marked(model: Any, original: Any, what: list[str]) -> Any:
    """The model renamed and described as edited, so every run, export and saved file says what ran."""
    if not what:
        return model
    name = model.name if model.name.endswith(EDITED) else model.name + EDITED
    note = "Edited in the workbench: " + "; ".join(what) + "."
    description = f"{original.description.strip()} {note}".strip()
    return model.model_copy(update={"name": name, "description": description})


@dataclass
class PolicyEntry:
    label: str
    path: Path | None
    data: dict[str, Any]  # as loaded, before knob edits
    original: api.Policy  # as loaded
    model: api.Policy  # with knob edits

    @property
    def edited(self) -> bool:
        return self.model != self.original

    @property
    def run_label(self) -> str:
        """The column name in runs and exports: an edited policy is not the file's policy."""
        return self.label + "*" if self.edited else self.label

    def run_model(self) -> api.Policy:
        return _marked(self.model, self.original, changes(self.original, self.model)) if self.edited else self.model


@dataclass
class RunInputs:
    """Exactly what a run gets (and so what its exports describe)."""

    scenario: api.Scenario
    policies: list[api.Policy]
    labels: list[str]  # column names (edited policies marked)
    entries: list[str]  # the workbench's labels, in the same order
    baseline: int
    replications: int
    seed: int
    equal_service: tuple[str, ...] = ()  # targets every policy is staffed to first; () holds the agents fixed

    @property
    def signature(self) -> str:
        """Equal for equal inputs: tells whether shown results still describe the knobs."""
        text = "\n".join([self.scenario.model_dump_json(), *(p.model_dump_json() for p in self.policies),
                          *self.labels, str(self.baseline), str(self.replications), str(self.seed),
                          *self.equal_service])
        return hashlib.sha1(text.encode()).hexdigest()


def _read_problem(path: Path | str, exc: BaseException) -> Problem:
    """A file the loader could not turn into problems of its own (it raised something else): still reported."""
    what = "nested too deeply to read" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
    return Problem(str(path), None, "", f"cannot be read: {what}")


@dataclass
class Workbench:
    """Scenario, policies, knob edits and run settings; ``inputs()`` is what a run gets."""

    scenario_ref: str
    scenario_data: dict[str, Any]
    original: api.Scenario  # as loaded
    scenario: api.Scenario  # with knob edits
    policies: list[PolicyEntry]
    problems: list[Problem] = field(default_factory=list)  # files that could not be loaded
    selected: list[str] = field(default_factory=list)
    baseline: str = ""
    replications: int = 10
    replications_set: bool = False  # chosen by the user, so kept when the scenario changes
    seed: int = 0
    cwd: Path | None = None
    scenario_edits: dict[api.Path_, tuple[Any, str]] = field(default_factory=dict)  # path → (value, where)
    policy_edits: dict[str, dict[api.Path_, tuple[Any, str]]] = field(default_factory=dict)
    invalid: dict[tuple[str, str], tuple[Problem, str]] = field(default_factory=dict)  # (knob, label) → why, text
    equal_service: tuple[str, ...] = ()  # targets to staff every policy to before comparing (the e key)

    # --- loading ---------------------------------------------------------------------------------

    @classmethod
    def open(cls, scenario: str = api.DEFAULT_SCENARIO, policies: list[str] | None = None,
             cwd: Path | None = None, seed: int = 0, overrides: list[str] | tuple[str, ...] = (),
             days: int | None = None, replications: int | None = None, baseline: str | None = None) -> Workbench:
        """Load a scenario and policies.

        Policies found in ./policies that are broken become problems shown in the app, not failures; what the
        caller named (scenario, ``policies``, ``overrides``, ``baseline``) must be right, or ConfigError.
        """
        path = api.resolve(scenario, "simulations", cwd)
        loaded = api.load(path, [], cwd=cwd)
        data = api.load_document_data(path)
        to_scenario, to_policy, errors = api.split_overrides(overrides)
        named = policies is not None
        refs = policies if policies is not None else api.default_policies(cwd)
        entries: list[PolicyEntry] = []
        problems: list[Problem] = []
        for ref in refs:
            entry, found = _load_entry(ref, loaded.scenario, cwd)
            if entry is None:
                (errors if named else problems).extend(found)
            elif all(e.path != entry.path for e in entries):  # the same file twice is one policy
                taken = {e.label for e in entries}
                while entry.label in taken:
                    entry.label += "+"
                entries.append(entry)
        if errors:
            raise ConfigError(errors)
        labels = [e.label for e in entries]
        wb = cls(scenario_ref=str(path), scenario_data=data, original=loaded.scenario, scenario=loaded.scenario,
                 policies=entries, problems=problems, selected=labels, baseline=labels[0] if labels else "",
                 replications=replications or loaded.scenario.horizon.replications,
                 replications_set=replications is not None, seed=seed, cwd=cwd)
        scenario_edits = {p: (v, where) for p, v, where in to_scenario}
        if days is not None:
            scenario_edits[("horizon", "days")] = (days, f"--days {days}")
        if scenario_edits:
            errors += wb._revalidate_scenario(scenario_edits)
        for entry in entries:
            edits = {p: (v, where) for p, v, where in to_policy}
            if edits:
                errors += wb._revalidate_policy(entry.label, edits)
        if baseline is not None:
            errors += wb._baseline_problems(baseline)
        if errors:
            raise ConfigError(errors)
        if baseline is not None:
            wb.baseline = baseline
        return wb

    def _baseline_problems(self, baseline: str) -> list[Problem]:
        labels = [e.label for e in self.policies]
        if baseline in labels:
            return []
        close = difflib.get_close_matches(baseline, labels, n=1, cutoff=0.5)
        return [Problem("--baseline", None, baseline, "is not one of the loaded policies",
                        f"did you mean {close[0]!r}?" if close else f"choose from {', '.join(labels)}")]

    def switch_scenario(self, ref: str) -> list[Problem]:
        """Open another scenario for the same policies, keeping policy edits and run settings.

        api.Scenario knob edits belong to the old scenario and are dropped (the number of days is kept). Policies
        that do not fit the new scenario (an intent it lacks) are left out and returned as problems; a broken
        scenario changes nothing and is returned as problems.
        """
        try:
            path = api.resolve(ref, "simulations", self.cwd)
            loaded = api.load(path, [], cwd=self.cwd)
            data = api.load_document_data(path)
        except ConfigError as exc:
            return exc.problems
        except Exception as exc:  # the loader failed on this file in a way of its own: report, keep going
            return [_read_problem(ref, exc)]
        days = self.scenario_edits.get(("horizon", "days"))
        self.scenario_ref, self.scenario_data = str(path), data
        self.original = self.scenario = loaded.scenario
        self.scenario_edits = {}
        self.invalid = {k: v for k, v in self.invalid.items() if k[1]}  # the scenario's knobs are new
        if not self.replications_set:
            self.replications = loaded.scenario.horizon.replications
        problems = self._revalidate_scenario({("horizon", "days"): days}) if days is not None else []
        kept = []
        for entry in self.policies:
            found = api.cross_check(self.scenario, entry.model, api.Document(entry.data, str(entry.path)))
            if found:
                problems += found
                self.policy_edits.pop(entry.label, None)
            else:
                kept.append(entry)
        self.policies = kept
        labels = [e.label for e in kept]
        self.selected = [s for s in self.selected if s in labels]
        if self.baseline not in labels:
            self.baseline = labels[0] if labels else ""
        return problems

    def entry(self, label: str) -> PolicyEntry:
        return next(e for e in self.policies if e.label == label)

    # --- knobs -----------------------------------------------------------------------------------

    def knobs(self) -> list[Knob]:
        channels = [channel_knob(c) for c in self.scenario.channels] if len(self.scenario.channels) > 1 else []
        groups = [agent_knob(g) for g in self.scenario.agents.groups]
        volume = [k for k in SCENARIO_KNOBS if k.name != "demand.contacts_per_day"
                  or self.scenario.demand.contacts_per_day is not None]
        return [SHARE_ALL, *channels, *POLICY_KNOBS, *volume, *groups, DAYS, *RUN_KNOBS]

    @staticmethod
    def _key(knob: Knob, label: str) -> tuple[str, str]:
        return knob.name, label if knob.target == "policy" else ""

    def problem(self, knob: Knob, label: str) -> Problem | None:
        found = self.invalid.get(self._key(knob, label))
        return found[0] if found else None

    def shown(self, knob: Knob, label: str) -> str:
        """What the knob's field shows: an invalid value as it was typed, else the current value."""
        found = self.invalid.get(self._key(knob, label))
        return found[1] if found else self.value(knob, label)

    def value(self, knob: Knob, label: str) -> str:
        """The knob's current value as text."""
        if knob.target == "run":
            return str(self.replications if knob.name == "replications" else self.seed)
        if knob.name.startswith("agents.groups."):
            group = self.scenario.agents.groups[knob.name.split(".")[2]]
            peak = max((group.schedule or {"00:00": 0}).values())
            return str(group.headcount if group.headcount is not None else peak)
        model: Any = self.scenario if knob.target == "scenario" else self.entry(label).model
        if knob.name == SHARE:
            # Per-channel shares are summed up as the share of contacts, not their plain mean.
            return f"{round(contact_share(model, self.scenario), 3):g}"
        if knob.name.startswith(SHARE + "."):
            return f"{model.automation.share_for(knob.name.split('.')[2]):g}"
        value: Any = model
        for part in knob.name.split("."):
            value = getattr(value, part)
        if knob.name == "escalation.honour_requests" and isinstance(value, int):
            return f"after {value}"
        if isinstance(value, bool):
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
            if knob.choices == ("on", "off"):
                return text == "on"
            return text
        try:
            return int(text) if knob.kind in ("int", "optional_int") else float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a {'whole ' if 'int' in knob.kind else ''}number") from None

    def set(self, knob: Knob, label: str, text: str) -> Problem | None:
        """Turn a knob for a policy (or the scenario); return the problem if the value is invalid."""
        key = self._key(knob, label)
        try:
            value = self._parse(knob, text)
        except ValueError as exc:
            problem = Problem(KNOB, None, knob.name, str(exc))
            self.invalid[key] = (problem, text)
            return problem
        if knob.target == "run":
            problems = self._set_run(knob, value)
        elif knob.target == "scenario":
            problems = self._revalidate_scenario({**self.scenario_edits, **self._scenario_override(knob, value)})
        else:
            edits = {**self.policy_edits.get(label, {}), **self._policy_override(knob, label, value)}
            problems = self._revalidate_policy(label, edits)
        if problems:
            self.invalid[key] = (problems[0], text)
            return problems[0]
        self.invalid.pop(key, None)
        if knob.name.startswith(SHARE):  # the knobs of one share: the one just set supersedes the others
            for other in list(self.invalid):
                if other[1] == label and other[0].startswith(SHARE):
                    del self.invalid[other]
        return None

    def _set_run(self, knob: Knob, value: int) -> list[Problem]:
        if knob.name == "seed":
            if value < 0:
                return [Problem(KNOB, None, "seed", "should be a whole number ≥ 0")]
            self.seed = value
            return []
        # Replications are checked against the scenario's own limits for horizon.replications.
        doc = api.Document({"replications": value}, KNOB, overridden={("replications",): KNOB})
        _, problems = api.validate_document(doc, api.Horizon)
        if not problems:
            self.replications, self.replications_set = value, True
        return problems

    def _scenario_override(self, knob: Knob, value: Any) -> dict[api.Path_, tuple[Any, str]]:
        path = tuple(knob.name.split("."))
        if not knob.name.startswith("agents.groups."):
            return {path: (value, KNOB)}
        base = self.original.agents.groups[knob.name.split(".")[2]]
        if not isinstance(value, int) or value < 0 or base.headcount is not None:
            return {(*path, "headcount"): (value, KNOB)}  # a bad value: let validation word the error
        assert base.schedule is not None
        peak = max(base.schedule.values()) or 1
        return {(*path, "schedule"): ({t: round(n * value / peak) for t, n in base.schedule.items()}, KNOB)}

    def _policy_override(self, knob: Knob, label: str, value: Any) -> dict[api.Path_, tuple[Any, str]]:
        if knob.name.startswith(SHARE + "."):
            # One channel's share: the others keep theirs, so a single number becomes a mapping.
            model = self.entry(label).model
            shares: dict[str, Any] = {c: model.automation.share_for(c) for c in self.scenario.channels}
            shares[knob.name.split(".")[2]] = value
            return {("automation", "share"): (shares, KNOB)}
        return {tuple(knob.name.split(".")): (value, KNOB)}

    def _revalidate_scenario(self, edits: dict[api.Path_, tuple[Any, str]]) -> list[Problem]:
        doc = api.Document(copy.deepcopy(self.scenario_data), self.scenario_ref)
        try:
            for path, (value, where) in edits.items():
                api.apply_override(doc, path, value, where, api.Scenario)
        except ConfigError as exc:
            return exc.problems
        model, problems = api.validate_document(doc, api.Scenario)
        if model is None:
            return problems
        cross = [p for e in self.policies for p in api.cross_check(model, e.model, api.Document(e.data, str(e.path)))]
        if cross:
            return cross
        self.scenario, self.scenario_edits = model, edits
        return []

    def _revalidate_policy(self, label: str, edits: dict[api.Path_, tuple[Any, str]]) -> list[Problem]:
        entry = self.entry(label)
        doc = api.Document(copy.deepcopy(entry.data), str(entry.path))
        try:
            for path, (value, where) in edits.items():
                api.apply_override(doc, path, value, where, api.Policy)
        except ConfigError as exc:
            return exc.problems
        model, problems = api.validate_document(doc, api.Policy)
        if model is None:
            return problems
        cross = api.cross_check(self.scenario, model, doc)
        if cross:
            return cross
        entry.model = model
        self.policy_edits[label] = edits
        return []

    # --- what a run gets -------------------------------------------------------------------------

    @property
    def scenario_edited(self) -> bool:
        """Changed in what it models; the number of days is a run length, shown on its own."""
        return self.scenario.model_copy(update={"horizon": self.original.horizon}) != self.original

    def run_scenario(self) -> api.Scenario:
        if not self.scenario_edited:
            return self.scenario
        what = [c for c in changes(self.original, self.scenario) if not c.startswith("horizon.")]
        return _marked(self.scenario, self.original, what)  # type: ignore[no-any-return]

    def inputs(self) -> RunInputs:
        entries = [e for e in self.policies if e.label in self.selected]
        labels = [e.label for e in entries]
        base = labels.index(self.baseline) if self.baseline in labels else 0
        return RunInputs(self.run_scenario(), [e.run_model() for e in entries], [e.run_label for e in entries],
                         labels, base, self.replications, self.seed, self.equal_service)

    def save_policy(self, label: str, path: Path) -> list[Problem]:
        """Write the policy with its edits; validate the written file (and against the scenario) before saying so."""
        api.write_atomic(path, api.policy_yaml(self.entry(label).run_model()))
        report = api.validate([str(path)])
        problems = report.get(str(path), [])
        if not problems:
            try:
                api.load(self.scenario, [path])
            except ConfigError as exc:
                problems = exc.problems
        return problems


def _load_entry(ref: str, scenario: api.Scenario, cwd: Path | None) -> tuple[PolicyEntry | None, list[Problem]]:
    try:
        path = api.resolve(ref, "policies", cwd)
    except ConfigError as exc:
        return None, exc.problems
    try:
        data = api.load_document_data(path)
        model = api.load(scenario, [path], cwd=cwd).policies[0]
    except ConfigError as exc:
        return None, exc.problems
    except Exception as exc:  # the loader failed on this file in a way of its own: report it, load the rest
        return None, [_read_problem(path, exc)]
    return PolicyEntry(path.stem, path, data, model, model), []

