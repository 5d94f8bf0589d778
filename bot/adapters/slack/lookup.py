"""Finding our own messages again: by their key, and the thread a message sits in.

Slack keeps a thread's replies out of ``conversations.history`` (it "returns only parent
messages"); ``conversations.replies(channel, ts)`` returns the parent, then its replies.
So a reply such as the reveal is looked for in its thread, and everything else in the
channel's history. A lookup that could not be made raises ``ChatError``: "could not look"
is never "not there", or a lost answer would turn into a second post.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.errors import ChatError

Call = Callable[..., Awaitable[dict[str, Any]]]

METADATA_TYPE = "studybot_post"
HISTORY_WINDOW = 200
"""How many of the newest parent messages a channel lookup reads (one Tier 3 call)."""
PAGE = 200
MAX_THREAD_PAGES = 50
"""A thread is read to its end, up to 10,000 replies; a longer one is an error, not a miss."""


def metadata(key: str) -> dict[str, Any]:
    """The message metadata that carries a send's key."""
    return {"event_type": METADATA_TYPE, "event_payload": {"key": key}}


def carries(message: dict[str, Any], key: str) -> bool:
    data = message.get("metadata") or {}
    payload = data.get("event_payload") or {}
    return bool(data.get("event_type") == METADATA_TYPE and payload.get("key") == key)


def _messages(method: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    messages = data.get("messages")
    if not isinstance(messages, list):
        raise ChatError(f"{method}: the answer has no messages")
    return messages


async def in_history(call: Call, channel: str, key: str) -> str | None:
    """The ts of the newest parent message in ``channel`` carrying ``key``."""
    method = "conversations.history"
    data = await call(method, channel=channel, limit=HISTORY_WINDOW, include_all_metadata=True)
    return next((str(m["ts"]) for m in _messages(method, data) if carries(m, key)), None)


async def in_thread(call: Call, channel: str, thread: str, key: str) -> str | None:
    """The ts of the message in ``thread`` (parent or reply) carrying ``key``."""
    method = "conversations.replies"
    cursor = ""
    for _ in range(MAX_THREAD_PAGES):
        data = await call(
            method,
            channel=channel,
            ts=thread,
            limit=PAGE,
            cursor=cursor or None,
            include_all_metadata=True,
        )
        found = next((str(m["ts"]) for m in _messages(method, data) if carries(m, key)), None)
        cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
        if found is not None or not data.get("has_more") or not cursor:
            return found
    raise ChatError(f"{method}: thread {thread} is longer than {MAX_THREAD_PAGES} pages")


async def thread_of(call: Call, channel: str, ts: str) -> str | None:
    """The thread ``ts`` replies in, or None for a parent message."""
    method = "conversations.replies"
    data = await call(method, channel=channel, ts=ts, limit=1)
    messages = _messages(method, data)
    parent = str(messages[0]["ts"]) if messages else ts
    return parent if parent != ts else None
