"""A local fake Discord on 127.0.0.1: the REST API and the gateway websocket.

It is as strict as Discord, never kinder (``PLATFORMS.md``); each rule has a test in
``test_fake_discord.py`` and names its page in ``discord-api-docs``:

- threads archive after ``auto_archive_duration`` minutes without a message; then
  members cannot react, edit or use commands in them (50083) until they are unarchived;
  a message (the bot's or a member's) unarchives a thread, as does its creator's PATCH
  (topics/threads: active and archived threads; ``fake_threads``);
- interactions: callback within 3 s, token valid 15 min, the deferral fixes visibility
  (``fake_interactions``);
- ``enforce_nonce`` dedupes one author's nonce for two minutes (``fake_rules``);
- a channel's history has no thread messages (topics/threads);
- ``X-RateLimit-*`` headers on every response, 429s with ``retry_after`` and ``Via``;
- 10003 unknown channel, 50001 missing access, 50013 missing permissions, 50007 DMs
  closed, and forum channels refuse plain messages (topics/opcodes-and-status-codes);
- text limits: content 2,000; embed title 256, description 4,096, 25 fields (name 256,
  value 1,024), footer 2,048, 6,000 in all (50035; ``fake_rules.over_limits``);
- a thread started on a message shares its id and shows in history as the message's
  ``thread``; a second start on it is 160004 (resources/channel: start thread from
  message; ``fake_threads``);
- multipart message bodies: ``payload_json`` and ``files[n]``, ``attachments`` naming
  them, 25 MiB a request (reference: uploading files; ``fake_uploads``).

Time is ``clock`` (a ``PlatformClock``): tests skip days without sleeping.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord.fake_gateway import Gateway
from tests.discord.fake_interactions import Interactions
from tests.discord.fake_payloads import (
    ADMIN,
    APP_ID,
    BOT_ID,
    CHANNEL,
    DM,
    FORUM,
    GUILD,
    MANAGE_GUILD,
    TEXT,
    Answer,
    application,
    bot_user,
    fail,
    guild,
    interaction_payload,
    iso,
    member,
    ready,
    snowflake_at,
    text_channel,
    user,
)
from tests.discord.fake_payloads import message as message_payload
from tests.discord.fake_rules import (
    NONCE_MAX,
    Nonces,
    PlatformClock,
    RateLimits,
    Refused,
    over_limits,
    too_many,
)
from tests.discord.fake_threads import Threads
from tests.discord.fake_uploads import CLIENT_MAX_SIZE, Refusal, Uploads

__all__ = [
    "ADMIN",
    "APP_ID",
    "BOT_ID",
    "CHANNEL",
    "GUILD",
    "MANAGE_GUILD",
    "Call",
    "FakeDiscord",
    "Refused",
    "member",
    "text_channel",
    "user",
]

INVALID = object()
"""A request body Discord would refuse as an invalid form body (50035)."""
VIA = {"Via": "1.1 google"}


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with the content type exactly ``application/json`` (discord.py checks it)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class Call:
    method: str
    path: str
    body: Any
    query: dict[str, str]


TOKEN_IN_PATH = ("/webhooks/", "/interactions/", "/gateway")


@dataclass
class FakeDiscord:
    clock: PlatformClock = field(default_factory=PlatformClock)
    calls: list[Call] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Channel (or thread, or DM) id -> its history, oldest first."""
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    forbidden: dict[str, int] = field(default_factory=dict)
    """Channel (or DM recipient) id -> the error code Discord answers there."""
    rate_limited: dict[str, int] = field(default_factory=dict)
    """A path fragment -> how many 429s to answer first, whatever the bucket says."""
    deny_message_content: bool = False
    lose_next_post: bool = False
    """The next message POST is stored but answered with a 502 (a response lost on the way)."""
    hold_login: asyncio.Event | None = None
    token: str = "fake-discord-token"
    """The bot token Discord knows; any other gets 401 (docs: reference, authentication),
    except on routes whose path carries their own token (webhooks, interaction callbacks)."""
    """If given, logging in (``GET /users/@me``) waits until it is set: a slow start."""
    port: int = 0
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _last_id: int = 0
    _recipients: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.channels.setdefault(CHANNEL, text_channel(CHANNEL, "study"))
        self.members.setdefault(ADMIN, member(ADMIN, "ada", permissions=MANAGE_GUILD))
        self.gateway = Gateway("", self._ready, deny_message_content=self.deny_message_content)
        self.limits = RateLimits(self.clock.now)
        self.nonces = Nonces(self.clock.now)
        self.responses = Interactions(self.clock.now, self.snowflake, self._keep)
        self.threads = Threads(self.channels, self.clock.now, self.gateway.dispatch)
        self.uploads = Uploads(self.snowflake, lambda: self.rest_url)

    def snowflake(self) -> str:
        """A new id, made at the fake's now, larger than every id before it."""
        self._last_id = max(self._last_id + 1, snowflake_at(self.clock.now(), next(self._ids)))
        return str(self._last_id)

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=CLIENT_MAX_SIZE)
        app.add_routes(
            [
                web.get("/gateway", self.gateway.serve),
                web.route("*", "/api/v10/{tail:.*}", self._rest),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()  # 0: any free port
        self.port = int(self._runner.addresses[0][1])
        self.gateway.url = self.gateway_url

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # The gateway's knobs, kept on the fake for the tests that turn them.
    @property
    def identifies(self) -> list[dict[str, Any]]:
        return self.gateway.identifies

    @property
    def resumes(self) -> int:
        return self.gateway.resumes

    @property
    def replay_overlap(self) -> int:
        return self.gateway.replay_overlap

    @replay_overlap.setter
    def replay_overlap(self, value: int) -> None:
        self.gateway.replay_overlap = value

    @property
    def interactions(self) -> dict[str, list[dict[str, Any]]]:
        """Token -> its ``callback`` and ``followup`` entries (``responses`` has the rest)."""
        return self.responses.log

    def events(self, name: str) -> list[dict[str, Any]]:
        """The data of every ``name`` dispatch sent so far."""
        return [p["d"] for p in self.gateway.sent if p["t"] == name]

    async def drop_connection(self) -> None:
        """Close the gateway socket as a network blip would (the client resumes)."""
        await self.gateway.close(code=4000, message=b"blip")

    def _ready(self) -> list[tuple[str, dict[str, Any]]]:
        channels = [c for c in self.channels.values() if c["type"] in (TEXT, FORUM)]
        active = [t for t in self.threads.all() if not self.threads.archived(t["id"])]
        return [("READY", ready(self.gateway_url)), ("GUILD_CREATE", guild(channels, active))]

    # ---- threads (``fake_threads``) -----------------------------------------------------

    def archived(self, thread_id: str) -> bool:
        return self.threads.archived(thread_id)

    async def tick(self) -> None:
        """Archive the threads whose ``auto_archive_duration`` has passed without activity."""
        await self.threads.tick()

    # ---- what members do (inbound events) ------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event, after Discord's checks on what a member may do.

        Raises ``Refused`` where Discord would not let the member do it (no event then).
        """
        await self.tick()
        channel_id = str(data.get("channel_id", ""))
        refused = event in ("MESSAGE_UPDATE", "MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE")
        if (refused or event == "INTERACTION_CREATE") and self.archived(channel_id):
            raise Refused(50083, "Thread is archived")
        if event == "MESSAGE_CREATE" and not data["author"].get("bot"):
            if self.threads.locked(channel_id):
                raise Refused(160005, "Thread is locked")
            await self.threads.touch(channel_id)
            self.messages.setdefault(channel_id, []).append(data)
        if event == "INTERACTION_CREATE":
            channel = data.get("channel") or {"id": channel_id}
            self.responses.issue(data["token"], data["id"], channel, data.get("message"))
        await self.gateway.dispatch(event, data)

    # ---- REST -----------------------------------------------------------------------------

    def called(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body = await self._body(request)
        self.calls.append(Call(request.method, path, body, dict(request.query)))
        authorized = request.headers.get("Authorization") == f"Bot {self.token}"
        if not authorized and not path.startswith(TOKEN_IN_PATH):
            return _json({"message": "401: Unauthorized", "code": 0}, 401, VIA)
        if path == "/users/@me" and self.hold_login is not None:
            await self.hold_login.wait()
        await self.tick()
        verdict = self.limits.check(request.method, path)
        if verdict.retry_after is None and self._forced_429(path):
            verdict.retry_after = 0.3
        if verdict.retry_after is not None:
            payload, headers = too_many(verdict)
            return _json(payload, 429, {**headers, **VIA})
        if body is INVALID:
            status, answer = fail(50035)
        elif isinstance(body, Refusal):
            status, answer = body.status, body.body
        else:
            status, answer = await self._route(request.method, path, body, request.query)
        if status == 502:
            return web.Response(status=502, text="bad gateway", headers=VIA)
        if status == 204:
            return web.Response(status=204, headers={**verdict.headers, **VIA})
        return _json(answer, status, {**verdict.headers, **VIA})

    def _forced_429(self, path: str) -> bool:
        for kind, remaining in self.rate_limited.items():
            if remaining > 0 and kind in path:
                self.rate_limited[kind] -= 1
                return True
        return False

    async def _body(self, request: web.Request) -> Any:
        if request.content_type.startswith("multipart/"):
            return await self._multipart(request)
        raw = await request.read() if request.can_read_body else b""
        return json.loads(raw) if raw and request.content_type == "application/json" else None

    async def _multipart(self, request: web.Request) -> Any:
        """``payload_json`` and ``files[n]`` (``fake_uploads``)."""
        return await self.uploads.parse(request)

    async def _route(self, method: str, path: str, body: Any, query: Any) -> Answer:
        body = body if body is not None else {}
        if match := re.fullmatch(r"/channels/(\d+)/messages", path):
            if method == "GET":
                return self._history(match[1], query)
            return await self._post_message(match[1], body)
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path):
            if method == "PATCH":
                return self._edit_message(match[1], match[2], body)
            return self._find(match[1], match[2])
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            return await self._start_thread(match[1], match[2], body)
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me", path):
            return self._react(match[1], match[2])
        if match := re.fullmatch(r"/channels/(\d+)", path):
            if method == "PATCH":
                return await self._edit_channel(match[1], body)
            return self._get_channel(match[1])
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            return self.responses.callback(match[1], match[2], body)
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)", path):
            return self.responses.followup(match[1], match[2], body)
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)/messages/@original", path):
            return self.responses.edit_original(match[1], match[2], body)
        return self._account(method, path, body)

    def _account(self, method: str, path: str, body: Any) -> Answer:
        """The routes of logging in and syncing commands."""
        if path == "/users/@me":
            return 200, {**bot_user(), "flags": 0}
        if path == "/oauth2/applications/@me":
            return 200, application()
        if path == "/users/@me/channels":
            return self._open_dm(str(body["recipient_id"]))
        if match := re.fullmatch(r"/users/(\d+)", path):
            known = self.members.get(match[1])
            return 200, known["user"] if known else user(match[1], f"user{match[1][-3:]}")
        if path in ("/gateway", "/gateway/bot"):
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}
        if re.fullmatch(r"/applications/\d+(?:/guilds/\d+)?/commands", path):
            commands = body if isinstance(body, list) else []
            return 200, [
                {**c, "id": self.snowflake(), "application_id": APP_ID, "version": "1"}
                for c in commands
            ]
        return 404, {"code": 0, "message": f"fake has no route for {method} {path}"}

    # ---- channels and messages ---------------------------------------------------------

    def _refusal(self, channel_id: str, *, write: bool) -> int | None:
        """The error code for using this channel, if any (a thread inherits its parent's)."""
        channel = self.channels.get(channel_id)
        if channel is None:
            return 10003
        for place in (channel_id, channel.get("parent_id"), self._recipients.get(channel_id)):
            code = self.forbidden.get(place or "")
            if code == 50001 or (code in (50013, 50007) and write):
                return code
        return None

    def _history(self, channel_id: str, query: Any) -> Answer:
        """Newest first, ``limit`` 1-100 (default 50), ``before``/``after`` a message id."""
        if code := self._refusal(channel_id, write=False):
            return fail(code)
        limit = int(query.get("limit", 50))
        if not 1 <= limit <= 100:
            return fail(50035)
        found = list(self.messages.get(channel_id, []))
        if "before" in query:
            found = [m for m in found if int(m["id"]) < int(query["before"])]
        if "after" in query:
            found = [m for m in found if int(m["id"]) > int(query["after"])]
            return 200, list(reversed(found[:limit]))
        return 200, list(reversed(found))[:limit]

    async def _post_message(self, channel_id: str, body: dict[str, Any]) -> Answer:
        if code := self._refusal(channel_id, write=True):
            return fail(code)
        if self.channels[channel_id]["type"] == FORUM:
            return fail(50008)
        if self.threads.locked(channel_id):
            return fail(160005)  # only MANAGE_THREADS may write there; the bot lacks it
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > NONCE_MAX:
            return fail(50035)
        if nonce is not None and body.get("enforce_nonce"):
            seen = self.nonces.recall(BOT_ID, str(nonce))
            if seen is not None:
                return self._find(*seen)
        if not any(body.get(k) for k in ("content", "embeds", "components", "attachments")):
            return fail(50006)
        if over_limits(body):
            return fail(50035)  # resources/message: embed limits, content 2,000
        await self.threads.touch(channel_id)
        made = self._new_message(channel_id, body, bot_user())
        if nonce is not None:
            self.nonces.remember(BOT_ID, str(nonce), channel_id, made["id"])
        await self.gateway.dispatch("MESSAGE_CREATE", made)
        if self.lose_next_post:
            self.lose_next_post = False
            return 502, None
        return 200, made

    def _new_message(
        self, channel_id: str, body: dict[str, Any], author: dict[str, Any]
    ) -> dict[str, Any]:
        stamped = {**body, "timestamp": iso(self.clock.now())}
        made = message_payload(self.snowflake(), self.channels.get(channel_id), stamped, author)
        self.messages.setdefault(channel_id, []).append(made)
        return made

    def _keep(self, made: dict[str, Any]) -> None:
        self.messages.setdefault(made["channel_id"], []).append(made)

    def _find(self, channel_id: str, message_id: str) -> Answer:
        for item in self.messages.get(channel_id, []):
            if item["id"] == message_id:
                return 200, item
        return fail(10008)

    def _edit_message(self, channel_id: str, message_id: str, body: Any) -> Answer:
        """The bot edits its own message (docs: resources/message, edit message)."""
        if code := self._refusal(channel_id, write=True):
            return fail(code)
        status, found = self._find(channel_id, message_id)
        if status != 200:
            return status, found
        if found["author"]["id"] != BOT_ID:
            return fail(50005)  # cannot edit a message authored by another user
        if over_limits(body):
            return fail(50035)
        for key in ("content", "embeds", "components"):
            if key in body:
                found[key] = body[key]
        found["edited_timestamp"] = iso(self.clock.now())
        return 200, found

    def _react(self, channel_id: str, message_id: str) -> Answer:
        if code := self._refusal(channel_id, write=True):
            return fail(code)
        if self.archived(channel_id):
            return fail(50083)  # "to add a reaction, a thread must first be unarchived"
        status, _ = self._find(channel_id, message_id)
        return (204, None) if status == 200 else fail(10008)

    def _get_channel(self, channel_id: str) -> Answer:
        if code := self._refusal(channel_id, write=False):
            return fail(code)
        return 200, self.channels[channel_id]

    def _open_dm(self, recipient: str) -> Answer:
        dm_id = str(int(recipient) + 1)
        self._recipients[dm_id] = recipient
        known = self.members.get(recipient)
        dm = {
            "id": dm_id,
            "type": DM,
            "last_message_id": None,
            "flags": 0,
            "recipients": [known["user"] if known else user(recipient, f"user{recipient[-3:]}")],
        }
        self.channels[dm_id] = dm
        return 200, dm

    async def _start_thread(self, channel_id: str, message_id: str, body: dict[str, Any]) -> Answer:
        if code := self._refusal(channel_id, write=True):
            return fail(code)
        if self.channels[channel_id]["type"] != TEXT:
            return fail(50024)
        status, starter = self._find(channel_id, message_id)
        return await self.threads.start(channel_id, starter, body) if status == 200 else fail(10008)

    async def _edit_channel(self, channel_id: str, body: dict[str, Any]) -> Answer:
        if code := self._refusal(channel_id, write=True):
            return fail(code)
        return await self.threads.edit(self.channels[channel_id], body)

    # ---- building inbound interactions ------------------------------------------------------

    def interaction(
        self,
        data: dict[str, Any],
        *,
        user_id: str = ADMIN,
        name: str = "ada",
        permissions: int | None = None,
        component: bool = False,
        channel_id: str = CHANNEL,
        dm: bool = False,
        message: dict[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """An INTERACTION_CREATE payload (send it with ``dispatch``) and its token."""
        token = f"tok{self.snowflake()}"
        if dm:
            who: dict[str, Any] = {"user": user(user_id, name)}
            channel: dict[str, Any] = {"id": channel_id, "type": DM}
        else:
            known = int(self.members.get(user_id, {}).get("permissions", "0"))
            perms = known if permissions is None else permissions
            who = {"member": member(user_id, name, permissions=perms), "guild_id": GUILD}
            channel = self.channels.get(channel_id, text_channel(channel_id, "study"))
        payload = interaction_payload(self.snowflake(), token, data, channel, who)
        if component:  # the message that carries the button, sent with the click
            carrier = message_payload(self.snowflake(), channel, {}, bot_user())
            payload.update(type=3, message=message or carrier)
        return token, payload
