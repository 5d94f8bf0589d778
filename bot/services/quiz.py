"""``/quiz [topic] [count]``: practice on demand, one card at a time, graded by buttons."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import replace

from bot.core.commands import QuizRequest
from bot.core.errors import InvalidInput, NotAllowed, NotFound
from bot.core.models import Actor, Card, Grade, Place
from bot.core.points import Kind
from bot.core.replies import Message, Reply, private
from bot.ports.records import QuizRow
from bot.services import messages
from bot.services.base import Service
from bot.services.learning import Learning


class Quiz(Service):
    async def start(self, actor: Actor, place: Place, request: QuizRequest) -> Reply:
        now = self.now()
        async with self.store.write() as tx:
            channel = await self.channel_at(tx, place)
            member = await self.member(tx, actor, now)
            pool = self.decks.for_channel(channel.settings) if channel else list(self.decks.cards())
            if request.topic is not None:
                topics = Counter(c.topic for c in pool)
                if request.topic not in topics:
                    known = ", ".join(sorted(topics)) or "none"
                    raise NotFound(f"Unknown topic {request.topic!r}. Topics here: {known}.")
                pool = [c for c in pool if c.topic == request.topic]
            if not pool:
                raise NotFound("There are no cards to quiz you on here.")
            states = {s.card_key: s for s in await tx.reviews.states_for(member.id)}

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
            quiz_id = await tx.quizzes.start(member.id, request.topic, [c.key for c in chosen], now)
        intro = f"Quiz: {len(chosen)} card{'s' * (len(chosen) != 1)}" + (
            f" on {request.topic}." if request.topic else "."
        )
        return private(Message(lines=(intro,)), self._question(quiz_id, 0, chosen[0], len(chosen)))

    def _question(self, quiz_id: int, position: int, card: Card, total: int) -> Message:
        return messages.card_question(
            card,
            title=f"Quiz · card {position + 1} of {total}",
            show_action=f"qz:show:{quiz_id}:{position}",
            kind="quiz",
        )

    async def _load(self, actor: Actor, quiz_id: int, position: int) -> tuple[QuizRow, Card]:
        async with self.store.write() as tx:
            quiz = await tx.quizzes.get(quiz_id)
            member = await self.member(tx, actor, self.now())
        if quiz is None:
            raise NotFound("This quiz is no longer available. Start a new one with /quiz.")
        if quiz.member_id != member.id:
            raise NotAllowed("This quiz belongs to someone else. Start your own with /quiz.")
        if quiz.status != "open" or position != quiz.position:
            raise InvalidInput("That card is already done; carry on with the current one.")
        card = self.decks.card(quiz.card_keys[position])
        if card is None:
            raise NotFound("This card is no longer in any deck.")
        return quiz, card

    async def show(self, actor: Actor, quiz_id: int, position: int) -> Reply:
        quiz, card = await self._load(actor, quiz_id, position)
        async with self.store.write() as tx:
            await tx.quizzes.save(replace(quiz, shown=True), self.now())
        return private(
            messages.card_answer(card, grade_prefix=f"qz:grade:{quiz_id}:{position}", kind="quiz")
        )

    async def grade(self, actor: Actor, quiz_id: int, position: int, grade: Grade) -> Reply:
        _, card = await self._load(actor, quiz_id, position)
        now = self.now()
        async with self.store.write() as tx:
            fresh = await tx.quizzes.get(quiz_id)
            if fresh is None or fresh.position != position or fresh.status != "open":
                raise InvalidInput("That card is already done; carry on with the current one.")
            member = await self.member(tx, actor, now)
            ref = f"{quiz_id}:{position}"
            await Learning(self.deps).review(
                tx, member, card.key, grade, kind="quiz", ref=ref, now=now
            )
            day = self.member_today(member, now)
            await self.record(tx, member, Kind.QUIZ_CARD, ref, day=day, now=now)
            grades = (*fresh.grades, grade)
            done = position + 1 >= len(fresh.card_keys)
            updated = replace(
                fresh,
                position=position + 1,
                shown=False,
                grades=grades,
                status="done" if done else "open",
            )
            await tx.quizzes.save(updated, now)
            if done:
                await self.record(tx, member, "quiz_done", str(quiz_id), day=day, now=now)
        if done:
            return private(self._summary(grades))
        next_card = self.decks.card(fresh.card_keys[position + 1])
        if next_card is None:
            raise NotFound("The next card is no longer in any deck.")
        total = len(fresh.card_keys)
        return private(self._question(quiz_id, position + 1, next_card, total))

    def _summary(self, grades: tuple[Grade, ...]) -> Message:
        counts = Counter(grades)
        recalled = sum(n for g, n in counts.items() if g != Grade.AGAIN)
        lines = [f"Quiz done: you recalled {recalled} of {len(grades)}."]
        lines.append(" · ".join(f"{g.label} {counts.get(g, 0)}" for g in Grade))
        return Message(title="Quiz summary", lines=tuple(lines), kind="quiz")
