"""Provides calibration: a scenario estimated from a real contact log, every cleaning step counted.

A log is read into contacts of the documented format (docs/calibration.md): arrival, segment, intent, queue
entry and exit, outcome, service start and end, agent. The built-in mapping ``technion`` reads the Technion
"Anonymous Bank" call log (Brown et al. 2005; SEELab, Technion); ``generic`` reads a CSV with the format's own
columns. From the cleaned contacts, each with its sample size and uncertainty:

* arrivals: the expected volume of an average open weekday, the profile over the day, a factor per weekday,
  and the day-to-day over-dispersion (gamma busyness, from Var N = μ + μ²/α on days of one weekday class);
* handle times per intent: lognormal, gamma or a short-call spike mixture with the observed mean (the closest
  by Kolmogorov–Smirnov distance), else empirical, with the share under 10 s (real logs have a spike of very
  short calls);
* patience per segment from censored waits: exponential, θ = abandonments / Σ time in queue (the maximum
  likelihood estimate with every served wait censored), which is also Brown et al.'s P(Ab) / E[W], or a Weibull
  when the likelihood ratio says the hazard is not flat; the Kaplan–Meier survival; the share that leaves
  almost at once (within 2 s);
* agents: the roster (distinct agents seen serving) per half hour, averaged over the main days, as the
  schedule, and its availability (busy over on duty while someone waited, then fitted so that the days
  simulated with their own inputs lose as many contacts as they did).

What cannot be estimated from a log (the bot, costs, churn) keeps the model's defaults, and the scenario says so.
"""

from __future__ import annotations

import copy
import csv
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from sandbox.config import limits
from sandbox.config.policy import Policy
from sandbox.config.scenario import WEEKDAYS, Scenario, fractional_schedule
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
    """A log that cannot be read at all (no rows, wrong columns); the message says why, and where when it can."""

    def __init__(self, message: str, line: int | None = None, column: str = ""):
        super().__init__(message)
        self.line, self.column = line, column


class Unreadable(ValueError):
    """A value of one column of one row that cannot be read."""

    def __init__(self, column: str, value: str, line: int):
        super().__init__(f"{value!r} cannot be read")
        self.column, self.value, self.line = column, value, line


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
    first_unreadable: Unreadable | None = None  # where the first unreadable row was, and why

    def count(self, step: str, n: int = 1) -> None:
        self.steps[step] += n

    def unreadable(self, found: Unreadable) -> None:
        self.count("unreadable row dropped")
        self.first_unreadable = self.first_unreadable or found


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

            def clock(column: str, day: date, row: dict[str, str] = row) -> datetime | None:
                try:
                    return _clock(day, row[column])
                except (ValueError, AttributeError, TypeError):
                    raise Unreadable(column, str(row[column]), reader.line_num) from None
            try:
                key = (row.get("vru+line") or "") + "/" + row["call_id"] + "/" + row["date"]  # ids restart per line
                if key in seen:
                    cleaning.count("duplicate record dropped")
                    continue
                seen.add(key)
                if row["outcome"] == "PHANTOM":
                    cleaning.count("phantom record dropped")
                    continue
                try:
                    day = datetime.strptime(row["date"], "%y%m%d").date()
                except (ValueError, TypeError):
                    raise Unreadable("date", str(row["date"]), reader.line_num) from None
                arrival = clock("vru_entry", day)
                assert arrival is not None
                queued = row["q_start"].strip() not in ("0:00:00", "")
                q_in = _after(arrival, clock("q_start", day), cleaning, "queue entry after midnight") \
                    if queued else None
                q_out = _after(q_in, clock("q_exit", day), cleaning, "queue exit after midnight") \
                    if q_in is not None else None
                served = row["outcome"] == "AGENT"
                s_in = _after(arrival, clock("ser_start", day), cleaning, "service start after midnight") \
                    if served else None
                s_out = _after(s_in, clock("ser_exit", day), cleaning, "service end after midnight") \
                    if s_in is not None else None
            except Unreadable as found:
                cleaning.unreadable(found)
                continue
            except (KeyError, AttributeError, TypeError):  # a short row: columns missing
                cleaning.unreadable(Unreadable("(row)", "a row with missing columns", reader.line_num))
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


@dataclass(frozen=True)
class Mapping:
    """How another export's CSV maps onto the contact-log format (``--columns FILE``): its column names for the
    format's, its outcome words for the format's, its date-time format, its delimiter."""

    columns: dict[str, str] = field(default_factory=dict)  # the format's column → the export's
    outcomes: dict[str, str] = field(default_factory=dict)  # the export's value → one of OUTCOMES
    time_format: str | None = None  # strptime format; None: ISO 8601
    delimiter: str = ","

    KEYS: ClassVar[tuple[str, ...]] = ("columns", "outcomes", "time_format", "delimiter")

    @classmethod
    def of(cls, data: Any) -> Mapping:
        """From a mapping file's data; a LogError says what is wrong with it."""
        if not isinstance(data, dict):
            raise LogError("a column mapping is a YAML mapping with columns, outcomes, time_format, delimiter")
        unknown = sorted(set(data) - set(cls.KEYS))
        if unknown:
            raise LogError(f"unknown key {unknown[0]!r} in the column mapping (known: {', '.join(cls.KEYS)})")
        columns, outcomes = data.get("columns") or {}, data.get("outcomes") or {}
        for key, value in (("columns", columns), ("outcomes", outcomes)):
            if not isinstance(value, dict):
                raise LogError(f"{key}: should be a mapping, e.g. {{arrival: CallStart}}")
        bad = [k for k in columns if k not in (*GENERIC_COLUMNS, "channel")]
        if bad:
            raise LogError(f"columns: {bad[0]!r} is not a column of the contact-log format "
                           f"({', '.join(GENERIC_COLUMNS)}, channel)")
        wrong = [v for v in outcomes.values() if v not in OUTCOMES]
        if wrong:
            raise LogError(f"outcomes: {wrong[0]!r} is not an outcome of the format ({', '.join(OUTCOMES)})")
        delimiter = str(data.get("delimiter", ","))
        if len(delimiter) != 1:
            raise LogError("delimiter: should be one character")
        return cls({str(k): str(v) for k, v in columns.items()}, {str(k): str(v) for k, v in outcomes.items()},
                   None if data.get("time_format") is None else str(data["time_format"]), delimiter)


def read_generic(path: Path, cleaning: Cleaning, mapping: Mapping | None = None) -> list[Contact]:
    """A CSV with the documented columns (ISO date-times; empty where a stage did not happen), or another
    export's through ``mapping``."""
    mapping = mapping or Mapping()
    name = {column: mapping.columns.get(column, column) for column in (*GENERIC_COLUMNS, "channel")}
    contacts: list[Contact] = []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle, delimiter=mapping.delimiter)
        missing = [name[c] for c in GENERIC_COLUMNS if name[c] not in (reader.fieldnames or ())]
        if missing:
            raise LogError(f"no column {', '.join(sorted(missing))} (the format's columns: "
                           f"{', '.join(name[c] for c in GENERIC_COLUMNS)})")

        for row in reader:
            cleaning.read += 1

            def when(column: str, row: dict[str, str] = row) -> datetime | None:
                text = (row[name[column]] or "").strip()
                if not text:
                    return None
                try:
                    return datetime.strptime(text, mapping.time_format) if mapping.time_format \
                        else datetime.fromisoformat(text)
                except ValueError:
                    raise Unreadable(name[column], text, reader.line_num) from None
            try:
                arrival = when("arrival")
                outcome = mapping.outcomes.get(row[name["outcome"]], row[name["outcome"]])
                if arrival is None:
                    raise Unreadable(name["arrival"], "", reader.line_num)
                if outcome not in OUTCOMES:
                    raise Unreadable(name["outcome"], str(row[name["outcome"]]), reader.line_num)
                contact = Contact(arrival, row[name["segment"]] or "all", row[name["intent"]] or "general",
                                  when("queue_entry"), when("queue_exit"), outcome, when("service_start"),
                                  when("service_end"), row[name["agent"]] or None)
            except Unreadable as found:
                cleaning.unreadable(found)
                continue
            except TypeError:  # a short row: columns missing
                cleaning.unreadable(Unreadable("(row)", "a row with missing columns", reader.line_num))
                continue
            if (contact.wait or 0) < 0 or (contact.handle or 0) < 0:
                cleaning.count("negative duration dropped")
                continue
            contacts.append(contact)
    return contacts


def read_log(path: Path, fmt: Format, cleaning: Cleaning, mapping: Mapping | None = None) -> list[Contact]:
    return read_technion(path, cleaning) if fmt == "technion" else read_generic(path, cleaning, mapping)


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
    staffing: Staffing  # the roster per half hour of each of ``days``, and its availability as measured


def _moments(minutes: np.ndarray) -> tuple[float, float]:
    mean = float(minutes.mean())
    return mean, min(float(minutes.std(ddof=1)) / mean if len(minutes) > 1 else 0.0, 99.0)


def _lognormal_cdf(minutes: np.ndarray) -> tuple[dict[str, Any], Any]:
    from scipy import stats  # here, not at start-up: importing scipy.stats costs half a second

    mean, cv = _moments(minutes)
    sigma = max(math.sqrt(math.log1p(cv * cv)), 1e-6)
    spec = {"kind": "lognormal", "mean": f"{mean:.3f}m", "cv": round(max(cv, 1e-3), 3)}
    return spec, stats.lognorm(sigma, 0, mean / math.exp(sigma * sigma / 2)).cdf


def _handle_time(minutes: np.ndarray) -> tuple[str, dict[str, Any], float]:
    """The handle-time distribution of ``minutes`` (positive service times): of the lognormal, the gamma and, when
    over 5% are under 10 s, a mixture of that short spike and a lognormal of the rest, each with the observed mean
    (and cv; the simulated workload equals the observed one), the one closest by Kolmogorov–Smirnov distance;
    if even that is over 0.05 away with 200 or more times, the empirical distribution (100 quantiles).
    (name, spec, KS distance)."""
    from scipy import stats

    mean, cv = _moments(minutes)
    candidates: list[tuple[str, dict[str, Any], Any]] = [("lognormal", *_lognormal_cdf(minutes))]
    if cv > 0:
        shape = 1 / (cv * cv)
        candidates.append(("gamma", {"kind": "gamma", "mean": f"{mean:.3f}m", "cv": round(cv, 3)},
                           stats.gamma(shape, 0, mean / shape).cdf))
    short = minutes < SHORT_CALL
    if 0.05 <= short.mean() < 0.95 and short.sum() >= 2 and (~short).sum() >= 2:
        (a, cdf_a), (b, cdf_b), w = _lognormal_cdf(minutes[short]), _lognormal_cdf(minutes[~short]), short.mean()
        candidates.append(("spike mixture", {"kind": "mixture", "components": [
            {"weight": round(float(w), 4), "distribution": a}, {"weight": round(1 - float(w), 4), "distribution": b}]},
            lambda x: w * cdf_a(x) + (1 - w) * cdf_b(x)))
    scored = [(float(stats.kstest(minutes, cdf).statistic), name, spec) for name, spec, cdf in candidates]
    ks, name, spec = min(scored, key=lambda item: item[0])
    if ks > 0.05 and len(minutes) >= 200:
        values = np.quantile(minutes, (np.arange(100) + 0.5) / 100)
        values *= mean / values.mean()  # the observed mean exactly
        spec = {"kind": "empirical", "values": [f"{v:.3f}m" for v in values]}
        name = f"empirical (the closest fit, {name}, was KS {ks:.3f})"
        ks = float(stats.kstest(minutes, lambda x: np.searchsorted(np.sort(values), x, side="right") / 100).statistic)
    return name, spec, ks


HEAD_STARTS = np.arange(0, 10.01, 0.25)  # minutes: the head starts tried


def head_start(contacts: list[Contact], ahead: str) -> tuple[float, float, float, int] | None:
    """The FIFO head start of segment ``ahead`` that best explains who was served first: at each service start
    with callers of both segments waiting, the one served should be the first by entry time − head start (the
    head start for ``ahead``, 0 for the rest). The head start (in HEAD_STARTS) right most often, with its share
    right, FIFO's share right, and the service starts judged; None when too few were contested."""
    by_day: dict[date, list[Contact]] = defaultdict(list)
    for c in contacts:
        if c.queue_entry is not None and c.queue_exit is not None:
            by_day[c.arrival.date()].append(c)
    right = np.zeros(len(HEAD_STARTS))
    judged = 0
    for day in by_day.values():
        entry = np.array([(c.queue_entry - c.arrival.replace(hour=0, minute=0, second=0)).total_seconds() / 60
                          for c in day if c.queue_entry is not None])
        leave = entry + np.array([c.wait or 0.0 for c in day])
        first = np.array([c.segment == ahead for c in day])
        for s in np.flatnonzero([c.outcome == "served" for c in day]).tolist():
            waiting = np.flatnonzero((entry <= leave[s]) & (leave >= leave[s]))
            if first[waiting].all() or not first[waiting].any():
                continue  # only one segment waiting: the order says nothing of a head start
            judged += 1
            keys = entry[waiting][None, :] - HEAD_STARTS[:, None] * first[waiting][None, :]
            right += waiting[np.argmin(keys, axis=1)] == s
    if judged < 30:
        return None
    best = int(np.argmax(right))
    return float(HEAD_STARTS[best]), float(right[best] / judged), float(right[0] / judged), judged


def _weibull(waits: np.ndarray, left: np.ndarray) -> tuple[float, float, float]:
    """Maximum-likelihood Weibull patience from waits that ended in abandonment (``left``) or were censored by
    service: (shape, scale in minutes, log-likelihood gain over the exponential)."""
    from scipy import optimize

    w = np.maximum(waits, 1e-6)
    events = w[left]
    if len(events) < 10:
        return 1.0, float(w.sum() / max(len(events), 1)), 0.0

    def loglik(log_shape: float) -> tuple[float, float]:
        k = math.exp(log_shape)
        scale = float((np.sum(w ** k) / len(events)) ** (1 / k))  # the scale's own maximum for this shape
        return float(len(events) * math.log(k / scale) + (k - 1) * np.sum(np.log(events / scale))
                     - np.sum((w / scale) ** k)), scale

    found = optimize.minimize_scalar(lambda x: -loglik(x)[0], bounds=(math.log(0.2), math.log(5)), method="bounded")
    shape = math.exp(float(found.x))
    best, scale = loglik(float(found.x))
    return shape, scale, best - loglik(0.0)[0]


def _kaplan_meier(waits: np.ndarray, left: np.ndarray) -> Any:
    """The Kaplan–Meier survival of patience (abandonment the event, service the censoring), as a function."""
    order = np.lexsort((~left, waits))  # at equal times the events first: a censored wait is still at risk then
    w, e = waits[order], left[order]
    at_risk = len(w) - np.arange(len(w))
    factors = np.where(e, 1 - 1 / at_risk, 1.0)
    survival = np.cumprod(factors)

    def at(t: float) -> float:
        k = int(np.searchsorted(w, t, side="right"))
        return float(survival[k - 1]) if k else 1.0
    return at


def _busyness(totals: list[int]) -> float | None:
    """Gamma shape α of the day factor from the day totals of one weekday class (None: no over-dispersion)."""
    if len(totals) < 3:
        return None
    mu, var = float(np.mean(totals)), float(np.var(totals, ddof=1))
    return round(mu * mu / (var - mu), 1) if var > mu else None


def offered_contacts(path: Path, fmt: Format, dates: tuple[date, date] | None, cleaning: Cleaning,
                     option: str = "--dates", mapping: Mapping | None = None) -> list[Contact]:
    """The log's contacts that were offered to agents on ``dates`` (every step counted in ``cleaning``)."""
    contacts = read_log(path, fmt, cleaning, mapping)
    if dates is not None:
        kept = [c for c in contacts if dates[0] <= c.arrival.date() <= dates[1]]
        cleaning.count(f"outside {option} dropped", len(contacts) - len(kept))
        contacts = kept
    offered = [c for c in contacts if c.outcome not in ("left_before_queue", "contained")]
    cleaning.count("left in the VRU, IVR or bot before reaching the queue (not offered to agents)",
                   len(contacts) - len(offered))
    if not offered:
        first = cleaning.first_unreadable
        if first is not None and not contacts:  # nothing could be read: say where the first row failed
            raise LogError(f"no row could be read; the first, at line {first.line}: {first.column} "
                           f"{first.value!r} is not a value of that column", first.line, first.column)
        raise LogError("no contacts left to estimate from" + (f" in {option}" if dates is not None else ""))
    return offered


def calibrate(path: Path, fmt: Format = "technion", dates: tuple[date, date] | None = None,
              name: str | None = None, calendar: bool = False, mapping: Mapping | None = None) -> Calibration:
    """A scenario (as data, validated) estimated from a contact log, with the cleaning and the estimates;
    ``calendar``: with the log's own days (with_calendar); ``mapping``: another export's columns (generic)."""
    cleaning = Cleaning()
    contacts = offered_contacts(path, fmt, dates, cleaning, mapping=mapping)
    found = estimate_scenario(contacts, cleaning, path.name, fmt, name)
    return with_calendar(found, contacts) if calendar else found


def with_calendar(found: Calibration, contacts: list[Contact]) -> Calibration:
    """The calibrated scenario over the log's own days, from its first to its last: a calendar entry per date with
    that day's contacts per hour (replayed exactly), roster per half hour and handle-time level (day_scenario's
    inputs), on top of the weekday patterns (which a date without contacts keeps). What a backtest gives each
    test day, for every day: "reproduce last month"."""
    by_day: dict[date, list[Contact]] = defaultdict(list)
    for c in contacts:
        by_day[c.arrival.date()].append(c)
    days = sorted(by_day)
    handles = [c.handle for c in contacts if c.outcome == "served" and c.handle]
    training_handle = float(np.mean(handles)) if handles else 0.0
    scenario = found.scenario
    span = (days[-1] - days[0]).days + 1
    if span > limits.MAX_DAYS:
        raise LogError(f"--calendar: the log spans {span} days; at most {limits.MAX_DAYS} can be simulated (pick "
                       "some with --dates)")
    scenario["horizon"] = {**scenario["horizon"], "days": span, "start": WEEKDAYS[days[0].weekday()]}
    entries = []
    for k, day in enumerate(days):
        entry = day_scenario(scenario, day, by_day[day], GIVEN, training_handle, found.staffing.roster[k])
        entries.append({**entry["calendar"][0], "day": (day - days[0]).days + 1})
    scenario["calendar"] = entries
    Scenario.model_validate(scenario)
    return found


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
            mean, cv = float(times.mean()), float(times.std(ddof=1)) / float(times.mean())
            short = float(np.mean(times < SHORT_CALL))
            kind, spec["handle_time"], ks = _handle_time(times)
            estimates[f"handle_time.{intent}"] = Estimate(mean, len(times), *_mean_interval(times), note=(
                f"{kind}: KS {ks:.3f}; cv {cv:.2f}, {short:.0%} under 10 s"))
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
        # Past the at-once leavers, one set of data for every fit: the waits from 2 s on (a served caller
        # answered within 2 s says nothing of patience), as the simulator applies patience after zero_patience.
        later = [c for c in queued if (c.wait or 0.0) > AT_ONCE]
        waits = np.array([(c.wait or 0.0) - AT_ONCE for c in later])
        left = np.array([c.outcome == "abandoned" for c in later], dtype=bool)
        k, exposure = int(left.sum()), float(waits.sum())
        spec = {"share": round(count / len(contacts), 6)}
        if k > 0 and exposure > 0:
            theta = k / exposure
            half = 1.96 / math.sqrt(k)
            shape, scale, gain = _weibull(waits, left)
            survival = _kaplan_meier(waits, left)
            note = (f"{k} abandonments over {exposure:.0f} queue-minutes past the first 2 s (θ = P(Ab)/E[W], Brown "
                    f"et al. 2005); Kaplan–Meier still patient 1/2/5 min past them: "
                    + "/".join(f"{survival(t):.2f}" for t in (1, 2, 5)))
            if gain > 1.92:  # likelihood ratio 3.84 (5%, one degree of freedom): the shape is not 1
                spec["patience"] = {"kind": "weibull", "shape": round(shape, 3), "scale": f"{scale:.3f}m"}
                mean = scale * math.gamma(1 + 1 / shape)
                rng = np.random.default_rng(0)  # the bootstrap's own stream: the same log, the same interval
                means = []
                for _ in range(100):
                    pick = rng.integers(0, len(waits), len(waits))
                    k_b, s_b, _ = _weibull(waits[pick], left[pick])
                    means.append(s_b * math.gamma(1 + 1 / k_b))
                low_mean, high_mean = (float(v) for v in np.percentile(means, [2.5, 97.5]))
                note += (f"; Weibull shape {shape:.2f} (hazard {'falling' if shape < 1 else 'rising'} with the wait; "
                         f"log-likelihood +{gain:.1f} over the exponential), its 1/2/5 min: "
                         + "/".join(f"{math.exp(-(t / scale) ** shape):.2f}" for t in (1, 2, 5)))
                estimates[f"patience.{segment}"] = Estimate(mean, len(queued), low_mean, high_mean,
                                                            note=note + " (interval: 100 bootstrap resamples)")
            else:
                spec["patience"] = {"kind": "exponential", "mean": f"{1 / theta:.3f}m"}
                estimates[f"patience.{segment}"] = Estimate(1 / theta, len(queued), (1 / theta) / (1 + half),
                                                            (1 / theta) / max(1 - half, 1e-9), note=note)
        if queued:
            spec["zero_patience"] = round(at_once / len(queued), 4)
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
    if len(seg_counts) == 2:  # who overtook whom: the head start of the smaller segment
        ahead = min(seg_counts, key=lambda k: seg_counts[k])
        found_start = head_start(contacts, ahead)
        if found_start is not None:
            minutes, agree, fifo, n = found_start
            estimates[f"head_start.{ahead}"] = Estimate(minutes, n, note=(
                f"the served caller was the first by this rule at {agree:.0%} of {n} service starts with both "
                f"segments waiting (first come, first served: {fifo:.0%})"
                + ("; the Anonymous Bank documents 1.5 min" if fmt == "technion" else "")))
            if minutes > 0:
                segments[ahead]["head_start"] = f"{minutes:g}m"

    # The roster per half hour, averaged over the main weekdays, is the schedule; its availability applies.
    found = staffing(contacts, days)
    roster = found.roster[[days.index(d) for d in main]].mean(axis=0)
    schedule = schedule_from(roster, SLOT)
    estimates["agents_peak"] = Estimate(float(roster.max(initial=0)), len(main), note=(
        "distinct agents seen serving in the busiest half hour, the mean over the main days" if found.individual
        else "agents busy while callers waited (the log's agent ids are not individuals), else the most busy "
             "at once; the busiest hour's mean over the main days"))
    hours = _hours(days, (found.roster * found.availability).reshape(len(days), 24, -1).mean(axis=2))
    start_day = WEEKDAYS[days[0].weekday()]
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
                                         "schedule": schedule or {"00:00": 0},
                                         "availability": round(found.availability, 3)}}},
        # The patience above is what callers showed: frustration must not shorten it again.
        "frustration": {"patience_coupling": 0},
        "repeat_contacts": {"after_abandonment": 0, "after_false_containment": 0},  # redials are in the log
    }
    Scenario.model_validate(scenario)  # what is written must load
    calibration = Calibration(scenario, cleaning, estimates, days, found)
    if found.individual:
        measured = found.availability
        fitted, sims = fit_availability(calibration, {d: by_day[d] for d in days}, found, measured)
        estimates["availability"] = Estimate(
            fitted, len(days), note=f"fitted so that the {len(days)} days, each simulated with its own volume, "
            f"roster and handle-time level ({sims} simulated days), lose as many callers as they did; measured "
            f"directly (busy over on duty while callers waited) {measured:.3f}")
        scenario["agents"]["groups"]["agents"]["availability"] = round(float(fitted), 3)
    return calibration


def schedule_from(agents: np.ndarray, slot: float = 60) -> dict[str, int]:
    """A schedule with the agent-minutes of fractional agents per slot of ``slot`` minutes (fractional_schedule)."""
    return fractional_schedule((k * slot, (k + 1) * slot, float(a)) for k, a in enumerate(np.asarray(agents)))


GIVEN = ("volume", "staffing", "aht")
NO_BOT = {"name": "no bot (the log's human stage)", "automation": {"share": 0}}


def day_scenario(base: dict[str, Any], day: date, contacts: list[Contact], given: tuple[str, ...],
                 training_handle: float, roster: np.ndarray) -> dict[str, Any]:
    """A one-day scenario of a logged day (its weekday, the bot off: the log is the human stage) from a
    calibrated scenario, with the day's own observed inputs ``given`` as its calendar entry: ``volume``, its
    contacts and their profile over the day; ``staffing``, its roster per half hour (``roster``, Staffing.roster
    of the day; the calibrated availability applies); ``aht``, its mean handle time over ``training_handle``."""
    scenario = copy.deepcopy(base)
    scenario["horizon"] = {**scenario["horizon"], "days": 1, "start": WEEKDAYS[day.weekday()], "warm_up": "1h"}
    entry: dict[str, Any] = {"day": 1, "date": str(day)}
    if "volume" in given:
        hourly = np.bincount([c.arrival.hour for c in contacts], minlength=24)
        entry.update(contacts=float(len(contacts)), intraday_profile=[float(v) for v in hourly], exact_counts=True)
        scenario["demand"]["busyness_shape"] = None  # the day's volume is known
    if "staffing" in given:
        entry["schedules"] = {"agents": schedule_from(roster, SLOT) or {"00:00": 0}}
    if "aht" in given:
        handles = [c.handle for c in contacts if c.outcome == "served" and c.handle]
        if handles and training_handle > 0:
            entry["handle_time_factor"] = round(float(np.mean(handles)) / training_handle, 4)
    scenario["calendar"] = [entry]
    return scenario


def simulate_days(scenario: dict[str, Any], days: dict[date, list[Contact]], rosters: dict[date, np.ndarray],
                  given: tuple[str, ...], training_handle: float, replications: int,
                  seed: int = 0) -> dict[date, list[dict[str, float]]]:
    """Each logged day simulated on its own (day_scenario): per day, each replication's KPIs. Each day has its
    own replications (streams): with the same ones, every day's simulation noise would be the same draw."""
    policy = Policy.model_validate(NO_BOT)
    out = {}
    for k, (day, contacts) in enumerate(sorted(days.items())):
        plan = compile_plan(Scenario.model_validate(day_scenario(scenario, day, contacts, given, training_handle,
                                                                 rosters[day])), policy)
        out[day] = [simulate(plan, seed=seed, replication=k * replications + r).kpis for r in range(replications)]
    return out


def fit_availability(calibration: Calibration, days: dict[date, list[Contact]], found: Staffing, low: float,
                     replications: int = 5, steps: int = 7) -> tuple[float, int]:
    """The availability at which the days, each simulated with its own volume, roster and handle-time level,
    lose as many contacts as they did (bisection over [0.8 × ``low``, 1] with common random numbers: the
    simulated abandonment falls as availability rises); and the days simulated. The direct measure (``low``)
    is a lower bound in practice: the moments someone waits are those the roster is shortest within its half
    hour, and the roster counts an agent seen once as there all of it."""
    order = sorted(days)
    rosters = {d: found.roster[k] for k, d in enumerate(order)}
    handles = [c.handle for cs in days.values() for c in cs if c.outcome == "served" and c.handle]
    training_handle = float(np.mean(handles)) if handles else 0.0
    observed = sum(c.outcome == "abandoned" for cs in days.values() for c in cs)
    probe = copy.deepcopy(calibration.scenario)  # the calibration's own stays as it is
    groups = probe["agents"]["groups"]

    def lost(availability: float) -> float:
        groups["agents"]["availability"] = round(availability, 4)
        runs = simulate_days(probe, days, rosters, GIVEN, training_handle, replications)
        return sum(float(np.mean([r["abandonment_rate"] * r["offered"] for r in reps])) for reps in runs.values())

    a, b = max(0.8 * low, 0.05), 1.0
    sims = 0
    if lost(b) >= observed:  # even every rostered agent all the time loses more: availability 1
        return 1.0, len(days) * replications
    for _ in range(steps):
        mid = (a + b) / 2
        sims += len(days) * replications
        a, b = (mid, b) if lost(mid) > observed else (a, mid)
    return round((a + b) / 2, 3), sims + len(days) * replications


STEP = 10  # seconds: the grid on which agents busy and callers waiting are counted
SLOT = 30  # minutes: the roster's interval (the agents seen working in each half hour)


@dataclass
class Staffing:
    """Agents on duty per half hour of each day, and the share of their time they were available for contacts."""

    roster: np.ndarray  # [day, slot]: distinct agents seen serving (or, where the agent ids are not individuals,
    #                     the agents busy while callers waited; availability is then 1)
    availability: float  # agent time busy / agent time on duty, over the moments someone waited
    individual: bool  # the agent ids are individuals (never more busy at once than distinct ids)


def _grid(contacts: list[Contact], days: list[date]) -> tuple[np.ndarray, np.ndarray]:
    """Agents busy and contacts waiting on a STEP grid of each day and the night after it ([day, step])."""
    bins = 2 * 86_400 // STEP  # a day and the night after it (services that cross midnight)
    index = {d: k for k, d in enumerate(days)}
    busy, waiting = np.zeros((len(days), bins + 1)), np.zeros((len(days), bins + 1))

    def add(grid: np.ndarray, k: int, start: datetime, end: datetime, base: datetime) -> None:
        a = max(int((start - base).total_seconds() // STEP), 0)  # from midnight: what the day before left over
        b = int((end - base).total_seconds() // STEP)
        if a < b <= bins:
            grid[k, a] += 1
            grid[k, b] -= 1

    for c in contacts:
        arrival_day = datetime(c.arrival.year, c.arrival.month, c.arrival.day)
        # On its own day, and on the next from midnight (a service or a wait the night carries over).
        for base in (arrival_day, arrival_day + timedelta(days=1)):
            k = index.get(base.date())
            if k is None:
                continue
            if c.service_start is not None and c.service_end is not None:
                add(busy, k, c.service_start, c.service_end, base)
            if c.queue_entry is not None and c.queue_exit is not None:
                add(waiting, k, c.queue_entry, c.queue_exit, base)
    return np.cumsum(busy, axis=1), np.cumsum(waiting, axis=1)


def available_agents(contacts: list[Contact], days: list[date]) -> np.ndarray:
    """Agents available in each clock hour of each of ``days`` ([day, hour]), where agent ids do not tell
    individuals: while someone waits, every agent on duty is busy, so the agents busy then are those available;
    in an hour in which nobody waited, the most busy at once (a lower bound)."""
    busy, waiting = _grid(contacts, days)
    per_hour = 3600 // STEP
    out = np.zeros((len(days), 24))
    for k in range(len(days)):
        for hour in range(24):
            span = slice(hour * per_hour, (hour + 1) * per_hour)
            b, w = busy[k, span], waiting[k, span]
            queued = w > 0
            out[k, hour] = float(b[queued].mean()) if queued.sum() >= 30 else float(b.max(initial=0))  # 5 minutes
    return out


def staffing(contacts: list[Contact], days: list[date]) -> Staffing:
    """The roster per half hour (the distinct agents seen serving in it) and the availability: over every moment
    a contact waited, the agents busy over the agents on that half hour's roster (while someone waits, an agent
    who is available is busy; one who is not is logged off, on a break or doing other work). Where the agent
    ids are not individuals (more busy at once than distinct ids, as in the simulator's own logs), the roster is
    the agents busy while contacts waited (available_agents) and the availability 1."""
    busy, waiting = _grid(contacts, days)
    slots = 1440 // SLOT
    seen: list[list[set[str]]] = [[set() for _ in range(slots)] for _ in days]
    index = {d: k for k, d in enumerate(days)}
    for c in contacts:
        k = index.get(c.arrival.date())
        if k is None or c.agent is None or c.service_start is None or c.service_end is None:
            continue
        base = datetime(c.arrival.year, c.arrival.month, c.arrival.day)
        a = (c.service_start - base).total_seconds() / 60 // SLOT
        b = (c.service_end - base).total_seconds() / 60 // SLOT
        for slot in range(max(int(a), 0), min(int(b), slots - 1) + 1):
            seen[k][slot].add(c.agent)
    ids = [len(set().union(*day)) for day in seen]
    if any(busy[k].max(initial=0) > ids[k] for k in range(len(days))):
        return Staffing(np.repeat(available_agents(contacts, days), 60 // SLOT, axis=1), 1.0, False)
    roster = np.array([[len(agents) for agents in day] for day in seen], dtype=float)
    per_slot = SLOT * 60 // STEP
    working = on_duty = 0.0
    for k in range(len(days)):
        for slot in range(slots):
            span = slice(slot * per_slot, (slot + 1) * per_slot)
            queued = waiting[k, span] > 0
            working += float(busy[k, span][queued].sum())
            on_duty += float(queued.sum()) * roster[k, slot]
    return Staffing(roster, float(min(working / on_duty, 1.0)) if on_duty > 0 else 1.0, True)


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
