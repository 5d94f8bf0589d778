"""Points: what a study action is worth, with daily caps so nobody can farm them.

Points reward taking part and remembering, never speed. This table is the only place
the numbers live (the README shows the same table).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.StrEnum):
    ANSWER = "answer"
    EARLY_ANSWER = "early_answer"
    GRADE = "grade"
    FOLLOWUP_ON_TIME = "followup_on_time"
    FOLLOWUP_LATE = "followup_late"
    QUIZ_CARD = "quiz_card"


@dataclass(frozen=True, slots=True)
class Rule:
    points: int
    daily_cap: int
    description: str


TABLE: dict[Kind, Rule] = {
    Kind.ANSWER: Rule(10, 20, "answer the daily question in its thread"),
    Kind.EARLY_ANSWER: Rule(5, 10, "bonus: the answer came before the reveal"),
    Kind.GRADE: Rule(2, 4, "grade yourself on the reveal"),
    Kind.FOLLOWUP_ON_TIME: Rule(3, 30, "clear a due follow-up within 24 h of its DM"),
    Kind.FOLLOWUP_LATE: Rule(1, 10, "clear a follow-up later than that"),
    Kind.QUIZ_CARD: Rule(1, 20, "grade a card in a /quiz"),
}


def award(kind: Kind, already_today: int) -> int:
    """Points for one more ``kind`` action given what that kind earned today already."""
    rule = TABLE[kind]
    return max(0, min(rule.points, rule.daily_cap - already_today))


def table_lines() -> list[str]:
    """The points table as a list, for chat (no platform draws Markdown tables)."""
    return [f"• {r.description}: {r.points} (at most {r.daily_cap} a day)" for r in TABLE.values()]


def table_markdown() -> str:
    """The points table as Markdown, for the README."""
    lines = ["| action | points | daily cap |", "|---|---:|---:|"]
    lines += [f"| {r.description} | {r.points} | {r.daily_cap} |" for r in TABLE.values()]
    return "\n".join(lines)
