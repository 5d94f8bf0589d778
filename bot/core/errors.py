"""The one exception tree of studybot.

    StudyBotError                    base; never shown to a member as-is
    ├── UserError                    the member sees ``message``; nothing changed
    │   ├── NotAllowed               an admin-only action by a non-admin
    │   ├── NotFound                 unknown topic, post, card, member, ...
    │   ├── InvalidInput             bad setup value, count out of range, ...
    │   └── NotYet                   refers to a message still being recorded: retry
    ├── ConfigError                  invalid settings; stops the bot at start
    ├── ContentError                 a deck file failed validation
    └── ChatError                    an outbound call to a platform failed
        ├── TargetUnavailable        permanent: removed from channel, DMs closed, ...
        └── PlatformAuthError        permanent: token revoked, app uninstalled

Adapters catch ``UserError`` in one error boundary and show ``message``; everything
else is logged and answered with a generic apology.
"""

from __future__ import annotations


class StudyBotError(Exception):
    """Base of every error studybot raises on purpose."""


class UserError(StudyBotError):
    """An error a member caused and can fix; ``message`` is shown to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(UserError):
    """The member may not do this (for example a non-admin running setup)."""


class NotFound(UserError):
    """The thing the member named does not exist."""


class InvalidInput(UserError):
    """A value the member typed is not valid."""


class NotYet(UserError):
    """The event refers to a message the bot sent but has not recorded yet (a send in
    flight, or one a crash cut short that reconciliation will finish): handling it again
    a little later will work. ``message`` is what to say if it never does."""


class ConfigError(StudyBotError):
    """Settings are invalid; the message names the setting."""


class ContentError(StudyBotError):
    """Deck content is invalid; ``problems`` lists ``file:line: message`` entries."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ChatError(StudyBotError):
    """An outbound platform call failed after the adapter's own retries."""


class TargetUnavailable(ChatError):
    """A channel or DM can no longer be reached (permanent; do not retry)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PlatformAuthError(ChatError):
    """The platform rejected our credentials (permanent for this workspace)."""


SHOWN_MAX = 40
"""How much of a value a member typed an error message repeats back."""


def shown(value: str, limit: int = SHOWN_MAX) -> str:
    """``value`` quoted for an error message: control characters escaped (``repr``) and
    cut so the quoted form stays within ``limit`` characters (plus its quotes), so a
    5,000-character word, or forty escaped characters, cannot flood the reply."""
    quoted = repr(value)
    if len(quoted) <= limit + 2:
        return quoted
    keep = min(len(value), limit)
    while keep > 0 and len(repr(value[:keep])) > limit + 2:
        keep -= 1
    return f"{value[:keep]!r}… ({len(value):,} characters)"
