"""Spaced repetition through the ``fsrs`` package (FSRS-6).

An ``Srs`` schedules with one parameter set (the defaults, or parameters fitted for a
workspace and deck: see ``bot.core.srsbook`` and docs/adr/0006) and one desired retention.

A member's schedule for a card is a pure function of its reviews: ``replay`` folds the
review log from a new card. Changing or withdrawing a grade therefore never needs an
"undo": the store voids the review and the state is replayed.

Learning steps are off. The bot talks to people once a day, not once a minute, so a
new card goes straight to FSRS's day-scale intervals (see docs/adr/0003).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fsrs import Card as FsrsCard
from fsrs import Rating, Scheduler, State

from bot.core.models import Grade

DESIRED_RETENTION = 0.9
DEFAULT_PARAMETERS: tuple[float, ...] = tuple(Scheduler().parameters)
"""FSRS-6's 21 default parameters, as the ``fsrs`` package has them."""
_CARD_ID = 1  # fsrs sleeps 1 ms to invent an id when none is given


@dataclass(frozen=True, slots=True)
class CardState:
    """A member's memory of one card, as FSRS sees it."""

    state: int
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reps: int = 0
    lapses: int = 0


def _utc(instant: datetime) -> datetime:
    """fsrs wants ``datetime.timezone.utc`` exactly; naive times are a bug, not local time."""
    if instant.tzinfo is None:
        raise ValueError("review times must be aware UTC datetimes")
    return instant.astimezone(UTC)


class Srs:
    def __init__(
        self,
        *,
        desired_retention: float = DESIRED_RETENTION,
        fuzz: bool = True,
        parameters: Sequence[float] = DEFAULT_PARAMETERS,
    ) -> None:
        self.parameters = tuple(float(p) for p in parameters)
        self.desired_retention = desired_retention
        self.fuzz = fuzz
        self._plain: Srs | None = None
        self._scheduler = Scheduler(
            parameters=self.parameters,
            desired_retention=desired_retention,
            learning_steps=(),
            relearning_steps=(),
            enable_fuzzing=fuzz,
        )

    def new(self, now: datetime) -> CardState:
        return CardState(State.Learning.value, None, None, _utc(now), None)

    def review(self, state: CardState, grade: Grade, at: datetime) -> CardState:
        card = FsrsCard(
            card_id=_CARD_ID,
            state=State(state.state),
            step=None if state.state == State.Review.value else 0,
            stability=state.stability,
            difficulty=state.difficulty,
            due=state.due,
            last_review=state.last_review,
        )
        after, _log = self._scheduler.review_card(
            card, Rating(int(grade)), review_datetime=_utc(at)
        )
        return CardState(
            state=after.state.value,
            stability=after.stability,
            difficulty=after.difficulty,
            due=after.due,
            last_review=after.last_review,
            reps=state.reps + 1,
            lapses=state.lapses + (1 if grade == Grade.AGAIN and state.reps > 0 else 0),
        )

    def preview(self, state: CardState | None, now: datetime) -> dict[Grade, timedelta]:
        """Where each grade would lead from ``state`` (a new card if None), unfuzzed."""
        plain = self if not self.fuzz else self._unfuzzed()
        base = state if state is not None else plain.new(now)
        return {g: plain.review(base, g, now).due - _utc(now) for g in Grade}

    def _unfuzzed(self) -> Srs:
        if self._plain is None:
            self._plain = Srs(
                desired_retention=self.desired_retention, fuzz=False, parameters=self.parameters
            )
        return self._plain

    def replay(self, reviews: Iterable[tuple[Grade, datetime]], first_seen: datetime) -> CardState:
        state = self.new(first_seen)
        for grade, at in sorted(reviews, key=lambda r: r[1]):
            state = self.review(state, grade, at)
        return state

    def retrievability(self, state: CardState, now: datetime) -> float:
        if state.last_review is None or state.stability is None:
            return 0.0
        card = FsrsCard(
            card_id=_CARD_ID,
            state=State(state.state),
            step=None,
            stability=state.stability,
            difficulty=state.difficulty,
            due=state.due,
            last_review=state.last_review,
        )
        return float(self._scheduler.get_card_retrievability(card, _utc(now)))
