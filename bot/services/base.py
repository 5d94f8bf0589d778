"""What every service shares: its dependencies and a few helpers on members and time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import structlog

from bot.core.errors import ChatError, NotAllowed
from bot.core.models import Actor, Place
from bot.core.points import Kind, award
from bot.core.schedule import local_date, zone
from bot.core.srs import Srs
from bot.core.srsbook import SrsBook
from bot.core.tuning import TuneSettings
from bot.ports.chat import Chats
from bot.ports.clock import Clock
from bot.ports.decks import DeckSource
from bot.ports.records import ChannelRow, MemberRow
from bot.ports.store import Store, Tx
from bot.services import messages
from bot.services.policy import Policy

log = structlog.get_logger("studybot.services")

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
        if member.tz:
            return member.tz
        if channel is not None:
            return channel.settings.tz
        return self.policy.defaults.tz

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
        return tx.members.ensure(
            actor.platform, actor.workspace, actor.user, actor.name, actor.tz, now
        )

    def is_admin(self, tx: Tx, actor: Actor, member: MemberRow) -> bool:
        if actor.is_admin or actor.user in self.policy.admins:
            return True
        if actor.platform == "console":
            # On the local console the first member ever seen runs the channel.
            return tx.members.first_id(actor.platform, actor.workspace) == member.id
        return False

    def require_admin(self, tx: Tx, actor: Actor, member: MemberRow, what: str) -> None:
        if not self.is_admin(tx, actor, member):
            raise NotAllowed(f"Only workspace admins can {what}. Nothing was changed.")

    def channel_at(self, tx: Tx, place: Place) -> ChannelRow | None:
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
