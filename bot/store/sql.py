"""The SQL store: units of work over a connection, with a repository per area.

``await store.write(fn)`` runs ``fn(tx)`` in one write transaction (committed when it
returns, rolled back if it raises); ``await store.read(fn)`` likewise, read-only.
``fn`` is plain synchronous code: it must not await or do network I/O, which keeps
transactions short and platform calls out of them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, NestedTransaction

from bot.ports.store import Tx
from bot.store.channels import Channels, Members
from bot.store.engine import BUSY_TIMEOUT_MS, Runner, open_runners, sqlite_path, upgrade
from bot.store.export import PersonalData
from bot.store.followups import Followups
from bot.store.inbox import Inbox
from bot.store.learning import Answers, Quizzes, Reviews
from bot.store.notices import Notices
from bot.store.posts import Leaderboards, Posts
from bot.store.progress import Activity, Events, StreakAudit
from bot.store.tables import metadata
from bot.store.tuning import Tuning
from bot.store.watch import DatabaseUnusable, DatabaseWatch

T = TypeVar("T")


class SqlTx:
    """One transaction; every repository works on its connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.channels = Channels(conn)
        self.members = Members(conn)
        self.posts = Posts(conn)
        self.leaderboards = Leaderboards(conn)
        self.notices = Notices(conn)
        self.answers = Answers(conn)
        self.reviews = Reviews(conn)
        self.followups = Followups(conn)
        self.quizzes = Quizzes(conn)
        self.activity = Activity(conn)
        self.audit = StreakAudit(conn)
        self.events = Events(conn)
        self.tuning = Tuning(conn)
        self.inbox = Inbox(conn)
        self.personal = PersonalData(conn)

    def savepoint(self) -> NestedTransaction:
        return self.conn.begin_nested()


class SqlStore:
    def __init__(self, writer: Runner, reader: Runner, url: str = "") -> None:
        self._writer = writer
        self._reader = reader
        self.url = url
        self.on_write: Callable[[float], None] | None = None
        """Called with each write transaction's duration in seconds (metrics)."""
        self.watch: DatabaseWatch | None = None
        """Once it has seen a problem with the database file, writes are refused."""

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> SqlStore:
        writer, reader = await open_runners(url)
        store = cls(writer, reader, url)
        if migrate:
            try:
                await upgrade(writer)
            except BaseException:
                await store.close()
                raise
        return store

    async def write(self, fn: Callable[[Tx], T]) -> T:
        # One writer connection: its queue serialises write transactions in-process,
        # and BEGIN IMMEDIATE serialises them across processes.
        if self.watch is not None and self.watch.problem is not None:
            raise DatabaseUnusable(self.watch.problem)
        started = time.perf_counter()
        try:
            return await self._writer.run(lambda conn: fn(SqlTx(conn)), write=True)
        except Exception as exc:
            if self.watch is not None:
                self.watch.write_failed(exc)
            raise
        finally:
            if self.on_write is not None:
                self.on_write(time.perf_counter() - started)

    async def read(self, fn: Callable[[Tx], T]) -> T:
        return await self._reader.run(lambda conn: fn(SqlTx(conn)), write=False)

    async def run_sync(self, fn: Callable[[Connection], T], *, write: bool = True) -> T:
        """Run ``fn`` on a raw Core connection (migrations, backups, benchmarks)."""
        runner = self._writer if write else self._reader
        return await runner.run(fn, write=write)

    async def table_sizes(self) -> dict[str, int]:
        """Rows per table (a metric: what grows, and whether pruning keeps up)."""
        return await self.run_sync(_table_sizes, write=False)

    async def ping(self) -> bool:
        return bool(
            await self.run_sync(
                lambda c: c.execute(text("SELECT 1")).scalar_one() == 1, write=False
            )
        )

    async def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database and truncate it, so rows
        deleted with ``secure_delete`` leave no old page in either file. A checkpoint
        cannot run inside a transaction, and the runners always open one: a short
        connection of its own does it (it waits, within the busy timeout, for readers)."""
        path = sqlite_path(self.url) if self.url else None
        if path is not None:
            await asyncio.to_thread(_checkpoint, str(path))

    async def close(self) -> None:
        await self._writer.close()
        if self._reader is not self._writer:
            await self._reader.close()


def _checkpoint(path: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        raise sqlite3.OperationalError("wal_checkpoint(TRUNCATE) could not finish: database busy")


def _table_sizes(conn: Connection) -> dict[str, int]:
    return {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in metadata.sorted_tables
    }
