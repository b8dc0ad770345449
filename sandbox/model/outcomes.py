"""Provides the codes for how a contact ends and why a bot conversation was handed over."""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    """Exactly one per contact. Flow conservation: offered = the sum of all of these."""

    CONTAINED = 0  # the bot resolved it
    FALSE_CONTAINED = 1  # the bot gave a wrong answer the customer believed
    DEAD_ENDED = 2  # the bot gave up and there was no path to a human
    ABANDONED_BOT = 3  # gave up on the bot
    BLOCKED = 4  # the human queue was full
    TURNED_AWAY = 5  # needed a human while humans were closed, or the queue was cleared at closing
    ABANDONED_QUEUE = 6  # gave up waiting for an agent
    SERVED = 7  # answered by an agent
    CALLBACK = 8  # left the live queue with a promised callback
    IN_SYSTEM = 9  # still in the bot or the queue when the horizon ended
    MESSAGE = 10  # left a message after waiting the policy's message.after_wait (no agent time now)
    ESCALATED = 11  # transient: handed from the bot to the queue (never a final outcome)
    DIRECT = 12  # transient: routed straight to the queue (never a final outcome)


# Named sets, never ranges of codes: adding an outcome cannot silently join or leave one.
FINAL_OUTCOMES = (Outcome.CONTAINED, Outcome.FALSE_CONTAINED, Outcome.DEAD_ENDED, Outcome.ABANDONED_BOT,
                  Outcome.BLOCKED, Outcome.TURNED_AWAY, Outcome.ABANDONED_QUEUE, Outcome.SERVED, Outcome.CALLBACK,
                  Outcome.IN_SYSTEM, Outcome.MESSAGE)
N_OUTCOMES = len(FINAL_OUTCOMES)
ENDED_IN_BOT = (Outcome.CONTAINED, Outcome.FALSE_CONTAINED, Outcome.DEAD_ENDED, Outcome.ABANDONED_BOT)
# A message is unresolved here: nothing in a day's run answers it, and counting it resolved would make sending
# callers to voicemail look free.
UNRESOLVED = (Outcome.FALSE_CONTAINED, Outcome.DEAD_ENDED, Outcome.ABANDONED_BOT, Outcome.BLOCKED,
              Outcome.TURNED_AWAY, Outcome.ABANDONED_QUEUE, Outcome.MESSAGE)


class Origin(IntEnum):
    """How a contact came about."""

    FIRST = 0  # a first contact
    RETRY = 1  # tried again after abandoning
    RETURN = 2  # came back after a wrong answer the customer believed


class Reason(IntEnum):
    """Why a bot conversation ended in a handoff (NONE when it did not)."""

    NONE = 0
    MAX_TURNS = 1
    FRUSTRATION = 2
    REQUEST = 3
    LOW_CONFIDENCE = 4
    VERIFICATION = 5  # failed identity verification before an account action
