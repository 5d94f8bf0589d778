"""Refusals that say what to type (issue 13): quiz topics and counts, /study answer where
nothing studies, and the console's /edit and button numbers."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.render import Printer
from bot.core.replies import Visibility
from bot.core.srs import Srs
from bot.decks import DeckLibrary
from bot.ports.chat import Chats
from bot.services.base import Deps
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import TEST_CONTENT, World
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import is_error, run, text_of

BUNDLED = Path(__file__).parents[2] / "content"


async def topics_listed(study: StudyBot, world: World) -> list[str]:
    listing = await run(study, world.bob, world.channel, "/study topics")
    return [line.split(" (")[0] for line in listing.messages[0].lines]


@pytest.mark.parametrize(
    "setup", ["", "topics=alpha,beta", "levels=mid", "topics=gamma levels=lead"]
)
async def test_quiz_takes_exactly_the_topics_study_topics_lists(
    study: StudyBot, world: World, setup: str
) -> None:
    await run(study, world.admin, world.channel, f"/study setup {setup}")
    listed = await topics_listed(study, world)
    assert listed
    for topic in ("alpha", "beta", "gamma"):
        reply = await run(study, world.bob, world.channel, f"/quiz {topic.upper()} 1")
        assert is_error(reply) == (topic not in listed), (topic, text_of(reply))


async def test_a_topic_the_channel_leaves_out_is_named_with_the_filter(
    study: StudyBot, world: World
) -> None:
    await run(study, world.admin, world.channel, "/study setup topics=alpha,beta")
    reply = await run(study, world.bob, world.channel, "/quiz gamma")
    assert text_of(reply) == (
        "This channel does not study 'gamma' (its settings: topics=alpha,beta)."
        " Topics here: alpha, beta."
    )
    assert reply.visibility == Visibility.PRIVATE


async def test_an_unknown_topic_lists_the_valid_ones_and_a_near_one(
    study: StudyBot, world: World
) -> None:
    reply = await run(study, world.bob, world.channel, "/quiz alpah")
    assert text_of(reply) == (
        "Unknown topic 'alpah'. Did you mean alpha? Topics here: alpha, beta, gamma."
    )


async def test_a_word_where_the_count_goes_is_refused_as_the_count(
    study: StudyBot, world: World
) -> None:
    reply = await run(study, world.bob, world.channel, "/quiz alpha three")
    assert text_of(reply) == (
        "Count must be a whole number from 1 to 20 (digits 0-9), not 'three'."
        " Usage: /quiz [topic] [count]"
    )


@pytest.fixture
async def bundled(store: SqlStore, chat: FakeChat, clock: FakeClock, policy: Policy) -> StudyBot:
    chats = Chats()
    chats.add(chat)
    return StudyBot(Deps(store, chats, clock, DeckLibrary.load(BUNDLED), Srs(fuzz=False), policy))


async def test_bundled_topics_of_two_words_and_a_long_list_cut(
    bundled: StudyBot, world: World
) -> None:
    reply = await run(bundled, world.bob, world.channel, "/quiz cloud ops 2")
    assert text_of(reply).startswith("Quiz: 2 cards on cloud-ops.")
    leadership = await run(bundled, world.bob, world.channel, "/quiz leadership")
    assert text_of(leadership).startswith("Quiz: 5 cards on leadership.")
    unknown = text_of(await run(bundled, world.bob, world.channel, "/quiz cooking"))
    assert unknown.startswith("Unknown topic 'cooking'. Topics here: apis, architecture,")
    assert unknown.endswith(" and 4 more (/study topics lists them).")
    assert "testing" not in unknown  # the 16th of 16, cut


async def test_study_answer_where_nothing_studies_says_how_to_fix_it(
    study: StudyBot, world: World
) -> None:
    reply = await run(study, world.bob, world.channel, "/study answer it's the GIL")
    assert is_error(reply) and reply.visibility == Visibility.PRIVATE
    assert "does not study with me yet" in text_of(reply)
    assert "an admin runs /study setup" in text_of(reply)


# ---- the console --------------------------------------------------------------------------


class Typist:
    def __init__(self, adapter: ConsoleAdapter, out: io.StringIO, db: Path) -> None:
        self.adapter, self.out, self.db = adapter, out, db

    async def type(self, line: str) -> str:
        self.out.seek(0)
        self.out.truncate()
        await self.adapter.handle(line)
        return self.out.getvalue()

    def count(self, table: str) -> int:
        with sqlite3.connect(self.db) as conn:
            (n,) = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return int(n)


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Typist]:
    db = tmp_path / "console.db"
    store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
    chats = Chats()
    policy = Policy(defaults=default_channel_settings("UTC"), admins=frozenset())
    deps = Deps(store, chats, FakeClock(), DeckLibrary.load(TEST_CONTENT), Srs(fuzz=False), policy)
    out = io.StringIO()
    adapter = ConsoleAdapter(StudyBot(deps), stdin=io.StringIO(""), printer=Printer(out))
    chats.add(adapter.chat)
    yield Typist(adapter, out, db)
    await store.close()


async def test_a_number_no_button_has_is_refused_and_records_nothing(console: Typist) -> None:
    await console.type("/study setup days=daily")
    await console.type("/study post-now")
    assert "[1] Show answer" in await console.type("/quiz 1")
    printed = await console.type("7")
    assert printed == (
        "  (error) No button 7 here; the only button is 1."
        " To answer with a number, type /study answer 7.\n"
    )
    assert console.count("answers") == 0
    await console.type("/quiz 1")
    assert "buttons are 1-2" in await console.type("3")
    assert console.count("answers") == 0
    assert "Answer recorded" in await console.type("/study answer 7")
    assert console.count("answers") == 1


async def test_a_number_before_any_button(console: Typist) -> None:
    printed = await console.type("4")
    assert "No button 4 here; no buttons are shown yet." in printed


async def test_edit_without_text_says_what_to_type(console: Typist) -> None:
    assert await console.type("/edit") == (
        "  (error) Usage: /edit NEW TEXT (replaces your last answer with NEW TEXT).\n"
    )
    assert "Usage: /delete" in await console.type("/delete everything")
    assert "no answer in this session" in await console.type("/edit better text")


async def test_a_plain_line_where_nothing_studies_says_how_to_start(console: Typist) -> None:
    printed = await console.type("the GIL")
    assert "#study does not study with me yet" in printed
    assert "an admin runs /study setup, then /study post-now" in printed
