"""The workbench state without Textual: per-channel shares, edits marked in what runs, CLI-named inputs, files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sandbox import api
from sandbox.errors import ConfigError
from sandbox.tui.workbench import SHARE_ALL, Workbench, channel_knob, contact_share

FEW = ["no-bot", "warm-handoff", "dead-end"]


def knob(wb: Workbench, name: str):
    return next(k for k in wb.knobs() if k.name == name)


def test_bot_share_shows_the_share_of_contacts_and_each_channel_its_own():
    wb = Workbench.open(policies=FEW)
    data = yaml.safe_load(Path(wb.entry("warm-handoff").path).read_text())["automation"]["share"]
    channels = wb.scenario.channels
    expected = sum(channels[c].share * data[c] for c in channels) / sum(s.share for s in channels.values())
    assert float(wb.value(SHARE_ALL, "warm-handoff")) == pytest.approx(expected, abs=5e-4)
    assert expected != pytest.approx(sum(data.values()) / len(data))  # not the plain mean of the two shares
    for channel in channels:
        assert float(wb.value(channel_knob(channel), "warm-handoff")) == pytest.approx(data[channel])


def test_one_channel_knob_leaves_the_other_channel_alone():
    wb = Workbench.open(policies=FEW)
    assert wb.set(knob(wb, "automation.share.chat"), "warm-handoff", "0.9") is None
    share = wb.entry("warm-handoff").model.automation.share
    assert share == {"chat": 0.9, "voice": pytest.approx(0.3)}
    # A policy with one number for every channel becomes a mapping that keeps that number elsewhere.
    wb.set(SHARE_ALL, "dead-end", "0.6")
    assert wb.entry("dead-end").model.automation.share == 0.6
    wb.set(knob(wb, "automation.share.voice"), "dead-end", "0.2")
    assert wb.entry("dead-end").model.automation.share == {"chat": 0.6, "voice": 0.2}
    assert float(wb.value(SHARE_ALL, "dead-end")) == pytest.approx(
        contact_share(wb.entry("dead-end").model, wb.scenario), abs=5e-4)


def test_an_invalid_channel_share_is_reported_by_its_key_and_keeps_the_model():
    wb = Workbench.open(policies=FEW)
    before = wb.entry("warm-handoff").model
    problem = wb.set(knob(wb, "automation.share.chat"), "warm-handoff", "1.5")
    assert problem is not None
    assert problem.key == "automation.share.chat"
    assert "less than or equal to 1" in problem.message
    assert wb.entry("warm-handoff").model == before
    assert wb.shown(knob(wb, "automation.share.chat"), "warm-handoff") == "1.5"  # as typed, to be fixed
    # Setting every channel supersedes the bad channel value.
    assert wb.set(SHARE_ALL, "warm-handoff", "0.5") is None
    assert not wb.invalid


def test_edited_policies_and_scenario_run_and_export_as_edited():
    wb = Workbench.open(policies=FEW)
    assert wb.inputs().labels == FEW
    wb.set(knob(wb, "automation.share.chat"), "warm-handoff", "0.9")
    wb.set(knob(wb, "demand.contacts_per_day"), "", "1500")
    inputs = wb.inputs()
    assert inputs.labels == ["no-bot", "warm-handoff*", "dead-end"]
    policy = inputs.policies[1]
    assert policy.name == "Bot-first, warm handoff (edited)"
    assert "automation.share.chat 0.75 → 0.9" in policy.description
    assert policy.automation.share == {"chat": 0.9, "voice": pytest.approx(0.3)}
    assert inputs.policies[0] == wb.entry("no-bot").original  # untouched policies run as loaded
    assert inputs.scenario.name.endswith("(edited)")
    assert inputs.scenario.demand.contacts_per_day == 1500
    assert "demand.contacts_per_day 1200.0 → 1500.0" in inputs.scenario.description
    comparison = api.compare(inputs.scenario, inputs.policies, labels=inputs.labels, replications=1)
    assert comparison.labels[1] == "warm-handoff*"
    assert comparison.names[1] == "Bot-first, warm handoff (edited)"
    # Turning the knob back makes it the file's policy again.
    wb.set(knob(wb, "automation.share.chat"), "warm-handoff", "0.75")
    assert wb.inputs().labels[1] == "warm-handoff"


def test_days_are_a_run_length_not_a_scenario_edit():
    wb = Workbench.open(policies=FEW)
    assert wb.set(knob(wb, "horizon.days"), "", "2") is None
    assert wb.inputs().scenario.horizon.days == 2
    assert not wb.inputs().scenario.name.endswith("(edited)")
    assert wb.set(knob(wb, "horizon.days"), "", "0").key == "horizon.days"


def test_seed_and_replications_knobs():
    wb = Workbench.open(policies=FEW)
    assert wb.set(knob(wb, "seed"), "", "42") is None
    assert wb.set(knob(wb, "replications"), "", "3") is None
    assert (wb.inputs().seed, wb.inputs().replications) == (42, 3)
    assert wb.set(knob(wb, "seed"), "", "-1") is not None
    assert wb.set(knob(wb, "replications"), "", "0") is not None
    assert wb.inputs().replications == 3


def test_signature_follows_the_inputs():
    wb = Workbench.open(policies=FEW)
    first = wb.inputs().signature
    wb.set(knob(wb, "escalation.max_bot_turns"), "warm-handoff", "2")
    assert wb.inputs().signature != first
    wb.set(knob(wb, "escalation.max_bot_turns"), "warm-handoff", "4")
    assert wb.inputs().signature == first


def test_named_inputs_must_be_right():
    with pytest.raises(ConfigError) as caught:
        Workbench.open(policies=["warm-handof"])
    assert "did you mean 'warm-handoff'?" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        Workbench.open(policies=FEW, baseline="warm", overrides=["escalation.max_bot_turn=3"])
    text = str(caught.value)
    assert "--baseline" in text
    assert "max_bot_turns" in text


def test_cli_settings_become_edits():
    wb = Workbench.open(policies=FEW, overrides=["escalation.max_bot_turns=2", "demand.contacts_per_day=900"],
                        days=2, replications=4, baseline="dead-end", seed=3)
    inputs = wb.inputs()
    assert [p.escalation.max_bot_turns for p in inputs.policies] == [2, 2, 2]
    assert inputs.scenario.demand.contacts_per_day == 900
    assert inputs.scenario.horizon.days == 2
    assert (inputs.replications, inputs.seed, inputs.labels[inputs.baseline]) == (4, 3, "dead-end*")


def test_switching_scenario_keeps_policy_edits_and_run_settings():
    wb = Workbench.open(policies=FEW, replications=4)
    wb.set(knob(wb, "escalation.max_bot_turns"), "warm-handoff", "2")
    wb.set(knob(wb, "horizon.days"), "", "2")
    wb.set(knob(wb, "bot.quality"), "", "0.5")
    assert wb.switch_scenario("telecom-billing-storm") == []
    assert wb.scenario.name == api.load_scenario("telecom-billing-storm").name
    assert wb.entry("warm-handoff").model.escalation.max_bot_turns == 2
    assert wb.scenario.horizon.days == 2
    assert wb.scenario.bot.quality == api.load_scenario("telecom-billing-storm").bot.quality
    assert wb.replications == 4
    assert wb.switch_scenario("no-such-scenario")[0].hint is not None
    assert wb.scenario.name == api.load_scenario("telecom-billing-storm").name


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("deep", "name: Deep\ndescription: " + "[" * 3000 + "]" * 3000 + "\n", "deep.yaml"),
    ("vault", "name: Vault\nautomation:\n  share: !vault secret\n", "vault.yaml"),
    ("broken", "name: Broken\nautomation:\n  share: [0.5\n", "broken.yaml"),
])
def test_a_bad_file_in_the_folder_is_a_problem_not_a_crash(tmp_path: Path, name: str, text: str, expected: str):
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / f"{name}.yaml").write_text(text)
    wb = Workbench.open(cwd=tmp_path)
    assert any(expected in str(p) for p in wb.problems), wb.problems
    assert name not in [e.label for e in wb.policies]
    assert "warm-handoff" in [e.label for e in wb.policies]


def test_saved_policy_says_it_was_edited(tmp_path: Path):
    wb = Workbench.open(policies=FEW)
    wb.set(knob(wb, "automation.share.chat"), "warm-handoff", "0.9")
    path = tmp_path / "saved.yaml"
    assert wb.save_policy("warm-handoff", path) == []
    loaded = api.load_policy(path)
    assert loaded == wb.inputs().policies[1]
    assert loaded.name.endswith("(edited)")
    assert "0.75 → 0.9" in loaded.description


def test_a_loader_failure_of_its_own_is_still_a_located_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Whatever the loader raises on one file (here a RecursionError), the other files load."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "odd.yaml").write_text("name: Odd\n")
    real = api.load_document_data

    def fragile(path):
        if Path(path).name == "odd.yaml":
            raise RecursionError("maximum recursion depth exceeded")
        return real(path)

    monkeypatch.setattr(api, "load_document_data", fragile)
    wb = Workbench.open(cwd=tmp_path)
    assert [str(p) for p in wb.problems] == [f"{tmp_path / 'policies' / 'odd.yaml'}: cannot be read: nested too "
                                             "deeply to read"]
    assert "warm-handoff" in [e.label for e in wb.policies]
