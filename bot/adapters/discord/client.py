"""The Discord adapter: a ``discord.Client`` that translates events into ``StudyBot`` calls.

Answers are messages in a daily post's thread; edits and deletes arrive as raw events
(they work for messages not in the cache); grades are raw reaction events on the
reveal, so they also work after a restart. Commands and buttons defer at once (inside
Discord's 3 seconds), then run (``replies``). Threads the bot started are kept open
while gradable (``threads``). The bot's own and other bots' messages and reactions are
ignored.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import discord
import structlog
from discord import app_commands

from bot.adapters.base import LogsInteractions, boundary
from bot.adapters.discord import commands, endpoints, replies
from bot.adapters.discord.buttons import ActionButton
from bot.adapters.discord.chat import DiscordChat, Gate
from bot.adapters.discord.threads import Gradable, ThreadKeeper
from bot.core import emoji
from bot.core.commands import Command
from bot.core.errors import NotYet
from bot.core.models import Actor, Place, Target
from bot.core.replies import Reply
from bot.metrics import Metrics
from bot.services.inflight import tracked
from bot.services.study import StudyBot

log = structlog.get_logger("studybot.discord")
MEMBERS = "users"
NO_CONTENT_HINT = "I cannot read thread messages on this server yet; answer with `/study answer`."


@dataclass(frozen=True)
class Timeouts:
    guild_ready: float = 2.0
    """After READY, how long discord.py waits for more servers before it is ready."""
    login: float = 30.0
    """How long an outbound call made before login waits for it, before ``ChatError``."""


def needed_intents(*, message_content: bool) -> discord.Intents:
    """Only what the bot uses: servers and their channels and threads (with the bot's
    permissions), messages in threads (answers, edits, deletes) and reactions (grades).
    Interactions need no intent; DMs carry only buttons."""
    return discord.Intents(
        guilds=True,
        guild_messages=True,
        guild_reactions=True,
        message_content=message_content,
    )


NOT_YET_WAITS = (5.0, 15.0, 45.0, 90.0)
"""Seconds between tries of a reaction on a reveal still being recorded (the gateway does
not redeliver: the adapter waits, about as long as reconciling a cut-short send takes)."""


class StudyClient(discord.Client):
    def __init__(
        self, adapter: DiscordAdapter, *, intents: discord.Intents, guild_ready_timeout: float
    ) -> None:
        super().__init__(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=guild_ready_timeout,
        )
        self.adapter = adapter
        self.tree: app_commands.CommandTree[StudyClient] = app_commands.CommandTree(self)
        commands.build(self.tree)

    async def setup_hook(self) -> None:
        self.adapter.chat.gate.open()  # logged in: REST calls work from here on
        self.add_dynamic_items(ActionButton)
        guild = discord.Object(self.adapter.dev_guild) if self.adapter.dev_guild else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        synced = await self.tree.sync(guild=guild)
        log.info("discord_commands_synced", count=len(synced), guild=self.adapter.dev_guild)

    async def on_ready(self) -> None:
        self.adapter.ready.set()
        log.info("discord_ready", user=str(self.user), guilds=len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        await self.adapter.on_edit(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.adapter.on_delete(payload)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload, added=True)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self.adapter.on_reaction(payload, added=False)

    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        await self.adapter.on_thread_update(payload)


class DiscordAdapter(LogsInteractions):
    name = "discord"

    def __init__(
        self,
        study: StudyBot,
        *,
        token: str,
        dev_guild: int | None = None,
        admins: frozenset[str] = frozenset(),
        message_content: bool = True,
        metrics: Metrics | None = None,
        api_url: str | None = None,
        timeouts: Timeouts | None = None,
        gradable: Gradable | None = None,
    ) -> None:
        self.study = study
        self.metrics = metrics
        self.dev_guild = dev_guild
        self.api_url = api_url
        self.timeouts = timeouts or Timeouts()
        self._token = token
        self._admins = admins
        self.ready = asyncio.Event()
        intents = needed_intents(message_content=message_content)
        self.client = self._client(intents)
        self.chat = DiscordChat(self.client, Gate(self.timeouts.login))
        self.threads = ThreadKeeper(self.chat, gradable or study.threads.gradable)
        self._hinted: set[int] = set()

    def _client(self, intents: discord.Intents) -> StudyClient:
        return StudyClient(self, intents=intents, guild_ready_timeout=self.timeouts.guild_ready)

    def connected(self) -> bool:
        return self.ready.is_set() and not self.client.is_closed()

    async def run(self, stop: asyncio.Event) -> None:
        if self.client.is_closed():  # run again after a failure: discord.py can reopen
            self.client.clear()
            http = self.client.http
            if getattr(http.connector, "closed", False):  # closed with the old session
                http.connector = discord.utils.MISSING
        self.chat.gate.started = True
        try:
            with endpoints.rest_base(self.api_url):
                await self._serve(stop)
        finally:
            self.chat.gate.started = False
            self.chat.gate.close()

    async def _serve(self, stop: asyncio.Event) -> None:
        async with self.client:
            runner = asyncio.create_task(self._start())
            stopper = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if runner.done() and isinstance(runner.exception(), discord.LoginFailure):
                    # This platform stops; the others keep running.
                    log.error(
                        "platform_token_rejected",
                        platform="discord",
                        setting="DISCORD_TOKEN",
                        error=str(runner.exception()),
                    )
                    return
                if runner.done() and runner.exception() is not None:
                    raise runner.exception()  # type: ignore[misc]
            finally:
                stopper.cancel()
                self.chat.gate.close()
                await self.client.close()
                runner.cancel()

    async def _start(self) -> None:
        try:
            await self._login_and_connect()
        except discord.PrivilegedIntentsRequired:
            log.warning(
                "discord_message_content_missing",
                hint="enable the Message Content intent in the developer portal; until "
                "then members answer with /study answer",
            )
            self.chat.gate.close()
            intents = self.client.intents
            intents.message_content = False
            self.client = self._client(intents)
            self.chat.client = self.client
            await self._login_and_connect()

    async def _login_and_connect(self) -> None:
        await self.client.login(self._token)
        async with endpoints.gateway_of(self.client, follow=self.api_url is not None):
            await self.client.connect()

    # ---- translation ------------------------------------------------------------------------

    def _actor(self, user: discord.abc.User, guild_id: int | None, *, admin: bool = False) -> Actor:
        # Discord user ids are global (unlike Slack's, which belong to a workspace), so a
        # member is the same person in every server and in DMs.
        name = getattr(user, "display_name", None) or user.name
        return Actor(
            "discord",
            MEMBERS,
            str(user.id),
            name,
            is_admin=admin or str(user.id) in self._admins,
        )

    async def _place_of(self, channel_id: int, guild_id: int | None) -> Place | None:
        """The daily post's channel and thread for a message in a thread, else None."""
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except discord.HTTPException:
                return None
        if isinstance(channel, discord.Thread) and channel.parent_id:
            return Place(
                "discord",
                str(guild_id or channel.guild.id),
                str(channel.parent_id),
                str(channel.id),
            )
        if isinstance(channel, discord.abc.GuildChannel):
            return Place("discord", str(channel.guild.id), str(channel.id))
        return None

    def _interaction_place(self, interaction: discord.Interaction[Any]) -> Place:
        workspace = str(interaction.guild_id or "dm")
        channel = interaction.channel
        if isinstance(channel, discord.Thread) and channel.parent_id:
            return Place("discord", workspace, str(channel.parent_id), str(channel.id))
        return Place(
            "discord", workspace, str(interaction.channel_id), is_dm=interaction.guild_id is None
        )

    @tracked
    async def command(self, interaction: discord.Interaction[Any], command: Command) -> None:
        started = time.perf_counter()
        ephemeral = await replies.defer(interaction)
        if self.metrics is not None:
            self.metrics.ack_latency.labels("discord").observe(time.perf_counter() - started)
        admin = bool(interaction.permissions.manage_guild) if interaction.guild_id else False
        actor = self._actor(interaction.user, interaction.guild_id, admin=admin)
        place = self._interaction_place(interaction)
        reply = await boundary(
            "discord",
            lambda: self.study.command(actor, place, command),
            kind="command",
            member=actor.user,
            channel=place.channel,
            action=f"{command.name}:{command.sub or ''}",
            metrics=self.metrics,
        )
        await replies.send(interaction, reply, ephemeral=ephemeral)

    @tracked
    async def press(self, interaction: discord.Interaction[Any], action: str) -> None:
        await interaction.response.defer()  # a component's: the message may be updated
        actor = self._actor(interaction.user, interaction.guild_id)
        reply = await boundary(
            "discord",
            lambda: self.study.button(actor, action),
            kind="button",
            member=actor.user,
            channel=str(interaction.channel_id),
            action=action,
            metrics=self.metrics,
        )
        await replies.after_press(interaction, reply)

    @tracked
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or not isinstance(message.channel, discord.Thread):
            return
        guild_id = message.guild.id if message.guild else None
        place = await self._place_of(message.channel.id, guild_id)
        if place is None:
            return
        actor = self._actor(message.author, guild_id)
        if not message.content and not self.client.intents.message_content:
            if message.channel.id not in self._hinted:
                self._hinted.add(message.channel.id)
                await self.chat.say(str(message.channel.id), NO_CONTENT_HINT)
            return
        reply = await boundary(
            "discord",
            lambda: self.study.message(actor, place, str(message.id), message.content),
            kind="answer",
            member=actor.user,
            channel=place.channel,
            action="message",
            metrics=self.metrics,
        )
        if reply.react:
            await self.chat.react(
                Target("discord", place.workspace, place.channel, place.thread),
                str(message.id),
                reply.react,
            )

    @tracked
    async def on_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        author = payload.data.get("author") or {}
        if content is None or author.get("bot"):
            return
        place = await self._place_of(payload.channel_id, payload.guild_id)
        if place is not None and place.thread is not None:
            await self.study.message_edited(place, str(payload.message_id), content)

    @tracked
    async def on_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        place = await self._place_of(payload.channel_id, payload.guild_id)
        if place is not None and place.thread is not None:
            await self.study.message_deleted(place, str(payload.message_id))

    @tracked
    async def on_reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        me = self.client.user
        if me is not None and payload.user_id == me.id:
            return
        if payload.member is not None and payload.member.bot:
            return
        place = await self._place_of(payload.channel_id, payload.guild_id)
        if place is None or payload.emoji.name is None:
            return
        user = payload.member or await self.client.fetch_user(payload.user_id)
        if user.bot:
            return
        actor = self._actor(user, payload.guild_id)
        on_bot = payload.message_author_id == (me.id if me else None)
        name = emoji.name_of(payload.emoji.name)

        async def react() -> Reply:
            for wait in (*NOT_YET_WAITS, None):
                try:
                    return await self.study.reaction(
                        actor,
                        Place(place.platform, place.workspace, place.channel),
                        str(payload.message_id),
                        name,
                        added=added,
                        on_bot_message=on_bot,
                    )
                except NotYet:
                    if wait is None:
                        raise  # the boundary logs what the member would have been told
                    await asyncio.sleep(wait)  # the reveal is being recorded: in a moment
            raise AssertionError("unreachable")

        await boundary(  # Discord has no private reply to a reaction: the log tells
            "discord",
            react,
            kind="reaction",
            member=actor.user,
            channel=place.channel,
            action="add" if added else "remove",
            metrics=self.metrics,
        )

    @tracked
    async def on_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        me = self.client.user
        await self.threads.on_update(payload, me.id if me else None)
