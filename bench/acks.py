"""Slack event acks while the Web API is slow and throttling: the 3-second rule, measured.

    python bench/acks.py [--json] [--members N] [--latency S]

A channel is set up and its question posted; N members (default 100) answer in the
thread, the answer is revealed, and all N grade it with a reaction at once, as at a
reveal; 50 events a second, delivered as Slack delivers
them (tests/slack/fake_delivery.py: no 200 within 3 s means a redelivery). The fake Web
API answers every call after ``--latency`` seconds (default 1.0) and throws 429 storms
at users.info and reactions.add. Figures (targets in brackets):

  ack_p50_ms, ack_p99_ms, ack_max_ms   from sending an event to its 200      [p99 < 1000]
  redeliveries                         events Slack would have sent again     [0]
  answers_stored, grades_stored        each of N                               [N]
  handled_s                            from the first event until all were handled

The fake runs in its own process so its CPU does not count against the bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.slack.bodies import command_body, event_body, signed  # noqa: E402
from tests.slack.fake_delivery import Deliverer  # noqa: E402
from tests.slack.fake_slack import FakeSlack  # noqa: E402

SECRET = "bench-acks-secret"
RATE = 50.0
STORMS = {"users.info": 40, "reactions.add": 40}


def _serve(ports: multiprocessing.Queue[int], latency: float) -> None:
    async def main() -> None:
        fake = FakeSlack(joined={"C1"}, latency=latency, rate_limited=dict(STORMS))
        fake.users["UADMIN"] = {"is_admin": True}
        await fake.start()
        ports.put(fake.port)
        await asyncio.Event().wait()

    asyncio.run(main())


async def _wait(check: Any, within: float) -> bool:
    deadline = time.perf_counter() + within
    while time.perf_counter() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def command(http: aiohttp.ClientSession, url: str, port: int, text: str, token: str) -> None:
    """An admin's /study command, its replies going to the fake's response_url."""
    body = command_body("/study", text, "UADMIN", f"http://127.0.0.1:{port}/respond/{token}")
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed(SECRET, body)}
    async with http.post(url, data=body, headers=headers) as response:
        await response.read()


async def _burst(deliverer: Deliverer, events: list[tuple[dict[str, Any], str]]) -> None:
    """Deliver ``events`` at ``RATE`` a second, each as Slack would (redelivered if late)."""
    started = time.perf_counter()

    async def one(n: int, event: dict[str, Any], event_id: str) -> None:
        await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
        await deliverer.deliver(event_body(event, event_id), event_id)

    await asyncio.gather(*(one(n, e, i) for n, (e, i) in enumerate(events)))


async def measure(tmp: Path, port: int, members: int) -> dict[str, Any]:
    from bot import app as application
    from bot import log
    from bot.config import load_settings
    from tests.fakes import FakeClock

    log.configure(os.environ.get("BENCH_LOG", "warning"), "json", stream=sys.stderr)
    api = f"http://127.0.0.1:{port}/api/"
    settings = load_settings(
        db_url=f"sqlite+aiosqlite:///{tmp / 'acks.db'}",
        slack_bot_token="xoxb-bench",
        slack_signing_secret=SECRET,
        slack_api_url=api,
        http_host="127.0.0.1",
        http_port=0,
        tick_seconds=3600,
        default_tz="UTC",
        admins="UADMIN",  # setup works even while users.info is in its 429 storm
    )
    clock = FakeClock(datetime(2026, 3, 2, 8, tzinfo=UTC))
    async with application.build(settings, console=False, clock=clock) as built:
        task = asyncio.create_task(application.run(built))
        while built.http is None or not built.http.port:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        url = f"http://127.0.0.1:{built.http.port}/slack/events"
        async with aiohttp.ClientSession() as http:
            for n, text in enumerate(("setup", "post-now")):
                body = command_body(
                    "/study", text, "UADMIN", f"http://127.0.0.1:{port}/respond/c{n}"
                )
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    **signed(SECRET, body),
                }
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()

            async def posted() -> bool:
                return await built.store.read(lambda tx: tx.posts.latest(1)) is not None

            if not await _wait(posted, 60):
                raise RuntimeError("the daily post never went out")
            post = await built.store.read(lambda tx: tx.posts.latest(1))
            thread = str(post.thread_ref)
            deliverer = Deliverer(url, SECRET, http)
            answers = [
                (
                    {
                        "type": "message",
                        "channel": "C1",
                        "user": f"U{m}",
                        "text": f"answer {m}",
                        "ts": f"1700001{m:03d}.000001",
                        "thread_ts": thread,
                        "channel_type": "channel",
                    },
                    f"EvA{m}",
                )
                for m in range(members)
            ]
            started = time.perf_counter()
            await _burst(deliverer, answers)
            await command(http, url, port, "reveal-now", "c2")

            async def revealed() -> bool:
                row = await built.store.read(lambda tx: tx.posts.latest(1))
                return row is not None and row.reveal_ref is not None

            if not await _wait(revealed, 120):
                raise RuntimeError("the reveal never went out")
            reveal = (await built.store.read(lambda tx: tx.posts.latest(1))).reveal_ref
            reactions = [
                (
                    {
                        "type": "reaction_added",
                        "user": f"U{m}",
                        "reaction": "white_check_mark",
                        "item_user": "UBOT",
                        "event_ts": "1.1",
                        "item": {"type": "message", "channel": "C1", "ts": reveal},
                    },
                    f"EvR{m}",
                )
                for m in range(members)
            ]
            await _burst(deliverer, reactions)

            async def all_handled() -> bool:
                return await built.store.read(lambda tx: tx.inbox.backlog("slack")) == 0

            await _wait(all_handled, 900)
            handled_s = time.perf_counter() - started
        built.stop.set()
        await task
    with sqlite3.connect(tmp / "acks.db") as conn:
        stored_answers = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        stored_grades = conn.execute("SELECT count(*) FROM grades").fetchone()[0]
    firsts = [d for d in deliverer.deliveries if d.attempt == 0]
    ms = [d.ack_seconds * 1000 for d in firsts]
    return {
        "events": 2 * members,
        "latency_s": None,
        "ack_p50_ms": round(statistics.median(ms), 1),
        "ack_p99_ms": round(statistics.quantiles(ms, n=100, method="inclusive")[98], 1),
        "ack_max_ms": round(max(ms), 1),
        "redeliveries": sum(1 for d in deliverer.deliveries if d.attempt > 0),
        "answers_stored": stored_answers,
        "grades_stored": stored_grades,
        "handled_s": round(handled_s, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports, args.latency), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        with tempfile.TemporaryDirectory() as folder:
            result = await measure(Path(folder), port, args.members)
    finally:
        server.terminate()
        server.join()
    result["latency_s"] = args.latency
    result["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>15}: {value}")


if __name__ == "__main__":
    asyncio.run(main())
