"""Queries on answers posted in a daily post's thread."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection

from bot.ports.records import AnswerRow
from bot.store.convert import execute_row, ignoring
from bot.store.tables import answers


def _answer(row: Any) -> AnswerRow:
    return AnswerRow(**{k: row._mapping[k] for k in AnswerRow.__dataclass_fields__})


_ANSWER = select(answers).where(
    answers.c.post_id == bindparam("p"), answers.c.member_id == bindparam("m")
)
_ANSWER_BY_MESSAGE = select(answers).where(
    answers.c.post_id == bindparam("p"), answers.c.message_ref == bindparam("r")
)


class Answers:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, post_id: int, member_id: int) -> AnswerRow | None:
        row = self._conn.execute(_ANSWER, {"p": post_id, "m": member_id}).first()
        return _answer(row) if row else None

    def by_message(self, post_id: int, message_ref: str) -> AnswerRow | None:
        row = self._conn.execute(_ANSWER_BY_MESSAGE, {"p": post_id, "r": message_ref}).first()
        return _answer(row) if row else None

    def add(
        self,
        post_id: int,
        member_id: int,
        *,
        message_ref: str | None,
        text: str,
        before_reveal: bool,
        now: datetime,
    ) -> bool:
        row = {
            "post_id": post_id,
            "member_id": member_id,
            "message_ref": message_ref,
            "text": text,
            "before_reveal": before_reveal,
            "created_at": now,
            "updated_at": now,
        }
        build = ignoring(answers)
        return execute_row(self._conn, "answers.add", build, answers, row) == 1

    def set_text(self, answer_id: int, text: str, now: datetime) -> None:
        self._conn.execute(
            update(answers).where(answers.c.id == answer_id).values(text=text, updated_at=now)
        )

    def delete(self, answer_id: int) -> None:
        self._conn.execute(delete(answers).where(answers.c.id == answer_id))

    def for_post(self, post_id: int) -> list[AnswerRow]:
        query = select(answers).where(answers.c.post_id == post_id).order_by(answers.c.id)
        return [_answer(r) for r in self._conn.execute(query)]
