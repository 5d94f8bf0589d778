"""/study export holds every row about the member; /study forget-me leaves none behind.

The export is checked against a dump of the database made here, table by table, from
the schema's foreign keys to ``members``: a table added later with a member reference
that the export missed fails the first test. Forget-me is checked the same way, and in
the bytes of the SQLite files themselves.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table, or_, select

from bot.core.actions import FORGET_CONFIRM
from bot.core.models import Actor
from bot.core.replies import Reply
from bot.services.study import StudyBot
from bot.store.export import MEMBER_COLUMNS, plain
from bot.store.sql import SqlStore
from bot.store.tables import members, metadata, streak_audit
from tests import dbtools
from tests.conftest import World
from tests.dbtools import sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import is_error, run, text_of
from tests.services.test_followup_lifecycle import forget_cards

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ADA = Actor("fake", "T1", "UADA7", "Ada Lovelace", is_admin=True)
LONG_ANSWER = ("Threads & <processes> share \"one\" GIL; 'asyncio' waits — ✓ " * 30)[:1533]


def referencing(table: Table) -> list[Any]:
    """The columns of ``table`` that hold a member id, read from the schema here."""
    return [
        c
        for c in table.columns
        if any(fk.column is members.c.id for fk in c.foreign_keys)
        or c.name in MEMBER_COLUMNS.get(table.name, ())
    ]


def dump(store: SqlStore, member_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that references ``member_id``, as JSON values."""
    found: dict[str, list[dict[str, Any]]] = {}
    with sync_tx(store) as tx:
        for table in metadata.sorted_tables:
            columns = referencing(table)
            if table is members or not columns:
                continue
            rows = tx.conn.execute(select(table).where(or_(*(c == member_id for c in columns))))
            found[table.name] = [{k: plain(v) for k, v in r._mapping.items()} for r in rows]
    return found


def all_text(store: SqlStore) -> str:
    """Every table, every row, as one text (what a search of the database would see)."""
    with sync_tx(store) as tx:
        return "\n".join(
            repr(tuple(row)) for t in metadata.sorted_tables for row in tx.conn.execute(select(t))
        )


async def a_week_of_study(study: StudyBot, world: World, chat: FakeChat, clock: FakeClock) -> int:
    """Ada sets the channel up; Alice answers (at length), grades, quizzes, gets follow-ups
    and a streak repair; Bob takes part too. Returns Alice's member id."""
    clock.set(MONDAY)
    await run(study, ADA, world.channel, "/study setup")
    await run(study, ADA, world.channel, "/study post-now")
    (post,) = chat.posts()
    place = world.thread(post.ref)
    await study.message(world.alice, place, "a1", LONG_ANSWER)
    await study.message(world.bob, place, "b1", "processes for CPU work")
    await run(study, ADA, world.channel, "/study reveal-now")
    (reveal,) = chat.posts("reveal")
    await study.reaction(world.alice, place, reveal.ref, "rocket", added=True)
    await forget_cards(study, world.alice, world, 2)  # a quiz, graded Again: due tomorrow
    await forget_cards(study, world.bob, world, 1)
    repaired = await run(study, ADA, world.channel, "/study streak Alice 5 Alice was ill")
    assert "now 5" in text_of(repaired)
    clock.set(MONDAY + timedelta(days=1))
    assert await study.followups.send_due() >= 1  # Alice's follow-up DMs
    await run(study, ADA, world.channel, "/study pause")
    with sync_tx(study.store) as tx:  # type: ignore[arg-type]
        alice = tx.members.find("fake", "T1", "U1")
        assert alice is not None
        return alice.id


def canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True)


def document(reply: Reply) -> dict[str, Any]:
    data = json.loads(str(reply.data["export"]))
    assert isinstance(data, dict)
    return data


async def test_the_export_holds_every_row_that_references_the_member(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    alice = await a_week_of_study(study, world, chat, clock)
    exported = document(await run(study, world.alice, world.channel, "/study export"))
    expected = dump(store, alice)
    for table in ("answers", "grades", "reviews", "card_states", "followups", "quiz_sessions"):
        assert expected[table], f"the scenario leaves no {table} row"
    for table in ("activity", "weekly_points", "streak_audit", "channel_members"):
        assert expected[table], f"the scenario leaves no {table} row"
    for table, rows in expected.items():
        assert sorted(map(canonical, exported["tables"].get(table, []))) == sorted(
            map(canonical, rows)
        ), table
    assert exported["member"]["user_ref"] == "U1" and exported["member"]["name"] == "Alice"
    # The channels and posts the rows point to come along, so the file reads on its own.
    assert [c["channel_ref"] for c in exported["context"]["channels"]] == ["C1"]
    assert exported["context"]["daily_posts"][0]["card_key"]


def test_every_member_reference_in_the_schema_is_a_known_one() -> None:
    """A column that looks like a member id but is neither a foreign key to members nor
    listed in ``MEMBER_COLUMNS`` would escape the export and the erasure."""
    suspicious = [
        f"{t.name}.{c.name}"
        for t in metadata.sorted_tables
        if t is not members
        for c in t.columns
        if ("member" in c.name or c.name.endswith("_by")) and c not in referencing(t)
        if c.info.get("references") != "instances"  # a claim's owner: a process, not a person
    ]
    assert suspicious == []


async def test_a_long_answer_survives_the_export_byte_for_byte(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock
) -> None:
    assert len(LONG_ANSWER) == 1533
    await a_week_of_study(study, world, chat, clock)
    reply = await run(study, world.alice, world.channel, "/study export")
    (answer,) = document(reply)["tables"]["answers"]
    assert answer["text"] == LONG_ANSWER
    assert LONG_ANSWER.replace('"', '\\"') in str(reply.data["export"])  # unescaped UTF-8
    assert str(reply.data["filename"]).endswith(".json")
    assert "No data" not in text_of(reply)


async def test_forget_me_leaves_no_row_naming_the_member(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    """Ada, the admin, is named in the streak audit (she repaired Alice's streak) and in
    the channel's pause reason; after her forget-me nothing names her, and Alice's rows,
    which only mention her, stay."""
    alice = await a_week_of_study(study, world, chat, clock)
    with sync_tx(store) as tx:
        ada = tx.members.find("fake", "T1", "UADA7")
        assert ada is not None
        ada_id = ada.id
    before = all_text(store)
    assert "Ada Lovelace" in before and "UADA7" in before
    await run(study, ADA, world.channel, "/study forget-me confirm")
    after = all_text(store)
    assert "Ada Lovelace" not in after and "UADA7" not in after
    assert all(rows == [] for rows in dump(store, ada_id).values())
    with sync_tx(store) as tx:
        (entry,) = dbtools.rows(tx, streak_audit, channel_id=1)
        assert entry["actor"] == "a former member" and entry["member_id"] == alice
        channel = tx.channels.get(1)
        assert channel is not None
        assert channel.pause_reason == "paused by a former member"
        assert channel.set_up_by is None
    assert dump(store, alice)["answers"]  # Alice keeps her data


async def test_forget_me_leaves_nothing_in_the_database_files(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    """Deleted rows are overwritten (``secure_delete``) and the write-ahead log is
    checkpointed and truncated: the bytes of both files no longer hold the answer."""
    await a_week_of_study(study, world, chat, clock)
    database = Path(store.url.split("///", 1)[1])
    wal = database.with_name(database.name + "-wal")
    marker = LONG_ANSWER[:60].encode()

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in (database, wal) if p.exists())

    assert marker in files()
    done = await run(study, world.alice, world.channel, "/study forget-me confirm")
    assert "deleted" in text_of(done)
    content = files()
    assert marker not in content
    assert b"Alice" not in content
    assert not wal.exists() or wal.stat().st_size == 0


async def test_a_replayed_confirm_press_deletes_nothing(
    study: StudyBot, world: World, chat: FakeChat, clock: FakeClock, store: SqlStore
) -> None:
    await a_week_of_study(study, world, chat, clock)
    warning = await run(study, world.alice, world.channel, "/study forget-me")
    assert "cannot be undone" in text_of(warning)
    (press,) = warning.messages[0].buttons
    assert press.action.startswith(FORGET_CONFIRM + ":")
    done = await study.button(world.alice, press.action)
    assert "deleted" in text_of(done) and done.replace  # the button goes with its message
    again = await study.button(world.alice, press.action)
    assert "Nothing to delete" in text_of(again)

    # Alice comes back later and studies; then the old press arrives once more.
    clock.advance(minutes=5)
    await forget_cards(study, world.alice, world, 1)
    exported = document(await run(study, world.alice, world.channel, "/study export"))
    replayed = await study.button(world.alice, press.action)
    assert "expired" in text_of(replayed) and "nothing was deleted" in text_of(replayed)
    legacy = await study.button(world.alice, FORGET_CONFIRM)  # a button of an older version
    assert "expired" in text_of(legacy)
    assert document(await run(study, world.alice, world.channel, "/study export")) | {
        "exported_at": None
    } == exported | {"exported_at": None}
    # Typing the confirmation still works, and a new button works once.
    fresh = await run(study, world.alice, world.channel, "/study forget-me")
    assert fresh.messages[0].buttons[0].action != press.action
    assert "deleted" in text_of(
        await run(study, world.alice, world.channel, "/study forget-me confirm")
    )
    with sync_tx(store) as tx:
        assert tx.members.find("fake", "T1", "U1") is None


async def test_a_member_without_data_has_nothing_to_export_or_delete(
    study: StudyBot, world: World
) -> None:
    assert "no data" in text_of(await run(study, world.bob, world.channel, "/study export"))
    reply = await run(study, world.bob, world.channel, "/study forget-me")
    assert "Nothing to delete" in text_of(reply) and not reply.messages[0].buttons
    confirmed = await run(study, world.bob, world.channel, "/study forget-me confirm")
    assert "Nothing to delete" in text_of(confirmed)
    assert not is_error(confirmed)
