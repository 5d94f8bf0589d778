"""Slack's Web API rate limits, as the fake enforces them.

Source: docs.slack.dev/apis/web-api/rate-limits (PLATFORMS.md, Slack, "rate limits per
method tier"). Limits apply "per API method per app per workspace": Tier 1 is 1+ per
minute, Tier 2 20+, Tier 3 50+, Tier 4 100+, each "allowing for occasional bursts".
The fake grants exactly the documented floor of each tier, as a token bucket holding one
minute's budget (the burst) and refilled evenly over the minute. A refused call gets
HTTP 429, ``{"ok": false, "error": "ratelimited"}`` and ``Retry-After`` in seconds.

``chat.postMessage`` is the special tier: "one message per second per channel", "short
bursts >1 allowed" (unquantified: the fake allows 3), "while also maintaining a
workspace-wide limit" (no figure is published, so that one is off unless a test sets
``RateLimits.workspace_posts``).

Each method's tier is the one its reference page names (docs.slack.dev/reference/methods/
<method>, "Rate limits"); ``auth.test`` "allows hundreds of requests per minute".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Budget:
    """``per_minute`` calls a minute, of which ``burst`` may come at once."""

    per_minute: float
    burst: float

    @property
    def per_second(self) -> float:
        return self.per_minute / 60


def tier(per_minute: float) -> Budget:
    return Budget(per_minute, burst=per_minute)


TIER_2, TIER_3, TIER_4 = tier(20), tier(50), tier(100)
POST_PER_CHANNEL = Budget(per_minute=60, burst=3)

TIERS: dict[str, Budget] = {
    "auth.test": tier(200),
    "apps.connections.open": TIER_3,
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "conversations.history": TIER_3,
    "conversations.info": TIER_3,
    "conversations.join": TIER_3,
    "conversations.open": TIER_3,
    "conversations.replies": TIER_3,
    "reactions.add": TIER_3,
    "users.info": TIER_4,
}


@dataclass
class Bucket:
    level: float
    at: float


@dataclass
class RateLimits:
    """Token buckets per (method, key); ``take`` answers None or the seconds to wait."""

    now: Callable[[], float]
    tiers: dict[str, Budget] = field(default_factory=lambda: dict(TIERS))
    per_channel: dict[str, Budget] = field(
        default_factory=lambda: {"chat.postMessage": POST_PER_CHANNEL}
    )
    workspace_posts: Budget | None = None
    enabled: bool = True
    _buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict)

    def check(self, method: str, channel: str) -> int | None:
        """Retry-After seconds if this call is over a budget, else None (and it counts)."""
        if not self.enabled:
            return None
        keys = self._keys(method, channel)
        waits = [self._wait(budget, key) for key, budget in keys]
        refused = [w for w in waits if w > 0]
        if refused:
            return math.ceil(max(refused))
        for key, _budget in keys:
            self._buckets[key].level -= 1
        return None

    def _keys(self, method: str, channel: str) -> list[tuple[tuple[str, str], Budget]]:
        keys: list[tuple[tuple[str, str], Budget]] = []
        if method in self.tiers:
            keys.append(((method, "*"), self.tiers[method]))
        if method in self.per_channel:
            keys.append(((method, channel), self.per_channel[method]))
            if self.workspace_posts is not None:
                keys.append(((method, "workspace"), self.workspace_posts))
        return keys

    def _wait(self, budget: Budget, key: tuple[str, str]) -> float:
        now = self.now()
        bucket = self._buckets.setdefault(key, Bucket(budget.burst, now))
        bucket.level = min(budget.burst, bucket.level + (now - bucket.at) * budget.per_second)
        bucket.at = now
        return 0.0 if bucket.level >= 1 else (1 - bucket.level) / budget.per_second
