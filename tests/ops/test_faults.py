"""The reduced crash-safety run of `make test`: 20 SIGKILLs at random moments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench import faults


@pytest.mark.slow
@pytest.mark.e2e
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


def test_platform_waits_do_not_count_as_time_the_bot_had() -> None:
    """A 429's Retry-After cuts the up stretch: an hour up with a wait in its middle is
    not an hour the bot could have posted in; an hour clear of waits is."""
    t0 = datetime(2027, 1, 1, 9, tzinfo=UTC)
    run = faults.Run(Path(), "http://127.0.0.1:1/api/", t0)
    run.up = [(t0, t0 + timedelta(minutes=90))]
    hour = timedelta(hours=1)
    wait = [(t0 + timedelta(minutes=40), t0 + timedelta(minutes=60))]
    assert run.was_up(t0, t0 + timedelta(hours=8), hour)
    assert not run.was_up(t0, t0 + timedelta(hours=8), hour, wait)
    late = [(t0 + timedelta(minutes=70), t0 + timedelta(minutes=80))]
    assert run.was_up(t0, t0 + timedelta(hours=8), hour, late)  # 09:00-10:10 is clear
    assert not run.was_up(t0 + timedelta(minutes=45), t0 + timedelta(hours=8), hour)
