from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.models import Actor, Place
from bot.core.srs import Srs
from bot.decks import DeckLibrary
from bot.ports.chat import Chats
from bot.services.base import Deps
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.fakes import FakeChat, FakeClock

DATA = Path(__file__).parent / "data"
TEST_CONTENT = DATA / "content"


@pytest.fixture
def library() -> DeckLibrary:
    return DeckLibrary.load(TEST_CONTENT)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'studybot.db'}"


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[SqlStore]:
    opened = await SqlStore.open(db_url)
    yield opened
    await opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def chat() -> FakeChat:
    return FakeChat()


@pytest.fixture
def policy() -> Policy:
    return Policy(defaults=default_channel_settings("Europe/Berlin"), admins=frozenset({"admin"}))


def make_study(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> StudyBot:
    chats = Chats()
    chats.add(chat)
    deps = Deps(store, chats, clock, library, Srs(fuzz=False), policy)
    return StudyBot(deps)


@pytest.fixture
def study(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, policy: Policy
) -> StudyBot:
    return make_study(store, chat, clock, library, policy)


@dataclass(frozen=True)
class World:
    """Names for the people and places of a test."""

    channel: Place = Place("fake", "T1", "C1")
    admin: Actor = Actor("fake", "T1", "admin", "Ada")
    alice: Actor = Actor("fake", "T1", "U1", "Alice")
    bob: Actor = Actor("fake", "T1", "U2", "Bob")

    def thread(self, ref: str) -> Place:
        return Place(self.channel.platform, self.channel.workspace, self.channel.channel, ref)


@pytest.fixture
def world() -> World:
    return World()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The test PostgreSQL server (tests/pg.py) goes with the session."""
    from tests import pg

    pg.stop_server()
