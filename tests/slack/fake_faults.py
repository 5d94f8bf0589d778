"""Platform faults the fake Slack can inject, chosen at random per call (seeded).

What a real network and a real Slack do to a bot now and then:

- ``server_error``: 503 before the call takes effect (Slack had a bad moment);
- ``error_after``: the call takes effect, then the answer is a 500 (it did happen, the
  bot is told it failed);
- ``dropped``: the call takes effect, then the connection closes with no answer at all;
- ``storm``: this call and the next few to the same method get 429 with ``Retry-After``.

Only the methods in ``methods`` are touched, each call with probability ``rate``. Counts
per kind are kept in ``injected`` (the faults bench reports them).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("server_error", "error_after", "dropped", "storm")
WRITES = ("chat.postMessage", "chat.update", "reactions.add", "conversations.open")
LOOKUPS = ("conversations.history", "conversations.replies", "users.info")


@dataclass
class PlatformFaults:
    rng: random.Random
    rate: float = 0.05
    methods: frozenset[str] = frozenset(WRITES + LOOKUPS)
    storm_length: tuple[int, int] = (2, 6)
    injected: Counter[str] = field(default_factory=Counter)

    def pick(self, method: str) -> str | None:
        """The fault for this call, if any (lookups are never 'after': they change nothing)."""
        if method not in self.methods or self.rng.random() >= self.rate:
            return None
        kinds = KINDS if method in WRITES else ("server_error", "dropped", "storm")
        kind = self.rng.choice(kinds)
        self.injected[kind] += 1
        return kind

    def storm(self) -> int:
        return self.rng.randint(*self.storm_length)
