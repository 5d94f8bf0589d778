"""A local fake of the Slack Web API (and Socket Mode) on 127.0.0.1.

It answers the methods studybot calls with the shapes Slack documents, records every
call, and can be told to fail the way Slack does: an error code for a method and
channel, or a burst of 429s with Retry-After.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import WSMsgType, web

BOT_USER = "UBOT"
TEAM = "T1"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    responses: list[dict[str, Any]] = field(default_factory=list)
    socket_envelopes: list[dict[str, Any]] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    latency: float = 0.0
    lose_next_response: set[str] = field(default_factory=set)
    """Methods whose next call takes effect but answers 500 (a connection lost mid-call)."""
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    port: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.add_routes(
            [
                web.route("*", "/api/{method}", self._api),
                web.post("/respond/{token}", self._respond),
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
        return f"http://127.0.0.1:{self.port}/respond/{token}"

    # ---- queries for tests ------------------------------------------------------------------

    def called(self, method: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.method == method]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        return [
            p for p in self.called("chat.postMessage") if channel is None or p["channel"] == channel
        ]

    # ---- the Web API ---------------------------------------------------------------------------

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

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
        finally:
            self.in_flight -= 1
        if self.rate_limited.get(method, 0) > 0:
            self.rate_limited[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
            )
        channel = str(params.get("channel", params.get("users", "")))
        error = self.errors.get((method, channel)) or self.errors.get((method, "*"))
        if error:
            return web.json_response({"ok": False, "error": error})
        name = re.sub(r"(?<=[a-z])([A-Z])", r"_\1", method).lower().replace(".", "_")
        handler = getattr(self, "_" + name, None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        result = {"ok": True, **handler(params)}
        if method in self.lose_next_response:
            self.lose_next_response.discard(method)
            return web.Response(status=500, text="upstream connect error")
        return web.json_response(result)

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"user_id": BOT_USER, "bot_id": "BBOT", "team_id": TEAM, "user": "studybot"}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1700000000 + next(self._ts)}.000100"
        message = {
            "ts": ts,
            "user": BOT_USER,
            "bot_id": "BBOT",
            "text": params.get("text", ""),
            "blocks": params.get("blocks", []),
            "thread_ts": params.get("thread_ts"),
            "metadata": params.get("metadata"),
        }
        self.messages.setdefault(params["channel"], []).append(message)
        return {"channel": params["channel"], "ts": ts, "message": message}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": params["channel"], "ts": params["ts"]}

    def _chat_post_ephemeral(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": f"{time.time():.6f}"}

    def _reactions_add(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params["user"]
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
        history = list(reversed(self.messages.get(params["channel"], [])))
        include = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = [{k: v for k, v in m.items() if k != "metadata" or include} for m in history]
        return {"messages": shown[: int(params.get("limit", 100))], "has_more": False}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(params["users"])}}

    def _apps_connections_open(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _respond(self, request: web.Request) -> web.Response:
        payload = json.loads(await request.read())
        payload["token"] = request.match_info["token"]
        self.responses.append(payload)
        return web.json_response({"ok": True})

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


def signed(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: timestamp and v0 HMAC-SHA256 signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def command_body(command: str, text: str, user: str, response_url: str, channel: str = "C1") -> str:
    return urlencode(
        {
            "token": "legacy-token-unused",
            "team_id": TEAM,
            "team_domain": "studyteam",
            "channel_id": channel,
            "channel_name": "study",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
    )


def event_body(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "legacy-token-unused",
            "team_id": TEAM,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
            "event": event,
        }
    )


def action_body(action_id: str, user: str, response_url: str, channel: str) -> str:
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "studyteam"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A1",
        "container": {"type": "message", "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "directmessage"},
        "trigger_id": "1.2.3",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": action_id,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
