"""Points, ranks and the FSRS wrapper."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.leaderboard import Entry, board, rank
from bot.core.models import Grade
from bot.core.points import TABLE, Kind, award, table_markdown
from bot.core.srs import Srs


def test_award_respects_the_daily_cap() -> None:
    rule = TABLE[Kind.QUIZ_CARD]
    given_points = 0
    for _ in range(rule.daily_cap + 5):
        given_points += award(Kind.QUIZ_CARD, given_points)
    assert given_points == rule.daily_cap


def test_partial_award_at_the_cap_edge() -> None:
    assert award(Kind.ANSWER, 15) == 5
    assert award(Kind.ANSWER, 20) == 0


def test_points_table_is_documented() -> None:
    text = table_markdown()
    for rule in TABLE.values():
        assert rule.description in text


def test_ties_share_a_rank() -> None:
    ranked = rank([Entry("a", 5), Entry("b", 9), Entry("c", 5), Entry("d", 1)])
    assert [(r.rank, r.name) for r in ranked] == [(1, "b"), (2, "a"), (2, "c"), (4, "d")]


def test_a_board_cut_at_its_size_counts_the_rest_of_the_tie() -> None:
    table = board([Entry("top", 5)] + [Entry(f"m{n:02}", 1) for n in range(29)], 10)
    assert [r.rank for r in table.rows] == [1] + [2] * 9
    assert (table.more_tied, table.tied_score) == (20, 1)
    below = board([Entry("a", 3), Entry("b", 3), Entry("c", 2)], 2)
    assert ([r.name for r in below.rows], below.more_tied, below.tied_score) == (
        ["a", "b"],
        0,
        None,
    )


@given(st.lists(st.integers(0, 5), max_size=40), st.integers(1, 10))
def test_a_board_never_shows_more_than_its_size(scores: list[int], size: int) -> None:
    table = board([Entry(f"m{i}", s) for i, s in enumerate(scores)], size)
    assert len(table.rows) == min(size, len(scores))
    assert len(table.rows) + table.more_tied == sum(
        1 for s in scores if table.rows and s >= table.rows[-1].score
    )


@given(st.lists(st.tuples(st.text(min_size=1, max_size=5), st.integers(0, 50)), max_size=30))
def test_ranks_are_competition_ranks(pairs: list[tuple[str, int]]) -> None:
    ranked = rank([Entry(n, s) for n, s in pairs])
    for position, row in enumerate(ranked, start=1):
        ahead = sum(1 for r in ranked if r.score > row.score)
        assert row.rank == ahead + 1
        assert row.rank <= position


T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_good_then_good_grows_the_interval() -> None:
    srs = Srs(fuzz=False)
    first = srs.review(srs.new(T0), Grade.GOOD, T0)
    second = srs.review(first, Grade.GOOD, first.due)
    assert first.due - T0 >= timedelta(days=1)
    assert second.due - first.due > first.due - T0
    assert second.reps == 2


def test_again_comes_back_sooner_than_easy() -> None:
    srs = Srs(fuzz=False)
    again = srs.review(srs.new(T0), Grade.AGAIN, T0)
    easy = srs.review(srs.new(T0), Grade.EASY, T0)
    assert again.due < easy.due


def test_replay_equals_step_by_step() -> None:
    srs = Srs(fuzz=False)
    grades = [
        (Grade.GOOD, T0),
        (Grade.HARD, T0 + timedelta(days=3)),
        (Grade.EASY, T0 + timedelta(days=9)),
    ]
    state = srs.new(T0)
    for grade, at in grades:
        state = srs.review(state, grade, at)
    assert srs.replay(reversed(grades), T0) == state


def test_retrievability_falls_over_time() -> None:
    srs = Srs(fuzz=False)
    state = srs.review(srs.new(T0), Grade.GOOD, T0)
    soon = srs.retrievability(state, T0 + timedelta(days=1))
    later = srs.retrievability(state, T0 + timedelta(days=30))
    assert 0 < later < soon <= 1


def test_naive_review_time_is_rejected() -> None:
    srs = Srs(fuzz=False)
    with pytest.raises(ValueError):  # noqa: PT011 - fsrs's own message
        srs.review(srs.new(T0), Grade.GOOD, datetime(2026, 1, 5, 9, 0))
