"""The fake Discord's gateway websocket (docs: topics/gateway, opcodes-and-status-codes).

HELLO, IDENTIFY -> READY and GUILD_CREATE, heartbeats and their ACKs, RESUME with the
missed dispatches replayed, all with zlib-stream compression as discord.py asks for.
"""

from __future__ import annotations

import asyncio
import copy
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

MESSAGE_CONTENT = 1 << 15


@dataclass
class Gateway:
    url: str
    ready: Callable[[], list[tuple[str, dict[str, Any]]]]
    """The dispatches that answer an IDENTIFY (READY, then GUILD_CREATE)."""
    identifies: list[dict[str, Any]] = field(default_factory=list)
    resumes: int = 0
    replay_overlap: int = 0
    """On RESUME, also replay this many events the client had already seen."""
    deny_message_content: bool = False
    hold_ready: asyncio.Event | None = None
    """If given, READY waits until it is set (a slow start, for start-up tests)."""
    _seq: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    _ws: web.WebSocketResponse | None = None
    _compress: Any = None

    async def _send(self, payload: dict[str, Any]) -> None:
        if self._ws is None or self._ws.closed or self._compress is None:
            return  # not connected: the event waits in ``sent`` for a RESUME
        data = self._compress.compress(json.dumps(payload).encode())
        await self._ws.send_bytes(data + self._compress.flush(zlib.Z_SYNC_FLUSH))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self._seq += 1
        payload = {"op": 0, "t": event, "s": self._seq, "d": copy.deepcopy(data)}
        self.sent.append(payload)
        await self._send(payload)

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        if self._ws is not None:
            await self._ws.close(code=code, message=message)

    async def replay_from(self, seq: int) -> None:
        """Send the dispatches after ``seq`` again, as a gateway does after a RESUME."""
        for payload in [p for p in self.sent if p["s"] > seq]:
            await self._send(payload)

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._ws, self._compress = ws, zlib.compressobj()
        await self._send({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for message in ws:
            if message.type == WSMsgType.TEXT and not await self._on(json.loads(message.data)):
                break
        return ws

    async def _on(self, payload: dict[str, Any]) -> bool:
        op = payload.get("op")
        if op == 1:
            await self._send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            return await self._identify(payload["d"])
        elif op == 6:
            self.resumes += 1
            seen = int(payload["d"].get("seq") or 0)
            await self.replay_from(max(0, seen - self.replay_overlap))
            self._seq += 1
            await self._send({"op": 0, "t": "RESUMED", "s": self._seq, "d": {}})
        return True

    async def _identify(self, data: dict[str, Any]) -> bool:
        self.identifies.append(data)
        if self.deny_message_content and data["intents"] & MESSAGE_CONTENT:
            assert self._ws is not None
            await self._ws.close(code=4014, message=b"Disallowed intent(s).")
            return False
        if self.hold_ready is not None:
            await self.hold_ready.wait()
        for event, body in self.ready():
            await self.dispatch(event, body)
        return True
