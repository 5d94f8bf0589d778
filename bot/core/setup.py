"""``/study setup key=value ...``: parse and apply channel settings (all or nothing)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from bot.core.commands import SETUP_KEYS
from bot.core.errors import InvalidInput
from bot.core.models import LEVELS, ChannelSettings
from bot.core.schedule import parse_days, parse_reveal, parse_time, zone


def _names(value: str) -> tuple[str, ...]:
    if value.strip().lower() in ("", "all", "*"):
        return ()
    return tuple(dict.fromkeys(v.strip().lower() for v in value.split(",") if v.strip()))


def _known(kind: str, values: tuple[str, ...], known: Collection[str]) -> tuple[str, ...]:
    unknown = [v for v in values if v not in known]
    if unknown:
        choices = ", ".join(sorted(known)) or "none"
        raise InvalidInput(f"Unknown {kind}: {', '.join(unknown)}. Known {kind}: {choices}.")
    return values


def apply_setup(
    settings: ChannelSettings,
    args: tuple[str, ...],
    *,
    decks: Collection[str],
    topics: Collection[str],
) -> ChannelSettings:
    """Return ``settings`` with every ``key=value`` applied, or raise before changing any."""
    changes: dict[str, object] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        key = key.strip().lower()
        if not sep:
            raise InvalidInput(f"Expected key=value, got {arg!r}. Keys: {', '.join(SETUP_KEYS)}.")
        if key not in SETUP_KEYS:
            raise InvalidInput(f"Unknown setting {key!r}. Keys: {', '.join(SETUP_KEYS)}.")
        if key == "time":
            changes["post_time"] = parse_time(value)
        elif key == "tz":
            zone(value.strip())
            changes["tz"] = value.strip()
        elif key == "days":
            changes["days"] = parse_days(value)
        elif key == "reveal":
            changes["reveal"] = parse_reveal(value)
        elif key == "decks":
            changes["decks"] = _known("decks", _names(value), decks)
        elif key == "topics":
            changes["topics"] = _known("topics", _names(value), topics)
        elif key == "catchups":
            changes["catchups"] = parse_switch(key, value)
        elif key == "share":
            changes["share"] = parse_switch(key, value)
        else:
            changes["levels"] = _known("levels", _names(value), LEVELS)
    return replace(settings, **changes)  # type: ignore[arg-type]


def describe(settings: ChannelSettings) -> list[tuple[str, str]]:
    """Settings as name/value pairs, in ``key=value`` terms an admin can type back."""
    return [
        ("time", settings.post_time.strftime("%H:%M")),
        ("tz", settings.tz),
        ("days", settings.days_text()),
        ("reveal", settings.reveal.describe()),
        ("decks", ",".join(settings.decks) or "all"),
        ("topics", ",".join(settings.topics) or "all"),
        ("levels", ",".join(settings.levels) or "all"),
        ("catchups", "on" if settings.catchups else "off"),
        ("share", "on" if settings.share else "off"),
    ]


def parse_switch(key: str, value: str) -> bool:
    cleaned = value.strip().lower()
    if cleaned in ("on", "yes", "true"):
        return True
    if cleaned in ("off", "no", "false"):
        return False
    raise InvalidInput(f"Invalid {key} {value!r}: use on or off.")
