"""Follow-ups as members see them: show the answer, grade, pause, choose study days."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from bot.core import actions
from bot.core.errors import ChatError, InvalidInput, NotAllowed, NotFound
from bot.core.models import Actor, Card, Grade, format_days
from bot.core.points import Kind
from bot.core.replies import Message, Reply, in_place, private
from bot.core.schedule import parse_days
from bot.ports.records import FollowupRow, MemberRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Deps, Service
from bot.services.dispatch import Dispatch
from bot.services.learning import Learning

log = structlog.get_logger("studybot.followups")
ON_TIME = timedelta(hours=24)


class Followups(Service):
    def __init__(self, deps: Deps, *, learning: Learning, dispatch: Dispatch) -> None:
        super().__init__(deps)
        self.learning = learning
        self.dispatch = dispatch

    async def backlog(self) -> int:
        now = self.now()
        return await self.store.read(lambda tx: tx.reviews.backlog(now))

    async def send_due(self) -> int:
        """Send each ready member a batch of due cards and missed questions (see dispatch)."""
        return await self.dispatch.send_due()

    def _own(
        self, tx: Tx, actor: Actor, followup_id: int, now: datetime
    ) -> tuple[FollowupRow, MemberRow]:
        followup = tx.followups.get(followup_id)
        if followup is None:
            raise NotFound("This review is no longer available.")
        member = self.member(tx, actor, now)
        if followup.member_id != member.id:
            raise NotAllowed("This review belongs to someone else.")
        return followup, member

    async def show(self, actor: Actor, followup_id: int) -> Reply:
        now = self.now()

        def unit(tx: Tx) -> tuple[Card, dict[Grade, timedelta], str]:
            followup, member = self._own(tx, actor, followup_id, now)
            card = self.decks.card(followup.card_key)
            if card is None:
                raise NotFound("This card is no longer in any deck.")
            if followup.status in ("graded", "replaced"):
                raise InvalidInput("You already graded this review.")
            if followup.status == "sent":
                tx.followups.mark(followup_id, "shown", shown_at=now)
            intervals = self.learning.preview(tx, member, card.key, now)
            return card, intervals, "catchup" if followup.kind == "catchup" else "followup"

        card, intervals, kind = await self.store.write(unit)
        prefix = actions.followup_grades(followup_id)
        return in_place(
            messages.card_answer(card, grade_prefix=prefix, kind=kind, intervals=intervals)
        )

    async def grade(self, actor: Actor, followup_id: int, grade: Grade) -> Reply:
        now = self.now()
        learning = self.learning

        stale: list[str] = []  # the chain's other DMs, whose buttons no longer count

        def unit(tx: Tx) -> tuple[datetime, str | None, MemberRow]:
            stale.clear()
            followup, member = self._own(tx, actor, followup_id, now)
            chain = tx.followups.chain(member.id, followup.card_key, followup.due_at)
            if followup.status in ("graded", "replaced") or any(
                f.status == "graded" for f in chain
            ):
                raise InvalidInput("You already graded this review.")
            post = tx.posts.get(followup.post_id) if followup.post_id else None
            state = learning.review(
                tx,
                member,
                followup.card_key,
                grade,
                kind="followup",
                ref=str(followup_id),
                now=now,
                origin_channel_id=post.channel_id if post else None,
            )
            tx.followups.mark(followup_id, "graded", graded_at=now, grade=int(grade))
            for other in chain:  # an expired DM and its re-send stand for one review
                if other.id != followup_id and other.status != "graded":
                    tx.followups.mark(other.id, "replaced")
                    if other.message_ref:
                        stale.append(other.message_ref)
            on_time = followup.sent_at is not None and now - followup.sent_at <= ON_TIME
            kind = Kind.FOLLOWUP_ON_TIME if on_time else Kind.FOLLOWUP_LATE
            day = self.member_today(member, now)
            self.record(tx, member, kind, f"followup:{followup_id}", day=day, now=now)
            card = self.decks.card(followup.card_key)
            return state.due, card.question if card else None, member

        due, question, member = await self.store.write(unit)
        done = messages.note_message(messages.next_review(grade, due, now))
        await self._retire(member, stale, replace(done, title=question))
        return in_place(replace(done, title=question))

    async def _retire(self, member: MemberRow, refs: list[str], result: Message) -> None:
        """The chain's other DMs show the result too, without buttons (best effort)."""
        chat = self.deps.chats.get(member.platform)
        if chat is None:
            return
        for ref in refs:
            try:
                await chat.edit_dm(member.workspace, member.user_ref, ref, result)
            except ChatError as exc:  # their buttons still answer "already graded"
                log.warning("followup_retire_failed", member=member.id, error=str(exc))

    async def set_paused(self, actor: Actor, paused: bool, args: tuple[str, ...] = ()) -> Reply:
        """Pause or resume a member's review DMs; ``days=...`` sets their study days."""
        now = self.now()
        days_text = _days_arg(args, paused)

        def unit(tx: Tx) -> None:
            member = self.member(tx, actor, now)
            tx.members.set_followups_paused(member.id, paused)
            if not paused:
                tx.members.block_dm(member.id, None, None)
                tx.members.set_member(member.id, next_batch_at=None)
            if days_text is not None:
                tx.members.set_member(member.id, study_days=days_text or None)

        await self.store.write(unit)
        if paused:
            text = "Follow-ups paused: I will not DM you reviews until /study resume followups."
        else:
            text = "Follow-ups resumed: due cards come back to you by DM"
            if days_text:
                text += f" on {days_text}"
            elif days_text == "":
                text += " on your channel's posting days"
            text += "."
        return private(messages.note_message(text))

    async def set_catchups(self, actor: Actor, *, on: bool) -> Reply:
        now = self.now()

        def unit(tx: Tx) -> None:
            member = self.member(tx, actor, now)
            tx.members.set_member(member.id, catchups_off=not on)

        await self.store.write(unit)
        text = (
            "Catch-ups on: a daily question you miss reaches you later by DM."
            if on
            else "Catch-ups off: I will not DM you the daily questions you miss."
        )
        return private(messages.note_message(text))


def _days_arg(args: tuple[str, ...], paused: bool) -> str | None:
    """``days=mon,wed`` as stored text, ``""`` for ``days=channel``, None when absent."""
    if not args:
        return None
    key, sep, value = args[0].partition("=")
    if paused or len(args) > 1 or key.strip().lower() != "days" or not sep:
        raise InvalidInput("Usage: /study resume followups [days=mon,wed,fri] (or days=channel).")
    if value.strip().lower() == "channel":
        return ""
    return format_days(parse_days(value))
