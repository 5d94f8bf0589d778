"""Who owns a claim, and whether that owner is still alive.

Every running bot registers a row in ``instances`` and then holds a lock that is released
the moment its process dies, by the kernel or by the server, never by a timer: on SQLite
an ``flock`` on a file beside the database (``studybot.db.instances/<id>.lock``), on
PostgreSQL a session advisory lock on a connection kept open for the purpose. A claim
(a post, a reveal, a leaderboard, a notice, a follow-up DM, an inbox event) names its
owner's id; another instance takes it over only when that owner is gone. Recording a
send is fenced: the write only lands if this instance still owns the claim.
(docs/adr/0011-claims-owned-by-live-instances.md)
"""

from __future__ import annotations

import fcntl
import os
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ColumnElement

from bot.store.tables import instances

LOCK_SPACE = 0x5354  # first key of the two-key advisory lock; the second is the instance id

INTENT = "intent"
"""Claimed (a post, a reveal, a leaderboard): the send is not recorded yet."""
POSTED = "posted"
"""The send is recorded."""


@dataclass(frozen=True)
class Claims:
    """A snapshot of ownership as one instance sees it.

    ``busy`` are the other instances alive when the snapshot was read; ``newest`` is the
    highest instance id registered then. An owner above ``newest`` registered since, so
    it counts as alive until the next snapshot: an old snapshot only ever delays a
    takeover, it never allows a wrong one.
    """

    me: int | None = None
    busy: frozenset[int] = frozenset()
    newest: int = 0

    def takeable(self, owner: Any) -> ColumnElement[bool]:
        """A stale claim may be taken: it has no owner (claimed before migration 0008, or
        by a process that never registered), it is this instance's own, or its owner is
        gone."""
        gone = owner <= self.newest
        if self.busy:
            gone = and_(gone, owner.not_in(sorted(self.busy)))
        mine = owner.is_(None) if self.me is None else or_(owner.is_(None), owner == self.me)
        return or_(mine, gone)

    def fence(self, owner: Any) -> ColumnElement[bool]:
        """The claim is still this instance's (the check before a send is recorded)."""
        return owner.is_not_distinct_from(self.me)  # type: ignore[no-any-return]


def lock_folder(database: Path) -> Path:
    return database.with_name(database.name + ".instances")


def read_claims(conn: Connection, me: int | None, folder: Path | None) -> Claims:
    """Who is alive now, read inside a unit of work."""
    newest = int(conn.execute(select(func.coalesce(func.max(instances.c.id), 0))).scalar_one())
    if conn.dialect.name == "postgresql":
        alive = set(conn.execute(_ADVISORY_HOLDERS, {"space": LOCK_SPACE}).scalars())
    elif folder is not None:
        others = conn.execute(select(instances.c.id).where(instances.c.id != (me or 0)))
        alive = {i for (i,) in others if _file_locked(folder / f"{i}.lock")}
    else:
        alive = set()
    return Claims(me=me, busy=frozenset(int(i) for i in alive) - {me}, newest=newest)


_ADVISORY_HOLDERS = text(
    "SELECT objid::int FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND classid::int = :space AND objsubid = 2"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def _file_locked(path: Path) -> bool:
    """Some live process holds this lock file (a missing file: nobody does)."""
    try:
        handle = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)  # closing the descriptor drops a lock it took
    return False


class Registration:
    """This process's row in ``instances`` and the lock that says it is alive."""

    def __init__(self, instance_id: int, release: Any, keep: Any) -> None:
        self.id = instance_id
        self._release = release
        self._keep = keep

    def keep(self) -> bool:
        """Check the lock is still held, and take it again if it was lost (a dropped
        connection, a deleted lock file); True if it had to be taken again. Meanwhile the
        others may have seen this instance as gone: what it was sending may go out twice,
        and its records are fenced."""
        return bool(self._keep()) if self._release is not None else False

    def release(self) -> None:
        """Let go of the lock (a clean stop): the claims left become takeable at once."""
        release, self._release = self._release, None
        if release is not None:
            release()


def register_sqlite(conn: Connection, folder: Path, now: datetime) -> Registration:
    """Inside one write transaction: add the row, lock its file, then commit, so nobody
    sees the row before its lock is held. Rows of instances that are gone are removed."""
    instance_id = _insert(conn, now)
    path = folder / f"{instance_id}.lock"
    handles = [_lock_file(path)]
    gone = [
        i
        for (i,) in conn.execute(select(instances.c.id).where(instances.c.id < instance_id))
        if not _file_locked(folder / f"{i}.lock")
    ]
    _forget(conn, gone)
    for i in gone:
        (folder / f"{i}.lock").unlink(missing_ok=True)

    def release() -> None:
        os.close(handles[0])

    def keep() -> bool:
        try:
            if path.stat().st_ino == os.fstat(handles[0]).st_ino:
                return False
        except FileNotFoundError:
            pass
        os.close(handles[0])  # its file is gone: nobody can see the lock any more
        handles[0] = _lock_file(path)
        return True

    return Registration(instance_id, release, keep)


def _lock_file(path: Path) -> int:
    path.parent.mkdir(exist_ok=True)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BaseException:
        os.close(handle)
        raise
    return handle


def register_postgres(engine: Engine, now: datetime) -> Registration:
    """On a connection of its own, kept open while the process lives: add the row and take
    the advisory lock in one transaction (the row is seen only once the lock is held)."""
    conns = [engine.connect()]
    conn = conns[0]
    try:
        with conn.begin():
            instance_id = _insert(conn, now)
            conn.execute(text("SELECT pg_advisory_lock(:space, :id)"), _key(instance_id))
            alive = set(conn.execute(_ADVISORY_HOLDERS, {"space": LOCK_SPACE}).scalars())
            rows = conn.execute(select(instances.c.id).where(instances.c.id < instance_id))
            _forget(conn, [i for (i,) in rows if i not in alive])
    except BaseException:
        conn.close()
        raise

    def release() -> None:
        conn = conns[0]
        try:  # at once: closing alone lets the server drop the lock a moment later
            with conn.begin():
                conn.execute(text("SELECT pg_advisory_unlock(:space, :id)"), _key(instance_id))
        except DBAPIError:
            pass  # the connection is gone, and its lock with it
        finally:
            conn.close()

    def keep() -> bool:
        try:
            with conns[0].begin():
                conns[0].execute(text("SELECT 1"))
            return False
        except DBAPIError:
            conns[0].close()
        fresh = engine.connect()
        with fresh.begin():
            fresh.execute(text("SELECT pg_advisory_lock(:space, :id)"), _key(instance_id))
        conns[0] = fresh
        return True

    return Registration(instance_id, release, keep)


def _key(instance_id: int) -> dict[str, int]:
    return {"space": LOCK_SPACE, "id": instance_id}


def _insert(conn: Connection, now: datetime) -> int:
    values = {"host": socket.gethostname()[:255], "pid": os.getpid(), "started_at": now}
    stmt = insert(instances).values(**values).returning(instances.c.id)
    return int(conn.execute(stmt).scalar_one())


def _forget(conn: Connection, gone: list[int]) -> None:
    """Rows of instances that are gone; the newest row always stays, so ``newest`` never
    goes down (and ids are never reused)."""
    if gone:
        conn.execute(delete(instances).where(instances.c.id.in_(gone)))
