"""Provides the Policy model: what the support team decides (automation, escalation, handoff, staffing)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from sandbox.config import limits
from sandbox.config.scenario import Channel, Headcount, Money, Name, Probability, Strict, Text, WholeDays
from sandbox.units import Duration


class Gate(Strict):
    """A rollout that advances on evidence (docs/model.md §3a): at the end of every period, the next step of
    the bot's share when the period's abandonment and CSAT allow, the previous one when abandonment breaks the
    floor."""

    steps: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        [0.1, 0.5, 1.0], min_length=1, max_length=20,
        description="Factors of the automation share, in order; the rollout starts at the first.")
    every: WholeDays = Field(
        "7d", validate_default=True, description="Length of a period (whole days): the gate is judged at its end.")
    max_abandonment: Probability = Field(
        0.05, description="Advance only if the period's abandonment_rate (bot or queue) is at most this ...")
    max_csat_drop: Probability = Field(
        0.02, description="... and its journey CSAT fell by less than this against the period before (2 points).")
    roll_back_above: Probability | None = Field(
        None, description="Step back when the period's abandonment_rate is above this (above max_abandonment). "
        "null: never roll back.")

    @model_validator(mode="after")
    def _ordered(self) -> Gate:
        if self.roll_back_above is not None and self.roll_back_above < self.max_abandonment:
            raise ValueError(f"roll_back_above ({self.roll_back_above:g}) is below max_abandonment "
                             f"({self.max_abandonment:g}): a period could both advance and roll back")
        return self


class Automation(Strict):
    """Which contacts the bot gets first."""

    share: Probability | dict[Channel, Probability] = Field(
        0.0, description="Share of contacts offered to the bot first: one number for every channel, or per "
        "channel, e.g. {chat: 0.75, voice: 0.3}. 75% of chats are bot-first in 2025 (Comm100 2026).",
    )
    bypass_intents: list[Name] = Field([], max_length=limits.MAX_LIST,
                                       description="Intents that always go straight to a human.")
    bypass_segments: list[Name] = Field([], max_length=limits.MAX_LIST,
                                        description="Segments that always go straight to a human.")
    bypass_emotional_load: Probability | None = Field(
        None, description="Intents whose emotional_load is at least this go straight to a human (the empathy "
        "gap: billing disputes and cancellations arrive upset and the bot resolves few of them). null: off.",
    )

    ramp: dict[Annotated[str, Field(max_length=10)], Annotated[float, Field(ge=0, le=1)]] = Field(
        {}, max_length=limits.MAX_LIST,
        description="A staged rollout: from each day of the horizon (1: the first), the share above is multiplied "
        "by this, e.g. {1: 0.1, 8: 0.5, 15: 1} (days before the first key: the first value). Empty: the whole "
        "share from day 1 (big bang).",
    )

    gate: Gate | None = Field(
        None, description="A rollout gate instead of a fixed ramp: the share's factor steps up (or back) on the "
        "last period's abandonment and CSAT. null: no gate.",
    )

    when_bot_full: Literal["overflow", "wait"] = Field(
        "overflow", description="A contact that finds the bot at its capacity (scenario bot.capacity): overflow "
        "to the human queue, or wait for a free slot (first come, first served; patience runs as in a queue).",
    )

    @field_validator("ramp")
    @classmethod
    def _days(cls, ramp: dict[str, float]) -> dict[str, float]:
        for key in ramp:
            if not key.isdigit() or not 1 <= int(key) <= limits.MAX_DAYS:
                raise ValueError(f"ramp day {key!r} is not a day of the horizon (1: the first, up to "
                                 f"{limits.MAX_DAYS})")
        return ramp

    @model_validator(mode="after")
    def _one_schedule(self) -> Automation:
        if self.ramp and self.gate is not None:
            raise ValueError("give a ramp or a gate, not both")
        return self

    def ramp_factor(self, day: int) -> float:
        """The ramp's factor on ``day`` (0: the first day of the horizon; before the first step, the first)."""
        if not self.ramp:
            return 1.0
        steps = sorted((int(k), v) for k, v in self.ramp.items())
        return next((v for d, v in reversed(steps) if d <= day + 1), steps[0][1])

    def share_for(self, channel: str) -> float:
        if isinstance(self.share, dict):
            return self.share.get(channel, 0.0)  # type: ignore[call-overload]
        return self.share


class Integration(Strict):
    """What the bot can see and do."""

    level: Literal["none", "read", "act"] = Field(
        "read", description="none: answers only (resolve_without_crm); read: reads account data "
        "(resolve_with_crm); act: may also change the account and issue refunds (resolve_with_actions), which "
        "is what account-takeover and refund-fraud attacks need (OWASP LLM06, Excessive Agency).",
    )
    crm: bool | None = Field(
        None, description="Earlier form of level: true is level read, false level none; when level is given "
        "too, level decides. Prefer level.",
    )
    refund_limit: Money | None = Field(
        None, description="The most the bot may refund at once at level act; a fraudulent refund loses at most "
        "this. null: no limit.",
    )
    history: bool = Field(
        False, description="The bot recognises a returning customer (segment and history): a repeat contact "
        "does not make them tell their story again.",
    )

    @model_validator(mode="before")
    @classmethod
    def _crm_is_a_level(cls, data: Any) -> Any:
        # level, when given, decides: a knob or --set that changes it must not clash with an old crm key.
        if isinstance(data, dict) and isinstance(data.get("crm"), bool) and "level" not in data:
            data = {**data, "level": "read" if data["crm"] else "none"}
        return data


class Security(Strict):
    """Identity verification and guardrails: what stops an attack, and what it costs genuine customers."""

    verification: bool = Field(
        False, description="Verify identity before account actions (intents marked account_action, at level "
        "act): extra time for every such bot conversation; impostors are stopped, some genuine customers fail.",
    )
    verification_time: Duration = Field(
        "1m", validate_default=True, ge=0, le=60,
        description="Time the verification step takes (one-time code or knowledge questions; illustrative 1 min).",
    )
    genuine_failure: Probability = Field(
        0.05, description="Share of genuine customers who fail verification: they are frustrated (as by a "
        "refused request) and handed to a human. Illustrative.",
    )
    impostor_caught: Probability = Field(
        0.9, description="Share of impostors verification stops (a one-time code to the real owner's phone). "
        "Illustrative.",
    )
    guardrails: Probability = Field(
        0.0, description="Probability a guardrail (input and output filters) detects an attack on the bot and "
        "ends the session before it works. 0: none.",
    )


class Escalation(Strict):
    """When a bot conversation is handed to a human."""

    max_bot_turns: int | None = Field(
        4, ge=1, le=30, description="Hand over after this many turns without a resolution. null: no limit, and "
        "when the bot gives up the customer is sent away unresolved (a dead end).",
    )
    frustration_threshold: Probability | None = Field(
        0.6, description="Hand over once frustration F reaches this level (sentiment trigger). null: off."
    )
    honour_requests: Literal["always", "never"] | Annotated[int, Field(ge=1, le=30)] = Field(
        "always", description="Honour a customer's request for a human: always, never, or a number N (only after "
        "N bot turns).",
    )
    on_low_confidence: bool = Field(
        False, description="Hand over when the bot recognises a turn it could not handle "
        "(scenario bot.low_confidence_detection).",
    )


class Handoff(Strict):
    """How an escalated contact reaches the agent."""

    mode: Literal["warm", "cold"] = Field(
        "warm", description="warm: the conversation travels with the contact. cold: the customer repeats "
        "everything — agent handle time × cold_handle_factor and added frustration (56% of customers had to "
        "re-explain: HBR 2010).",
    )
    cold_handle_factor: float = Field(
        1.37, ge=1, le=limits.MAX_FACTOR,
        description="Handle-time multiplier of a cold handoff: seamless transitions take 27% less assisted time "
        "(Gartner 2023), 1/0.73 = 1.37.",
    )
    priority: int = Field(0, ge=0, le=9, description="Added to the segment's queue priority for escalated contacts.")
    head_start: Duration = Field(0.0, ge=0, description="Extra FIFO head start for escalated contacts.")


class Staffing(Strict):
    """Staffing this policy runs with (e.g. a bot-heavy plan with fewer agents)."""

    scale: float = Field(1.0, ge=0, le=limits.MAX_STAFF_SCALE,
                         description="Multiplies every group's headcount (rounded to whole agents).")
    headcount: dict[Name, Headcount] = Field(
        {}, description="Replaces the headcount of named groups for all on-duty hours (after scale)."
    )


class Callback(Strict):
    """Offer to call (or message) back instead of waiting."""

    after_wait: Duration | None = Field(
        None, gt=0, description="Offer once a contact has waited this long. null: never."
    )
    predicted_wait: Duration | None = Field(
        None, gt=0, description="Offer on joining the queue when the predicted wait exceeds this. null: never."
    )
    accept: Probability = Field(0.5, description="Probability the customer accepts (assumption).")


class Message(Strict):
    """Send a caller who has waited long enough to leave a message (the ACD's "maximum time in queue")."""

    after_wait: Duration | None = Field(
        None, gt=0, description="A contact still waiting after this long leaves a message and the queue: an "
        "outcome of its own that takes no agent time in the run (and counts as unresolved). null: never."
    )


class Improvement(Strict):
    """A feedback loop (docs/model.md §3a): reviews that mine escalated conversations and fix stale knowledge.
    The reference notes' shape; sizes illustrative (implementers report 25–35% resolution on a mediocre
    knowledge base rising to 60%+ after knowledge work)."""

    review_every: WholeDays | None = Field(
        None, description="A review every this many days (whole days, e.g. 7d). null: no feedback loop (launch "
        "and leave).",
    )
    curation_hours_per_week: Annotated[float, Field(ge=0, le=10_000)] = Field(
        8.0, description="Content work paid per week (counted in curation_cost, so in net_cost).")
    hours_per_fix: Annotated[float, Field(gt=0, le=1_000)] = Field(
        4.0, description="Hours to update one intent's stale knowledge; a review fixes the stalest first.")
    conversations_per_hour: Annotated[float, Field(gt=0, le=10_000)] = Field(
        20.0, description="Escalated conversations reviewed per hour left after the fixes (3 minutes each).")
    max_gain: Probability = Field(
        0.4, description="Learning curve: an intent's resolution a0 rises to a0 + max_gain·(1 − a0) as examples "
        "accumulate (25–35% → 60%+ closes about 40% of the gap).",
    )
    examples: Annotated[float, Field(gt=0, le=1e9)] = Field(
        500.0, description="n0: reviewed conversations of an intent that close 63% of the remaining gap "
        "(a = a_max − (a_max − a0)·exp(−n/n0)).",
    )
    hourly_cost: Money = Field(40.0, description="Cost per curation hour (as an agent hour: Iterum Connections 2025).")


class Policy(Strict):
    """A support team's policy."""

    schema_: Text | None = Field(None, alias="$schema", description="Optional JSON Schema link for editors.")
    name: Text = Field(description="Display name.")
    description: Text = Field("", description="What this policy does, in a sentence.")
    automation: Automation = Field(default_factory=Automation, description="Bot routing.")
    integration: Integration = Field(default_factory=Integration, description="What the bot may see and do.")
    security: Security = Field(default_factory=Security, description="Verification and guardrails.")
    escalation: Escalation = Field(default_factory=Escalation, description="Escalation triggers.")
    handoff: Handoff = Field(default_factory=Handoff, description="Handoff to humans.")
    staffing: Staffing = Field(default_factory=Staffing, description="Staffing override.")
    callback: Callback = Field(default_factory=Callback, description="Callback offer.")
    message: Message = Field(default_factory=Message, description="Leave a message instead of waiting on.")
    improvement: Improvement = Field(default_factory=Improvement, description="Feedback loop (off by default).")

    @property
    def is_dead_end(self) -> bool:
        """No trigger can hand a bot conversation to a human."""
        e = self.escalation
        return (e.max_bot_turns is None and e.frustration_threshold is None
                and e.honour_requests == "never" and not e.on_low_confidence)
