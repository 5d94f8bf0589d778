"""Slack fan-out and ack benchmark against a local fake Web API.

    python bench/fanout.py [--json] [--channels N]

Figures (targets in brackets):
  fanout_s        daily posts to N channels (default 10,000) through the real SlackChat,
                  the fake answering each call after 50 ms
  ideal_s         channels x latency / concurrency
  fanout_ratio    fanout_s / ideal_s                                   [<= 1.25]
  client_ceiling_per_s
                  the same posts against a fake that answers at once: what the client
                  can do on this machine's CPU, whatever the latency
  needed_per_s    channels / ideal_s, the rate the ideal asks for
  ack_p50_ms      slash-command ack latency at 50 commands/s through the real Bolt app
  ack_p99_ms                                                           [< 100]

The fake runs in its own process so its CPU does not count against the adapter's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.adapters.slack.chat import DEFAULT_CONCURRENCY, SlackChat  # noqa: E402
from bot.core.models import Target  # noqa: E402
from bot.decks import DeckLibrary, find_content_dir  # noqa: E402
from bot.services import messages  # noqa: E402
from bot.services.policy import Policy  # noqa: E402
from tests.slack.fake_slack import FakeSlack, command_body, signed  # noqa: E402

LATENCY = 0.05
CONCURRENCY = DEFAULT_CONCURRENCY  # the adapter's own bound


def _serve_fake(port_queue: multiprocessing.Queue[int], latency: float, channels: int) -> None:
    async def main() -> None:
        fake = FakeSlack(latency=latency, joined={f"C{n}" for n in range(channels)})
        await fake.start()
        port_queue.put(fake.port)
        await asyncio.Event().wait()  # serve until the parent terminates us

    asyncio.run(main())


async def fanout(api_url: str, channels: int, concurrency: int = CONCURRENCY) -> float:
    from slack_sdk.web.async_client import AsyncWebClient

    card = next(DeckLibrary.load(find_content_dir()).cards())
    message = messages.daily_post(
        card, reveal_at="15:00", key="k", policy=Policy(), new_cycle=False, deck_title="Deck"
    )
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        sdk_logger = logging.getLogger("studybot.slack_sdk")
        sdk_logger.setLevel(logging.INFO)  # as the adapter does (see SlackAdapter)
        client = AsyncWebClient(
            token="xoxb-bench", base_url=api_url, session=session, logger=sdk_logger
        )
        chat = SlackChat(client, concurrency=concurrency)
        started = time.perf_counter()
        await asyncio.gather(
            *(
                chat.post(
                    Target("slack", "T1", f"C{n}"),
                    message,
                    key=f"studybot:post:{n}:2026-03-02",
                    thread=True,
                )
                for n in range(channels)
            )
        )
        return time.perf_counter() - started


async def acks(tmp: Path, api_url: str, rate: float, seconds: float) -> list[float]:
    from bot import app as application
    from bot import log
    from bot.config import load_settings
    from tests.fakes import FakeClock

    log.configure("warning", "json", stream=sys.stderr)
    secret = "bench-secret"
    settings = load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp / 'acks.db'}",
        slack_bot_token="xoxb-bench",
        slack_signing_secret=secret,
        slack_api_url=api_url,
        http_host="127.0.0.1",
        http_port=0,
        tick_seconds=3600,
    )
    latencies: list[float] = []
    async with application.build(
        settings, console=False, clock=FakeClock(datetime(2026, 3, 2, 8, tzinfo=UTC))
    ) as built:
        task = asyncio.create_task(application.run(built))
        for _ in range(200):
            if built.http is not None and built.http.port:
                break
            await asyncio.sleep(0.05)
        assert built.http is not None
        url = f"http://127.0.0.1:{built.http.port}/slack/events"
        async with aiohttp.ClientSession() as http:

            async def one(n: int, at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
                body = command_body(
                    "/study", "help", f"U{n % 50}", api_url.replace("/api/", f"/respond/{n}")
                )
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    **signed(secret, body),
                }
                started = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200
                latencies.append((time.perf_counter() - started) * 1000)

            start = time.perf_counter() + 0.2
            await asyncio.gather(*(one(n, start + n / rate) for n in range(int(rate * seconds))))
        built.stop.set()
        await task
    return latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args()
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    servers = [
        multiprocessing.Process(
            target=_serve_fake, args=(ports, latency, args.channels), daemon=True
        )
        for latency in (LATENCY, 0.0)
    ]
    try:
        urls = []
        for server in servers:  # one at a time, so each port belongs to its fake
            server.start()
            urls.append(f"http://127.0.0.1:{ports.get(timeout=30)}/api/")
        api_url, instant_url = urls
        fanout_s = await fanout(api_url, args.channels, args.concurrency)
        instant_s = await fanout(instant_url, args.channels, args.concurrency)
        with tempfile.TemporaryDirectory() as folder:
            latencies = await acks(Path(folder), api_url, rate=50.0, seconds=10.0)
    finally:
        for server in servers:
            server.terminate()
            server.join()
    ideal = args.channels * LATENCY / args.concurrency
    result = {
        "channels": args.channels,
        "latency_ms": LATENCY * 1000,
        "concurrency": args.concurrency,
        "fanout_s": round(fanout_s, 2),
        "ideal_s": round(ideal, 2),
        "fanout_ratio": round(fanout_s / ideal, 3),
        "client_ceiling_per_s": round(args.channels / instant_s),
        "needed_per_s": round(args.channels / ideal),
        "ack_p50_ms": round(statistics.median(latencies), 2),
        "ack_p99_ms": round(statistics.quantiles(latencies, n=100)[98], 2),
        "commands": len(latencies),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>14}: {value}")


if __name__ == "__main__":
    asyncio.run(main())
