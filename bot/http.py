"""The one HTTP server: Slack HTTP-mode events, ``/healthz`` and ``/readyz``.

The server faces the internet, so every connection is bounded:

- ``MAX_CONNECTIONS`` (256) connections at once. One more is answered ``503`` and closed
  at once, so file descriptors never run out (the systemd unit allows 65,536) and the
  connections already open are not disturbed.
- ``HEADER_SECONDS`` (5): a new connection that has not sent complete request headers by
  then is closed (a socket that sends nothing, or headers a byte at a time).
- ``KEEPALIVE_SECONDS`` (15): a kept-alive connection idle that long is closed.
- Request lines and header fields up to ``MAX_LINE`` bytes (8 KiB); bodies up to
  ``MAX_BODY`` (512 KiB), larger ones get 413 before any handler reads them; the unread
  rest of a refused body is drained for at most ``LINGER_SECONDS`` (5).

aiohttp parses HTTP; a small protocol in front of its handlers (``_Gate``) counts the
connections and times the first request's headers, which aiohttp's own options do not
cover in every version this project supports.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable

import structlog
from aiohttp import web

from bot.metrics import Metrics

log = structlog.get_logger("studybot.http")
MAX_BODY = 512 * 1024
MAX_CONNECTIONS = 256
HEADER_SECONDS = 5.0
KEEPALIVE_SECONDS = 15.0
MAX_LINE = 8190
LINGER_SECONDS = 5.0
BACKLOG = 128
_FULL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Length: 0\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
)
_HEADERS_END = b"\r\n\r\n"


class Throttle:
    """At most one log line per ``every`` seconds; the next one says how many were held.

    ``ready()`` returns ``None`` while a line went out recently (and counts this one as
    held back), otherwise the number held back since the last line.
    """

    def __init__(self, every: float = 10.0, now: Callable[[], float] = time.monotonic) -> None:
        self._every, self._now = every, now
        self._next = -math.inf
        self._held = 0

    def ready(self) -> int | None:
        now = self._now()
        if now < self._next:
            self._held += 1
            return None
        held, self._held = self._held, 0
        self._next = now + self._every
        return held


class _Limits:
    """What the connections of one listening socket share."""

    def __init__(self, cap: int, header_seconds: float) -> None:
        self.cap, self.header_seconds = cap, header_seconds
        self.open: set[_Gate] = set()
        self.throttle = Throttle()


class _Gate(asyncio.Protocol):
    """One connection: refused when the server is full, closed when its first request's
    headers are late, otherwise handed to aiohttp's request handler."""

    def __init__(self, limits: _Limits, handlers: web.Server) -> None:
        self._limits, self._handlers = limits, handlers
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        limits = self._limits
        if len(limits.open) >= limits.cap:
            transport.write(_FULL)
            transport.close()
            if (held := limits.throttle.ready()) is not None:
                log.warning("http_connections_full", limit=limits.cap, held_back=held)
            return
        limits.open.add(self)
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(limits.header_seconds, self._late)
        self._inner = self._handlers()
        self._inner.connection_made(transport)

    def _late(self) -> None:
        self._timer = None
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        if self._inner is None:
            return
        if self._timer is not None:
            seen = self._tail + data
            if _HEADERS_END in seen:
                self._timer.cancel()
                self._timer = None  # from here on aiohttp's keep-alive timer rules
            else:
                self._tail = seen[-3:]
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._limits.open.discard(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._inner is not None:
            self._inner.connection_lost(exc)
        self._transport = None


class _Site(web.BaseSite):
    """A TCP site whose connections pass through ``_Gate``."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, limits: _Limits) -> None:
        super().__init__(runner, backlog=BACKLOG)
        assert runner.server is not None
        self._handlers, self._host, self._port, self._limits = runner.server, host, port, limits

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        self._server = await asyncio.get_running_loop().create_server(
            lambda: _Gate(self._limits, self._handlers),
            self._host,
            self._port,
            backlog=BACKLOG,
        )


class HttpServer:
    def __init__(
        self,
        host: str,
        port: int,
        routes: Iterable[web.RouteDef],
        *,
        alive: Callable[[], bool],
        ready: Callable[[], Awaitable[dict[str, bool]]],
        metrics: Metrics | None = None,
        max_connections: int = MAX_CONNECTIONS,
        header_seconds: float = HEADER_SECONDS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
    ) -> None:
        if max_connections < 1 or header_seconds <= 0 or keepalive_seconds <= 0:
            raise ValueError(
                "max_connections must be at least 1 and both timeouts positive, got "
                f"{max_connections}, {header_seconds} s, {keepalive_seconds} s"
            )
        self._host, self._port = host, port
        self._alive, self._ready = alive, ready
        self._limits = _Limits(max_connections, header_seconds)
        self._keepalive_seconds = keepalive_seconds
        self.app = web.Application(client_max_size=MAX_BODY)
        self._metrics = metrics
        self.app.add_routes([web.get("/metrics", self._expose)] if metrics else [])
        self.app.add_routes(
            [*routes, web.get("/healthz", self._healthz), web.get("/readyz", self._readyz)]
        )
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def open_connections(self) -> int:
        """Connections being served now (refused ones are not counted)."""
        return len(self._limits.open)

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            keepalive_timeout=self._keepalive_seconds,
            max_line_size=MAX_LINE,
            max_field_size=MAX_LINE,
            lingering_time=LINGER_SECONDS,
        )
        await self._runner.setup()
        site = _Site(self._runner, self._host, self._port, self._limits)
        await site.start()
        addresses = self._runner.addresses
        self.port = int(addresses[0][1]) if addresses else self._port
        log.info("http_listening", host=self._host, port=self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _expose(self, _request: web.Request) -> web.Response:
        assert self._metrics is not None
        body, content_type = self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def _healthz(self, _request: web.Request) -> web.Response:
        ok = self._alive()
        return web.json_response(
            {"status": "ok" if ok else "stalled", "time": time.time()}, status=200 if ok else 503
        )

    async def _readyz(self, _request: web.Request) -> web.Response:
        checks = await self._ready()
        ok = all(checks.values())
        return web.json_response({"ready": ok, "checks": checks}, status=200 if ok else 503)
