"""A year in fast time: every required local day gets exactly one post, in six zones."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.core.models import Actor, Place
from bot.decks import DeckLibrary
from bot.scheduler.jobs import jobs
from bot.services.policy import Policy, default_channel_settings
from bot.store.sql import SqlStore
from tests.conftest import make_study
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """SQLite only: a year of ticks is thousands of units of work, 95 s on PostgreSQL at
    today's per-statement round trips (issue 14) against 33 s here; the same scheduling
    rules run on PostgreSQL in the other scheduler tests."""
    return f"sqlite+aiosqlite:///{tmp_path / 'year.db'}"


pytestmark = pytest.mark.slow

CHANNELS = {
    "ny": ("America/New_York", "09:30"),
    "london": ("Europe/London", "09:30"),
    "lord-howe": ("Australia/Lord_Howe", "09:30"),
    "kolkata": ("Asia/Kolkata", "09:30"),
    "chatham": ("Pacific/Chatham", "09:30"),
    "santiago": ("America/Santiago", "09:30"),
    "ny-night": ("America/New_York", "02:30"),
}
START = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
END = START + timedelta(days=365)


async def test_a_year_of_posts_and_leaderboards(store: SqlStore, library: DeckLibrary) -> None:
    clock = FakeClock(START)
    chat = FakeChat()
    study = make_study(
        store,
        chat,
        clock,
        library,
        Policy(defaults=default_channel_settings(), admins=frozenset({"a"})),
    )
    admin = Actor("fake", "W", "a", "Admin")
    for ref, (tz, at) in CHANNELS.items():
        await run(
            study, admin, Place("fake", "W", ref), f"/study setup tz={tz} time={at} days=mon-fri"
        )
    (dispatch, *_) = jobs(study, 30.0)

    def next_due(conn: Connection) -> datetime | None:
        """The earliest instant anything is due (one query; the store decides, not us)."""
        row = conn.execute(
            text(
                "SELECT min(t) FROM (SELECT min(next_post_at) AS t FROM channels"
                " UNION ALL SELECT min(next_leaderboard_at) FROM channels"
                " UNION ALL SELECT min(reveal_due_at) FROM daily_posts"
                " WHERE status = 'posted' AND reveal_status = 'pending')"
            )
        ).scalar_one()
        if not row:
            return None
        found = row if isinstance(row, datetime) else datetime.fromisoformat(row)  # PG / SQLite
        return found.replace(tzinfo=UTC)

    steps = 0
    while True:
        due = await store.run_sync(next_due, write=False)
        if due is None or due >= END:
            break
        # Wake a minute after the next due instant, as a 30-second tick would.
        clock.set(max(clock.now(), due) + timedelta(minutes=1))
        await dispatch.run()
        steps += 1
    assert steps > 3000  # ~1,830 posts, as many reveals, 7 x 52 leaderboards
    boards: Counter[str] = Counter()

    async def posted_at() -> dict[str, list[datetime]]:
        def query(tx):  # type: ignore[no-untyped-def]
            found = defaultdict(list)
            for ref in CHANNELS:
                channel = tx.channels.find("fake", "W", ref)
                day = START.date() - timedelta(days=2)
                while day <= END.date() + timedelta(days=2):
                    post = tx.posts.on_date(channel.id, day)
                    if post is not None:
                        assert post.status == "posted", (ref, day, post.status)
                        found[ref].append(post.posted_at)
                    day += timedelta(days=1)
            return found

        return await store.read(query)

    posts = await posted_at()
    for sent in chat.sent:
        if sent.kind == "leaderboard":
            boards[sent.target.channel] += 1
    for ref, (tz, at) in CHANNELS.items():
        zone = ZoneInfo(tz)
        local = [p.astimezone(zone) for p in posts[ref]]
        days = [p.date() for p in local]
        first, last = (
            START.astimezone(zone).date(),
            (END - timedelta(minutes=1)).astimezone(zone).date(),
        )
        expected = {first + timedelta(days=i) for i in range((last - first).days + 1)}
        expected = {d for d in expected if d.weekday() < 5 and START <= _instant(d, at, zone) < END}
        assert len(days) == len(set(days)), f"{ref}: two posts on one local day"
        assert set(days) == expected, (
            f"{ref}: missing {sorted(expected - set(days))[:3]} extra {sorted(set(days) - expected)[:3]}"
        )
        wanted = time.fromisoformat(at)
        for stamp in local:
            if stamp.time().replace(second=0, microsecond=0) != _shifted(wanted, stamp):
                raise AssertionError(f"{ref}: posted at {stamp.isoformat()}")
        assert 52 <= boards[ref] <= 53, (ref, boards[ref])
    assert len(chat.posts()) == sum(len(v) for v in posts.values())


def _instant(day: date, at: str, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.fromisoformat(at), tzinfo=zone).astimezone(UTC)


def _shifted(wanted: time, stamp: datetime) -> time:
    """The wall time a post should show: the set time, or an hour later inside a DST gap."""
    naive = datetime.combine(stamp.date(), wanted)
    resolved = naive.replace(tzinfo=stamp.tzinfo).astimezone(UTC).astimezone(stamp.tzinfo)
    # Posts go out at the first tick after the due instant (one minute later here).
    return (resolved + timedelta(minutes=1)).time().replace(second=0, microsecond=0)
