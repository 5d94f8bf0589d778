"""Engine benchmark: real services on the real SQLite store, against the raw ceiling.

    python bench/engine.py [--json] [--events N] [--quick] [--runs 3] [--db-url URL|pgserver]

Figures (targets in brackets):
  events_per_s          simulated members' answers, grades and follow-up reviews
                        replayed through the services, one after another
  ceiling_events_per_s  the same number of events as raw aiosqlite writes (insert answer,
                        upsert streak, upsert card state, one commit per event)
  ratio                 events_per_s / ceiling_events_per_s            [>= 0.5]
  p99_ms                latency at 200 events/s offered load (open loop) [< 20]
  (each of the above: the median of --runs runs, interleaved)
  concurrent_events_per_s  100 producers at once (each sends its next event when the
                        last is handled); the writer commits waiting units together
  concurrent_ratio      concurrent_events_per_s / the raw ceiling at 1,000 events per
                        transaction                                    [>= 0.3]
  concurrent_p99_ms     latency of those events                       [< 50]
  pg_events_per_s       with --db-url: the same services on PostgreSQL
  pg_to_sqlite          pg_events_per_s / events_per_s of the same run (median) [>= 0.7]
  pg_p99_ms             p99 at 200 events/s on PostgreSQL               [< 20]
  due_query_ms          one page of the per-member follow-up selection (1,000 ready
                        members, up to 5 due cards each) over 1,000,000 card states [< 50]
  leaderboard_ms        a weekly leaderboard with 10,000,000 point rows  [< 100]
  idle_rss_mb           `studybot run` with 10,000 channels and the scheduler [< 120]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiosqlite

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import settle_heap  # noqa: E402
from bot.core.models import Actor, Place  # noqa: E402
from bot.core.srs import Srs  # noqa: E402
from bot.decks import DeckLibrary, find_content_dir  # noqa: E402
from bot.ports.chat import Chats  # noqa: E402
from bot.services.base import Deps  # noqa: E402
from bot.services.policy import Policy, default_channel_settings  # noqa: E402
from bot.services.study import StudyBot  # noqa: E402
from bot.store.sql import SqlStore  # noqa: E402
from tests.fakes import FakeChat, FakeClock  # noqa: E402

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
CHANNELS = 20
MEMBERS = 400


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# ---- the event stream -------------------------------------------------------------------


class World:
    """Channels with a revealed daily post each, and members who answer and grade."""

    def __init__(self, study: StudyBot, chat: FakeChat, clock: FakeClock) -> None:
        self.study, self.chat, self.clock = study, chat, clock
        self.admin = Actor("fake", "T", "admin", "Admin")
        self.threads: dict[int, tuple[Place, str]] = {}
        self.counter = 0

    def member(self, n: int) -> Actor:
        return Actor("fake", "T", f"U{n}", f"member{n}")

    async def prepare(self, days: int) -> None:
        from bot.core.commands import parse

        for c in range(CHANNELS):
            place = Place("fake", "T", f"C{c}")
            await self.study.command(self.admin, place, parse("study", "setup days=daily"))
        for _ in range(days):
            self.clock.advance(days=1)
            self.chat.sent.clear()
            for c in range(CHANNELS):
                place = Place("fake", "T", f"C{c}")
                await self.study.command(self.admin, place, parse("study", "post-now"))
            for c, sent in enumerate(self.chat.posts()):
                self.threads[c] = (Place("fake", "T", f"C{c}", sent.ref), sent.ref)

    def events(self, count: int, seed: int = 7) -> list[tuple[str, Actor, int]]:
        rng = random.Random(seed)
        return [
            (
                rng.choice(("answer", "answer", "grade", "followup")),
                self.member(rng.randrange(MEMBERS)),
                rng.randrange(CHANNELS),
            )
            for _ in range(count)
        ]

    async def reveal_all(self) -> None:
        from bot.core.commands import parse

        for c in range(CHANNELS):
            await self.study.command(
                self.admin, Place("fake", "T", f"C{c}"), parse("study", "reveal-now")
            )
        self.reveals = {c: s.ref for c, s in enumerate(self.chat.posts("reveal"))}

    async def seed_followups(self, store: SqlStore, library: DeckLibrary) -> None:
        """Give every member a few due cards and DM them, so follow-up reviews can be graded."""
        from bot.ports.store import Tx

        srs = Srs(fuzz=False)
        keys = [c.key for c in list(library.cards())[:10]]
        past = self.clock.now() - timedelta(days=3)
        state = srs.review(srs.new(past), _grade(2), past)

        def seed(tx: Tx) -> None:
            for n in range(MEMBERS):
                member = tx.members.ensure("fake", "T", f"U{n}", f"member{n}", None, past)
                for key in keys:
                    tx.reviews.save_state(
                        member.id, key, state, first_seen=past, origin_channel_id=None
                    )

        await store.write(seed)
        while await self.study.followups.send_due():
            pass  # one batch of 10 per member: an unopened batch holds the next
        by_ref = {f"U{n}": self.member(n) for n in range(MEMBERS)}
        self.followups = [
            (by_ref[user], m.buttons[0].action.split(":")[2]) for user, m, _ in self.chat.dms
        ]

    async def handle(self, kind: str, actor: Actor, channel: int) -> None:
        self.counter += 1
        place, _thread = self.threads[channel]
        if kind == "answer":
            await self.study.message(
                actor, place, f"m{self.counter}", "an answer", event_id=f"E{self.counter}"
            )
        elif kind == "grade":
            emoji = ("x", "grimacing", "white_check_mark", "rocket")[self.counter % 4]
            await self.study.reaction(
                actor, place, self.reveals[channel], emoji, added=True, event_id=f"E{self.counter}"
            )
        elif self.followups:
            # A follow-up review: the member grades a DM'd card with its button.
            who, followup = self.followups.pop()
            await self.study.button(who, f"fu:grade:{followup}:{_grade(self.counter).value}")
        else:
            raise RuntimeError("the benchmark ran out of follow-ups; seed more")


def _grade(n: int):  # type: ignore[no-untyped-def]
    from bot.core.models import Grade

    return Grade(n % 4 + 1)


async def build(url: str) -> tuple[SqlStore, StudyBot, FakeChat, FakeClock]:
    store = await SqlStore.open(url)
    chat, clock = FakeChat(platform="fake"), FakeClock(START)
    chats = Chats()
    chats.add(chat)
    library = DeckLibrary.load(find_content_dir())
    # A first batch of 10 per member (the daily cap): 4,000 follow-ups to grade, enough for
    # every run's events (an unopened batch holds the next, so there is one batch each).
    policy = Policy(
        defaults=default_channel_settings("UTC"), admins=frozenset({"admin"}), followup_batch=10
    )
    return store, StudyBot(Deps(store, chats, clock, library, Srs(fuzz=False), policy)), chat, clock


async def service_throughput(url: str, count: int) -> tuple[float, World, SqlStore]:
    store, study, chat, clock = await build(url)
    world = World(study, chat, clock)
    await world.prepare(days=1)
    await world.reveal_all()
    clock.set(clock.now().replace(hour=12))  # inside everyone's waking hours (UTC)
    await world.seed_followups(store, study.decks)  # type: ignore[arg-type]
    warm = world.events(200, seed=3)
    for event in warm:  # members and connections exist before timing starts
        await world.handle(*event)
    settle_heap()  # as `studybot run` does once it has started
    events = world.events(count)
    started = time.perf_counter()
    for event in events:
        await world.handle(*event)
    elapsed = time.perf_counter() - started
    return count / elapsed, world, store


async def postgres_figures(db_url: str, count: int) -> tuple[float, float]:
    """(events/s, p99 ms at 200 events/s) of the services on a fresh PostgreSQL database."""
    from tests import pg

    url = await asyncio.to_thread(pg.fresh_database) if db_url == "pgserver" else db_url
    if db_url != "pgserver":
        await asyncio.to_thread(_empty, url)
    try:
        events_per_s, world, store = await service_throughput(url, count)
        p99 = await open_loop_p99(world, 200.0, 10.0)
        await store.close()
    finally:
        if db_url == "pgserver":
            await asyncio.to_thread(pg.drop_database, url)
    return events_per_s, p99


def _empty(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


async def ceiling_throughput(db: Path, count: int, batch: int = 1) -> float:
    """Raw aiosqlite writes of ``count`` events, committing every ``batch`` events."""
    async with aiosqlite.connect(db, isolation_level=None) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.executescript(
            """
            CREATE TABLE answers (id INTEGER PRIMARY KEY, post_id INT, member_id INT, text TEXT,
                created_at TEXT, UNIQUE (post_id, member_id));
            CREATE TABLE streaks (channel_id INT, member_id INT, current INT, through TEXT,
                PRIMARY KEY (channel_id, member_id));
            CREATE TABLE card_states (member_id INT, card_key TEXT, stability REAL, due_at TEXT,
                PRIMARY KEY (member_id, card_key));
            """
        )
        rng = random.Random(7)
        started = time.perf_counter()
        for n in range(count):
            member, channel = rng.randrange(MEMBERS), rng.randrange(CHANNELS)
            now = (START + timedelta(seconds=n)).isoformat()
            if n % batch == 0:
                await conn.execute("BEGIN IMMEDIATE")
            await conn.execute(
                "INSERT INTO answers (post_id, member_id, text, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (n, member, "an answer", now),
            )
            await conn.execute(
                "INSERT INTO streaks VALUES (?, ?, 1, ?) ON CONFLICT (channel_id, member_id) "
                "DO UPDATE SET current = current + 1, through = excluded.through",
                (channel, member, now),
            )
            await conn.execute(
                "INSERT INTO card_states VALUES (?, ?, 2.3, ?) ON CONFLICT (member_id, card_key) "
                "DO UPDATE SET stability = excluded.stability, due_at = excluded.due_at",
                (member, f"deck/card-{n % 50}", now),
            )
            if n % batch == batch - 1 or n == count - 1:
                await conn.execute("COMMIT")
        return count / (time.perf_counter() - started)


async def concurrent_throughput(
    world: World, count: int, producers: int = 100
) -> tuple[float, float]:
    """(events/s, p99 ms) with ``producers`` members sending events at once, each its next
    as soon as the last is handled (the reveal peak): the store's writer groups them."""
    events = world.events(count, seed=13)
    latencies: list[float] = []

    async def produce(mine: list[tuple[str, Actor, int]]) -> None:
        for event in mine:
            began = time.perf_counter()
            await world.handle(*event)
            latencies.append((time.perf_counter() - began) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(produce(events[p::producers]) for p in range(producers)))
    elapsed = time.perf_counter() - started
    return count / elapsed, statistics.quantiles(latencies, n=100)[98]


async def open_loop_p99(world: World, rate: float, seconds: float) -> float:
    events = world.events(int(rate * seconds), seed=11)
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    tasks = []

    async def one(at: float, event: tuple[str, Actor, int]) -> None:
        await asyncio.sleep(max(0.0, at - loop.time()))
        await world.handle(*event)
        latencies.append((loop.time() - at) * 1000)

    for i, event in enumerate(events):
        tasks.append(asyncio.create_task(one(start + i / rate, event)))
    await asyncio.gather(*tasks)
    return statistics.quantiles(latencies, n=100)[98]


# ---- big tables ---------------------------------------------------------------------------


def bulk_card_states(db: Path, rows: int, members: int) -> None:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.executemany(
            "INSERT OR IGNORE INTO members (platform, workspace, user_ref, name, followups_paused, created_at) "
            "VALUES ('fake', 'B', ?, ?, 0, '2026-01-01 00:00:00')",
            ((f"B{m}", f"bulk{m}") for m in range(members)),
        )
    first = conn.execute("SELECT min(id) FROM members WHERE workspace = 'B'").fetchone()[0]
    rng = random.Random(3)
    per_member = rows // members

    def generate():  # type: ignore[no-untyped-def]
        for m in range(members):
            for k in range(per_member):
                due = START + timedelta(minutes=rng.randrange(-60 * 24 * 3, 60 * 24 * 90))
                yield (
                    first + m,
                    f"deck/card-{k}",
                    2,
                    5.0,
                    5.0,
                    due.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "2026-01-01 00:00:00.000000",
                    3,
                    0,
                    "2026-01-01 00:00:00.000000",
                )

    with conn:
        conn.executemany(
            "INSERT INTO card_states (member_id, card_key, state, stability, difficulty, due_at, "
            "last_review, reps, lapses, first_seen) VALUES (?,?,?,?,?,?,?,?,?,?)",
            generate(),
        )
        # What the store keeps on every write: each member's earliest due card.
        conn.execute(
            "UPDATE members SET next_due_at = (SELECT min(due_at) FROM card_states "
            "WHERE card_states.member_id = members.id AND reps > 0)"
        )
    conn.close()


def bulk_points(db: Path, rows: int, channel_members: int) -> int:
    """10M activity rows over many weeks and members, with the weekly pre-aggregate."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.execute(
            "INSERT INTO channels (platform, workspace, channel_ref, enabled, paused, tz, post_time, days, "
            "reveal, leaderboard_day, leaderboard_time, decks, topics, levels, source, cycle, created_at, "
            "updated_at) VALUES ('fake','B','BIG',1,0,'UTC','09:30','0,1,2,3,4','+6h',0,'09:00','','','',"
            "'admin',1,'2026-01-01 00:00:00','2026-01-01 00:00:00')"
        )
        channel = conn.execute("SELECT id FROM channels WHERE channel_ref = 'BIG'").fetchone()[0]
        ids = [
            r[0] for r in conn.execute("SELECT id FROM members WHERE workspace = 'B' ORDER BY id")
        ]
        conn.executemany(
            "INSERT OR IGNORE INTO channel_members (channel_id, member_id, joined_on, streak_current, "
            "streak_best, streak_freezes, streak_progress) VALUES (?, ?, '2026-01-01', 0, 0, 0, 0)",
            ((channel, m) for m in ids[:channel_members]),
        )
    rng = random.Random(5)
    weeks = 52
    base = date(2025, 3, 3)

    def generate():  # type: ignore[no-untyped-def]
        # Member by member, so every index grows at its end (a bulk load in key order).
        per_member, extra = divmod(rows, len(ids))
        for index, member in enumerate(ids):
            for k in range(per_member + (1 if index < extra else 0)):
                day = base + timedelta(days=rng.randrange(weeks * 7))
                points = rng.choice((1, 2, 3, 5, 10))
                yield (
                    member,
                    "bulk",
                    f"{k:08d}",
                    day.isoformat(),
                    points,
                    1,
                    "2026-01-01 00:00:00.000000",
                )

    # A bulk load, as an operator would do it: without the per-row triggers, then one
    # aggregate into weekly_points, then the triggers back (migration 0002's SQL).
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'activity'"
    ).fetchall()
    with conn:
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.executemany(
            "INSERT INTO activity (member_id, kind, ref, local_date, points, keeps_day, created_at) "
            "VALUES (?,?,?,?,?,?,?)",
            generate(),
        )
        conn.execute(
            "INSERT INTO weekly_points (member_id, week_start, points, on_time_reviews) "
            "SELECT member_id, date(local_date, 'weekday 0', '-6 days'), sum(points), 0 "
            "FROM activity GROUP BY 1, 2 "
            "ON CONFLICT (member_id, week_start) DO UPDATE SET points = points + excluded.points"
        )
        for _, sql in triggers:
            conn.execute(sql)
    conn.close()
    return channel


async def timed(fn, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def big_queries(tmp: Path, card_rows: int, point_rows: int) -> tuple[float, float]:
    db = tmp / "big.db"
    store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
    await store.close()
    members = 10_000
    log(f"inserting {card_rows:,} card states ...")
    bulk_card_states(db, card_rows, members)
    log(f"inserting {point_rows:,} point rows ...")
    channel = bulk_points(db, point_rows, channel_members=2_000)
    store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
    try:
        now = START

        async def due() -> None:
            # One page of the per-member selection: 1,000 ready members, up to 5 cards each.
            rows = await store.read(lambda tx: tx.reviews.due(now, per_member=5, limit=1000))
            assert len({r.member.id for r in rows}) == 1000

        unused_store, library_study, _, _ = await build(f"sqlite+aiosqlite:///{tmp / 'unused.db'}")
        await unused_store.close()  # only its deck library is needed; open threads block exit
        study = StudyBot(
            Deps(store, Chats(), FakeClock(START), library_study.decks, Srs(fuzz=False), Policy())
        )

        # As the running bot keeps them: the hourly roll-over folds every streak cache up
        # to yesterday, so a leaderboard reads only the days since (not two months each).
        await study.streaks.roll_over()

        async def leaderboard() -> None:
            row = await store.read(lambda tx: tx.channels.get(channel))
            assert row is not None
            message = await study.leaderboards.weekly_message(row, date(2025, 6, 2), title="bench")
            assert "1." in message.plain_text()

        return await timed(due), await timed(leaderboard, repeat=5)
    finally:
        await store.close()


def idle_rss(tmp: Path, channels: int) -> float:
    db = tmp / "idle.db"
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", "--db", str(db)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO channels (platform, workspace, channel_ref, enabled, paused, tz, post_time, days, "
            "reveal, leaderboard_day, leaderboard_time, decks, topics, levels, source, cycle, next_post_at, "
            "next_leaderboard_at, created_at, updated_at) VALUES ('console','local',?,1,0,?,'09:30',"
            "'0,1,2,3,4','+6h',0,'09:00','','','','admin',1,?,?, '2026-01-01 00:00:00','2026-01-01 00:00:00')",
            (
                (
                    f"C{n}",
                    ("UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York")[n % 4],
                    "2099-01-01 09:30:00.000000",
                    "2099-01-05 09:00:00.000000",
                )
                for n in range(channels)
            ),
        )
    conn.close()
    env = {**os.environ, "STUDYBOT_LOG_LEVEL": "warning", "STUDYBOT_TICK_SECONDS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--db", str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp,
    )
    try:
        time.sleep(8)  # start, catch-up, several scheduler ticks
        status = Path(f"/proc/{proc.pid}/status").read_text()
        rss_kb = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        )
        return rss_kb / 1024
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def main() -> None:
    from bot import log as bot_log

    bot_log.configure("warning", "json", stream=sys.stderr)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument(
        "--quick", action="store_true", help="small tables (a smoke run, not the targets)"
    )
    parser.add_argument("--runs", type=int, default=3, help="throughput runs (median)")
    parser.add_argument(
        "--db-url",
        default=None,
        help="also measure the services on this PostgreSQL database (emptied first); "
        "'pgserver' starts one from the pgserver wheel",
    )
    args = parser.parse_args()
    card_rows, point_rows = (100_000, 500_000) if args.quick else (1_000_000, 10_000_000)
    load_before = os.getloadavg()[0]
    sqlite_runs: list[tuple[float, float, float]] = []
    postgres_runs: list[tuple[float, float]] = []
    concurrent_runs: list[tuple[float, float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        for run in range(args.runs):  # interleaved: a change in load hits every figure
            log(f"run {run + 1}: services on SQLite ...")
            url = f"sqlite+aiosqlite:///{tmp / f'engine{run}.db'}"
            events_per_s, world, store = await service_throughput(url, args.events)
            log(f"run {run + 1}: ceiling ...")
            ceiling = await ceiling_throughput(tmp / f"ceiling{run}.db", args.events)
            log(f"run {run + 1}: open loop at 200 events/s ...")
            p99 = await open_loop_p99(world, 200.0, 10.0)
            log(f"run {run + 1}: 100 producers at once, and the batched ceiling ...")
            concurrent, concurrent_p99 = await concurrent_throughput(world, args.events)
            batched = await ceiling_throughput(tmp / f"batched{run}.db", args.events, 1000)
            concurrent_runs.append((concurrent, batched, concurrent_p99))
            await store.close()
            sqlite_runs.append((events_per_s, ceiling, p99))
            if args.db_url is not None:
                log(f"run {run + 1}: services on PostgreSQL ...")
                postgres_runs.append(await postgres_figures(args.db_url, args.events))
        due_ms, board_ms = await big_queries(tmp, card_rows, point_rows)
        log("idle process ...")
        rss = idle_rss(tmp, 10_000)
    ratios = [e / c for e, c, _ in sqlite_runs]
    result = {
        "events_per_s": round(statistics.median(e for e, _, _ in sqlite_runs), 1),
        "ceiling_events_per_s": round(statistics.median(c for _, c, _ in sqlite_runs), 1),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_each": [round(r, 3) for r in ratios],
        "p99_ms": round(statistics.median(p for _, _, p in sqlite_runs), 2),
        "concurrent_events_per_s": round(statistics.median(c for c, _, _ in concurrent_runs), 1),
        "batched_ceiling_events_per_s": round(
            statistics.median(b for _, b, _ in concurrent_runs), 1
        ),
        "concurrent_ratio": round(statistics.median(c / b for c, b, _ in concurrent_runs), 3),
        "concurrent_p99_ms": round(statistics.median(p for _, _, p in concurrent_runs), 2),
        "due_query_ms": round(due_ms, 2),
        "leaderboard_ms": round(board_ms, 2),
        "idle_rss_mb": round(rss, 1),
        "card_states": card_rows,
        "point_rows": point_rows,
        "events": args.events,
        "runs": args.runs,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    if postgres_runs:
        sqlite_each = [e for e, _, _ in sqlite_runs]
        pg_each = [e for e, _ in postgres_runs]
        result |= {
            "pg_events_per_s": round(statistics.median(pg_each), 1),
            "pg_to_sqlite": round(
                statistics.median(p / s for p, s in zip(pg_each, sqlite_each, strict=True)), 3
            ),
            "pg_p99_ms": round(statistics.median(p for _, p in postgres_runs), 2),
        }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        from tests import pg

        pg.stop_server()  # the pgserver one, if --db-url pgserver started it
