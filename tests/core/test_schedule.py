from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import InvalidInput
from bot.core.models import ChannelSettings, RevealRule
from bot.core.schedule import (
    local_date,
    local_instant,
    next_leaderboard_at,
    next_post_at,
    parse_days,
    parse_reveal,
    parse_time,
    reveal_due,
    week_start,
    zone,
)

WEEKDAYS = frozenset(range(5))


def settings(
    tz: str, at: time, days: frozenset[int] = WEEKDAYS, reveal: str = "+6h"
) -> ChannelSettings:
    return ChannelSettings(tz=tz, post_time=at, days=days, reveal=parse_reveal(reveal))


def test_spring_forward_gap_moves_the_post_to_after_the_gap() -> None:
    # New York skips 02:00-03:00 on 2025-03-09 (a Sunday): 02:30 does not exist.
    s = settings("America/New_York", time(2, 30), frozenset(range(7)))
    after = datetime(2025, 3, 9, 5, 0, tzinfo=UTC)  # Sat 23:00 local... 00:00 EST
    instant = next_post_at(s, after)
    local = instant.astimezone(ZoneInfo("America/New_York"))
    assert local.date() == date(2025, 3, 9)
    assert (local.hour, local.minute) == (3, 30)
    assert local.utcoffset() == timedelta(hours=-4)


def test_fall_back_posts_once_at_the_first_occurrence() -> None:
    # 01:30 happens twice in New York on 2025-11-02.
    tz = ZoneInfo("America/New_York")
    s = settings("America/New_York", time(1, 30), frozenset(range(7)))
    first = next_post_at(s, datetime(2025, 11, 2, 4, 0, tzinfo=UTC))
    assert first == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = next_post_at(s, first)
    assert second.astimezone(tz).date() == date(2025, 11, 3)  # not 01:30 EST the same day


@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        # Lord Howe: +10:30 in winter, +11 in summer (a 30-minute shift, first Sunday of Oct).
        ("Australia/Lord_Howe", date(2025, 10, 6), datetime(2025, 10, 5, 22, 30, tzinfo=UTC)),
        ("Australia/Lord_Howe", date(2025, 7, 7), datetime(2025, 7, 6, 23, 0, tzinfo=UTC)),
        # Kolkata: +05:30 all year.
        ("Asia/Kolkata", date(2025, 3, 10), datetime(2025, 3, 10, 4, 0, tzinfo=UTC)),
        ("Pacific/Chatham", date(2025, 1, 6), datetime(2025, 1, 5, 19, 45, tzinfo=UTC)),
    ],
)
def test_half_hour_and_odd_zones(tz: str, day: date, expected_utc: datetime) -> None:
    instant = local_instant(day, time(9, 30), zone(tz))
    assert instant == expected_utc
    assert local_date(instant, zone(tz)) == day


def test_lord_howe_dst_day_still_posts_once() -> None:
    # Lord Howe moves 02:00 -> 02:30 on 2025-10-05: 02:15 does not exist that day.
    s = settings("Australia/Lord_Howe", time(2, 15), frozenset(range(7)))
    tz = zone("Australia/Lord_Howe")
    days = []
    when = datetime(2025, 10, 3, 0, 0, tzinfo=UTC)
    for _ in range(4):
        when = next_post_at(s, when)
        days.append(when.astimezone(tz).date())
    assert days == sorted(set(days))
    assert date(2025, 10, 5) in days


def test_off_days_are_skipped() -> None:
    s = settings("Europe/Berlin", time(9, 30))
    friday_after_post = datetime(2025, 3, 7, 9, 0, tzinfo=UTC)
    nxt = next_post_at(s, friday_after_post)
    assert nxt.astimezone(zone("Europe/Berlin")).weekday() == 0  # Monday


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    st.sampled_from(
        [
            "America/New_York",
            "Europe/London",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "Pacific/Chatham",
            "America/Santiago",
        ]
    ),
    st.frozensets(st.integers(0, 6), min_size=1),
    st.times(),
)
def test_next_post_is_after_on_an_allowed_day_and_one_per_date(
    naive: datetime, tz: str, days: frozenset[int], at: time
) -> None:
    s = settings(tz, at.replace(second=0, microsecond=0), days)
    after = naive.replace(tzinfo=UTC)
    first = next_post_at(s, after)
    second = next_post_at(s, first)
    assert after < first < second
    assert local_date(first, zone(tz)).weekday() in days
    assert local_date(first, zone(tz)) < local_date(second, zone(tz))
    assert first - after <= timedelta(days=8)


def test_reveal_delay_and_clock_time() -> None:
    posted = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)  # 09:30 Berlin
    assert reveal_due(settings("Europe/Berlin", time(9, 30)), posted) == posted + timedelta(hours=6)
    at_three = settings("Europe/Berlin", time(9, 30), reveal="15:00")
    assert reveal_due(at_three, posted) == datetime(2025, 3, 3, 14, 0, tzinfo=UTC)
    late = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)  # 16:00 local, after 15:00
    assert reveal_due(at_three, late) == late + timedelta(hours=6)


def test_weekly_leaderboard_is_monday_0900_local() -> None:
    s = settings("Asia/Kolkata", time(9, 30))
    when = next_leaderboard_at(s, datetime(2025, 3, 5, 0, 0, tzinfo=UTC))
    local = when.astimezone(zone("Asia/Kolkata"))
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert week_start(local.date()) == local.date()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("sat-sun", {5, 6}),
        ("daily", set(range(7))),
        ("Tuesday", {1}),
    ],
)
def test_parse_days(text: str, expected: set[int]) -> None:
    assert parse_days(text) == expected


@pytest.mark.parametrize("text", ["fri-mon", "xyz", "mon,,fri", "", "mo", "mondays"])
def test_parse_days_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match="Invalid days"):
        parse_days(text)


@pytest.mark.parametrize("text", ["24:00", "9", "09:60", "ab:cd", "-1:00", "9:5"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(InvalidInput, match="Invalid time"):
        parse_time(text)


def test_parse_reveal() -> None:
    assert parse_reveal("+6h") == RevealRule(delay=timedelta(hours=6))
    assert parse_reveal("+1h30m") == RevealRule(delay=timedelta(minutes=90))
    assert parse_reveal("15:00") == RevealRule(at=time(15, 0))
    for bad in ("+0h", "+24h", "+", "3pm", "+6x"):
        with pytest.raises(InvalidInput, match="Invalid reveal"):
            parse_reveal(bad)


@pytest.mark.parametrize("name", ["Mars/Olympus", "", " Europe/Berlin", "../etc/passwd", "UTC+5"])
def test_unknown_zone(name: str) -> None:
    with pytest.raises(InvalidInput, match="Unknown timezone"):
        zone(name)
