"""The FSRS parameter history and the review log it is fitted from (tx.tuning)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import Grade
from bot.core.srs import DEFAULT_PARAMETERS
from bot.core.tuning import LoggedReview, dump_parameters, parse_parameters
from bot.ports.tuning import NewParameters
from bot.store.sql import SqlStore
from bot.store.tables import srs_parameters
from tests.dbtools import rows, sync_tx

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
FAST = (0.05, 0.3, 0.8, 3.0, *DEFAULT_PARAMETERS[4:])


def _row(deck: str, params: tuple[float, ...], *, adopted: bool) -> NewParameters:
    return NewParameters(
        platform="slack",
        workspace="T1",
        deck=deck,
        parameters=dump_parameters(params),
        desired_retention=0.75,
        reviews_used=1200,
        log_loss_current=0.43,
        log_loss_fitted=0.41 if adopted else None,
        adopted=adopted,
        reason="why",
    )


async def test_every_run_is_kept_and_adopted_rows_round_trip(store: SqlStore) -> None:
    assert await store.read(lambda tx: tx.tuning.last_run()) is None
    first = await store.write(lambda tx: tx.tuning.add(_row("py", FAST, adopted=True), T0))
    later = T0 + timedelta(days=7)
    second = await store.write(
        lambda tx: tx.tuning.add(_row("py", DEFAULT_PARAMETERS, adopted=False), later)
    )
    await store.write(lambda tx: tx.tuning.add(_row("sql", FAST, adopted=False), later))

    runs = await store.read(lambda tx: rows(tx, srs_parameters, deck="py"))
    assert [r["id"] for r in runs] == [first, second]
    newest = runs[1]
    assert newest["created_at"] == later and newest["created_at"].tzinfo is not None
    assert (newest["adopted"], newest["log_loss_fitted"], newest["reviews_used"]) == (
        False,
        None,
        1200,
    )
    (adopted,) = await store.read(lambda tx: tx.tuning.adopted())
    assert adopted.id == first
    assert adopted.created_at == T0 and adopted.created_at.tzinfo is not None
    assert parse_parameters(adopted.parameters) == FAST
    assert (adopted.log_loss_current, adopted.log_loss_fitted) == (0.43, 0.41)
    assert await store.read(lambda tx: tx.tuning.last_run()) == later


async def test_the_review_log_leaves_voided_reviews_out(store: SqlStore) -> None:
    with sync_tx(store) as tx:
        alice = tx.members.ensure("slack", "T1", "U1", "Alice", None, T0).id
        bob = tx.members.ensure("discord", "G1", "U1", "Bob", None, T0).id
        tx.reviews.log(alice, "py/a", Grade.GOOD, T0 + timedelta(days=1), "grade", "1")
        tx.reviews.log(alice, "py/a", Grade.AGAIN, T0, "grade", "2")
        tx.reviews.log(alice, "py/b", Grade.HARD, T0, "grade", "3")
        tx.reviews.void("grade", "3", T0)
        tx.reviews.log(bob, "sql/x", Grade.EASY, T0, "quiz", "4")
    grouped = await store.read(lambda tx: tx.tuning.review_log())
    assert grouped == {
        ("slack", "T1"): [
            LoggedReview(alice, "py/a", 1, T0),
            LoggedReview(alice, "py/a", 3, T0 + timedelta(days=1)),
        ],
        ("discord", "G1"): [LoggedReview(bob, "sql/x", 4, T0)],
    }
