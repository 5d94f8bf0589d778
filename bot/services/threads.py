"""What members do in a daily post's thread: answer (edit, delete) and grade by reaction."""

from __future__ import annotations

from datetime import datetime

from bot.core.commands import MAX_ANSWER_CHARS
from bot.core.errors import InvalidInput, NotAllowed, NotFound, NotYet
from bot.core.models import Actor, Grade, Place
from bot.core.points import Kind
from bot.core.replies import Reply, note
from bot.core.words import count
from bot.ports.records import AnswerRow, ChannelRow, MemberRow, PostRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Deps, Service
from bot.services.learning import Learning

DUPLICATE = Reply(data={"duplicate": True})
"""What a redelivered event gets: nothing to do, counted by the adapter's metrics."""


ONLY_ON_REVEAL = (
    "Grades count only on the reveal (the reply with the key points). React there once it "
    "is posted."
)


class Threads(Service):
    def __init__(self, deps: Deps, *, learning: Learning) -> None:
        super().__init__(deps)
        self.learning = learning

    def _claim(self, tx: Tx, platform: str, event_id: str | None) -> bool:
        """Claim an inbound event in the same transaction as its effect (exactly once)."""
        return event_id is None or tx.events.claim(platform, event_id, self.now())

    async def answer(
        self,
        actor: Actor,
        place: Place,
        message_ref: str | None,
        text: str,
        *,
        event_id: str | None = None,
    ) -> Reply:
        """A message in a daily post's thread (or ``/study answer``) is an answer."""
        text = text.strip()
        if not text:
            raise InvalidInput("An empty answer does not count; write what you know.")
        if len(text) > MAX_ANSWER_CHARS:
            raise InvalidInput(f"Answers are limited to {MAX_ANSWER_CHARS} characters.")
        now = self.now()

        def unit(tx: Tx) -> Reply:
            if not self._claim(tx, place.platform, event_id):
                return DUPLICATE
            if place.thread is None:
                channel = self.channel_at(tx, place)
                if channel is None:
                    return Reply()
                post = tx.posts.latest(channel.id)
                if post is None:
                    raise NotFound("There is no question to answer yet.")
            else:
                found = tx.posts.in_thread(
                    place.platform, place.workspace, place.channel, place.thread
                )
                if found is None or found[1].status != "posted":
                    self._unless_sending(tx, place, "post")
                    return Reply()  # a thread that is not a daily post: just conversation
                channel, post = found
            self._check_open(post, now)
            member = self.member(tx, actor, now)
            return self._record_answer(tx, channel, post, member, message_ref, text, now)

        return await self.store.write(unit)

    @staticmethod
    def _unless_sending(tx: Tx, place: Place, what: str) -> None:
        """A message we cannot place while the channel's post (or reveal) is sent but not
        yet recorded may be about it: ``NotYet``, so the event is handled again later."""
        if what in tx.posts.sending_in(place.platform, place.workspace, place.channel):
            raise NotYet(ONLY_ON_REVEAL if what == "reveal" else "That question is not open.")

    def _check_open(self, post: PostRow, now: datetime) -> None:
        if post.revealed_at is not None and now - post.revealed_at > self.policy.answer_window:
            raise InvalidInput(
                f"The question of {post.local_date} closed after its reveal; "
                "answer today's question instead."
            )

    def _record_answer(
        self,
        tx: Tx,
        channel: ChannelRow,
        post: PostRow,
        member: MemberRow,
        message_ref: str | None,
        text: str,
        now: datetime,
    ) -> Reply:
        before_reveal = post.reveal_status != "posted"
        added = tx.answers.add(
            post.id,
            member.id,
            message_ref=message_ref,
            text=text,
            before_reveal=before_reveal,
            now=now,
        )
        if not added:
            if message_ref is None:
                existing = tx.answers.get(post.id, member.id)
                if existing is not None:
                    tx.answers.set_text(existing.id, text, now)
                    return note("Your answer is updated.")
            return Reply()  # further replies in the thread are discussion, not answers
        day = self.member_today(member, now, channel)
        tx.members.join(channel.id, member.id, day)
        ref = f"post:{post.id}"
        actions: list[tuple[Kind | str, str]] = [(Kind.ANSWER, ref)]
        if before_reveal:
            actions.append((Kind.EARLY_ANSWER, ref))
        points = self.record_all(tx, member, actions, day=day, now=now)
        text_reply = (
            f"Answer recorded (+{count(points, 'point')})." if points else "Answer recorded."
        )
        return Reply(messages=note(text_reply).messages, react=self.policy.ack_emoji)

    async def edit(
        self, place: Place, message_ref: str, text: str, *, event_id: str | None = None
    ) -> bool:
        """An answer's message was edited: the answer follows. False if it was no answer."""
        now = self.now()

        def unit(tx: Tx) -> bool:
            if not self._claim(tx, place.platform, event_id):
                return False
            found = self._answer_by_message(tx, place, message_ref)
            if found is None or not text.strip():
                return False
            tx.answers.set_text(found.id, text.strip()[:MAX_ANSWER_CHARS], now)
            return True

        return await self.store.write(unit)

    async def delete(self, place: Place, message_ref: str, *, event_id: str | None = None) -> bool:
        """An answer's message was deleted: the answer and its points go too."""

        def unit(tx: Tx) -> bool:
            if not self._claim(tx, place.platform, event_id):
                return False
            found = self._answer_by_message(tx, place, message_ref)
            if found is None:
                return False
            tx.answers.delete(found.id)
            ref = f"post:{found.post_id}"
            tx.activity.remove(found.member_id, Kind.ANSWER.value, ref)
            tx.activity.remove(found.member_id, Kind.EARLY_ANSWER.value, ref)
            return True

        return await self.store.write(unit)

    def _answer_by_message(self, tx: Tx, place: Place, message_ref: str) -> AnswerRow | None:
        if place.thread is None:
            return None
        found = tx.posts.in_thread(place.platform, place.workspace, place.channel, place.thread)
        return tx.answers.by_message(found[1].id, message_ref) if found else None

    async def reaction(
        self,
        actor: Actor,
        place: Place,
        message_ref: str,
        emoji: str,
        *,
        added: bool,
        on_bot_message: bool = True,
        event_id: str | None = None,
    ) -> Reply:
        """A reaction on the reveal is a grade; adding replaces, removing withdraws."""
        grade = self.policy.grade_emoji.get(emoji)
        if grade is None:
            return Reply()
        now = self.now()
        learning = self.learning

        def unit(tx: Tx) -> Reply:
            if not self._claim(tx, place.platform, event_id):
                return DUPLICATE
            found = tx.posts.reveal_in(place.platform, place.workspace, place.channel, message_ref)
            if found is None or found[1].card_key is None:
                if not on_bot_message or not added:
                    return Reply()
                self._unless_sending(tx, place, "reveal")
                raise InvalidInput(ONLY_ON_REVEAL)
            channel, post = found
            assert post.card_key is not None
            if added and self._closed(post, now):
                raise InvalidInput(self._closed_text())
            member = self.member(tx, actor, now)
            ref = f"{post.id}:{member.id}"
            if not added:
                current = tx.reviews.grade_of(post.id, member.id)
                if current is None or current.emoji != emoji:
                    return Reply()
                tx.reviews.remove_grade(post.id, member.id)
                learning.withdraw(tx, member, post.card_key, kind="daily", ref=ref, now=now)
                tx.activity.remove(member.id, Kind.GRADE.value, f"post:{post.id}")
                return note("Your grade is withdrawn.")
            return self._grade(tx, member, channel, post, grade, emoji, now)

        return await self.store.write(unit)

    def _closed(self, post: PostRow, now: datetime) -> bool:
        """Too long since the reveal to take a grade."""
        return post.revealed_at is not None and now - post.revealed_at > self.policy.grade_window

    def _closed_text(self) -> str:
        days = self.policy.grade_window.days
        return (
            f"This question closed for grading {count(days, 'day')} after its reveal; "
            "grade it when it comes back to you by DM."
        )

    async def gradable(self, place: Place) -> bool:
        """Whether the daily post whose thread is ``place`` can still be graded."""
        now = self.now()
        if place.thread is None:
            return False
        found = await self.store.read(
            lambda tx: tx.posts.in_thread(
                place.platform, place.workspace, place.channel, place.thread or ""
            )
        )
        return found is not None and not self._closed(found[1], now)

    async def grade_button(self, actor: Actor, post_id: int, grade: Grade) -> Reply:
        """A grade button on the reveal: the same one grade as a reaction, said privately."""
        now = self.now()

        def unit(tx: Tx) -> Reply:
            post = tx.posts.get(post_id)
            channel = tx.channels.get(post.channel_id) if post else None
            if post is None or channel is None or post.card_key is None:
                raise NotFound("This question is no longer available.")
            if post.reveal_status != "posted":
                raise InvalidInput("Grades open with the reveal.")
            if self._closed(post, now):
                raise InvalidInput(self._closed_text())
            if actor.platform != channel.platform:  # (Discord members are global to it)
                raise NotAllowed("This question belongs to another platform.")
            member = self.member(tx, actor, now)
            current = tx.reviews.grade_of(post.id, member.id)
            if current is not None and current.grade == grade:
                return note(f"You already graded this {grade.label}.")
            emoji = self.policy.emoji_for(grade)
            return self._grade(tx, member, channel, post, grade, emoji, now)

        return await self.store.write(unit)

    def _grade(
        self,
        tx: Tx,
        member: MemberRow,
        channel: ChannelRow,
        post: PostRow,
        grade: Grade,
        emoji: str,
        now: datetime,
    ) -> Reply:
        """Set (or replace) a member's one grade of a daily post, and schedule the card."""
        assert post.card_key is not None
        tx.reviews.set_grade(post.id, member.id, grade, emoji, now)
        state = self.learning.review(
            tx,
            member,
            post.card_key,
            grade,
            kind="daily",
            ref=f"{post.id}:{member.id}",
            now=now,
            origin_channel_id=channel.id,
        )
        day = self.member_today(member, now, channel)
        tx.members.join(channel.id, member.id, day)
        self.record(tx, member, Kind.GRADE, f"post:{post.id}", day=day, now=now)
        return note(messages.next_review(grade, state.due, now))
