"""Waking windows on study days: when a DM may go out, and expiry counted in waking time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.schedule import zone
from bot.core.waking import Waking, next_local_day, study_days

BERLIN = zone("Europe/Berlin")
WEEKDAYS = Waking(time(9), time(21), frozenset(range(5)))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """December 2026 in Berlin (UTC+1): the 7th is a Monday."""
    return datetime(2026, 12, day, hour - 1, minute, tzinfo=UTC)


def test_open_only_inside_waking_hours_on_study_days() -> None:
    assert WEEKDAYS.is_open(at(7, 9), BERLIN)
    assert not WEEKDAYS.is_open(at(7, 8, 59), BERLIN)
    assert not WEEKDAYS.is_open(at(7, 21), BERLIN)
    assert not WEEKDAYS.is_open(at(12, 12), BERLIN)  # a Saturday


def test_next_open_skips_the_night_and_the_weekend() -> None:
    assert WEEKDAYS.next_open(at(7, 22), BERLIN) == at(8, 9)
    assert WEEKDAYS.next_open(at(11, 20, 30), BERLIN) == at(11, 20, 30)
    assert WEEKDAYS.next_open(at(11, 21), BERLIN) == at(14, 9)  # Friday night -> Monday


def test_expiry_counts_only_waking_time() -> None:
    # Sent Monday 20:00: one hour that evening, twelve on Tuesday, eleven on Wednesday.
    assert WEEKDAYS.add(at(7, 20), timedelta(hours=24), BERLIN) == at(9, 20)
    # Sent Friday 10:00: 11 h Friday, then Monday 12 h, then 1 h on Tuesday.
    assert WEEKDAYS.add(at(11, 10), timedelta(hours=24), BERLIN) == at(15, 10)


def test_a_window_past_midnight_belongs_to_the_day_it_opens() -> None:
    night = Waking(time(22), time(6), frozenset({0}))  # Monday night only
    assert night.is_open(at(8, 2), BERLIN)  # 02:00 Tuesday is Monday's night
    assert not night.is_open(at(9, 2), BERLIN)


def test_study_days_default_to_the_channel() -> None:
    assert study_days(frozenset({0, 2}), frozenset(range(5))) == {0, 2}
    assert study_days(None, frozenset({1})) == {1}
    assert study_days(None, None) == frozenset(range(7))


def test_next_local_day_is_local_midnight() -> None:
    assert next_local_day(at(7, 23, 30), BERLIN) == datetime(2026, 12, 7, 23, tzinfo=UTC)


@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    hours=st.floats(min_value=0.5, max_value=60),
    days=st.sets(st.integers(0, 6), min_size=1),
    tz=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"]),
)
def test_expiry_is_in_a_window_and_never_before_the_span(
    start: datetime, hours: float, days: set[int], tz: str
) -> None:
    waking = Waking(time(9), time(21), frozenset(days))
    span = timedelta(hours=hours)
    end = waking.add(start, span, zone(tz))
    assert end - start >= span
    # The deadline itself lies in (or at the close of) a waking window.
    tick = timedelta(microseconds=1)
    assert waking.is_open(end, zone(tz)) or waking.is_open(end - tick, zone(tz))
    assert waking.next_open(start, zone(tz)) <= end
