"""The HTTP server: health endpoints, and bounds on what one connection can hold."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from structlog.testing import capture_logs

from bot.http import HttpServer, Throttle
from bot.metrics import Metrics

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def test_liveness_and_readiness_report_failures() -> None:
    alive = [True]
    checks = {"database": True, "slack": True}

    async def ready() -> dict[str, bool]:
        return dict(checks)

    server = HttpServer("127.0.0.1", 0, [], alive=lambda: alive[0], ready=ready, metrics=Metrics())
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
            alive[0] = False  # the scheduler stopped ticking
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 503
                assert (await response.json())["status"] == "stalled"
            checks["slack"] = False  # e.g. the Socket Mode connection dropped
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 503
                assert (await response.json())["checks"] == {"database": True, "slack": False}
            async with http.get(f"{base}/metrics") as response:
                assert "studybot_posts_total" in await response.text()
    finally:
        await server.stop()


async def _ready() -> dict[str, bool]:
    return {}


@contextlib.asynccontextmanager
async def serving(routes: Iterable[web.RouteDef] = (), **limits: Any) -> AsyncIterator[HttpServer]:
    server = HttpServer("127.0.0.1", 0, routes, alive=lambda: True, ready=_ready, **limits)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def connect(server: HttpServer) -> Connection:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def get(connection: Connection, path: str = "/healthz") -> int:
    """One request on an open connection; its status (the body is read and dropped)."""
    reader, writer = connection
    writer.write(f"GET {path} HTTP/1.1\r\nHost: studybot\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return int(head.split()[1])


async def closed_by_server(connection: Connection) -> bytes:
    """Everything the server still sends; returns once it has closed the connection (the
    timeout only stops a broken test from hanging)."""
    reader, _ = connection
    async with asyncio.timeout(10):
        try:
            return await reader.read()
        except ConnectionResetError:
            return b""


async def until(check: Callable[[], bool]) -> None:
    """Wait for the server's side of a connection to catch up with the client's."""
    async with asyncio.timeout(10):
        while True:
            if check():
                return
            await asyncio.sleep(0.01)


def close(connections: Iterable[Connection]) -> None:
    for _, writer in connections:
        writer.close()


async def test_connections_that_never_finish_their_headers_are_closed() -> None:
    async with serving(header_seconds=0.2) as server:
        silent = [await connect(server) for _ in range(40)]
        trickling = [await connect(server) for _ in range(10)]
        for _, writer in trickling:  # a request line and one header, never the blank line
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: studybot\r\n")
        try:
            leftovers = await asyncio.gather(*map(closed_by_server, silent + trickling))
            assert leftovers == [b""] * 50
            await until(lambda: server.open_connections == 0)
            fresh = await connect(server)
            assert await get(fresh) == 200  # the server itself is fine
            close([fresh])
        finally:
            close(silent + trickling)


async def test_a_request_whose_headers_came_in_time_is_not_cut_off() -> None:
    release = asyncio.Event()

    async def slow(_request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="done")

    async with serving([web.get("/slow", slow)], header_seconds=0.2) as server:
        busy = await connect(server)
        request = asyncio.ensure_future(get(busy, "/slow"))
        idle = await connect(server)  # opened later: its header deadline passes later
        try:
            await closed_by_server(idle)  # so the busy connection's deadline has passed too
            release.set()
            assert await request == 200
        finally:
            close([busy, idle])


async def test_an_idle_kept_alive_connection_is_closed() -> None:
    async with serving(keepalive_seconds=0.3) as server:
        connection = await connect(server)
        try:
            assert await get(connection) == 200
            assert await get(connection) == 200  # kept alive for the next request
            assert await closed_by_server(connection) == b""
        finally:
            close([connection])


async def test_connections_beyond_the_cap_are_refused_and_the_others_served() -> None:
    async with serving(max_connections=3) as server:
        admitted = [await connect(server) for _ in range(3)]
        try:
            await until(lambda: server.open_connections == 3)
            with capture_logs() as lines:
                extra = [await connect(server) for _ in range(5)]
                answers = await asyncio.gather(*map(closed_by_server, extra))
            assert lines == [  # one line for the burst, not one per connection
                {
                    "event": "http_connections_full",
                    "limit": 3,
                    "held_back": 0,
                    "log_level": "warning",
                }
            ]
            assert all(a.startswith(b"HTTP/1.1 503 ") for a in answers), answers
            assert server.open_connections == 3
            assert [await get(c) for c in admitted] == [200, 200, 200]  # undisturbed
            close(admitted[:1])
            await until(lambda: server.open_connections == 2)
            latecomer = await connect(server)  # a slot is free again
            assert await get(latecomer) == 200
            close([latecomer, *extra])
        finally:
            close(admitted)


@pytest.mark.parametrize(
    "limits",
    [{"max_connections": 0}, {"header_seconds": 0.0}, {"keepalive_seconds": -1.0}],
)
def test_limits_that_would_serve_nothing_are_refused(limits: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="max_connections must be at least 1"):
        HttpServer("127.0.0.1", 0, [], alive=lambda: True, ready=_ready, **limits)


def test_throttle_lets_one_line_through_per_period_and_counts_the_rest() -> None:
    now = [100.0]
    throttle = Throttle(every=10.0, now=lambda: now[0])
    assert throttle.ready() == 0
    assert [throttle.ready() for _ in range(5)] == [None] * 5
    now[0] = 109.9
    assert throttle.ready() is None
    now[0] = 110.0
    assert throttle.ready() == 6  # the lines held back since the last one
    assert throttle.ready() is None
