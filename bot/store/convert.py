"""Converting between database rows and the records of ``bot.ports.records``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import ChannelSettings, Grade
from bot.core.schedule import parse_reveal, parse_time
from bot.ports.records import ChannelRow, MemberRow, PostRow


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """A dialect insert that supports ``on_conflict_do_*`` (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


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
    }


def channel(row: Row[Any]) -> ChannelRow:
    m = row._mapping
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
    )


def post(row: Row[Any]) -> PostRow:
    return PostRow(**{k: row._mapping[k] for k in PostRow.__dataclass_fields__})


def grade(value: int | None) -> Grade | None:
    return None if value is None else Grade(value)
