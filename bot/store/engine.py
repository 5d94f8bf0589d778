"""Opening the database: where units of work run, SQLite pragmas, Alembic upgrades.

A *unit of work* is a plain function ``fn(connection) -> T`` that runs inside one
transaction on a worker thread, so a whole event costs one hop between the event loop
and the database thread instead of several per statement (docs/adr/0002-one-hop-units-of-work.md).

On SQLite the worker is the thread of an ``aiosqlite`` connection (the default URL
``sqlite+aiosqlite:///./studybot.db``); SQLAlchemy Core runs synchronously on that
thread over the very ``sqlite3`` connection aiosqlite opened. Two connections: one for
writes (``BEGIN IMMEDIATE``, so writers across processes queue instead of failing) and
one for reads (WAL lets them run beside a writer; ``query_only``, so a write there
fails). Other databases run the same Core code through a thread pool, reads in
``READ ONLY`` transactions.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool, StaticPool

from bot.core.errors import ConfigError

BUSY_TIMEOUT_MS = 15_000
MIGRATIONS = Path(__file__).with_name("migrations")
WRITE = "studybot_write"
T = TypeVar("T")


GROUP_LIMIT = 100
"""Most units of work one SQLite transaction commits together (group commit)."""


class Runner(Protocol):
    async def run(
        self,
        fn: Callable[[Connection], T],
        *,
        write: bool,
        serializable: bool = True,
        grouped: bool = False,
    ) -> T:
        """``serializable=False``: a write at READ COMMITTED (PostgreSQL only), for a unit
        that waits on a lock and must then see what the lock's holder committed.
        ``grouped``: the unit may share its commit with others waiting (SQLite; each in
        a savepoint of its own, docs/adr/0012-group-commit.md)."""
        ...

    async def close(self) -> None: ...


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_sqlite_path(url: str) -> None:
    """Fail early, with one line, when the database file cannot be created or opened."""
    path = sqlite_path(url)
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path()
    if not folder.is_dir():
        raise ConfigError(f"database folder does not exist: {folder} (from STUDYBOT_DB_URL)")
    if path.exists():
        if path.is_dir():
            raise ConfigError(f"database path is a folder, not a file: {path}")
        try:
            with path.open("r+b") as handle:  # the bot reads and writes it
                header = handle.read(16)
        except OSError as exc:
            raise ConfigError(
                f"cannot read and write the database {path}: {exc.strerror}"
            ) from None
        if header and header != b"SQLite format 3\x00":
            raise ConfigError(f"not an SQLite database: {path}")
    # WAL mode keeps two files next to the database: the folder must take new files.
    probe = folder / f".{path.name}.probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"cannot write files in the database folder {folder}: {exc.strerror}"
        ) from None


SERIALIZATION_FAILURES = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization_failure and deadlock_detected: the unit lost a race, nothing
of it was kept, and running it again is safe."""
WRITE_ATTEMPTS = 30
"""Tries of one write unit on PostgreSQL before its serialization failure is raised."""


class LostRace(BaseException):
    """A serialization failure inside a savepoint: the whole unit must run again.

    A ``BaseException``, so the ``except Exception`` that keeps one item's failure from
    failing its job (``Service.isolated``) cannot swallow it: PostgreSQL would fail the
    commit anyway, and the item would be logged and counted as failed on the way."""


def lost_race(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in (
        SERIALIZATION_FAILURES
    )


def _transactional(
    engine: Engine, fn: Callable[[Connection], T], write: bool, serializable: bool = True
) -> T:
    """One unit of work on a pooled connection. Writes run ``SERIALIZABLE`` and are run
    again after a serialization failure (docs/adr/0010-postgres-concurrency.md): every
    read-check-write in a unit (a daily points cap, a card's schedule, the one grade per
    reveal) then behaves as if units ran one at a time, as they do on SQLite."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return _once(engine, fn, write, serializable)
        except LostRace as race:
            if not write or attempt == WRITE_ATTEMPTS - 1:
                raise race.__cause__ or race from None
        except DBAPIError as exc:
            if not write or not lost_race(exc) or attempt == WRITE_ATTEMPTS - 1:
                raise
            # Jittered back-off, so the units that collided do not collide again.
            time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))  # noqa: S311
    raise AssertionError("unreachable")  # pragma: no cover


def _once(engine: Engine, fn: Callable[[Connection], T], write: bool, serializable: bool) -> T:
    with engine.connect() as conn:
        # Claims read "one row went in" from the row count of INSERT ... ON CONFLICT DO
        # NOTHING; SQLAlchemy keeps it for statements other than UPDATE/DELETE only when
        # asked (without it psycopg's count reads as -1 and every claim as lost).
        conn = conn.execution_options(preserve_rowcount=True)
        if write:
            conn = conn.execution_options(**{WRITE: True})
            if serializable:
                conn = conn.execution_options(isolation_level="SERIALIZABLE")
        elif conn.dialect.name == "postgresql":
            return _read_only(conn, fn)
        with conn.begin():
            return fn(conn)


def _read_only(conn: Connection, fn: Callable[[Connection], T]) -> T:
    """A read in a ``READ ONLY`` transaction, so a write in it fails. psycopg then opens it
    with ``BEGIN READ ONLY``, no extra round trip. Its flag is set and cleared here: about
    3 µs a read, where SQLAlchemy's ``postgresql_readonly`` option took 15-20 µs. The
    connection never goes back to the pool read-only."""
    if conn.dialect.driver != "psycopg":
        with conn.execution_options(postgresql_readonly=True).begin():
            return fn(conn)
    dbapi: Any = conn.connection.dbapi_connection
    dbapi.read_only = True
    try:
        with conn.begin():
            return fn(conn)
    finally:
        if not dbapi.closed:
            try:
                dbapi.read_only = False
            except Exception:
                conn.invalidate()


class SqliteRunner:
    """Units of work on the thread of one aiosqlite connection.

    The runner keeps one SQLAlchemy ``Connection`` open over aiosqlite's ``sqlite3``
    connection and only ever touches it from that connection's thread.
    """

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._aio = connection
        self._conn: Connection | None = None
        self.engine = create_engine(
            "sqlite://",
            creator=lambda: connection._conn,
            poolclass=StaticPool,
            pool_reset_on_return=None,
            hide_parameters=True,  # errors and logs never quote member text
        )

        self._waiting: list[tuple[Callable[[Connection], Any], asyncio.Future[Any]]] = []
        self._waiting_lock = threading.Lock()
        self._busy = 0
        """Units running on their own (the writer was idle when they came)."""
        self._flushes: set[asyncio.Future[None]] = set()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get(WRITE, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @classmethod
    async def open(cls, path: str, *, query_only: bool = False) -> SqliteRunner:
        """``query_only``: every statement that would change the database fails (the
        connection for reads; set once, so it costs nothing per unit)."""
        connection = await aiosqlite.connect(path, isolation_level=None)
        try:
            for pragma in (
                "PRAGMA journal_mode=WAL",
                f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
                "PRAGMA synchronous=NORMAL",
                "PRAGMA foreign_keys=ON",
                # Deleted rows are overwritten with zeros, not left in free space
                # (forget-me; SqlStore.checkpoint then clears the WAL as well).
                "PRAGMA secure_delete=ON",
                *(["PRAGMA query_only=ON"] if query_only else []),
            ):
                # Closed at once: a pragma that answers with a row (secure_delete does)
                # would stay an open statement, and SQLAlchemy's set-up needs none.
                await (await connection.execute(pragma)).close()
        except BaseException:
            await connection.close()
            raise
        return cls(connection)

    def _unit(self, fn: Callable[[Connection], T], write: bool) -> T:
        if self._conn is None:
            self._conn = self.engine.connect()
        conn = self._conn.execution_options(**{WRITE: write})
        with conn.begin():
            return fn(conn)

    async def run(
        self,
        fn: Callable[[Connection], T],
        *,
        write: bool,
        serializable: bool = True,
        grouped: bool = False,
    ) -> T:
        if not (write and grouped):
            return await self._direct(fn, write)
        with self._waiting_lock:
            # An idle writer runs the unit at once; a busy one collects it for a group.
            alone = not self._busy and not self._waiting
            if alone:
                self._busy += 1
            else:
                future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
                self._waiting.append((fn, future))
                first = len(self._waiting) == 1
        if alone:
            try:
                return await self._direct(fn, write)
            finally:
                with self._waiting_lock:
                    self._busy -= 1
        if first:  # otherwise a flush already queued takes this unit along
            self._schedule_flush()
        return await future

    async def _direct(self, fn: Callable[[Connection], T], write: bool) -> T:
        # aiosqlite's queue runs ``_unit`` on the thread that owns the connection.
        result: T = await self._aio._execute(self._unit, fn, write)  # type: ignore[no-untyped-call]
        return result

    def _schedule_flush(self) -> None:
        flush = asyncio.ensure_future(self._flush())
        self._flushes.add(flush)
        flush.add_done_callback(self._flushes.discard)

    async def _flush(self) -> None:
        done = await self._aio._execute(self._group)  # type: ignore[no-untyped-call]
        for future, ok, value in done:
            if not future.done():  # its caller may have been cancelled meanwhile
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        with self._waiting_lock:
            more = bool(self._waiting)
        if more:  # more arrived than one group takes
            self._schedule_flush()

    def _group(self) -> list[tuple[asyncio.Future[Any], bool, Any]]:
        """On the connection's thread: the waiting units in one transaction, each in a
        savepoint, so one that fails is undone alone; one commit for all of them."""
        with self._waiting_lock:
            batch, self._waiting = self._waiting[:GROUP_LIMIT], self._waiting[GROUP_LIMIT:]
        if len(batch) == 1:  # alone: its own transaction (no savepoint to pay for)
            fn, future = batch[0]
            try:
                return [(future, True, self._unit(fn, True))]
            except BaseException as exc:
                return [(future, False, exc)]
        done: list[tuple[asyncio.Future[Any], bool, Any]] = []
        try:
            if self._conn is None:
                self._conn = self.engine.connect()
            conn = self._conn.execution_options(**{WRITE: True})
            with conn.begin():
                for fn, future in batch:
                    try:
                        with conn.begin_nested():
                            done.append((future, True, fn(conn)))
                    except Exception as exc:
                        done.append((future, False, exc))
        except BaseException as exc:  # the commit failed: nothing of the group was kept
            kept = {id(f) for f, _, _ in done}
            lost = [(f, False, exc) for _, f in batch if id(f) not in kept]
            return [(f, False, v if not ok else exc) for f, ok, v in done] + lost
        return done

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await self._aio._execute(conn.invalidate)  # type: ignore[no-untyped-call]
        self.engine.dispose(close=False)
        await self._aio.close()


class ThreadPoolRunner:
    """Units of work for server databases (PostgreSQL): a sync engine and worker threads."""

    CLOSE_WAIT = 10.0
    """Seconds close() waits for units still running on their threads."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
        self._lock_engine: Engine | None = None
        self._running = 0
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    async def run(
        self,
        fn: Callable[[Connection], T],
        *,
        write: bool,
        serializable: bool = True,
        grouped: bool = False,
    ) -> T:
        return await asyncio.to_thread(self._unit, fn, write, serializable)

    def lock_engine(self) -> Engine:
        """Connections outside the pool, for a session lock held while the process lives."""
        if self._lock_engine is None:
            self._lock_engine = create_engine(self.engine.url, poolclass=NullPool)
        return self._lock_engine

    def _unit(self, fn: Callable[[Connection], T], write: bool, serializable: bool) -> T:
        with self._lock:
            self._running += 1
            self._idle.clear()
        try:
            return _transactional(self.engine, fn, write, serializable)
        finally:
            with self._lock:
                self._running -= 1
                if not self._running:
                    self._idle.set()

    async def close(self) -> None:
        # A unit whose caller was cancelled still runs on its thread: wait for it to give
        # its connection back, or dispose() would leave that connection open forever.
        await asyncio.to_thread(self._idle.wait, self.CLOSE_WAIT)
        await asyncio.to_thread(self.engine.dispose)
        if self._lock_engine is not None:
            await asyncio.to_thread(self._lock_engine.dispose)


async def open_runners(url: str) -> tuple[Runner, Runner]:
    """(writer, reader) for ``url``; SQLite gets two aiosqlite connections."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        check_sqlite_path(url)
        path = parsed.database or ":memory:"
        if path == ":memory:":
            raise ConfigError("an in-memory database cannot be shared; give a file path")
        writer = await SqliteRunner.open(path)
        try:
            reader = await SqliteRunner.open(path, query_only=True)
        except BaseException:
            await writer.close()
            raise
        return writer, reader
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite+aiosqlite:///PATH "
            "or postgresql+psycopg://USER:PASSWORD@HOST/DB"
        )
    driver = "psycopg" if parsed.drivername in ("postgresql", "postgresql+asyncpg") else None
    sync_url = parsed.set(drivername="postgresql+psycopg") if driver else parsed
    try:
        runner = ThreadPoolRunner(sync_url.render_as_string(hide_password=False))
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"PostgreSQL needs its driver ({exc.name} is not installed): "
            "pip install 'studybot[postgres]'"
        ) from None
    return runner, runner


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


POSTGRES_MIN = 120000
"""PostgreSQL 12 or later (``server_version_num``)."""
MIGRATION_LOCK = 0x5354_5544_5942_4F54  # "STUDYBOT": one advisory lock id for migrations


def upgrade_on(connection: Connection) -> None:
    """Apply every Alembic migration not yet applied (idempotent). On PostgreSQL under an
    advisory lock, so instances starting together migrate one after another."""
    if connection.dialect.name == "postgresql":
        _check_postgres(connection)
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _check_postgres(connection: Connection) -> None:
    """Refuse, in one line, a server too old or a database that belongs to something else."""
    version = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
    if version < POSTGRES_MIN:
        shown = f"{version // 10000}.{version % 10000 // 100}"
        raise ConfigError(f"PostgreSQL {shown} is too old: studybot needs 12 or later")
    tables = set(
        connection.exec_driver_sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        ).scalars()
    )
    if tables and "alembic_version" not in tables:
        some = ", ".join(sorted(tables)[:3])
        raise ConfigError(
            f"the database already holds another application's tables ({some}...): "
            "give studybot a database of its own"
        )


async def upgrade(writer: Runner) -> None:
    try:
        # READ COMMITTED: after waiting on the migration lock, the next statement must see
        # the schema the instance that held it created (a serializable snapshot would not).
        await writer.run(upgrade_on, write=True, serializable=False)
    except DBAPIError as exc:
        if isinstance(exc.orig, sqlite3.DatabaseError):
            raise ConfigError(f"cannot open the database: {exc.orig}") from None
        raise
    except sqlite3.DatabaseError as exc:
        raise ConfigError(f"cannot open the database: {exc}") from None
    except CommandError as exc:  # a revision this version does not know
        raise ConfigError(
            f"the database's schema is not one this studybot knows ({exc}): another "
            "application's, or a newer studybot's"
        ) from None


__all__ = ["Any", "Runner", "open_runners", "upgrade"]
