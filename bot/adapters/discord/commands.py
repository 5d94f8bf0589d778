"""The app commands, generated from the command data in ``bot/core/commands.py``.

Every ``/study`` subcommand and ``/quiz`` is built from its ``Subcommand``: one typed
option per ``Option`` (bounded strings and integers, booleans, a member picker), its
description, autocomplete where the option suggests values. A click runs the same
``Command`` the text platforms parse (``from_options``), so a subcommand added to
``STUDY`` appears here by itself (``tests/test_parity.py`` checks it).

Discord sets default member permissions per top-level command, so the subcommands only
admins can use (setup, post-now, reveal-now, skip) live in ``/study-admin``, which Discord
shows only to members with Manage Server (server admins can change that under
Integrations); the bot checks rights itself as well (Manage Server, or a user id in
``STUDYBOT_ADMINS``). Everything else is ``/study``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.core.commands import (
    DISCORD_ADMIN_GROUP,
    QUIZ,
    STUDY,
    Option,
    Subcommand,
    Suggest,
    from_options,
)

if TYPE_CHECKING:
    from bot.adapters.discord.client import StudyClient

DESCRIPTION_MAX = 100  # Discord's limit for command and option descriptions
Suggester = Callable[
    [discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]
]


def _choices(values: list[str], current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=v, value=v) for v in values if current.lower() in v][:25]


async def _topics(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    client: StudyClient = interaction.client
    return _choices(sorted(client.adapter.study.decks.topics()), current)


async def _decks(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    client: StudyClient = interaction.client
    return _choices(sorted(client.adapter.study.decks.decks), current)


SUGGESTERS: dict[Suggest, Suggester] = {"topics": _topics, "decks": _decks}


def _annotation(option: Option) -> Any:
    if option.kind == "bool":
        return bool
    if option.kind == "member":
        return discord.Member
    if option.kind == "int":
        return app_commands.Range[int, option.low or 0, option.high or 2**31 - 1]
    return app_commands.Range[str, 1, option.high or DESCRIPTION_MAX]


def _default(option: Option) -> Any:
    if option.required:
        return inspect.Parameter.empty
    if option.kind == "bool":
        return False
    return option.default


def _value(option: Option, value: Any) -> Any:
    """A typed value as the text form has it (a member as their id)."""
    if option.kind == "member" and value is not None:
        return str(value.id)
    return value


def _description(spec: Subcommand) -> str:
    text = spec.summary[:1].upper() + spec.summary[1:] + (" (admin)" if spec.admin else "")
    return text[:DESCRIPTION_MAX]


def command_for(spec: Subcommand) -> app_commands.Command[Any, ..., None]:
    """One app command: its callback's signature is made from the spec's options."""

    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        typed = {o.name: _value(o, values.get(o.name)) for o in spec.options}
        client: StudyClient = interaction.client
        await client.adapter.command(interaction, from_options(spec, typed))

    first = inspect.Parameter(
        "interaction",
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        annotation=discord.Interaction,
    )
    params = [first] + [
        inspect.Parameter(
            o.name,
            inspect.Parameter.KEYWORD_ONLY,
            default=_default(o),
            annotation=_annotation(o),
        )
        for o in sorted(spec.options, key=lambda o: not o.required)  # required ones first
    ]
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    described = app_commands.describe(
        **{o.name: o.description[:DESCRIPTION_MAX] for o in spec.options}
    )(callback)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=spec.name, description=_description(spec), callback=described
    )
    for option in spec.options:
        if option.suggest is not None:
            command.autocomplete(option.name)(SUGGESTERS[option.suggest])
    return command


def build(tree: app_commands.CommandTree[Any]) -> app_commands.Group:
    study = app_commands.Group(name="study", description="Daily study: streaks, stats, setup")
    admin = app_commands.Group(
        name=DISCORD_ADMIN_GROUP,  # the help text names it too
        description="Set up and run this channel's daily question (admins)",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )
    for spec in STUDY:
        (admin if spec.admin_only else study).add_command(command_for(spec))
    tree.add_command(study)
    tree.add_command(admin)
    tree.add_command(command_for(QUIZ))
    return study
