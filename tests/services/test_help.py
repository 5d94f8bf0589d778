"""/study help: a list, no Markdown table, each command as the reader's platform types it."""

from __future__ import annotations

from bot.core.commands import QUIZ, STUDY, typed
from bot.core.models import Place
from bot.services.study import StudyBot
from tests.conftest import World
from tests.services.helpers import run


async def help_on(study: StudyBot, world: World, platform: str) -> dict[str, str]:
    place = Place(platform, "T1", "C1")
    (message,) = (await run(study, world.alice, place, "/study help")).messages
    assert not any(line.lstrip().startswith("|") for line in message.lines)  # no table
    assert "|---" not in message.plain_text()
    return dict(message.fields)


async def test_help_lists_every_command_as_slack_and_the_console_type_it(
    study: StudyBot, world: World
) -> None:
    fields = await help_on(study, world, "slack")
    assert set(fields) == {QUIZ.usage} | {s.usage for s in STUDY}
    assert "key=value" in " ".join(fields)
    assert fields["/study setup [key=value ...]"].endswith("(admins)")
    pause = next(v for k, v in fields.items() if k.startswith("/study pause"))
    assert "your own DMs: anyone" in pause  # members pause their own DMs
    assert "admins)" not in fields["/study streak [MEMBER N [reason]]"][-8:]


async def test_help_on_discord_names_typed_options_not_key_value(
    study: StudyBot, world: World
) -> None:
    fields = await help_on(study, world, "discord")
    usages = " ".join(fields)
    assert "=" not in usages  # Discord has no key=value text
    setup = next(k for k in fields if " setup" in k)
    assert setup.startswith("/study-admin setup [time:…] [tz:…]")
    assert "/study forget-me [confirm:True]" in fields
    assert "/quiz [topic:…] [count:…]" in fields


def test_a_typed_command_hint_matches_the_platform() -> None:
    assert typed("slack", "post-now", "confirm") == "/study post-now confirm"
    assert typed("console", "setup", tz="Europe/Berlin") == "/study setup tz=Europe/Berlin"
    assert typed("discord", "post-now", "confirm") == "/study-admin post-now confirm:True"
    assert typed("discord", "streak") == "/study streak"
