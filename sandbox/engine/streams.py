"""Provides the random streams: one numpy Generator per stochastic source, per replication and per day.

Streams are derived from ``SeedSequence(seed, spawn_key=(replication, source, day))``, so

* a replication can be reproduced alone, in any process, in any order (serial equals parallel);
* each source has its own stream: a policy that uses more bot turns does not shift the arrivals or patience
  draws of anyone else (common random numbers across policies);
* each day has its own stream: what day 1 consumed never shifts day 2.

There is no global random state anywhere in the package.
"""

from __future__ import annotations

import numpy as np

# Appended, never reordered: a source's index is part of its seed. "attacks" says who is an attacker;
# "security" holds the verification and attack draws, so that switching security on shifts nothing else.
# "evidence" draws the bot's measured rates once per replication (the same under every policy);
# "misrecognition", which intent the bot takes each contact for; "routing", which free agent takes a contact
# under agents.routing.agent_selection random; "knowledge", which intents' facts change on each day.
SOURCES = ("arrivals", "customers", "patience", "handle", "bot", "repeats", "attacks", "security",
           "security_repeats", "needs", "evidence", "misrecognition", "routing", "knowledge")


class Streams:
    """Named generators for one replication of one run."""

    def __init__(self, seed: int, replication: int):
        self.seed = seed
        self.replication = replication
        self._repeats: np.random.Generator | None = None

    def day(self, source: str, day: int) -> np.random.Generator:
        """The generator for ``source`` on ``day`` (days before day 0 belong to the warm-up)."""
        index = SOURCES.index(source)
        seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, index, day + 1_000))
        return np.random.Generator(np.random.PCG64(seq))

    def level(self, source: str, day: int, level: int) -> np.random.Generator:
        """The generator for ``source`` on ``day`` for the ``level``-th return of the day's customers (level 0 is
        ``day(source, day)``, so adding levels shifts nothing of the first return)."""
        if level == 0:
            return self.day(source, day)
        seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, SOURCES.index(source), day + 1_000,
                                                           level))
        return np.random.Generator(np.random.PCG64(seq))

    def whole_run(self, source: str) -> np.random.Generator:
        """A fresh generator for ``source`` over the whole replication, not split by day."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(self.replication, SOURCES.index(source)))
        return np.random.Generator(np.random.PCG64(seq))

    @property
    def repeats(self) -> np.random.Generator:
        """One run-long stream for repeat contacts, whose number depends on the policy anyway."""
        if self._repeats is None:
            self._repeats = self.whole_run("repeats")
        return self._repeats
