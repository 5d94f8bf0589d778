"""Every command exists on every platform, or has a written reason not to."""

from __future__ import annotations

from pathlib import Path

import discord
from discord import app_commands

from bot.adapters.discord import commands as discord_commands
from bot.core.commands import STUDY, parse, parse_line
from bot.services.study import StudyBot

ROOT = Path(__file__).parent.parent


def discord_tree() -> dict[str, set[str]]:
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    discord_commands.build(tree)
    found: dict[str, set[str]] = {}
    for command in tree.get_commands():
        if isinstance(command, app_commands.Group):
            found[command.name] = {c.name for c in command.commands}
        else:
            found[command.name] = set()
    return found


def test_discord_has_every_subcommand() -> None:
    tree = discord_tree()
    assert set(tree) == {"study", "study-admin", "quiz"}
    assert tree["study"] | tree["study-admin"] == {s.name for s in STUDY}
    assert tree["study-admin"] == {s.name for s in STUDY if s.admin_only}
    assert tree["study"] & tree["study-admin"] == set()


def test_discord_offers_admin_only_subcommands_to_admins_only() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    discord_commands.build(tree)
    groups = {c.name: c for c in tree.get_commands()}
    admin = groups["study-admin"]
    assert admin.default_permissions == discord.Permissions(manage_guild=True)
    assert groups["study"].default_permissions is None  # members' commands stay visible


def test_text_platforms_parse_every_subcommand() -> None:
    # Slack and the console hand the text after /study to the same parser.
    for sub in STUDY:
        assert parse("study", sub.name).sub == sub.name
        line = parse_line(f"/study {sub.name}")
        assert line is not None and line.sub == sub.name
    assert parse("quiz", "").name == "quiz"


def test_discord_string_options_are_bounded() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    discord_commands.build(tree)
    for command in tree.walk_commands():
        if isinstance(command, app_commands.Command):
            for param in command.parameters:
                if param.type == discord.AppCommandOptionType.string:
                    assert param.max_value is not None, f"{command.qualified_name} {param.name}"


def test_readme_invite_uses_the_least_permissions() -> None:
    needed = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        create_public_threads=True,
        embed_links=True,
        add_reactions=True,
        read_message_history=True,
    )
    readme = (ROOT / "README.md").read_text()
    assert f"permissions={needed.value}" in readme
    assert "scope=bot+applications.commands" in readme


async def test_every_subcommand_has_a_route_in_the_service(study: StudyBot) -> None:
    assert set(study.routes) == {s.name for s in STUDY}


def test_discord_options_are_the_command_data() -> None:
    """Each typed option on Discord is an ``Option`` of bot/core/commands.py, described,
    with its bounds: adding an option or a subcommand there is all it takes."""
    from bot.core.commands import QUIZ

    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    discord_commands.build(tree)
    specs = {f"study {s.name}": s for s in STUDY}
    specs |= {f"study-admin {s.name}": s for s in STUDY} | {"quiz": QUIZ}
    for command in tree.walk_commands():
        if not isinstance(command, app_commands.Command):
            continue
        spec = specs[command.qualified_name]
        assert command.description and command.description != "…"
        params = {p.name: p for p in command.parameters}
        assert set(params) == {o.name for o in spec.options}, command.qualified_name
        for option in spec.options:
            param = params[option.name]
            assert param.description == option.description
            assert param.required == option.required
            if option.kind in ("text", "int"):
                assert param.max_value == option.high
            assert bool(param.autocomplete) == (option.suggest is not None)
