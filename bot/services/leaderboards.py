"""Weekly leaderboards: posted once per channel and week, and shown on demand."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

import structlog

from bot.core.errors import ChatError, TargetUnavailable
from bot.core.leaderboard import Entry, board
from bot.core.replies import Message
from bot.core.schedule import local_date, next_leaderboard_at, week_start, zone
from bot.ports.reads import ReadTx
from bot.ports.records import ChannelRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Deps, Service
from bot.services.streaks import Streaks

log = structlog.get_logger("studybot.leaderboards")


def leaderboard_key(channel_id: int, week: date) -> str:
    """The send key of one channel's table for one week (found again after a crash)."""
    return f"studybot:leaderboard:{channel_id}:{week.isoformat()}"


def _missed(tx: Tx, *, channel_id: int, week: date) -> None:
    tx.leaderboards.set_status(channel_id, week, "missed")


class Leaderboards(Service):
    def __init__(self, deps: Deps, *, streaks: Streaks | None = None) -> None:
        super().__init__(deps)
        self.streaks = streaks or Streaks(deps)

    async def post_due(self) -> int:
        """Post last week's table in every channel whose leaderboard time has come."""
        now = self.now()
        due = await self.store.read(lambda tx: tx.channels.due_leaderboards(now))
        sent = 0
        for channel in due:
            sent += int(
                await self.isolated_async("leaderboards", channel.id, self._post(channel, now)) or 0
            )
        return sent

    async def _post(self, channel: ChannelRow, now: datetime) -> bool:
        """Claim (channel, last week) once, then post last week's table."""
        assert channel.next_leaderboard_at is not None
        when = channel.next_leaderboard_at
        week = week_start(local_date(when, zone(channel.settings.tz))) - timedelta(days=7)
        late = now - when > self.policy.grace

        def claim(tx: Tx) -> str | None:
            fresh = tx.channels.get(channel.id)
            if fresh is None or fresh.next_leaderboard_at != when:
                return None
            status = "missed" if late or fresh.paused else "intent"
            claimed = tx.leaderboards.claim(channel.id, week, now, status)
            tx.channels.set_next(
                channel.id, leaderboard_at=next_leaderboard_at(fresh.settings, now)
            )
            return status if claimed else None

        if await self.store.write(claim) != "intent":
            return False
        return await self._send(channel, week, now, look_first=False)

    async def reconcile(self) -> int:
        """Finish leaderboards whose send did not finish (a crash, an error, no connection).

        The channel is searched for the table's key first; only a lookup that answers "not
        there" lets it be sent again. A week that has since ended is marked missed.
        """
        now = self.now()
        before = now - self.policy.intent_lease
        stale = await self.store.read(lambda tx: tx.leaderboards.stale_intents(before))
        fixed = 0
        for channel_id, week in stale:
            work = self._reconcile_one(channel_id, week, now, before)
            fixed += int(await self.isolated_async("leaderboards", channel_id, work) or 0)
        return fixed

    async def _reconcile_one(
        self, channel_id: int, week: date, now: datetime, before: datetime
    ) -> bool:
        if leaderboard_key(channel_id, week) in self.deps.sends:
            return False  # this process is sending it now: slow, not stale

        def take(tx: Tx) -> ChannelRow | None:
            if tx.leaderboards.reclaim(channel_id, week, now, before):
                return tx.channels.get(channel_id)
            return None

        channel = await self.store.write(take)
        if channel is None:
            return False
        current = week_start(local_date(now, zone(channel.settings.tz))) - timedelta(days=7)
        if week != current:
            await self.store.write(partial(_missed, channel_id=channel_id, week=week))
            return False
        return await self._send(channel, week, now, look_first=True)

    async def _send(
        self, channel: ChannelRow, week: date, now: datetime, *, look_first: bool
    ) -> bool:
        key = leaderboard_key(channel.id, week)
        with self.deps.sends.holding(key):
            return await self._send_held(channel, week, now, key, look_first=look_first)

    async def _send_held(
        self, channel: ChannelRow, week: date, now: datetime, key: str, *, look_first: bool
    ) -> bool:
        chat = self.deps.chats.get(channel.platform)
        if chat is None:
            return False
        try:
            posted = (
                await chat.find_post(
                    channel.target(),
                    key,
                    await self.weekly_message(channel, week, title="Last week's leaderboard"),
                )
                if look_first
                else None
            )
        except ChatError as exc:  # unknown is not "not there": the claim waits for an answer
            log.warning("leaderboard_lookup_failed", channel=channel.id, error=str(exc))
            return False
        if posted is None:
            message = await self.weekly_message(channel, week, title="Last week's leaderboard")
            try:
                posted = await chat.post(channel.target(), message, key=key)
            except TargetUnavailable as exc:
                await self.store.write(partial(_missed, channel_id=channel.id, week=week))
                await self.pause_channel(channel, exc.reason)
                return False
            except ChatError as exc:  # the claim stays; reconcile looks before it re-sends
                log.warning("leaderboard_failed", channel=channel.id, error=str(exc))
                return False
        ref = posted.message_ref
        recorded = await self.store.write(
            lambda tx: tx.leaderboards.record(channel.id, week, ref, now)
        )
        if not recorded:
            log.warning("claim_lost", kind="leaderboard", channel=channel.id, week=str(week))
        return True

    async def weekly_message(self, channel: ChannelRow, week: date, *, title: str) -> Message:
        """Points and on-time reviews of ``week`` (pre-aggregated), and current streaks.

        Streaks are the ones each member sees with ``/study streak`` (folded through
        yesterday, and today once kept). Each table is ranked and cut after its last
        place, with ties kept.
        """

        def load(tx: ReadTx) -> tuple[list[tuple[str, int]], ...]:
            return (
                tx.activity.week_top(channel.id, week, 10),
                self.streaks.shown_in(tx, channel),
                tx.activity.week_top(channel.id, week, 3, on_time=True),
            )

        points, streaks, on_time = await self.store.read(load)
        return messages.leaderboard(
            f"{title} · {messages.week_text(week)}",
            board((Entry(n, v) for n, v in points), 10),
            board((Entry(n, v) for n, v in streaks), 5),
            board((Entry(n, v) for n, v in on_time), 3),
        )
