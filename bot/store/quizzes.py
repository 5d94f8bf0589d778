"""Queries on quiz sessions (one member, a run of cards)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from bot.core.models import Grade
from bot.ports.records import QuizRow
from bot.store.tables import quiz_sessions

_QUIZ = select(quiz_sessions).where(quiz_sessions.c.id == bindparam("id"))
_SAVE_QUIZ = update(quiz_sessions).where(quiz_sessions.c.id == bindparam("b_id"))


class Quizzes:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def start(self, member_id: int, topic: str | None, card_keys: list[str], now: datetime) -> int:
        result = self._conn.execute(
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

    def get(self, quiz_id: int) -> QuizRow | None:
        row = self._conn.execute(_QUIZ, {"id": quiz_id}).first()
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

    def save(self, quiz: QuizRow, now: datetime) -> None:
        row = {
            "b_id": quiz.id,
            "position": quiz.position,
            "shown": quiz.shown,
            "grades": "".join(str(int(g)) for g in quiz.grades),
            "status": quiz.status,
            "updated_at": now,
        }
        self._conn.execute(_SAVE_QUIZ, row)
