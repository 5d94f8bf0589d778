"""Buttons whose custom ids carry the whole action, so they work after a restart."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters.discord import render
from bot.core import actions
from bot.core.replies import Message

if TYPE_CHECKING:
    from bot.adapters.discord.client import StudyClient

ACTION = rf"(?P<action>(?:{'|'.join(actions.PREFIXES)}):[0-9a-z:]{{1,80}})"
"""Any of our action ids (``bot/core/actions``): the services decide what a click means."""


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ACTION):
    def __init__(
        self,
        action: str,
        label: str = "…",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=action))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ActionButton:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client: StudyClient = interaction.client
        await client.adapter.press(interaction, self.action)


def view_for(message: Message) -> discord.ui.View | None:
    if not message.buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in message.buttons[:25]:
        view.add_item(
            ActionButton(
                button.action,
                label=button.label[: render.BUTTON_LABEL_MAX],
                style=render.button_style(button.style),
            )
        )
    return view
