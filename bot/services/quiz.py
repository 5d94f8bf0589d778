"""``/quiz [topic] [count]``: practice on demand, one card at a time, graded by buttons."""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core import actions
from bot.core.commands import QuizRequest
from bot.core.errors import InvalidInput, NotAllowed, NotFound, shown
from bot.core.models import Actor, Card, Grade, Place
from bot.core.points import Kind
from bot.core.replies import Message, Reply, in_place, private
from bot.ports.records import ChannelRow, MemberRow, QuizRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Deps, Service
from bot.services.learning import Learning


class Quiz(Service):
    def __init__(self, deps: Deps, *, learning: Learning) -> None:
        super().__init__(deps)
        self.learning = learning

    async def start(self, actor: Actor, place: Place, request: QuizRequest) -> Reply:
        now = self.now()

        def unit(tx: Tx) -> tuple[int, list[Card]]:
            channel = self.channel_at(tx, place)
            member = self.member(tx, actor, now)
            pool = self.decks.for_channel(channel.settings) if channel else list(self.decks.cards())
            if request.topic is not None:
                here = Counter(c.topic for c in pool)  # what /study topics lists here
                if request.topic not in here:
                    raise NotFound(self._no_topic(request.topic, here, channel))
                pool = [c for c in pool if c.topic == request.topic]
            if not pool:
                raise NotFound("There are no cards to quiz you on here.")
            states = {s.card_key: s for s in tx.reviews.states_for(member.id)}

            def order(card: Card) -> tuple[int, object, bytes]:
                state = states.get(card.key)
                salt = f"{member.id}:{now.date()}:{card.key}".encode()
                shuffle = hashlib.blake2b(salt, digest_size=6).digest()
                if state is not None and state.state.due <= now:
                    return (0, state.state.due, shuffle)  # due first, most overdue first
                if state is None:
                    return (1, 0, shuffle)  # then cards never seen
                return (2, 0, shuffle)  # then the rest

            chosen = sorted(pool, key=order)[: request.count]
            return tx.quizzes.start(member.id, request.topic, [c.key for c in chosen], now), chosen

        quiz_id, chosen = await self.store.write(unit)
        plural = "s" if len(chosen) != 1 else ""
        on = f" on {request.topic}." if request.topic else "."
        intro = Message(lines=(f"Quiz: {len(chosen)} card{plural}{on}",))
        return private(intro, self._question(quiz_id, 0, chosen[0], len(chosen)))

    def _no_topic(self, topic: str, here: Counter[str], channel: ChannelRow | None) -> str:
        """Why ``topic`` cannot be quizzed here, and what can (the /study topics list)."""
        known = _listed(sorted(here))
        if topic in self.decks.topics() and channel is not None:
            settings = channel.settings
            limits = [
                f"{name}={','.join(values)}"
                for name, values in (
                    ("decks", settings.decks),
                    ("topics", settings.topics),
                    ("levels", settings.levels),
                )
                if values
            ]
            return (
                f"This channel does not study {shown(topic)} (its settings:"
                f" {' '.join(limits)}). Topics here: {known}."
            )
        close = difflib.get_close_matches(topic, list(here), n=1)
        guess = f" Did you mean {close[0]}?" if close else ""
        return f"Unknown topic {shown(topic)}.{guess} Topics here: {known}."

    def _question(self, quiz_id: int, position: int, card: Card, total: int) -> Message:
        return messages.card_question(
            card,
            title=f"Quiz · card {position + 1} of {total}",
            show_action=actions.quiz_show(quiz_id, position),
            kind="quiz",
        )

    def _load(
        self, tx: Tx, actor: Actor, quiz_id: int, position: int, now: datetime
    ) -> tuple[QuizRow, Card, MemberRow]:
        quiz = tx.quizzes.get(quiz_id)
        member = self.member(tx, actor, now)
        if quiz is None:
            raise NotFound("This quiz is no longer available. Start a new one with /quiz.")
        if quiz.member_id != member.id:
            raise NotAllowed("This quiz belongs to someone else. Start your own with /quiz.")
        if quiz.status != "open" or position != quiz.position:
            raise InvalidInput("That card is already done; carry on with the current one.")
        card = self.decks.card(quiz.card_keys[position])
        if card is None:
            raise NotFound("This card is no longer in any deck.")
        return quiz, card, member

    async def show(self, actor: Actor, quiz_id: int, position: int) -> Reply:
        now = self.now()

        def unit(tx: Tx) -> tuple[Card, dict[Grade, timedelta]]:
            quiz, card, member = self._load(tx, actor, quiz_id, position, now)
            tx.quizzes.save(replace(quiz, shown=True), now)
            return card, self.learning.preview(tx, member, card.key, now)

        card, intervals = await self.store.write(unit)
        prefix = actions.quiz_grades(quiz_id, position)
        return in_place(
            messages.card_answer(card, grade_prefix=prefix, kind="quiz", intervals=intervals)
        )

    async def grade(self, actor: Actor, quiz_id: int, position: int, grade: Grade) -> Reply:
        now = self.now()
        learning = self.learning

        def unit(tx: Tx) -> QuizRow:
            quiz, card, member = self._load(tx, actor, quiz_id, position, now)
            ref = f"{quiz_id}:{position}"
            learning.review(tx, member, card.key, grade, kind="quiz", ref=ref, now=now)
            day = self.member_today(member, now)
            self.record(tx, member, Kind.QUIZ_CARD, ref, day=day, now=now)
            done = position + 1 >= len(quiz.card_keys)
            updated = replace(
                quiz,
                position=position + 1,
                shown=False,
                grades=(*quiz.grades, grade),
                status="done" if done else "open",
            )
            tx.quizzes.save(updated, now)
            if done:
                self.record(tx, member, "quiz_done", str(quiz_id), day=day, now=now)
            return updated

        quiz = await self.store.write(unit)
        if quiz.status == "done":
            return in_place(self._summary(quiz.grades))
        next_card = self.decks.card(quiz.card_keys[quiz.position])
        if next_card is None:
            raise NotFound("The next card is no longer in any deck.")
        return in_place(self._question(quiz_id, quiz.position, next_card, len(quiz.card_keys)))

    def _summary(self, grades: tuple[Grade, ...]) -> Message:
        counts = Counter(grades)
        recalled = sum(n for g, n in counts.items() if g != Grade.AGAIN)
        lines = [f"Quiz done: you recalled {recalled} of {len(grades)}."]
        lines.append(" · ".join(f"{g.label} {counts.get(g, 0)}" for g in Grade))
        return Message(title="Quiz summary", lines=tuple(lines), kind="quiz")


TOPICS_LISTED = 12
"""Topic names an error lists before it points to /study topics for the rest."""


def _listed(topics: list[str]) -> str:
    if not topics:
        return "none"
    if len(topics) <= TOPICS_LISTED:
        return ", ".join(topics)
    more = len(topics) - TOPICS_LISTED
    return f"{', '.join(topics[:TOPICS_LISTED])} and {more} more (/study topics lists them)"
