"""Bot capacity (issue: bot evidence, item 4): hand-made arrivals with known answers, and the model it
switches off to."""

from __future__ import annotations

import numpy as np
import pytest

from sandbox import api
from sandbox.model.bot_capacity import hold

INF = np.inf


def run(arrive: list[float], duration: list[float], capacity: int = 1, slowdown: float = 0.0, wait: bool = False,
        patience: list[float] | None = None, offered: list[bool] | None = None, in_progress: list[float] | None = None):
    n = len(arrive)
    return hold(np.array(arrive), np.array(duration), np.array(offered or [True] * n),
                np.array(patience or [INF] * n), capacity, slowdown, wait, [] if in_progress is None else in_progress)


def test_a_full_bot_overflows_the_next_contact_and_a_freed_slot_takes_the_one_after() -> None:
    held = run([0, 1, 5], [3, 3, 3])
    assert held.overflowed.tolist() == [False, True, False]
    assert held.wait.tolist() == [0, 0, 0]


def test_waiting_is_first_come_first_served_on_the_next_slot_to_free() -> None:
    held = run([0, 1, 2, 7], [3, 3, 3, 1], wait=True)
    assert held.wait.tolist() == [0, 2, 4, 2]  # starts at 0, 3, 6, 9
    assert not held.overflowed.any()
    assert not held.gave_up.any()


def test_a_contact_whose_patience_ends_first_gives_up_and_leaves_the_slot_to_the_next() -> None:
    held = run([0, 1, 2], [3, 3, 3], wait=True, patience=[INF, 1.0, INF])
    assert held.gave_up.tolist() == [False, True, False]
    assert held.wait.tolist() == [0, 1.0, 1.0]  # the third starts at 3, the slot the second gave up


def test_replies_slow_down_with_the_share_of_the_capacity_in_use() -> None:
    held = run([0, 0.5, 1], [2, 2, 2], capacity=4, slowdown=1.0)
    assert held.slower.tolist() == [0.0, 0.5, 2 * 2 / 4]  # 0, 1 and 2 of 4 slots in use when each starts


def test_contacts_not_offered_to_the_bot_take_no_slot_and_slots_carry_over() -> None:
    slots = [10.0]  # a conversation from the day before, still running
    held = run([0, 1], [3, 3], offered=[False, True], in_progress=slots)
    assert held.overflowed.tolist() == [False, True]
    assert slots == [10.0]


BASE = ["repeat_contacts.after_abandonment=0", "repeat_contacts.after_false_containment=0"]


def compare(overrides: list[str], policy: str = "aggressive-automation") -> api.Comparison:
    return api.compare("ecommerce", [policy], replications=3, days=1, seed=9, workers=1, overrides=BASE + overrides)


def test_no_capacity_is_the_model_without_it_and_a_roomy_one_changes_nothing() -> None:
    free = compare([])
    roomy = compare(["bot.capacity=100000", "bot.slowdown_at_capacity=0"])
    for name in api.KPIS:
        assert np.array_equal(roomy.values(0, name), free.values(0, name), equal_nan=True), name
    assert free.values(0, "bot_overflow") == [0, 0, 0]


@pytest.mark.parametrize("when", ["overflow", "wait"])
def test_a_small_bot_sends_the_rest_to_humans_or_makes_them_wait(when: str) -> None:
    free = compare([])
    small = compare(["bot.capacity=2", f"automation.when_bot_full={when}"])
    if when == "overflow":  # the same customers: those it had no room for are exactly the missing conversations
        overflow = small.values(0, "bot_overflow")
        assert min(overflow) > 0
        assert [a + b for a, b in zip(small.values(0, "bot_handled"), overflow, strict=True)] == \
            free.values(0, "bot_handled")
        assert small.estimate(0, "productive_hours").mean > free.estimate(0, "productive_hours").mean
    else:
        assert all(s <= f for s, f in zip(small.values(0, "bot_handled"), free.values(0, "bot_handled"),
                                          strict=True))  # less only by those who gave up waiting
        assert min(small.values(0, "bot_wait_mean")) > 0
        assert small.estimate(0, "abandonment_rate").mean > free.estimate(0, "abandonment_rate").mean
