"""The SQL store: units of work over a connection, with a repository per area.

``await store.write(fn)`` runs ``fn(tx)`` in one write transaction (committed when it
returns, rolled back if it raises); ``await store.read(fn)`` likewise, read-only: ``fn``
is typed to take a ``ReadTx`` (queries only), and the transaction refuses writes too.
``fn`` is plain synchronous code: it must not await or do network I/O, which keeps
transactions short and platform calls out of them.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, NestedTransaction
from sqlalchemy.exc import DBAPIError

from bot.ports.reads import ReadTx
from bot.ports.store import Tx
from bot.store.activity import Activity
from bot.store.answers import Answers
from bot.store.audit import StreakAudit
from bot.store.channels import Channels
from bot.store.claims import (
    Claims,
    Registration,
    lock_folder,
    read_claims,
    register_postgres,
    register_sqlite,
)
from bot.store.engine import (
    BUSY_TIMEOUT_MS,
    LostRace,
    Runner,
    ThreadPoolRunner,
    lost_race,
    open_runners,
    sqlite_path,
    upgrade,
)
from bot.store.events import Events
from bot.store.export import PersonalData
from bot.store.followups import Followups, flush_next_due, forget_next_due
from bot.store.inbox import Inbox
from bot.store.leaderboards import Leaderboards
from bot.store.members import Members
from bot.store.notices import Notices
from bot.store.posts import Posts
from bot.store.quizzes import Quizzes
from bot.store.reviews import Reviews
from bot.store.tables import metadata
from bot.store.tuning import Tuning
from bot.store.watch import DatabaseUnusable, DatabaseWatch

T = TypeVar("T")
log = structlog.get_logger("studybot.store")


class SqlTx:
    """One transaction; every repository works on its connection. It is a ``Tx`` and so
    also a ``ReadTx`` (what ``read`` hands out)."""

    def __init__(self, conn: Connection, claims: Claims | None = None) -> None:
        self.conn = conn
        forget_next_due(conn)  # left by a unit on this connection that did not finish
        claims = claims or Claims()
        self.channels = Channels(conn, claims)
        self.members = Members(conn)
        self.posts = Posts(conn, claims)
        self.leaderboards = Leaderboards(conn, claims)
        self.notices = Notices(conn, claims)
        self.answers = Answers(conn)
        self.reviews = Reviews(conn)
        self.followups = Followups(conn, claims)
        self.quizzes = Quizzes(conn)
        self.activity = Activity(conn)
        self.audit = StreakAudit(conn)
        self.events = Events(conn)
        self.tuning = Tuning(conn)
        self.inbox = Inbox(conn, claims)
        self.personal = PersonalData(conn)

    def finish(self) -> None:
        """What the unit deferred, written before it commits."""
        flush_next_due(self.conn)

    @contextmanager
    def savepoint(self) -> Iterator[NestedTransaction]:
        """A savepoint; a serialization failure inside it fails the whole unit
        (``LostRace``), which then runs again, instead of being undone on its own."""
        try:
            with self.conn.begin_nested() as nested:
                yield nested
        except DBAPIError as exc:
            if lost_race(exc):
                raise LostRace() from exc
            raise


class SqlStore:
    def __init__(self, writer: Runner, reader: Runner, url: str = "") -> None:
        self._writer = writer
        self._reader = reader
        self.url = url
        self.on_write: Callable[[float], None] | None = None
        """Called with each write transaction's duration in seconds (metrics)."""
        self.watch: DatabaseWatch | None = None
        """Once it has seen a problem with the database file, writes are refused."""
        self.registration: Registration | None = None
        self.claims_ttl = 0.5
        """Seconds a snapshot of who is alive is reused (0: read it for every unit)."""
        self._claims = Claims()
        self._claims_read = float("-inf")

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

    async def write(self, fn: Callable[[Tx], T], *, serializable: bool = True) -> T:
        # One writer connection: its queue serialises write transactions in-process,
        # and BEGIN IMMEDIATE serialises them across processes.
        if self.watch is not None and self.watch.problem is not None:
            raise DatabaseUnusable(self.watch.problem)
        started = time.perf_counter()
        try:
            return await self._writer.run(
                functools.partial(self._unit, fn),
                write=True,
                serializable=serializable,
                grouped=True,
            )
        except Exception as exc:
            if self.watch is not None:
                self.watch.write_failed(exc)
            raise
        finally:
            if self.on_write is not None:
                self.on_write(time.perf_counter() - started)

    def _unit(self, fn: Callable[[Tx], T], conn: Connection) -> T:
        tx = SqlTx(conn, self._claims_in(conn))
        result = fn(tx)
        tx.finish()
        return result

    async def read(self, fn: Callable[[ReadTx], T]) -> T:
        return await self._reader.run(
            lambda conn: fn(SqlTx(conn, self._claims_in(conn))), write=False
        )

    def _claims_in(self, conn: Connection) -> Claims:
        """Who is alive, as of at most ``claims_ttl`` seconds ago (read in this unit)."""
        if time.monotonic() - self._claims_read >= self.claims_ttl:
            path = sqlite_path(self.url) if self.url else None
            folder = lock_folder(path) if path is not None else None
            self._claims = read_claims(conn, self.instance_id, folder)
            self._claims_read = time.monotonic()
        return self._claims

    @property
    def instance_id(self) -> int | None:
        return self.registration.id if self.registration is not None else None

    async def register(self, now: datetime) -> int:
        """Join as a running instance: claims this process makes name it, and nobody takes
        them over while it lives (a process that never registers keeps the lease rule)."""
        if self.registration is None:
            path = sqlite_path(self.url) if self.url else None
            if path is not None:
                folder = lock_folder(path)
                self.registration = await self._writer.run(
                    lambda conn: register_sqlite(conn, folder, now), write=True
                )
            elif isinstance(self._writer, ThreadPoolRunner):
                engine = self._writer.lock_engine()
                self.registration = await asyncio.to_thread(register_postgres, engine, now)
            else:
                raise RuntimeError("this store cannot register instances")
            self._claims_read = float("-inf")
        return self.registration.id

    async def keep_registered(self) -> None:
        """Take this instance's lock again if it was lost (each scheduler tick)."""
        if self.registration is not None and await asyncio.to_thread(self.registration.keep):
            log.warning("instance_lock_regained", instance=self.registration.id)

    def release(self) -> None:
        """Stop being a live instance (a clean stop): claims left over are taken over."""
        if self.registration is not None:
            self.registration.release()
            self.registration = None
            self._claims_read = float("-inf")

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
        self.release()
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
