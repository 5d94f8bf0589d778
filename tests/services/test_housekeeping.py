"""The hourly housekeeping job: redelivery ids and handled inbox rows do not grow without
end, and every table's size is a metric."""

from __future__ import annotations

from datetime import timedelta

from bot.decks import DeckLibrary
from bot.metrics import Metrics
from bot.scheduler.jobs import jobs
from bot.store.sql import SqlStore
from bot.store.tables import metadata
from tests.conftest import World, make_study
from tests.dbtools import sync_tx
from tests.fakes import FakeChat, FakeClock
from tests.services.helpers import run
from tests.services.test_followup_lifecycle import MONDAY, policy


async def test_old_event_ids_are_pruned_and_table_sizes_measured(
    store: SqlStore, chat: FakeChat, clock: FakeClock, library: DeckLibrary, world: World
) -> None:
    study = make_study(store, chat, clock, library, policy())
    metrics = Metrics()
    (housekeeping,) = [j for j in jobs(study, 60.0, metrics) if j.name == "housekeeping"]
    clock.set(MONDAY)
    await run(study, world.admin, world.channel, "/study setup")
    for day in range(10):  # one event id a day, for ten days
        at = MONDAY + timedelta(days=day)
        assert await store.write(lambda tx, at=at: tx.events.claim("slack", f"Ev{at:%d}", at))
    clock.set(MONDAY + timedelta(days=10, hours=-1))  # seven days back: day 3, less an hour
    await housekeeping.run()
    with sync_tx(store) as tx:
        kept = tx.conn.exec_driver_sql("SELECT event_id FROM processed_events").scalars().all()
    assert sorted(kept) == [f"Ev{(MONDAY + timedelta(days=d)):%d}" for d in range(3, 10)]
    assert await store.write(lambda tx: tx.events.claim("slack", "Ev09", clock.now())) is False

    def rows(table: str) -> float | None:
        return metrics.registry.get_sample_value("studybot_table_rows", {"table": table})

    assert rows("processed_events") == 7
    assert rows("channels") == 1
    assert {t.name for t in metadata.sorted_tables} <= {
        s.labels["table"] for s in metrics.table_rows.collect()[0].samples
    }
