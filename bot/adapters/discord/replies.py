"""Answering an interaction: defer at once, then send the reply with the right visibility.

Discord needs an answer within 3 seconds, before the services have decided anything,
and a deferral fixes the visibility of the first followup (it edits the "thinking"
message, whose ephemeral state cannot change). So in a server every interaction is
deferred ephemeral: a refusal or a bad value stays with the member who asked. A reply
meant for the channel then goes out as further followups, which are public; the member
keeps a short private note in place of the thinking message. In a DM there is no one
else to hide from, and nothing is ephemeral.
"""

from __future__ import annotations

import io
from typing import Any

import discord

from bot.adapters.discord import render
from bot.adapters.discord.buttons import view_for
from bot.core.replies import Message, Reply, Visibility


async def defer(interaction: discord.Interaction[Any]) -> bool:
    """Acknowledge now; True if the deferral is ephemeral (in a server)."""
    ephemeral = interaction.guild_id is not None
    await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    return ephemeral


def _export(reply: Reply) -> list[discord.File]:
    """An export as one JSON attachment (on the last followup: ephemeral in a server)."""
    export = reply.data.get("export")
    if not isinstance(export, str):
        return []
    filename = str(reply.data.get("filename") or "studybot-export.json")
    return [discord.File(io.BytesIO(export.encode()), filename=filename)]


async def after_press(interaction: discord.Interaction[Any], reply: Reply) -> None:
    """The reply to a button, after a component deferral (type 6: no "thinking" message).

    ``reply.replace``: its first message becomes the message the button was on (with that
    message's buttons, or none); everything else goes out as followups, private in a
    server unless the reply is for the channel.
    """
    messages = list(reply.messages)
    if reply.replace and messages:
        first = messages.pop(0)
        await interaction.edit_original_response(embed=render.embed(first), view=view_for(first))
    private = interaction.guild_id is not None and reply.visibility != Visibility.CHANNEL
    for message in messages:
        kwargs: dict[str, Any] = {"embed": render.embed(message), "ephemeral": private}
        view = view_for(message)
        if view is not None:
            kwargs["view"] = view
        await interaction.followup.send(**kwargs)


async def send(interaction: discord.Interaction[Any], reply: Reply, *, ephemeral: bool) -> None:
    """Send ``reply`` after a deferral (``ephemeral`` says which kind it was)."""
    messages = list(reply.messages) or [Message(lines=("Done.",))]
    public = reply.visibility == Visibility.CHANNEL
    if ephemeral and public:
        note = Message(lines=(render.SHOWN_TO_CHANNEL,))
        await interaction.followup.send(embed=render.embed(note), ephemeral=True)
    files = _export(reply)
    for index, message in enumerate(messages):
        kwargs: dict[str, Any] = {
            "embed": render.embed(message),
            "ephemeral": ephemeral and not public,
        }
        view = view_for(message)
        if view is not None:
            kwargs["view"] = view
        if files and index == len(messages) - 1:
            kwargs["files"] = files
        await interaction.followup.send(**kwargs)
