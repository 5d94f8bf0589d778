"""Slack's outbound side: the ``Chat`` port over the Web API.

One shared ``aiohttp`` session and ``AsyncWebClient`` (``client.py``: 429s retried, a
dropped connection retried only for calls that are safe to repeat), a bound on concurrent
calls, and local pacing: about one message per second per channel, reactions within their
tier. Permanent errors become ``TargetUnavailable`` (the channel is paused with the reason)
or ``PlatformAuthError`` (Slack work stops for the workspace); neither is retried. Any
other failure, a dropped connection included, is a ``ChatError``: the call may or may not
have taken effect, and nothing here sends it again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import lookup, render
from bot.adapters.slack.pacing import Budget, Pacer
from bot.core.errors import ChatError, PlatformAuthError, TargetUnavailable
from bot.core.models import Target
from bot.core.replies import Message
from bot.ports.chat import Posted

GONE = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "cannot_dm_bot", "user_not_found"}
)
AUTH = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "tokens_revoked",
        "account_inactive",
        "app_uninstalled",
        "team_access_not_granted",
    }
)
DEFAULT_CONCURRENCY = 50
"""Calls in flight at once. On a 2-core host, 100 made the client CPU-bound during a
10,000-channel fan-out (and delayed acks); 50 keeps it near the ideal (README, Benchmarks)."""
JSON_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "reactions.add"})
REACTIONS_PER_MINUTE = 50.0
"""reactions.add is Tier 3 (50+ per minute per workspace); a reaction only acknowledges."""
REACTIONS_BURST = 10.0
REMEMBERED_THREADS = 10_000


class SlackChat:
    platform = "slack"
    broadcasts = True
    """``reply_broadcast``: the reply shows in the thread and in the channel, one message."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        per_channel_interval: float = 1.0,
        reactions: Budget | None = None,
    ) -> None:
        self.client = client
        self._limit = asyncio.Semaphore(concurrency)
        self._pacer = Pacer(per_channel_interval)
        self._reactions = reactions or Budget(REACTIONS_PER_MINUTE, REACTIONS_BURST)
        self._dms: dict[str, str] = {}
        self._threads: dict[tuple[str, str], str | None] = {}
        self.auth_failed: str | None = None

    async def call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """One Web API call with the error mapping; ``TargetUnavailable`` is permanent."""
        if self.auth_failed is not None:
            raise PlatformAuthError(f"Slack rejected the token earlier ({self.auth_failed})")
        async with self._limit:
            try:
                if method in JSON_METHODS:
                    # Write methods take a JSON body as is: no per-call argument rewriting.
                    response = await self.client.api_call(method, json=kwargs)
                else:
                    # The typed client methods encode each call as Slack expects it.
                    response = await getattr(self.client, method.replace(".", "_"))(**kwargs)
            except SlackApiError as exc:
                raise self._error(method, exc) from None
            except (TimeoutError, OSError, aiohttp.ClientError) as exc:
                # The request may have reached Slack: the caller looks before any re-send.
                raise ChatError(f"{method}: {exc!r}") from None
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _error(self, method: str, exc: SlackApiError) -> ChatError:
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"http_{exc.response.status_code}")
        if error in GONE:
            return TargetUnavailable(error)
        if error in AUTH:
            self.auth_failed = error
            return PlatformAuthError(error)
        return ChatError(f"{method}: {error}")

    # ---- posts ------------------------------------------------------------------------------

    async def post(
        self,
        target: Target,
        message: Message,
        *,
        key: str | None = None,
        thread: bool = False,
        broadcast: bool = False,
    ) -> Posted:
        await self._pacer.wait(target.channel)
        payload: dict[str, Any] = {
            "channel": target.channel,
            "text": render.fallback(message),
            "blocks": render.blocks(message),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if target.thread:
            payload["thread_ts"] = target.thread
            if broadcast:
                payload["reply_broadcast"] = True
        if key is not None:
            payload["metadata"] = lookup.metadata(key)
        data = await self.call("chat.postMessage", **payload)
        ts = str(data.get("ts", ""))
        self._remember(target.channel, ts, target.thread)
        return Posted(ts, target.thread or ts)

    def thread_link(self, target: Target) -> str:
        return ""  # never needed: a reveal is broadcast in the same send

    async def find_post(
        self, target: Target, key: str, message: Message | None = None
    ) -> Posted | None:
        """Our message carrying ``key`` (in its metadata; ``message`` is not needed): in
        ``target.thread`` if set, else in the channel."""
        if target.thread:
            ts = await lookup.in_thread(self.call, target.channel, target.thread, key)
        else:
            ts = await lookup.in_history(self.call, target.channel, key)
        return None if ts is None else Posted(ts, target.thread or ts)

    async def thread_of(self, channel: str, ts: str) -> str | None:
        """The thread a message replies in (None for a parent); None if Slack cannot say."""
        if (channel, ts) not in self._threads:
            try:
                self._remember(channel, ts, await lookup.thread_of(self.call, channel, ts))
            except ChatError:
                return None  # only used to place an ephemeral: the channel will do
        return self._threads[(channel, ts)]

    def _remember(self, channel: str, ts: str, thread: str | None) -> None:
        if len(self._threads) >= REMEMBERED_THREADS:
            del self._threads[next(iter(self._threads))]
        self._threads[(channel, ts)] = thread if thread != ts else None

    async def react(self, target: Target, message_ref: str, emoji: str) -> None:
        await self._reactions.wait()
        try:
            await self.call(
                "reactions.add", channel=target.channel, timestamp=message_ref, name=emoji
            )
        except ChatError as exc:
            if "already_reacted" not in str(exc):
                raise

    async def ephemeral(
        self, channel: str, user: str, message: Message, *, thread: str | None = None
    ) -> None:
        payload: dict[str, Any] = {
            "channel": channel,
            "user": user,
            "text": render.fallback(message),
            "blocks": render.blocks(message),
        }
        if thread:
            payload["thread_ts"] = thread
        await self.call("chat.postEphemeral", **payload)

    # ---- DMs --------------------------------------------------------------------------------

    async def _dm_channel(self, user_ref: str) -> str:
        """The DM channel with a member, opened once per process."""
        channel = self._dms.get(user_ref)
        if channel is None:
            opened = await self.call("conversations.open", users=user_ref)
            channel = str((opened.get("channel") or {}).get("id", ""))
            if not channel:
                raise TargetUnavailable("dm_not_opened")
            self._dms[user_ref] = channel
        return channel

    async def send_dm(
        self, workspace: str, user_ref: str, message: Message, *, key: str | None = None
    ) -> Posted:
        channel = await self._dm_channel(user_ref)
        try:
            return await self.post(Target(self.platform, workspace, channel), message, key=key)
        except TargetUnavailable:
            self._dms.pop(user_ref, None)  # open it again next time
            raise

    async def edit_dm(
        self, workspace: str, user_ref: str, message_ref: str, message: Message
    ) -> None:
        channel = await self._dm_channel(user_ref)
        await self.call(
            "chat.update",
            channel=channel,
            ts=message_ref,
            text=render.fallback(message),
            blocks=render.blocks(message),
        )

    async def upload_dm(
        self, user_ref: str, *, filename: str, content: bytes, title: str, comment: str
    ) -> str:
        """A file in the member's DM, by Slack's current upload flow (what slack_sdk's
        ``files_upload_v2`` does: ``files.getUploadURLExternal``, the bytes POSTed to the
        returned ``upload_url``, then ``files.completeUploadExternal`` with the DM's
        ``channel_id``). Returns the DM channel. Never retried: a second try could share
        the file twice."""
        channel = await self._dm_channel(user_ref)
        async with self._limit:
            try:
                await self.client.files_upload_v2(
                    channel=channel,
                    filename=filename,
                    content=content,
                    title=title,
                    initial_comment=comment,
                )
            except SlackApiError as exc:
                failure = self._error("files_upload_v2", exc)
                if isinstance(failure, TargetUnavailable):
                    self._dms.pop(user_ref, None)  # open it again next time
                raise failure from None
            except SlackRequestError as exc:  # the upload URL refused the bytes
                raise ChatError(f"files_upload_v2: {exc}") from None
            except (TimeoutError, OSError, aiohttp.ClientError) as exc:
                raise ChatError(f"files_upload_v2: {exc!r}") from None
        return channel

    async def check_post(self, target: Target) -> str | None:
        """Member of the channel, or joined now if it is public; else the reason."""
        try:
            info = await self.call("conversations.info", channel=target.channel)
        except TargetUnavailable as exc:
            return exc.reason
        channel = info.get("channel") or {}
        if channel.get("is_member") or channel.get("is_im"):
            return None
        if channel.get("is_private"):
            return "not_in_channel"
        try:
            await self.call("conversations.join", channel=target.channel)
        except TargetUnavailable as exc:
            return exc.reason
        except ChatError as exc:
            if "method_not_supported_for_channel_type" in str(exc):
                return "not_in_channel"
            raise
        return None

    async def find_dm(
        self, workspace: str, user_ref: str, key: str, message: Message | None = None
    ) -> Posted | None:
        channel = await self._dm_channel(user_ref)
        return await self.find_post(Target(self.platform, workspace, channel), key)
