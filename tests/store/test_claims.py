"""Claims owned by live instances (ADR 0011): taken over only when the owner is gone,
never because a lease ran out while it was still working; recording is fenced."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import date, timedelta

from bot.ports.store import Tx
from bot.store.sql import SqlStore
from bot.store.tables import leaderboards
from tests.dbtools import rows
from tests.store.test_contract import NOW, SETTINGS, channel_and_member

WEEK = date(2025, 2, 24)
LATER = NOW + timedelta(days=1)  # long past any lease


async def second(store: SqlStore) -> SqlStore:
    other = await SqlStore.open(store.url)
    other.claims_ttl = 0
    return other


def claim_board(channel_id: int):  # type: ignore[no-untyped-def]
    return lambda tx: tx.leaderboards.claim(channel_id, WEEK, NOW, "intent")


def stale(tx: Tx) -> list[tuple[int, date]]:
    return tx.leaderboards.stale_intents(LATER)


def take(channel_id: int):  # type: ignore[no-untyped-def]
    return lambda tx: tx.leaderboards.reclaim(channel_id, WEEK, LATER, LATER)


def record(channel_id: int, ref: str):  # type: ignore[no-untyped-def]
    return lambda tx: tx.leaderboards.record(channel_id, WEEK, ref, LATER)


async def test_a_live_instances_claim_is_never_taken_over(backend: SqlStore) -> None:
    backend.claims_ttl = 0
    channel_id, _ = await channel_and_member(backend)
    other = await second(backend)
    try:
        await backend.register(NOW)
        await other.register(NOW)
        assert await backend.write(claim_board(channel_id))
        assert await other.read(stale) == []  # a day later, the owner still lives
        assert not await other.write(take(channel_id))
        assert await backend.read(stale) == [(channel_id, WEEK)]  # its own: after the lease
        backend.release()  # the owner stops
        assert await other.read(stale) == [(channel_id, WEEK)]
        assert await other.write(take(channel_id))
        await backend.register(NOW)  # back, as a new instance: the claim is not its own
        assert not await backend.write(record(channel_id, "late"))
        assert await other.write(record(channel_id, "found"))
        (board,) = await other.read(
            lambda tx: rows(tx, leaderboards, channel_id=channel_id, week_start=WEEK)
        )
        assert board["status"] == "posted"
    finally:
        await other.close()


async def test_a_snapshot_never_judges_an_instance_newer_than_itself(backend: SqlStore) -> None:
    """Who is alive is read at most every ``claims_ttl`` seconds; an instance registered
    after that read counts as alive, so an old snapshot only delays a takeover."""
    channel_id, _ = await channel_and_member(backend)
    backend.claims_ttl = 3600
    await backend.register(NOW)
    assert await backend.read(stale) == []  # the snapshot is read here
    newer = await second(backend)
    try:
        await newer.register(NOW)
        assert await newer.write(claim_board(channel_id))
        newer.release()  # gone, but the old snapshot has never heard of it
        assert await backend.read(stale) == []
        backend.claims_ttl = 0
        assert await backend.read(stale) == [(channel_id, WEEK)]
    finally:
        await newer.close()


async def test_claims_of_a_process_that_never_registered_keep_the_lease(
    backend: SqlStore,
) -> None:
    """Rows from before migration 0008, or from a command-line tool, have no owner."""
    backend.claims_ttl = 0
    channel_id, _ = await channel_and_member(backend)
    assert await backend.write(claim_board(channel_id))
    other = await second(backend)
    try:
        await other.register(NOW)
        assert await other.read(stale) == [(channel_id, WEEK)]
        assert await other.write(take(channel_id))
    finally:
        await other.close()


HOLDER = """
import asyncio, sys
from datetime import UTC, date, datetime
from bot.store.sql import SqlStore

async def main() -> None:
    store = await SqlStore.open(sys.argv[1])
    now = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
    await store.register(now)
    await store.write(
        lambda tx: tx.leaderboards.claim(int(sys.argv[2]), date(2025, 2, 24), now, "intent")
    )
    print("claimed", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_a_killed_instances_claims_are_taken_over_at_once(backend: SqlStore) -> None:
    """SIGKILL: no clean stop, no timer; the kernel (SQLite's lock file) or the server
    (PostgreSQL's session lock) lets go, and the claim is takeable as soon as the next
    snapshot is read."""
    backend.claims_ttl = 0
    channel_id, _ = await channel_and_member(backend)
    await backend.register(NOW)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, backend.url, str(channel_id), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(holder.stdout.readline(), 60)
        assert line.strip() == b"claimed"
        assert await backend.read(stale) == []
        holder.send_signal(signal.SIGKILL)
        await asyncio.wait_for(holder.wait(), 10)
        for _ in range(200):  # the server notices the closed socket within moments
            if await backend.read(stale):
                break
            await asyncio.sleep(0.05)
        assert await backend.read(stale) == [(channel_id, WEEK)]
        assert await backend.write(take(channel_id))
        assert await backend.write(record(channel_id, "found"))
    finally:
        if holder.returncode is None:
            holder.kill()
            await holder.wait()


async def many_channels(store: SqlStore, count: int) -> list[int]:
    def unit(tx: Tx) -> list[int]:
        return [
            tx.channels.save(
                "fake",
                "T1",
                f"C{n}",
                SETTINGS,
                source="admin",
                now=NOW,
                next_post_at=NOW,
                next_leaderboard_at=LATER,
            ).id
            for n in range(count)
        ]

    return await store.write(unit)


def take_posts(limit: int):  # type: ignore[no-untyped-def]
    return lambda tx: [c.id for c in tx.channels.take_due_posts(NOW, limit=limit)]


async def test_instances_taking_due_channels_at_once_split_them(backend: SqlStore) -> None:
    """Instances take due channels in batches; those another live instance took are left
    to it (on PostgreSQL, also those it is taking this moment: SKIP LOCKED), and a
    channel walked on to its next post is free for anyone again."""
    backend.claims_ttl = 0
    ids = await many_channels(backend, 30)
    others = [await second(backend) for _ in range(2)]
    stores = [backend, *others]
    try:
        for store in stores:
            await store.register(NOW)
        taken = await asyncio.gather(
            *(store.write(take_posts(10), serializable=False) for store in stores)
        )
        assert sorted(i for batch in taken for i in batch) == ids  # each once, none left
        assert await others[0].write(take_posts(100), serializable=False) == taken[1]  # its own
        backend.release()  # gone: its channels go to whoever takes next
        again = await others[0].write(take_posts(100), serializable=False)
        assert sorted(again) == sorted(taken[0] + taken[1])
        walked = again[0]
        await others[0].write(lambda tx: tx.channels.set_next(walked, post_at=NOW))
        assert walked in await others[1].write(take_posts(100), serializable=False)
    finally:
        for store in others:
            await store.close()


async def test_a_lost_race_inside_a_savepoint_runs_the_whole_unit_again() -> None:
    """PostgreSQL only: SQLite serialises its writers and never reports a serialization
    failure. A job item isolated in a savepoint (``Service.isolated`` catches Exception)
    that loses a race must not be logged as failed and skipped: PostgreSQL would fail the
    commit anyway. The unit runs again and the item succeeds."""
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    from tests import pg

    url = await asyncio.to_thread(pg.fresh_database)
    store = await SqlStore.open(url)
    runs, swallowed = [], []

    def unit(tx: Tx) -> int:
        runs.append(1)
        try:
            with tx.savepoint():
                if len(runs) == 1:
                    orig = psycopg.errors.SerializationFailure("could not serialize access")
                    raise OperationalError("UPDATE ...", {}, orig)
                return len(runs)
        except Exception as exc:  # as Service.isolated does
            swallowed.append(exc)
            return 0

    try:
        assert await store.write(unit) == 2
        assert swallowed == []
    finally:
        await store.close()
        await asyncio.to_thread(pg.drop_database, url)


async def test_an_instance_that_lost_its_lock_takes_it_again(backend: SqlStore) -> None:
    """The lock file deleted, or the lock's connection killed by the server: the others
    see the instance as gone until its next tick takes the lock again."""
    from sqlalchemy import text

    from bot.store.claims import LOCK_SPACE, lock_folder
    from bot.store.engine import sqlite_path

    backend.claims_ttl = 0
    channel_id, _ = await channel_and_member(backend)
    other = await second(backend)
    try:
        instance = await backend.register(NOW)
        await other.register(NOW)
        assert await backend.write(claim_board(channel_id))
        assert await other.read(stale) == []
        await backend.keep_registered()  # held: nothing to do
        assert await other.read(stale) == []
        path = sqlite_path(backend.url)
        if path is not None:
            (lock_folder(path) / f"{instance}.lock").unlink()
        else:
            kill = text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                " AND classid::int = :space AND objid::int = :id AND objsubid = 2"
            )
            await other.run_sync(lambda c: c.execute(kill, {"space": LOCK_SPACE, "id": instance}))
        for _ in range(200):  # a killed connection's lock goes a moment later
            if await other.read(stale):
                break
            await asyncio.sleep(0.05)
        assert await other.read(stale) == [(channel_id, WEEK)]
        await backend.keep_registered()
        assert await other.read(stale) == []
    finally:
        await other.close()
