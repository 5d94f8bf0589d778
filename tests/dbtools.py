"""Looking into a test's database from the test itself.

Services reach the store through units of work on its database thread. Tests that only
want to look (or to arrange rows) open their own short synchronous transaction on the
same SQLite file (or PostgreSQL database) with ``sync_tx``: same repositories, same SQL,
no thread hop.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, event
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
