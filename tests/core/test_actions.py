"""Button action ids: made in one place, read back exactly, anything else refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import actions
from bot.core.actions import Action, parse_action
from bot.core.models import Grade

ids = st.integers(min_value=0, max_value=10**12)


@given(ids, st.sampled_from(list(Grade)))
def test_followup_ids_round_trip(fid: int, grade: Grade) -> None:
    assert parse_action(actions.followup_show(fid)) == Action("followup_show", (fid,))
    graded = f"{actions.followup_grades(fid)}:{int(grade)}"
    assert parse_action(graded) == Action("followup_grade", (fid,), grade)
    assert len(graded) <= 100  # Discord's custom_id limit


@given(ids, st.integers(min_value=0, max_value=19), st.sampled_from(list(Grade)))
def test_quiz_ids_round_trip(qid: int, pos: int, grade: Grade) -> None:
    assert parse_action(actions.quiz_show(qid, pos)) == Action("quiz_show", (qid, pos))
    graded = f"{actions.quiz_grades(qid, pos)}:{int(grade)}"
    assert parse_action(graded) == Action("quiz_grade", (qid, pos), grade)


def test_forget_confirm() -> None:
    assert parse_action(actions.FORGET_CONFIRM) == Action("forget")


@given(st.text(max_size=40))
def test_anything_else_is_not_an_action_or_reads_back_the_same(text: str) -> None:
    parsed = parse_action(text)
    if parsed is not None:  # only well-formed ids parse, and they parse to what made them
        assert text.split(":")[0] in ("fu", "qz", "forget")


def test_malformed_ids_are_refused() -> None:
    for text in (
        "",
        "fu",
        "fu:show",
        "fu:show:x",
        "fu:grade:1",
        "fu:grade:1:9",
        "fu:show:1:2",
        "qz:show:1",
        "qz:grade:1:2:0",
        "zz:show:1",
        "forget:now",
        "fu:show:-1",
    ):
        assert parse_action(text) is None, text


@pytest.mark.parametrize(
    "text",
    [
        f"fu:show:{2**63}",
        f"fu:grade:{2**63}:3",
        f"qz:show:{2**64}:0",
        f"qz:show:1:{2**63}",
        f"rv:grade:{2**64}:3",
        "qz:show:99999999999999999999:0",
        "fu:show:" + "9" * 5000,
        "fu:show:" + "0" * 19 + "1",
        "fu:show:²",
        "fu:show:٣",
        "fu:show:+1",
        "fu:show: 1",
        "fu:show:1\n",
    ],
)
def test_ids_beyond_the_stores_integers_or_not_in_ascii_digits_are_not_ours(text: str) -> None:
    assert parse_action(text) is None


def test_the_largest_id_the_store_holds_is_still_read() -> None:
    assert actions.ID_MAX == 2**63 - 1
    assert parse_action(f"fu:show:{2**63 - 1}") == Action("followup_show", (2**63 - 1,))
    assert parse_action(f"rv:grade:{2**63 - 1}:4") == Action(
        "reveal_grade", (2**63 - 1,), Grade.EASY
    )
