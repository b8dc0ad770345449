"""sandbox.config.loader (through sandbox.api.load): every problem of a file, located by line and dotted key.

Each test writes a YAML file to tmp_path and asserts the exact list of problems as
(line, key, message substring, hint): no problem missing, none extra, in the loader's order.
"""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import BOT_POLICY, NO_BOT, SMALL_SCENARIO

from sandbox import api
from sandbox.config.loader import Document, dotted, parse_override, read_yaml
from sandbox.config.policy import Policy
from sandbox.config.scenario import Scenario
from sandbox.errors import ConfigError, Problem

Expected = tuple[int | None, str, str, str | None]  # line, key, message substring, hint

# A valid scenario whose line numbers the tests below rely on (line 1 is `name: base`).
BASE = """\
name: base
demand:
  contacts_per_day: 100
channels:
  voice: {share: 1, service_level_threshold: 20s}
segments:
  all: {share: 1}
intents:
  general: {share: 1}
agents:
  groups:
    team: {skills: [general], headcount: 3}
"""


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(scenario: object, policies: list[object] | None = None, overrides: list[str] = ()) -> list[Problem]:
    with pytest.raises(ConfigError) as info:
        api.load(scenario, policies if policies is not None else [], overrides)  # type: ignore[arg-type]
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return info.value.problems


def check(problems: list[Problem], expected: list[Expected], file: str | None) -> None:
    got = [(p.line, p.key, p.message, p.hint) for p in problems]
    assert [(p.line, p.key, p.hint) for p in problems] == [(e[0], e[1], e[3]) for e in expected], got
    for problem, (_, _, substring, _) in zip(problems, expected, strict=True):
        assert substring in problem.message, (problem, substring)
    assert {p.file for p in problems} == {file}, got


def test_base_scenario_is_valid(tmp_path: Path) -> None:
    loaded = api.load(write(tmp_path, BASE), [])
    assert loaded.scenario.name == "base"
    assert loaded.policies == []
    assert loaded.scenario.demand.contacts_per_day == 100


# ---------------------------------------------------------------------------------------------------------
# one problem at a time


@pytest.mark.parametrize(("old", "new", "expected"), [
    pytest.param("  contacts_per_day: 100", "  contacts_per_day: 100\n  busynes_shape: 20",
                 [(4, "demand.busynes_shape", "unknown key", "did you mean 'busyness_shape'?")], id="did-you-mean"),
    pytest.param("headcount: 3}", "headcount: 3, concurency: 2}",
                 [(12, "agents.groups.team.concurency", "unknown key", "did you mean 'concurrency'?")],
                 id="did-you-mean-nested"),
    pytest.param("  contacts_per_day: 100", "  contacts_per_day: 100\n  zzz: 1",
                 [(4, "demand.zzz", "unknown key", None)], id="unknown-key-without-match"),
    pytest.param("  contacts_per_day: 100", "  rate: -5/h",
                 [(3, "demand.rate", "'-5/h' is negative; rates are 0 or more", None)], id="negative-rate"),
    pytest.param("20s}", "20}", [(5, "channels.voice.service_level_threshold",
                                  "20 has no unit; write 20s, 20m or 20h", None)], id="bare-number"),
    pytest.param("  voice: {share: 1, service_level_threshold: 20s}", "  voice: {share: 1}",
                 [(5, "channels.voice.service_level_threshold", "missing required key", None)],
                 id="missing-nested-key"),
    pytest.param("name: base\n", "", [(None, "name", "missing required key", None)], id="missing-top-key"),
    pytest.param("  contacts_per_day: 100", "  contacts_per_day: lots",
                 [(3, "demand.contacts_per_day", "should be a valid number", None)], id="string-for-number"),
    pytest.param("  all: {share: 1}", "  all: {share: 1, priority: high}",
                 [(7, "segments.all.priority", "should be a valid integer", None)], id="string-for-integer"),
    pytest.param("  general: {share: 1}", "  general: {share: 1, handle_time: {kind: lognormal, mean: 6m}}",
                 [(9, "intents.general.handle_time", "give either mean and cv, or median and sigma (got mean)",
                   None)], id="lognormal-wrong-parameters"),
    pytest.param("name: base", 'name: base\nhours: {default: "25:00-26:00"}',
                 [(2, "hours.default", "'25:00' is not a time of day (00:00 to 24:00)", None)], id="hours-25"),
    pytest.param("name: base", 'name: base\nhours: {monday: "20:00-08:00"}',
                 [(2, "hours.monday", "closes before it opens", None)], id="hours-overnight"),
    pytest.param("headcount: 3}", 'headcount: 3, schedule: {"08:00": 2}}',
                 [(12, "agents.groups.team", "give exactly one of headcount or schedule", None)],
                 id="schedule-and-headcount"),
    pytest.param("headcount: 3}", "}",
                 [(12, "agents.groups.team", "give exactly one of headcount or schedule", None)],
                 id="neither-schedule-nor-headcount"),
    pytest.param("headcount: 3}", 'schedule: {"8h": 2}}',
                 [(12, "agents.groups.team.schedule", "schedule time '8h' is not HH:MM", None)],
                 id="bad-schedule-time"),
    pytest.param("  all: {share: 1}", "  all: {share: 1, zero_patience: 1.5}",
                 [(7, "segments.all.zero_patience", "should be less than or equal to 1 (got 1.5)", None)],
                 id="probability-above-one"),
    pytest.param("  voice: {share: 1,", "  fax: {share: 1,",
                 [(5, "channels.fax", "should be 'voice' or 'chat'", None)], id="unknown-channel"),
    pytest.param("  all: {share: 1}", "  All: {share: 1}",
                 [(7, "segments.All", "should match pattern", None)], id="bad-name"),
    pytest.param("name: base", "name: base\nhorizon: {interval: 20m}",
                 [(2, "horizon.interval", "should be '15m', '30m' or '60m'", None)], id="interval-literal"),
    pytest.param("  contacts_per_day: 100", "  contacts_per_day: 100\n  rate: 5/h",
                 [(2, "demand", "give exactly one of contacts_per_day, rate or per_interval (got contacts_per_day, "
                   "rate)", None)], id="two-volumes"),
    pytest.param("  general: {share: 1}", "  general: {share: 1, bot: {misrecognition: 0.1}}",
                 [(9, "intents.general.bot.misrecognition", "needs another intent to take the contact for", None)],
                 id="misrecognition-alone"),
    pytest.param("  general: {share: 1}", "  general: {share: 0.5, bot: {mistaken_for: {genral: 1, general: 2}}}\n"
                 "  other: {share: 0.5}",
                 [(9, "intents.general.bot.mistaken_for.general", "is this intent itself", None),
                  (9, "intents.general.bot.mistaken_for.genral", "is not an intent of this scenario", None)],
                 id="mistaken-for-names"),
    pytest.param("name: base", "name: base\nevents: [{day: 2}]",
                 [(2, "events[0]", "needs a kind (missing required key)", None)], id="event-without-kind"),
    pytest.param("name: base", "name: base\nevents: [{kind: bot_outgae, day: 2}]",
                 [(2, "events[0]", "kind 'bot_outgae' is not one of demand_surge, bot_outage", "did you mean "
                   "'bot_outage'?")], id="event-kind-typo"),
    pytest.param("name: base", "name: base\nevents: [{kind: bot_outage, day: 2, start: 9am}]",
                 [(2, "events[0].start", "should be a time of day as HH:MM", None)], id="event-start"),
    pytest.param("name: base", "name: base\nevents:\n  - {kind: bot_outage, day: 2}\n"
                 "  - {kind: agent_absence, day: 1, groups: [sales]}\n  - {kind: knowledge_change, day: 1, "
                 "intents: [shipping]}",
                 [(4, "events[1].groups", "'sales' is not an agent group of this scenario", None),
                  (5, "events[2].intents", "'shipping' is not an intent of this scenario", None)],
                 id="events-located-each"),
    pytest.param("name: base", "name: base\nknowledge: {update_lag: 36h}",
                 [(2, "knowledge.update_lag", "should be whole days, at least 1d", None)], id="lag-whole-days"),
    pytest.param("headcount: 3}", "headcount: 3, overflow_after: {billing: 30s}}",
                 [(12, "agents.groups.team", "overflow_after names 'billing', not among the group's skills", None)],
                 id="overflow-unknown-skill"),
])
def test_single_problem(tmp_path: Path, old: str, new: str, expected: list[Expected]) -> None:
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    check(problems_of(path), expected, str(path))


def test_did_you_mean_inside_distributions_and_lists(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        name: dym
        horizon: {dayz: 2}
        demand:
          contacts_per_day: 100
        channels:
          voice: {share: 1, service_level_threshold: 20s}
        segments:
          all: {share: 1, patience: {kind: exponential, meen: 2m}}
        intents:
          general:
            share: 1
            skil: general
            handle_time:
              kind: mixture
              components:
                - weight: 1
                  distribution: {kind: gamma, mean: 1m, cv: 1, cvv: 2}
        bot: {turn_time: {kind: weibull, shape: 1, scal: 1m}}
        agents:
          groups:
            team: {skills: [general], headcount: 2}
        intens: {}
        """)
    check(problems_of(path), [
        (2, "horizon.dayz", "unknown key", "did you mean 'days'?"),
        (8, "segments.all.patience.mean", "missing required key", None),
        (8, "segments.all.patience.meen", "unknown key", "did you mean 'mean'?"),
        (12, "intents.general.skil", "unknown key", "did you mean 'skill'?"),
        (17, "intents.general.handle_time.components[0].distribution.cvv", "unknown key", "did you mean 'cv'?"),
        (18, "bot.turn_time.scal", "unknown key", "did you mean 'scale'?"),
        (22, "intens", "unknown key", "did you mean 'intents'?"),
    ], str(path))


def test_many_problems_in_one_file_are_reported_together(tmp_path: Path) -> None:
    """Seven problems of six kinds; the channel shares are summed although voice has an error of its own."""
    path = write(tmp_path, (FIXTURES / "invalid" / "many-problems.yaml").read_text(encoding="utf-8"))
    check(problems_of(path), [
        (3, "demand.rate", "'-20/h' is negative", None),
        (4, "demand.busynes_shape", "unknown key", "did you mean 'busyness_shape'?"),
        (5, "channels", "the shares must sum to 1, but voice 0.6 + chat 0.3 = 0.9", None),
        (6, "channels.voice.service_level_threshold", "20 has no unit", None),
        (9, "segments.all.priority", "should be a valid integer", None),
        (11, "intents.general.handle_time", "give either mean and cv, or median and sigma", None),
        (14, "agents.groups.team.concurency", "unknown key", "did you mean 'concurrency'?"),
    ], str(path))


def test_shares_that_do_not_sum_to_one_alone(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("  all: {share: 1}", "  a: {share: 0.5}\n  b: {share: 0.2}"))
    check(problems_of(path), [(6, "segments", "the shares must sum to 1, but a 0.5 + b 0.2 = 0.7", None)],
          str(path))


def test_shares_reported_with_an_error_in_the_same_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("  general: {share: 1}",
                                        "  general: {share: 0.5, emotional_load: 2}\n  other: {share: 0.2}"))
    check(problems_of(path), [
        (8, "intents", "the shares must sum to 1, but general 0.5 + other 0.2 = 0.7", None),
        (9, "intents.general.emotional_load", "should be less than or equal to 1 (got 2)", None),
    ], str(path))


def test_shares_within_tolerance_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("  all: {share: 1}", "  a: {share: 0.3333333}\n  b: {share: 0.6666667}"))
    assert api.load(path, []).scenario.segment_names == ["a", "b"]


# ---------------------------------------------------------------------------------------------------------
# problems of the file itself


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("  contacts_per_day: 100", "  contacts_per_day: 100\n  contacts_per_day: 200"))
    check(problems_of(path), [(4, "demand.contacts_per_day", "appears twice in the same mapping", None)], str(path))


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nname: b\ndemand:\n  rate: 1/h\n  rate: 2/h\n")
    duplicates = [p for p in problems_of(path) if "appears twice" in p.message]
    check(duplicates, [(2, "name", "appears twice", None), (5, "demand.rate", "appears twice", None)], str(path))


def test_duplicate_key_does_not_hide_other_problems(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("name: base", "name: base\nname: again").replace("20s}", "20}"))
    keys = [p.key for p in problems_of(path)]
    assert "name" in keys
    assert "channels.voice.service_level_threshold" in keys


@pytest.mark.parametrize(("text", "line", "message"), [
    ('name: x\ndemand: [1, 2\n  x: y\n', 3, "broken YAML: expected ',' or ']', but got ':'"),
    ("name: x\ndemand:\n  rate: 5/h\n\tbad: tab\n", 4, "broken YAML: found character '\\t' that cannot start"),
    ('name: "unclosed\ndemand: 1\n', 3, "broken YAML: found unexpected end of stream"),
    ("name: x\n  indented: wrongly\n", 2, "broken YAML: mapping values are not allowed here"),
])
def test_broken_yaml_reports_the_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, text)
    check(problems_of(path), [(line, "", message, None)], str(path))


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    check(problems_of(path), [(None, "", "the file is empty", None)], str(path))


def test_file_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    check(problems_of(missing), [(None, "", "file not found", None)], str(missing))
    with pytest.raises(ConfigError) as info:
        read_yaml(missing)
    assert [(p.file, p.message) for p in info.value.problems] == [(str(missing), "file not found")]


def test_folder_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    check(problems_of(folder), [(None, "", "is a folder, not a YAML file", None)], str(folder))


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00name")
    check(problems_of(path), [(1, "", "is not UTF-8 text (byte 0xff)", None)], str(path))


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    check(problems_of(path), [(1, "", "expected a mapping of keys", None)], str(path))


def test_complex_keys_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\n? [a, b]\n: 1\n")
    refused = [p for p in problems_of(path) if p.line is not None]  # the rest: the required sections it lacks
    check(refused, [(2, "", "keys must be plain names", None)], str(path))


def test_yaml_1_1_boolean_words_stay_keys(tmp_path: Path) -> None:
    """`on:` is True in YAML 1.1; the loader keeps the key as typed, so it is reported as an unknown 'on'."""
    path = write(tmp_path, BASE + "on: 1\n")
    check(problems_of(path), [(13, "on", "unknown key", None)], str(path))


# ---------------------------------------------------------------------------------------------------------
# whole-scenario consistency


def test_intent_needing_a_skill_nobody_has_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("  general: {share: 1}", "  general: {share: 1, skill: billing}"))
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].file == str(path)
    assert problems[0].message == "no agent group serves skill 'billing' on voice"


def test_intent_needing_a_skill_nobody_has_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("  general: {share: 1}", "  general: {share: 1, skill: billing}"))
    (problem,) = problems_of(path)
    assert problem.key.startswith("intents.general")
    assert problem.line == 9


def test_per_interval_length_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("contacts_per_day: 100", "per_interval: [1, 2, 3]"))
    (problem,) = problems_of(path)
    assert problem.message == "has 3 values; a 30m interval needs 48"
    assert (problem.key, problem.line) == ("demand.per_interval", 3)


# ---------------------------------------------------------------------------------------------------------
# --set overrides


def test_override_problem_names_the_override(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, BASE), ["no-bot"], ["escalation.max_bot_turns=-1"])
    check(problems, [(None, "escalation.max_bot_turns", "should be greater than or equal to 1 (got -1)", None)],
          "--set escalation.max_bot_turns=-1")


def test_override_of_a_scenario_key_names_the_override(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, BASE), [], ["demand.contacts_per_day=-3"])
    check(problems, [(None, "demand.contacts_per_day", "should be greater than 0 (got -3)", None)],
          "--set demand.contacts_per_day=-3")


def test_override_unknown_nested_key_has_did_you_mean(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, BASE), [], ["demand.contacts_per_dy=3"])
    check(problems, [(None, "demand.contacts_per_dy", "unknown key", "did you mean 'contacts_per_day'?")],
          "--set demand.contacts_per_dy=3")


def test_override_unknown_top_key_has_did_you_mean(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, BASE), ["no-bot"], ["escalaton.max_bot_turns=2"])
    check(problems, [(None, "escalaton", "unknown key", "did you mean 'escalation'?")],
          "--set escalaton.max_bot_turns=2")


def test_ambiguous_override_asks_for_a_prefix(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, BASE), ["no-bot"], ["name=x"])
    check(problems, [(None, "name", "both scenarios and policies have this key",
                      "write scenario.name=… or policy.name=…")], "--set name=x")


def test_prefixed_overrides_apply(tmp_path: Path) -> None:
    loaded = api.load(write(tmp_path, BASE), ["no-bot"], ["scenario.name=renamed", "policy.name=other",
                                                            "escalation.max_bot_turns=2", "horizon.days=3"])
    assert loaded.scenario.name == "renamed"
    assert loaded.scenario.horizon.days == 3
    assert loaded.policies[0].name == "other"
    assert loaded.policies[0].escalation.max_bot_turns == 2


def test_override_without_equals_sign(tmp_path: Path) -> None:
    problems = problems_of(write(tmp_path, BASE), [], ["novalue"])
    check(problems, [(None, "novalue", "expected dotted.key=value", None)], "--set")


def test_override_problems_are_reported_with_file_problems(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("20s}", "20}"))
    problems = problems_of(path, ["no-bot"], ["escalation.max_bot_turns=0"])
    assert [(p.file, p.key) for p in problems] == [
        (str(path), "channels.voice.service_level_threshold"),
        ("--set escalation.max_bot_turns=0", "escalation.max_bot_turns"),
    ]


def test_parse_override_reads_values_as_yaml() -> None:
    assert parse_override("escalation.max_bot_turns=3") == (("escalation", "max_bot_turns"), 3)
    assert parse_override("escalation.max_bot_turns=null") == (("escalation", "max_bot_turns"), None)
    assert parse_override("automation.share={chat: 0.5}") == (("automation", "share"), {"chat": 0.5})
    assert parse_override("intents.a.bot.quality=0.5") == (("intents", "a", "bot", "quality"), 0.5)
    assert parse_override("demand.per_interval.0=5") == (("demand", "per_interval", 0), 5)
    assert parse_override("name=[unclosed") == (("name",), "[unclosed")  # not YAML: kept as text
    assert parse_override("name=") == (("name",), None)
    with pytest.raises(ConfigError, match="empty part in the dotted key"):
        parse_override("escalation..max_bot_turns=3")


def test_dotted_paths() -> None:
    assert dotted(("intents", "a", "handle_time", "components", 0, "distribution")) == \
        "intents.a.handle_time.components[0].distribution"
    doc = Document({"a": {"b": 1}}, "f.yaml", {("a",): 3, ("a", "b"): 4})
    assert doc.locate(("a", "b", "c")) == ("f.yaml", 4)
    assert doc.locate(("z",)) == ("f.yaml", None)


# ---------------------------------------------------------------------------------------------------------
# policy files and cross-file checks

POLICY = """\
name: p
automation:
  share: 0.5
  bypass_intents: [generl, general]
  bypass_segments: [al]
staffing:
  headcount: {tem: 2}
"""


def test_policy_names_checked_against_the_scenario(tmp_path: Path) -> None:
    scenario = write(tmp_path, BASE)
    policy = write(tmp_path, POLICY, "policy.yaml")
    check(problems_of(scenario, [policy]), [
        (4, "automation.bypass_intents[0]", "intent 'generl' is not in scenario 'base'", "did you mean 'general'?"),
        (5, "automation.bypass_segments[0]", "segment 'al' is not in scenario 'base'", "did you mean 'all'?"),
        (7, "staffing.headcount.tem", "agent group 'tem' is not in scenario 'base'", "did you mean 'team'?"),
    ], str(policy))


def test_cross_check_without_a_close_name_lists_the_known_ones(tmp_path: Path) -> None:
    scenario = write(tmp_path, BASE)
    policy = write(tmp_path, "name: p\nautomation:\n  bypass_intents: [zzzzzz]\n", "policy.yaml")
    check(problems_of(scenario, [policy]), [
        (3, "automation.bypass_intents[0]", "intent 'zzzzzz' is not in scenario 'base'", "the scenario has general"),
    ], str(policy))


def test_cross_check_on_a_policy_given_as_data(tmp_path: Path) -> None:
    policy = copy.deepcopy(NO_BOT)
    policy["automation"] = {"share": {"chat": 0.5}}
    check(problems_of(write(tmp_path, BASE), [policy]), [
        (None, "automation.share.chat", "channel 'chat' is not in scenario 'base'", "the scenario has voice"),
    ], None)


def test_scenario_given_as_policy(tmp_path: Path) -> None:
    scenario = write(tmp_path, BASE)
    check(problems_of(scenario, [scenario]),
          [(None, "", "looks like a scenario file, given as a policy (--policy)", None)], str(scenario))


def test_policy_given_as_scenario(tmp_path: Path) -> None:
    policy = write(tmp_path, yaml.safe_dump(BOT_POLICY), "policy.yaml")
    check(problems_of(policy, ["no-bot"]),
          [(None, "", "looks like a policy file, given as the scenario (the first argument)", None)], str(policy))


def test_problems_of_every_file_are_reported_together(tmp_path: Path) -> None:
    scenario = write(tmp_path, BASE.replace("20s}", "20}"))
    policy = write(tmp_path, "name: p\nescalation: {max_bot_turn: 2}\n", "policy.yaml")
    problems = problems_of(scenario, [policy, tmp_path / "gone.yaml"])
    assert [(p.file, p.line, p.key, p.hint) for p in problems] == [
        (str(tmp_path / "gone.yaml"), None, "", None),
        (str(scenario), 5, "channels.voice.service_level_threshold", None),
        (str(policy), 2, "escalation.max_bot_turn", "did you mean 'max_bot_turns'?"),
    ]


def test_unknown_names_have_did_you_mean() -> None:
    check(problems_of("ecommrce", ["no-bot"]),
          [(None, "", "no scenario by this name", "did you mean 'ecommerce'?")], "ecommrce")
    check(problems_of("ecommerce", ["no-bt"]),
          [(None, "", "no policy by this name", "did you mean 'no-bot'?")], "no-bt")


def test_models_and_dicts_load_like_files(tmp_path: Path) -> None:
    loaded = api.load(copy.deepcopy(SMALL_SCENARIO), [copy.deepcopy(BOT_POLICY), copy.deepcopy(NO_BOT)])
    assert isinstance(loaded.scenario, Scenario)
    assert all(isinstance(p, Policy) for p in loaded.policies)
    assert loaded.labels == ["bot", "no-bot"]
    again = api.load(loaded.scenario, loaded.policies)
    assert again.scenario == loaded.scenario
    assert again.policies == loaded.policies
    assert again.labels == ["bot", "no-bot"]


def test_loading_a_model_does_not_change_it() -> None:
    data = copy.deepcopy(SMALL_SCENARIO)
    data["demand"] = {"rate": "100/day"}
    scenario = Scenario.model_validate(data)
    assert api.load_scenario(scenario).demand.rate == scenario.demand.rate


def test_duplicate_policy_labels_are_made_unique() -> None:
    assert api.load("ecommerce", ["no-bot", "no-bot"]).labels == ["no-bot", "no-bot-2"]


def test_only_the_branch_that_fits_is_reported(tmp_path: Path) -> None:
    """A bare word for `number | mapping` gets one problem, not one per union branch."""
    policy = write(tmp_path, "name: p\nautomation:\n  share: lots\n", "policy.yaml")
    check(problems_of(write(tmp_path, BASE), [policy]),
          [(3, "automation.share", "should be a valid number (got 'lots')",
            None)], str(policy))


def test_mapping_branch_typo_is_one_problem(tmp_path: Path) -> None:
    policy = write(tmp_path, "name: p\nautomation:\n  share: {chatt: 0.5}\n", "policy.yaml")
    check(problems_of(write(tmp_path, BASE), [policy]),
          [(3, "automation.share.chatt", "should be 'voice' or 'chat' (got 'chatt')", None)], str(policy))


def test_names_resolve_in_the_working_directory_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "simulations").mkdir()
    (tmp_path / "policies").mkdir()
    (tmp_path / "simulations" / "mine.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "policies" / "no-bot.yaml").write_text("name: local no bot\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    loaded = api.load("mine", ["no-bot"])
    assert loaded.scenario.name == "base"
    assert loaded.policies[0].name == "local no bot"  # shadows the built-in of the same name


def test_load_with_cwd_resolves_names_there(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "my-policy.yaml").write_text("name: mine\n", encoding="utf-8")
    loaded = api.load("ecommerce", None, cwd=tmp_path)
    assert "my-policy" in loaded.labels


def test_a_key_of_a_default_section_keeps_the_rest_of_its_default() -> None:
    """--set of one key inside a section the file leaves out starts from that section's default: a
    distribution keeps its kind (it used to be refused: 'Unable to extract tag using discriminator')."""
    from sandbox import api

    scenario = api.load("ecommerce", [], ["repeat_contacts.abandonment_delay.mean=36m"]).scenario
    delay = scenario.repeat_contacts.abandonment_delay
    assert delay.kind == "exponential"
    assert delay.mean() == 36.0
