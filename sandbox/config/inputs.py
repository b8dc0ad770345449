"""Provides input resolution: names, paths or models of scenarios and policies, with ``--set`` overrides,
loaded and validated together so that every problem in every file (and across files) is reported at once.

A name is looked up in ./simulations and ./policies, then among the built-ins (sandbox.catalog); a ``--set``
is routed to the scenario or the policies by its first key. Front ends reach this through sandbox.api.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import catalog
from sandbox.config.loader import (
    Document,
    Path_,
    cross_check,
    load_document,
    parse_override,
    read_yaml,
    validate_document,
)
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.errors import ConfigError, Problem, printable

ScenarioRef = str | Path | Scenario | dict[str, Any]
PolicyRef = str | Path | Policy | dict[str, Any]
Override = tuple[Path_, Any, str]


def _field_names(model: type[Scenario] | type[Policy]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def split_overrides(texts: Iterable[str]) -> tuple[list[Override], list[Override], list[Problem]]:
    """Route ``--set key=value`` to the scenario or the policies by the first part of the key.

    ``scenario.`` or ``policy.`` may prefix a key explicitly (needed for keys both have, such as name).
    Returns the problems too, so they are reported together with those of the files.
    """
    scenario_keys, policy_keys = _field_names(Scenario), _field_names(Policy)
    to_scenario: list[Override] = []
    to_policy: list[Override] = []
    problems = []
    for text in texts:
        try:
            path, value = parse_override(text)
        except ConfigError as exc:
            problems += exc.problems
            continue
        head = path[0]
        where = f"--set {text}"
        if head in ("scenario", "policy") and len(path) > 1:
            (to_scenario if head == "scenario" else to_policy).append((path[1:], value, where))
        elif head in scenario_keys and head in policy_keys:
            problems.append(Problem(f"--set {text}", None, str(head), "both scenarios and policies have this key",
                                    f"write scenario.{head}=… or policy.{head}=…"))
        elif head in scenario_keys:
            to_scenario.append((path, value, where))
        elif head in policy_keys:
            to_policy.append((path, value, where))
        else:
            close = difflib.get_close_matches(str(head), sorted(scenario_keys | policy_keys), n=1, cutoff=0.6)
            problems.append(Problem(f"--set {text}", None, str(head), "unknown key",
                                    f"did you mean {close[0]!r}?" if close else None))
    return to_scenario, to_policy, problems


def _document(ref: ScenarioRef | PolicyRef, kind: catalog.Kind, overrides: list[Override],
              cwd: Path | None = None) -> Document:
    if isinstance(ref, Scenario | Policy):
        # Keep explicit nulls: `max_bot_turns: null` means "no limit", not "use the default".
        data = ref.model_dump(mode="json", by_alias=True)
        if not overrides:  # a valid model as it is: no round trip through text
            return Document(data, None, model=ref)
        source: Path | dict[str, Any] = data
    elif isinstance(ref, dict):
        source = ref
    else:
        source = catalog.resolve(ref, kind, cwd)
    return load_document(source, overrides, Scenario if kind == "simulations" else Policy)


def _label(ref: PolicyRef, policy: Policy | None) -> str:
    if isinstance(ref, str | Path):
        return printable(Path(ref).stem)  # a label is shown everywhere: a file name cannot carry escapes
    return (policy.name if policy else "policy").lower().replace(" ", "-")


@dataclass
class Loaded:
    scenario: Scenario
    policies: list[Policy]
    labels: list[str]
    skipped: list[Problem] = field(default_factory=list)  # broken policy files left out of a default comparison


def load(scenario: ScenarioRef = catalog.DEFAULT_SCENARIO, policies: Sequence[PolicyRef] | None = None,
         overrides: Iterable[str] = (), days: int | None = None, cwd: Path | None = None) -> Loaded:
    """Load a scenario and policies, reporting every problem in every file (and across files) at once.

    Without ``policies``, every available policy is compared; one whose own file is broken is then left out
    (and named in ``Loaded.skipped``) rather than blocking the others: the user did not ask for it.
    """
    by_default = policies is None
    if policies is None:
        policies = catalog.default_policies(cwd)
    to_scenario, to_policy, problems = split_overrides(overrides)
    if days is not None:
        to_scenario.append((("horizon", "days"), days, f"--days {days}"))
    skipped: list[Problem] = []

    def left_out(found: list[Problem]) -> bool:
        """A policy file broken in itself, not by a --set (which would break every policy alike), that
        nobody asked for: it is left out of a default comparison instead of blocking it."""
        if by_default and found and all(p.file and not p.file.startswith("--") for p in found):
            skipped.extend(found)
            return True
        return False

    docs: list[Document | None] = []
    unreadable: set[int] = set()  # positions in docs of policy files left out before they could be read
    for ref, kind, ovr in [(scenario, "simulations", to_scenario)] + [(p, "policies", to_policy) for p in policies]:
        try:
            docs.append(_document(ref, kind, ovr, cwd))  # type: ignore[arg-type]
        except ConfigError as exc:
            if kind == "policies" and left_out(exc.problems):
                unreadable.add(len(docs))
            else:
                problems += exc.problems
            docs.append(None)
    scenario_model: Scenario | None = None
    if docs[0] is not None:
        scenario_model, found = _validate_as(docs[0], Scenario)
        problems += found
    policy_models: list[Policy | None] = []
    kept: list[PolicyRef] = []
    for position, (ref, doc) in enumerate(zip(policies, docs[1:], strict=True), start=1):
        if position in unreadable:
            continue
        model, found, misfit = None, [], []
        if doc is not None:
            model, found = _validate_as(doc, Policy)
            if model is not None and scenario_model is not None:
                misfit = cross_check(scenario_model, model, doc)  # a valid file that does not fit this scenario
            if left_out(found):
                continue
        problems += found + misfit
        policy_models.append(model)
        kept.append(ref)
    if problems:
        raise ConfigError(problems)
    assert scenario_model is not None
    labels = unique_labels([_label(ref, m) for ref, m in zip(kept, policy_models, strict=True)])
    return Loaded(scenario_model, [m for m in policy_models if m is not None], labels, skipped)


def _validate_as(doc: Document, model: type[Any]) -> tuple[Any, list[Problem]]:
    """Validate, but say so plainly when a scenario was given where a policy belongs (or the reverse)."""
    if doc.model is not None:
        return doc.model, []
    obj, problems = validate_document(doc, model)
    if problems and not doc.problems and detect_kind(doc) is not model:
        other = "scenario" if model is Policy else "policy"
        expected = "a policy (--policy)" if model is Policy else "the scenario (the first argument)"
        return None, [Problem(doc.file, None, "", f"looks like a {other} file, given as {expected}")]
    return obj, problems


def unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}-{seen[label]}")
    return out


def load_scenario(ref: ScenarioRef = catalog.DEFAULT_SCENARIO, overrides: Iterable[str] = ()) -> Scenario:
    return load(ref, [], overrides).scenario


def load_policy(ref: PolicyRef, overrides: Iterable[str] = ()) -> Policy:
    to_scenario, to_policy, problems = split_overrides(overrides)
    problems += [Problem(where, None, "", "sets a scenario key, not a policy key") for _, _, where in to_scenario]
    if problems:
        raise ConfigError(problems)
    doc = _document(ref, "policies", to_policy)
    model, problems = validate_document(doc, Policy)
    if problems:
        raise ConfigError(problems)
    assert model is not None
    return model


def detect_kind(doc: Document, path: Path | None = None) -> type[Scenario] | type[Policy]:
    """Scenario or policy: by folder name, else by which model's keys the file uses more."""
    if path is not None:
        if path.parent.name == "policies":
            return Policy
        if path.parent.name == "simulations":
            return Scenario
    keys = set(doc.data) if isinstance(doc.data, dict) else set()
    s, p = len(keys & (_field_names(Scenario) - _field_names(Policy))), len(keys & (_field_names(Policy) -
                                                                                     _field_names(Scenario)))
    return Scenario if s > p else Policy


def validate(paths: Sequence[str | Path]) -> dict[str, list[Problem]]:
    """Problems per file (empty list: valid). Policies are also checked against every valid scenario given."""
    report: dict[str, list[Problem]] = {}
    scenarios: list[Scenario] = []
    policies: list[tuple[str, Policy, Document]] = []
    for ref in paths:
        key = str(ref)
        try:
            path = _resolve_any(str(ref))
            doc = read_yaml(path)
        except ConfigError as exc:
            report[key] = exc.problems
            continue
        kind = detect_kind(doc, path)
        model, problems = validate_document(doc, kind)
        report[key] = problems
        if isinstance(model, Scenario):
            scenarios.append(model)
        elif isinstance(model, Policy):
            policies.append((key, model, doc))
    for key, policy, doc in policies:
        for scenario in scenarios:
            report[key] += cross_check(scenario, policy, doc)
    return report


def _resolve_any(ref: str) -> Path:
    """A path, or the name of a scenario or, failing that, of a policy."""
    if catalog.is_path(ref):
        return catalog.resolve(ref, "simulations")
    names = {**catalog.available("policies"), **catalog.available("simulations")}
    if ref in names:
        return names[ref]
    close = difflib.get_close_matches(ref, list(names), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else "see `support-sandbox list`"
    raise ConfigError([Problem(ref, None, "", "no scenario or policy by this name in ./simulations, ./policies or "
                               "the built-ins", hint)])


def load_document_data(path: str | Path) -> dict[str, Any]:
    """The raw mapping of a YAML file (problems raised as ConfigError), for editors that apply overrides."""
    return read_yaml(Path(path)).data
