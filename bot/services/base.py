"""What every service shares: its dependencies and a few helpers on members and time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import TypeVar

import structlog

from bot.core.errors import ChatError, InvalidInput, NotAllowed
from bot.core.models import Actor, Place
from bot.core.points import Kind, award
from bot.core.schedule import local_date, zone
from bot.core.srs import Srs
from bot.core.srsbook import SrsBook
from bot.core.tuning import TuneSettings
from bot.ports.chat import Chats
from bot.ports.clock import Clock
from bot.ports.decks import DeckSource
from bot.ports.reads import ReadTx
from bot.ports.records import ChannelRow, MemberRow
from bot.ports.store import Store, Tx
from bot.services import messages
from bot.services.inflight import Sends
from bot.services.policy import Policy

log = structlog.get_logger("studybot.services")
R = TypeVar("R")
NAME_MAX = 120
"""The longest display name kept (``members.name``)."""

# Study actions that keep a streak day (DESIGN.md); points-only rows do not.
KEEPS_DAY = frozenset({"answer", "grade", "followup", "quiz_done"})


@dataclass
class Deps:
    store: Store
    chats: Chats
    clock: Clock
    decks: DeckSource
    srs: Srs
    policy: Policy
    book: SrsBook | None = None
    """Schedulers per (platform, workspace, deck); default: ``srs`` for every key."""
    tune: TuneSettings = field(default_factory=TuneSettings)
    sends: Sends = field(default_factory=Sends)
    """Keys this process is sending now (reconciliation leaves them alone)."""
    item_errors: Callable[[str], None] | None = None
    """Called with the job's name when one item of a job fails (a metric, in the app)."""
    srs_book: SrsBook = field(init=False)

    def __post_init__(self) -> None:
        self.srs_book = self.book if self.book is not None else SrsBook.around(self.srs)


class Service:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.store = deps.store
        self.policy = deps.policy
        self.decks = deps.decks

    def now(self) -> datetime:
        return self.deps.clock.now()

    def member_tz(self, member: MemberRow, channel: ChannelRow | None = None) -> str:
        """The member's own timezone if this host can load it, else the channel's."""
        if member.tz and known_tz(member.tz):
            return member.tz
        fallback = channel.settings.tz if channel is not None else self.policy.defaults.tz
        if member.tz:
            _report_unknown_tz(member.tz, fallback)
        return fallback

    def member_today(
        self, member: MemberRow, now: datetime, channel: ChannelRow | None = None
    ) -> date:
        return local_date(now, zone(self.member_tz(member, channel)))

    async def pause_channel(self, channel: ChannelRow, reason: str) -> None:
        """The platform says the channel cannot be reached: pause it, with the reason, and
        tell the admin who set it up (once, when it changes from running to paused)."""
        log.warning("channel_paused", channel=channel.id, reason=reason)

        def unit(tx: Tx) -> MemberRow | None:
            changed = tx.channels.set_paused(channel.id, True, reason)
            admin = channel.set_up_by
            return tx.members.get(admin) if changed and admin is not None else None

        admin = await self.store.write(unit)
        chat = self.deps.chats.get(channel.platform)
        if admin is None or chat is None:
            return
        try:
            await chat.send_dm(
                admin.workspace, admin.user_ref, messages.channel_paused(channel, reason)
            )
        except ChatError as exc:  # the pause stands; /study status shows the reason
            log.warning("pause_report_failed", channel=channel.id, error=str(exc))

    def member(self, tx: Tx, actor: Actor, now: datetime) -> MemberRow:
        tz = actor.tz
        if tz is not None and not known_tz(tz):
            _report_unknown_tz(tz, "the channel's")
            tz = None  # a profile value this host cannot use is not stored
        # A display name as the platform gives it, without control characters, and cut to
        # what the column holds (PostgreSQL refuses longer text; SQLite would keep it).
        name = "".join(c for c in actor.name if c.isprintable())[:NAME_MAX] or actor.user[:NAME_MAX]
        return tx.members.ensure(actor.platform, actor.workspace, actor.user, name, tz, now)

    # ---- one item's failure is not the job's ------------------------------------------------

    def isolated(
        self,
        tx: Tx,
        job: str,
        item: object,
        work: Callable[[], R],
        *,
        failed: Callable[[], object] | None = None,
    ) -> R | None:
        """Run one item of a job inside a savepoint: if it fails, only its own writes are
        undone, the failure is logged and counted (then ``failed`` runs, in the outer
        transaction), and the job goes on with the next item."""
        try:
            with tx.savepoint():
                return work()
        except Exception as exc:
            self._item_failed(job, item, exc)
            if failed is not None:
                failed()
            return None

    async def isolated_async(self, job: str, item: object, work: Awaitable[R]) -> R | None:
        """The same for a step that awaits (sends, its own transactions)."""
        try:
            return await work
        except Exception as exc:
            self._item_failed(job, item, exc)
            return None

    def _item_failed(self, job: str, item: object, exc: Exception) -> None:
        log.error("job_item_failed", job=job, item=str(item), error=repr(exc)[:300])
        if self.deps.item_errors is not None:
            self.deps.item_errors(job)

    def is_admin(self, tx: Tx, actor: Actor, member: MemberRow) -> bool:
        # The adapter says who is an admin (the console: whoever started it, not the
        # oldest member left, which would hand the rights on after a forget-me).
        return actor.is_admin or actor.user in self.policy.admins

    def require_admin(self, tx: Tx, actor: Actor, member: MemberRow, what: str) -> None:
        if not self.is_admin(tx, actor, member):
            raise NotAllowed(f"Only workspace admins can {what}. Nothing was changed.")

    def channel_at(self, tx: ReadTx, place: Place) -> ChannelRow | None:
        if place.is_dm:
            return None
        return tx.channels.find(place.platform, place.workspace, place.channel)

    def record(
        self,
        tx: Tx,
        member: MemberRow,
        kind: Kind | str,
        ref: str,
        *,
        day: date,
        now: datetime,
    ) -> int:
        """Record a study action with its capped points; returns the points given."""
        return self.record_all(tx, member, [(kind, ref)], day=day, now=now)

    def record_all(
        self,
        tx: Tx,
        member: MemberRow,
        actions: list[tuple[Kind | str, str]],
        *,
        day: date,
        now: datetime,
    ) -> int:
        """Record several study actions of one day; caps come from one query."""
        kinds = [k.value for k, _ in actions if isinstance(k, Kind)]
        earned = tx.activity.earned_by_kind(member.id, day, kinds) if kinds else {}
        total = 0
        for kind, ref in actions:
            name = kind.value if isinstance(kind, Kind) else kind
            points = award(kind, earned[name]) if isinstance(kind, Kind) else 0
            keeps = name in KEEPS_DAY or name.startswith("followup")
            added = tx.activity.add(
                member.id, name, ref, local_date=day, points=points, keeps_day=keeps, now=now
            )
            total += points if added else 0
        # The newest study action: a card resting after unanswered re-sends comes back.
        tx.members.set_member(member.id, last_active_at=now)
        return total


@lru_cache(maxsize=1024)
def known_tz(name: str) -> bool:
    """Whether this host can load the IANA timezone ``name``."""
    try:
        zone(name)
    except (InvalidInput, OSError, ValueError):
        return False
    return True


_REPORTED: set[str] = set()


def _report_unknown_tz(name: str, fallback: str) -> None:
    """One log line per unknown timezone value (not one per member per job run)."""
    if name in _REPORTED or len(_REPORTED) > 1000:
        return
    _REPORTED.add(name)
    log.warning("member_timezone_unknown", timezone=name[:64], using=fallback)
