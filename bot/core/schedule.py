"""Schedule maths in a channel's own timezone, and parsing of schedule values.

Every instant returned is an aware UTC datetime. Local wall times that do not exist
(the spring-forward gap) move forward by the gap's length, so 02:30 on the day New York
skips 02:00-03:00 becomes 03:30 local; wall times that happen twice (fall-back) use the
first occurrence. One instant is computed per local date, so a post can never happen
twice on one local day, whatever the clocks do.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.errors import InvalidInput, shown
from bot.core.models import WEEKDAYS, ChannelSettings, RevealRule

DEFAULT_REVEAL_DELAY = timedelta(hours=6)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DELAY = re.compile(r"^\+(?:(\d{1,2})h)?(?:(\d{1,3})m)?$")


ZONE_NAME_MAX = 64
"""Longer than any IANA name (the longest has about 30 characters)."""
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
"""What IANA names are made of: ASCII words joined by ``/`` (no dots, so no ``..``)."""


def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name, or ``InvalidInput`` naming it.

    Only names shaped like IANA names reach ``ZoneInfo``, which reads files: a path
    (``../x``, ``/etc/x``), a NUL byte or an overlong name never does. A name that is a
    folder of the database (``Europe``) or a file that is not a zone is refused too.
    """
    try:
        if len(name) > ZONE_NAME_MAX or not _ZONE_NAME.fullmatch(name):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidInput(
            f"Unknown timezone {shown(name)}: use an IANA name such as Europe/Berlin."
        ) from exc


def parse_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise InvalidInput(f"Invalid time {text!r}: use 24-hour HH:MM, for example 09:30.")
    return time(int(match.group(1)), int(match.group(2)))


_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(name: str) -> int:
    name = name.strip()
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    if name in _FULL_DAYS:
        return _FULL_DAYS.index(name)
    raise ValueError(name)


def parse_days(text: str) -> frozenset[int]:
    """``mon-fri``, ``mon,wed,fri``, ``mon-wed,sat`` or ``daily``."""
    cleaned = text.strip().lower()
    if cleaned in ("daily", "all", "every"):
        return frozenset(range(7))
    days: set[int] = set()
    try:
        for part in cleaned.split(","):
            bounds = part.split("-")
            if len(bounds) == 1:
                days.add(_weekday(bounds[0]))
                continue
            if len(bounds) != 2:
                raise ValueError(part)
            start, end = _weekday(bounds[0]), _weekday(bounds[1])
            if start > end:
                raise ValueError(part)
            days.update(range(start, end + 1))
    except ValueError:
        raise InvalidInput(
            f"Invalid days {text!r}: use mon-fri, or a list such as mon,wed,fri."
        ) from None
    return frozenset(days)


def parse_reveal(text: str) -> RevealRule:
    """``15:00`` (a local time) or ``+6h`` / ``+90m`` / ``+1h30m`` (after the post)."""
    cleaned = text.strip().lower()
    if cleaned.startswith("+"):
        match = _DELAY.match(cleaned)
        if match and (match.group(1) or match.group(2)):
            delay = timedelta(hours=int(match.group(1) or 0), minutes=int(match.group(2) or 0))
            if timedelta(minutes=1) <= delay <= timedelta(hours=23):
                return RevealRule(delay=delay)
        raise InvalidInput(
            f"Invalid reveal {text!r}: use a local time such as 15:00 or a delay from +1m to +23h."
        )
    try:
        return RevealRule(at=parse_time(cleaned))
    except InvalidInput:
        raise InvalidInput(
            f"Invalid reveal {text!r}: use a local time such as 15:00 or a delay such as +6h."
        ) from None


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall time ``at`` on ``day`` in ``tz``.

    With ``fold=0`` zoneinfo resolves a wall time inside a spring-forward gap with the
    offset from before the transition, which lands exactly the gap's length after it
    (02:30 -> 03:30), and a repeated fall-back wall time to its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    return instant.astimezone(tz).date()


def next_weekly(
    after: datetime, at: time, days: frozenset[int], tz: ZoneInfo, *, inclusive: bool = False
) -> datetime:
    """The first instant after ``after`` (or at it, if inclusive) on one of ``days``."""
    if not days:
        raise InvalidInput("A schedule needs at least one day.")
    start = local_date(after, tz) - timedelta(days=1)
    for offset in range(0, 16):
        day = start + timedelta(days=offset)
        if day.weekday() not in days:
            continue
        candidate = local_instant(day, at, tz)
        if candidate > after or (inclusive and candidate == after):
            return candidate
    raise AssertionError("unreachable: a weekday occurs within 16 days")  # pragma: no cover


def next_post_at(settings: ChannelSettings, after: datetime) -> datetime:
    return next_weekly(after, settings.post_time, settings.days, zone(settings.tz))


def next_leaderboard_at(settings: ChannelSettings, after: datetime) -> datetime:
    return next_weekly(
        after, settings.leaderboard_time, frozenset({settings.leaderboard_day}), zone(settings.tz)
    )


def reveal_due(settings: ChannelSettings, posted_at: datetime) -> datetime:
    """When the reveal of a post made at ``posted_at`` is due.

    A delay counts from the actual post. A clock time is that time on the post's local
    date; if it is not after the post (a late or manual post), the default delay applies
    so members still get time to answer.
    """
    rule = settings.reveal
    if rule.delay is not None:
        return posted_at + rule.delay
    assert rule.at is not None
    tz = zone(settings.tz)
    candidate = local_instant(local_date(posted_at, tz), rule.at, tz)
    if candidate <= posted_at:
        return posted_at + DEFAULT_REVEAL_DELAY
    return candidate


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week: points and leaderboards are weekly."""
    return day - timedelta(days=day.weekday())


def utc(instant: datetime) -> datetime:
    """Normalise an aware datetime to ``datetime.timezone.utc`` (fsrs insists on it)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime where an aware UTC one is required")
    return instant.astimezone(UTC)
