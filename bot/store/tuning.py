"""Queries on the FSRS parameter history and the review log it is fitted from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from bot.core.tuning import LoggedReview
from bot.ports.tuning import NewParameters, ParameterRow
from bot.store.tables import members, reviews, srs_parameters

_NEWEST_FIRST = (srs_parameters.c.created_at.desc(), srs_parameters.c.id.desc())
_LOG = (
    select(
        members.c.platform,
        members.c.workspace,
        reviews.c.member_id,
        reviews.c.card_key,
        reviews.c.grade,
        reviews.c.reviewed_at,
    )
    .join(members, members.c.id == reviews.c.member_id)
    .where(~reviews.c.voided)
    .order_by(reviews.c.reviewed_at, reviews.c.id)
)


def _row(row: Any) -> ParameterRow:
    m = row._mapping
    return ParameterRow(**{k: m[k] for k in ParameterRow.__dataclass_fields__})


class Tuning:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, row: NewParameters, now: datetime) -> int:
        values = {**asdict(row), "created_at": now}
        query = insert(srs_parameters).values(**values).returning(srs_parameters.c.id)
        return int(self._conn.execute(query).scalar_one())

    def adopted(self) -> list[ParameterRow]:
        query = select(srs_parameters).where(srs_parameters.c.adopted).order_by(*_NEWEST_FIRST)
        return [_row(r) for r in self._conn.execute(query)]

    def last_run(self) -> datetime | None:
        query = select(srs_parameters.c.created_at).order_by(*_NEWEST_FIRST).limit(1)
        latest = self._conn.execute(query).scalar_one_or_none()
        return latest if isinstance(latest, datetime) else None

    def review_log(self) -> dict[tuple[str, str], list[LoggedReview]]:
        grouped: defaultdict[tuple[str, str], list[LoggedReview]] = defaultdict(list)
        for platform, workspace, member_id, card_key, grade, at in self._conn.execute(_LOG):
            grouped[(platform, workspace)].append(LoggedReview(member_id, card_key, grade, at))
        return dict(grouped)
