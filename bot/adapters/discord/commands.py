"""The app commands: ``/quiz`` and the ``/study`` group, typed, with autocomplete.

Each subcommand turns its typed options into the same ``Command`` the text platforms
parse, so every platform runs one command set (``tests/test_parity.py`` checks it).
Discord can only set default member permissions on a whole top-level command, so
``/study`` stays open to everyone and the admin subcommands are checked on our side
(Manage Server, or a user id in ``STUDYBOT_ADMINS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.core.commands import QUIZ_MAX, QUIZ_MIN, Command

if TYPE_CHECKING:
    from bot.adapters.discord.client import StudyClient

TEXT = 100
Count = app_commands.Range[int, QUIZ_MIN, QUIZ_MAX]
Text = app_commands.Range[str, 1, TEXT]


async def _topics(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    client: StudyClient = interaction.client
    topics = sorted(client.adapter.study.decks.topics())
    return [app_commands.Choice(name=t, value=t) for t in topics if current.lower() in t][:25]


async def _decks(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    client: StudyClient = interaction.client
    decks = sorted(client.adapter.study.decks.decks)
    return [app_commands.Choice(name=d, value=d) for d in decks if current.lower() in d][:25]


def _run(interaction: discord.Interaction[Any], command: Command) -> Any:
    client: StudyClient = interaction.client
    return client.adapter.command(interaction, command)


def _simple(group: app_commands.Group, name: str, description: str) -> None:
    async def callback(interaction: discord.Interaction[Any]) -> None:
        await _run(interaction, Command("study", name))

    group.command(name=name, description=description)(callback)


def _toggle(name: str) -> Any:
    @app_commands.describe(
        followups="Your review DMs instead of the channel",
        catchups="Your DMs of questions you missed instead of the channel",
        days="With followups on resume: your study days, e.g. mon,wed,fri (or channel)",
    )
    async def toggle(
        interaction: discord.Interaction[Any],
        followups: bool = False,
        catchups: bool = False,
        days: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        args: tuple[str, ...] = ()
        if catchups:
            args = ("catchups",)
        elif followups:
            args = ("followups", *((f"days={days}",) if days else ()))
        await _run(interaction, Command("study", name, args))

    return toggle


def build(tree: app_commands.CommandTree[Any]) -> app_commands.Group:
    study = app_commands.Group(name="study", description="Daily study: streaks, stats, setup")
    for name, description in (
        ("help", "What the bot does and every command"),
        ("leaderboard", "This week's points so far"),
        ("stats", "Your streak, points, cards learned, retention, due"),
        ("topics", "The topics you can study"),
        ("status", "This channel's schedule and state"),
        ("export", "All your data as JSON"),
        ("post-now", "Post today's question now (admin)"),
        ("reveal-now", "Reveal the open question now (admin)"),
        ("skip", "Skip today's question (admin)"),
    ):
        _simple(study, name, description)

    @study.command(name="streak", description="Your streak; admins can repair a member's")
    @app_commands.describe(member="Repair this member's streak (admin)", days="The streak to set")
    async def streak(
        interaction: discord.Interaction[Any],
        member: discord.Member | None = None,
        days: app_commands.Range[int, 0, 10000] | None = None,
        reason: Text | None = None,
    ) -> None:
        args: tuple[str, ...] = ()
        if member is not None and days is not None:
            args = (str(member.id), str(days), *((reason,) if reason else ()))
        await _run(interaction, Command("study", "streak", args))

    @study.command(name="answer", description="Answer today's question without the thread")
    async def answer(
        interaction: discord.Interaction[Any], text: app_commands.Range[str, 1, 2000]
    ) -> None:
        await _run(interaction, Command("study", "answer", (), text))

    @study.command(name="forget-me", description="Delete all your data")
    async def forget_me(interaction: discord.Interaction[Any], confirm: bool = False) -> None:
        await _run(interaction, Command("study", "forget-me", ("confirm",) if confirm else ()))

    for name in ("pause", "resume"):
        study.command(
            name=name, description=f"{name.capitalize()} the channel (admin) or your DMs"
        )(_toggle(name))

    @study.command(name="setup", description="Enable and configure this channel (admin)")
    @app_commands.describe(
        time="Post time, HH:MM",
        tz="Timezone, Area/City",
        days="mon-fri or mon,wed,fri",
        reveal="HH:MM or +6h",
        decks="Comma list",
        topics="Comma list",
        levels="Comma list",
    )
    @app_commands.autocomplete(topics=_topics, decks=_decks)
    async def setup(
        interaction: discord.Interaction[Any],
        time: Text | None = None,
        tz: Text | None = None,
        days: Text | None = None,
        reveal: Text | None = None,
        decks: Text | None = None,
        topics: Text | None = None,
        levels: Text | None = None,
    ) -> None:
        given = {
            "time": time,
            "tz": tz,
            "days": days,
            "reveal": reveal,
            "decks": decks,
            "topics": topics,
            "levels": levels,
        }
        args = tuple(f"{k}={v}" for k, v in given.items() if v is not None)
        await _run(interaction, Command("study", "setup", args))

    @app_commands.command(name="quiz", description="Practice now")
    @app_commands.autocomplete(topic=_topics)
    async def quiz(
        interaction: discord.Interaction[Any], topic: Text | None = None, count: Count = 5
    ) -> None:
        args = (*((topic,) if topic else ()), str(count))
        await _run(interaction, Command("quiz", None, args))

    tree.add_command(study)
    tree.add_command(quiz)
    return study
