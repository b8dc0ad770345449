"""Provides calibration: a scenario estimated from a real contact log, every cleaning step counted.

A log is read into contacts of the documented format (docs/calibration.md): arrival, segment, intent, queue
entry and exit, outcome, service start and end, agent. The built-in mapping ``technion`` reads the Technion
"Anonymous Bank" call log (Brown et al. 2005; SEELab, Technion); ``generic`` reads a CSV with the format's own
columns. From the cleaned contacts, each with its sample size and uncertainty:

* arrivals: the expected volume of an average open weekday, the profile over the day, a factor per weekday,
  and the day-to-day over-dispersion (gamma busyness, from Var N = μ + μ²/α on days of one weekday class);
* handle times per intent: lognormal with the observed mean and cv, with the Kolmogorov–Smirnov distance and
  the share under 10 s (real logs have a spike of very short calls);
* patience per segment from censored waits: exponential, θ = abandonments / Σ time in queue (the maximum
  likelihood estimate with every served wait censored), which is also Brown et al.'s P(Ab) / E[W]; the share
  that leaves almost at once (within 2 s);
* agents: those seen serving in each hour, averaged over the days of a weekday class, as the schedule.

What cannot be estimated from a log (the bot, costs, churn) keeps the model's defaults, and the scenario says so.
"""

from __future__ import annotations

import csv
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import stats

from sandbox.config.scenario import WEEKDAYS, Scenario
from sandbox.engine.plan import compile_plan
from sandbox.engine.run import simulate
from sandbox.model.outcomes import Outcome

Format = Literal["technion", "generic"]
SHORT_CALL = 10 / 60  # minutes: "many contacts under 10 s"
AT_ONCE = 2 / 60  # minutes: a caller who hangs up within 2 s of joining the queue left "at once"
GENERIC_COLUMNS = ("arrival", "segment", "intent", "queue_entry", "queue_exit", "outcome", "service_start",
                   "service_end", "agent")  # and, optionally, "channel" (read as voice when absent)
OUTCOMES = ("served", "abandoned", "blocked", "contained", "left_before_queue")


class LogError(ValueError):
    """A log that cannot be read at all (no rows, wrong columns); the message says why."""


@dataclass
class Contact:
    """One contact in the documented format; times are datetimes, None where the stage did not happen."""

    arrival: datetime
    segment: str
    intent: str
    queue_entry: datetime | None
    queue_exit: datetime | None
    outcome: str  # OUTCOMES
    service_start: datetime | None
    service_end: datetime | None
    agent: str | None

    @property
    def wait(self) -> float | None:
        """Minutes in queue (None: never queued)."""
        if self.queue_entry is None or self.queue_exit is None:
            return None
        return (self.queue_exit - self.queue_entry).total_seconds() / 60

    @property
    def handle(self) -> float | None:
        if self.service_start is None or self.service_end is None:
            return None
        return (self.service_end - self.service_start).total_seconds() / 60


@dataclass
class Cleaning:
    """What was dropped or repaired, step by step (every step counted, even at zero)."""

    read: int = 0
    steps: Counter[str] = field(default_factory=Counter)

    def count(self, step: str, n: int = 1) -> None:
        self.steps[step] += n


# --- reading --------------------------------------------------------------------------------------------

def _clock(day: date, text: str) -> datetime | None:
    h, m, s = (int(p) for p in text.strip().split(":"))
    return datetime(day.year, day.month, day.day) + timedelta(hours=h, minutes=m, seconds=s)


def _after(start: datetime, end: datetime | None, cleaning: Cleaning, step: str) -> datetime | None:
    """``end`` on the clock of the day ``start`` is on; an end before its start crossed midnight."""
    if end is None:
        return None
    if end < start:
        cleaning.count(step)
        return end + timedelta(days=1)
    return end


def read_technion(path: Path, cleaning: Cleaning) -> list[Contact]:
    """The Technion "Anonymous Bank" format (tab-separated; see the data's README)."""
    contacts: list[Contact] = []
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        needed = {"call_id", "priority", "type", "date", "vru_entry", "q_start", "q_exit", "outcome", "ser_start",
                  "ser_exit", "server"}
        missing = needed - set(reader.fieldnames or ())
        if missing:
            raise LogError(f"not a Technion call log: no column {', '.join(sorted(missing))}")
        for row in reader:
            cleaning.read += 1
            try:
                key = (row.get("vru+line") or "") + "/" + row["call_id"] + "/" + row["date"]  # ids restart per line
                if key in seen:
                    cleaning.count("duplicate record dropped")
                    continue
                seen.add(key)
                if row["outcome"] == "PHANTOM":
                    cleaning.count("phantom record dropped")
                    continue
                day = datetime.strptime(row["date"], "%y%m%d").date()
                arrival = _clock(day, row["vru_entry"])
                assert arrival is not None
                queued = row["q_start"].strip() not in ("0:00:00", "")
                q_in = _after(arrival, _clock(day, row["q_start"]), cleaning, "queue entry after midnight") \
                    if queued else None
                q_out = _after(q_in, _clock(day, row["q_exit"]), cleaning, "queue exit after midnight") \
                    if q_in is not None else None
                served = row["outcome"] == "AGENT"
                s_in = _after(arrival, _clock(day, row["ser_start"]), cleaning, "service start after midnight") \
                    if served else None
                s_out = _after(s_in, _clock(day, row["ser_exit"]), cleaning, "service end after midnight") \
                    if s_in is not None else None
            except (ValueError, KeyError, AttributeError, TypeError):
                cleaning.count("unreadable row dropped")
                continue
            if q_in is not None and q_out is not None and q_out < q_in:
                cleaning.count("negative wait set to 0")
                q_out = q_in
            if served and s_in is not None and s_out is not None and s_out <= s_in:
                cleaning.count("zero or negative service time (kept, as 0)")
                s_out = s_in
            agent = row["server"].strip() or None
            if served and agent in (None, "NO_SERVER"):
                cleaning.count("served without an agent id (kept)")
                agent = None
            outcome = "served" if served else "abandoned" if queued else "left_before_queue"
            segment = "priority" if row["priority"].strip() == "2" else "regular"
            contacts.append(Contact(arrival, segment, row["type"].strip().lower() or "unknown", q_in, q_out,
                                    outcome, s_in, s_out, agent))
    return contacts


def read_generic(path: Path, cleaning: Cleaning) -> list[Contact]:
    """A CSV with the documented columns (ISO date-times; empty where a stage did not happen)."""
    contacts: list[Contact] = []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        missing = set(GENERIC_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise LogError(f"no column {', '.join(sorted(missing))} (the format's columns: "
                           f"{', '.join(GENERIC_COLUMNS)})")

        def when(text: str) -> datetime | None:
            return datetime.fromisoformat(text.strip()) if text.strip() else None

        for row in reader:
            cleaning.read += 1
            try:
                arrival = when(row["arrival"])
                if arrival is None or row["outcome"] not in OUTCOMES:
                    raise ValueError
                contact = Contact(arrival, row["segment"] or "all", row["intent"] or "general",
                                  when(row["queue_entry"]), when(row["queue_exit"]), row["outcome"],
                                  when(row["service_start"]), when(row["service_end"]), row["agent"] or None)
            except ValueError:
                cleaning.count("unreadable row dropped")
                continue
            if (contact.wait or 0) < 0 or (contact.handle or 0) < 0:
                cleaning.count("negative duration dropped")
                continue
            contacts.append(contact)
    return contacts


def read_log(path: Path, fmt: Format, cleaning: Cleaning) -> list[Contact]:
    return read_technion(path, cleaning) if fmt == "technion" else read_generic(path, cleaning)


# --- estimates ---------------------------------------------------------------------------------------------

@dataclass
class Estimate:
    """A calibrated number with its sample size and a 95% interval (None where not defined)."""

    value: float
    n: int
    low: float | None = None
    high: float | None = None
    note: str = ""


@dataclass
class Calibration:
    scenario: dict[str, Any]
    cleaning: Cleaning
    estimates: dict[str, Estimate]
    days: list[date]


def _lognormal(minutes: np.ndarray) -> tuple[float, float, float]:
    """(mean, cv, Kolmogorov–Smirnov distance) of the lognormal with the times' mean and cv (moment matching:
    the simulated workload equals the observed one)."""
    mean = float(minutes.mean())
    cv = float(minutes.std(ddof=1)) / mean if len(minutes) > 1 else 0.0
    sigma = math.sqrt(math.log1p(cv * cv))
    ks = float(stats.kstest(minutes, "lognorm", args=(sigma, 0, mean / math.exp(sigma * sigma / 2))).statistic) \
        if sigma > 0 else math.nan
    return mean, cv, ks


def _busyness(totals: list[int]) -> float | None:
    """Gamma shape α of the day factor from the day totals of one weekday class (None: no over-dispersion)."""
    if len(totals) < 3:
        return None
    mu, var = float(np.mean(totals)), float(np.var(totals, ddof=1))
    return round(mu * mu / (var - mu), 1) if var > mu else None


def offered_contacts(path: Path, fmt: Format, dates: tuple[date, date] | None, cleaning: Cleaning,
                     option: str = "--dates") -> list[Contact]:
    """The log's contacts that were offered to agents on ``dates`` (every step counted in ``cleaning``)."""
    contacts = read_log(path, fmt, cleaning)
    if dates is not None:
        kept = [c for c in contacts if dates[0] <= c.arrival.date() <= dates[1]]
        cleaning.count(f"outside {option} dropped", len(contacts) - len(kept))
        contacts = kept
    offered = [c for c in contacts if c.outcome not in ("left_before_queue", "contained")]
    cleaning.count("left in the VRU, IVR or bot before reaching the queue (not offered to agents)",
                   len(contacts) - len(offered))
    if not offered:
        raise LogError("no contacts left to estimate from" + (f" in {option}" if dates is not None else ""))
    return offered


def calibrate(path: Path, fmt: Format = "technion", dates: tuple[date, date] | None = None,
              name: str | None = None) -> Calibration:
    """A scenario (as data, validated) estimated from a contact log, with the cleaning and the estimates."""
    cleaning = Cleaning()
    return estimate_scenario(offered_contacts(path, fmt, dates, cleaning), cleaning, path.name, fmt, name)


def estimate_scenario(contacts: list[Contact], cleaning: Cleaning, source: str, fmt: Format,
                      name: str | None = None) -> Calibration:
    """calibrate() on contacts already read and cleaned."""
    estimates: dict[str, Estimate] = {}
    by_day: dict[date, list[Contact]] = defaultdict(list)
    for c in contacts:
        by_day[c.arrival.date()].append(c)
    days = sorted(by_day)

    totals = {d: len(by_day[d]) for d in days}
    weekday_mean = {wd: float(np.mean([totals[d] for d in days if WEEKDAYS[d.weekday()] == wd]))
                    for wd in dict.fromkeys(WEEKDAYS[d.weekday()] for d in days)}
    # The "average weekday": days with a full day's volume (short days, a Friday or a Saturday, have their own
    # weekday factor and hours).
    median = float(np.median([totals[d] for d in days]))
    main = [d for d in days if totals[d] >= 0.6 * median]
    per_day = float(np.mean([totals[d] for d in main]))
    estimates["contacts_per_day"] = Estimate(per_day, len(main), *_mean_interval([totals[d] for d in main]))
    hourly = np.zeros(24)
    for d in main:
        for c in by_day[d]:
            hourly[c.arrival.hour] += 1
    profile = [round(float(v) / len(main), 2) for v in hourly]
    alpha = _busyness([totals[d] for d in main])
    estimates["busyness_shape"] = Estimate(alpha if alpha is not None else math.inf, len(main),
                                           note="Var N = μ + μ²/α over the main weekdays; ∞: no over-dispersion")

    # Handle times per intent (served, positive).
    intents: dict[str, Any] = {}
    shares = Counter(c.intent for c in contacts)
    for intent, count in sorted(shares.items(), key=lambda kv: -kv[1]):
        times = np.array([c.handle for c in contacts if c.intent == intent and c.outcome == "served"
                          and c.handle is not None and c.handle > 0])
        spec: dict[str, Any] = {"share": round(count / len(contacts), 6), "emotional_load": 0.0}  # not in a log
        if len(times) >= 2:
            mean, cv, ks = _lognormal(times)
            short = float(np.mean(times < SHORT_CALL))
            spec["handle_time"] = {"kind": "lognormal", "mean": f"{mean:.3f}m", "cv": round(min(cv, 99.0), 3)}
            estimates[f"handle_time.{intent}"] = Estimate(mean, len(times), *_mean_interval(times),
                                                          note=f"cv {cv:.2f}, KS {ks:.3f}, {short:.0%} under 10 s")
        intents[intent] = spec
    _renormalise(intents)

    # Patience, intent mix and handle-time level per segment (patience from censored waits).
    intent_mean = {k.split(".", 1)[1]: e.value for k, e in estimates.items() if k.startswith("handle_time.")}
    segments: dict[str, Any] = {}
    seg_counts = Counter(c.segment for c in contacts)
    for segment, count in seg_counts.items():
        queued = [c for c in contacts if c.segment == segment and c.wait is not None]
        abandoned = [c for c in queued if c.outcome == "abandoned"]
        at_once = sum(1 for c in abandoned if (c.wait or 0) <= AT_ONCE)
        exposure = sum(max(c.wait or 0.0, 0.0) for c in queued if not (c.outcome == "abandoned"
                                                                        and (c.wait or 0) <= AT_ONCE))
        k = len(abandoned) - at_once
        spec = {"share": round(count / len(contacts), 6)}
        if k > 0 and exposure > 0:
            theta = k / exposure
            spec["patience"] = {"kind": "exponential", "mean": f"{1 / theta:.3f}m"}
            half = 1.96 / math.sqrt(k)
            estimates[f"patience.{segment}"] = Estimate(1 / theta, len(queued), (1 / theta) / (1 + half),
                                                        (1 / theta) / max(1 - half, 1e-9),
                                                        note=f"{k} abandonments over {exposure:.0f} queue-minutes")
        if queued:
            spec["zero_patience"] = round(at_once / len(queued), 4)
        if segment == "priority" and fmt == "technion":
            # Anonymous Bank: priority callers get a head start of about 1.5 minutes in the FIFO queue (the
            # data's documentation; Brown et al. 2005), not strict priority.
            spec["head_start"] = "1.5m"
        mine = [c for c in contacts if c.segment == segment]
        if len(seg_counts) > 1:  # the intent mix depends on the customer in real data
            mix = Counter(c.intent for c in mine)
            spec["intent_mix"] = _rounded({i: mix.get(i, 0) / len(mine) for i in intents})
            served = [c for c in mine if c.outcome == "served" and c.handle and c.intent in intent_mean]
            if len(served) >= 30:
                # Against what its own intents take on average (a segment of longer intents is not slower).
                expected = float(np.mean([intent_mean[c.intent] for c in served]))
                ratios = np.array([c.handle or 0.0 for c in served]) / expected
                low, high = _mean_interval(ratios)
                spec["handle_time_factor"] = round(float(ratios.mean()), 3)
                estimates[f"handle_time_factor.{segment}"] = Estimate(
                    float(ratios.mean()), len(served), low, high,
                    note="its handle times over those of the same intents for everyone")
        segments[segment] = spec
    _renormalise(segments)

    # Agents available per hour, averaged over the main weekdays: the schedule.
    availability = available_agents(contacts, days)
    schedule = schedule_from(availability[[days.index(d) for d in main]].mean(axis=0))
    estimates["agents_peak"] = Estimate(float(max(schedule.values(), default=0)), len(main),
                                        note="agents busy while callers waited (all who were there were busy), "
                                             "else the most busy at once; the hour's mean over the main days")
    start_day = WEEKDAYS[days[0].weekday()]
    hours = _hours(days, availability)
    scenario: dict[str, Any] = {
        "name": name or f"Calibrated from {source}",
        "description": (f"Estimated by support-sandbox calibrate from {source} ({days[0]} to {days[-1]}, "
                        f"{len(contacts)} contacts). Bot, costs and churn keep the model's defaults. "
                        + ("Data: Technion SEELab call-centre data (Anonymous Bank, Brown et al. 2005), free for "
                           "research with acknowledgement." if fmt == "technion" else "")),
        "horizon": {"days": 7, "start": start_day, "interval": "60m"},
        "hours": hours,
        "demand": {"contacts_per_day": round(per_day, 1), "intraday_profile": profile,
                   "weekday_factors": {wd: round(m / per_day, 3) for wd, m in weekday_mean.items()},
                   "busyness_shape": alpha},
        "channels": {"voice": {"share": 1, "service_level_threshold": "20s"}},
        "segments": segments,
        "intents": intents,
        "agents": {"groups": {"agents": {"skills": ["general"], "channels": ["voice"], "concurrency": 1,
                                         "schedule": schedule or {"00:00": 0}}}},
        # The patience above is what callers showed: frustration must not shorten it again.
        "frustration": {"patience_coupling": 0},
        "repeat_contacts": {"after_abandonment": 0, "after_false_containment": 0},  # redials are in the log
    }
    Scenario.model_validate(scenario)  # what is written must load
    return Calibration(scenario, cleaning, estimates, days)


def schedule_from(available: np.ndarray) -> dict[str, int]:
    """A schedule with the agent-minutes of fractional agents per hour: 5.4 agents are 6 for the first 24
    minutes of the hour and 5 for the rest (rounding to whole agents instead loses or adds up to half an agent
    an hour, and near saturation abandonment is very sensitive to that)."""
    schedule: dict[str, int] = {}
    last = None
    for hour, a in enumerate(np.asarray(available, dtype=float)):
        whole, extra = math.floor(a), round((a - math.floor(a)) * 60)
        steps = [(0, whole + 1), (extra, whole)] if 0 < extra < 60 else [(0, whole + (extra == 60))]
        for minute, n in steps:
            if n != last:
                schedule[f"{hour:02d}:{minute:02d}"] = n
                last = n
    return schedule


STEP = 10  # seconds: the grid on which agents busy and callers waiting are counted


def available_agents(contacts: list[Contact], days: list[date]) -> np.ndarray:
    """Agents available in each clock hour of each of ``days`` ([day, hour]). While someone waits, every agent
    on duty is busy, so the agents busy then are those available; in an hour in which nobody waited, the most
    busy at once (a lower bound). Not the agents seen serving in the hour, which counts an agent seen once."""
    bins = 2 * 86_400 // STEP  # a day and the night after it (services that cross midnight)
    per_hour = 3600 // STEP
    out = np.zeros((len(days), 24))
    index = {d: k for k, d in enumerate(days)}
    busy, waiting = np.zeros((len(days), bins + 1)), np.zeros((len(days), bins + 1))

    def add(grid: np.ndarray, k: int, start: datetime, end: datetime, base: datetime) -> None:
        a = int((start - base).total_seconds() // STEP)
        b = int((end - base).total_seconds() // STEP)
        if 0 <= a < b <= bins:
            grid[k, a] += 1
            grid[k, b] -= 1

    for c in contacts:
        k = index.get(c.arrival.date())
        if k is None:
            continue
        base = datetime(c.arrival.year, c.arrival.month, c.arrival.day)
        if c.service_start is not None and c.service_end is not None:
            add(busy, k, c.service_start, c.service_end, base)
        if c.queue_entry is not None and c.queue_exit is not None:
            add(waiting, k, c.queue_entry, c.queue_exit, base)
    busy, waiting = np.cumsum(busy, axis=1), np.cumsum(waiting, axis=1)
    for k in range(len(days)):
        for hour in range(24):
            span = slice(hour * per_hour, (hour + 1) * per_hour)
            b, w = busy[k, span], waiting[k, span]
            queued = w > 0
            out[k, hour] = float(b[queued].mean()) if queued.sum() >= 30 else float(b.max(initial=0))  # 5 minutes
    return out


def _hours(days: list[date], available: np.ndarray) -> dict[str, str]:
    """Opening hours per weekday: the longest block of clock hours staffed (at least 1.5 agents available: a
    late call after closing does not open the centre) on at least half of that weekday's days; the most common
    window is the default. ``available``: available_agents of ``days``."""
    windows: dict[str, str] = {}
    for wd in dict.fromkeys(WEEKDAYS[d.weekday()] for d in days):
        on = [k for k, d in enumerate(days) if WEEKDAYS[d.weekday()] == wd]
        staffed = [h for h in range(24) if np.mean(available[on, h] >= 1.5) >= 0.5]
        runs: list[list[int]] = []
        for h in staffed:  # the longest block of consecutive staffed hours (late calls after midnight aside)
            if runs and runs[-1][-1] == h - 1:
                runs[-1].append(h)
            else:
                runs.append([h])
        block = max(runs, key=len) if runs else []
        windows[wd] = f"{block[0]:02d}:00-{block[-1] + 1:02d}:00" if block else "closed"
    default = Counter(windows.values()).most_common(1)[0][0]
    return {"default": default, **{wd: w for wd, w in windows.items() if w != default}}


def _mean_interval(values: Any) -> tuple[float | None, float | None]:
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return None, None
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(len(v))
    return float(v.mean()) - half, float(v.mean()) + half


def _rounded(shares: dict[str, float]) -> dict[str, float]:
    """Shares rounded to 6 digits that still sum to 1 (the validator's tolerance): the largest takes the rest."""
    out = {k: round(v, 6) for k, v in shares.items()}
    if out:
        top = max(out, key=lambda k: out[k])
        out[top] = round(1 - sum(v for k, v in out.items() if k != top), 6)
    return out


def _renormalise(mix: dict[str, Any]) -> None:
    """The ``share`` of each spec of a mix, _rounded."""
    for name, share in _rounded({k: v["share"] for k, v in mix.items()}).items():
        mix[name]["share"] = share


# --- the simulator's own contacts, in the same format ---------------------------------------------------------

LOG_DAY0 = datetime(2026, 1, 5)  # a Monday: simulated minute 0 of a horizon starting on Monday


def simulated_log(scenario: Scenario, policy: Any, seed: int = 0, replication: int = 0) -> list[dict[str, str]]:
    """One replication's contacts as rows of the contact-log format (``--format generic`` reads them back):
    what calibrate and backtest need to round-trip. Contacts still in the system at the end are left out; the
    bot stage counts as before the queue (``contained`` when the bot resolved it); the agent column names the
    agent group (the simulator does not track individual agents)."""
    plan = compile_plan(scenario, policy)
    records = simulate(plan, seed=seed, replication=replication, keep_records=True).records
    if records is None:
        return []
    base = LOG_DAY0 + timedelta(days=WEEKDAYS.index(scenario.horizon.start))
    names = {int(Outcome.SERVED): "served", int(Outcome.ABANDONED_QUEUE): "abandoned",
             int(Outcome.BLOCKED): "blocked", int(Outcome.TURNED_AWAY): "blocked",
             int(Outcome.CONTAINED): "contained", int(Outcome.MESSAGE): "abandoned"}
    groups = [g.name for g in plan.groups]
    rows = []
    order = np.argsort(records["arrive"], kind="stable")
    for i in order.tolist():
        outcome = int(records["outcome"][i])
        if outcome == int(Outcome.IN_SYSTEM) or outcome == int(Outcome.CALLBACK):
            continue
        name = names.get(outcome, "left_before_queue")

        def at(minutes: float) -> str:
            return (base + timedelta(minutes=float(minutes))).isoformat(timespec="seconds")

        row = {"arrival": at(records["arrive"][i]), "channel": plan.channels[int(records["channel"][i])],
               "segment": list(scenario.segments)[int(records["segment"][i])],
               "intent": plan.intents[int(records["intent"][i])], "queue_entry": "", "queue_exit": "",
               "outcome": name, "service_start": "", "service_end": "", "agent": ""}
        if records["queued"][i]:
            end, wait, handle = (float(records[k][i]) for k in ("end", "wait", "handle"))
            left = end - handle if name == "served" else end
            row.update(queue_entry=at(left - wait), queue_exit=at(left))
            if name == "served":
                row.update(service_start=at(left), service_end=at(end),
                           agent=groups[int(records["group"][i])] if records["group"][i] >= 0 else "")
        rows.append(row)
    return rows
