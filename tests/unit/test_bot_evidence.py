"""Bot evidence: evaluation counts become uncertain rates, read back within their intervals, sampled once per
replication on common random numbers, and reduce exactly to typed numbers when the uncertainty is off."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import BOT_POLICY, SEED, SMALL_SCENARIO
from scipy.stats import beta

from sandbox import api
from sandbox.config import evidence
from sandbox.config.policy import Policy
from sandbox.config.scenario import Estimate, Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate
from sandbox.engine.streams import Streams
from sandbox.errors import ConfigError

CSV_HEADER = "intent,conversations,resolved,wrong,escalated,abandoned,turns_resolved,turns_unresolved\n"


def test_counts_drawn_from_known_rates_are_read_back_within_their_intervals(tmp_path: Path) -> None:
    """40 intents, counts drawn from known rates (fixed seed): the 95% Beta intervals miss the true rate about
    5% of the time, so more than 6 misses of 40 (P < 1% under the model) would be a fault."""
    rng = np.random.default_rng(SEED)
    true = rng.uniform(0.05, 0.95, 40)
    n = rng.integers(50, 400, 40)
    resolved = rng.binomial(n, true)
    lines = [f"i{k},{n[k]},{resolved[k]},0,{n[k] - resolved[k]},0,2,3" for k in range(40)]
    (tmp_path / "eval.csv").write_text(CSV_HEADER + "\n".join(lines) + "\n")
    found = evidence.read(tmp_path / "eval.csv", "csv")
    misses = 0
    for k, counts in enumerate(found.intents.values()):
        rate, _ = evidence.estimates(counts)
        assert rate is not None
        low, high = beta.ppf([0.025, 0.975], rate.alpha, rate.beta)
        misses += not low <= true[k] <= high
    assert misses <= 6


def test_the_wrong_answer_rate_is_converted_from_per_conversation_to_per_failed_turn() -> None:
    counts = evidence.Counts(conversations=200, resolved=100, wrong=19)
    counts.add_turns(False, 2.0, 100)
    _, wrong = evidence.estimates(counts)
    assert wrong is not None
    per_turn = 1 - (1 - 0.19) ** 0.5  # two failed turns each: 1 − (1 − p)² = 19%
    assert wrong.alpha == pytest.approx(1 + 100 * per_turn, abs=1e-3)
    assert wrong.alpha + wrong.beta == pytest.approx(102)  # the sample size is the unresolved conversations


def test_a_discount_lowers_the_resolution_rate_and_is_written_down() -> None:
    counts = evidence.Counts(conversations=100, resolved=80)
    plain, _ = evidence.estimates(counts)
    discounted, _ = evidence.estimates(counts, discount=0.8)
    assert plain is not None
    assert discounted is not None
    assert discounted.mean == pytest.approx(0.8 * plain.mean)
    assert discounted.discount == 0.8


def _tau_records() -> list[dict[str, Any]]:
    return [
        {"task_id": 1, "trial": 0, "reward": 1.0, "turns": 2},
        {"task_id": 1, "trial": 1, "reward": 0.0, "ended": "user_stop", "turns": 3},  # believed it was done
        {"task_id": 2, "trial": 0, "reward": 0.0, "traj": [  # a transfer seen in the trajectory
            {"role": "user", "content": "I want a human"},
            {"role": "assistant", "tool_calls": [{"function": {"name": "transfer_to_human_agents"}}]}]},
        {"task_id": 2, "trial": 1, "reward": 0.0, "ended": "max_turns", "turns": 6},
        {"task_id": 2, "trial": 2, "reward": 0.0, "ended": "error"},
    ]


def test_tau_bench_outcomes_map_onto_ours(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(_tau_records()))
    (tmp_path / "tasks.csv").write_text("task_id,intent\n1,order_status\n2,billing_error\n")
    found = evidence.read(tmp_path / "results.json", "tau-bench", tmp_path / "tasks.csv")
    order, billing = found.intents["order_status"], found.intents["billing_error"]
    assert (order.conversations, order.resolved, order.wrong) == (2, 1, 1)
    assert (billing.conversations, billing.escalated, billing.abandoned) == (2, 1, 1)
    assert found.skipped == {"the trial ended in an error": 1}
    assert order.mean_turns(True) == 2
    assert billing.mean_turns(False) == 3.5  # 1 assistant turn, then 6


def test_analytics_exports_map_onto_ours(tmp_path: Path) -> None:
    (tmp_path / "export.csv").write_text("intent,outcome,count\nreturns,Verified resolution,50\n"
                                         "returns,contained,10\nreturns,handed to agent,30\nreturns,dropped,6\n"
                                         "returns,switched-intent,4\n")
    counts = evidence.read(tmp_path / "export.csv", "analytics").intents["returns"]
    assert (counts.conversations, counts.resolved, counts.wrong, counts.escalated, counts.abandoned) == \
        (100, 50, 10, 30, 6)


@pytest.mark.parametrize(("fmt", "text", "expected"), [
    ("csv", "intent,conversations\nx,3\n", "resolved: missing column"),
    ("csv", CSV_HEADER + "x,10,8,3,0,0,,\n", "conversations: 10 is fewer than"),
    ("csv", CSV_HEADER + "x,ten,8,0,0,0,,\n", "conversations: should be a number (got 'ten')"),
    ("csv", CSV_HEADER + "x,10,-1,0,0,0,,\n", "resolved: should be a count"),
    ("analytics", "intent,outcome,count\nx,maybe,3\n", "unknown outcome 'maybe'"),
    ("tau-bench", '[{"task_id": 1, "reward": 2, "intent": "x"}]', "reward: should be a number from 0 to 1"),
    ("tau-bench", '[{"task_id": 1, "reward": 1}', "broken JSON"),
])
def test_bad_evidence_files_get_one_clear_message_each(tmp_path: Path, fmt: str, text: str, expected: str) -> None:
    (tmp_path / "bad").write_text(text)
    with pytest.raises(ConfigError) as err:
        evidence.read(tmp_path / "bad", fmt)
    assert any(expected in str(p) for p in err.value.problems), [str(p) for p in err.value.problems]
    assert all(p.file == str(tmp_path / "bad") for p in err.value.problems)


def _scenario_with(resolve: Any, wrong: Any, uncertainty: str = "sample") -> dict[str, Any]:
    s = copy.deepcopy(SMALL_SCENARIO)
    s["intents"]["order_status"]["bot"] = {"resolve_with_crm": resolve, "wrong_answer": wrong}
    s["bot"] = {"uncertainty": uncertainty}
    return s


def _kpis(scenario: dict[str, Any], replications: int = 3) -> list[dict[str, float]]:
    plan = compile_plan(Scenario.model_validate(scenario), Policy.model_validate(BOT_POLICY))
    return [simulate(plan, SEED, r).kpis for r in range(replications)]


def test_with_the_uncertainty_off_estimates_are_exactly_their_means() -> None:
    resolve, wrong = {"alpha": 81, "beta": 21}, {"alpha": 3, "beta": 60, "discount": 1}
    means = (Estimate(**resolve).mean, Estimate(**wrong).mean)
    a = _kpis(_scenario_with(resolve, wrong, "mean"))
    b = _kpis(_scenario_with(*means))
    assert a == b


def test_each_replication_draws_its_rates_the_same_under_every_policy() -> None:
    scenario = Scenario.model_validate(_scenario_with({"alpha": 20, "beta": 20}, 0.03))
    plans = [compile_plan(scenario, Policy.model_validate(p)) for p in (BOT_POLICY, {"name": "other",
                                                                                     "automation": {"share": 1}})]
    drawn = [[p.for_replication(Streams(SEED, r).whole_run("evidence")).day_rules.bot.resolve[0] for r in range(30)]
             for p in plans]
    assert drawn[0] == drawn[1]  # common random numbers: the same bot in replication r under both policies
    assert len(set(drawn[0])) == 30  # a new draw each replication
    assert abs(np.mean(drawn[0]) - 0.5) < 3 * 0.078 / np.sqrt(30)  # Beta(20, 20): sd 0.078


def test_sampled_rates_widen_the_kpi_spread_typed_rates_do_not_have() -> None:
    """A wide estimate (10 conversations) spreads containment over replications far more than the same mean
    typed as a number: the uncertainty of the bot's measured quality reaches the KPIs."""
    wide = [k["containment_rate"] for k in _kpis(_scenario_with({"alpha": 5, "beta": 5}, 0.03), 12)]
    typed = [k["containment_rate"] for k in _kpis(_scenario_with(0.5, 0.03), 12)]
    assert np.std(wide, ddof=1) > 2 * np.std(typed, ddof=1)


def test_a_scenario_reads_its_bot_evidence_file_and_set_still_wins(tmp_path: Path) -> None:
    (tmp_path / "eval.csv").write_text(CSV_HEADER + "order_status,200,150,5,40,5,2,3\n")
    found = api.bot_evidence(tmp_path / "eval.csv", "csv")
    (tmp_path / "ev.yaml").write_text(found.text)
    scenario = copy.deepcopy(SMALL_SCENARIO)
    scenario["bot_evidence"] = "ev.yaml"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario))
    loaded = api.load_scenario(tmp_path / "s.yaml")
    rate = loaded.intents["order_status"].bot.resolve_with_crm
    assert isinstance(rate, Estimate)
    assert (rate.alpha, rate.beta) == (151, 51)
    assert loaded.intents["order_status"].bot.turns_to_resolve == 2
    overridden = api.load_scenario(tmp_path / "s.yaml", ["intents.order_status.bot.resolve_with_crm=0.4"])
    assert overridden.intents["order_status"].bot.resolve_with_crm == 0.4


def test_a_problem_in_the_evidence_file_names_that_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "ev.yaml").write_text("intents:\n  order_status:\n    bot:\n      resolve_with_crm: {alpha: -1, "
                                      "beta: 2}\n  ordr_status:\n    bot: {wrong_answer: 0.1}\nextra: 1\n")
    scenario = copy.deepcopy(SMALL_SCENARIO)
    scenario["bot_evidence"] = "ev.yaml"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario))
    with pytest.raises(ConfigError) as err:
        api.load_scenario(tmp_path / "s.yaml")
    shown = [str(p) for p in err.value.problems]
    assert any("ev.yaml:7" in s and "extra: unknown key" in s for s in shown), shown
    assert any("ev.yaml:6" in s and "did you mean 'order_status'" in s for s in shown), shown
    (tmp_path / "ev.yaml").write_text("intents:\n  order_status:\n    bot:\n      resolve_with_crm: "
                                      "{alpha: -1, beta: 2}\n")
    with pytest.raises(ConfigError) as err:  # once the file's own layout is right, its values are checked
        api.load_scenario(tmp_path / "s.yaml")
    assert any("ev.yaml:4" in str(p) and "alpha: should be greater than 0" in str(p)
               for p in err.value.problems), [str(p) for p in err.value.problems]


def test_an_evidence_file_given_with_set_is_found_from_the_working_directory(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ev.yaml").write_text("intents:\n  order_status:\n    bot:\n      wrong_answer: {alpha: 2, beta: 8}\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "s.yaml").write_text(yaml.safe_dump(SMALL_SCENARIO))
    monkeypatch.chdir(tmp_path)
    loaded = api.load_scenario(tmp_path / "elsewhere" / "s.yaml", ["bot_evidence=ev.yaml"])
    assert loaded.intents["order_status"].bot.wrong_answer == Estimate(alpha=2, beta=8)
    with pytest.raises(ConfigError) as err:
        api.load_scenario(tmp_path / "elsewhere" / "s.yaml", ["bot_evidence=missing.yaml"])
    assert "missing.yaml" in str(err.value.problems[0])
    assert err.value.problems[0].file == "--set bot_evidence=missing.yaml"


def test_an_unreadable_evidence_file_is_a_problem_of_the_scenario_line_that_names_it(tmp_path: Path) -> None:
    scenario = copy.deepcopy(SMALL_SCENARIO)
    scenario["bot_evidence"] = "nowhere.yaml"
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    line = next(i for i, text in enumerate((tmp_path / "s.yaml").read_text().splitlines(), 1)
                if text.startswith("bot_evidence:"))
    with pytest.raises(ConfigError) as err:
        api.load_scenario(tmp_path / "s.yaml")
    [problem] = err.value.problems
    assert (problem.file, problem.line, problem.key) == (str(tmp_path / "s.yaml"), line, "bot_evidence")
    assert "nowhere.yaml: file not found" in problem.message
