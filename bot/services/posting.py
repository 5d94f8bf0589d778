"""Daily posts, reveals and weekly leaderboards: claimed in the store, then sent.

Exactly once: every post is first *claimed* (a row unique per channel and local date,
status ``intent``), then sent with its key, then recorded. A claim that nobody finished
(a crash between claim and record) is reconciled after a lease: the platform is asked
for a message carrying the key before anything is sent again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

import structlog

from bot.core.errors import ChatError, InvalidInput, TargetUnavailable
from bot.core.models import Card
from bot.core.rotation import WARM_UP_POSTS, Pick, pick_next
from bot.core.schedule import (
    local_date,
    next_post_at,
    reveal_due,
    zone,
)
from bot.ports.chat import Posted
from bot.ports.records import ChannelRow, PostRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Deps
from bot.services.reveals import SEND_CONCURRENCY, TAKE_BATCH, Reveals, post_key, reveal_key
from bot.services.streaks import Streaks

log = structlog.get_logger("studybot.posting")
__all__ = ["Posting", "TickReport", "post_key", "reveal_key"]


@dataclass(frozen=True)
class TickReport:
    posted: int = 0
    missed: int = 0
    skipped: int = 0
    caught_up: int = 0
    failed: int = 0


class Posting(Reveals):
    """Daily posts (and, from ``Reveals``, their reveals)."""

    def __init__(self, deps: Deps, *, streaks: Streaks | None = None) -> None:
        super().__init__(deps)
        self.streaks = streaks or Streaks(deps)

    # ---- scheduled work -------------------------------------------------------------

    async def post_due(self) -> TickReport:
        """Claim every daily post that is due (marking older ones missed), and send them.

        Due channels are taken in batches of ``TAKE_BATCH`` (instances walking at once
        take different ones, ADR 0011), until none is left: no ceiling per tick. Each
        channel is then advanced in a small transaction of its own, a batch's at once;
        the sends start as soon as their claims are in and run concurrently, bounded by
        ``SEND_CONCURRENCY`` (and by each platform adapter's own limits), so ten thousand
        channels at 09:30 do not queue behind each other's latency.
        """
        now = self.now()
        counts = {"posted": 0, "missed": 0, "skipped": 0, "caught_up": 0, "failed": 0}
        limit = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send(channel: ChannelRow, post: PostRow, card: Card) -> None:
            late = now - (post.scheduled_for or now) > timedelta(minutes=2)
            async with limit:
                with self.deps.sends.holding(post_key(post)):
                    work = self._send(channel, post, card, caught_up=late)
                    sent = await self.isolated_async("dispatch", channel.id, work)
            counts["posted" if sent else "failed"] += 1
            counts["caught_up"] += int(bool(sent) and late)

        async def advance(channel: ChannelRow, sending: asyncio.TaskGroup) -> None:
            # READ COMMITTED with the channel's row locked (see _advance): serializable
            # units walking neighbouring channels at once abort each other on PostgreSQL.
            unit = partial(self._advance, channel, now, counts)
            work = self.store.write(unit, serializable=False)
            for post, card in await self.isolated_async("dispatch", channel.id, work) or []:
                sending.create_task(send(channel, post, card))

        after: tuple[datetime, int] | None = None
        async with asyncio.TaskGroup() as sending:  # waits for every send it started
            while batch := await self.store.write(
                partial(_take_due_posts, now, after), serializable=False
            ):
                after = (batch[-1].next_post_at or now, batch[-1].id)
                # A batch's channels are advanced at once: PostgreSQL runs the units on
                # several connections; SQLite's one writer queues them.
                await asyncio.gather(*(advance(channel, sending) for channel in batch))
        return TickReport(**counts)

    def _advance(
        self, channel: ChannelRow, now: datetime, counts: dict[str, int], tx: Tx
    ) -> list[tuple[PostRow, Card]]:
        """Walk a channel's due occurrences up to now: claim, skip or mark missed.

        Runs at READ COMMITTED on PostgreSQL, one channel's walk at a time by the lock on
        its row: the day's claim is unique per (channel, date), the card picked reads only
        this channel's posts, and a refold locks the memberships it rewrites."""
        fresh = tx.channels.lock(channel.id)
        if fresh is None or fresh.next_post_at is None or fresh.next_post_at > now:
            return []  # another process advanced it
        to_send: list[tuple[PostRow, Card]] = []
        missed: list[tuple[date, datetime]] = []
        forgiven: list[date] = []
        when = fresh.next_post_at
        while when <= now:
            day = local_date(when, zone(fresh.settings.tz))
            if fresh.paused:
                if self._mark(tx, fresh, day, when, now, "skipped"):
                    counts["skipped"] += 1
                    forgiven.append(day)
            elif now - when > self.policy.grace:
                if self._mark(tx, fresh, day, when, now, "missed"):
                    counts["missed"] += 1
                    missed.append((day, when))
                    forgiven.append(day)
                    log.info("post_missed", channel=fresh.id, day=str(day))
            else:
                claimed = self._claim(tx, fresh, day, when, now)
                if claimed is not None:
                    to_send.append(claimed)
                    fresh = tx.channels.get(fresh.id) or fresh
            when = next_post_at(fresh.settings, when)
        tx.channels.set_next(fresh.id, post_at=when)
        if missed:  # one note for the whole outage, queued with the days it reports
            self._note_missed(tx, fresh, missed, now)
        if forgiven:  # streaks already folded over these days are folded again
            self.streaks.refold(tx, fresh, min(forgiven))
        return to_send

    def _note_missed(
        self, tx: Tx, channel: ChannelRow, missed: list[tuple[date, datetime]], now: datetime
    ) -> None:
        today = local_date(now, zone(channel.settings.tz))
        text = messages.missed_note(
            [day for day, _ in missed],
            due_at=missed[0][1],
            tz=channel.settings.tz,
            grace=self.policy.grace,
            today_missed=missed[-1][0] == today,
            platform=channel.platform,
        )
        tx.notices.add(channel.id, f"missed:{missed[0][0].isoformat()}", text, now)

    async def reconcile(self) -> int:
        """Finish posts and reveals whose claimant vanished; returns how many were fixed."""
        now = self.now()
        stale_before = now - self.policy.intent_lease
        stale_posts, stale_reveals = await self.store.read(
            lambda tx: (tx.posts.stale_intents(stale_before), tx.posts.stale_reveals(stale_before))
        )
        fixed = 0
        for post in stale_posts:
            work = self._reconcile_post(post, now)
            fixed += int(await self.isolated_async("dispatch", post.id, work) or 0)
        for post in stale_reveals:
            work = self._reveal(post, reconcile=True)
            fixed += int(await self.isolated_async("dispatch", post.id, work) or 0)
        return fixed

    async def _reconcile_post(self, post: PostRow, now: datetime) -> bool:
        """Take over one stale claim: record the post if it is there, else send or miss it."""
        if post_key(post) in self.deps.sends:
            return False  # this process is still sending it: not stale, only slow
        with self.deps.sends.holding(post_key(post)):
            return await self._take_over(post, now)

    async def _take_over(self, post: PostRow, now: datetime) -> bool:
        token = uuid.uuid4().hex

        def take(tx: Tx) -> ChannelRow | None:
            if tx.posts.reclaim(post.id, token, now, post.claim_token):
                return tx.channels.get(post.channel_id)
            return None

        channel = await self.store.write(take)
        card = self.decks.card(post.card_key or "")
        chat = self.deps.chats.get(channel.platform) if channel else None
        if channel is None or card is None or chat is None:
            return False
        try:
            found = await chat.find_post(
                channel.target(),
                post_key(post),
                messages.daily_post(  # as _send builds it: its title names the day
                    card,
                    reveal_at=reveal_due(channel.settings, now),
                    tz=channel.settings.tz,
                    day=post.local_date,
                    policy=self.policy,
                    new_cycle=post.new_cycle,
                    deck_title=deck.title
                    if (deck := self.decks.decks.get(card.deck))
                    else card.deck,
                ),
            )
        except ChatError as exc:  # unknown is not "not there": wait for a lookup that answers
            log.warning("post_lookup_failed", channel=channel.id, error=str(exc))
            return False
        if found is not None:
            await self._record_post(channel, post, found, now, caught_up=True)
            return True
        if post.scheduled_for is not None and now - post.scheduled_for > self.policy.grace:
            scheduled = post.scheduled_for

            def miss(tx: Tx) -> None:
                _set_status(post.id, "missed", tx)
                self._note_missed(tx, channel, [(post.local_date, scheduled)], now)
                self.streaks.refold(tx, channel, post.local_date)

            await self.store.write(miss)
            return False
        return await self._send(channel, post, card, caught_up=True)

    # ---- admin actions ----------------------------------------------------------------

    async def post_now(self, channel: ChannelRow, *, confirm: bool = False) -> PostRow:
        """Post today's question now; a day already missed only with ``confirm`` (it is
        posted late on purpose, and stays forgiven)."""
        now = self.now()
        day = local_date(now, zone(channel.settings.tz))

        def claim(tx: Tx) -> tuple[PostRow, Card]:
            existing = tx.posts.on_date(channel.id, day)
            if existing is not None and existing.status == "missed":
                if not confirm:
                    raise InvalidInput(
                        messages.missed_confirm(existing.local_date, channel.platform)
                    )
                revived = self._revive(tx, channel, existing, now)
                if revived is None:
                    raise InvalidInput("Today's question was claimed a moment ago; nothing to do.")
                return revived
            if existing is not None:
                raise InvalidInput(_already(existing))
            claimed = self._claim(tx, channel, day, now, now)
            if claimed is None:
                raise InvalidInput("Today's question was claimed a moment ago; nothing to do.")
            return claimed

        post, card = await self.store.write(claim)
        if not await self._send(channel, post, card, caught_up=False):
            raise InvalidInput("The post could not be sent; see /study status for the reason.")
        return await self.store.read(lambda tx: tx.posts.get(post.id)) or post

    async def skip_today(self, channel: ChannelRow) -> str:
        now = self.now()
        day = local_date(now, zone(channel.settings.tz))

        def skip(tx: Tx) -> None:
            existing = tx.posts.on_date(channel.id, day)
            if existing is not None:
                raise InvalidInput(_already(existing))
            self._mark(tx, channel, day, now, now, "skipped")

        await self.store.write(skip)
        return f"Skipped {day.isoformat()}: no question today, and nobody's streak suffers."

    # ---- helpers ------------------------------------------------------------------------

    def _mark(
        self, tx: Tx, channel: ChannelRow, day: date, when: datetime, now: datetime, status: str
    ) -> bool:
        row = tx.posts.claim(
            channel.id,
            day,
            card_key=None,
            topic=None,
            cycle=channel.cycle,
            new_cycle=False,
            scheduled_for=when,
            token=uuid.uuid4().hex,
            now=now,
            status=status,
        )
        return row is not None

    def _pick(self, tx: Tx, channel: ChannelRow) -> tuple[Pick, int]:
        cards = self.decks.for_channel(channel.settings)
        used = tx.posts.used_in_cycle(channel.id, channel.cycle)
        recent = tx.posts.recent_topics(channel.id)
        warm_up = channel.cycle == 1 and tx.posts.count(channel.id) < WARM_UP_POSTS
        salt = f"{channel.id}:{channel.cycle}"
        pick = pick_next(cards, used, recent, salt=salt, warm_up=warm_up)
        return pick, channel.cycle + 1 if pick.new_cycle else channel.cycle

    def _revive(
        self, tx: Tx, channel: ChannelRow, missed: PostRow, now: datetime
    ) -> tuple[PostRow, Card] | None:
        def claim(pick: Pick, cycle: int) -> PostRow | None:
            return tx.posts.revive_missed(
                missed.id,
                card_key=pick.card.key,
                topic=pick.card.topic,
                cycle=cycle,
                new_cycle=pick.new_cycle,
                token=uuid.uuid4().hex,
                now=now,
            )

        return self._claimed(tx, channel, claim)

    def _claim(
        self, tx: Tx, channel: ChannelRow, day: date, when: datetime, now: datetime
    ) -> tuple[PostRow, Card] | None:
        def claim(pick: Pick, cycle: int) -> PostRow | None:
            return tx.posts.claim(
                channel.id,
                day,
                card_key=pick.card.key,
                topic=pick.card.topic,
                cycle=cycle,
                new_cycle=pick.new_cycle,
                scheduled_for=when,
                token=uuid.uuid4().hex,
                now=now,
            )

        return self._claimed(tx, channel, claim)

    def _claimed(
        self, tx: Tx, channel: ChannelRow, claim: Callable[[Pick, int], PostRow | None]
    ) -> tuple[PostRow, Card] | None:
        """The next card claimed by ``claim``; a card that starts a cycle moves it on."""
        pick, cycle = self._pick(tx, channel)
        post = claim(pick, cycle)
        if post is None:
            return None
        if pick.new_cycle:
            tx.channels.set_next(channel.id, cycle=cycle)
        return post, pick.card

    async def _send(
        self, channel: ChannelRow, post: PostRow, card: Card, *, caught_up: bool
    ) -> bool:
        chat = self.deps.chats.get(channel.platform)
        if chat is None:
            return False
        now = self.now()
        due = reveal_due(channel.settings, now)
        deck = self.decks.decks.get(card.deck)
        message = messages.daily_post(
            card,
            reveal_at=due,
            tz=channel.settings.tz,
            day=post.local_date,
            policy=self.policy,
            new_cycle=post.new_cycle,
            deck_title=deck.title if deck else card.deck,
        )
        try:
            posted = await chat.post(channel.target(), message, key=post_key(post), thread=True)
        except TargetUnavailable as exc:

            def lost(tx: Tx) -> None:
                _set_status(post.id, "missed", tx)
                self.streaks.refold(tx, channel, post.local_date)

            await self.store.write(lost)
            await self.pause_channel(channel, exc.reason)
            return False
        except ChatError as exc:
            log.warning("post_failed", channel=channel.id, error=str(exc))
            return False  # the intent stays; reconcile retries inside the grace window
        await self._record_post(channel, post, posted, now, caught_up=caught_up)
        return True

    async def _record_post(
        self, channel: ChannelRow, post: PostRow, posted: Posted, now: datetime, *, caught_up: bool
    ) -> None:
        recorded = await self.store.write(
            lambda tx: tx.posts.record_posted(
                post.id,
                message_ref=posted.message_ref,
                thread_ref=posted.thread_ref,
                posted_at=now,
                reveal_due_at=reveal_due(channel.settings, now),
                caught_up=caught_up,
            )
        )
        if not recorded:  # another instance took the claim over: it records what it finds
            log.warning("claim_lost", kind="post", channel=channel.id, day=str(post.local_date))
            return
        log.info("post_sent", channel=channel.id, day=str(post.local_date), caught_up=caught_up)


def _take_due_posts(now: datetime, after: tuple[datetime, int] | None, tx: Tx) -> list[ChannelRow]:
    return tx.channels.take_due_posts(now, after, limit=TAKE_BATCH)


def _set_status(post_id: int, status: str, tx: Tx) -> None:
    tx.posts.set_status(post_id, status)


def _already(post: PostRow) -> str:
    if post.status == "skipped":
        return f"Today ({post.local_date}) was skipped; there is no question to post."
    if post.status == "missed":
        return f"Today's question ({post.local_date}) was missed; the day is forgiven already."
    return f"Today's question ({post.local_date}) is already posted."
