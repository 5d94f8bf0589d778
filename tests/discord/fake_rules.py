"""The timing rules of the fake Discord: its clock, rate-limit buckets and nonce memory.

Each number names the page it comes from (``discord-api-docs`` paths, or where the docs
give none, the report the figure was taken from). Where a figure is uncertain the fake
picks the strict end that Discord is still known to reach, never a kinder one.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ARCHIVE_DURATIONS = frozenset({60, 1440, 4320, 10080})
"""Minutes of inactivity before a thread archives (resources/channel: thread metadata)."""
FIRST_RESPONSE = timedelta(seconds=3)
"""An interaction's initial response is due within 3 s (interactions/receiving-and-
responding: "you must send an initial response within 3 seconds")."""
TOKEN_LIFETIME = timedelta(minutes=15)
"""Interaction tokens are valid for 15 minutes (same page)."""
NONCE_MEMORY = timedelta(minutes=2)
"""``enforce_nonce`` dedupes "in the past few minutes" (resources/message: create message);
the docs give no figure, so the fake takes two minutes, the low end of "a few"."""
NONCE_MAX = 25
"""Nonces are at most 25 characters (resources/message: create message)."""


class Refused(Exception):
    """Discord would not let a member do this (the client shows an error; no event)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class PlatformClock:
    """Discord's time: a base a test can move, plus the real seconds that pass.

    ``base`` is the bot's own test clock when the fake serves a whole bot (days skipped
    there pass on Discord too); with ``real=False`` only ``advance`` moves it, for tests
    of the fake that must not depend on how fast the machine is.
    """

    def __init__(
        self,
        base: Callable[[], datetime] | None = None,
        *,
        start: datetime = datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        real: bool = True,
    ) -> None:
        self._base = base
        self._start = start
        self._real = real
        self._began = time.monotonic()
        self._skipped = timedelta(0)

    def now(self) -> datetime:
        base = self._base() if self._base is not None else self._start
        passed = time.monotonic() - self._began if self._real else 0.0
        return base + self._skipped + timedelta(seconds=passed)

    def advance(self, **delta: float) -> datetime:
        self._skipped += timedelta(**delta)
        return self.now()


@dataclass(frozen=True)
class Budget:
    """One rate-limit bucket: ``limit`` requests per ``per`` seconds, per top-level id."""

    name: str
    limit: int
    per: float


MESSAGES = Budget("messages", 5, 5.0)
"""Message create: 5 per 5 s per channel, as Discord's headers report it."""
REACTIONS = Budget("reactions", 1, 0.25)
"""Reactions: 1 per 0.25 s per channel (Discord's real pace; its headers used to say 1/1 s:
DSharpPlus issue 129, discord-api-docs issue 182)."""
WEBHOOK = Budget("webhook", 5, 2.0)
"""Webhook and followup posts: 5 per 2 s per webhook (the webhooks guide's figure)."""
INTERACTION = Budget("interaction", 5, 1.0)
"""Interaction callbacks are outside the global limit (topics/rate-limits)."""
DEFAULT = Budget("default", 50, 1.0)
"""Everything else: never more than the global limit allows."""
GLOBAL = Budget("global", 50, 1.0)
"""All requests of a bot: 50 per second (topics/rate-limits: global rate limit)."""

ROUTES: tuple[tuple[str, str, Budget], ...] = (
    ("POST", r"/channels/(\d+)/messages", MESSAGES),
    ("*", r"/channels/(\d+)/messages/\d+/reactions/.*", REACTIONS),
    ("*", r"/webhooks/(\d+/[^/]+).*", WEBHOOK),
    ("POST", r"/interactions/(\d+/[^/]+)/callback", INTERACTION),
    ("*", r"/(?:channels|guilds)/(\d+).*", DEFAULT),
)


def budget_of(method: str, path: str) -> tuple[Budget, str]:
    """A route's bucket and its top-level resource (topics/rate-limits: per-route limits)."""
    for wanted, pattern, budget in ROUTES:
        match = re.fullmatch(pattern, path)
        if match and wanted in ("*", method):
            return budget, match[1]
    return DEFAULT, ""


@dataclass
class _Window:
    opened: datetime
    used: int = 0


@dataclass
class Verdict:
    """What a request gets: its headers, and whether it was over a limit (429)."""

    headers: dict[str, str]
    retry_after: float | None = None
    is_global: bool = False


@dataclass
class RateLimits:
    """Fixed windows per (bucket, top-level id), plus the bot's global window."""

    now: Callable[[], datetime]
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)

    def _window(self, budget: Budget, major: str, now: datetime) -> _Window:
        key = (budget.name, major)
        window = self._windows.get(key)
        if window is None or (now - window.opened).total_seconds() >= budget.per:
            window = self._windows[key] = _Window(now)
        return window

    def check(self, method: str, path: str) -> Verdict:
        now = self.now()
        budget, major = budget_of(method, path)
        if budget is not INTERACTION:
            everyone = self._window(GLOBAL, "", now)
            if everyone.used >= GLOBAL.limit:
                return Verdict(_global_headers(), _left(GLOBAL, everyone, now), is_global=True)
            everyone.used += 1
        window = self._window(budget, major, now)
        if window.used >= budget.limit:
            return Verdict(_headers(budget, window, now), _left(budget, window, now))
        window.used += 1
        return Verdict(_headers(budget, window, now))


def _left(budget: Budget, window: _Window, now: datetime) -> float:
    return max(0.001, budget.per - (now - window.opened).total_seconds())


def _headers(budget: Budget, window: _Window, now: datetime) -> dict[str, str]:
    after = _left(budget, window, now)
    return {
        "X-RateLimit-Limit": str(budget.limit),
        "X-RateLimit-Remaining": str(max(0, budget.limit - window.used)),
        "X-RateLimit-Reset": f"{now.timestamp() + after:.3f}",
        "X-RateLimit-Reset-After": f"{after:.3f}",
        "X-RateLimit-Bucket": f"fake-{budget.name}",
    }


def _global_headers() -> dict[str, str]:
    return {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}


def too_many(verdict: Verdict) -> tuple[dict[str, object], dict[str, str]]:
    """The body and headers of a 429 (topics/rate-limits: exceeding a rate limit)."""
    assert verdict.retry_after is not None
    body: dict[str, object] = {
        "message": "You are being rate limited.",
        "retry_after": round(verdict.retry_after, 3),
        "global": verdict.is_global,
    }
    headers = {**verdict.headers, "Retry-After": str(math.ceil(verdict.retry_after))}
    headers.setdefault("X-RateLimit-Scope", "user")
    return body, headers


@dataclass
class Nonces:
    """``enforce_nonce``: the same author's same nonce returns the first message, for a while.

    The docs say "if another message was created by the same author with the same
    nonce, that message will be returned" (not per channel); Discord's engineer on the
    change (discord-api-docs PR 6647) adds that a deleted one is not created again.
    """

    now: Callable[[], datetime]
    _seen: dict[tuple[str, str], tuple[datetime, str, str]] = field(default_factory=dict)

    def recall(self, author: str, nonce: str) -> tuple[str, str] | None:
        """(channel id, message id) of the message this nonce made, if it is remembered."""
        seen = self._seen.get((author, nonce))
        if seen is None or self.now() - seen[0] > NONCE_MEMORY:
            return None
        return seen[1], seen[2]

    def remember(self, author: str, nonce: str, channel_id: str, message_id: str) -> None:
        self._seen[(author, nonce)] = (self.now(), channel_id, message_id)


EMBED_LIMITS = {"title": 256, "description": 4096, "footer": 2048}
"""Characters per embed part (resources/message: embed limits); a field's name 256 and
value 1024, 25 fields, 6,000 in all of an embed's text; content 2,000."""


def over_limits(body: dict[str, Any]) -> bool:
    """Whether a message body breaks Discord's text limits (answered with 50035)."""
    if len(body.get("content") or "") > 2000:
        return True
    for embed in body.get("embeds") or []:
        parts = {
            "title": embed.get("title") or "",
            "description": embed.get("description") or "",
            "footer": (embed.get("footer") or {}).get("text") or "",
        }
        if any(len(parts[k]) > limit for k, limit in EMBED_LIMITS.items()):
            return True
        fields = embed.get("fields") or []
        if len(fields) > 25:
            return True
        if any(len(f["name"]) > 256 or len(f["value"]) > 1024 for f in fields):
            return True
        total = sum(map(len, parts.values())) + sum(
            len(f["name"]) + len(f["value"]) for f in fields
        )
        if total > 6000:
            return True
    return False
