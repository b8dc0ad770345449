"""Fuzzing the configuration loader: whatever the input, a valid model or a clean ConfigError, nothing else.

Three kinds of junk (hypothesis, derandomized so CI sees the same examples every run):

1. whole files: random YAML trees (None, bools, huge ints, nan/inf floats, text with control characters,
   nested lists and mappings) dumped with ``yaml.safe_dump``, or raw random text, YAML fragments and bytes,
   loaded as a scenario, as a policy and by ``api.validate``;
2. the valid BASE_SCENARIO and BASE_POLICY (conftest.py) with one leaf replaced, one key deleted, renamed or
   added, or a raw YAML fragment written at a key or anywhere in the text;
3. ``--set`` overrides (real dotted keys of the shipped files and of the base files, near misses and random
   text, with random values) applied to the built-in default scenario and policies through ``api.load``, the
   entry point ``api.compare`` (so the CLI) loads with, which validates without simulating anything.

Every outcome must be a model or a ConfigError with at least one Problem that names the file (or the
``--set`` option) and prints without a control character reaching the terminal. Any other exception is a
bug of the loader and fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import api, catalog
from sandbox.config.loader import dotted
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.errors import ConfigError, Problem, printable

from .conftest import BASE_POLICY, BASE_SCENARIO, line_of, replace_value


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# --- the real files and their keys ---------------------------------------------------------------------------

SCENARIO_FILE = catalog.resolve(catalog.DEFAULT_SCENARIO, "simulations")
POLICY_FILES = [catalog.resolve(name, "policies") for name in catalog.default_policies()]
# As the loader reads them (keys as written: YAML 1.1 would make `on` True and `8:00` 480).
SHIPPED = {str(path): api.load_document_data(path) for path in [SCENARIO_FILE, *POLICY_FILES]}
BASE_SCENARIO_DATA = yaml.safe_load(BASE_SCENARIO)
BASE_POLICY_DATA = yaml.safe_load(BASE_POLICY)


def paths_in(data: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path to a value of a parsed tree (mapping keys and list indexes), parents before children."""
    found: list[tuple[str | int, ...]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        found.append((*prefix, key))
        found += paths_in(value, (*prefix, key))
    return found


def _keys(data: Any) -> set[str]:
    return {str(p[-1]) for p in paths_in(data) if isinstance(p[-1], str)}


KNOWN_KEYS = sorted(set().union(*(_keys(d) for d in [*SHIPPED.values(), BASE_SCENARIO_DATA, BASE_POLICY_DATA]),
                                Scenario.model_fields, Policy.model_fields))
# Dotted keys as --set takes them: list indexes written as a plain number (`skills.0`).
SET_KEYS = sorted({".".join(str(part) for part in path)
                   for data in [*SHIPPED.values(), BASE_SCENARIO_DATA, BASE_POLICY_DATA] for path in paths_in(data)})


# --- junk ----------------------------------------------------------------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each drawn in proportion to its weight (st.one_of draws its branches evenly)."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(lambda s: s)


CONTROL = "".join(map(chr, range(0x20))) + "\x7f\x80\x85\x9b\u200b\u200e\u202e\u2028\u2029\ufeff\ufffe"
PUNCTUATION = ":-?,[]{}#&*!|>'\"%@`~=.\\/ <"
TRICKY = ["", " ", "~", "null", "Null", "yes", "no", "on", "off", "y", "true", "1e400", "-1e400", "1e-400",
          ".inf", "-.inf", ".nan", "NaN", "0x1F", "0o17", "0b101", "017", "1_000", "1:30", "190:20:30", "-0",
          "08:00-18:00", "00:00-24:00", "25:99-07:00", "18:00-08:00", "30s", "5m", "-5m", "1e9d", "1.5h", "0s",
          "2/h", "3/0h", "nan/h", "exponential", "lognormal", "empirical", "voice", "general", "team",
          "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "\x1b[2J", "\r\n", "\u202egnp.exe", "<<", "=", "*a", "&a",
          "!!python/object/apply:os.system", "%YAML 1.1", "---", "...", "?", "{", "[1,2", "{a: b}", "'", '"',
          "9" * 400, "x" * 2_100]
text_chars = st.characters(exclude_categories=["Cs"])  # any code point a str can be encoded from
junk_text = st.one_of(
    st.text(text_chars, max_size=30),
    st.text(st.sampled_from(CONTROL + PUNCTUATION + "ab1"), max_size=12),
    st.sampled_from(TRICKY),
)
junk_int = st.one_of(
    st.integers(),
    # Any magnitude up to 4,000 digits (under Python's 4,300-digit int/str limit, so that safe_dump can write it).
    st.integers(min_value=1, max_value=4_000).flatmap(lambda digits: st.integers(-(10**digits), 10**digits)),
    st.sampled_from([0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, 10**400, -(10**400)]),
)
junk_float = st.one_of(st.floats(), st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, 5e-324,
                                                     1.7976931348623157e308, 1e-300]))
junk_leaf = st.one_of(st.none(), st.booleans(), junk_int, junk_float, junk_text)
junk_key = st.one_of(junk_text, st.sampled_from(KNOWN_KEYS))
junk_tree = st.recursive(junk_leaf, lambda children: st.one_of(st.lists(children, max_size=5),
                                                                st.dictionaries(junk_key, children, max_size=5)),
                         max_leaves=25)
TOP_KEYS = sorted({*Scenario.model_fields, *Policy.model_fields, *BASE_SCENARIO_DATA, *BASE_POLICY_DATA})
# Mostly a mapping of real top-level keys, so that most files get past the YAML reader into validation.
junk_document = st.one_of(
    st.dictionaries(st.sampled_from(TOP_KEYS), junk_tree, min_size=1, max_size=8),
    st.dictionaries(junk_key, junk_tree, max_size=8),
    junk_tree,
)

FRAGMENTS = ["a: ", "name: ", "demand: ", "\n", "  ", "    ", "- ", "&x ", "*x", "*nope", "!!int ", "!!str ",
             "!!binary ", "!!float ", "!!bool ", "!!null ", "!!timestamp ", "!!set ", "!!omap ", "!custom ", "<<: ",
             "<<: *x", "{", "}", "[", "]", ", ", "? ", ": ", "|\n", ">-\n", "'", '"', "# c", "---\n", "...\n",
             "%TAG ! tag:x,2000:\n", "%YAML 1.1\n", "%YAML 9.9\n", "\t", "\ufeff", "\x85", "\u2028", "1e400",
             ".nan", "2001-13-45", "2001-12-14t21:59:43.10-05:00", "0x", "9" * 5_000, "[" * 40, "a: " * 40,
             '"\\x1b[31m"', '"\\ud800"', '"\\U0010ffff"', '"\\x00"', "'\x1b'"]
yaml_fragments = st.lists(st.one_of(st.sampled_from(FRAGMENTS), junk_text), max_size=15).map("".join)


def _dump(data: Any, flow: bool | None, unicode: bool, width: int) -> str:
    return yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode, width=width, sort_keys=False)


dumped = st.builds(_dump, junk_document, st.sampled_from([None, True, False]), st.booleans(),
                   st.sampled_from([80, 20, 10_000]))
raw_bytes = st.one_of(
    st.binary(max_size=200),
    st.tuples(st.sampled_from([b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x00", b"\x80", b"\xed\xa0\x80", b""]),
              yaml_fragments).map(lambda pair: pair[0] + pair[1].encode("utf-8")),
)
file_content = weighted((5, dumped), (1, yaml_fragments), (1, st.text(text_chars, max_size=200)), (1, raw_bytes))
# Names with a space, non-ASCII and an escape sequence: the name is shown in every problem, escaped.
file_name = st.sampled_from(["fuzz.yaml", "with space.yml", "ünïcødé.yaml", "esc\x1b[31m.yaml", "bell\x07.yaml"])


# --- what every outcome must be ------------------------------------------------------------------------------


def problems_of(call: Callable[[], Any]) -> list[Problem] | None:
    """None when ``call`` returned (a valid model); the problems of its ConfigError otherwise. Any other
    exception propagates and fails the test: that is the bug this file hunts."""
    try:
        call()
    except ConfigError as exc:
        error = exc
    else:
        return None
    assert error.problems, "a ConfigError without a single problem"
    assert "\x1b" not in str(error)
    return error.problems


def assert_clean(problem: Problem, names_it: Callable[[Problem], bool]) -> None:
    """A located, printable problem: ``names_it`` says whether it names the input it comes from."""
    assert isinstance(problem, Problem), problem
    assert isinstance(problem.key, str), problem
    assert isinstance(problem.message, str), problem
    assert problem.message.strip(), problem
    assert problem.line is None or (type(problem.line) is int and problem.line >= 1), problem
    assert names_it(problem), f"the problem does not say where it comes from: {problem!r}"
    shown = str(problem)
    assert "\x1b" not in shown, shown
    assert printable(shown) == shown, f"a control character reaches the terminal: {shown!r}"


def assert_file_outcome(problems: list[Problem] | None, path: Path, content: bytes) -> None:
    if problems is None:
        return
    # YAML also breaks lines at \r, NEL and the Unicode separators; str.splitlines knows them all (and a few more)
    lines = len(content.decode("utf-8", "replace").splitlines()) + 1
    shown = str(path)
    for problem in problems:
        assert_clean(problem, lambda p: p.file is not None and (p.file == shown or path.name in p.file))
        assert problem.line is None or problem.line <= lines + 1, f"line {problem.line} of {lines}: {problem!r}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def base_scenario(folder: Path) -> Scenario:
    path = folder / "base.yaml"
    path.write_text(BASE_SCENARIO, encoding="utf-8")
    return api.load_scenario(path)


def write(folder: Path, name: str, content: str | bytes) -> tuple[Path, bytes]:
    data = content.encode("utf-8") if isinstance(content, str) else content
    path = folder / name
    path.write_bytes(data)
    return path, data


def load_everyway(path: Path, data: bytes, scenario: Scenario) -> None:
    """As the scenario, as a policy (against a valid scenario model, so the cross-file checks run too) and as
    `validate` reads it (which guesses the kind)."""
    assert_file_outcome(problems_of(lambda: api.load(path, [])), path, data)
    assert_file_outcome(problems_of(lambda: api.load(scenario, [path])), path, data)
    assert_file_outcome(problems_of(lambda: api.load_policy(path)), path, data)
    report = api.validate([path])
    assert list(report) == [str(path)]
    assert_file_outcome(report[str(path)] or None, path, data)


# --- 1. random files -----------------------------------------------------------------------------------------


def test_the_base_files_are_valid(folder: Path, base_scenario: Scenario) -> None:
    """The fuzzing below starts from valid files: the base files and their safe_dump round trip load."""
    for text in (BASE_POLICY, _dump(BASE_POLICY_DATA, None, True, 80)):
        path, _ = write(folder, "policy.yaml", text)
        assert api.load(base_scenario, [path]).policies
    path, _ = write(folder, "scenario.yaml", _dump(BASE_SCENARIO_DATA, None, True, 80))
    assert api.load(path, []).scenario == base_scenario


@fuzz(400)
@given(content=file_content, name=file_name)
def test_random_files_give_a_model_or_located_problems(folder: Path, base_scenario: Scenario,
                                                       content: str | bytes, name: str) -> None:
    path, data = write(folder, name, content)
    load_everyway(path, data, base_scenario)


# --- 2. mutations of the valid base files --------------------------------------------------------------------


def _delete(data: Any, path: tuple[str | int, ...]) -> None:
    parent = _at(data, path[:-1])
    del parent[path[-1]]


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    _at(data, path[:-1])[path[-1]] = value
    return data


def _line_keys(text: str, data: Any) -> list[str]:
    """Dotted keys of ``text`` that sit on a line of their own (where conftest.replace_value can write)."""
    found = []
    for path in paths_in(data):
        if all(isinstance(p, str) for p in path):
            try:
                line_of(text, ".".join(path))  # type: ignore[arg-type]
            except KeyError:
                continue
            found.append(".".join(path))  # type: ignore[arg-type]
    return found


BASES = {"scenario": (BASE_SCENARIO, BASE_SCENARIO_DATA), "policy": (BASE_POLICY, BASE_POLICY_DATA)}
LINE_KEYS = {kind: _line_keys(text, data) for kind, (text, data) in BASES.items()}


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> str:
    text, original = BASES[kind]
    data = yaml.safe_load(text)  # a fresh copy to mutate
    paths = paths_in(data)
    how = draw(st.sampled_from(["replace", "replace", "delete", "add", "rename", "raw at key", "raw anywhere"]))
    if how == "raw at key":  # raw YAML written as the value of one key, on its line
        return replace_value(text, draw(st.sampled_from(LINE_KEYS[kind])), draw(st.one_of(yaml_fragments,
                                                                                          junk_text)))
    if how == "raw anywhere":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(yaml_fragments) + text[at:]
    if how == "replace":
        path = draw(st.sampled_from([(), *paths]))
        data = _set(data, path, draw(junk_tree))
    elif how == "delete":
        _delete(data, draw(st.sampled_from(paths)))
    else:
        mappings = [()] + [p for p in paths if isinstance(_at(original, p), dict)]
        where = _at(data, draw(st.sampled_from(mappings)))
        real = [k for k in where if isinstance(k, str)]
        near_miss = st.sampled_from(real).flatmap(lambda k: st.sampled_from([k + "s", k[:-1], k.upper(), f" {k}",
                                                                             k.replace("_", "-")]))
        key = draw(st.one_of(junk_key, near_miss) if real else junk_key)
        if how == "rename" and real:
            where[key] = where.pop(draw(st.sampled_from(real)))
        else:
            where[key] = draw(junk_tree)
    return _dump(data, draw(st.sampled_from([None, False, True])), draw(st.booleans()), 80)


@fuzz(400)
@given(content=mutated("scenario"))
def test_mutated_scenario_gives_a_model_or_located_problems(folder: Path, base_scenario: Scenario,
                                                            content: str) -> None:
    path, data = write(folder, "mutated-scenario.yaml", content)
    assert_file_outcome(problems_of(lambda: api.load(path, [])), path, data)


@fuzz(200)
@given(content=mutated("policy"))
def test_mutated_policy_gives_a_model_or_located_problems(folder: Path, base_scenario: Scenario,
                                                          content: str) -> None:
    path, data = write(folder, "mutated-policy.yaml", content)
    assert_file_outcome(problems_of(lambda: api.load(base_scenario, [path])), path, data)


# --- 3. --set overrides --------------------------------------------------------------------------------------

set_key = st.one_of(
    st.sampled_from(SET_KEYS),
    st.sampled_from(SET_KEYS).map(lambda k: f"scenario.{k}"),
    st.sampled_from(SET_KEYS).map(lambda k: f"policy.{k}"),
    st.tuples(st.sampled_from(SET_KEYS), junk_text).map(".".join),  # a key below a real one
    st.tuples(st.sampled_from(SET_KEYS), st.sampled_from(["0", "1", "99", "-1", "²", "٣", "1" * 5_000])).map(".".join),
    st.lists(st.one_of(junk_text, st.sampled_from(KNOWN_KEYS), st.integers(0, 20).map(str)), min_size=1,
             max_size=4).map(".".join),
)
set_value = st.one_of(
    junk_text,
    st.sampled_from(["1e400", "-5", "yes", "[1,2", "{a: b}", "[]", "{}", "[1, 2]", "!!binary AAAA", "*a", "&a 1",
                     '"\\x1b[31m"', "'\x1b[31m'", "{kind: exponential, mean: 5m}", "{kind: nope}", "a: b: c",
                     "9" * 5_000, "[" * 100, "{x: " * 50, "0", "1", "0.5", "100", "1e12", ".inf", "~",
                     "!!int", "!!float", "!!bool maybe", "!!null x", "!!str 1", "!!int 0x", "!!float .",
                     "!!timestamp 2001-13-45"]),
    junk_tree.map(lambda tree: yaml.safe_dump(tree, default_flow_style=True, width=10_000).strip()),
)
key_value = st.builds(lambda key, value: f"{key}={value}", set_key, set_value)
# One to three key=value overrides, sometimes with one that is junk altogether (no `=`, an empty key).
overrides_list = st.builds(lambda good, bad: [*good, *bad], st.lists(key_value, min_size=1, max_size=3),
                           st.lists(junk_text, max_size=1)).flatmap(st.permutations)
SHIPPED_FILES = set(SHIPPED)
_INDEX = re.compile(r"\[\d+\]$")


def names_set_or_file(overrides: list[str]) -> Callable[[Problem], bool]:
    """What the loader produces for --set: the option itself (file ``--set`` for a malformed one, else
    ``--set key=value``) or, for what the override breaks elsewhere (shares that no longer sum to 1, a group
    with a schedule given a headcount), the shipped file that has the other half, at a key the file has: a
    key only the override wrote (``--set policy.x.y=1``) is blamed on the option, not on a file without it."""
    texts = set(overrides)

    def names(problem: Problem) -> bool:
        if problem.file == "--set":
            return problem.key in {text.partition("=")[0] for text in texts} | texts
        if problem.file is not None and problem.file.startswith("--set "):
            return problem.file.removeprefix("--set ") in texts
        if problem.file not in SHIPPED_FILES:
            return False
        key = problem.key
        if problem.message == "missing required key":  # the missing key's parent must be in the file
            key = _INDEX.sub("", key) if _INDEX.search(key) else key.rpartition(".")[0]
        return key in {"", *(dotted(p) for p in paths_in(SHIPPED[problem.file]))}

    return names


@fuzz(400)
@given(overrides=overrides_list)
def test_random_overrides_give_a_model_or_problems_naming_the_option(overrides: list[str]) -> None:
    # As the CLI does for `compare --set ...` without --policy: the default scenario and every policy.
    problems = problems_of(lambda: api.load(catalog.DEFAULT_SCENARIO, None, overrides))
    for problem in problems or []:
        assert_clean(problem, names_set_or_file(overrides))


# --- found by the fuzzing above ------------------------------------------------------------------------------

# Inputs the fuzzing above found raising something other than a ConfigError (an "internal error", exit 1),
# kept minimal and named so they stay fixed:
#  1. an explicitly tagged scalar PyYAML cannot construct: `!!int`/`!!float` with an empty value (or only a
#     sign or underscores) raise IndexError, `!!bool` with a word that is not a boolean raises KeyError, in
#     files and in --set values alike;
#  2. a --set key part that str.isdigit() accepts but int() refuses: superscript digits ('²'), or more than
#     4,300 ASCII digits (Python's int/str conversion limit);
#  3. a duration written as an integer beyond the largest float (10**309);
#  4. a share written as such an integer, summed with the others before validation refused it.
HUGE = "1" + "0" * 309  # 10**309: an int larger than any float
FOUND_IN_FILES = {
    "int-empty": "a: !!int\n",
    "float-empty": "a: !!float\n",
    "int-sign": "a: !!int +\n",
    "float-underscore": "a: !!float _\n",
    "bool-word": "a: !!bool x\n",
    "bool-empty": "name: !!bool ''\n",
    "huge-duration": replace_value(BASE_SCENARIO, "horizon.warm_up", HUGE),
    "huge-share": replace_value(BASE_SCENARIO, "channels.voice.share", HUGE),
}
FOUND_IN_SET = {
    "bool-word": "scenario.name=!!bool x",
    "int-empty": "scenario.name=!!int",
    "float-empty": "scenario.name=!!float",
    "superscript-key": "³=1",
    "superscript-index": "agents.groups.service.skills.²=x",
    "4301-digit-index": "agents.groups.service.skills." + "9" * 4_301 + "=x",
    "huge-duration": f"horizon.warm_up={HUGE}",
    "huge-share": f"channels.voice.share={HUGE}",
}


@pytest.mark.parametrize("text", FOUND_IN_FILES.values(), ids=FOUND_IN_FILES)
def test_found_file_inputs_are_problems(folder: Path, text: str) -> None:
    path, data = write(folder, "found.yaml", text)
    problems = problems_of(lambda: api.load(path, []))
    assert problems
    assert_file_outcome(problems, path, data)


@pytest.mark.parametrize("override", FOUND_IN_SET.values(), ids=FOUND_IN_SET)
def test_found_overrides_are_problems_naming_the_option(override: str) -> None:
    problems = problems_of(lambda: api.load(catalog.DEFAULT_SCENARIO, None, [override]))
    assert problems
    for problem in problems:
        assert_clean(problem, names_set_or_file([override]))
