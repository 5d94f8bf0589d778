"""Streaks: bring them up to date (daily roll-over), show them, and repair them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import partial

import structlog

from bot.core.errors import InvalidInput, NotFound
from bot.core.models import Actor
from bot.core.schedule import local_date, zone
from bot.core.streaks import (
    StreakHistory,
    StreakState,
    advance,
    counts_today,
    repaired,
    replay,
    shown,
)
from bot.ports.reads import ReadTx
from bot.ports.records import ChannelRow, MembershipRow
from bot.ports.store import Tx
from bot.services.base import Service

log = structlog.get_logger("studybot.streaks")


class Streaks(Service):
    def history(
        self, tx: ReadTx, channel: ChannelRow, membership: MembershipRow, since: date | None = None
    ) -> StreakHistory:
        start = membership.joined_on
        first = max(start, since) if since else start
        return _history(
            channel,
            membership,
            first,
            kept=tx.activity.kept_days(membership.member.id, first),
            forgiven=tx.posts.forgiven_dates(channel.id, first),
            repairs=tx.audit.repairs(channel.id, membership.member.id),
        )

    def today(self, channel: ChannelRow, membership: MembershipRow) -> date:
        return local_date(self.now(), zone(self.member_tz(membership.member, channel)))

    def current(
        self, tx: ReadTx, channel: ChannelRow, membership: MembershipRow
    ) -> tuple[StreakState, int]:
        """The state folded through yesterday, and the number to show today."""
        history = self.history(tx, channel, membership, membership.streak.evaluated_through)
        return self._folded(channel, membership, history)

    def _folded(
        self, channel: ChannelRow, membership: MembershipRow, history: StreakHistory
    ) -> tuple[StreakState, int]:
        today = self.today(channel, membership)
        state = advance(membership.streak, history, today - timedelta(days=1))
        return state, shown(state, today, history)

    def shown_in(self, tx: ReadTx, channel: ChannelRow) -> list[tuple[str, int]]:
        """(name, streak shown today) of every member of the channel with a streak: the
        same number ``/study streak`` gives each of them (``current``), with the history
        of all members read in three queries instead of three per member."""
        memberships = tx.members.memberships(channel_id=channel.id)
        if not memberships:
            return []
        kept = tx.activity.kept_days_in(channel.id)
        repairs = tx.audit.repairs_in(channel.id)
        firsts = {m.member.id: _first_day(m) for m in memberships}
        forgiven = tx.posts.forgiven_dates(channel.id, min(firsts.values()))
        found = []
        for m in memberships:
            history = _history(
                channel,
                m,
                firsts[m.member.id],
                kept=kept.get(m.member.id, set()),
                forgiven=forgiven,
                repairs=repairs.get(m.member.id, {}),
            )
            value = self._folded(channel, m, history)[1]
            if value > 0:
                found.append((m.member.name, value))
        return found

    def refold(self, tx: Tx, channel: ChannelRow, since: date) -> int:
        """After days from ``since`` on became forgiven (marked missed or skipped late,
        once streaks had been folded past them): the streaks folded over them again, from
        history, so the cache never keeps a freeze spent on a forgiven day."""
        moved = 0
        # Locked first: a unit at READ COMMITTED (a channel's walk) reads the history
        # after the lock, so an answer landing meanwhile is either seen or waits for us.
        for membership in tx.members.memberships(channel_id=channel.id, lock=True):
            through = membership.streak.evaluated_through
            if through is None or through < since:
                continue
            state = self.recomputed(tx, channel, membership)
            if state != membership.streak:
                tx.members.save_streak(channel.id, membership.member.id, state)
                moved += 1
        return moved

    def recomputed(self, tx: ReadTx, channel: ChannelRow, membership: MembershipRow) -> StreakState:
        """The streak recomputed from history alone (what the stored cache must equal):
        folded through yesterday, or through today when a repair settled today."""
        today = self.today(channel, membership)
        history = self.history(tx, channel, membership)
        settled = today if today in (history.repairs or {}) else today - timedelta(days=1)
        return replay(history, settled)

    async def roll_over(self) -> int:
        """Fold every stale streak up to its member's yesterday; returns how many moved."""
        # No member's yesterday is later than yesterday at UTC+14: only streaks folded to
        # before that can be stale (not every membership, every hour).
        before = (self.now() + timedelta(hours=14)).date() - timedelta(days=1)
        stale = await self.store.read(lambda tx: tx.members.stale_streaks(before))

        def unit(tx: Tx) -> int:
            moved = 0
            for membership in stale:
                item = f"{membership.channel_id}/{membership.member.id}"
                moved += (
                    self.isolated(tx, "streaks", item, partial(self._roll, tx, membership)) or 0
                )
            return moved

        moved = await self.store.write(unit) if stale else 0
        if moved:
            log.info("streaks_rolled", moved=moved)
        return moved

    def _roll(self, tx: Tx, membership: MembershipRow) -> int:
        channel = tx.channels.get(membership.channel_id)
        if channel is None:
            return 0
        state, _ = self.current(tx, channel, membership)
        if state == membership.streak:
            return 0
        tx.members.save_streak(channel.id, membership.member.id, state)
        return 1

    def repair(
        self, tx: Tx, channel: ChannelRow, actor: Actor, who: str, value_text: str, reason: str
    ) -> str:
        if not value_text.isdigit() or int(value_text) > 10_000:
            raise InvalidInput(f"Streak must be a whole number of days, not {value_text!r}.")
        value = int(value_text)
        target = self._find_member(tx, channel, who)
        state, before = self.current(tx, channel, target)
        # What is shown from now on is the value given. A day already kept today is in
        # the number shown, so the repair folds today and then sets the value; otherwise
        # it applies after yesterday and today's answer, when it comes, adds one as usual.
        # Replay reads it the same way: after folding its effective date, the value.
        today = self.today(channel, target)
        history = self.history(tx, channel, target, state.evaluated_through)
        if counts_today(state, today, history):
            through = today
            state = advance(state, history, today)
        else:
            through = today - timedelta(days=1)
            state = replace(state, evaluated_through=through)
        state = repaired(state, value)
        tx.members.save_streak(channel.id, target.member.id, state)
        tx.audit.record(
            channel.id,
            target.member.id,
            effective_date=through,
            old=before,
            new=value,
            actor=f"{actor.platform}:{actor.user}:{actor.name}",
            reason=reason or "(no reason given)",
            now=self.now(),
        )
        name = target.member.name
        return f"{name}'s streak is now {value} (was {before}). The change is audited."

    def _find_member(self, tx: Tx, channel: ChannelRow, who: str) -> MembershipRow:
        ref = who.strip().removeprefix("<@").removesuffix(">").lstrip("@").split("|")[0]
        for m in tx.members.memberships(channel_id=channel.id):
            if ref in (m.member.user_ref, m.member.name) or ref.lower() == m.member.name.lower():
                return m
        raise NotFound(f"No member {who!r} has studied in this channel yet.")


def _first_day(membership: MembershipRow) -> date:
    """Where a member's history is read from: after what their cached streak folded."""
    through = membership.streak.evaluated_through
    return max(membership.joined_on, through) if through else membership.joined_on


def _history(
    channel: ChannelRow,
    membership: MembershipRow,
    first: date,
    *,
    kept: set[date],
    forgiven: set[date],
    repairs: dict[date, int],
) -> StreakHistory:
    """A member's history in a channel from ``first`` on (days before it are dropped)."""
    return StreakHistory(
        start=membership.joined_on,
        required_weekdays=channel.settings.days,
        kept=frozenset(d for d in kept if d >= first),
        forgiven=frozenset(d for d in forgiven if d >= first),
        repairs=repairs,
    )
