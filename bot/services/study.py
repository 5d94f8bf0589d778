"""The facade adapters call: one method per kind of interaction.

Adapters parse platform payloads into ``Actor``, ``Place`` and a ``Command`` (or a
message, reaction or button), call one method here, and draw the ``Reply``. User errors
come back as replies, so each adapter's error boundary only has to log the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from bot.core.actions import Action, parse_action
from bot.core.commands import Command, int_option, parse_quiz, subcommand
from bot.core.errors import InvalidInput, NotYet, UserError
from bot.core.models import Actor, Grade, Place
from bot.core.replies import Message, Reply, error, private, public
from bot.ports.records import ChannelRow
from bot.ports.store import Tx
from bot.services.base import Deps, Service
from bot.services.channels import Channels
from bot.services.dispatch import Dispatch
from bot.services.followups import Followups
from bot.services.inbox import Inbox
from bot.services.inflight import InFlight
from bot.services.info import Info
from bot.services.leaderboards import Leaderboards
from bot.services.learning import Learning
from bot.services.notices import Notices
from bot.services.posting import Posting
from bot.services.privacy import Privacy
from bot.services.quiz import Quiz
from bot.services.streaks import Streaks
from bot.services.threads import Threads
from bot.services.tuning import Tuning

log = structlog.get_logger("studybot.study")

Route = Callable[[Actor, Place, Command], Awaitable[Reply]]


async def _now(reply: Reply) -> Reply:
    return reply


class StudyBot(Service):
    """The facade, and the composition of the services behind it.

    Every service gets its collaborators through its constructor; pass any of them to
    replace the default one (a test's service that raises, a slower store, ...).
    """

    def __init__(
        self,
        deps: Deps,
        *,
        learning: Learning | None = None,
        streaks: Streaks | None = None,
        leaderboards: Leaderboards | None = None,
        dispatch: Dispatch | None = None,
        channels: Channels | None = None,
        posting: Posting | None = None,
        threads: Threads | None = None,
        followups: Followups | None = None,
        quiz: Quiz | None = None,
        info: Info | None = None,
        privacy: Privacy | None = None,
        tuning: Tuning | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        super().__init__(deps)
        learning = learning or Learning(deps)
        self.streaks = streaks or Streaks(deps)
        self.leaderboards = leaderboards or Leaderboards(deps, streaks=self.streaks)
        self.channels = channels or Channels(deps)
        self.posting = posting or Posting(deps, streaks=self.streaks)
        self.threads = threads or Threads(deps, learning=learning)
        self.followups = followups or Followups(
            deps, learning=learning, dispatch=dispatch or Dispatch(deps)
        )
        self.quiz = quiz or Quiz(deps, learning=learning)
        self.info = info or Info(deps, streaks=self.streaks, leaderboards=self.leaderboards)
        self.privacy = privacy or Privacy(deps, streaks=self.streaks)
        self.tuning = tuning or Tuning(deps)
        self.inbox = inbox or Inbox(deps)
        self.notices = Notices(deps)
        self.inflight = InFlight()
        self.routes = self._routes()

    async def command(self, actor: Actor, place: Place, command: Command) -> Reply:
        try:
            return await self._command(actor, place, command)
        except UserError as exc:
            return error(exc.message)

    async def _command(self, actor: Actor, place: Place, cmd: Command) -> Reply:
        if cmd.name == "quiz":
            request = parse_quiz(cmd.args, topics=self.decks.topics())
            return await self.quiz.start(actor, place, request)
        route = self.routes.get(cmd.sub or "help")
        if route is None:  # parse() only makes commands of STUDY; a route is missing
            raise InvalidInput(f"Unknown subcommand {cmd.sub!r}. Try /study help.")
        if place.is_dm and cmd.needs_channel:
            raise InvalidInput(
                f"Use /study {cmd.sub} in the study channel: it is about a channel,"
                " and this is a direct message."
            )
        return await route(actor, place, cmd)

    def _routes(self) -> dict[str, Route]:
        """Each subcommand of ``bot.core.commands.STUDY`` and the method that runs it."""
        info, privacy = self.info, self.privacy
        return {
            "help": lambda a, p, c: _now(info.help(p.platform)),
            "streak": self._streak,
            "stats": lambda a, p, c: info.stats(a, p),
            "leaderboard": lambda a, p, c: info.leaderboard(p),
            "topics": lambda a, p, c: info.topics(p),
            "status": lambda a, p, c: self.channels.status(p),
            "answer": self._answer,
            "export": lambda a, p, c: privacy.export(a),
            "forget-me": lambda a, p, c: (
                privacy.forget(a) if c.args[:1] == ("confirm",) else privacy.confirm_forget(a)
            ),
            "setup": lambda a, p, c: self.channels.setup(a, p, c.args),
            "pause": self._toggle,
            "resume": self._toggle,
            "post-now": self._admin_action,
            "reveal-now": self._admin_action,
            "skip": self._admin_action,
        }

    async def _answer(self, actor: Actor, place: Place, cmd: Command) -> Reply:
        channel = Place(place.platform, place.workspace, place.channel)  # not its thread
        reply = await self.threads.answer(actor, channel, None, cmd.rest)
        if reply.empty:  # no daily post could be answered: the channel does not study
            raise InvalidInput(
                "This channel does not study with me yet, so there is no question to"
                " answer here (an admin runs /study setup)."
            )
        return reply

    async def _streak(self, actor: Actor, place: Place, cmd: Command) -> Reply:
        if cmd.args:
            return await self._repair(actor, place, cmd.args)
        return await self.info.streak(actor, place)

    async def _toggle(self, actor: Actor, place: Place, cmd: Command) -> Reply:
        sub = cmd.sub or "pause"
        paused = sub == "pause"
        if cmd.args[:1] == ("followups",):
            return await self.followups.set_paused(actor, paused, cmd.args[1:])
        if cmd.args == ("catchups",):
            return await self.followups.set_catchups(actor, on=not paused)
        if cmd.args:
            raise InvalidInput(
                f"Usage: /study {sub} (the channel), /study {sub} followups"
                f" or /study {sub} catchups"
            )
        return await self.channels.set_paused(actor, place, paused)

    async def _admin_action(self, actor: Actor, place: Place, cmd: Command) -> Reply:
        sub = cmd.sub or ""
        what = {"post-now": "post now", "reveal-now": "reveal now", "skip": "skip a day"}[sub]

        def unit(tx: Tx) -> ChannelRow | None:
            member = self.member(tx, actor, self.now())
            self.require_admin(tx, actor, member, what)
            return self.channel_at(tx, place)

        channel = await self.store.write(unit)
        if channel is None:
            raise InvalidInput("This channel is not set up; run /study setup first.")
        if sub == "post-now":
            post = await self.posting.post_now(channel, confirm=cmd.args[:1] == ("confirm",))
            return private(Message(lines=(f"Posted the question of {post.local_date}.",)))
        if sub == "reveal-now":
            post = await self.posting.reveal_now(channel)
            return private(Message(lines=(f"Revealed the question of {post.local_date}.",)))
        return public(Message(lines=(await self.posting.skip_today(channel),)))

    async def _repair(self, actor: Actor, place: Place, args: tuple[str, ...]) -> Reply:
        spec = subcommand("streak")
        if len(args) < 2:
            raise InvalidInput(f"Usage: {spec.usage}")
        days = str(int_option(spec, spec.option("days"), args[1]))  # never int() of '²'

        def unit(tx: Tx) -> str:
            member = self.member(tx, actor, self.now())
            self.require_admin(tx, actor, member, "repair a streak")
            channel = self.channel_at(tx, place)
            if channel is None:
                raise InvalidInput("This channel is not set up; run /study setup first.")
            return self.streaks.repair(tx, channel, actor, args[0], days, " ".join(args[2:]))

        return public(Message(lines=(await self.store.write(unit),)))

    # ---- thread events -------------------------------------------------------------------

    async def message(
        self,
        actor: Actor,
        place: Place,
        message_ref: str,
        text: str,
        *,
        event_id: str | None = None,
    ) -> Reply:
        try:
            return await self.threads.answer(actor, place, message_ref, text, event_id=event_id)
        except NotYet:
            raise  # the adapter handles the event again later
        except UserError as exc:
            return error(exc.message)

    async def message_edited(
        self, place: Place, message_ref: str, text: str, *, event_id: str | None = None
    ) -> bool:
        return await self.threads.edit(place, message_ref, text, event_id=event_id)

    async def message_deleted(
        self, place: Place, message_ref: str, *, event_id: str | None = None
    ) -> bool:
        return await self.threads.delete(place, message_ref, event_id=event_id)

    async def reaction(
        self,
        actor: Actor,
        place: Place,
        message_ref: str,
        emoji: str,
        *,
        added: bool,
        on_bot_message: bool = True,
        event_id: str | None = None,
    ) -> Reply:
        try:
            return await self.threads.reaction(
                actor,
                place,
                message_ref,
                emoji,
                added=added,
                on_bot_message=on_bot_message,
                event_id=event_id,
            )
        except NotYet:
            raise  # the adapter handles the event again later
        except UserError as exc:
            return error(exc.message)

    # ---- buttons -------------------------------------------------------------------------

    async def button(self, actor: Actor, action: str) -> Reply:
        """A button press; ``action`` carries everything (buttons survive restarts)."""
        try:
            return await self._button(actor, action)
        except UserError as exc:
            return error(exc.message)

    async def _button(self, actor: Actor, action: str) -> Reply:
        parsed = parse_action(action)
        if parsed is None:
            raise InvalidInput("That button is not one of mine, or it has expired.")
        match parsed:
            case Action("followup_show", (fid,)):
                return await self.followups.show(actor, fid)
            case Action("followup_grade", (fid,), Grade() as grade):
                return await self.followups.grade(actor, fid, grade)
            case Action("quiz_show", (qid, pos)):
                return await self.quiz.show(actor, qid, pos)
            case Action("quiz_grade", (qid, pos), Grade() as grade):
                return await self.quiz.grade(actor, qid, pos, grade)
            case Action("reveal_grade", (post_id,), Grade() as grade):
                return await self.threads.grade_button(actor, post_id, grade)
            case Action("forget", ids):  # no token (an older button): nothing matches
                return await self.privacy.forget(actor, token=str(ids[0]) if ids else "")
        raise InvalidInput("That button is not one of mine, or it has expired.")
