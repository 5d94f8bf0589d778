"""Button action ids, defined once: what services put on buttons and the facade reads.

An action id carries everything its click needs (buttons outlive restarts), stays well
under the platforms' limits (Discord ``custom_id``: 100 characters) and names no member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.core.models import Grade

ActionKind = Literal[
    "followup_show", "followup_grade", "quiz_show", "quiz_grade", "reveal_grade", "forget"
]


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    ids: tuple[int, ...] = ()
    """The follow-up id, the quiz id and card position, or the forget-me token."""
    grade: Grade | None = None


def followup_show(followup_id: int) -> str:
    return f"fu:show:{followup_id}"


def followup_grades(followup_id: int) -> str:
    """The prefix of a follow-up's grade buttons (``:<grade>`` is appended per button)."""
    return f"fu:grade:{followup_id}"


def quiz_show(quiz_id: int, position: int) -> str:
    return f"qz:show:{quiz_id}:{position}"


def quiz_grades(quiz_id: int, position: int) -> str:
    return f"qz:grade:{quiz_id}:{position}"


def reveal_grades(post_id: int) -> str:
    """The prefix of the grade buttons on a daily post's reveal."""
    return f"rv:grade:{post_id}"


FORGET_CONFIRM = "forget:confirm"
"""The confirm button's prefix; alone (an older button's id) it deletes nothing."""


def forget_confirm(token: str) -> str:
    """The forget-me button of the member ``token`` names (``PersonalDataRepo.token``)."""
    return f"{FORGET_CONFIRM}:{token}"


PREFIXES = ("fu", "qz", "rv", "forget")
PATTERN = rf"^({'|'.join(PREFIXES)}):"
"""A regular expression every action id of ours matches (platform listeners filter by it)."""

_SHAPES: dict[tuple[str, str], tuple[ActionKind, int, bool]] = {
    ("fu", "show"): ("followup_show", 1, False),
    ("fu", "grade"): ("followup_grade", 1, True),
    ("qz", "show"): ("quiz_show", 2, False),
    ("qz", "grade"): ("quiz_grade", 2, True),
    ("rv", "grade"): ("reveal_grade", 1, True),
    ("forget", "confirm"): ("forget", 1, False),
}


ID_MAX = 2**63 - 1
"""The largest id the store can hold (64-bit signed integers); a bigger one names nothing."""
_ID = re.compile(r"[0-9]{1,19}")
"""An id or position as our builders write it: ASCII digits, few enough for ``ID_MAX``."""


def parse_action(action: str) -> Action | None:
    """The action a button id stands for; ``None`` for anything that is not one of ours
    (a stale button of an older version, a garbled or forged id)."""
    if action == FORGET_CONFIRM:
        return Action("forget")
    parts = action.split(":")
    shape = _SHAPES.get((parts[0], parts[1])) if len(parts) >= 2 else None
    if shape is None:
        return None
    kind, count, graded = shape
    rest = parts[2:]
    if len(rest) != count + int(graded) or not all(_ID.fullmatch(p) for p in rest):
        return None
    numbers = tuple(int(p) for p in rest)
    if any(n > ID_MAX for n in numbers):
        return None  # no row has such an id: a forged or garbled button
    if not graded:
        return Action(kind, numbers)
    try:
        grade = Grade(numbers[-1])
    except ValueError:
        return None
    return Action(kind, numbers[:-1], grade)
