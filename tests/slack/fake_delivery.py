"""Slack's side of the Events API: deliver an event to the app and time its ack.

PLATFORMS.md, "events must be acked within 3 s" (docs: Events API, "Responding to
events" and retries): Slack waits up to 3 seconds for the HTTP 200. A late or failed ack
is a failure, and the event is sent again with ``X-Slack-Retry-Num`` (1, 2, 3) and
``X-Slack-Retry-Reason: http_timeout`` (or ``http_error``). Slack spaces the retries
(at once, after 1 minute, after 5 minutes); the fake sends them back to back, which is
only harder on the app.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import aiohttp

from tests.slack.bodies import signed

ACK_SECONDS = 3.0
RETRIES = 3


@dataclass(frozen=True, slots=True)
class Delivery:
    event_id: str
    attempt: int
    """0 for the first delivery, then Slack's X-Slack-Retry-Num."""
    ack_seconds: float
    status: int | None
    """The HTTP status, or None when no answer came within the 3 seconds."""

    limit: float = ACK_SECONDS

    @property
    def acked(self) -> bool:
        return self.status == 200 and self.ack_seconds <= self.limit


@dataclass
class Deliverer:
    url: str
    secret: str
    session: aiohttp.ClientSession
    deliveries: list[Delivery] = field(default_factory=list)
    ack_seconds: float = ACK_SECONDS
    """Slack's 3 s; tests of the fake itself shrink it so they need not sleep that long."""

    async def deliver(self, body: str, event_id: str) -> list[Delivery]:
        """Deliver until acked in time or retries run out; the attempts, in order."""
        attempts: list[Delivery] = []
        for attempt in range(RETRIES + 1):
            headers = {"Content-Type": "application/json", **signed(self.secret, body)}
            if attempt:
                reason = "http_timeout" if attempts[-1].status is None else "http_error"
                headers |= {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason}
            delivery = await self._once(body, event_id, attempt, headers)
            attempts.append(delivery)
            self.deliveries.append(delivery)
            if delivery.acked:
                break
        return attempts

    async def _once(
        self, body: str, event_id: str, attempt: int, headers: dict[str, str]
    ) -> Delivery:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.ack_seconds):
                async with self.session.post(
                    self.url, data=body.encode(), headers=headers
                ) as response:
                    await response.read()
                    status: int | None = response.status
        except TimeoutError:
            status = None
        elapsed = time.perf_counter() - started
        return Delivery(event_id, attempt, elapsed, status, self.ack_seconds)
