"""The health endpoints say what is wrong, with the status a platform acts on."""

from __future__ import annotations

import aiohttp

from bot.http import HttpServer
from bot.metrics import Metrics


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
