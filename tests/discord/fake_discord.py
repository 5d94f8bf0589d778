"""A local fake Discord on 127.0.0.1: the REST API and the gateway websocket.

The gateway speaks the real handshake (HELLO, IDENTIFY -> READY and GUILD_CREATE,
heartbeats, RESUME with replay) with zlib-stream compression, and dispatches events the
tests hand it. REST answers the routes studybot uses with documented payload shapes,
records every call, and fails on request like Discord does (403 with code 50007, 429
with ``retry_after`` and a ``Via`` header).
"""

from __future__ import annotations

import itertools
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD = "800000000000000001"
CHANNEL = "800000000000000010"
ADMIN = "700000000000000001"
NOW = "2026-03-02T09:00:00.000000+00:00"
MANAGE_GUILD = 1 << 5


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with the content type exactly ``application/json`` (discord.py checks it)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def user(uid: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def member(uid: str, name: str, *, permissions: int = 0) -> dict[str, Any]:
    return {
        "user": user(uid, name),
        "nick": None,
        "roles": [],
        "joined_at": NOW,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "avatar": None,
        "premium_since": None,
        "pending": False,
        "permissions": str(permissions),
    }


def text_channel(cid: str, name: str) -> dict[str, Any]:
    return {
        "id": cid,
        "type": 0,
        "guild_id": GUILD,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any] | list[Any] | None
    query: dict[str, str]


@dataclass
class FakeDiscord:
    calls: list[Call] = field(default_factory=list)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    forbidden: dict[str, int] = field(default_factory=dict)
    """Channel (or DM recipient) id -> Discord error code answered with 403."""
    rate_limited: dict[str, int] = field(default_factory=dict)
    """Route kind -> how many 429s to answer first."""
    interactions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    identifies: list[dict[str, Any]] = field(default_factory=list)
    resumes: int = 0
    replay_overlap: int = 0
    """On RESUME, also replay this many events the client had already seen."""
    deny_message_content: bool = False
    lose_next_post: bool = False
    """The next message POST is stored but answered with a 502 (a response lost on the way)."""
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _seq: int = 0
    _sent: list[dict[str, Any]] = field(default_factory=list)
    _ws: web.WebSocketResponse | None = None
    _compress: Any = None
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.channels[CHANNEL] = text_channel(CHANNEL, "study")
        self.members[ADMIN] = member(ADMIN, "ada", permissions=MANAGE_GUILD)

    def snowflake(self) -> str:
        return str(600000000000000000 + next(self._ids))

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(
            [web.get("/gateway", self._gateway), web.route("*", "/api/v10/{tail:.*}", self._rest)]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ---- gateway --------------------------------------------------------------------------------

    async def _send(self, payload: dict[str, Any]) -> None:
        assert self._ws is not None and self._compress is not None
        data = self._compress.compress(json.dumps(payload).encode()) + self._compress.flush(
            zlib.Z_SYNC_FLUSH
        )
        await self._ws.send_bytes(data)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        payload = {"op": 0, "t": event, "s": self._seq, "d": data}
        self._sent.append(payload)
        await self._send(payload)

    async def drop_connection(self) -> None:
        """Close the gateway socket as a network blip would (the client resumes)."""
        if self._ws is not None:
            await self._ws.close(code=4000, message=b"blip")

    async def replay_from(self, seq: int) -> None:
        """Send the dispatches after ``seq`` again, as a gateway does after a RESUME."""
        for payload in [p for p in self._sent if p["s"] > seq]:
            await self._send(payload)

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._ws, self._compress = ws, zlib.compressobj()
        await self._send({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            payload = json.loads(message.data)
            op = payload.get("op")
            if op == 1:
                await self._send({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                self.identifies.append(payload["d"])
                if self.deny_message_content and payload["d"]["intents"] & (1 << 15):
                    await ws.close(code=4014, message=b"Disallowed intent(s).")
                    break
                await self.dispatch("READY", self._ready())
                await self.dispatch("GUILD_CREATE", self._guild())
            elif op == 6:
                self.resumes += 1
                seen = int(payload["d"].get("seq") or 0)
                await self.replay_from(max(0, seen - self.replay_overlap))
                self._seq += 1
                await self._send({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
        return ws

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {
                **user(BOT_ID, "studybot", bot=True),
                "verified": True,
                "flags": 0,
                "mfa_enabled": False,
            },
            "guilds": [{"id": GUILD, "unavailable": True}],
            "session_id": "session-1",
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": {"id": APP_ID, "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    def _guild(self) -> dict[str, Any]:
        everyone = {
            "id": GUILD,
            "name": "@everyone",
            "permissions": "104324673",
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": GUILD,
            "name": "Study Guild",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "features": [],
            "owner_id": ADMIN,
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "afk_timeout": 300,
            "afk_channel_id": None,
            "channels": [c for c in self.channels.values() if c["type"] == 0],
            "members": [member(BOT_ID, "studybot")],
            "member_count": 3,
            "large": False,
            "threads": [c for c in self.channels.values() if c["type"] == 11],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "joined_at": NOW,
            "unavailable": False,
        }

    # ---- REST -------------------------------------------------------------------------------------

    def called(self, method: str, pattern: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and re.fullmatch(pattern, c.path)]

    def _error(self, status: int, code: int, message: str) -> web.Response:
        return _json({"code": code, "message": message}, status=status)

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json" and raw:
                body = json.loads(raw)
            elif request.content_type.startswith("multipart"):
                body = await self._multipart(raw, request.content_type)
        self.calls.append(Call(request.method, path, body, dict(request.query)))
        for kind, remaining in list(self.rate_limited.items()):
            if remaining > 0 and kind in path:
                self.rate_limited[kind] -= 1
                return _json(
                    {"message": "You are being rate limited.", "retry_after": 0.3, "global": False},
                    status=429,
                    headers={"Retry-After": "1", "Via": "1.1 google", "X-RateLimit-Scope": "user"},
                )
        return await self._route(request.method, path, body or {})

    async def _multipart(self, raw: bytes, content_type: str) -> Any:
        boundary = content_type.split("boundary=")[-1].strip('"')
        for part in raw.split(f"--{boundary}".encode()):
            if b'name="payload_json"' in part:
                return json.loads(part.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n", 1)[0])
        return None

    def _message(
        self, channel_id: str, body: dict[str, Any], author: dict[str, Any]
    ) -> dict[str, Any]:
        message = {
            "id": self.snowflake(),
            "channel_id": channel_id,
            "author": author,
            "content": body.get("content") or "",
            "timestamp": NOW,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds", []),
            "pinned": False,
            "type": 0,
            "flags": body.get("flags", 0),
            "components": body.get("components", []),
            "nonce": body.get("nonce"),
        }
        channel = self.channels.get(channel_id, {})
        if channel.get("guild_id"):
            message["guild_id"] = channel["guild_id"]
        return message

    async def _route(self, method: str, path: str, body: dict[str, Any]) -> web.StreamResponse:
        if method == "GET" and path == "/users/@me":
            return _json({**user(BOT_ID, "studybot", bot=True), "flags": 0})
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": APP_ID,
                    "name": "studybot",
                    "icon": None,
                    "description": "",
                    "rpc_origins": [],
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "0" * 64,
                    "flags": 0,
                    "owner": user(ADMIN, "ada"),
                    "team": None,
                    "summary": "",
                    "tags": [],
                    "interactions_endpoint_url": None,
                }
            )
        if match := re.fullmatch(r"/users/(\d+)", path):
            known = self.members.get(match[1])
            return _json(known["user"] if known else user(match[1], f"user{match[1][-3:]}"))
        if method == "GET" and path == "/gateway":
            return _json({"url": self.gateway_url})
        if match := re.fullmatch(r"/applications/\d+(?:/guilds/\d+)?/commands", path):
            return _json(
                [
                    {
                        **c,
                        "id": self.snowflake(),
                        "application_id": APP_ID,
                        "version": "1",
                        "default_member_permissions": c.get("default_member_permissions"),
                    }
                    for c in body
                ]
                if isinstance(body, list)
                else []
            )
        if match := re.fullmatch(r"/channels/(\d+)/messages", path):
            channel_id = match[1]
            if method == "GET":
                return _json(list(reversed(self.messages.get(channel_id, [])))[:100])
            recipient = self.channels.get(channel_id, {}).get("recipient")
            code = self.forbidden.get(channel_id) or (
                self.forbidden.get(recipient) if recipient else None
            )
            if code:
                return self._error(
                    403,
                    code,
                    "Missing Access" if code != 50007 else "Cannot send messages to this user",
                )
            nonce = body.get("nonce")
            if nonce and body.get("enforce_nonce"):
                for existing in self.messages.get(channel_id, []):
                    if existing.get("nonce") == nonce:
                        return _json(existing)
            message = self._message(channel_id, body, user(BOT_ID, "studybot", bot=True))
            self.messages.setdefault(channel_id, []).append(message)
            if self.lose_next_post:
                self.lose_next_post = False
                return web.Response(status=502, text="bad gateway")
            return _json(message)
        if match := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path):
            thread_id = match[2]  # Discord gives a thread started on a message that message's id
            thread = {
                "id": thread_id,
                "type": 11,
                "guild_id": GUILD,
                "parent_id": match[1],
                "owner_id": BOT_ID,
                "name": body.get("name", "thread"),
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "message_count": 0,
                "member_count": 1,
                "flags": 0,
                "total_message_sent": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": body.get("auto_archive_duration", 1440),
                    "archive_timestamp": NOW,
                    "locked": False,
                },
            }
            self.channels[thread_id] = thread
            for message in self.messages.get(match[1], []):
                if message["id"] == thread_id:
                    message["thread"] = thread
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
            return _json(thread)
        if re.fullmatch(r"/channels/\d+/messages/\d+/reactions/[^/]+/@me", path):
            return web.Response(status=204)
        if match := re.fullmatch(r"/channels/(\d+)", path):
            channel = self.channels.get(match[1])
            return _json(channel) if channel else self._error(404, 10003, "Unknown Channel")
        if path == "/users/@me/channels":
            recipient = str(body["recipient_id"])
            dm_id = str(int(recipient) + 1)
            dm = {
                "id": dm_id,
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [user(recipient, f"user{recipient[-3:]}")],
                "recipient": recipient,
            }
            self.channels[dm_id] = dm
            return _json({k: v for k, v in dm.items() if k != "recipient"})
        if match := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path):
            self.interactions.setdefault(match[2], []).append({"callback": body})
            flags = (body.get("data") or {}).get("flags", 0)
            return _json(
                {
                    "interaction": {
                        "id": match[1],
                        "type": 2,
                        "response_message_loading": True,
                        "response_message_ephemeral": bool(flags & 64),
                    },
                    "resource": {"type": body.get("type", 5)},
                }
            )
        if match := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/@original)?", path):
            self.interactions.setdefault(match[2], []).append({"followup": body})
            message = self._message("0", body, user(APP_ID, "studybot", bot=True))
            message["webhook_id"] = APP_ID
            return _json(message)
        return self._error(404, 0, f"fake has no route for {method} {path}")

    # ---- inbound events ------------------------------------------------------------------------

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
        token = f"tok{self.snowflake()}"
        payload: dict[str, Any] = {
            "id": self.snowflake(),
            "application_id": APP_ID,
            "type": 3 if component else 2,
            "token": token,
            "version": 1,
            "channel_id": channel_id,
            "data": data,
            "locale": "en-US",
            "entitlements": [],
            "app_permissions": "2251799813685247",
            "authorizing_integration_owners": {"0": GUILD},
            "context": 1 if dm else 0,
            "attachment_size_limit": 8388608,
        }
        if dm:
            payload["user"] = user(user_id, name)
            payload["channel"] = {"id": channel_id, "type": 1}
        else:
            perms = (
                permissions
                if permissions is not None
                else int(self.members.get(user_id, {}).get("permissions", "0"))
            )
            payload["guild_id"] = GUILD
            payload["guild_locale"] = "en-US"
            payload["member"] = member(user_id, name, permissions=perms)
            payload["channel"] = self.channels.get(channel_id, text_channel(channel_id, "study"))
        if component:
            # The message that carries the button, as Discord sends it with the click.
            payload["message"] = message or self._message(
                channel_id, {}, user(BOT_ID, "studybot", bot=True)
            )
        return token, payload


def now_iso() -> str:
    return datetime.now(UTC).isoformat()
