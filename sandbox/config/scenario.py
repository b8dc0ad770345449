"""Provides the Scenario model: the world a policy is tried in (demand, customers, intents, bot, agents).

Every field carries its description, default and source here; docs/configuration.md is generated from these
models (``support-sandbox schema --markdown``). Defaults cite ../docs/model.md §Sources; the short form
"(Gartner 2023)" names the source listed there.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Literal, Self, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sandbox.config import limits
from sandbox.config.distributions import Distribution, Exponential, Lognormal
from sandbox.units import Duration, Rate

Probability = Annotated[float, Field(ge=0, le=1)]
NonNegative = Annotated[float, Field(ge=0, le=1e9)]
Money = Annotated[float, Field(ge=0, le=limits.MAX_MONEY)]
Factor = Annotated[float, Field(ge=0, le=limits.MAX_FACTOR)]
Coefficient = Annotated[float, Field(ge=0, le=limits.MAX_COEFFICIENT)]
Headcount = Annotated[int, Field(ge=0, le=limits.MAX_AGENTS)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)]


def whole_days(minutes: float) -> float:
    """A duration that counts days (a review cadence, an update lag): whole days, at least one."""
    if minutes < 1440 or minutes % 1440:
        raise ValueError("should be whole days, at least 1d (e.g. 7d)")
    return minutes


WholeDays = Annotated[Duration, Field(le=limits.MAX_DURATION_MINUTES), AfterValidator(whole_days)]


def _printable(text: str) -> str:
    # Names and descriptions are echoed to terminals: an escape sequence in them would reach it raw.
    bad = next((c for c in text if not c.isprintable() and c not in "\n\t"), None)
    if bad is not None:
        raise ValueError(f"contains the control character {bad!r}; names and descriptions are plain text")
    return text


Text = Annotated[str, Field(max_length=limits.MAX_TEXT), AfterValidator(_printable)]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
Channel = Literal["voice", "chat"]
SHARE_TOLERANCE = 1e-6
_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class Strict(BaseModel):
    """Base of every config model: frozen (safe to share across processes) and unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, **limits.STRICT)


def located(title: str, problems: list[tuple[tuple[str, ...], str]]) -> ValidationError:
    """A validation error whose entries point at keys, for checks that span several fields."""
    return ValidationError.from_exception_data(title, [
        InitErrorDetails(type=PydanticCustomError("consistency", message), loc=loc, input=None)
        for loc, message in problems])


def check_shares(items: dict[str, float], what: str) -> None:
    """Shares of a mix must sum to 1; say by how much they miss so the fix is obvious."""
    total = sum(items.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        parts = " + ".join(f"{k} {v:g}" for k, v in items.items())
        raise ValueError(f"{what} shares must sum to 1, but {parts} = {total:.4g}")


def parse_clock(text: str) -> float:
    """'08:30' → minutes after midnight; '24:00' is allowed as the end of a day."""
    hours, minutes = (int(p) for p in text.split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day (00:00 to 24:00)")
    return hours * 60.0 + minutes


def parse_window(text: str) -> tuple[float, float] | None:
    """'08:00-20:00' → (480, 1200); 'closed' → None."""
    if text.strip().lower() == "closed":
        return None
    match = _HOURS_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not opening hours; write e.g. \"08:00-20:00\" or \"closed\"")
    start = parse_clock(f"{match.group(1)}:{match.group(2)}")
    end = parse_clock(f"{match.group(3)}:{match.group(4)}")
    if end <= start:
        raise ValueError(f"{text!r} closes before it opens (overnight hours: use 00:00-24:00 on both days)")
    return start, end


class Horizon(Strict):
    """How long one replication runs and how results are binned."""

    days: int = Field(1, ge=1, le=limits.MAX_DAYS, description="Simulated days per replication, one history: "
                      "whoever waits or is being served at midnight, the callbacks and the returns carry over, and "
                      "so do the bot's knowledge, a shrinking customer base and a rollout when the scenario and "
                      "policy set them (without those, every day runs under the same rules: the steady-state "
                      "mode, docs/model.md §3a).")
    start: Weekday = Field("monday", description="Weekday of the first simulated day.")
    interval: Literal["15m", "30m", "60m"] = Field(
        "30m", description="Length of a reporting interval (time series, schedules, demand profile)."
    )
    warm_up: Duration = Field(
        0.0, ge=0, description="Simulated before day 1 and left out of every result (for steady-state studies)."
    )
    replications: int = Field(10, ge=1, le=limits.MAX_REPLICATIONS,
                              description="Independent replications (default for runs).")

    @property
    def interval_minutes(self) -> float:
        return float(self.interval.removesuffix("m"))


class Hours(Strict):
    """Human opening hours per weekday. The bot answers around the clock."""

    default: str = Field("08:00-20:00", description='Hours of every weekday not listed, e.g. "08:00-20:00".')
    monday: str | None = Field(None, description='Hours on Mondays, "HH:MM-HH:MM" or "closed".')
    tuesday: str | None = Field(None, description="Hours on Tuesdays.")
    wednesday: str | None = Field(None, description="Hours on Wednesdays.")
    thursday: str | None = Field(None, description="Hours on Thursdays.")
    friday: str | None = Field(None, description="Hours on Fridays.")
    saturday: str | None = Field(None, description="Hours on Saturdays.")
    sunday: str | None = Field(None, description="Hours on Sundays.")
    at_closing: Literal["serve", "clear", "callback"] = Field(
        "serve",
        description="What happens to the queue at closing: the last staff serve it (serve), the customers are "
        "sent away (clear), or they are promised a callback at the next opening (callback). Contacts that "
        "need a human while closed are sent away, or with 'callback' join the callback list.",
    )

    @field_validator("default", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    @classmethod
    def _valid_window(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value)
        return value

    def window(self, weekday: int) -> tuple[float, float] | None:
        """Opening window (minutes after midnight) on weekday 0=Monday…6=Sunday, or None when closed."""
        text = getattr(self, WEEKDAYS[weekday]) or self.default
        return parse_window(text)


class Demand(Strict):
    """How many contacts arrive and when: Poisson within a day, over-dispersed across days."""

    contacts_per_day: float | None = Field(
        None, gt=0, le=limits.MAX_CONTACTS_PER_DAY,
        description="Expected contacts on an average weekday (spread by intraday_profile)."
    )
    rate: Rate | None = Field(None, gt=0, le=limits.MAX_CONTACTS_PER_DAY / 1440,
                              description="A constant arrival rate around the clock, e.g. 200/h "
                              "(for steady-state and Erlang comparisons; ignores the profile).")
    per_interval: list[NonNegative] | None = Field(
        None, max_length=96, description="Expected contacts in each interval of the day (length 24h / interval)."
    )
    intraday_profile: list[NonNegative] | None = Field(
        None, max_length=96,
        description="Relative arrivals per hour of the day (24 values) or per interval; normalised. "
        "Default: the Sun–Thu hourly profile of the Technion 'Anonymous Bank' call centre (Brown et al. 2005).",
    )
    handle_time_profile: list[Annotated[float, Field(gt=0, le=limits.MAX_FACTOR)]] | None = Field(
        None, max_length=96,
        description="Multiplies the handle times of contacts arriving in each hour of the day (24 values) or "
        "interval, as planners forecast AHT per interval (harder calls in the evening, say). Not normalised. "
        "null: the same all day.",
    )
    patience_profile: list[Annotated[float, Field(gt=0, le=limits.MAX_FACTOR)]] | None = Field(
        None, max_length=96,
        description="Multiplies the patience of customers arriving in each hour of the day (24 values) or "
        "interval (callers at lunchtime give up sooner, say). Not normalised. null: the same all day.",
    )
    weekday_factors: dict[Weekday, Factor] = Field(
        default_factory=dict, description="Multiplier of the daily volume per weekday (default 1)."
    )
    busyness_shape: float | None = Field(
        20.0, gt=0, le=1e6,
        description="Shape α of the day-level busyness factor B ~ Gamma(α, rate α), mean 1, which multiplies "
        "a whole day's rates (Avramidis et al. 2004). Anonymous Bank counts give α ≈ 10–30 (model.md). "
        "null: every day has exactly the expected volume.",
    )
    customer_base: Annotated[float, Field(ge=1, le=1e10)] | None = Field(
        None, description="Customers the demand comes from. Churned customers leave it: each day's volume is "
        "multiplied by 1 − (expected churn so far) / this, so later demand, and the value at risk with it, "
        "shrinks. null: the base never shrinks (earlier versions).",
    )

    @model_validator(mode="after")
    def _one_volume(self) -> Self:
        given = [n for n in ("contacts_per_day", "rate", "per_interval") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of contacts_per_day, rate or per_interval"
                             + (f" (got {', '.join(given)})" if given else ""))
        for name in ("per_interval", "intraday_profile"):
            values = getattr(self, name)
            if values is not None and sum(values) <= 0:
                raise ValueError(f"{name} must not be all zeros")
        return self


class ChannelSpec(Strict):
    """A contact channel. Voice holds an agent fully; chats can be held several at a time."""

    share: Probability = Field(description="Share of contacts arriving on this channel.")
    service_level_threshold: Duration = Field(
        ..., ge=0, description="T of the service level: answered within T (voice 20s, chat 60s by convention)."
    )
    handle_time_factor: float = Field(
        1.0, gt=0, le=limits.MAX_FACTOR,
        description="Multiplies the intents' handle times on this channel. Chat sessions run ≈9–10 min "
        "(Comm100 2024–25) against a 6 min voice AHT (APQC), so ≈1.5 for chat.",
    )
    csat_ceiling: Probability = Field(
        0.9, description="Satisfaction of a customer with zero frustration: human CSAT by channel, "
        "chat 0.92, voice 0.88 (Zendesk Benchmark 2015).",
    )
    lines: int | None = Field(
        None, ge=0, le=1_000_000,
        description="Trunk lines (voice) or chat sessions the system can hold: contacts of this channel in the "
        "human stage at once, waiting, being transferred or in conversation (after-contact work needs none). A "
        "contact that finds them all taken gets a busy signal (blocked) before it queues. null: no limit.",
    )


class Segment(Strict):
    """A kind of customer: how patient, how urgent, how much is at stake."""

    share: Probability = Field(description="Share of customers in this segment.")
    patience: Distribution | None = Field(
        default_factory=lambda: Exponential(kind="exponential", mean="2m"),  # type: ignore[call-arg]
        description="Time a customer is willing to wait in the queue, at zero frustration. Default "
        "exponential, mean 2 min (Mandelbaum & Zeltyn 2005). null: never abandons.",
    )
    zero_patience: Probability = Field(
        0.0, description="Share who leave at once unless answered immediately (32% say they tolerate no hold "
        "at all: Velaro 2012, a survey; use with care).",
    )
    priority: int = Field(0, ge=0, le=9, description="Strict queue priority: higher is always served first.")
    head_start: Duration = Field(
        0.0, ge=0, description="FIFO head start: ordered as if they had arrived this much earlier "
        "(Anonymous Bank gives priority customers 1.5m).",
    )
    value_at_risk: Money = Field(
        0.0, description="Money lost if this customer churns (e.g. yearly margin); value_at_risk = Σ churn risk × this."
    )
    intent_mix: dict[Name, Probability] | None = Field(
        None, max_length=limits.MAX_MIX_ENTRIES,
        description="This segment's own mix of intents (shares summing to 1), e.g. {billing_error: 0.4, "
        "order_status: 0.6}: in real data the mix depends on the customer. null: the intents' shares.",
    )
    handle_time_factor: Factor = Field(
        1.0, description="Multiplies the handle times of this segment's contacts (priority customers' calls are "
        "often longer).",
    )

    @field_validator("intent_mix")
    @classmethod
    def _mix_sums_to_one(cls, mix: dict[str, float] | None) -> dict[str, float] | None:
        if mix is not None:
            check_shares(mix, "the")
        return mix


class Estimate(Strict):
    """A rate measured from counts, with its uncertainty: Beta(alpha, beta) × discount. ``support-sandbox
    bot-evidence`` writes these from evaluation counts (k of n: alpha = k + 1, beta = n − k + 1, a uniform
    prior); each replication samples one value (bot.uncertainty), so every KPI's interval carries it."""

    alpha: float = Field(gt=0, le=1e7, description="Beta α: successes + 1.")
    beta: float = Field(gt=0, le=1e7, description="Beta β: failures + 1.")
    discount: float = Field(
        1.0, gt=0, le=1, description="Multiplies the rate: the 'simulated to real' discount for an evaluation "
        "run against simulated customers, who are more cooperative and patient than real ones.",
    )
    source: Text | None = Field(None, description="Where the counts came from (written by bot-evidence).")

    @property
    def mean(self) -> float:
        return self.discount * self.alpha / (self.alpha + self.beta)


Rate_ = Probability | Estimate  # a rate typed as a number, or measured with its uncertainty


def rate(value: float | Estimate) -> float:
    """The point value of a rate: the number, or the mean of an estimate."""
    return value.mean if isinstance(value, Estimate) else value


class IntentBot(Strict):
    """How well the bot copes with one intent. Each rate is a number or an Estimate (counts → Beta)."""

    resolve_with_crm: Rate_ = Field(
        0.45, description="Probability the bot can fully resolve the issue when it reads account/CRM data. "
        "Pooled industry figure 0.45 (Comm100 2026); returns/cancellations 0.58, billing disputes 0.17 "
        "(Gartner 2023).",
    )
    resolve_without_crm: Rate_ | None = Field(
        None, description="The same without account data (default: as with CRM). Transactional intents "
        "(order status, refunds) need the data.",
    )
    wrong_answer: Rate_ = Field(
        0.03, description="On a turn where the bot cannot help, probability it gives a confident wrong answer "
        "that the customer accepts (false containment). Hallucination floor 3%, up to 27% (Vectara 2023).",
    )
    resolve_with_actions: Rate_ | None = Field(
        None, description="The same when the bot may also act on the account (refund, change, cancel: policy "
        "integration.level act); default: as with CRM. Only intents marked account_action gain from it.",
    )
    account_action: bool = Field(
        False, description="Resolving it means changing the account (a refund, an address, a cancellation): "
        "where the policy verifies identity before account actions, the bot does so first.",
    )
    misrecognition: Probability = Field(
        0.0, description="Probability the bot takes this contact for another intent: it answers the wrong question "
        "(it cannot resolve it) and, escalating, routes it to that intent's skill, where an agent without this "
        "intent's skill transfers it (agents.transfer_time, a handoff step). Assumption: 0 by default.",
    )
    mistaken_for: dict[Name, Factor] | None = Field(
        None, max_length=limits.MAX_MIX_ENTRIES, description="The intents it is taken for, as relative weights "
        "(a row of the confusion matrix); default: the other intents in proportion to their shares.",
    )
    turns_to_resolve: float = Field(
        2.0, ge=1, le=30, description="Mean number of turns a resolvable conversation takes (geometric, ≥ 1). "
        "Successful bot conversations last under 2 min (Klarna 2024).",
    )

    @model_validator(mode="after")
    def _access_helps(self) -> Self:
        # Typed numbers only: a measured estimate (bot_evidence) is what it is, and a run uses one level's rate.
        crm = self.resolve_with_crm
        if isinstance(self.resolve_without_crm, float) and isinstance(crm, float) and self.resolve_without_crm > crm:
            raise ValueError("resolve_without_crm cannot exceed resolve_with_crm (account data never hurts)")
        if isinstance(self.resolve_with_actions, float) and isinstance(crm, float) and self.resolve_with_actions < crm:
            raise ValueError("resolve_with_actions cannot be below resolve_with_crm (being allowed to act never "
                             "hurts)")
        return self

    def resolve(self, level: str) -> float | Estimate:
        """Resolution probability at an integration level: none (answers only), read, act."""
        if level == "none" and self.resolve_without_crm is not None:
            return self.resolve_without_crm
        if level == "act" and self.resolve_with_actions is not None:
            return self.resolve_with_actions
        return self.resolve_with_crm


class Intent(Strict):
    """Why the customer gets in touch."""

    share: Probability = Field(description="Share of contacts with this intent.")
    emotional_load: Probability = Field(
        0.1, description="Frustration F₀ the customer arrives with (0 calm … 1 furious). Billing errors and "
        "cancellations carry more (Altman et al. 2021).",
    )
    skill: Name = Field("general", description="Agent skill needed to serve it.")
    handle_time: Distribution = Field(
        default_factory=lambda: Lognormal(kind="lognormal", mean="6m", cv=1.13),  # type: ignore[call-arg]
        description="Agent handle time on voice, before channel, handoff and concurrency factors. Default "
        "lognormal, mean 6 min (APQC median AHT 590 s; ContactBabel 6m21s), cv 1.13 (Anonymous Bank).",
    )
    bot: IntentBot = Field(default_factory=IntentBot, description="The bot's ability on this intent.")
    needs_human: Probability = Field(
        0.0, description="Share of these contacts that need a human whatever the bot could say (a complaint, a "
        "vulnerable customer, a decision only staff may take): the bot cannot resolve them, and keeping them in "
        "the bot, or handing them over late, is a missed escalation.",
    )


class Bot(Strict):
    """The automated assistant (chatbot or voice bot)."""

    turn_time: Distribution = Field(
        default_factory=lambda: Exponential(kind="exponential", mean="45s"),  # type: ignore[call-arg]
        description="Duration of one bot turn (question and answer). Default exponential, mean 45s: two turns "
        "make Klarna's 'under 2 min' (2024).",
    )
    identification: Duration = Field(
        0.0, ge=0, description="An identification-only step before the first turn (like an IVR): time passes, "
        "nothing is resolved. Anonymous Bank VRU step: median 9s.",
    )
    give_up_after: int = Field(
        6, ge=1, le=30, description="Turns after which the bot has nothing more to offer (its own limit)."
    )
    low_confidence_detection: Probability = Field(
        0.5, description="Probability the bot recognises a turn it could not handle (its confidence drops below "
        "its threshold); used by policies that escalate on low confidence. Assumption: no public figure.",
    )
    low_confidence_false_alarm: Probability = Field(
        0.0, description="Probability the bot's confidence drops on a turn where it is in fact getting there; under "
        "a policy that escalates on low confidence, a premature escalation. Assumption: 0 by default.",
    )
    late_escalation: int = Field(
        3, ge=1, le=30, description="A contact that needs a human and reaches one only after this many failed bot "
        "turns counts as a missed (late) escalation.",
    )
    quality: float = Field(
        1.0, ge=0, le=limits.MAX_FACTOR,
        description="Multiplies every intent's resolution probability (capped at 1): a what-if knob for a better or "
        "worse bot.",
    )
    uncertainty: Literal["sample", "mean"] = Field(
        "sample", description="Rates given as estimates (counts → Beta): sample one value per replication, so the "
        "KPIs' confidence intervals include how uncertain the bot's measured quality is; mean: use their means, "
        "as if they were exact numbers.",
    )
    wrong_answers: float = Field(
        1.0, ge=0, le=limits.MAX_FACTOR,
        description="Multiplies every intent's wrong_answer risk (capped at 1): a what-if knob for stale or "
        "hallucinated knowledge.",
    )
    cost_per_conversation: Money = Field(
        0.0, description="Charged for every bot conversation (Salesforce Agentforce: $2, 2024)."
    )
    capacity: int | None = Field(
        None, ge=1, le=limits.MAX_COUNT, description="Most conversations the bot holds at once (model throughput, "
        "a vendor's rate limit, a licence); beyond it a contact overflows to humans or waits, as the policy says "
        "(automation.when_bot_full). null: no limit. Assumption: no public figure; set your deployment's.",
    )
    slowdown_at_capacity: float = Field(
        1.0, ge=0, le=10, description="How much longer a conversation takes when it starts with the bot full: "
        "its turns last (1 + this × share of the capacity in use) as long (1: twice as long when full). Only "
        "with a capacity. Illustrative.",
    )
    cost_per_resolution: Money = Field(
        0.99, description="Charged per conversation that ends contained, including false containment, as vendors "
        "bill 'assumed' resolutions (Intercom Fin: $0.99).",
    )


def fractional_schedule(pieces: Iterable[tuple[float, float, float]]) -> dict[str, int]:
    """A schedule of whole agents from (start, end, agents) pieces of the day in minutes, fractional agents kept
    as agent-minutes: 5.4 agents for an hour are 6 for its first 24 minutes and 5 for the rest (rounded to whole
    minutes; rounding to whole agents instead loses or adds up to half an agent, and near saturation abandonment
    is very sensitive to that)."""
    schedule: dict[str, int] = {}
    last = None
    for a, b, agents in pieces:
        whole = math.floor(agents + 1e-9)
        extra = round((agents - whole) * (b - a))
        for minute, n in ((a, whole + 1), (a + extra, whole)) if 0 < extra < b - a \
                else ((a, whole + (extra >= b - a)),):  # a fraction that rounds to the whole piece
            if n != last:
                schedule[f"{int(minute) // 60:02d}:{int(minute) % 60:02d}"] = n
                last = n
    return schedule


class AgentGroup(Strict):
    """A team of interchangeable agents."""

    skills: list[Name] = Field(min_length=1, max_length=limits.MAX_LIST,
                               description="Intents' skills this group serves.")
    channels: list[Channel] = Field(["voice", "chat"], min_length=1, description="Channels it serves.")
    headcount: Headcount | None = Field(None, description="Agents on duty whenever humans are open.")
    schedule: dict[str, Headcount] | None = Field(
        None, max_length=limits.MAX_LIST,
        description='Agents on duty from each time of day, e.g. {"08:00": 6, "10:00": 12, "17:00": 8} '
        "(only while open; instead of headcount).",
    )
    concurrency: int = Field(3, ge=1, le=10, description="Chats an agent can hold at once (industry 2–4; "
                             "FM Outsource 2016 peak at 5). Voice calls always take the whole agent.")
    concurrency_slowdown: Coefficient = Field(
        0.04, description="Each chat already held lengthens a new chat by this fraction (session +4% with ≥2 "
        "chats: Goes et al. 2018).",
    )
    slowdown_follows_load: bool = Field(
        False, description="Chats slow down with the agent's current load, not the load when they started: with k "
        "chats in conversation each progresses at 1/(1 + concurrency_slowdown·(k − 1)) of its solo speed, "
        "recomputed whenever one of the agent's chats starts or ends (processor sharing, as Erlang-chat models "
        "assume). false: a chat's length is fixed when it starts, × (1 + concurrency_slowdown × slots held).",
    )
    after_contact_work: Duration = Field(
        0.0, ge=0, description="Wrap-up after each contact; the agent slot stays busy (default 0: the default "
        "handle time already includes it, as APQC's AHT does).",
    )
    hourly_cost: Money = Field(
        40.0, description="Fully loaded cost per paid agent hour (≈$40: Iterum Connections 2025).",
    )
    deescalation: Probability = Field(
        0.3, description="Share of a customer's frustration a good human conversation talks down: a served "
        "contact ends with F × (1 − this). The empathy a bot lacks (Crolic et al. 2022); size illustrative, "
        "0: agents do not calm anyone (earlier versions).",
    )
    overflow_after: dict[Name, Annotated[Duration, Field(ge=0, le=limits.MAX_DURATION_MINUTES)]] = Field(
        {}, max_length=limits.MAX_LIST,
        description='Skills this group takes only from contacts that have waited this long, e.g. {"general": "30s"}: '
        "it is an overflow group for them, behind the groups that take them at once (a skill not listed: at "
        "once). The group looks at the head of each such queue (exact when the queue is first come, first "
        "served).",
    )
    shrinkage: float = Field(
        0.0, ge=0, le=0.9,
        description="Share of paid time not available for contacts (breaks, training, meetings, absence). "
        "Headcounts and schedules count agents available for contacts; paid hours are those / (1 − shrinkage). "
        "A typical planning value is 0.30 (Call Centre Helper worked example); the default 0 pays a schedule "
        "as written.",
    )
    availability: float = Field(
        1.0, gt=0, le=1,
        description="Share of the scheduled agents' time they are available for contacts (logged on and not "
        "in other work): fractional in effect, 10 agents at 0.7 take contacts as 7 do, as agent-minutes in each "
        "interval (6.3 agents: 7 for the first 30% of the interval, 6 for the rest). For a roster observed in a "
        "log (support-sandbox calibrate estimates it: about 0.72 on the Anonymous Bank); a planning schedule of "
        "agents available already uses 1 and shrinkage. Paid hours count the scheduled agents.",
    )

    @field_validator("schedule")
    @classmethod
    def _clock_times(cls, schedule: dict[str, int] | None) -> dict[str, int] | None:
        if schedule is None:
            return None
        if not schedule:
            raise ValueError("schedule is empty")
        seen: dict[float, str] = {}
        for clock in schedule:
            if not re.match(r"^\d{1,2}:\d{2}$", clock):
                raise ValueError(f"schedule time {clock!r} is not HH:MM")
            minute = parse_clock(clock)
            if minute in seen:  # "8:00" and "08:00" are one time: keeping either silently loses the other
                raise ValueError(f"schedule times {seen[minute]!r} and {clock!r} are the same time")
            seen[minute] = clock
        return schedule

    @model_validator(mode="after")
    def _one_staffing(self) -> Self:
        if (self.headcount is None) == (self.schedule is None):
            raise ValueError("give exactly one of headcount or schedule")
        unknown = sorted(set(self.overflow_after) - set(self.skills))
        if unknown:
            raise ValueError(f"overflow_after names {', '.join(map(repr, unknown))}, not among the group's skills "
                             f"({', '.join(self.skills)})")
        return self

    def headcount_at(self, minute_of_day: float) -> int:
        """Agents scheduled at a time of day (before opening hours are applied)."""
        if self.headcount is not None:
            return self.headcount
        assert self.schedule is not None
        current = 0
        for clock, count in sorted(self.schedule.items(), key=lambda kv: parse_clock(kv[0])):
            if parse_clock(clock) <= minute_of_day:
                current = count
        return current

    def change_points(self) -> list[float]:
        return [] if self.schedule is None else sorted(parse_clock(c) for c in self.schedule)

    def effective(self, interval: float) -> AgentGroup:
        """This group with ``availability`` applied: a schedule of whole agents whose agent-minutes in each
        piece of an interval (between schedule changes) are the scheduled agents × availability, the fraction
        as the extra agent's first minutes (rounded to whole minutes). Itself when availability is 1."""
        if self.availability >= 1:
            return self
        cuts = sorted({*self.change_points(), *(k * interval for k in range(int(1440 // interval)))})
        schedule = fractional_schedule((a, b, self.headcount_at(a) * self.availability)
                                       for a, b in zip(cuts, [*cuts[1:], 1440.0], strict=True))
        return self.model_copy(update={"headcount": None, "schedule": schedule or {"00:00": 0}})


class CalendarDay(Strict):
    """One day's own inputs (a date known to differ from its weekday's pattern: a holiday, a campaign, or a day
    of a log replayed), on top of the weekday patterns."""

    day: int = Field(ge=1, le=limits.MAX_DAYS, description="Day of the horizon (1: the first).")
    date: Text | None = Field(None, description="The date it stands for (a label in outputs, e.g. 1999-02-08).")
    contacts: Annotated[float, Field(ge=0, le=limits.MAX_CONTACTS_PER_DAY)] | None = Field(
        None, description="Expected contacts that day, instead of contacts_per_day × its weekday factor (needs "
        "demand.contacts_per_day or per_interval; the busyness factor still applies).")
    intraday_profile: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, max_length=96, description="That day's shape over the day (24 hourly or one per interval; "
        "normalised), instead of demand.intraday_profile.")
    exact_counts: bool = Field(
        False, description="Arrivals in each interval exactly as contacts × intraday_profile give them (rounded, "
        "placed at random within the interval), with no Poisson or busyness noise: a day replayed from a log, "
        "whose counts are already one draw of that noise (a backtest); false: Poisson around them.")
    handle_time_factor: Annotated[float, Field(gt=0, le=limits.MAX_FACTOR)] = Field(
        1.0, description="Handle times of contacts arriving that day × this (a day's mean handle-time level).")
    schedules: dict[Name, dict[str, Headcount]] = Field(
        {}, max_length=limits.MAX_AGENT_GROUPS,
        description="That day's roster per agent group, e.g. {'agents': {'08:00': 6, '12:00': 9}}, instead of "
        "the group's headcount or schedule (its availability still applies).")

    @field_validator("date", mode="before")
    @classmethod
    def _date_text(cls, value: object) -> object:
        return str(value) if isinstance(value, datetime.date) else value  # YAML reads 1999-02-08 as a date

    @field_validator("schedules")
    @classmethod
    def _clock_times(cls, schedules: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        for schedule in schedules.values():
            AgentGroup._clock_times(schedule)
        return schedules


class Routing(Strict):
    """Which free agent takes a waiting contact, and which queue a freed agent serves (docs/model.md §5)."""

    agent_selection: Literal["group_order", "longest_idle", "random"] = Field(
        "group_order", description="Who takes a contact when agents of several groups are free: group_order, the "
        "first group in the list with a free agent; longest_idle, the agent idle longest (for chat, among those "
        "holding the fewest chats, the longest at that load); random, an agent at random, so each group in "
        "proportion to its free agents.",
    )
    queue_selection: Literal["priority", "skill_order", "oldest_head"] = Field(
        "priority", description="Which waiting contact a freed agent takes among its queues: priority, the most "
        "urgent head (priority, then waiting time with head starts); skill_order, its group's skills in the order "
        "listed (its own skill first), each on the group's channels in order; oldest_head, the head that has "
        "waited longest, whatever its priority.",
    )


class Agents(Strict):
    """The human side."""

    groups: dict[Name, AgentGroup] = Field(min_length=1, max_length=limits.MAX_AGENT_GROUPS,
                                           description="Agent groups, tried in this order (agents.routing).")
    routing: Routing = Field(default_factory=Routing, description="Routing rules.")
    queue_capacity: int | None = Field(
        None, ge=0, le=1_000_000,
        description="Most contacts waiting at once; more are blocked (busy signal). null: no cap."
    )
    transfer_time: Duration = Field(
        "1m", validate_default=True, ge=0, le=120, description="Agent time to take a contact routed to the wrong "
        "skill (the bot misrecognised its intent) and pass it to the right queue; the customer waits it too. "
        "Illustrative.",
    )


class Frustration(Strict):
    """The frustration model (docs/model.md §Frustration): F in [0, 1], starts at the intent's emotional load.

    These coefficients are calibration choices, not measurements; docs/model.md says what each reproduces.
    """

    failed_turn: Coefficient = Field(0.12, description="Added per bot turn that does not help (× 1 + "
                                     "emotional_failure × the intent's emotional load).")
    emotional_failure: Coefficient = Field(
        1.0, description="η: a failed bot turn adds failed_turn × (1 + η × emotional load): an upset customer "
        "loses patience with a bot faster (Crolic et al., J. Marketing 2022: angry customers penalise chatbots). "
        "Size illustrative; 0: every failure costs the same.",
    )
    repeat_information: Coefficient = Field(
        0.15, description="Added each time the customer must repeat themselves (cold handoff, repeat contact).",
    )
    transfer: Coefficient = Field(0.05, description="Added per transfer from the bot to the queue.")
    ignored_request: Coefficient = Field(0.15, description="Added when a request for a human is refused.")
    per_minute_waiting: Coefficient = Field(0.05, description="Added per minute in the human queue.")
    left_unresolved: Coefficient = Field(
        0.2, description="Added when the customer leaves without a resolution (abandoned, dead end, sent away).",
    )
    patience_coupling: Coefficient = Field(
        0.5, description="β: queue patience is used up at rate exp(β·F), so the abandonment hazard is θ·exp(β·F). "
        "0 turns the coupling off and patience is exactly the segment's distribution (Erlang A).",
    )
    ask_for_human: Coefficient = Field(
        2.0, description="κ: after a failed turn the customer asks for a human with probability 1 − exp(−κ·F) "
        "(at F = 0.5: 63%; 56–70% prefer a human, surveys in model.md).",
    )
    quit_bot: Coefficient = Field(
        0.3, description="κq: after a failed turn the customer gives up on the bot with probability 1 − exp(−κq·F).",
    )


class Churn(Strict):
    """Defection probabilities by outcome (SQM Group 2022), scaled by frustration (docs/model.md)."""

    resolved_first_contact: Probability = Field(0.05, description="Resolved by the first party who handled it.")
    resolved_after_repeat: Probability = Field(
        0.09, description="Resolved after a transfer, callback or repeat contact."
    )
    unresolved: Probability = Field(0.25, description="Left without a (real) resolution.")


class Satisfaction(Strict):
    """How a contact's resolution, effort and emotion become a satisfied rating (docs/model.md §Satisfaction).

    P(satisfied) = channel CSAT × (1 if resolved else ``unresolved``) × (1 − ``per_extra_step``)^steps × (1 − F).
    With ``unresolved`` 1 and ``per_extra_step`` 0, ``survey_csat`` is the earlier CSAT × (1 − F)."""

    unresolved: Probability = Field(
        0.2, description="Satisfied share of a customer left without a resolution (abandoned, dead end, blocked, "
        "sent away, a wrong answer found out), relative to a resolved one at the same effort and emotion. "
        "Illustrative: SQM Group's +1 pp FCR ↔ +1 pp CSAT implies unresolved customers are rarely satisfied.",
    )
    per_extra_step: Probability = Field(
        0.15, description="Relative loss of satisfaction per extra step: a repeat contact, a bot-to-human "
        "transfer, having to repeat information (SQM Group, widely quoted: each repeat contact ≈ −15% CSAT).",
    )
    misled: Coefficient = Field(
        0.3, description="Frustration added when a believed wrong answer is found out: the customer who comes "
        "back starts from it, and churn counts it (illustrative; see Moffatt v. Air Canada, 2024). The journey "
        "`csat` of an issue that ends in a found-out wrong answer is 0 (nobody who acted on a wrong answer rates "
        "the journey satisfied); the post-contact `survey_csat` believes it.",
    )


class Attack(Strict):
    """One kind of adversarial session (OWASP Top 10 for LLM Applications 2025): how often it comes and how
    often it works. The rates are illustrative (no public base rates exist); set them from your own fraud data."""

    share: Probability = Field(0.0, description="Share of all contacts that are this attack (0: none).")
    bot_success: Probability = Field(
        0.5, description="Probability it works on a bot that has the access it needs and no guardrail catches it "
        "(prompt injection, social engineering). Illustrative.",
    )
    agent_success: Probability = Field(
        0.05, description="Probability it works on a human agent (trained, following a verification script): "
        "lower than a bot's. Illustrative.",
    )
    cost: Money = Field(
        500.0, description="Loss per incident (fraud loss, remediation). Illustrative unless the kind says "
        "otherwise.",
    )


class AccountTakeover(Attack):
    """Account takeover by social engineering."""


class RefundFraud(Attack):
    """A refund or credit not owed."""

    cost: Money = Field(150.0, description="The refund asked for (illustrative); a bot loses at most the "
                        "policy's refund_limit.")


class DataExtraction(Attack):
    """Another customer's data, extracted by prompt injection."""

    cost: Money = Field(173.0, description="IBM Cost of a Data Breach 2024: $173 per customer-PII record; one "
                        "record per incident.")


class Security(Strict):
    """Adversarial sessions by kind; they arrive like other contacts (channel, segment, intent mix), try the bot
    and then the human agents, and count as incidents where they work (docs/model.md §Security)."""

    account_takeover: AccountTakeover = Field(
        default_factory=AccountTakeover, description="Talk the bot or an agent into changing someone else's "
        "account (needs the bot to act; OWASP LLM06 Excessive Agency).",
    )
    refund_fraud: RefundFraud = Field(
        default_factory=RefundFraud, description="Obtain a refund or credit not owed (needs the bot to act).",
    )
    data_extraction: DataExtraction = Field(
        default_factory=DataExtraction, description="Extract another customer's data by prompt injection (needs "
        "the bot to read accounts; OWASP LLM01, LLM02).",
    )

    KINDS: ClassVar[tuple[str, ...]] = ("account_takeover", "refund_fraud", "data_extraction")
    NEEDS: ClassVar[dict[str, str]] = {"account_takeover": "act", "refund_fraud": "act", "data_extraction": "read"}

    @model_validator(mode="after")
    def _shares(self) -> Self:
        if sum(self.attack(k).share for k in self.KINDS) > 1:
            raise ValueError("the attack shares add up to more than 1")
        return self

    def attack(self, kind: str) -> Attack:
        return cast(Attack, getattr(self, kind))


class RepeatContacts(Strict):
    """Customers who come back: after abandoning, or after a wrong answer they believed."""

    after_abandonment: Probability = Field(
        0.0, description="Probability an abandoning customer tries again (assumption; 0 = Erlang A without redials).",
    )
    abandonment_delay: Distribution = Field(
        default_factory=lambda: Exponential(kind="exponential", mean="30m"),  # type: ignore[call-arg]
        description="Time until that retry.",
    )
    after_false_containment: Probability = Field(
        0.5, description="Probability a wrong answer brings the customer back (ρ; a telecom audit saw 78% "
        "containment fall to 41% once 7-day repeats were counted).",
    )
    false_containment_delay: Distribution = Field(
        default_factory=lambda: Exponential(kind="exponential", mean="4h"),  # type: ignore[call-arg]
        description="Time until the wrong answer is discovered and the customer returns (assumption).",
    )
    after_refused: Probability = Field(
        0.0, description="Probability a customer who got a busy signal (blocked) or was turned away (closed) tries "
        "again, after abandonment_delay (assumption; 0: never, as earlier versions).",
    )
    max_returns: int = Field(
        1, ge=1, le=5, description="How often one customer may come back about one issue within the horizon: each "
        "repeat that ends unresolved (abandoned, or a believed wrong answer found out) may bring another, as upset "
        "as they left plus the retelling. 1: once, as earlier versions.",
    )
    carry_frustration: bool = Field(
        True, description="A repeat contact starts as upset as the customer left (a found-out wrong answer adds "
        "satisfaction.misled), plus retelling the story: angrier each time. false: from the intent's emotional "
        "load plus the retelling, as earlier versions did.",
    )
    same_issue: bool = Field(
        True, description="A repeat contact brings the same issue: the bot can solve it only if it could the "
        "first time (a bot that gave a wrong answer does not know the right one on the retry). false draws "
        "it anew, as earlier versions did.",
    )


class Knowledge(Strict):
    """Bot knowledge that goes stale (docs/model.md §3a): facts change, the bot keeps answering from the old ones
    until its content is updated. Shape from the reference notes (Poisson changes, wrong answers with probability
    q until an update after lag L); no published default exists for r, q or L, so the values here are
    illustrative and off by default."""

    changes_per_week: NonNegative | dict[Name, NonNegative] = Field(
        0.0, description="Knowledge changes (a price, a policy, a product) per intent per week, at random (Poisson; "
        "one number for every intent, or per intent). Scheduled ones are events of kind knowledge_change. 0: none.",
    )
    stale_wrong_answer: Probability = Field(
        0.3, description="q: while an intent's knowledge is stale, this share of the issues the bot would have "
        "resolved it cannot resolve any more, and on a turn that does not help it gives a confident wrong answer "
        "with at least this probability (illustrative).",
    )
    update_lag: WholeDays | None = Field(
        None, description="L without a feedback loop: the content is refreshed this long after a change (a routine "
        "update, e.g. 28d). null: never (launch and leave); a policy's improvement reviews fix it sooner.",
    )

    def rate(self, intent: str) -> float:
        if isinstance(self.changes_per_week, dict):
            return self.changes_per_week.get(intent, 0.0)
        return self.changes_per_week


class Shock(Strict):
    """When an event starts and how long it lasts."""

    day: int = Field(ge=1, le=limits.MAX_DAYS, description="Day of the horizon it starts on (1: the first; a day "
                     "after the horizon's last has no effect, so --days can shorten a run).")
    start: str = Field("00:00", max_length=5, description="Time of day it starts (HH:MM).")
    length: Annotated[Duration, Field(gt=0, le=limits.MAX_DURATION_MINUTES)] = Field(
        "24h", validate_default=True, description="How long it lasts (it may run into the next days).")

    @field_validator("start")
    @classmethod
    def _clock(cls, text: str) -> str:
        if not re.match(r"^\d{1,2}:\d{2}$", text):
            raise ValueError("should be a time of day as HH:MM, e.g. 09:30")
        parse_clock(text)
        return text

    def window(self) -> tuple[float, float]:
        """[from, to) in minutes since the start of day 1."""
        begin = (self.day - 1) * 1440.0 + parse_clock(self.start)
        return begin, begin + self.length


class DemandSurge(Shock):
    """More contacts than forecast: a storm, an outage elsewhere, a marketing e-mail."""

    kind: Literal["demand_surge"]
    factor: Annotated[float, Field(gt=0, le=limits.MAX_FACTOR)] = Field(
        1.5, description="Arrivals are multiplied by this while it lasts (overlapping surges multiply).")


class BotOutage(Shock):
    """The bot is down: every contact that arrives meanwhile goes straight to the human queue."""

    kind: Literal["bot_outage"]


class AgentAbsence(Shock):
    """Agents missing at short notice (sickness, a system outage on the agents' side)."""

    kind: Literal["agent_absence"]
    groups: list[Name] = Field([], max_length=limits.MAX_AGENT_GROUPS,
                               description="Groups affected (empty: every group).")
    share: Probability = Field(0.2, description="Share of the scheduled agents absent while it lasts (rounded).")


class KnowledgeChange(Strict):
    """A scheduled change of facts (a price change on day 5): the named intents' bot knowledge is stale from
    that day until it is updated (knowledge.update_lag, or a policy's improvement reviews)."""

    kind: Literal["knowledge_change"]
    day: int = Field(ge=1, le=limits.MAX_DAYS, description="Day of the horizon it takes effect (1: the first).")
    intents: list[Name] = Field(min_length=1, max_length=limits.MAX_MIX_ENTRIES, description="Intents it affects.")


Event = Annotated[DemandSurge | BotOutage | AgentAbsence | KnowledgeChange, Field(discriminator="kind")]


class Scenario(Strict):
    """The world a policy is tried in."""

    schema_: Text | None = Field(None, alias="$schema", description="Optional JSON Schema link for editors.")
    name: Text = Field(description="Display name.")
    description: Text = Field("", description="What this scenario represents and where its numbers come from.")
    horizon: Horizon = Field(default_factory=Horizon, description="Run length, intervals, replications.")
    hours: Hours = Field(default_factory=Hours, description="Human opening hours.")
    demand: Demand = Field(description="Arrival volume and pattern.")
    channels: dict[Channel, ChannelSpec] = Field(min_length=1, description="Channel mix.")
    segments: dict[Name, Segment] = Field(min_length=1, max_length=limits.MAX_MIX_ENTRIES,
                                          description="Customer segments.")
    intents: dict[Name, Intent] = Field(min_length=1, max_length=limits.MAX_MIX_ENTRIES,
                                        description="Contact reasons.")
    bot: Bot = Field(default_factory=Bot, description="The automated assistant.")
    bot_evidence: Text | None = Field(
        None, description="A bot-evidence file (written by support-sandbox bot-evidence) whose per-intent bot "
        "rates replace the ones written here; a relative path is read from this file's folder (with --set, from the "
        "working directory). Read when the scenario is read from a file; --set of a rate still wins.",
    )
    agents: Agents = Field(description="Agent groups, schedules and the queue cap.")
    frustration: Frustration = Field(default_factory=Frustration, description="Frustration coefficients.")
    churn: Churn = Field(default_factory=Churn, description="Churn probabilities by outcome.")
    satisfaction: Satisfaction = Field(default_factory=Satisfaction,
                                       description="How outcome, effort and emotion make CSAT.")
    security: Security = Field(default_factory=Security, description="Adversarial sessions (none by default).")
    repeat_contacts: RepeatContacts = Field(default_factory=RepeatContacts, description="Retries and returns.")
    knowledge: Knowledge = Field(default_factory=Knowledge, description="Bot knowledge that goes stale.")
    events: list[Event] = Field([], max_length=limits.MAX_LIST, description="Shocks on given days: demand_surge, "
                                "bot_outage, agent_absence, knowledge_change (several may overlap).")
    calendar: list[CalendarDay] = Field(
        [], max_length=limits.MAX_DAYS, description="Days with their own volume, profile, handle-time level or "
        "roster (a day not listed follows its weekday's pattern).")

    @field_validator("channels", "segments", "intents")
    @classmethod
    def _shares_sum_to_one(cls, value: dict[str, ChannelSpec | Segment | Intent]) -> dict:
        check_shares({k: v.share for k, v in value.items()}, "the")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """Checks across sections, each reported at the key to fix."""
        problems: list[tuple[tuple[str, ...], str]] = []
        interval = self.horizon.interval_minutes
        per_day = int(1440 / interval)
        for name in ("per_interval", "intraday_profile", "handle_time_profile", "patience_profile"):
            values = getattr(self.demand, name)
            allowed = (per_day,) if name == "per_interval" else (24, per_day)
            if values is not None and len(values) not in allowed:
                problems.append((("demand", name), f"has {len(values)} values; a {self.horizon.interval} interval "
                                 f"needs {' or '.join(map(str, sorted(set(allowed))))}"))
        problems += self._work_problems()
        served = {(s, c) for g in self.agents.groups.values() for s in g.skills for c in g.channels}
        for intent_name, intent in self.intents.items():
            missing = [c for c in self.channels if (intent.skill, c) not in served]
            if missing:
                problems.append((("intents", intent_name, "skill"), f"no agent group serves skill {intent.skill!r} "
                                 f"on {' or '.join(missing)}"))
        for intent_name, intent in self.intents.items():
            for other in intent.bot.mistaken_for or {}:
                if other not in self.intents or other == intent_name:
                    why = "is this intent itself" if other == intent_name else "is not an intent of this scenario"
                    problems.append((("intents", intent_name, "bot", "mistaken_for", other), why))
            if intent.bot.mistaken_for is not None and not sum(intent.bot.mistaken_for.values()) > 0:
                problems.append((("intents", intent_name, "bot", "mistaken_for"), "needs a weight above 0"))
            if intent.bot.misrecognition > 0 and len(self.intents) == 1:
                problems.append((("intents", intent_name, "bot", "misrecognition"), "needs another intent to take "
                                 "the contact for"))
        for k, event in enumerate(self.events):
            if isinstance(event, AgentAbsence):
                key, names, known, what = "groups", event.groups, set(self.agents.groups), "an agent group"
            elif isinstance(event, KnowledgeChange):
                key, names, known, what = "intents", event.intents, set(self.intents), "an intent"
            else:
                continue
            problems += [(("events", k, key), f"{name!r} is not {what} of this scenario")  # type: ignore[misc]
                         for name in names if name not in known]
        seen_days: set[int] = set()
        where: list[tuple[tuple[Any, ...], str]] = []  # key paths with list indices
        for k, entry in enumerate(self.calendar):
            if entry.day in seen_days:
                where.append((("calendar", k, "day"), f"day {entry.day} is listed twice"))
            seen_days.add(entry.day)
            where += [(("calendar", k, "schedules", name), "is not an agent group of this scenario")
                      for name in entry.schedules if name not in self.agents.groups]
            if entry.contacts is not None and self.demand.rate is not None:
                where.append((("calendar", k, "contacts"), "needs demand.contacts_per_day or per_interval "
                              "(demand.rate sets the volume of every day)"))
            profile = entry.intraday_profile
            if profile is not None and len(profile) not in (24, per_day):
                needs = " or ".join(map(str, sorted({24, per_day})))
                where.append((("calendar", k, "intraday_profile"), f"has {len(profile)} values; a "
                              f"{self.horizon.interval} interval needs {needs}"))
            elif profile is not None and not sum(profile) > 0:
                where.append((("calendar", k, "intraday_profile"), "needs a value above 0"))
        problems += where  # type: ignore[arg-type]
        for segment_name, segment in self.segments.items():
            problems += [(("segments", segment_name, "intent_mix", name), "is not an intent of this scenario")
                         for name in segment.intent_mix or {} if name not in self.intents]
        if isinstance(self.knowledge.changes_per_week, dict):
            for name in self.knowledge.changes_per_week:
                if name not in self.intents:
                    problems.append((("knowledge", "changes_per_week", name), "is not an intent of this scenario"))
        if problems:
            raise located(type(self).__name__, problems)
        return self

    def busiest_day_contacts(self) -> float:
        """Expected contacts on the busiest weekday (before the day-level busyness factor)."""
        d = self.demand
        daily = d.contacts_per_day or (d.rate or 0) * 1440 or sum(d.per_interval or [])
        factors = list(d.weekday_factors.values()) + ([1.0] if len(d.weekday_factors) < len(WEEKDAYS) else [])
        return max([daily * max(factors), *(e.contacts for e in self.calendar if e.contacts is not None)])

    def _work_problems(self) -> list[tuple[tuple[str, ...], str]]:
        """Refuse work that cannot finish in reasonable time and memory, at the key that sets its size."""
        d = self.demand
        key = next(n for n in ("contacts_per_day", "rate", "per_interval") if getattr(d, n) is not None)
        busiest = self.busiest_day_contacts()
        if busiest > limits.MAX_CONTACTS_PER_DAY:
            where = ("demand", "weekday_factors") if d.weekday_factors and max(d.weekday_factors.values()) > 1 \
                else ("demand", key)
            return [(where, f"the busiest day would have {busiest:,.0f} contacts; at most "
                     f"{limits.MAX_CONTACTS_PER_DAY:,} a day can be simulated")]
        days = self.horizon.days + self.horizon.warm_up / 1440
        total = busiest * days
        if total > limits.MAX_CONTACTS_PER_REPLICATION:
            where = ("horizon", "warm_up") if self.horizon.warm_up > 1440 * self.horizon.days else ("horizon", "days")
            return [(where, f"one replication would simulate about {total:,.0f} contacts; at most "
                     f"{limits.MAX_CONTACTS_PER_REPLICATION:,} (lower the days, the warm-up or the volume)")]
        return []

    @property
    def channel_names(self) -> list[str]:
        return list(self.channels)

    @property
    def segment_names(self) -> list[str]:
        return list(self.segments)

    @property
    def intent_names(self) -> list[str]:
        return list(self.intents)
