"""Channel administration: setup, status, pause and resume."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from bot.core.commands import typed
from bot.core.errors import ChatError, InvalidInput
from bot.core.models import Actor, ChannelSettings, Place, Target
from bot.core.replies import Message, Reply, moment, private, public
from bot.core.rotation import eligible
from bot.core.schedule import local_date, next_leaderboard_at, next_post_at, zone
from bot.core.setup import apply_setup, describe
from bot.core.words import count
from bot.ports.reads import ReadTx
from bot.ports.records import ChannelRow
from bot.ports.store import Tx
from bot.services import messages
from bot.services.base import Service

log = structlog.get_logger("studybot.channels")


def _when(instant: datetime | None, tz: str) -> str:
    if instant is None:
        return "not scheduled"
    return moment(instant, tz)


SUMMARY_QUIET = timedelta(minutes=2)
"""How long after the last of a burst of setup changes the channel gets its summary."""


class Channels(Service):
    def save(
        self,
        tx: Tx,
        place: Place,
        settings: ChannelSettings,
        *,
        source: str,
        name: str | None = None,
        set_up_by: int | None = None,
    ) -> ChannelRow:
        now = self.now()
        if not self.decks.for_channel(settings):
            raise InvalidInput("No card matches these decks, topics and levels; nothing changed.")
        return tx.channels.save(
            place.platform,
            place.workspace,
            place.channel,
            settings,
            source=source,
            now=now,
            next_post_at=next_post_at(settings, now),
            next_leaderboard_at=next_leaderboard_at(settings, now),
            name=name,
            set_up_by=set_up_by,
        )

    async def seed(self, place: Place, settings: ChannelSettings) -> None:
        """A channel from the config file: created, or updated while no admin changed it."""

        def unit(tx: Tx) -> None:
            existing = self.channel_at(tx, place)
            if existing is None or (existing.source == "config" and existing.settings != settings):
                self.save(tx, place, settings, source="config")

        await self.store.write(unit)

    async def setup(self, actor: Actor, place: Place, args: tuple[str, ...]) -> Reply:
        if place.is_dm:
            raise InvalidInput("Run /study setup in the channel you want to study in.")

        def admin_only(tx: Tx) -> None:
            self.require_admin(tx, actor, self.member(tx, actor, self.now()), "set up a channel")

        await self.store.write(admin_only)
        await self._check_can_post(place)

        def unit(tx: Tx) -> Reply:
            member = self.member(tx, actor, self.now())
            self.require_admin(tx, actor, member, "set up a channel")
            existing = self.channel_at(tx, place)
            if existing is not None and not args and existing.enabled:
                return self._settings_reply(existing, "This channel is set up.")
            base = existing.settings if existing else self.policy.defaults
            settings = apply_setup(
                base, args, decks=self.decks.decks.keys(), topics=self.decks.topics().keys()
            )
            channel = self.save(tx, place, settings, source="admin", set_up_by=member.id)
            if existing is None or not existing.enabled:
                return public(messages.welcome(channel, place.platform))
            if settings != existing.settings:  # the channel hears once, after a burst
                now = self.now()
                text = messages.settings_summary(channel, actor.name)
                tx.notices.gather(channel.id, "settings:", text, now, now + SUMMARY_QUIET)
                headline = "Settings saved. The channel gets a one-line summary shortly."
            else:
                headline = "Nothing changed: these are the settings already."
            return self._settings_reply(channel, headline)

        return await self.store.write(unit)

    async def _check_can_post(self, place: Place) -> None:
        """Refuse a setup whose first post would fail, saying exactly what is missing."""
        chat = self.deps.chats.get(place.platform)
        if chat is None:
            return
        try:
            reason = await chat.check_post(Target(place.platform, place.workspace, place.channel))
        except ChatError as exc:  # cannot tell now: do not block the admin on it
            log.warning("setup_check_failed", channel=place.channel, error=str(exc))
            return
        if reason is not None:
            raise InvalidInput(
                f"I cannot post here yet: {messages.pause_fix(reason)}. Nothing changed; "
                "run /study setup again when that is fixed."
            )

    def _settings_reply(self, channel: ChannelRow, headline: str) -> Reply:
        settings = channel.settings
        fields = (*describe(settings), ("next post", _when(channel.next_post_at, settings.tz)))
        example = typed(channel.platform, "setup", time="10:00", days="mon,wed,fri")
        message = Message(title=headline, lines=(f"Change with {example}",), fields=fields)
        return private(message)

    async def status(self, place: Place) -> Reply:
        now = self.now()

        def unit(tx: ReadTx) -> Reply:
            channel = self.channel_at(tx, place)
            if channel is None:
                return private(
                    Message(lines=("This channel is not set up. An admin can run /study setup.",))
                )
            today = local_date(now, zone(channel.settings.tz))
            post = tx.posts.on_date(channel.id, today)
            used = tx.posts.used_in_cycle(channel.id, channel.cycle)
            posted = tx.posts.count(channel.id)
            pool = len(eligible(self.decks.cards(), channel.settings))
            state = "paused" if channel.paused else "active"
            if channel.paused and channel.pause_reason:
                state += f" ({channel.pause_reason})"
            fields = (
                ("state", state),
                *describe(channel.settings),
                ("next post", _when(channel.next_post_at, channel.settings.tz)),
                ("today", post.status if post else "not posted yet"),
                ("cycle", f"{channel.cycle}: {len(used)} of {count(pool, 'card')} used"),
                ("posts so far", str(posted)),
                ("desired retention", self._retention(place, channel.settings)),
            )
            return private(Message(title="Channel status", fields=fields))

        return await self.store.read(unit)

    def _retention(self, place: Place, settings: ChannelSettings) -> str:
        """The desired retention the channel's decks schedule with, and why."""
        decks = settings.decks or tuple(sorted(self.decks.decks))
        book = self.deps.srs_book
        choices = {d: book.retention_for((place.platform, place.workspace, d)) for d in decks}
        if len(set(choices.values())) <= 1:
            choice = next(iter(choices.values()), book.retention_for(("", "", "")))
            return f"{choice.value:.2f} ({choice.reason})"
        return "; ".join(f"{d} {c.value:.2f} ({c.reason})" for d, c in choices.items())

    async def set_paused(self, actor: Actor, place: Place, paused: bool) -> Reply:
        now = self.now()

        def unit(tx: Tx) -> Reply:
            member = self.member(tx, actor, now)
            self.require_admin(tx, actor, member, "pause or resume the channel")
            channel = self.channel_at(tx, place)
            if channel is None:
                raise InvalidInput("This channel is not set up; run /study setup first.")
            if paused == channel.paused:
                word = "paused" if paused else "running"
                return private(Message(lines=(f"The channel is already {word}.",)))
            reason = f"paused by {actor.name}" if paused else None
            tx.channels.set_paused(channel.id, paused, reason)
            if not paused:
                # Do not catch up what was skipped while paused: schedule from now.
                tx.channels.set_next(channel.id, post_at=next_post_at(channel.settings, now))
            text = (
                "Paused: no questions until /study resume. Streaks do not suffer meanwhile."
                if paused
                else "Resumed: the next question comes at the usual time."
            )
            return public(Message(lines=(text,)))

        return await self.store.write(unit)
