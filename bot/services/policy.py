"""The knobs of the study rules that come from settings, as one plain value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta

from bot.core.models import ChannelSettings, Grade, RevealRule

DEFAULT_GRADE_EMOJI: dict[str, Grade] = {
    "x": Grade.AGAIN,
    "grimacing": Grade.HARD,
    "white_check_mark": Grade.GOOD,
    "rocket": Grade.EASY,
}


def default_channel_settings(tz: str = "UTC") -> ChannelSettings:
    return ChannelSettings(
        tz=tz,
        post_time=time(9, 30),
        days=frozenset(range(5)),
        reveal=RevealRule(delay=timedelta(hours=6)),
    )


@dataclass(frozen=True)
class Policy:
    defaults: ChannelSettings = field(default_factory=default_channel_settings)
    grace: timedelta = timedelta(hours=3)
    """How late a missed post may still be caught up after downtime."""
    intent_lease: timedelta = timedelta(minutes=2)
    """How long a claimed-but-unfinished post belongs to the process that claimed it."""
    answer_window: timedelta = timedelta(hours=24)
    """How long after its reveal a question still takes answers."""
    grade_window: timedelta = timedelta(days=14)
    """How long after its reveal a question still takes grades (Discord keeps its thread
    open that long)."""
    followup_daily_cap: int = 10
    followup_batch: int = 5
    waking_start: time = time(9, 0)
    waking_end: time = time(21, 0)
    dm_backoff: timedelta = timedelta(days=1)
    followup_expiry: timedelta = timedelta(hours=24)
    """Waking time after which an ungraded follow-up expires and its card is due again."""
    followup_resends: int = 2
    """Re-sends of an expired follow-up before the card waits for the member's next active day."""
    followup_gap: timedelta = timedelta(hours=2)
    """Time between two batches of one member."""
    followup_concurrency: int = 50
    """DMs in flight at once during a dispatch."""
    catchup_weeks: int = 4
    """Members active in a channel in this many weeks get its missed questions by DM."""
    catchups: bool = True
    grade_emoji: dict[str, Grade] = field(default_factory=lambda: dict(DEFAULT_GRADE_EMOJI))
    ack_emoji: str = "memo"
    admins: frozenset[str] = frozenset()

    def emoji_for(self, grade: Grade) -> str:
        for name, value in self.grade_emoji.items():
            if value == grade:
                return name
        return grade.name.lower()
