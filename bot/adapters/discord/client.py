"""The Discord adapter: a ``discord.Client`` that translates events into ``StudyBot`` calls.

Answers are messages in a daily post's thread; edits and deletes arrive as raw events
(they work for messages not in the cache); grades are raw reaction events on the
reveal, so they also work after a restart. Commands defer at once (inside Discord's
3 seconds), then run. The bot's own and other bots' messages and reactions are ignored.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import discord
import structlog
from discord import app_commands

from bot.adapters.base import LogsInteractions
from bot.adapters.discord import commands, render
from bot.adapters.discord.buttons import ActionButton, view_for
from bot.adapters.discord.chat import DiscordChat
from bot.core import emoji
from bot.core.commands import Command
from bot.core.models import Actor, Place, Target
from bot.core.replies import Message, Reply, Visibility
from bot.metrics import Metrics
from bot.services.inflight import tracked
from bot.services.study import StudyBot

log = structlog.get_logger("studybot.discord")
PUBLIC = frozenset({"setup", "pause", "resume", "skip"})
MEMBERS = "users"


class StudyClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter, *, intents: discord.Intents) -> None:
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.adapter = adapter
        self.tree: app_commands.CommandTree[StudyClient] = app_commands.CommandTree(self)
        commands.build(self.tree)

    async def setup_hook(self) -> None:
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
    ) -> None:
        self.study = study
        self.metrics = metrics
        self.dev_guild = dev_guild
        self._token = token
        self._admins = admins
        self.ready = asyncio.Event()
        intents = discord.Intents.default()
        intents.message_content = message_content
        self.client = StudyClient(self, intents=intents)
        self.chat = DiscordChat(self.client)
        self._hinted: set[int] = set()

    def connected(self) -> bool:
        return self.ready.is_set() and not self.client.is_closed()

    async def run(self, stop: asyncio.Event) -> None:
        async with self.client:
            try:
                runner = asyncio.create_task(self._start())
                stopper = asyncio.create_task(stop.wait())
                await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if runner.done() and runner.exception() is not None:
                    raise runner.exception()  # type: ignore[misc]
            finally:
                stopper.cancel()
                await self.client.close()
                runner.cancel()

    async def _start(self) -> None:
        try:
            await self.client.start(self._token)
        except discord.PrivilegedIntentsRequired:
            log.warning(
                "discord_message_content_missing",
                hint="enable the Message Content intent in the developer portal; until "
                "then members answer with /study answer",
            )
            intents = self.client.intents
            intents.message_content = False
            self.client = StudyClient(self, intents=intents)
            self.chat.client = self.client
            await self.client.start(self._token)

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

    @tracked
    async def command(self, interaction: discord.Interaction[Any], command: Command) -> None:
        started = time.perf_counter()
        public = command.sub in PUBLIC or (command.sub == "streak" and bool(command.args))
        await interaction.response.defer(ephemeral=not public, thinking=True)
        if self.metrics is not None:
            self.metrics.ack_latency.labels("discord").observe(time.perf_counter() - started)
        admin = bool(interaction.permissions.manage_guild) if interaction.guild_id else False
        actor = self._actor(interaction.user, interaction.guild_id, admin=admin)
        place = Place(
            "discord",
            str(interaction.guild_id or "dm"),
            str(interaction.channel_id),
            is_dm=interaction.guild_id is None,
        )
        if isinstance(interaction.channel, discord.Thread) and interaction.channel.parent_id:
            place = Place(
                "discord",
                place.workspace,
                str(interaction.channel.parent_id),
                str(interaction.channel_id),
            )
        reply = await self.study.command(actor, place, command)
        await self._followups(interaction, reply)
        self._log(
            "command",
            actor.user,
            place.channel,
            f"{command.name}:{command.sub or ''}",
            reply,
            started,
        )

    @tracked
    async def press(self, interaction: discord.Interaction[Any], action: str) -> None:
        started = time.perf_counter()
        await interaction.response.defer(ephemeral=interaction.guild_id is not None, thinking=True)
        actor = self._actor(interaction.user, interaction.guild_id)
        reply = await self.study.button(actor, action)
        await self._followups(interaction, reply)
        self._log("button", actor.user, str(interaction.channel_id), action, reply, started)

    async def _followups(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        messages = list(reply.messages) or [Message(lines=("Done.",))]
        export = reply.data.get("export")
        files = []
        if isinstance(export, str):
            import io

            files = [discord.File(io.BytesIO(export.encode()), filename="studybot-export.json")]
        ephemeral = reply.visibility != Visibility.CHANNEL and interaction.guild_id is not None
        for index, message in enumerate(messages):
            view = view_for(message)
            kwargs: dict[str, Any] = {"embed": render.embed(message), "ephemeral": ephemeral}
            if view is not None:
                kwargs["view"] = view
            if files and index == len(messages) - 1:
                kwargs["files"] = files
            await interaction.followup.send(**kwargs)

    @tracked
    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or not isinstance(message.channel, discord.Thread):
            return
        started = time.perf_counter()
        place = await self._place_of(
            message.channel.id, message.guild.id if message.guild else None
        )
        if place is None:
            return
        actor = self._actor(message.author, message.guild.id if message.guild else None)
        if not message.content and not self.client.intents.message_content:
            if message.channel.id not in self._hinted:
                self._hinted.add(message.channel.id)
                await message.channel.send(
                    "I cannot read thread messages on this server yet; answer with `/study answer`."
                )
            return
        reply = await self.study.message(actor, place, str(message.id), message.content)
        if reply.react:
            await self.chat.react(
                Target("discord", place.workspace, place.channel, place.thread),
                str(message.id),
                reply.react,
            )
        self._log("answer", actor.user, place.channel, "message", reply, started)

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
        started = time.perf_counter()
        place = await self._place_of(payload.channel_id, payload.guild_id)
        if place is None or payload.emoji.name is None:
            return
        user = payload.member or await self.client.fetch_user(payload.user_id)
        if user.bot:
            return
        actor = self._actor(user, payload.guild_id)
        on_bot = payload.message_author_id == (me.id if me else None)
        reply = await self.study.reaction(
            actor,
            Place(place.platform, place.workspace, place.channel),
            str(payload.message_id),
            emoji.name_of(payload.emoji.name),
            added=added,
            on_bot_message=on_bot,
        )
        self._log(
            "reaction", actor.user, place.channel, "add" if added else "remove", reply, started
        )
