"""Follow-ups: due cards go to each member by DM, inside their waking hours, capped a day."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import structlog

from bot.core.errors import ChatError, InvalidInput, NotAllowed, NotFound, TargetUnavailable
from bot.core.models import Actor, Card, Grade
from bot.core.points import Kind
from bot.core.replies import Reply, private
from bot.core.schedule import zone
from bot.ports.records import DueCard, FollowupRow, MemberRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Service
from bot.services.learning import Learning

log = structlog.get_logger("studybot.followups")
ON_TIME = timedelta(hours=24)


class Followups(Service):
    def _awake(self, member: MemberRow, tz: str) -> bool:
        local = self.now().astimezone(zone(tz)).time()
        start, end = self.policy.waking_start, self.policy.waking_end
        return start <= local < end if start <= end else (local >= start or local < end)

    async def backlog(self) -> int:
        now = self.now()
        return await self.store.read(lambda tx: tx.reviews.backlog(now))

    async def send_due(self) -> int:
        """Send each member a batch of their due cards; returns how many DMs went out."""
        now = self.now()
        due = await self.store.read(lambda tx: tx.reviews.due(now))
        by_member: dict[int, list[DueCard]] = defaultdict(list)
        for item in due:
            by_member[item.member.id].append(item)
        sent = 0
        for items in by_member.values():
            sent += await self._send_batch(items)
        return sent

    async def _send_batch(self, items: list[DueCard]) -> int:
        member = items[0].member
        now = self.now()
        origin_id = items[0].origin_channel_id
        origin = await self.store.read(lambda tx: tx.channels.get(origin_id or 0))
        tz = self.member_tz(member, origin)
        if not self._awake(member, tz):
            return 0
        day = self.member_today(member, now, origin)
        sent = 0
        for item in items[: self.policy.followup_batch]:
            card = self.decks.card(item.card_key)
            if card is None:
                continue  # the card left the deck; its schedule stays for the export

            def claim(tx: Tx, due: DueCard = item) -> int | None:
                if tx.followups.sent_on(member.id, day) >= self.policy.followup_daily_cap:
                    raise _CapReached
                return tx.followups.claim(member.id, due.card_key, due.due_at, day, now)

            try:
                followup_id = await self.store.write(claim)
            except _CapReached:
                break
            if followup_id is None:
                continue
            outcome = await self._send_one(member, card, followup_id, now)
            if outcome is None:
                return sent
            sent += 1
        return sent

    async def _send_one(
        self, member: MemberRow, card: Card, followup_id: int, now: datetime
    ) -> str | None:
        """DM one card; on failure undo the claim (and back off if DMs are closed)."""
        message = messages.card_question(
            card, title="🔁 Time to review", show_action=f"fu:show:{followup_id}", kind="followup"
        )
        chat = self.deps.chats.get(member.platform)
        try:
            if chat is None:
                raise ChatError(f"{member.platform} is not running")
            posted = await chat.send_dm(member.workspace, member.user_ref, message)
        except TargetUnavailable as exc:
            reason = exc.reason

            def block(tx: Tx) -> None:
                tx.followups.drop(followup_id)
                tx.members.block_dm(member.id, now + self.policy.dm_backoff, reason)

            await self.store.write(block)
            log.info("followups_paused", member=member.id, reason=reason)
            return None
        except ChatError:
            await self.store.write(lambda tx: tx.followups.drop(followup_id))
            return None
        ref = posted.message_ref
        await self.store.write(
            lambda tx: tx.followups.mark(followup_id, "sent", sent_at=now, message_ref=ref)
        )
        return ref

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

        def unit(tx: Tx) -> Card:
            followup, _ = self._own(tx, actor, followup_id, now)
            card = self.decks.card(followup.card_key)
            if card is None:
                raise NotFound("This card is no longer in any deck.")
            if followup.status == "sent":
                tx.followups.mark(followup_id, "shown", shown_at=now)
            return card

        card = await self.store.write(unit)
        return private(
            messages.card_answer(card, grade_prefix=f"fu:grade:{followup_id}", kind="followup")
        )

    async def grade(self, actor: Actor, followup_id: int, grade: Grade) -> Reply:
        now = self.now()
        learning = Learning(self.deps)

        def unit(tx: Tx) -> datetime:
            followup, member = self._own(tx, actor, followup_id, now)
            if followup.status == "graded":
                raise InvalidInput("You already graded this review.")
            state = learning.review(
                tx, member, followup.card_key, grade, kind="followup", ref=str(followup_id), now=now
            )
            tx.followups.mark(followup_id, "graded", graded_at=now, grade=int(grade))
            on_time = followup.sent_at is not None and now - followup.sent_at <= ON_TIME
            kind = Kind.FOLLOWUP_ON_TIME if on_time else Kind.FOLLOWUP_LATE
            day = self.member_today(member, now)
            self.record(tx, member, kind, f"followup:{followup_id}", day=day, now=now)
            return state.due

        due = await self.store.write(unit)
        return private(messages.note_message(messages.next_review(grade, due, now)))

    async def set_paused(self, actor: Actor, paused: bool) -> Reply:
        now = self.now()

        def unit(tx: Tx) -> None:
            member = self.member(tx, actor, now)
            tx.members.set_followups_paused(member.id, paused)
            if not paused:
                tx.members.block_dm(member.id, None, None)

        await self.store.write(unit)
        text = (
            "Follow-ups paused: I will not DM you reviews until /study resume followups."
            if paused
            else "Follow-ups resumed: due cards come back to you by DM."
        )
        return private(messages.note_message(text))


class _CapReached(Exception):
    """The member's daily follow-up cap is used up (ends the batch, writes nothing)."""
