"""The SrsBook: one scheduler per (platform, workspace, deck), shared per parameter set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import Grade
from bot.core.srs import DEFAULT_PARAMETERS, Srs
from bot.core.srsbook import SrsBook

FAST = (0.05, 0.3, 0.8, 3.0, *DEFAULT_PARAMETERS[4:])
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def test_keys_without_adopted_parameters_use_the_defaults() -> None:
    book = SrsBook(retention=0.9, fuzz=False)
    assert book.srs_for(("slack", "T1", "python")).parameters == DEFAULT_PARAMETERS
    assert book.srs_for(("slack", "T1", "python")) is book.default


def test_adopted_parameters_schedule_that_workspace_and_deck_only() -> None:
    book = SrsBook(retention=0.9, fuzz=False)
    book.install({("slack", "T1", "python"): FAST, ("slack", "T2", "sql"): list(FAST)})
    fitted = book.srs_for_card("slack", "T1", "python/p-001")
    assert fitted.parameters == FAST
    assert book.srs_for(("slack", "T2", "sql")) is fitted  # one Srs per parameter set
    assert book.srs_for(("slack", "T1", "sql")) is book.default
    good = [(Grade.GOOD, T0), (Grade.GOOD, T0 + timedelta(days=3))]
    # faster forgetting, shorter intervals
    assert fitted.replay(good, T0).due < book.default.replay(good, T0).due
    book.install({})
    assert book.srs_for(("slack", "T1", "python")) is book.default


def test_a_fixed_retention_is_used_for_every_parameter_set() -> None:
    book = SrsBook(retention=0.85, fuzz=False)
    book.install({("discord", "G1", "python"): FAST})
    choice = book.retention_for(("discord", "G1", "python"))
    assert (
        choice.value == 0.85 and book.srs_for(("discord", "G1", "python")).desired_retention == 0.85
    )


def test_auto_retention_follows_the_parameters() -> None:
    book = SrsBook(fuzz=False)
    assert book.default.desired_retention == book.retention_for(("x", "y", "z")).value
    assert "default parameters" in book.retention_for(("x", "y", "z")).reason
    book.install({("x", "y", "z"): FAST})
    assert "fitted parameters" in book.retention_for(("x", "y", "z")).reason


def test_a_book_around_one_srs_hands_it_out() -> None:
    srs = Srs(fuzz=False)
    book = SrsBook.around(srs)
    assert book.srs_for(("fake", "T1", "deck")) is srs
    assert book.retention_for(("fake", "T1", "deck")).value == 0.9
