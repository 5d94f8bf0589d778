"""A local fake of the Slack Web API, ``response_url`` and Socket Mode on 127.0.0.1.

It answers the methods studybot calls with the shapes Slack documents and is no kinder
than Slack (``../shared/PLATFORMS.md``; each rule has a test in ``test_fake_slack.py``):

- history without thread replies, threads from ``conversations.replies``, paging and
  ``include_all_metadata`` (``fake_conversations.py``);
- ``not_in_channel`` where the bot is no member; ``conversations.join`` for public
  channels only; ``conversations.info`` reports ``is_member`` (``fake_conversations.py``);
- per-method tier rate limits, on by default, with 429 and ``Retry-After``
  (``fake_limits.py``);
- a ``response_url`` takes 5 posts within 30 minutes of being issued (``_respond``);
- Block Kit limits: blocks Slack refuses get ``invalid_blocks`` on ``chat.postMessage``,
  ``chat.update``, ``chat.postEphemeral`` and ``response_url`` posts (``fake_blocks.py``);
- ``lose_next_response``: a call takes effect, then the connection closes unanswered;
- file uploads: ``files.getUploadURLExternal``, the bytes to ``upload_url``,
  ``files.completeUploadExternal`` (``fake_files.py``).

Time is ``clock()`` plus whatever ``advance`` added, so tests travel without sleeping.
Every call is recorded (also those refused); ``messages`` holds what Slack really kept.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.slack import fake_blocks
from tests.slack.bodies import BOT_USER, TEAM, action_body, command_body, event_body, signed
from tests.slack.fake_conversations import Conversations, Message, SlackError, page
from tests.slack.fake_faults import PlatformFaults
from tests.slack.fake_files import TIER_4, Files
from tests.slack.fake_limits import RateLimits, tier

__all__ = [
    "BOT_USER",
    "TEAM",
    "Call",
    "FakeSlack",
    "action_body",
    "command_body",
    "event_body",
    "signed",
]

RESPONSE_URL = "response_url"
"""Put in ``lose_next_response`` to drop the answer to the next response_url post."""
RESPONSE_URL_POSTS = 5
RESPONSE_URL_SECONDS = 30 * 60


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    retry_after: int = 0
    """The ``Retry-After`` seconds a 429 asked for (0 when the call was not throttled)."""


@dataclass
class FakeSlack:
    joined: set[str] = field(default_factory=set)
    """Channels the bot is a member of (tests join theirs; DMs join when opened)."""
    private: set[str] = field(default_factory=set)
    clock: Callable[[], float] = time.monotonic
    latency: float = 0.0
    method_latency: dict[str, float] = field(default_factory=dict)
    """Extra seconds for particular methods (a slow ``users.info``)."""
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[Message]] = field(default_factory=dict)
    reactions: list[dict[str, str]] = field(default_factory=list)
    ephemerals: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing_users: set[str] = field(default_factory=set)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    """Methods whose next N calls get a 429 whatever the budgets say."""
    throttled: list[Call] = field(default_factory=list)
    """Calls answered 429 (by ``rate_limited`` or by the tier budgets)."""
    responses: list[dict[str, Any]] = field(default_factory=list)
    refused_responses: list[dict[str, Any]] = field(default_factory=list)
    socket_envelopes: list[dict[str, Any]] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    lose_next_response: set[str] = field(default_factory=set)
    """Methods (or ``RESPONSE_URL``) whose next call takes effect, then the connection
    closes with no HTTP answer at all: no status, no body (a network drop, not a 500)."""
    faults: PlatformFaults | None = None
    """Random platform faults (``fake_faults.py``): the faults bench turns them on."""
    port: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    _offset: float = 0.0
    _issued: dict[str, float] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.conversations = Conversations(self.messages, self.joined, self.private)
        self.limits = RateLimits(self.now)
        self.files = Files(self.conversations, lambda: f"http://127.0.0.1:{self.port}")
        for method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
            self.limits.tiers[method] = tier(TIER_4)

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.add_routes(
            [
                web.route("*", "/api/{method}", self._api),
                web.post("/respond/{token}", self._respond),
                web.post("/upload/{file_id}", self.files.receive),
                web.get("/socket", self._socket),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self.api_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, token: str) -> str:
        """Issue a response_url now (its 30 minutes start here)."""
        self._issued.setdefault(token, self.now())
        return f"http://127.0.0.1:{self.port}/respond/{token}"

    # ---- time -------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    # ---- the workspace, for tests -----------------------------------------------------------

    def join(self, *channels: str) -> None:
        self.joined.update(channels)

    def leave(self, *channels: str) -> None:
        self.joined.difference_update(channels)

    def add_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> str:
        """A member's message, as if typed in Slack; returns its ts."""
        ts = self.conversations.next_ts()
        message = {"type": "message", "ts": ts, "user": user, "text": text}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.conversations.add(channel, message)
        return ts

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            p for p in self.called("chat.postMessage") if channel is None or p["channel"] == channel
        ]

    # ---- the Web API ------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        body = await request.read()
        if body:
            if request.content_type == "application/json":
                params.update(json.loads(body))
            else:
                params.update(dict(parse_qsl(body.decode())))
        for key in ("blocks", "metadata"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await self._params(request)
        call = Call(method, params, self.now())
        self.calls.append(call)
        await self._delay(method)
        channel = str(params.get("channel", params.get("users", "")))
        fault = self.faults.pick(method) if self.faults is not None else None
        if fault == "server_error":
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        if fault == "storm" and self.faults is not None:
            self.rate_limited[method] = self.rate_limited.get(method, 0) + self.faults.storm()
        retry_after = self._throttle(method, channel)
        if retry_after is not None:
            call.retry_after = retry_after
            self.throttled.append(call)
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        try:
            result = {"ok": True, **self._handle(method, channel, params)}
        except SlackError as exc:
            return web.json_response({"ok": False, "error": exc.code})
        if method in self.lose_next_response or fault == "dropped":
            self.lose_next_response.discard(method)
            return self._hang_up(request)
        if fault == "error_after":
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        return web.json_response(result)

    async def _delay(self, method: str = "") -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            wait = self.latency + self.method_latency.get(method, 0.0)
            if wait:
                await asyncio.sleep(wait)
        finally:
            self.in_flight -= 1

    def _throttle(self, method: str, channel: str) -> int | None:
        if self.rate_limited.get(method, 0) > 0:
            self.rate_limited[method] -= 1
            return 1
        return self.limits.check(method, channel)

    def _handle(self, method: str, channel: str, params: dict[str, Any]) -> dict[str, Any]:
        error = self.errors.get((method, channel)) or self.errors.get((method, "*"))
        if error:
            raise SlackError(error)
        name = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", method).lower().replace(".", "_")
        handler: Callable[[dict[str, Any]], dict[str, Any]] | None
        handler = getattr(self, "_" + name, None) or self.files.handler(name)
        if handler is None:
            raise SlackError("unknown_method")
        return handler(params)

    def _hang_up(self, request: web.Request) -> web.StreamResponse:
        """Close the connection without an HTTP response (the call already took effect)."""
        transport = request.transport
        if transport is not None:
            transport.abort()
        return web.Response(status=204)  # never reaches the client

    # ---- methods ------------------------------------------------------------------------------

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM, "user": "studybot"}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        self.conversations.require_member(channel)
        fake_blocks.check(params.get("blocks"))
        message = {
            "type": "message",
            "ts": self.conversations.next_ts(),
            "user": BOT_USER,
            "bot_id": "BBOT",
            "text": params.get("text", ""),
            "blocks": params.get("blocks", []),
            "thread_ts": params.get("thread_ts"),
            "metadata": params.get("metadata"),
        }
        if params.get("thread_ts") and params.get("reply_broadcast") in (True, "true", "1"):
            message["subtype"] = "thread_broadcast"  # a reply shown in the channel too
        self.conversations.add(channel, message)
        return {"channel": channel, "ts": message["ts"], "message": message}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        message = self.conversations.find(channel, str(params["ts"]))
        if message is None:
            raise SlackError("message_not_found")
        fake_blocks.check(params.get("blocks"))
        for key in ("text", "blocks", "metadata"):
            if key in params:
                message[key] = params[key]
        return {"channel": channel, "ts": message["ts"], "text": message.get("text", "")}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        """Accepts ``thread_ts`` (docs.slack.dev/reference/methods/chat.postEphemeral)."""
        self.conversations.require_member(str(params["channel"]))
        if not params.get("user"):
            raise SlackError("user_not_found")
        fake_blocks.check(params.get("blocks"))
        self.ephemerals.append(params)
        return {"message_ts": f"{self.now():.6f}"}

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        self.conversations.require_member(channel)
        reaction = {"channel": channel, "timestamp": str(params["timestamp"])}
        reaction["name"] = str(params["name"])
        if reaction in self.reactions:
            raise SlackError("already_reacted")
        self.reactions.append(reaction)
        return {}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params["user"])
        if user_id in self.missing_users:
            raise SlackError("user_not_found")
        user = {
            "id": user_id,
            "name": user_id.lower(),
            "real_name": f"Member {user_id}",
            "tz": "Europe/Berlin",
            "is_admin": False,
            "is_owner": False,
            "profile": {"display_name": f"member-{user_id.lower()}"},
        }
        user.update(self.users.get(user_id, {}))
        return {"user": user}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        self.conversations.require_member(channel)
        return page(self.conversations.top_level(channel), params, default=100, most=999)

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        self.conversations.require_member(channel)
        thread = self.conversations.thread(channel, str(params["ts"]))
        return page(thread, params, default=1000, most=1000)

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": self.conversations.open_dm(str(params["users"]))}}

    def _conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params["channel"])
        already = self.conversations.join(channel)
        result: dict[str, Any] = {"channel": self.conversations.info(channel)}
        if already:
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        return result

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": self.conversations.info(str(params["channel"]))}

    def _apps_connections_open(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    # ---- response_url -------------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        """Five posts within 30 minutes of the URL being issued, then refused.

        docs.slack.dev/interactivity/handling-user-interaction ("You can use a
        response_url up to 5 times within 30 minutes"). What Slack answers beyond that is
        not documented: the fake answers 404 with ``used_url`` (too many) or
        ``expired_url`` (too late, or never issued), so a caller that checks the status
        notices and one that does not loses the message, as it would on Slack. Blocks
        Slack refuses get 400 ``invalid_blocks``, as an incoming webhook answers them
        (docs.slack.dev/messaging/sending-messages-using-incoming-webhooks, errors); a
        refused post is not counted as a use.
        """
        payload = json.loads(await request.read())
        token = request.match_info["token"]
        payload["token"] = token
        issued = self._issued.get(token)
        used = sum(1 for r in self.responses if r["token"] == token)
        if issued is None or self.now() - issued > RESPONSE_URL_SECONDS:
            return self._refuse(payload, "expired_url")
        if used >= RESPONSE_URL_POSTS:
            return self._refuse(payload, "used_url")
        try:
            fake_blocks.check(payload.get("blocks"))
        except SlackError as exc:
            return self._refuse(payload, exc.code, status=400)
        self.responses.append(payload)
        if RESPONSE_URL in self.lose_next_response:
            self.lose_next_response.discard(RESPONSE_URL)
            return self._hang_up(request)
        return web.json_response({"ok": True})

    def _refuse(self, payload: dict[str, Any], error: str, status: int = 404) -> web.Response:
        self.refused_responses.append({**payload, "error": error})
        return web.Response(status=status, text=error)

    # ---- Socket Mode ----------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})
        for envelope in self.socket_envelopes:
            await ws.send_json(envelope)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws
