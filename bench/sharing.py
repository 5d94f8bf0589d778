"""Work sharing between instances: N channels due at once, 1 instance against 3.

    python bench/sharing.py [--json] [--channels N] [--runs 3] [--db-url URL]

Each instance is a process of its own with the real services, the real store on one
PostgreSQL database (a pgserver one unless ``--db-url`` names a server whose databases
this may create and drop) and the real SlackChat against the fake Slack Web API, which
answers each call after 50 ms and runs in a process of its own. Every instance runs one
``post_due`` tick from the same start signal; the time is until the last one returns.

Figures (targets in brackets):
  one_s           N channels posted by one instance (median of the runs)
  three_s         the same N channels by three instances at once (median)
  ratio           three_s / one_s                                      [<= 0.45]
  posts_one / posts_three
                  posts the fake received: N each, or something was lost or doubled
  load_before     the 1-minute load average before the runs (2 cores here)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fanout import LATENCY, _serve_fake  # noqa: E402

NOW = datetime(2026, 3, 2, 8, 31, tzinfo=UTC)  # a Monday, past 09:30 in Berlin


def _instance(url: str, api_url: str, ready: Any, start: Any, results: Any) -> None:
    """One bot process: register, wait for the start, run one tick of due posts."""

    async def main() -> None:
        import aiohttp
        from slack_sdk.web.async_client import AsyncWebClient

        from bot import log
        from bot.adapters.slack.chat import DEFAULT_CONCURRENCY, SlackChat
        from bot.core.srs import Srs
        from bot.decks import DeckLibrary, find_content_dir
        from bot.ports.chat import Chats
        from bot.services.base import Deps
        from bot.services.policy import Policy, default_channel_settings
        from bot.services.study import StudyBot
        from bot.store.sql import SqlStore
        from tests.fakes import FakeClock

        log.configure("warning", "json", stream=sys.stderr)
        store = await SqlStore.open(url, migrate=False)
        await store.register(NOW)
        connector = aiohttp.TCPConnector(limit=DEFAULT_CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:
            client = AsyncWebClient(token="xoxb-bench", base_url=api_url, session=session)
            chats = Chats()
            chats.add(SlackChat(client, per_channel_interval=0.0))
            policy = Policy(defaults=default_channel_settings("Europe/Berlin"))
            library = DeckLibrary.load(find_content_dir())
            deps = Deps(store, chats, FakeClock(NOW), library, Srs(fuzz=False), policy)
            study = StudyBot(deps)
            ready.put(os.getpid())
            await asyncio.to_thread(start.wait)
            began = time.perf_counter()
            report = await study.posting.post_due()
            results.put((report.posted, report.failed, time.perf_counter() - began))
        await store.close()

    asyncio.run(main())


async def _seed(url: str, channels: int) -> None:
    from bot.services.policy import default_channel_settings
    from bot.store.sql import SqlStore

    store = await SqlStore.open(url)
    settings = default_channel_settings("Europe/Berlin")

    def unit(tx: Any) -> None:
        for n in range(channels):
            tx.channels.save(
                "slack",
                "T1",
                f"C{n}",
                settings,
                source="admin",
                now=NOW,
                next_post_at=NOW - timedelta(minutes=1),
                next_leaderboard_at=NOW + timedelta(days=7),
            )

    await store.write(unit)
    await store.close()


def one_run(base_url: str | None, api_url: str, channels: int, instances: int) -> dict[str, Any]:
    from tests import pg

    url = pg.fresh_database(base_url)
    try:
        asyncio.run(_seed(url, channels))
        context = multiprocessing.get_context("spawn")
        ready, results, start = context.Queue(), context.Queue(), context.Event()
        procs = [
            context.Process(target=_instance, args=(url, api_url, ready, start, results))
            for _ in range(instances)
        ]
        for proc in procs:
            proc.start()
        for _ in procs:
            ready.get(timeout=120)
        began = time.perf_counter()
        start.set()
        outcomes = [results.get(timeout=1800) for _ in procs]
        elapsed = time.perf_counter() - began
        for proc in procs:
            proc.join(30)
        return {
            "seconds": elapsed,
            "posted": sum(o[0] for o in outcomes),
            "failed": sum(o[1] for o in outcomes),
            "per_instance": [o[0] for o in outcomes],
        }
    finally:
        pg.drop_database(url, base_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--channels", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    fake = multiprocessing.Process(
        target=_serve_fake, args=(ports, LATENCY, args.channels), daemon=True
    )
    fake.start()
    try:
        api_url = f"http://127.0.0.1:{ports.get(timeout=30)}/api/"
        runs: dict[int, list[dict[str, Any]]] = {1: [], 3: []}
        for _ in range(args.runs):
            for instances in (1, 3):  # interleaved, so drifting load hits both alike
                runs[instances].append(one_run(args.db_url, api_url, args.channels, instances))
    finally:
        fake.terminate()
        fake.join()
        from tests import pg

        pg.stop_server()
    one = statistics.median(r["seconds"] for r in runs[1])
    three = statistics.median(r["seconds"] for r in runs[3])
    result = {
        "channels": args.channels,
        "latency_ms": LATENCY * 1000,
        "runs": args.runs,
        "one_s": round(one, 2),
        "three_s": round(three, 2),
        "ratio": round(three / one, 3),
        "one_each_s": [round(r["seconds"], 2) for r in runs[1]],
        "three_each_s": [round(r["seconds"], 2) for r in runs[3]],
        "posts_one": [r["posted"] for r in runs[1]],
        "posts_three": [r["posted"] for r in runs[3]],
        "three_split": [r["per_instance"] for r in runs[3]],
        "failed": sum(r["failed"] for rs in runs.values() for r in rs),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>14}: {value}")


if __name__ == "__main__":
    main()
