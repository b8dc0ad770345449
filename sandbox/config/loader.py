"""Provides loading of scenario and policy YAML into validated models, reporting every problem with its line.

A file is read as a YAML node tree so each key keeps its line number; pydantic validates the plain data; its
errors are translated to Problems (file, line, dotted key, message, did-you-mean). Cross-file checks (a
policy naming an intent the scenario lacks) run once both sides are valid. ``--set`` overrides use the same
dotted keys that problems print.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario, check_shares
from sandbox.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)
Path_ = tuple[str | int, ...]


@dataclass
class Document:
    """Raw data of one YAML file (or dict), with the line of every key and the overrides applied to it."""

    data: Any
    file: str | None = None
    lines: dict[Path_, int] = field(default_factory=dict)
    overridden: dict[Path_, str] = field(default_factory=dict)  # path → what wrote it ("--set k=v", "knob …")
    problems: list[Problem] = field(default_factory=list)  # found while reading (duplicate keys)
    model: BaseModel | None = None  # already validated (a model handed in with nothing to override)

    def locate(self, path: Path_) -> tuple[str | None, int | None]:
        """File and line for a dotted path: an override names itself; else the nearest key with a line."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.overridden:
                return self.overridden[path[:n]], None
            if path[:n] in self.lines and n:
                return self.file, self.lines[path[:n]]
        return self.file, None

    def problem(self, path: Path_, message: str, hint: str | None = None) -> Problem:
        file, line = self.locate(path)
        return Problem(file, line, dotted(path), message, hint)


def dotted(path: Path_) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[Problem], file: str,
          loader: yaml.SafeLoader) -> Any:
    """Build plain data from a node tree, recording each key's line and refusing duplicate keys.

    Keys stay the strings the user typed (YAML 1.1 would turn a key ``on`` into True).
    """
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(file, line, dotted(path), "keys must be plain names"))
                continue
            sub = (*path, key_node.value)
            if key_node.value in out:
                problems.append(Problem(file, line, dotted(sub), "appears twice in the same mapping"))
            lines[sub] = line
            out[key_node.value] = _walk(value_node, sub, lines, problems, file, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            items.append(_walk(item, (*path, i), lines, problems, file, loader))
        return items
    return loader.construct_object(node, deep=True)


def read_yaml(path: Path) -> Document:
    """Parse a YAML file; syntax errors, missing files and duplicate keys become Problems."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(shown, None, "", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(shown, None, "", "is a folder, not a YAML file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(shown, None, "", f"cannot be read: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"broken YAML: {exc.problem or exc.context}"
        raise ConfigError([Problem(shown, line, "", message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(shown, None, "", f"broken YAML: {exc}")]) from None
    if node is None:
        raise ConfigError([Problem(shown, None, "", "the file is empty")])
    lines: dict[Path_, int] = {}
    problems: list[Problem] = []
    loader = yaml.SafeLoader("")
    try:
        data = _walk(node, (), lines, problems, shown, loader)
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError([Problem(shown, 1, "", "expected a mapping of keys (name: ..., demand: ...) at the top")])
    return Document(data, shown, lines, problems=problems)  # duplicates are reported with the other problems


# --- overrides -----------------------------------------------------------------------------------------


def parse_override(text: str) -> tuple[Path_, Any]:
    """'escalation.max_bot_turns=3' → (('escalation', 'max_bot_turns'), 3); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError([Problem("--set", None, text, "expected dotted.key=value")])
    key, _, raw = text.partition("=")
    parts: list[str | int] = []
    for piece in key.strip().split("."):
        if not piece:
            raise ConfigError([Problem("--set", None, key, "empty part in the dotted key")])
        parts.append(int(piece) if piece.isdigit() else piece)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return tuple(parts), value


def apply_override(doc: Document, path: Path_, value: Any, text: str) -> None:
    """Write one override into the raw data, creating mappings on the way (validation judges the result)."""
    node = doc.data
    for i, part in enumerate(path[:-1]):
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise ConfigError([doc.problem(path[:i], "is not a mapping, so it has no keys to set")])
        if not isinstance(node.get(part), dict | list):
            node[part] = {}
        node = node[part]
    last = path[-1]
    if isinstance(node, list) and isinstance(last, int) and last < len(node):  # noqa: SIM114 (narrows the index)
        node[last] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise ConfigError([doc.problem(path[:-1], "is not a mapping, so it has no keys to set")])
    doc.overridden[path] = text


# --- validation → problems -----------------------------------------------------------------------------


def _candidates(tp: Any) -> list[Any]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _candidates(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [c for arg in typing.get_args(tp) for c in _candidates(arg)]
    return [tp]


def _step(tp: Any, part: str | int) -> Any:
    """Follow one element of a pydantic error location through the type annotations."""
    for cand in _candidates(tp):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            for name, info in cand.model_fields.items():
                if part in (name, info.alias):
                    return info.annotation
            kind = cand.model_fields.get("kind")
            if kind is not None and part in typing.get_args(kind.annotation):
                return cand  # the location names the tag of a discriminated union
        origin = typing.get_origin(cand)
        if origin is dict:
            return typing.get_args(cand)[1]
        if origin is list and isinstance(part, int):
            return typing.get_args(cand)[0]
    return tp  # a union-branch label such as 'function-after[...]': it does not move us


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Keys accepted at a location (for did-you-mean)."""
    tp: Any = model
    for part in loc:
        tp = _step(tp, part)
    keys: list[str] = []
    for cand in _candidates(tp):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            keys += [info.alias or name for name, info in cand.model_fields.items()]
    return keys


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        else:
            continue  # a union-branch label, not a key of the user's data
        path.append(part)
    return tuple(path)


def _message(err: Any) -> str:
    msg: str = err["msg"]
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = msg.replace("Input should be", "should be").replace("Extra inputs are not permitted", "unknown key")
    value = err.get("input")
    if err["type"] not in ("missing", "extra_forbidden") and not isinstance(value, dict | list) and value is not None:
        shown = repr(value) if isinstance(value, str) else str(value)
        if shown not in msg:
            msg += f" (got {shown})"
    return msg


_OTHER_BRANCH = {"dict_type", "model_type", "list_type", "model_attributes_type", "float_type", "float_parsing",
                 "int_type", "int_parsing", "string_type", "bool_type", "literal_error"}


def problems_from(exc: ValidationError, doc: Document, model: type[BaseModel]) -> list[Problem]:
    """Translate pydantic errors, merging the per-branch errors pydantic gives for one union-typed key."""
    by_path: dict[Path_, list[tuple[str, str | None]]] = {}
    branch_types: dict[Path_, set[str]] = {}
    for err in exc.errors():
        loc = tuple(err["loc"])
        if err["type"] == "missing":
            path = (*_data_path(doc.data, loc[:-1]), loc[-1])
            message, hint = "missing required key", None
        else:
            path = _data_path(doc.data, loc)
            message, hint = _message(err), None
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(loc[-1]), allowed_keys(model, loc[:-1]), n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else None
            elif err["type"] == "union_tag_invalid":
                tags = [t.strip(" '") for t in str(err["ctx"]["expected_tags"]).split(",")]
                close = difflib.get_close_matches(str(err["ctx"]["tag"]), tags, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else None
        if err["type"] in _OTHER_BRANCH and len(loc) > 1:
            branch_types.setdefault(path, set()).add(message)
        entries = by_path.setdefault(path, [])
        if (message, hint) not in entries:
            entries.append((message, hint))
    problems = []
    for path, entries in by_path.items():
        # "should be a valid dictionary" from the other branch of `number | mapping` only distracts, and so
        # does "should be a number" when the mapping branch found what is wrong inside the mapping.
        specific = [e for e in entries if e[0] not in branch_types.get(path, set())]
        entries = specific or entries
        deeper = any(len(other) > len(path) and other[:len(path)] == path for other in by_path)
        if deeper and all(m in branch_types.get(path, set()) for m, _ in entries):
            continue
        message = entries[0][0] if len(entries) == 1 else " or ".join(m for m, _ in entries)
        problems.append(doc.problem(path, message, entries[0][1]))
    return sorted(problems, key=lambda p: (p.line or 0, p.key))


def _share_problems(doc: Document) -> list[Problem]:
    """Share sums checked on the raw data, so they are reported even when an entry has another error."""
    problems = []
    for mix in ("channels", "segments", "intents"):
        entries = doc.data.get(mix) if isinstance(doc.data, dict) else None
        if not isinstance(entries, dict):
            continue
        shares = {k: v.get("share") for k, v in entries.items() if isinstance(v, dict)}
        if shares and all(isinstance(v, int | float) and not isinstance(v, bool) for v in shares.values()):
            try:
                check_shares(shares, "the")  # type: ignore[arg-type]
            except ValueError as exc:
                problems.append(doc.problem((mix,), str(exc)))
    return problems


def validate_document(doc: Document, model: type[M]) -> tuple[M | None, list[Problem]]:
    try:
        obj = model.model_validate(doc.data)
        if not doc.problems:
            return obj, []
        problems = []
    except ValidationError as exc:
        problems = problems_from(exc, doc, model)
    problems = doc.problems + problems
    if model is Scenario:
        problems += [p for p in _share_problems(doc) if p not in problems]
    return None, sorted(problems, key=lambda p: (p.line or 0, p.key))


def cross_check(scenario: Scenario, policy: Policy, doc: Document) -> list[Problem]:
    """What only shows once a policy meets its scenario: names it uses that the scenario lacks."""
    problems = []

    def unknown(path: Path_, name: str, known: list[str], what: str) -> None:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"the scenario has {', '.join(known)}"
        problems.append(doc.problem(path, f"{what} {name!r} is not in scenario {scenario.name!r}", hint))

    for i, name in enumerate(policy.automation.bypass_intents):
        if name not in scenario.intents:
            unknown(("automation", "bypass_intents", i), name, scenario.intent_names, "intent")
    for i, name in enumerate(policy.automation.bypass_segments):
        if name not in scenario.segments:
            unknown(("automation", "bypass_segments", i), name, scenario.segment_names, "segment")
    for name in policy.staffing.headcount:
        if name not in scenario.agents.groups:
            unknown(("staffing", "headcount", name), name, list(scenario.agents.groups), "agent group")
    if isinstance(policy.automation.share, dict):
        for name in policy.automation.share:
            if name not in scenario.channels:
                unknown(("automation", "share", name), name, scenario.channel_names, "channel")
    return problems


def load_document(source: Path | dict[str, Any], overrides: list[tuple[Path_, Any, str]] = ()) -> Document:  # type: ignore[assignment]
    doc = read_yaml(source) if isinstance(source, Path) else Document(_copy(source), None)
    for path, value, text in overrides:
        apply_override(doc, path, value, text)
    return doc


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def load(model: type[M], source: Path | dict[str, Any],
         overrides: list[tuple[Path_, Any, str]] = ()) -> tuple[M, Document]:  # type: ignore[assignment]
    """Load one file or dict as ``model``; raise ConfigError with every problem in it."""
    doc = load_document(source, overrides)
    obj, problems = validate_document(doc, model)
    if problems:
        raise ConfigError(problems)
    assert obj is not None
    return obj, doc
