from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.streaks import (
    MAX_FREEZES,
    StreakHistory,
    StreakState,
    advance,
    replay,
    shown,
)

MON = date(2025, 3, 3)
WEEKDAYS = frozenset(range(5))


def days(*offsets: int) -> frozenset[date]:
    return frozenset(MON + timedelta(days=o) for o in offsets)


def history(kept: frozenset[date], **kw: object) -> StreakHistory:
    return StreakHistory(start=MON, required_weekdays=WEEKDAYS, kept=kept, **kw)  # type: ignore[arg-type]


def test_kept_required_days_count_and_weekends_never_break() -> None:
    # Mon-Fri kept, weekend off, Mon kept: 6.
    state = replay(history(days(0, 1, 2, 3, 4, 7)), MON + timedelta(days=7))
    assert state.current == 6
    assert state.best == 6


def test_a_missed_required_day_resets_without_freezes() -> None:
    state = replay(history(days(0, 1, 3)), MON + timedelta(days=3))
    assert state.current == 1
    assert state.best == 2


def test_seven_kept_days_earn_a_freeze_that_a_miss_spends() -> None:
    kept = days(0, 1, 2, 3, 4, 7, 8)  # 7 kept required days
    state = replay(history(kept), MON + timedelta(days=8))
    assert (state.current, state.freezes) == (7, 1)
    after_miss = replay(history(kept), MON + timedelta(days=9))  # Wed missed
    assert (after_miss.current, after_miss.freezes) == (7, 0)
    kept_again = replay(history(kept | days(10)), MON + timedelta(days=10))
    assert kept_again.current == 8


def test_freezes_are_capped() -> None:
    kept = frozenset(
        MON + timedelta(days=i) for i in range(60) if (MON + timedelta(days=i)).weekday() < 5
    )
    state = replay(history(kept), MON + timedelta(days=59))
    assert state.freezes == MAX_FREEZES


def test_forgiven_days_change_nothing() -> None:
    h = history(days(0, 2), forgiven=days(1))
    assert replay(h, MON + timedelta(days=2)).current == 2


def test_repair_sets_the_value_after_its_day() -> None:
    h = history(days(0, 1, 3), repairs={MON + timedelta(days=2): 5})
    assert replay(h, MON + timedelta(days=3)).current == 6


def test_today_counts_once_kept() -> None:
    h = history(days(0, 1))
    state = replay(h, MON)
    assert shown(state, MON + timedelta(days=1), h) == 2
    assert shown(state, MON + timedelta(days=2), h) == 1


def test_joining_late_does_not_count_earlier_days() -> None:
    h = StreakHistory(start=MON + timedelta(days=2), required_weekdays=WEEKDAYS, kept=days(2))
    assert replay(h, MON + timedelta(days=2)).current == 1


@given(
    st.sets(st.integers(0, 90)),
    st.sets(st.integers(0, 90)),
    st.frozensets(st.integers(0, 6), min_size=1),
    st.lists(st.integers(0, 90), max_size=6),
)
def test_incremental_folding_equals_replay(
    kept: set[int], forgiven: set[int], weekdays: frozenset[int], checkpoints: list[int]
) -> None:
    h = StreakHistory(
        start=MON,
        required_weekdays=weekdays,
        kept=frozenset(MON + timedelta(days=k) for k in kept),
        forgiven=frozenset(MON + timedelta(days=f) for f in forgiven),
    )
    end = MON + timedelta(days=90)
    state = StreakState()
    for point in sorted(checkpoints):
        state = advance(state, h, MON + timedelta(days=point))
    state = advance(state, h, end)
    assert state == replay(h, end)
    assert 0 <= state.freezes <= MAX_FREEZES
    assert state.current <= state.best
