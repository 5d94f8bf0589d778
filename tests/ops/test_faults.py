"""The reduced crash-safety run of `make test`: 20 SIGKILLs at random moments."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import faults

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


async def test_twenty_kills_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    result = await faults.exercise(tmp_path, kills=20, seed=11)
    assert result["restarts"] == 20
    assert result["duplicate_posts"] == 0, result
    assert result["missed_posts"] == 0, result
    assert result["invariant_violations"] == 0, result["violations"]
    # The load really happened: posts, answers and grades went through the kills.
    assert result["posts"] >= 4, result
    assert result["answers_delivered"] >= 10, result
    assert result["grades_delivered"] >= 5, result
