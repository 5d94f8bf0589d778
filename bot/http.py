"""The one HTTP server: Slack HTTP-mode events, ``/healthz`` and ``/readyz``.

Requests larger than ``MAX_BODY`` are refused by aiohttp with 413 before any handler
runs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

import structlog
from aiohttp import web

from bot.metrics import Metrics

log = structlog.get_logger("studybot.http")
MAX_BODY = 512 * 1024


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
    ) -> None:
        self._host, self._port = host, port
        self._alive, self._ready = alive, ready
        self.app = web.Application(client_max_size=MAX_BODY)
        self._metrics = metrics
        self.app.add_routes([web.get("/metrics", self._expose)] if metrics else [])
        self.app.add_routes(
            [*routes, web.get("/healthz", self._healthz), web.get("/readyz", self._readyz)]
        )
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
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
