"""Looking into a test's database from the test itself.

Services reach the store through units of work on its database thread. Tests that only
want to look (or to arrange rows) open their own short synchronous transaction on the
same SQLite file (or PostgreSQL database) with ``sync_tx``: same repositories, same SQL,
no thread hop. ``rows`` and ``count`` read a table directly, for checks that no
repository method exists for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table, create_engine, event, func, select
from sqlalchemy.engine import Connection, make_url

from bot.store.sql import SqlStore, SqlTx


@contextmanager
def sync_tx(store: SqlStore) -> Iterator[SqlTx]:
    url = make_url(store.url)
    if url.get_backend_name() == "postgresql":  # the same repositories on the server
        server = create_engine(url.set(drivername="postgresql+psycopg"))
        try:
            with server.begin() as conn:
                tx = SqlTx(conn.execution_options(preserve_rowcount=True))
                yield tx
                tx.finish()
        finally:
            server.dispose()
        return
    engine = create_engine(f"sqlite:///{url.database}")

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
        dbapi_conn.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]
        dbapi_conn.execute("PRAGMA busy_timeout=15000")  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as conn:
            tx = SqlTx(conn)
            yield tx
            tx.finish()
    finally:
        engine.dispose()


def rows(tx: SqlTx, table: Table, **where: object) -> list[dict[str, Any]]:
    """The rows of ``table`` whose columns equal ``where``, lowest id first."""
    query = select(table).where(*(table.c[k] == v for k, v in where.items()))
    if "id" in table.c:
        query = query.order_by(table.c.id)
    return [dict(r._mapping) for r in tx.conn.execute(query)]


def count(tx: SqlTx, table: Table, **where: object) -> int:
    """How many rows of ``table`` have these column values."""
    query = select(func.count()).select_from(table)
    query = query.where(*(table.c[k] == v for k, v in where.items()))
    return int(tx.conn.execute(query).scalar_one())
