"""Intent misrecognition (issue: bot evidence, item 3): the bot answers the wrong question, the contact goes to
the wrong skill's queue, and an agent without its skill passes it on; judged on common random numbers."""

from __future__ import annotations

import numpy as np

from sandbox import api

REPS = 8


def compare(overrides: list[str]) -> api.Comparison:
    return api.compare("ecommerce", ["warm-handoff"], replications=REPS, days=1, seed=5, workers=1,
                       overrides=overrides)


def test_billing_contacts_taken_for_general_ones_are_transferred_and_cost_time_and_satisfaction() -> None:
    """billing_error taken for order_status lands in the general queue; the service group (general only)
    transfers it to billing, the billing group (both skills) serves it where it is."""
    base = compare([])
    mis = compare(["intents.billing_error.bot.misrecognition=0.5",
                   "intents.billing_error.bot.mistaken_for={order_status: 1}"])
    assert base.estimate(0, "misrecognised").mean == 0
    assert base.estimate(0, "transfers").mean == 0
    assert mis.estimate(0, "misrecognised").low > 0
    transfers = mis.values(0, "transfers")
    assert min(transfers) > 0
    assert mis.estimate(0, "transfers").mean < mis.estimate(0, "misrecognised").mean  # billing serves some in place
    for name in ("contained", "csat"):  # answered the wrong question: fewer resolved by the bot, lower csat
        diff = [m - b for m, b in zip(mis.values(0, name), base.values(0, name), strict=True)]
        assert sum(diff) / len(diff) < 0, name
    assert mis.estimate(0, "occupancy").mean > base.estimate(0, "occupancy").mean  # the transfers take agent time


def test_a_contact_sent_to_a_group_that_also_has_its_skill_is_not_transferred() -> None:
    """order_status taken for billing_error goes to the billing queue, whose only group also has general."""
    mis = compare(["intents.order_status.bot.misrecognition=0.3",
                   "intents.order_status.bot.mistaken_for={billing_error: 1}"])
    assert mis.estimate(0, "misrecognised").low > 0
    assert max(mis.values(0, "transfers")) == 0


def test_misrecognition_off_is_the_model_without_it() -> None:
    """A zero rate draws nothing: every KPI is the same as with the key absent, to the last digit."""
    base = compare([])
    off = compare(["intents.billing_error.bot.misrecognition=0", "intents.billing_error.bot.mistaken_for="
                   "{order_status: 1}", "agents.transfer_time=5m"])
    for name in api.KPIS:
        assert np.array_equal(off.values(0, name), base.values(0, name), equal_nan=True), name


def test_every_transferred_contact_is_counted_once_whether_it_waited_or_not() -> None:
    """Without repeat contacts the same customers arrive with or without misrecognition (common random numbers),
    so every one of them must end in exactly one outcome: a contact an agent took off the queue and passed on
    used to rejoin its own queue marked as gone and vanish."""
    no_repeats = ["repeat_contacts.after_abandonment=0", "repeat_contacts.after_false_containment=0"]
    base = compare(no_repeats)
    mis = compare([*no_repeats, "intents.billing_error.bot.misrecognition=0.5",
                   "intents.billing_error.bot.mistaken_for={order_status: 1}"])
    assert min(mis.values(0, "transfers")) > 0
    assert mis.values(0, "offered") == base.values(0, "offered")
