"""Calibration from a contact log (support-sandbox calibrate): cleaning counted, estimates recover known
parameters, the scenario written validates and reproduces the log it came from.

The Technion fixture is two real days of the Anonymous Bank (tests/fixtures/README.md for the source and the
acknowledgement); the generic-format logs are made here from known parameters."""

from __future__ import annotations

import csv
import math
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sandbox import api
from sandbox.cli.main import app
from sandbox.planning.calibrate import GENERIC_COLUMNS, Cleaning, read_technion

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "anonymous-bank-1999-02-01-02.tsv"
HEADER = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\t"
          "q_time\toutcome\tser_start\tser_exit\tser_time\tserver")


def test_the_technion_day_calibrates_to_a_scenario_that_loads(tmp_path: Path) -> None:
    found, text = api.calibrate(FIXTURE, "technion")
    out = tmp_path / "bank.yaml"
    out.write_text(text)
    scenario = api.load_scenario(out)
    assert scenario.hours.default == "07:00-24:00"  # Sun–Thu 07:00–24:00 (the data's README)
    assert set(scenario.intents) >= {"ps", "nw", "ne"}
    assert found.cleaning.steps["phantom record dropped"] == sum(
        1 for line in FIXTURE.read_text().splitlines() if "\tPHANTOM\t" in line)
    assert "Technion" in scenario.description  # the acknowledgement travels with the numbers
    patience = found.estimates["patience.regular"]
    assert patience.low is not None
    assert patience.high is not None
    assert patience.low < patience.value < patience.high


def test_technion_quirks_are_cleaned_and_counted(tmp_path: Path) -> None:
    rows = [
        "AA0101\t1\t0\t0\tPS\t990201\t7:00:00\t7:00:09\t9\t7:00:09\t7:01:09\t60\tAGENT\t7:01:09\t7:04:09\t180\tDORIT",
        "AA0101\t1\t0\t0\tPS\t990201\t7:00:00\t7:00:09\t9\t7:00:09\t7:01:09\t60\tAGENT\t7:01:09\t7:04:09\t180\tDORIT",
        "AA0101\t2\t0\t0\tPS\t990201\t8:00:00\t8:00:05\t5\t0:00:00\t0:00:00\t0\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA0101\t3\t0\t2\tNE\t990201\t23:58:00\t23:58:10\t10\t23:58:10\t23:59:10\t60\tAGENT\t23:59:10\t0:03:10\t240\tTOVA",
        "AA0101\t4\t0\t0\tPS\t990201\t9:00:00\t9:00:08\t8\t9:00:08\t9:00:40\t32\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA0101\t5\t0\t0\tPS\t990201\t9:10:00\t9:10:08\t8\t0:00:00\t0:00:00\t0\tAGENT\t9:10:08\t9:10:08\t0\tNO_SERVER",
        "AA0101\t6\t0\t0\tPS\t990201\tnoon\t9:10:08\t8\t0:00:00\t0:00:00\t0\tAGENT\t9:10:08\t9:10:08\t0\tDORIT",
    ]
    log = tmp_path / "log.tsv"
    log.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    cleaning = Cleaning()
    contacts = read_technion(log, cleaning)
    assert cleaning.read == len(rows)
    assert cleaning.steps == {"duplicate record dropped": 1, "phantom record dropped": 1,
                              "service end after midnight": 1, "zero or negative service time (kept, as 0)": 1,
                              "served without an agent id (kept)": 1, "unreadable row dropped": 1}
    assert len(contacts) == 4
    late = next(c for c in contacts if c.intent == "ne")
    assert late.handle == pytest.approx(4.0)  # 23:59:10 → 00:03:10 the next day
    assert late.segment == "priority"
    assert [c.outcome for c in contacts if c.intent == "ps"] == ["served", "abandoned", "served"]


def _generic_log(path: Path, n_days: int, patience: float, handle: float, seed: int = 3) -> None:
    """An M/M/1+M-like day in the generic format: Poisson arrivals, exponential waits offered, patience θ."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, GENERIC_COLUMNS)
        writer.writeheader()
        for day in range(n_days):
            base = datetime(2026, 11, 2) + timedelta(days=day)  # a Monday
            for k in range(400):
                arrival = base + timedelta(hours=8, minutes=float(rng.uniform(0, 600)))
                offered_wait = float(rng.exponential(2.0))  # what the queue would make it wait
                gives_up = float(rng.exponential(patience))
                entry = arrival + timedelta(seconds=5)
                row = {"arrival": arrival.isoformat(), "segment": "all", "intent": "general",
                       "queue_entry": entry.isoformat(), "agent": f"a{k % 6}"}
                if gives_up < offered_wait:
                    row.update(queue_exit=(entry + timedelta(minutes=gives_up)).isoformat(), outcome="abandoned",
                               service_start="", service_end="")
                else:
                    start = entry + timedelta(minutes=offered_wait)
                    row.update(queue_exit=start.isoformat(), outcome="served", service_start=start.isoformat(),
                               service_end=(start + timedelta(minutes=float(rng.exponential(handle)))).isoformat())
                writer.writerow(row)


def test_censored_waits_recover_the_patience_and_handle_time(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    _generic_log(log, n_days=5, patience=3.0, handle=4.0)
    found, _ = api.calibrate(log, "generic")
    patience, handle = found.estimates["patience.all"], found.estimates["handle_time.general"]
    assert patience.low < 3.0 < patience.high, patience  # the maximum likelihood estimate with censoring
    assert handle.low < 4.0 < handle.high, handle
    assert found.estimates["contacts_per_day"].value == pytest.approx(400)
    assert math.isinf(found.estimates["busyness_shape"].value)  # exactly 400 a day: no over-dispersion


@pytest.mark.parametrize(("args", "message"), [
    (["missing.tsv"], "file not found"),
    ([str(FIXTURE), "--format", "excel"], "unknown format 'excel'"),
    ([str(FIXTURE), "--dates", "1999-02-09:1999-02-01"], "is not FROM:TO"),
    ([str(FIXTURE), "--dates", "1999-03-01:1999-03-02"], "no contacts left to estimate from in --dates"),
    ([str(FIXTURE), "--format", "generic"], "no column"),
])
def test_bad_calibration_input_exits_2_with_the_reason(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["calibrate", *args, "-o", str(tmp_path / "out.yaml")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out.yaml").exists()


def test_the_cli_writes_the_scenario_and_reports_the_estimates(tmp_path: Path) -> None:
    out = tmp_path / "bank.yaml"
    result = CliRunner().invoke(app, ["calibrate", str(FIXTURE), "--dates", "1999-02-01:1999-02-01", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "patience.regular" in result.output
    text = out.read_text()
    assert text.startswith("# Written by support-sandbox calibrate")
    assert yaml.safe_load(text)["horizon"]["start"] == "monday"


def test_a_backtest_scores_each_test_day_against_the_log() -> None:
    result = api.backtest(FIXTURE, "technion", "1999-02-01:1999-02-01", "1999-02-02:1999-02-02", replications=3)
    (day,) = result.days
    assert str(day.day) == "1999-02-02"
    log = [line.split("\t") for line in FIXTURE.read_text().splitlines()[1:]]
    queued_or_served = [r for r in log if r[5] == "990202" and r[12] in ("AGENT", "HANG")
                        and (r[12] == "AGENT" or r[9] != "0:00:00")]
    assert day.offered == len({(r[0], r[1]) for r in queued_or_served})  # the day's contacts offered to agents
    abandoned = sum(1 for r in queued_or_served if r[12] == "HANG")
    assert day.observed["abandonment_rate"] == pytest.approx(abandoned / day.offered)
    for name, _, _ in api.BACKTEST_MEASURES:
        mean, half = day.simulated[name]
        assert not math.isnan(mean)
        assert half >= 0
        assert result.error(name)[0] == pytest.approx(abs(mean - day.observed[name]))
    forecast = api.backtest(FIXTURE, "technion", "1999-02-01:1999-02-01", "1999-02-02:1999-02-02", given="",
                            replications=3)
    assert forecast.given == ()
    assert forecast.days[0].observed == day.observed  # the same day observed, simulated from other inputs


def test_the_backtest_cli_writes_json_and_refuses_bad_options(tmp_path: Path) -> None:
    out = tmp_path / "bt.json"
    result = CliRunner().invoke(app, ["backtest", str(FIXTURE), "--train", "1999-02-01:1999-02-01", "--test",
                                      "1999-02-02:1999-02-02", "-r", "2", "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(out.read_text())
    assert data["given"] == ["volume", "staffing", "aht"]
    assert set(data["errors"]) == {name for name, _, _ in api.BACKTEST_MEASURES}
    table = CliRunner().invoke(app, ["backtest", str(FIXTURE), "--format", "technion", "--train",
                                     "1999-02-01:1999-02-01", "--test", "1999-02-02:1999-02-02", "-r", "2"])
    assert table.exit_code == 0, table.output
    assert "1999-02-02" in table.stdout
    assert "Abandonment per test day" in table.stdout  # the chart under the table
    assert "simulated" in table.stdout.split("Abandonment per test day")[1]
    bad = CliRunner().invoke(app, ["backtest", str(FIXTURE), "--train", "x", "--test", "1999-02-02:1999-02-02",
                                   "--given", "weather"])
    assert bad.exit_code == 2
    assert "--train: 'x' is not FROM:TO" in bad.output
    assert "--given: unknown input 'weather'" in bad.output


def test_fractional_agents_become_agent_minutes_in_the_schedule() -> None:
    from sandbox.planning.calibrate import schedule_from

    available = np.zeros(24)
    available[8], available[9], available[10] = 5.4, 5.0, 2.99
    schedule = schedule_from(available)
    assert schedule == {"00:00": 0, "08:00": 6, "08:24": 5, "10:00": 3, "10:59": 2, "11:00": 0}
    minutes = {"08": 6 * 24 + 5 * 36, "09": 5 * 60, "10": 3 * 59 + 2 * 1}
    for hour, agent_minutes in minutes.items():
        assert agent_minutes == pytest.approx(60 * available[int(hour)], abs=1)


def test_a_simulated_log_calibrates_back_to_the_parameters_that_made_it(tmp_path: Path) -> None:
    # Erlang A, around the clock: 60 calls/h, exponential 4-minute calls, 3-minute patience, 5 agents (a queue
    # with abandonment). The simulator's own log, read back, must give those parameters within their intervals.
    from conftest import erlang_scenario

    scenario = erlang_scenario(60, "4m", 5, "3m", days=4, warm_up="0m")
    log = tmp_path / "simulated.csv"
    log.write_text(api.contact_log(scenario, {"name": "no bot", "automation": {"share": 0}}, seed=4))
    found, text = api.calibrate(log, "generic")
    patience, handle = found.estimates["patience.all"], found.estimates["handle_time.general"]
    assert patience.low < 3.0 < patience.high, patience
    assert handle.low < 4.0 < handle.high, handle
    rows = list(csv.DictReader(log.open()))
    assert found.estimates["contacts_per_day"].value == pytest.approx(len(rows) / 4, rel=0.05)
    calibrated = yaml.safe_load(text)
    assert calibrated["hours"] == {"default": "00:00-24:00"}
    schedule = calibrated["agents"]["groups"]["agents"]["schedule"]
    assert set(schedule.values()) <= {4, 5}  # 5 agents, seen busy while callers wait (a lower bound of 4 at times)


def test_run_writes_the_contact_log_of_its_first_replication(tmp_path: Path) -> None:
    out = tmp_path / "log.csv"
    result = CliRunner().invoke(app, ["run", "-p", "warm-handoff", "--replications", "2", "--records", str(out),
                                      "-f", "json"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert {r["outcome"] for r in rows} <= {"served", "abandoned", "blocked", "contained", "left_before_queue"}
    kpis = __import__("json").loads(result.stdout)["policies"]["warm-handoff"]["kpis"]
    served = sum(r["outcome"] == "served" for r in rows)
    assert served == kpis["served"]["replications"][0]  # the same replication the run's first value is


def test_availability_is_the_busy_share_of_the_roster_while_someone_waits() -> None:
    from sandbox.planning.calibrate import Contact, staffing

    day = datetime(1999, 2, 1)

    def at(h: int, m: int) -> datetime:
        return day + timedelta(hours=h, minutes=m)

    contacts = [  # 9:00–9:30: agent a serves all of it, agent b one minute; a caller waits 9:10–9:20
        Contact(at(9, 0), "all", "q", at(9, 0), at(9, 0), "served", at(9, 0), at(9, 30), "a"),
        Contact(at(9, 0), "all", "q", at(9, 0), at(9, 0), "served", at(9, 0), at(9, 1), "b"),
        Contact(at(9, 10), "all", "q", at(9, 10), at(9, 20), "abandoned", None, None, None),
    ]
    found = staffing(contacts, [day.date()])
    assert found.individual
    assert found.roster[0, 18] == 2  # the 9:00 half hour: two agents seen
    assert found.availability == pytest.approx(0.5)  # while the caller waited, one of the two was busy


def test_the_technion_roster_and_availability_are_estimated_and_fitted() -> None:
    found, text = api.calibrate(FIXTURE, "technion")
    group = yaml.safe_load(text)["agents"]["groups"]["agents"]
    fitted = found.estimates["availability"]
    measured = float(fitted.note.rsplit(" ", 1)[1])
    # Bank agents seen in a half hour are busy only part of it even while callers wait (about 0.65 here); the
    # simulated days lose as many callers as the log at a fitted availability between that and 1.
    assert 0.5 < measured < 0.8
    assert 0.8 * measured <= fitted.value <= 1
    assert group["availability"] == pytest.approx(fitted.value, abs=1e-3)


def _weibull_log(path: Path, shape: float, scale: float, n_days: int = 6, seed: int = 5) -> None:
    """Like _generic_log, with Weibull patience (shape < 1: many leave early, the rest wait long)."""
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, GENERIC_COLUMNS)
        writer.writeheader()
        for day in range(n_days):
            base = datetime(2026, 11, 2) + timedelta(days=day)
            for k in range(500):
                arrival = base + timedelta(hours=8, minutes=float(rng.uniform(0, 600)))
                offered_wait, gives_up = float(rng.exponential(3.0)), scale * float(rng.weibull(shape))
                entry = arrival
                row = {"arrival": arrival.isoformat(), "segment": "all", "intent": "general",
                       "queue_entry": entry.isoformat(), "agent": f"a{k % 6}"}
                if gives_up < offered_wait:
                    row.update(queue_exit=(entry + timedelta(minutes=gives_up)).isoformat(), outcome="abandoned")
                else:
                    start = entry + timedelta(minutes=offered_wait)
                    row.update(queue_exit=start.isoformat(), outcome="served", service_start=start.isoformat(),
                               service_end=(start + timedelta(minutes=float(rng.exponential(4.0)))).isoformat())
                writer.writerow(row)


def test_a_falling_patience_hazard_is_fitted_as_weibull_with_its_interval(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    _weibull_log(log, shape=0.5, scale=2.0)
    found, text = api.calibrate(log, "generic")
    patience = yaml.safe_load(text)["segments"]["all"]["patience"]
    assert patience["kind"] == "weibull"
    assert patience["shape"] < 0.8, patience  # the hazard falls with the wait
    # The early leavers (within 2 s: 12% here) are the zero_patience share and the Weibull fits the rest: together
    # they give the customers' own survival of patience, within 0.03 at 1, 3 and 10 minutes.
    zero, scale = yaml.safe_load(text)["segments"]["all"]["zero_patience"], float(patience["scale"][:-1])
    for t in (1.0, 3.0, 10.0):
        model = (1 - zero) * math.exp(-((t - 2 / 60) / scale) ** patience["shape"])
        assert model == pytest.approx(math.exp(-((t / 2.0) ** 0.5)), abs=0.03), t
    estimate = found.estimates["patience.all"]
    assert estimate.low < estimate.value < estimate.high  # the bootstrap interval of the mean
    assert "Kaplan–Meier" in estimate.note
    # and exponential patience stays exponential (the likelihood ratio does not call for a shape)
    _generic_log(log, n_days=5, patience=3.0, handle=4.0)
    _, text = api.calibrate(log, "generic")
    assert yaml.safe_load(text)["segments"]["all"]["patience"]["kind"] == "exponential"


def test_a_backtest_on_the_simulators_own_log_is_unbiased(tmp_path: Path) -> None:
    # The simulator's own Erlang A logs (eight, independent), each calibrated on four days and backtested on two
    # given their volume, staffing and handle times: the model that made the logs predicts them, so over the
    # logs the mean bias is within 1.96 standard errors of 0 (the calibration's own error is part of each log's
    # bias, so the spread across logs, not across the days of one, is the yardstick).
    from conftest import erlang_scenario

    scenario = erlang_scenario(60, "4m", 5, "3m", days=6, warm_up="0m")
    log = tmp_path / "simulated.csv"
    biases: dict[str, list[float]] = {"abandonment_rate": [], "asa_served": []}
    for seed in range(8):
        log.write_text(api.contact_log(scenario, {"name": "no bot", "automation": {"share": 0}}, seed=seed))
        result = api.backtest(log, "generic", "2026-01-05:2026-01-08", "2026-01-09:2026-01-10", replications=5)
        assert len(result.days) == 2
        for name, values in biases.items():
            values.append(result.error(name)[1])
    for name, values in biases.items():
        v = np.array(values)
        assert abs(v.mean()) < 1.96 * v.std(ddof=1) / math.sqrt(len(v)), (name, v)


def test_a_calendar_scenario_replays_the_logs_own_days(tmp_path: Path) -> None:
    _, text = api.calibrate(FIXTURE, "technion", calendar=True)
    out = tmp_path / "replay.yaml"
    out.write_text(text)
    scenario = api.load_scenario(out)
    assert scenario.horizon.days == 2
    assert [e.date for e in scenario.calendar] == ["1999-02-01", "1999-02-02"]
    cleaning = Cleaning()
    offered = [c for c in read_technion(FIXTURE, cleaning) if c.outcome not in ("left_before_queue", "contained")]
    per_day = [sum(c.arrival.day == d for c in offered) for d in (1, 2)]
    assert [e.contacts for e in scenario.calendar] == per_day
    result = api.run(out, {"name": "no bot", "automation": {"share": 0}}, replications=1, seed=0)
    data = next(iter(result.to_dict()["policies"].values()))
    assert [round(d["offered"]["mean"]) for d in data["daily"]] == per_day  # exact counts: the log's days


def test_the_head_start_that_explains_who_overtook_whom_is_found(tmp_path: Path) -> None:
    # The simulator's own log with a known 2-minute head start for one segment of two: the estimate finds it
    # (on the 0.25-minute grid it searches) and explains far more of the service order than first come, first served.
    from conftest import erlang_scenario

    scenario = erlang_scenario(60, "4m", 4, "6m", days=2, warm_up="0m")
    scenario["segments"] = {"regular": {"share": 0.7, "patience": {"kind": "exponential", "mean": "6m"}},
                            "gold": {"share": 0.3, "head_start": "2m",
                                     "patience": {"kind": "exponential", "mean": "6m"}}}
    log = tmp_path / "simulated.csv"
    log.write_text(api.contact_log(scenario, {"name": "no bot", "automation": {"share": 0}}, seed=1))
    found, text = api.calibrate(log, "generic")
    estimate = found.estimates["head_start.gold"]
    assert estimate.value == pytest.approx(2.0, abs=0.5), estimate
    assert yaml.safe_load(text)["segments"]["gold"]["head_start"] == f"{estimate.value:g}m"
    shares = [float(x.rstrip("%)")) for x in re.findall(r"(\d+)%", estimate.note)]
    assert shares[0] > shares[1] + 20  # the rule explains the order far better than FIFO


def test_another_exports_columns_are_mapped_onto_the_format(tmp_path: Path) -> None:
    # The same contacts as a documented log, and as "another export": its own column names, semicolons,
    # day-first times and outcome words. With the mapping file, both calibrate to the same scenario.
    log = tmp_path / "log.csv"
    _generic_log(log, n_days=2, patience=3.0, handle=4.0)
    theirs = {"arrival": "CallStart", "segment": "Tier", "intent": "Reason", "queue_entry": "QIn",
              "queue_exit": "QOut", "outcome": "Result", "service_start": "TalkStart", "service_end": "TalkEnd",
              "agent": "AgentId"}
    words = {"served": "ANSWERED", "abandoned": "ABANDON"}
    export = tmp_path / "export.csv"
    with log.open(newline="") as f, export.open("w", newline="") as g:
        writer = csv.DictWriter(g, list(theirs.values()), delimiter=";")
        writer.writeheader()
        for row in csv.DictReader(f):
            out = {}
            for ours, their in theirs.items():
                value = row[ours]
                if ours == "outcome":
                    value = words[value]
                elif value and ours in ("arrival", "queue_entry", "queue_exit", "service_start", "service_end"):
                    value = datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M:%S.%f")
                out[their] = value
            writer.writerow(out)
    mapping = tmp_path / "columns.yaml"
    mapping.write_text(yaml.safe_dump({"columns": theirs, "outcomes": {v: k for k, v in words.items()},
                                       "time_format": "%d/%m/%Y %H:%M:%S.%f", "delimiter": ";"}))
    _, ours_text = api.calibrate(log, "generic")
    _, mapped_text = api.calibrate(export, "generic", columns=mapping)
    ours, mapped = yaml.safe_load(ours_text), yaml.safe_load(mapped_text)
    for data in (ours, mapped):  # the file's name is in these two
        del data["name"], data["description"]
    assert mapped == ours
    mapping.write_text(yaml.safe_dump({"columns": {"arrivals": "CallStart"}}))
    bad = CliRunner().invoke(app, ["calibrate", str(export), "--format", "generic", "--columns", str(mapping)])
    assert bad.exit_code == 2
    assert "'arrivals' is not a column of the contact-log format" in bad.output


@pytest.mark.parametrize(("rows", "where"), [
    # every row unreadable: the first bad value is named by its line and column
    (["2026-11-02T08:00:00,all,general,2026-11-02T08:00:05,noon,served,2026-11-02T08:01:00,"
      "2026-11-02T08:05:00,a1"], ":2: queue_exit"),
    (["2026-11-02T08:00:00,all,general,2026-11-02T08:00:05,2026-11-02T08:01:00,answered,,,a1"], ":2: outcome"),
    ([], "no contacts left to estimate from"),  # empty: a header and no rows
])
def test_an_unreadable_log_names_the_line_and_column(tmp_path: Path, rows: list[str], where: str) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(",".join(GENERIC_COLUMNS) + "\n" + "".join(r + "\n" for r in rows))
    result = CliRunner().invoke(app, ["calibrate", str(log), "--format", "generic"])
    assert result.exit_code == 2, result.output
    assert where in result.output
    assert "Traceback" not in result.output


def test_a_few_unreadable_rows_are_dropped_and_the_first_is_named(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    _generic_log(log, n_days=1, patience=3.0, handle=4.0)
    lines = log.read_text().splitlines()
    lines[3] = lines[3].replace("2026-11-02T", "2026-13-02T", 1)  # a month that does not exist, on line 4
    log.write_text("\n".join(lines) + "\n")
    found, text = api.calibrate(log, "generic")
    assert found.cleaning.steps["unreadable row dropped"] == 1
    assert "the first unreadable row: line 4, arrival '2026-13-02T" in text


def test_a_broken_column_mapping_is_named_at_its_line(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    _generic_log(log, n_days=1, patience=3.0, handle=4.0)
    mapping = tmp_path / "columns.yaml"
    mapping.write_text("columns: {arrival: Start\n")
    result = CliRunner().invoke(app, ["calibrate", str(log), "--format", "generic", "--columns", str(mapping)])
    assert result.exit_code == 2
    assert f"{mapping}:" in result.output
    assert "broken YAML" in result.output



def test_kaplan_meier_counts_a_censored_wait_as_at_risk_at_its_own_time() -> None:
    from sandbox.planning.calibrate import _kaplan_meier

    # waits 1 (censored), 1 (left), 2 (left), 3 (censored): at t = 1 four are at risk, one leaves: S = 3/4
    survival = _kaplan_meier(np.array([1.0, 1.0, 2.0, 3.0]), np.array([False, True, True, False]))
    assert survival(1.0) == pytest.approx(0.75)
    assert survival(2.0) == pytest.approx(0.75 * 0.5)
