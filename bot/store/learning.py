"""Queries on answers, grades, the review log, card schedules, follow-ups and quizzes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.models import Grade
from bot.core.srs import CardState
from bot.ports.records import (
    AnswerRow,
    DueCard,
    FollowupRow,
    GradeRow,
    QuizRow,
    StoredCardState,
)
from bot.store import convert
from bot.store.tables import (
    answers,
    card_states,
    followups,
    grades,
    members,
    quiz_sessions,
    reviews,
)


def _answer(row: Any) -> AnswerRow:
    return AnswerRow(**{k: row._mapping[k] for k in AnswerRow.__dataclass_fields__})


def _followup(row: Any) -> FollowupRow:
    m = row._mapping
    return FollowupRow(
        id=m["id"],
        member_id=m["member_id"],
        card_key=m["card_key"],
        due_at=m["due_at"],
        status=m["status"],
        local_date=m["local_date"],
        sent_at=m["sent_at"],
        message_ref=m["message_ref"],
        graded_at=m["graded_at"],
        grade=convert.grade(m["grade"]),
    )


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


class Answers:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, post_id: int, member_id: int) -> AnswerRow | None:
        query = select(answers).where(
            answers.c.post_id == post_id, answers.c.member_id == member_id
        )
        row = (await self._conn.execute(query)).first()
        return _answer(row) if row else None

    async def by_message(self, post_id: int, message_ref: str) -> AnswerRow | None:
        query = select(answers).where(
            answers.c.post_id == post_id, answers.c.message_ref == message_ref
        )
        row = (await self._conn.execute(query)).first()
        return _answer(row) if row else None

    async def add(
        self,
        post_id: int,
        member_id: int,
        *,
        message_ref: str | None,
        text: str,
        before_reveal: bool,
        now: datetime,
    ) -> bool:
        stmt = convert.upsert(self._conn, answers).values(
            post_id=post_id,
            member_id=member_id,
            message_ref=message_ref,
            text=text,
            before_reveal=before_reveal,
            created_at=now,
            updated_at=now,
        )
        return (await self._conn.execute(stmt.on_conflict_do_nothing())).rowcount == 1

    async def set_text(self, answer_id: int, text: str, now: datetime) -> None:
        await self._conn.execute(
            update(answers).where(answers.c.id == answer_id).values(text=text, updated_at=now)
        )

    async def delete(self, answer_id: int) -> None:
        await self._conn.execute(delete(answers).where(answers.c.id == answer_id))

    async def for_post(self, post_id: int) -> list[AnswerRow]:
        query = select(answers).where(answers.c.post_id == post_id).order_by(answers.c.id)
        return [_answer(r) for r in await self._conn.execute(query)]

    async def for_member(self, member_id: int) -> list[AnswerRow]:
        query = select(answers).where(answers.c.member_id == member_id).order_by(answers.c.id)
        return [_answer(r) for r in await self._conn.execute(query)]


class Reviews:
    """Grades on reveals, the full review log, and each member's card schedules."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def grade_of(self, post_id: int, member_id: int) -> GradeRow | None:
        query = select(grades).where(grades.c.post_id == post_id, grades.c.member_id == member_id)
        row = (await self._conn.execute(query)).first()
        if row is None:
            return None
        m = row._mapping
        return GradeRow(m["post_id"], m["member_id"], Grade(m["grade"]), m["emoji"])

    async def set_grade(
        self, post_id: int, member_id: int, grade: Grade, emoji: str, now: datetime
    ) -> None:
        values = {"grade": int(grade), "emoji": emoji, "updated_at": now}
        stmt = convert.upsert(self._conn, grades).values(
            post_id=post_id, member_id=member_id, **values
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["post_id", "member_id"], set_=values)
        )

    async def remove_grade(self, post_id: int, member_id: int) -> None:
        await self._conn.execute(
            delete(grades).where(grades.c.post_id == post_id, grades.c.member_id == member_id)
        )

    async def log(
        self, member_id: int, card_key: str, grade: Grade, at: datetime, kind: str, ref: str
    ) -> None:
        """Record (or replace, or restore) the review identified by (kind, ref)."""
        values = {"grade": int(grade), "reviewed_at": at, "voided": False, "updated_at": at}
        stmt = convert.upsert(self._conn, reviews).values(
            member_id=member_id, card_key=card_key, kind=kind, ref=ref, **values
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["kind", "ref"], set_=values)
        )

    async def void(self, kind: str, ref: str, now: datetime) -> None:
        await self._conn.execute(
            update(reviews)
            .where(reviews.c.kind == kind, reviews.c.ref == ref)
            .values(voided=True, updated_at=now)
        )

    async def history(self, member_id: int, card_key: str) -> list[tuple[Grade, datetime]]:
        query = (
            select(reviews.c.grade, reviews.c.reviewed_at)
            .where(
                reviews.c.member_id == member_id,
                reviews.c.card_key == card_key,
                ~reviews.c.voided,
            )
            .order_by(reviews.c.reviewed_at, reviews.c.id)
        )
        return [(Grade(g), at) for g, at in await self._conn.execute(query)]

    async def all_for(self, member_id: int) -> list[dict[str, Any]]:
        query = select(reviews).where(reviews.c.member_id == member_id).order_by(reviews.c.id)
        return [dict(r._mapping) for r in await self._conn.execute(query)]

    async def retention_by_topic(self, member_id: int) -> list[tuple[str, int, int]]:
        """(card_key, reviews, recalled) per card, non-voided; services group by topic."""
        recalled = func.sum(case((reviews.c.grade > int(Grade.AGAIN), 1), else_=0))
        query = (
            select(reviews.c.card_key, func.count(), recalled)
            .where(reviews.c.member_id == member_id, ~reviews.c.voided)
            .group_by(reviews.c.card_key)
        )
        return [(k, int(n), int(r or 0)) for k, n, r in await self._conn.execute(query)]

    async def state(self, member_id: int, card_key: str) -> StoredCardState | None:
        query = select(card_states).where(
            card_states.c.member_id == member_id, card_states.c.card_key == card_key
        )
        row = (await self._conn.execute(query)).first()
        return _card_state(row) if row else None

    async def save_state(
        self,
        member_id: int,
        card_key: str,
        state: CardState,
        *,
        first_seen: datetime,
        origin_channel_id: int | None,
    ) -> None:
        values = {
            "state": state.state,
            "stability": state.stability,
            "difficulty": state.difficulty,
            "due_at": state.due,
            "last_review": state.last_review,
            "reps": state.reps,
            "lapses": state.lapses,
        }
        stmt = convert.upsert(self._conn, card_states).values(
            member_id=member_id,
            card_key=card_key,
            first_seen=first_seen,
            origin_channel_id=origin_channel_id,
            **values,
        )
        await self._conn.execute(
            stmt.on_conflict_do_update(index_elements=["member_id", "card_key"], set_=values)
        )

    async def delete_state(self, member_id: int, card_key: str) -> None:
        await self._conn.execute(
            delete(card_states).where(
                card_states.c.member_id == member_id, card_states.c.card_key == card_key
            )
        )

    async def states_for(self, member_id: int) -> list[StoredCardState]:
        query = select(card_states).where(card_states.c.member_id == member_id)
        return [_card_state(r) for r in await self._conn.execute(query)]

    async def due(self, now: datetime, limit: int = 1000) -> list[DueCard]:
        """Due, reviewed cards of members who take follow-ups and have no open one for it."""
        open_followup = (
            select(followups.c.id)
            .where(
                followups.c.member_id == card_states.c.member_id,
                followups.c.card_key == card_states.c.card_key,
                followups.c.status.in_(("intent", "sent", "shown")),
            )
            .exists()
        )
        query = (
            select(card_states, members)
            .join(members, members.c.id == card_states.c.member_id)
            .where(
                card_states.c.due_at <= now,
                card_states.c.reps > 0,
                ~members.c.followups_paused,
                (members.c.dm_blocked_until.is_(None)) | (members.c.dm_blocked_until <= now),
                ~open_followup,
            )
            .order_by(card_states.c.due_at)
            .limit(limit)
        )
        result = []
        for row in await self._conn.execute(query):
            m = row._mapping
            member = convert.member_from(m, id_key="member_id")
            result.append(DueCard(member, m["card_key"], m["due_at"], m["origin_channel_id"]))
        return result

    async def count_due(self, member_id: int, now: datetime) -> int:
        query = select(func.count()).where(
            card_states.c.member_id == member_id,
            card_states.c.due_at <= now,
            card_states.c.reps > 0,
        )
        return int((await self._conn.execute(query)).scalar_one())


class Followups:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def claim(
        self, member_id: int, card_key: str, due_at: datetime, local_date: date, now: datetime
    ) -> int | None:
        stmt = convert.upsert(self._conn, followups).values(
            member_id=member_id,
            card_key=card_key,
            due_at=due_at,
            local_date=local_date,
            status="intent",
            created_at=now,
        )
        result = await self._conn.execute(stmt.on_conflict_do_nothing())
        if result.rowcount != 1:
            return None
        query = select(followups.c.id).where(
            followups.c.member_id == member_id,
            followups.c.card_key == card_key,
            followups.c.due_at == due_at,
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def get(self, followup_id: int) -> FollowupRow | None:
        row = (
            await self._conn.execute(select(followups).where(followups.c.id == followup_id))
        ).first()
        return _followup(row) if row else None

    async def mark(self, followup_id: int, status: str, **values: Any) -> None:
        await self._conn.execute(
            update(followups).where(followups.c.id == followup_id).values(status=status, **values)
        )

    async def drop(self, followup_id: int) -> None:
        await self._conn.execute(delete(followups).where(followups.c.id == followup_id))

    async def sent_on(self, member_id: int, local_date: date) -> int:
        query = select(func.count()).where(
            followups.c.member_id == member_id, followups.c.local_date == local_date
        )
        return int((await self._conn.execute(query)).scalar_one())

    async def stale_intents(self, created_before: datetime) -> list[FollowupRow]:
        query = select(followups).where(
            followups.c.status == "intent", followups.c.created_at < created_before
        )
        return [_followup(r) for r in await self._conn.execute(query)]

    async def for_member(self, member_id: int) -> list[FollowupRow]:
        query = select(followups).where(followups.c.member_id == member_id).order_by(followups.c.id)
        return [_followup(r) for r in await self._conn.execute(query)]


class Quizzes:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def start(
        self, member_id: int, topic: str | None, card_keys: list[str], now: datetime
    ) -> int:
        result = await self._conn.execute(
            quiz_sessions.insert().values(
                member_id=member_id,
                topic=topic,
                card_keys="\n".join(card_keys),
                position=0,
                shown=False,
                grades="",
                status="open",
                created_at=now,
                updated_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    async def get(self, quiz_id: int) -> QuizRow | None:
        row = (
            await self._conn.execute(select(quiz_sessions).where(quiz_sessions.c.id == quiz_id))
        ).first()
        if row is None:
            return None
        m = row._mapping
        return QuizRow(
            id=m["id"],
            member_id=m["member_id"],
            topic=m["topic"],
            card_keys=tuple(m["card_keys"].split("\n")),
            position=m["position"],
            shown=m["shown"],
            grades=tuple(Grade(int(g)) for g in m["grades"] if g.isdigit()),
            status=m["status"],
        )

    async def save(self, quiz: QuizRow, now: datetime) -> None:
        await self._conn.execute(
            update(quiz_sessions)
            .where(quiz_sessions.c.id == quiz.id)
            .values(
                position=quiz.position,
                shown=quiz.shown,
                grades="".join(str(int(g)) for g in quiz.grades),
                status=quiz.status,
                updated_at=now,
            )
        )

    async def open_for(self, member_id: int) -> list[int]:
        query = select(quiz_sessions.c.id).where(
            quiz_sessions.c.member_id == member_id, quiz_sessions.c.status == "open"
        )
        return [int(r[0]) for r in await self._conn.execute(query)]
