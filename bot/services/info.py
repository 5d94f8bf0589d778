"""Read-only answers: streak, stats, leaderboard so far, topics, help."""

from __future__ import annotations

from collections import defaultdict

from bot.core.errors import InvalidInput
from bot.core.models import Actor, Place
from bot.core.replies import Message, Reply, private
from bot.core.schedule import local_date, week_start, zone
from bot.core.streaks import StreakState
from bot.core.words import count
from bot.ports.reads import ReadTx
from bot.ports.records import ChannelRow
from bot.services import messages
from bot.services.base import Deps, Service
from bot.services.leaderboards import Leaderboards
from bot.services.streaks import Streaks


class Info(Service):
    def __init__(self, deps: Deps, *, streaks: Streaks, leaderboards: Leaderboards) -> None:
        super().__init__(deps)
        self.streaks = streaks
        self.leaderboards = leaderboards

    def _channel(self, tx: ReadTx, place: Place) -> ChannelRow:
        channel = self.channel_at(tx, place)
        if channel is None:
            raise InvalidInput(
                "Ask in a channel that studies with me (an admin runs /study setup)."
            )
        return channel

    async def streak(self, actor: Actor, place: Place) -> Reply:
        streaks = self.streaks

        def unit(tx: ReadTx) -> tuple[StreakState, int] | None:
            channel = self._channel(tx, place)
            member = tx.members.find(actor.platform, actor.workspace, actor.user)
            if member is None:
                return None
            mine = tx.members.memberships(channel_id=channel.id, member_id=member.id)
            return streaks.current(tx, channel, mine[0]) if mine else None

        found = await self.store.read(unit)
        if found is None:
            return private(Message(lines=("No streak yet: answer today's question to start one.",)))
        state, value = found
        lines = (
            f"🔥 Your streak: {count(value, 'day')} (best {max(state.best, value)}).",
            f"Freezes banked: {state.freezes} of 2 (one per 7 kept days; a missed day spends one).",
        )
        return private(Message(lines=lines))

    async def stats(self, actor: Actor, place: Place) -> Reply:
        now = self.now()
        streaks = self.streaks

        def unit(tx: ReadTx) -> Message:
            member = tx.members.find(actor.platform, actor.workspace, actor.user)
            if member is None:
                return Message(lines=("No stats yet: answer a question or take a /quiz.",))
            channel = self.channel_at(tx, place)
            today = self.member_today(member, now, channel)
            streak_text = "-"
            if channel is not None:
                mine = tx.members.memberships(channel_id=channel.id, member_id=member.id)
                if mine:
                    state, value = streaks.current(tx, channel, mine[0])
                    streak_text = f"{count(value, 'day')} (best {max(state.best, value)})"
            week = tx.activity.week_points(member.id, week_start(today))
            total = tx.activity.total_points(member.id)
            learned = sum(1 for s in tx.reviews.states_for(member.id) if s.state.reps > 0)
            retention = self._retention(tx.reviews.retention_by_topic(member.id))
            fields = (
                ("streak", streak_text),
                ("points", f"{week} this week, {total} in all"),
                ("cards learned", str(learned)),
                ("retention by topic", retention),
                ("due now", str(tx.reviews.count_due(member.id, now))),
            )
            return Message(title=f"Stats for {member.name}", fields=fields)

        return private(await self.store.read(unit))

    def _retention(self, per_card: list[tuple[str, int, int]]) -> str:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for key, reviews, recalled in per_card:
            card = self.decks.card(key)
            topic = card.topic if card else "retired cards"
            totals[topic][0] += reviews
            totals[topic][1] += recalled
        parts = [f"{t} {round(100 * r / n)}% ({n})" for t, (n, r) in sorted(totals.items())]
        return ", ".join(parts) or "no reviews yet"

    async def leaderboard(self, place: Place) -> Reply:
        channel = await self.store.read(lambda tx: self._channel(tx, place))
        today = local_date(self.now(), zone(channel.settings.tz))
        message = await self.leaderboards.weekly_message(
            channel, week_start(today), title="This week so far"
        )
        return private(message)

    async def topics(self, place: Place) -> Reply:
        channel = await self.store.read(lambda tx: self.channel_at(tx, place))
        pool = self.decks.for_channel(channel.settings) if channel else list(self.decks.cards())
        counts: dict[str, int] = defaultdict(int)
        for card in pool:
            counts[card.topic] += 1
        descriptions = {t: d for deck in self.decks.decks.values() for t, d in deck.topics.items()}
        lines = tuple(
            f"{topic} ({n}): {descriptions.get(topic, '')}".rstrip(": ")
            for topic, n in sorted(counts.items())
        )
        return private(Message(title=f"Topics ({count(len(pool), 'card')})", lines=lines))

    def help(self, platform: str = "console") -> Reply:
        return private(messages.help_message(self.policy, platform))
