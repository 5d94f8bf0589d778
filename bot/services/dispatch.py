"""Sending follow-ups: due cards and missed questions reach each member by DM.

One run (the follow-up job) does four things, each asking the store what is due:

1. expire: sent, ungraded DMs past their expiry (waking time) are closed; their card is
   due again; it rests until the member is next active when the member has not been
   active since the DM went out (it is still unread: a second copy would only pile up) or
   after ``followup_resends`` re-sends;
2. reconcile: a claim whose send never finished (a crash, a lost answer) is looked up in
   the member's DMs by its key: found, it is recorded as sent; not found, released (the
   next run claims it again); a lookup that fails decides nothing;
3. select per member: each ready member's own due cards, then the daily questions they
   missed (catch-ups), oldest first, up to the batch size, so nobody starves;
4. send: members concurrently, DMs within ``followup_concurrency``; each member's next
   batch waits ``followup_gap`` (or for their next waking window on a study day), and
   while a DM sent after their last study action is still unopened.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from bot.core import actions
from bot.core.errors import ChatError, TargetUnavailable
from bot.core.models import Card
from bot.core.schedule import local_date, zone
from bot.core.waking import Waking, next_local_day, study_days
from bot.ports.reads import ReadTx
from bot.ports.records import ChannelRow, DueCard, FollowupRow, MemberRow, followup_key
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Service

log = structlog.get_logger("studybot.followups")

PAGE_MEMBERS = 500
"""Members per selection page; each served member's next batch moves on, so pages differ."""
MAX_PAGES = 1000
UNREAD_RECHECK = timedelta(minutes=30)
"""How soon a member whose last batch is unopened is looked at again."""
TITLES = {"review": "🔁 Time to review", "catchup": "📬 A question you missed"}


@dataclass(frozen=True, slots=True)
class _Claimed:
    followup_id: int
    item: DueCard
    card: Card


def unseen(row: FollowupRow, last_active_at: datetime | None) -> bool:
    """The member has done nothing since this DM was sent: they have not seen it yet."""
    return last_active_at is None or row.sent_at is None or last_active_at < row.sent_at


@dataclass(frozen=True, slots=True)
class _Batch:
    member: MemberRow
    claimed: list[_Claimed]
    expires: datetime


@dataclass(frozen=True, slots=True)
class _Outcome:
    claimed: _Claimed
    ref: str | None = None
    blocked: str | None = None
    """Why the member's DMs are closed (the platform said so)."""


class Dispatch(Service):
    def waking(self, member: MemberRow, channel: ChannelRow | None) -> Waking:
        channel_days = channel.settings.days if channel is not None else None
        days = study_days(member.study_days, channel_days)
        return Waking(self.policy.waking_start, self.policy.waking_end, days)

    async def send_due(self) -> int:
        """One run of the follow-up job; returns how many DMs went out."""
        now = self.now()
        await self.expire(now)
        await self.reconcile(now)
        limit = asyncio.Semaphore(self.policy.followup_concurrency)
        claim = functools.partial(self._select_and_claim, now=now)
        batches = await self.store.write(functools.partial(claim, with_catchups=True))
        sent = 0
        for _ in range(MAX_PAGES):
            if batches is None:
                break
            # Send this page while the next one is chosen and claimed: the claims moved
            # these members' next batch on, so the next page holds other members.
            sending = asyncio.create_task(self._send_page(batches, now, limit))
            try:
                batches = await self.store.write(functools.partial(claim, with_catchups=False))
            finally:
                sent += await sending
        return sent

    def _select_and_claim(
        self, tx: Tx, *, now: datetime, with_catchups: bool
    ) -> list[_Batch] | None:
        """Claim a batch for each member of the next page (None: nobody is ready)."""
        items, channels = self._select(tx, now=now, with_catchups=with_catchups)
        if not items:
            return None
        by_member: dict[int, list[DueCard]] = defaultdict(list)
        for item in items:  # reviews first: they are about to be forgotten
            by_member[item.member.id].append(item)
        batches = []
        for member_items in by_member.values():
            member = member_items[0].member
            channel = channels.get(member_items[0].origin_channel_id or 0)
            work = functools.partial(self._batch, tx, member, channel, member_items, now)
            # A member whose batch cannot be built waits a day, so the pages move on.
            later = functools.partial(
                tx.members.set_member, member.id, next_batch_at=now + timedelta(days=1)
            )
            batch = self.isolated(tx, "followups", member.id, work, failed=later)
            if batch is not None:
                batches.append(batch)
        return batches

    def _batch(
        self,
        tx: Tx,
        member: MemberRow,
        channel: ChannelRow | None,
        member_items: list[DueCard],
        now: datetime,
    ) -> _Batch | None:
        tz = zone(self.member_tz(member, channel))
        waking = self.waking(member, channel)
        if not waking.is_open(now, tz):
            tx.members.set_member(member.id, next_batch_at=waking.next_open(now, tz))
            return None
        if tx.followups.unread_since(member.id, member.last_active_at):
            # The last batch is unopened and the member has not been around since: a
            # second one would only pile up. Look again soon; any activity releases it.
            tx.members.set_member(
                member.id, next_batch_at=waking.next_open(now + UNREAD_RECHECK, tz)
            )
            return None
        cards = [(i, c) for i in member_items if (c := self.decks.card(i.card_key))]
        claimed = self._claim(tx, member, cards, now, tz, waking)
        if not claimed:
            return None
        return _Batch(member, claimed, waking.add(now, self.policy.followup_expiry, tz))

    async def _send_page(
        self, batches: list[_Batch], now: datetime, limit: asyncio.Semaphore
    ) -> int:
        """Send every claimed DM of a page (within the bound), then record them at once.
        Their keys are held until recorded: reconciliation leaves them to this process."""
        with contextlib.ExitStack() as held:
            for batch in batches:
                for claimed in batch.claimed:
                    held.enter_context(self.deps.sends.holding(followup_key(claimed.followup_id)))
            return await self._send_held(batches, now, limit)

    async def _send_held(
        self, batches: list[_Batch], now: datetime, limit: asyncio.Semaphore
    ) -> int:
        results = await asyncio.gather(
            *(
                asyncio.gather(*(self._send_isolated(b.member, c, limit) for c in b.claimed))
                for b in batches
            )
        )

        def record(tx: Tx) -> None:
            for batch, outcomes in zip(batches, results, strict=True):
                work = functools.partial(
                    self._record, tx, batch.member, list(outcomes), now, batch.expires
                )
                self.isolated(tx, "followups", batch.member.id, work)

        if batches:
            await self.store.write(record)
        return sum(1 for outcomes in results for o in outcomes if o.ref)

    def _select(
        self, tx: Tx, *, now: datetime, with_catchups: bool
    ) -> tuple[list[DueCard], dict[int, ChannelRow]]:
        """A page of ready members' due cards; the first page also brings catch-ups."""
        policy = self.policy
        items = tx.reviews.due(now, per_member=policy.followup_batch, limit=PAGE_MEMBERS)
        if with_catchups and policy.catchups:
            items += tx.followups.catchups(
                now,
                since=now - timedelta(weeks=policy.catchup_weeks),
                revealed_before=now - policy.answer_window,
                resends=policy.followup_resends,
                per_member=policy.followup_batch,
            )
        ids = {i.origin_channel_id for i in items if i.origin_channel_id is not None}
        found = {cid: tx.channels.get(cid) for cid in ids}
        return items, {cid: row for cid, row in found.items() if row is not None}

    async def expire(self, now: datetime) -> list[FollowupRow]:
        resends = self.policy.followup_resends

        def unit(tx: Tx) -> list[FollowupRow]:
            expired = tx.followups.expire(now)
            active: dict[int, datetime | None] = {}
            for row in expired:
                if row.member_id not in active:
                    member = tx.members.get(row.member_id)
                    active[row.member_id] = member.last_active_at if member else None
                if row.kind == "review" and (
                    row.attempt >= resends or unseen(row, active[row.member_id])
                ):
                    tx.reviews.hold(row.member_id, row.card_key, now)
            return expired

        expired = await self.store.write(unit)
        if expired:
            log.info("followups_expired", count=len(expired))
        return expired

    async def reconcile(self, now: datetime) -> int:
        """Finish or release claims whose send did not finish within the lease."""
        cutoff = now - self.policy.intent_lease

        def stale(tx: ReadTx) -> list[tuple[FollowupRow, MemberRow, ChannelRow | None]]:
            found = []
            for row in tx.followups.stale_intents(cutoff):
                member = tx.members.get(row.member_id)
                if member is not None:
                    state = tx.reviews.state(row.member_id, row.card_key)
                    origin = state.origin_channel_id if state else None
                    post = tx.posts.get(row.post_id) if row.post_id else None
                    channel_id = post.channel_id if post else origin
                    found.append((row, member, tx.channels.get(channel_id or 0)))
            return found

        fixed = 0
        for row, member, channel in await self.store.read(stale):
            if followup_key(row.id) in self.deps.sends:
                continue  # still being sent by this process: slow, not stale
            work = self._reconcile_one(row, member, channel, now)
            fixed += await self.isolated_async("followups", row.id, work) or 0
        return fixed

    async def _reconcile_one(
        self, row: FollowupRow, member: MemberRow, channel: ChannelRow | None, now: datetime
    ) -> int:
        chat = self.deps.chats.get(member.platform)
        if chat is None:
            return 0  # that platform is not running: the claim waits for it
        try:
            card = self.decks.card(row.card_key)  # the DM as _send builds it, to know it by
            posted = (
                await chat.find_dm(
                    member.workspace,
                    member.user_ref,
                    row.key,
                    messages.card_question(
                        card,
                        title=TITLES[row.kind],
                        show_action=actions.followup_show(row.id),
                        kind="followup" if row.kind == "review" else "catchup",
                    ),
                )
                if card is not None
                else None  # its card left the decks: nothing to know it by, nor to re-send
            )
        except ChatError as exc:
            log.warning("followup_lookup_failed", followup=row.id, error=str(exc))
            return 0
        if posted is None:
            await self.store.write(self._release(row.id))
            log.info("followup_released", followup=row.id)
        else:
            await self._found(row, member, channel, posted.message_ref, now)
        return 1

    async def _found(
        self,
        row: FollowupRow,
        member: MemberRow,
        channel: ChannelRow | None,
        ref: str,
        now: datetime,
    ) -> None:
        """A claimed DM that did go out: record it as sent when it was claimed."""
        tz = zone(self.member_tz(member, channel))
        sent_at = row.created_at or now
        expires = self.waking(member, channel).add(sent_at, self.policy.followup_expiry, tz)
        await self.store.write(
            lambda tx: tx.followups.mark(
                row.id, "sent", sent_at=sent_at, message_ref=ref, expires_at=expires
            )
        )
        log.info("followup_reconciled", followup=row.id)

    @staticmethod
    def _release(followup_id: int) -> Callable[[Tx], None]:
        return lambda tx: tx.followups.drop(followup_id)

    def _claim(
        self,
        tx: Tx,
        member: MemberRow,
        cards: list[tuple[DueCard, Card]],
        now: datetime,
        tz: ZoneInfo,
        waking: Waking,
    ) -> list[_Claimed]:
        day = local_date(now, tz)
        left = self.policy.followup_daily_cap - tx.followups.sent_on(member.id, day)
        claimed: list[_Claimed] = []
        for item, card in cards:
            if len(claimed) >= min(left, self.policy.followup_batch):
                break
            followup_id = tx.followups.claim(
                member.id,
                item.card_key,
                item.due_at,
                day,
                now,
                kind=item.kind,
                post_id=item.post_id,
            )
            if followup_id is not None:
                claimed.append(_Claimed(followup_id, item, card))
        if left - len(claimed) > 0:
            after = waking.next_open(now + self.policy.followup_gap, tz)
        else:  # the day's cap is used up: the next batch waits for tomorrow's window
            after = waking.next_open(next_local_day(now, tz), tz)
        tx.members.set_member(member.id, next_batch_at=after)
        return claimed

    async def _send_isolated(
        self, member: MemberRow, claimed: _Claimed, limit: asyncio.Semaphore
    ) -> _Outcome:
        """A send that fails unexpectedly keeps its claim (reconcile looks it up later)."""
        outcome = await self.isolated_async(
            "followups", member.id, self._send(member, claimed, limit)
        )
        return outcome if outcome is not None else _Outcome(claimed, ref="")

    async def _send(
        self, member: MemberRow, claimed: _Claimed, limit: asyncio.Semaphore
    ) -> _Outcome:
        kind = claimed.item.kind
        message = messages.card_question(
            claimed.card,
            title=TITLES[kind],
            show_action=actions.followup_show(claimed.followup_id),
            kind="followup" if kind == "review" else "catchup",
        )
        chat = self.deps.chats.get(member.platform)
        if chat is None:
            return _Outcome(claimed)
        key = followup_key(claimed.followup_id)
        async with limit:
            try:
                posted = await chat.send_dm(member.workspace, member.user_ref, message, key=key)
            except TargetUnavailable as exc:
                return _Outcome(claimed, blocked=exc.reason)
            except ChatError as exc:
                # The DM may have gone out with its answer lost: keep the claim, and let
                # reconcile look it up by key before anything is sent again.
                log.warning("followup_send_failed", followup=claimed.followup_id, error=str(exc))
                return _Outcome(claimed, ref="")
        return _Outcome(claimed, ref=posted.message_ref)

    def _record(
        self,
        tx: Tx,
        member: MemberRow,
        outcomes: list[_Outcome],
        now: datetime,
        expires: datetime,
    ) -> None:
        for outcome in outcomes:
            fid = outcome.claimed.followup_id
            if outcome.ref:
                tx.followups.mark(
                    fid, "sent", sent_at=now, message_ref=outcome.ref, expires_at=expires
                )
            elif outcome.ref is None:
                tx.followups.drop(fid)  # nothing was sent (DMs closed, platform down)
        blocked = next((o.blocked for o in outcomes if o.blocked), None)
        if blocked is not None:
            tx.members.block_dm(member.id, now + self.policy.dm_backoff, blocked)
            log.info("followups_paused", member=member.id, reason=blocked)
