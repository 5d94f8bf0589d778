"""A wall clock that went backwards (an NTP step, a host restored from a snapshot, a
wrong date set by hand and then fixed).

While the clock ran ahead, the dispatch job marked every post, leaderboard and streak day
up to that false "now" as missed and moved each channel's schedule past it. Once the clock
is back, those days lie in the future again: they are unmarked (the rows written after
the current time are exactly the ones the clock ahead wrote), schedules are moved back
to the next real occurrence, and streaks folded past today are recomputed from history.
This runs on the first dispatch after start (the clock may have been fixed while the bot
was down) and whenever the clock is seen going back while it runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from bot.core.schedule import next_leaderboard_at, next_post_at
from bot.ports.store import Tx
from bot.services.base import Deps, Service
from bot.services.streaks import Streaks

log = structlog.get_logger("studybot.clock")
TOLERANCE = timedelta(minutes=2)
"""Smaller steps back are ordinary clock corrections, not worth a repair."""


class ClockWatch(Service):
    def __init__(self, deps: Deps, *, streaks: Streaks) -> None:
        super().__init__(deps)
        self.streaks = streaks
        self._latest: datetime | None = None

    async def check(self) -> int:
        """Note the time; after a start or a step back, unmark what a clock ahead marked.
        Returns how many posts, leaderboards and streaks were put right."""
        now = self.now()
        latest, self._latest = self._latest, now
        if latest is not None and now >= latest - TOLERANCE:
            return 0
        if latest is not None:
            log.warning(
                "clock_went_back",
                by_seconds=round((latest - now).total_seconds()),
                now=now.isoformat(),
            )
        fixed = await self.store.write(lambda tx: self._repair(tx, now))
        if fixed:
            log.warning("clock_ahead_marks_undone", fixed=fixed)
        return fixed

    def _repair(self, tx: Tx, now: datetime) -> int:
        fixed = 0
        earliest = tx.posts.unmark_ahead(now)
        boards = set(tx.leaderboards.unmark_ahead(now))
        for channel_id in earliest.keys() | boards:
            channel = tx.channels.get(channel_id)
            if channel is None:
                continue
            fixed += 1
            if channel_id in earliest:
                post_at = min(next_post_at(channel.settings, now), earliest[channel_id])
                if channel.next_post_at is not None and channel.next_post_at > post_at:
                    tx.channels.set_next(channel_id, post_at=post_at)
            board_at = next_leaderboard_at(channel.settings, now)
            if channel_id in boards and (channel.next_leaderboard_at or board_at) > board_at:
                tx.channels.set_next(channel_id, leaderboard_at=board_at)
        for membership in tx.members.folded_since(now.date() - timedelta(days=1)):
            channel = tx.channels.get(membership.channel_id)
            if channel is None:
                continue
            today = self.streaks.today(channel, membership)
            through = membership.streak.evaluated_through
            if through is not None and through >= today:
                state = self.streaks.recomputed(tx, channel, membership)
                tx.members.save_streak(channel.id, membership.member.id, state)
                fixed += 1
        return fixed
