"""Provides loading of scenario and policy YAML into validated models, reporting every problem with its line.

A file is read as a YAML node tree so each key keeps its line number; pydantic validates the plain data; its
errors are translated to Problems (file, line, dotted key, message, did-you-mean). Cross-file checks (a
policy naming an intent the scenario lacks) run once both sides are valid. ``--set`` overrides use the same
dotted keys that problems print.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import stat
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sandbox.config import limits
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
        if path and path not in self.lines:  # not in the file: an override that wrote under it made it
            for written, text in self.overridden.items():
                if written[:len(path)] == path:
                    return text, None
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


# The tags a plain YAML file gets implicitly, and the ones worth writing explicitly. Any other tag
# (`!vault`, `!!python/object`) is reported: it is never constructed, and never silently dropped.
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null")}
_EXPONENT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~10× faster where it is installed


class _Walk:
    """Builds plain data from a node tree, recording each key's line and refusing duplicate keys.

    Keys stay the strings the user typed (YAML 1.1 would turn a key ``on`` into True). Aliases are followed
    here, so this is where an alias bomb (a few hundred bytes naming each other 10⁸ times) is stopped: every
    value visited counts, and the walk ends at MAX_YAML_NODES or MAX_YAML_DEPTH.
    """

    def __init__(self, file: str):
        self.file = file
        self.lines: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.visited = 0
        self.constructor = yaml.SafeLoader("")

    def __call__(self, node: yaml.Node, path: Path_) -> Any:
        self.visited += 1
        line = node.start_mark.line + 1
        if self.visited > limits.MAX_YAML_NODES:
            raise ConfigError([Problem(self.file, line, dotted(path), f"the file expands to more than "
                                       f"{limits.MAX_YAML_NODES:,} values (YAML aliases repeating each other?)")])
        if len(path) > limits.MAX_YAML_DEPTH:
            raise ConfigError([Problem(self.file, line, dotted(path[:limits.MAX_YAML_DEPTH]),
                                       f"nested more than {limits.MAX_YAML_DEPTH} levels deep")])
        if node.tag == "tag:yaml.org,2002:timestamp" and isinstance(node, yaml.ScalarNode) and not node.style:
            return node.value  # a plain 1999-02-08 (a calendar's date) stays the text written
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.problems.append(Problem(self.file, line, dotted(path), f"unknown YAML tag {tag!r}",
                                         "these files hold plain values; remove the tag"))
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(Problem(self.file, key_line, dotted(path), "keys must be plain names"))
                    continue
                sub = (*path, key_node.value)
                if key_node.value in out:
                    self.problems.append(Problem(self.file, key_line, dotted(sub), "appears twice in the same mapping"))
                self.lines[sub] = key_line
                out[key_node.value] = self(value_node, sub)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[(*path, i)] = item.start_mark.line + 1
                items.append(self(item, (*path, i)))
            return items
        if node.tag.endswith(":str") and not node.style and _EXPONENT.match(node.value):  # plain, not quoted
            return float(node.value)  # YAML 1.1 reads a plain 1e12 as text; people (and YAML 1.2) mean a number
        try:
            return self.constructor.construct_object(node, deep=True)
        # e.g. an int too long to convert, or an explicit tag PyYAML cannot build ("!!bool x", a bare "!!int")
        except (yaml.YAMLError, ValueError, OverflowError, IndexError, KeyError, TypeError) as exc:
            self.problems.append(Problem(self.file, line, dotted(path), f"cannot be read: {exc}"))
            return None


def read_text(path: Path, max_bytes: int = limits.MAX_FILE_BYTES) -> str:
    """A small regular UTF-8 file's text; anything else (missing, a folder, a pipe, a device, too big, binary)
    is a located problem. Pipes and devices are refused before they are opened: reading /dev/zero or a FIFO
    would never end."""
    shown = str(path)

    def refuse(message: str) -> ConfigError:
        return ConfigError([Problem(shown, None, "", message)])

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse("is a folder, not a YAML file")
    if not stat.S_ISREG(info.st_mode):
        raise refuse("is not a regular file (a pipe, device or socket); give a YAML file")
    too_big = refuse(f"is larger than {max_bytes:,} bytes" + ("; scenario and policy files are a few KB"
                                                               if max_bytes == limits.MAX_FILE_BYTES else ""))
    if info.st_size > max_bytes:
        raise too_big
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror}") from None
    if len(raw) > max_bytes:
        raise too_big
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError([Problem(shown, line, "", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x})")]) from None
    if "\x00" in text:
        raise ConfigError([Problem(shown, text[:text.index("\x00")].count("\n") + 1, "",
                                   "contains a NUL byte: not a text file")])
    return text


def read_yaml(path: Path) -> Document:
    """Parse a YAML file; unreadable files, syntax errors, unknown tags and duplicate keys become Problems."""
    shown = str(path)
    text = read_text(path)
    try:
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError:
            # libyaml is fast but terse ("did not find expected ','"); the pure-Python parser says the same
            # thing in words people search for, so a broken file is parsed again to report it.
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"broken YAML: {exc.problem or exc.context}"
        raise ConfigError([Problem(shown, line, "", message)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(shown, None, "", f"broken YAML: {exc}")]) from None
    except RecursionError:  # the pure-Python parser recurses once per nesting level
        raise ConfigError([Problem(shown, None, "", f"nested more than {limits.MAX_YAML_DEPTH} levels deep")]) from None
    if node is None:
        raise ConfigError([Problem(shown, None, "", "the file is empty")])
    walk = _Walk(shown)
    try:
        data = walk(node, ())
    finally:
        walk.constructor.dispose()
    lines, problems = walk.lines, walk.problems
    if not isinstance(data, dict):
        raise ConfigError([Problem(shown, 1, "", "expected a mapping of keys (name: ..., demand: ...) at the top")])
    return Document(data, shown, lines, problems=problems)  # duplicates are reported with the other problems


# --- overrides -----------------------------------------------------------------------------------------


def parse_override(text: str) -> tuple[Path_, Any]:
    """'escalation.max_bot_turns=3' → (('escalation', 'max_bot_turns'), 3); the value is read as YAML."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 on the command line arrive as surrogates
        raise ConfigError([Problem(f"--set {text}", None, "", "is not UTF-8 text")]) from None
    if "=" not in text:
        raise ConfigError([Problem("--set", None, text, "expected dotted.key=value")])
    key, _, raw = text.partition("=")
    parts: list[str | int] = []
    for piece in key.strip().split("."):
        if not piece:
            raise ConfigError([Problem("--set", None, key, "empty part in the dotted key")])
        # A list index ("skills.0"); other digits ("³", a 5,000-digit number) stay names, for validation to judge.
        parts.append(int(piece) if piece.isascii() and piece.isdigit() and len(piece) <= 9 else piece)
    return tuple(parts), _override_value(raw, f"--set {text}")


def _override_value(raw: str, where: str) -> Any:
    """The value of an override, read as YAML through the same walk (and limits) as a file; text that is not
    YAML stays text, for validation to judge."""
    if not raw.strip():
        return None
    try:
        node = yaml.compose(raw, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        return raw
    if node is None:
        return None
    walk = _Walk(where)
    try:
        value = walk(node, ())
    finally:
        walk.constructor.dispose()
    if walk.problems:
        raise ConfigError([dataclasses.replace(p, line=None) for p in walk.problems])
    return value


def apply_override(doc: Document, path: Path_, value: Any, text: str, schema: type[BaseModel] | None = None) -> None:
    """Write one override into the raw data (validation judges the result).

    Missing sections are created on the way, but with ``schema`` (the document's model) a missing entry of a
    collection of named sections (an intent, a channel, an agent group) is refused: a half-written entry would
    only produce confusing problems, and a misspelled name deserves a did-you-mean. Nor may an override
    replace a whole section by a single value, or write into a single value.
    """
    node = doc.data
    tp: Any = schema
    written: list[str | int] = []
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            if last:
                node[part] = value
            else:
                node = node[part]
            written.append(part)
            tp = _step(tp, part) if tp is not None else None
            continue
        if not isinstance(node, dict):
            raise ConfigError([Problem(text, None, dotted(path[:i]), "is not a mapping, so it has no keys to set")])
        key = str(part)  # every mapping of the language has text keys: '0' is a name, not an index
        here = (*written, key)
        if key not in node and tp is not None and _is_named_collection(tp) and node:
            close = difflib.get_close_matches(key, [str(k) for k in node], n=1, cutoff=0.5)
            raise ConfigError([Problem(text, None, dotted(tuple(written)), f"has no entry {key!r}",
                                       f"did you mean {close[0]!r}?" if close else
                                       f"it has {', '.join(map(str, node))}; add new entries in the file")])
        if last:
            target = _step(tp, key) if tp is not None else None
            sections_only = target is not None and all(
                (isinstance(c, type) and issubclass(c, BaseModel)) or typing.get_origin(c) is dict
                for c in _candidates(target))
            if isinstance(node.get(key), dict) and not isinstance(value, dict) and sections_only:
                example = dotted((*here, next(iter(node[key]), "key")))
                hint = f"set one of its keys, e.g. {example}=…" if node[key] else None
                if here[:2] == ("agents", "groups") and len(here) == 3 and isinstance(value, int | float) \
                        and not isinstance(value, bool):
                    hint = (f"to staff it with {value} agents: --set staffing.headcount.{key}={value}; "
                            "every group at once: --set staffing.scale=1.2")
                raise ConfigError([Problem(text, None, dotted(here), "is a section, not a single value", hint)])
            node[key] = value
        else:
            if node.get(key) is not None and not isinstance(node[key], dict | list):
                raise ConfigError([Problem(text, None, dotted(here),
                                           f"is a single value, so it has no key {path[i + 1]!r} to set")])
            if not isinstance(node.get(key), dict | list):
                node[key] = _default_section(tp, key)
            node = node[key]
        written.append(key)
        tp = _step(tp, key) if tp is not None else None
    doc.overridden[tuple(written)] = text


def _default_section(tp: Any, key: str) -> dict[str, Any]:
    """The data of a section the file leaves out, as its default: setting one key of a default distribution
    (``repeat_contacts.abandonment_delay.mean``) keeps its ``kind``. An empty mapping when there is no default."""
    for cand in _candidates(tp):
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            for name, info in cand.model_fields.items():
                if key in (name, info.alias) and not info.is_required():
                    default = info.get_default(call_default_factory=True)
                    if isinstance(default, BaseModel):
                        return dict(default.model_dump(mode="json", by_alias=True))
    return {}


def _is_named_collection(tp: Any) -> bool:
    """A mapping of user-chosen names to sections (intents, channels, groups), as opposed to a section."""
    for cand in _candidates(tp):
        if typing.get_origin(cand) is dict:
            values = typing.get_args(cand)[1]
            return any(isinstance(v, type) and issubclass(v, BaseModel) for v in _candidates(values))
    return False


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


_CLASS_IN_MESSAGE = re.compile(r"should be a valid dictionary or instance of (\w+)")
_NO_VALUE = object()


def _raw_at(data: Any, path: Path_) -> Any:
    """What the user wrote at a path (pydantic's error input may already be converted: 0.5 minutes for '30s')."""
    node = data
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return _NO_VALUE
    return node


def _tags(err: Any) -> str:
    return ", ".join(t.strip(" '") for t in str(err["ctx"]["expected_tags"]).split(","))


def _message(err: Any, raw: Any = _NO_VALUE) -> str:
    msg: str = err["msg"]
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = msg.replace("Input should be", "should be").replace("Extra inputs are not permitted", "unknown key")
    # Users write YAML, not Python: "instance of AgentGroup" means nothing to them.
    msg = _CLASS_IN_MESSAGE.sub("should be a mapping of keys", msg).replace("valid dictionary", "mapping of keys")
    if err["type"] == "union_tag_not_found":  # a list entry of several kinds without its kind
        msg = f"needs a {err['ctx']['discriminator'].strip(chr(39))} (missing required key)"
    elif err["type"] == "union_tag_invalid":
        msg = f"{err['ctx']['discriminator'].strip(chr(39))} {err['ctx']['tag']!r} is not one of {_tags(err)}"
    elif err["type"] == "too_short" and err.get("ctx", {}).get("min_length") == 1:
        msg = "should not be empty"
    value = err.get("input") if raw is _NO_VALUE else raw
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
            message, hint = _message(err, _raw_at(doc.data, path) if path == loc else _NO_VALUE), None
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
    # Every proper prefix of a reported path, once: the check below is then one lookup per path, not a scan
    # of all paths (a file of 40,000 unknown keys took minutes).
    has_deeper = {other[:n] for other in by_path for n in range(len(other))}
    for path, entries in by_path.items():
        # "should be a valid dictionary" from the other branch of `number | mapping` only distracts, and so
        # does "should be a number" when the mapping branch found what is wrong inside the mapping.
        specific = [e for e in entries if e[0] not in branch_types.get(path, set())]
        entries = specific or entries
        deeper = path in has_deeper
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
        if shares and all(isinstance(v, int | float) and not isinstance(v, bool) and abs(v) <= 1e300
                          for v in shares.values()):  # an absurd share is refused on its own, not summed
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
    for name, group in scenario.agents.groups.items():
        peak = group.headcount if group.schedule is None else max(group.schedule.values())
        scaled = policy.staffing.headcount.get(name, round((peak or 0) * policy.staffing.scale))
        if scaled > limits.MAX_AGENTS:
            where = ("staffing", "headcount", name) if name in policy.staffing.headcount else ("staffing", "scale")
            problems.append(doc.problem(where, f"gives group {name!r} {scaled:,} agents; at most "
                                        f"{limits.MAX_AGENTS:,} in a group"))
    if isinstance(policy.automation.share, dict):
        for name in policy.automation.share:
            if name not in scenario.channels:
                unknown(("automation", "share", name), name, scenario.channel_names, "channel")
    return problems


def load_document(source: Path | dict[str, Any], overrides: list[tuple[Path_, Any, str]] = (),  # type: ignore[assignment]
                  schema: type[BaseModel] | None = None) -> Document:
    doc = read_yaml(source) if isinstance(source, Path) else Document(_copy(source), None)
    if schema is Scenario and isinstance(source, Path):
        # Only a file is read for its evidence: a scenario handed in as data or a model has it merged already.
        # A path in the file is relative to the file; one given with --set, to where the command runs.
        given = next(((v, t) for p, v, t in reversed(overrides) if p == ("bot_evidence",)), None)
        if given is not None:
            evidence, folder, named_by = given[0], Path.cwd(), given[1]
        else:
            evidence, folder, named_by = doc.data.get("bot_evidence"), source.parent, None
        if isinstance(evidence, str) and evidence:  # anything else is left for validation to report
            merge_evidence(doc, folder / Path(evidence).expanduser(), named_by)
    for path, value, text in overrides:
        apply_override(doc, path, value, text, schema)
    return doc


EVIDENCE_KEYS = ("intents", "source")


def merge_evidence(doc: Document, path: Path, named_by: str | None = None) -> None:
    """Write a bot-evidence file's rates into a scenario document, each as an override that names the evidence
    file and line (so a problem in it points there), before any --set.

    A file that cannot be read at all (missing, a folder, binary) is a problem of the key that named it (the
    scenario's line, or the --set that gave it); a problem inside a readable file points into that file."""
    try:
        evidence = read_yaml(path)
    except ConfigError as exc:
        file, line = (named_by, None) if named_by else doc.locate(("bot_evidence",))
        raise ConfigError([
            dataclasses.replace(p, key="bot_evidence", message=f"{path}: {p.message}", file=file, line=line)
            if p.line is None and not p.key else dataclasses.replace(p, key=p.key or "bot_evidence")
            for p in exc.problems]) from None
    problems = [evidence.problem((k,), "unknown key", f"a bot-evidence file has {' and '.join(EVIDENCE_KEYS)}")
                for k in evidence.data if k not in EVIDENCE_KEYS]
    intents = evidence.data.get("intents")
    if not isinstance(intents, dict):
        problems.append(evidence.problem(("intents",), "should be a mapping of intent names to their bot rates"))
        intents = {}
    for name, section in intents.items():
        if not isinstance(section, dict) or set(section) - {"bot"} or not isinstance(section.get("bot"), dict):
            problems.append(evidence.problem(("intents", name), "should hold one key, bot, with the intent's bot "
                                             "rates"))
            continue
        for key, value in section["bot"].items():
            where = ("intents", name, "bot", key)
            try:
                apply_override(doc, where, value, f"{evidence.file}:{evidence.lines.get(where, '?')}", Scenario)
            except ConfigError as exc:
                problems += exc.problems
    if problems:
        raise ConfigError(problems)


def _copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def load(model: type[M], source: Path | dict[str, Any],
         overrides: list[tuple[Path_, Any, str]] = ()) -> tuple[M, Document]:  # type: ignore[assignment]
    """Load one file or dict as ``model``; raise ConfigError with every problem in it."""
    doc = load_document(source, overrides, model)
    obj, problems = validate_document(doc, model)
    if problems:
        raise ConfigError(problems)
    assert obj is not None
    return obj, doc
