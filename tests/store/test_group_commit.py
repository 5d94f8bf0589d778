"""Group commit on SQLite: units of work waiting for the writer share one transaction,
each in a savepoint of its own, so one unit's failure undoes that unit alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from bot.ports.store import Tx
from bot.store.engine import GROUP_LIMIT, SqliteRunner
from bot.store.sql import SqlStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Refused(Exception):
    pass


@pytest.fixture
async def store(tmp_path: Path) -> SqlStore:
    opened = await SqlStore.open(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    yield opened  # type: ignore[misc]
    await opened.close()


def transactions(store: SqlStore) -> list[int]:
    """Counts each transaction the writer begins, from now on."""
    writer = store._writer
    assert isinstance(writer, SqliteRunner)
    begun = [0]

    @event.listens_for(writer.engine, "begin")
    def _count(_conn: Connection) -> None:
        begun[0] += 1

    return begun


def member(n: int, fail: bool = False):  # type: ignore[no-untyped-def]
    def unit(tx: Tx) -> int:
        row = tx.members.ensure("fake", "T1", f"U{n}", f"m{n}", None, NOW)
        if fail:
            raise Refused(f"unit {n}")
        return row.id

    return unit


async def names(store: SqlStore) -> set[str]:
    def look(tx: Tx) -> set[str]:
        return {
            m.user_ref
            for n in range(200)
            if (m := tx.members.find("fake", "T1", f"U{n}")) is not None
        }

    return await store.read(look)  # type: ignore[arg-type]


async def test_waiting_units_share_a_commit_and_a_failure_stays_its_own(
    store: SqlStore,
) -> None:
    await store.write(member(999))  # the writer's connection is open before counting
    begun = transactions(store)
    results = await asyncio.gather(
        *(store.write(member(n, fail=n == 7)) for n in range(40)), return_exceptions=True
    )
    assert isinstance(results[7], Refused) and str(results[7]) == "unit 7"
    assert all(isinstance(r, int) for n, r in enumerate(results) if n != 7)
    assert await names(store) == {f"U{n}" for n in range(40) if n != 7}
    assert begun[0] < 10  # 40 units, committed in a few groups (one each before)


async def test_a_group_never_grows_past_its_limit(store: SqlStore) -> None:
    await store.write(member(999))
    begun = transactions(store)
    count = GROUP_LIMIT + 50
    await asyncio.gather(*(store.write(member(n % 200)) for n in range(count)))
    assert 2 <= begun[0] < count // 10


async def test_a_unit_alone_still_runs_at_once(store: SqlStore) -> None:
    begun = transactions(store)
    assert isinstance(await store.write(member(1)), int)
    with pytest.raises(Refused):
        await store.write(member(2, fail=True))
    assert await names(store) == {"U1"}
    assert begun[0] == 2
