"""The SQL store: a unit of work over one connection, with a repository per area.

Writes are serialised inside the process by one lock (tasks that shared a connection
once mixed their transactions) and across processes by SQLite's ``BEGIN IMMEDIATE``.
Reads run concurrently on their own connections (WAL lets them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store.channels import Channels, Members
from bot.store.engine import WRITE, create_engine, upgrade
from bot.store.learning import Answers, Followups, Quizzes, Reviews
from bot.store.posts import Leaderboards, Posts
from bot.store.progress import Activity, Events, StreakAudit


@dataclass
class SqlTx:
    """One transaction; every repository works on its connection."""

    conn: AsyncConnection

    def __post_init__(self) -> None:
        self.channels = Channels(self.conn)
        self.members = Members(self.conn)
        self.posts = Posts(self.conn)
        self.leaderboards = Leaderboards(self.conn)
        self.answers = Answers(self.conn)
        self.reviews = Reviews(self.conn)
        self.followups = Followups(self.conn)
        self.quizzes = Quizzes(self.conn)
        self.activity = Activity(self.conn)
        self.audit = StreakAudit(self.conn)
        self.events = Events(self.conn)


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> SqlStore:
        engine = create_engine(url)
        if migrate:
            try:
                await upgrade(engine)
            except BaseException:
                await engine.dispose()
                raise
        return cls(engine)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqlTx]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        async with self._write_lock, self.engine.connect() as conn:
            await conn.execution_options(**{WRITE: True})
            async with conn.begin():
                yield SqlTx(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqlTx]:
        async with self.engine.connect() as conn, conn.begin():
            yield SqlTx(conn)

    async def ping(self) -> bool:
        async with self.engine.connect() as conn:
            return bool((await conn.execute(text("SELECT 1"))).scalar_one() == 1)

    async def close(self) -> None:
        await self.engine.dispose()
