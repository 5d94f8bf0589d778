"""Converting between database rows and the records of ``bot.ports.records``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from bot.core.models import ChannelSettings, Grade
from bot.core.schedule import parse_days, parse_reveal, parse_time
from bot.ports.records import ChannelRow, MemberRow, PostRow


def upsert(conn: Connection, table: Table) -> Any:
    """A dialect insert that supports ``on_conflict_do_*`` (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def ignoring(table: Table) -> Callable[[Callable[[Table], Any]], Any]:
    """A builder for ``INSERT ... ON CONFLICT DO NOTHING`` into ``table``."""
    return lambda insert: insert(table).on_conflict_do_nothing()


_PREPARED: dict[tuple[str, str], Any] = {}


def prepared(conn: Connection, name: str, build: Callable[[Callable[[Table], Any]], Any]) -> Any:
    """A statement built once per dialect, then executed with parameters.

    Building a Core statement costs more than running it on SQLite (about 0.3 ms against
    0.1 ms here); reusing one object also lets SQLAlchemy reuse its compiled form.
    ``build`` receives the dialect's ``insert`` (for ``on_conflict_do_*``).
    """
    key = (conn.dialect.name, name)
    stmt = _PREPARED.get(key)
    if stmt is None:
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        stmt = _PREPARED[key] = build(insert)
    return stmt


def csv(values: tuple[str, ...]) -> str:
    return ",".join(values)


def uncsv(text: str | None) -> tuple[str, ...]:
    return tuple(v for v in (text or "").split(",") if v)


def settings_columns(settings: ChannelSettings) -> dict[str, Any]:
    return {
        "tz": settings.tz,
        "post_time": settings.post_time.strftime("%H:%M"),
        "days": ",".join(str(d) for d in sorted(settings.days)),
        "reveal": settings.reveal.describe(),
        "leaderboard_day": settings.leaderboard_day,
        "leaderboard_time": settings.leaderboard_time.strftime("%H:%M"),
        "decks": csv(settings.decks),
        "topics": csv(settings.topics),
        "levels": csv(settings.levels),
        "catchups": settings.catchups,
        "share": settings.share,
    }


def channel(row: Row[Any], prefix: str = "") -> ChannelRow:
    m = _Prefixed(row._mapping, prefix) if prefix else row._mapping
    settings = ChannelSettings(
        tz=m["tz"],
        post_time=parse_time(m["post_time"]),
        days=frozenset(int(d) for d in uncsv(m["days"])),
        reveal=parse_reveal(m["reveal"]),
        leaderboard_day=m["leaderboard_day"],
        leaderboard_time=parse_time(m["leaderboard_time"]),
        decks=uncsv(m["decks"]),
        topics=uncsv(m["topics"]),
        levels=uncsv(m["levels"]),
        catchups=bool(m["catchups"]),
        share=bool(m["share"]),
    )
    return ChannelRow(
        id=m["id"],
        platform=m["platform"],
        workspace=m["workspace"],
        channel_ref=m["channel_ref"],
        name=m["name"],
        enabled=m["enabled"],
        paused=m["paused"],
        pause_reason=m["pause_reason"],
        settings=settings,
        source=m["source"],
        cycle=m["cycle"],
        next_post_at=m["next_post_at"],
        next_leaderboard_at=m["next_leaderboard_at"],
        set_up_by=m["set_up_by"],
    )


def member(row: Row[Any]) -> MemberRow:
    return member_from(row._mapping)


def member_from(m: Any, *, id_key: str = "id") -> MemberRow:
    """A member from a mapping (a joined row names the member's id ``member_id``)."""
    return MemberRow(
        id=m[id_key],
        platform=m["platform"],
        workspace=m["workspace"],
        user_ref=m["user_ref"],
        name=m["name"],
        tz=m["tz"],
        followups_paused=m["followups_paused"],
        dm_blocked_until=m["dm_blocked_until"],
        dm_block_reason=m["dm_block_reason"],
        last_active_at=m["last_active_at"],
        catchups_off=bool(m["catchups_off"]),
        study_days=parse_days(m["study_days"]) if m["study_days"] else None,
        next_batch_at=m["next_batch_at"],
    )


def post(row: Row[Any], prefix: str = "") -> PostRow:
    m = row._mapping
    return PostRow(**{k: m[prefix + k] for k in PostRow.__dataclass_fields__})


class _Prefixed:
    """A row mapping read through a label prefix (``channels_tz`` as ``tz``)."""

    def __init__(self, mapping: Any, prefix: str) -> None:
        self._mapping = mapping
        self._prefix = prefix

    def __getitem__(self, key: str) -> Any:
        return self._mapping[self._prefix + key]


def grade(value: int | None) -> Grade | None:
    return None if value is None else Grade(value)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, Callable[[Any], Any] | None, Any], ...]
    """(column, bind processor, scalar default for a column the row leaves out)"""


def _scalar_default(table: Table, column: str) -> Any:
    default = table.c[column].default
    arg = getattr(default, "arg", None)
    if callable(arg):
        raise TypeError(f"{table.name}.{column}: give a value; callable defaults are not used here")
    return arg


_COMPILED: dict[tuple[str, tuple[str, ...]], _Compiled] = {}


def execute_row(
    conn: Connection,
    name: str,
    build: Callable[[Callable[[Table], Any]], Any],
    table: Table,
    row: dict[str, Any],
) -> int:
    """Run a prepared INSERT (or upsert) for one row of column values; return the rowcount.

    On SQLite the statement is compiled once by SQLAlchemy and then runs straight on the
    DBAPI cursor, with SQLAlchemy's own bind processors for every column type (about
    10 µs per insert here, against 80 µs through ``Connection.execute``). Other dialects
    take the ordinary path.
    """
    stmt = prepared(conn, name, build)
    if conn.dialect.name != "sqlite":
        return int(conn.execute(stmt, row).rowcount)
    key = (name, tuple(row))
    compiled = _COMPILED.get(key)
    if compiled is None:
        result = stmt.compile(dialect=conn.dialect, column_keys=list(row))
        binds = tuple(
            (
                column,
                table.c[column].type.bind_processor(conn.dialect),
                None if column in row else _scalar_default(table, column),
            )
            for column in result.positiontup or ()
        )
        compiled = _COMPILED[key] = _Compiled(result.string, binds)
    params = tuple(
        (bind(v) if bind else v)
        for c, bind, default in compiled.binds
        for v in (row.get(c, default),)
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(compiled.sql, params)
        return int(cursor.rowcount)
    finally:
        cursor.close()
