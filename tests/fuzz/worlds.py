"""The running bots the end-to-end fuzz suites type into, and what they watch.

Hypothesis runs its examples synchronously, one after another, in one world: the
example functions drive an ``asyncio.Runner`` whose loop owns the store and the fake
Slack, so state (channels, posts, quizzes, members) builds up over a run as it does in
a real team.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from structlog.testing import capture_logs

from bot.adapters.base import APOLOGY
from bot.adapters.console.adapter import ConsoleAdapter
from bot.adapters.console.render import Printer
from bot.core.srs import Srs
from bot.decks import DeckLibrary
from bot.ports.chat import Chats
from bot.services.base import Deps
from bot.services.policy import Policy, default_channel_settings
from bot.services.study import StudyBot
from bot.store.sql import SqlStore
from tests.conftest import TEST_CONTENT
from tests.fakes import FakeClock

FAILURES = frozenset({"console_line_failed", "interaction_failed"})
"""Log events of the error boundaries: an input that produced one crashed a handler."""
WARM_UP = (
    "/study setup days=daily reveal=+2h",
    "/study post-now",
    "Threads share one interpreter; the GIL serialises bytecode.",
    "/as bob",
    "Processes sidestep the GIL.",
    "/quiz 2",
    "/as you",
)
"""A channel that studies, a posted question and two answers, so fuzzed lines reach
deep into the services instead of bouncing off "not set up"."""


class Snapshot:
    """Everything the store holds but the member directory (first contact adds a member,
    which is no change of anyone's data), read through a connection of its own."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        names = self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
        self._tables = [n for (n,) in names if n not in ("members", "alembic_version")]

    def take(self) -> dict[str, list[tuple[object, ...]]]:
        return {
            t: self._db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall()
            for t in self._tables
        }

    def close(self) -> None:
        self._db.close()


@dataclass
class Console:
    """The console adapter over the real services and an SQLite file."""

    store: SqlStore
    adapter: ConsoleAdapter
    out: io.StringIO
    clock: FakeClock
    snapshot: Snapshot
    lines: int = 0
    logs: list[MutableMapping[str, Any]] = field(default_factory=list)

    @classmethod
    async def open(cls, folder: Path) -> Console:
        path = folder / "fuzz.db"
        store = await SqlStore.open(f"sqlite+aiosqlite:///{path}")
        clock = FakeClock()
        chats = Chats()
        policy = Policy(defaults=default_channel_settings("Europe/Berlin"), admins=frozenset())
        deps = Deps(
            store=store,
            chats=chats,
            clock=clock,
            decks=DeckLibrary.load(TEST_CONTENT),
            srs=Srs(fuzz=False),
            policy=policy,
        )
        out = io.StringIO()
        adapter = ConsoleAdapter(StudyBot(deps), stdin=io.StringIO(""), printer=Printer(out))
        chats.add(adapter.chat)
        world = cls(store, adapter, out, clock, Snapshot(path))
        for line in WARM_UP:
            printed = await world.type(line)
            assert "(error)" not in printed, (line, printed)
        return world

    async def type(self, line: str) -> str:
        """Type one line; what the console printed for it."""
        self.out.seek(0)
        self.out.truncate()
        with capture_logs() as logs:
            await self.adapter.handle(line)
        self.logs = logs
        self.lines += 1
        return self.out.getvalue()

    def crashed(self, printed: str) -> bool:
        return APOLOGY in printed or any(e["event"] in FAILURES for e in self.logs)

    async def close(self) -> None:
        self.snapshot.close()
        await self.store.close()


SLACK_USERS = ("UADMIN", "U1", "U2")
SLACK_CHANNELS = ("C1", "C1", "C1", "D1", "C7")
"""The study channel (joined), a DM, and a channel the bot is not in."""


def block_kit_problems(body: dict[str, object]) -> list[str]:
    """Where a reply breaks Slack's documented Block Kit limits (PLATFORMS.md), which the
    fake Slack's ``response_url`` does not check itself."""
    blocks = body.get("blocks") or []
    assert isinstance(blocks, list)
    problems = [f"{len(blocks)} blocks"] if len(blocks) > 50 else []
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if len(text) > 3000:
            problems.append(f"a {block['type']} of {len(text)} characters")
        fields = block.get("fields") or []
        if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
            problems.append("fields over the limits")
        for element in block.get("elements") or []:
            label = (
                (element.get("text") or {}).get("text", "") if block["type"] == "actions" else ""
            )
            if len(label) > 75 or len(element.get("action_id", "")) > 255:
                problems.append(f"a button {label[:20]!r} over the limits")
    return problems
