"""Keeping under Slack's rate limits by waiting here, so that a burst never leans on 429s.

``Pacer``: about one message per second per channel (chat.postMessage's special tier).
``Budget``: a per-minute budget with a burst, for a whole method (reactions.add is Tier 3,
50+ per minute; docs.slack.dev/apis/web-api/rate-limits).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable


class Pacer:
    """At most one message per ``interval`` seconds per channel, waiting locally."""

    def __init__(self, interval: float = 1.0) -> None:
        self.interval = interval
        self._next: dict[str, float] = defaultdict(float)

    async def wait(self, channel: str) -> None:
        # Reserve the next slot without awaiting first: the event loop runs this atomically.
        now = time.monotonic()
        slot = max(now, self._next[channel])
        self._next[channel] = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class Budget:
    """At most ``per_minute`` calls a minute, ``burst`` of them at once (a token bucket).

    Each caller takes its token before it waits, so callers go in arrival order.
    """

    def __init__(
        self, per_minute: float, burst: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = per_minute / 60
        self._burst = burst
        self._now = now
        self._level = burst
        self._at = now()

    async def wait(self) -> None:
        now = self._now()
        self._level = min(self._burst, self._level + (now - self._at) * self._rate)
        self._at = now
        self._level -= 1
        if self._level < 0:
            await asyncio.sleep(-self._level / self._rate)
