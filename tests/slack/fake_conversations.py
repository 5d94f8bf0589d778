"""The fake workspace's channels, the bot's memberships and the messages in them.

Read back the way Slack serves them (PLATFORMS.md, Slack):

- "``conversations.history`` returns top-level messages only" (docs.slack.dev/reference/
  methods/conversations.history: "returns only parent messages"; thread replies come from
  conversations.replies): newest first, default ``limit`` 100, at most 999.
- ``conversations.replies(channel, ts)`` returns "an entire thread (a message plus all the
  messages in reply to it)", parent first, whether ``ts`` names the parent or a reply;
  ``thread_not_found`` for a ``ts`` that is no message; default ``limit`` 1000.
- Both page with an opaque ``cursor``: ``has_more`` and ``response_metadata.next_cursor``
  (empty on the last page), ``invalid_cursor`` for a cursor they did not hand out
  (docs.slack.dev/apis/web-api/pagination), and show ``metadata`` only with
  ``include_all_metadata`` (docs.slack.dev/messaging/message-metadata).
- "A bot posts only where it is a member" (chat.postMessage errors: ``not_in_channel``):
  a channel id is a public channel the bot has not joined unless the test joined it or
  made it private; ``D…`` ids exist once ``conversations.open`` made them, and a DM counts
  as joined.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


class SlackError(Exception):
    """A Web API error: ``{"ok": false, "error": code}`` with HTTP 200."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def flag(value: Any) -> bool:
    """A boolean argument, form-encoded ("1", "true") or JSON (true)."""
    return value is True or str(value).lower() in ("1", "true")


@dataclass
class Conversations:
    messages: dict[str, list[Message]] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)
    private: set[str] = field(default_factory=set)
    dms: dict[str, str] = field(default_factory=dict)
    """user id -> the DM channel ``conversations.open`` gave the bot."""
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # ---- membership -------------------------------------------------------------------------

    def exists(self, channel: str) -> bool:
        return not channel.startswith("D") or channel in self.dms.values()

    def is_member(self, channel: str) -> bool:
        return channel in self.joined or channel in self.dms.values()

    def require_member(self, channel: str) -> None:
        if not self.exists(channel):
            raise SlackError("channel_not_found")
        if not self.is_member(channel):
            raise SlackError("not_in_channel")

    def open_dm(self, user: str) -> str:
        return self.dms.setdefault(user, f"D{user}")

    def join(self, channel: str) -> bool:
        """Join a public channel; True if the bot was there already."""
        if not self.exists(channel):
            raise SlackError("channel_not_found")
        if channel.startswith("D") or channel in self.private:
            raise SlackError("method_not_supported_for_channel_type")
        already = channel in self.joined
        self.joined.add(channel)
        return already

    def info(self, channel: str) -> dict[str, Any]:
        if not self.exists(channel):
            raise SlackError("channel_not_found")
        if channel.startswith("D"):
            user = next(u for u, c in self.dms.items() if c == channel)
            return {"id": channel, "is_im": True, "user": user}
        return {
            "id": channel,
            "name": channel.lower(),
            "is_channel": True,
            "is_im": False,
            "is_private": channel in self.private,
            "is_member": channel in self.joined,
        }

    # ---- messages ---------------------------------------------------------------------------

    def next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def add(self, channel: str, message: Message) -> Message:
        """Store a message; a reply marks its parent as a thread."""
        thread = message.get("thread_ts")
        if thread and thread != message["ts"]:
            parent = self.find(channel, thread)
            if parent is not None:
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = int(parent.get("reply_count", 0)) + 1
                parent["latest_reply"] = message["ts"]
        self.messages.setdefault(channel, []).append(message)
        return message

    def find(self, channel: str, ts: str) -> Message | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    def top_level(self, channel: str) -> list[Message]:
        """Parent messages, newest first (a reply is a message whose thread_ts is not its
        ts), and replies broadcast to the channel (subtype ``thread_broadcast``)."""
        history = self.messages.get(channel, [])
        return [
            m
            for m in reversed(history)
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent, then its replies in order."""
        message = self.find(channel, ts)
        if message is None:
            raise SlackError("thread_not_found")
        root = str(message.get("thread_ts") or message["ts"])
        parent = self.find(channel, root) or message
        replies = [
            m
            for m in self.messages.get(channel, [])
            if m.get("thread_ts") == root and m["ts"] != root
        ]
        return [parent, *replies]


def page(
    items: list[Message], params: dict[str, Any], *, default: int, most: int
) -> dict[str, Any]:
    """One page of ``items`` for ``limit`` and ``cursor``, with Slack's paging fields."""
    start = _offset(str(params.get("cursor") or ""))
    limit = max(1, min(int(params.get("limit") or default), most))
    chosen = items[start : start + limit]
    more = start + limit < len(items)
    cursor = _cursor(start + limit) if more else ""
    include = flag(params.get("include_all_metadata"))
    shown = [{k: v for k, v in m.items() if k != "metadata" or include} for m in chosen]
    return {"messages": shown, "has_more": more, "response_metadata": {"next_cursor": cursor}}


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        kind, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(number)
    except ValueError:
        raise SlackError("invalid_cursor") from None
