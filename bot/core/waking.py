"""When a member may be messaged: waking hours on study days, in the member's timezone.

A follow-up DM goes out only inside the member's waking window (e.g. 09:00-21:00 local)
on one of their study days, and it expires after a span of *waking* time, so a DM sent
at 20:00 is not stale by the next morning. A window whose end is before its start runs
past midnight (22:00-06:00) and belongs to the day it starts on.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.schedule import local_instant

_SEARCH_DAYS = 15  # more than a week: any study-day set has a day within it


@dataclass(frozen=True, slots=True)
class Waking:
    start: time
    end: time
    days: frozenset[int]
    """Study days (0 = Monday), in the member's timezone."""

    def _windows(self, after: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
        """Waking windows on study days, from the day before ``after``, in order."""
        first = after.astimezone(tz).date() - timedelta(days=1)
        found = []
        for offset in range(_SEARCH_DAYS):
            day = first + timedelta(days=offset)
            if day.weekday() not in self.days:
                continue
            opens = local_instant(day, self.start, tz)
            closes_day = day if self.end > self.start else day + timedelta(days=1)
            closes = local_instant(closes_day, self.end, tz)
            found.append((opens, closes))
        return found

    def is_open(self, now: datetime, tz: ZoneInfo) -> bool:
        return any(opens <= now < closes for opens, closes in self._windows(now, tz))

    def next_open(self, after: datetime, tz: ZoneInfo) -> datetime:
        """``after`` itself when the window is open, else the next opening."""
        for opens, closes in self._windows(after, tz):
            if after < closes:
                return max(opens, after).astimezone(UTC)
        raise ValueError("no study days")  # unreachable with a non-empty day set

    def add(self, start: datetime, span: timedelta, tz: ZoneInfo) -> datetime:
        """The instant ``span`` of waking time after ``start`` (time asleep does not count)."""
        left = span
        for opens, closes in self._windows(start, tz):
            if closes <= start:
                continue
            begin = max(opens, start)
            if closes - begin >= left:
                return (begin + left).astimezone(UTC)
            left -= closes - begin
        # A span longer than the search horizon: keep counting whole windows onwards.
        return self.add(start + timedelta(days=_SEARCH_DAYS - 2), left, tz)


def study_days(own: Collection[int] | None, channel_days: Collection[int] | None) -> frozenset[int]:
    """A member's study days: their own choice, else their channel's posting days."""
    if own:
        return frozenset(own)
    if channel_days:
        return frozenset(channel_days)
    return frozenset(range(7))


def next_local_day(now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight at the start of the member's next local day (as UTC)."""
    today: date = now.astimezone(tz).date()
    return local_instant(today + timedelta(days=1), time(0, 0), tz).astimezone(UTC)
