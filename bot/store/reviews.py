"""Queries on grades, the review log, and each member's card schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy.engine import Connection

from bot.core.models import Grade
from bot.core.srs import CardState
from bot.ports.records import DueCard, GradeRow, StoredCardState
from bot.store.convert import execute_row
from bot.store.followups import due_rows, refresh_next_due
from bot.store.tables import card_states, grades, reviews


def _card_state(row: Any) -> StoredCardState:
    m = row._mapping
    state = CardState(
        state=m["state"],
        stability=m["stability"],
        difficulty=m["difficulty"],
        due=m["due_at"],
        last_review=m["last_review"],
        reps=m["reps"],
        lapses=m["lapses"],
    )
    return StoredCardState(
        m["member_id"], m["card_key"], state, m["first_seen"], m["origin_channel_id"]
    )


_GRADE = select(grades).where(
    grades.c.post_id == bindparam("p"), grades.c.member_id == bindparam("m")
)
_HISTORY = (
    select(reviews.c.grade, reviews.c.reviewed_at)
    .where(
        reviews.c.member_id == bindparam("m"),
        reviews.c.card_key == bindparam("k"),
        ~reviews.c.voided,
    )
    .order_by(reviews.c.reviewed_at, reviews.c.id)
)
_STATE = select(card_states).where(
    card_states.c.member_id == bindparam("m"), card_states.c.card_key == bindparam("k")
)
_STATES = select(card_states).where(card_states.c.member_id == bindparam("m"))


def _set_grade(insert: Any) -> Any:
    stmt = insert(grades)
    columns = ("grade", "emoji", "updated_at")
    return stmt.on_conflict_do_update(
        index_elements=["post_id", "member_id"],
        set_={c: getattr(stmt.excluded, c) for c in columns},
    )


def _log_review(insert: Any) -> Any:
    stmt = insert(reviews)
    columns = ("grade", "reviewed_at", "voided", "updated_at")
    return stmt.on_conflict_do_update(
        index_elements=["kind", "ref"], set_={c: getattr(stmt.excluded, c) for c in columns}
    )


def _save_state(insert: Any) -> Any:
    stmt = insert(card_states)
    columns = (
        "state",
        "stability",
        "difficulty",
        "due_at",
        "last_review",
        "reps",
        "lapses",
        "held_since",
    )
    return stmt.on_conflict_do_update(
        index_elements=["member_id", "card_key"],
        set_={c: getattr(stmt.excluded, c) for c in columns},
    )


class Reviews:
    """Grades on reveals, the full review log, and each member's card schedules."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def grade_of(self, post_id: int, member_id: int) -> GradeRow | None:
        row = self._conn.execute(_GRADE, {"p": post_id, "m": member_id}).first()
        if row is None:
            return None
        m = row._mapping
        return GradeRow(m["post_id"], m["member_id"], Grade(m["grade"]), m["emoji"])

    def set_grade(
        self, post_id: int, member_id: int, grade: Grade, emoji: str, now: datetime
    ) -> None:
        row = {
            "post_id": post_id,
            "member_id": member_id,
            "grade": int(grade),
            "emoji": emoji,
            "updated_at": now,
        }
        execute_row(self._conn, "grades.set", _set_grade, grades, row)

    def remove_grade(self, post_id: int, member_id: int) -> None:
        self._conn.execute(
            delete(grades).where(grades.c.post_id == post_id, grades.c.member_id == member_id)
        )

    def log(
        self, member_id: int, card_key: str, grade: Grade, at: datetime, kind: str, ref: str
    ) -> None:
        """Record (or replace, or restore) the review identified by (kind, ref)."""
        row = {
            "member_id": member_id,
            "card_key": card_key,
            "kind": kind,
            "ref": ref,
            "grade": int(grade),
            "reviewed_at": at,
            "voided": False,
            "updated_at": at,
        }
        execute_row(self._conn, "reviews.log", _log_review, reviews, row)

    def void(self, kind: str, ref: str, now: datetime) -> None:
        self._conn.execute(
            update(reviews)
            .where(reviews.c.kind == kind, reviews.c.ref == ref)
            .values(voided=True, updated_at=now)
        )

    def history(self, member_id: int, card_key: str) -> list[tuple[Grade, datetime]]:
        rows = self._conn.execute(_HISTORY, {"m": member_id, "k": card_key})
        return [(Grade(g), at) for g, at in rows]

    def retention_by_topic(self, member_id: int) -> list[tuple[str, int, int]]:
        """(card_key, reviews, recalled) per card, non-voided; services group by topic."""
        recalled = func.sum(case((reviews.c.grade > int(Grade.AGAIN), 1), else_=0))
        query = (
            select(reviews.c.card_key, func.count(), recalled)
            .where(reviews.c.member_id == member_id, ~reviews.c.voided)
            .group_by(reviews.c.card_key)
        )
        return [(k, int(n), int(r or 0)) for k, n, r in self._conn.execute(query)]

    def state(self, member_id: int, card_key: str) -> StoredCardState | None:
        row = self._conn.execute(_STATE, {"m": member_id, "k": card_key}).first()
        return _card_state(row) if row else None

    def save_state(
        self,
        member_id: int,
        card_key: str,
        state: CardState,
        *,
        first_seen: datetime,
        origin_channel_id: int | None,
    ) -> None:
        row = {
            "member_id": member_id,
            "card_key": card_key,
            "first_seen": first_seen,
            "origin_channel_id": origin_channel_id,
            "state": state.state,
            "stability": state.stability,
            "difficulty": state.difficulty,
            "due_at": state.due,
            "last_review": state.last_review,
            "reps": state.reps,
            "lapses": state.lapses,
            "held_since": None,
        }
        execute_row(self._conn, "card_states.save", _save_state, card_states, row)
        refresh_next_due(self._conn, member_id)

    def delete_state(self, member_id: int, card_key: str) -> None:
        self._conn.execute(
            delete(card_states).where(
                card_states.c.member_id == member_id, card_states.c.card_key == card_key
            )
        )
        refresh_next_due(self._conn, member_id)

    def states_for(self, member_id: int) -> list[StoredCardState]:
        return [_card_state(r) for r in self._conn.execute(_STATES, {"m": member_id})]

    def due(self, now: datetime, per_member: int = 5, limit: int = 1000) -> list[DueCard]:
        """A page of at most ``limit`` ready members, each with up to ``per_member`` of
        their own due cards, oldest first.

        A member is ready when they take follow-ups, their DMs are open, their next batch
        time has come, and the card has no open follow-up and is not held (re-sends used
        up, waiting for the member's next active day). Chosen per member, so no member
        starves however many others have due cards.
        """
        return due_rows(self._conn, now, per_member, limit)

    def hold(self, member_id: int, card_key: str, since: datetime) -> None:
        """Re-sends used up: the card waits until the member is next active."""
        self._conn.execute(
            update(card_states)
            .where(card_states.c.member_id == member_id, card_states.c.card_key == card_key)
            .values(held_since=since)
        )
        refresh_next_due(self._conn, member_id)

    def backlog(self, now: datetime) -> int:
        """Reviewed cards due now, across members (the follow-up backlog)."""
        query = select(func.count()).where(card_states.c.due_at <= now, card_states.c.reps > 0)
        return int(self._conn.execute(query).scalar_one())

    def count_due(self, member_id: int, now: datetime) -> int:
        query = select(func.count()).where(
            card_states.c.member_id == member_id,
            card_states.c.due_at <= now,
            card_states.c.reps > 0,
        )
        return int((self._conn.execute(query)).scalar_one())
