"""What a Slack HTTP request must pass before Bolt sees it: Slack's signature.

Slack signs each request: ``X-Slack-Signature`` is ``v0=`` and the HMAC-SHA256, keyed
with the app's signing secret, of ``v0:{X-Slack-Request-Timestamp}:{raw body}``, and a
timestamp more than five minutes from now is refused (replays). The check runs on the
raw bytes before anything parses them, so unsigned garbage costs a 401 and nothing
else. Headers are checked before the body is read; the body must arrive within
``BODY_SECONDS``. Refusals are logged as one short line at most every 10 seconds, with
the number held back: never a body, a header value or member text.
"""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import Clock, SignatureVerifier

from bot.http import Throttle

log = structlog.get_logger("studybot.slack")
WINDOW_SECONDS = 5 * 60
"""How far a request's timestamp may be from now (Slack's rule)."""
BODY_SECONDS = 10.0
"""How long a request with plausible headers may take to send its body."""


class Refused(Exception):
    """A request that does not reach Bolt: its status and a short reason for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason

    def response(self) -> web.Response:
        """What the sender is told: the status only, not which check failed."""
        return web.json_response({"error": _ANSWERS[self.status]}, status=self.status)


_ANSWERS = {400: "malformed request", 401: "invalid request", 408: "request too slow"}


class SlackGuard:
    def __init__(
        self,
        signing_secret: str,
        *,
        clock: Clock | None = None,
        throttle: Throttle | None = None,
        body_seconds: float = BODY_SECONDS,
    ) -> None:
        self._clock = clock or Clock()
        self._verifier = SignatureVerifier(signing_secret, clock=self._clock)
        self._throttle = throttle or Throttle()
        self._body_seconds = body_seconds

    async def admit(self, request: web.Request) -> AsyncBoltRequest:
        """The request as Bolt takes it, if Slack signed it and it parses; else ``Refused``
        (logged here, at most one line per throttle period)."""
        try:
            body = await self._signed_body(request)
            return _parsed(body, request)
        except Refused as refusal:
            if (held := self._throttle.ready()) is not None:
                log.warning(
                    "slack_request_refused",
                    status=refusal.status,
                    reason=refusal.reason,
                    remote=request.remote,
                    held_back=held,
                )
            raise

    async def _signed_body(self, request: web.Request) -> bytes:
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        signature = request.headers.get("X-Slack-Signature")
        if timestamp is None or signature is None:
            raise Refused(401, "unsigned")
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise Refused(401, "bad_timestamp")
        if abs(self._clock.now() - int(timestamp)) > WINDOW_SECONDS:
            raise Refused(401, "stale_timestamp")
        try:
            async with asyncio.timeout(self._body_seconds):
                body = await request.read()
        except TimeoutError:
            raise Refused(408, "slow_body") from None
        try:
            valid = self._verifier.is_valid(body, timestamp, signature)
        except UnicodeDecodeError:  # the SDK signs text; Slack only sends UTF-8
            raise Refused(401, "not_utf8") from None
        if not valid:
            raise Refused(401, "bad_signature")
        return body


def _parsed(body: bytes, request: web.Request) -> AsyncBoltRequest:
    """A signed body Bolt can work with: UTF-8, and JSON (or a form) describing an object."""
    try:
        bolt = AsyncBoltRequest(
            body=body.decode("utf-8"),
            query=request.query_string,
            headers=dict(request.headers),
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        raise Refused(400, "malformed_body") from None
    if not isinstance(bolt.body, dict):
        raise Refused(400, "malformed_body")
    return bolt
