"""The Web API client: slack_sdk's ``AsyncWebClient`` with retries that never repeat a post.

slack_sdk retries a call whose connection dropped. When the drop came after Slack had
accepted the call, the retry does it again: for ``chat.postMessage`` that is a second
daily post. So only calls that are safe to repeat are retried after a connection error;
a posting call raises instead, and whoever sent it looks the message up by its key before
sending again. 429s are retried for every method (Slack refused them, nothing happened).
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

REPEATABLE = frozenset(
    {
        # Reads: asking twice changes nothing.
        "auth.test",
        "users.info",
        "conversations.history",
        "conversations.replies",
        "conversations.info",
        # A fresh Socket Mode URL; one never connected to just expires.
        "apps.connections.open",
        # Same answer the second time: the existing DM, "already_in_channel".
        "conversations.open",
        "conversations.join",
        # A second add is refused with already_reacted, which react() counts as done.
        "reactions.add",
        # Writes the same content again.
        "chat.update",
    }
)
"""Methods retried after a connection error. Every other method is not: chat.postMessage
and chat.postEphemeral make a new message on each call, and a method added later is
treated as unsafe until someone puts it here."""


def method_of(url: str) -> str:
    """``https://slack.com/api/chat.postMessage?x=1`` -> ``chat.postMessage``."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class RepeatableOnlyRetry(AsyncConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry, for the methods in ``REPEATABLE`` only."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request.url) not in REPEATABLE:
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def web_client(
    token: str, *, api_url: str, session: aiohttp.ClientSession, logger: logging.Logger
) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        logger=logger,
        base_url=api_url,
        session=session,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            RepeatableOnlyRetry(max_retry_count=3),
        ],
    )
