"""Every message the bot writes, built as neutral ``Message`` values in one place."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from bot.core import actions, emoji
from bot.core.commands import DISCORD_ADMIN_GROUP, QUIZ, STUDY, typed, usage_on
from bot.core.leaderboard import Board
from bot.core.models import Card, ChannelSettings, Grade
from bot.core.points import table_lines
from bot.core.replies import Button, Message, Style, moment
from bot.core.words import count
from bot.ports.records import ChannelRow
from bot.services.policy import Policy


def grade_legend(policy: Policy) -> str:
    return " · ".join(f"{emoji.show(policy.emoji_for(g))} {g.label}" for g in Grade)


def day_text(day: date) -> str:
    """A date as a title shows it: ``Tue 3 Mar``."""
    return f"{day:%a} {day.day} {day:%b}"


def week_text(monday: date) -> str:
    """A week as a title shows it: ``3–9 Mar``, ``24 Feb–2 Mar``."""
    sunday = monday + timedelta(days=6)
    if monday.month == sunday.month:
        return f"{monday.day}–{sunday.day} {sunday:%b}"
    return f"{monday.day} {monday:%b}–{sunday.day} {sunday:%b}"


def daily_post(
    card: Card,
    *,
    reveal_at: datetime,
    tz: str,
    day: date,
    policy: Policy,
    new_cycle: bool,
    deck_title: str,
) -> Message:
    lines = [card.question, ""]
    if new_cycle:
        lines.insert(
            0, "Every card of this channel has been posted once: a new cycle starts today."
        )
    lines.append(
        f"Answer in this thread. Key points at {moment(reveal_at, tz)}; then grade yourself by "
        "reacting "
        f"to the reveal: {grade_legend(policy)}."
    )
    return Message(
        title=f"📚 Question of the day · {day_text(day)}",
        lines=tuple(lines),
        fields=(("Topic", card.topic), ("Level", card.level), ("Deck", deck_title)),
        kind="daily_post",
    )


def reveal(
    card: Card,
    *,
    answered: int,
    policy: Policy,
    post_id: int | None = None,
    day: date | None = None,
) -> Message:
    lines = [f"• {point}" for point in card.key_points]
    lines += ["", f"Model answer: {card.answer}"]
    if card.follow_up:
        lines += ["", f"Go deeper: {card.follow_up}"]
    lines += [
        "",
        f"{answered} answered. How well did you know it? Press a button (only you see your "
        f"grade) or react to this message: {grade_legend(policy)}.",
    ]
    buttons = grade_buttons(actions.reveal_grades(post_id)) if post_id is not None else ()
    title = "💡 Key points" + (f" · {day_text(day)}" if day is not None else "")
    return Message(title=title, lines=tuple(lines), buttons=buttons, kind="reveal")


def interval_text(span: timedelta) -> str:
    """A next interval as Anki shows it on its buttons: 1d, 12d, 3.5mo, 1.2y."""
    days = span.total_seconds() / 86400
    if days < 30:
        return f"{max(1, round(days))}d"
    if days < 365:
        months = days / 30.44
        return f"{months:.1f}mo" if months < 10 else f"{round(months)}mo"
    return f"{days / 365.25:.1f}y"


def grade_buttons(
    prefix: str, intervals: Mapping[Grade, timedelta] | None = None
) -> tuple[Button, ...]:
    """Again/Hard/Good/Easy; with ``intervals`` each says where it leads (``Good · 3d``)."""
    styles = {Grade.AGAIN: Style.DANGER, Grade.GOOD: Style.PRIMARY}
    shown = intervals or {}
    return tuple(
        Button(
            f"{g.label} · {interval_text(shown[g])}" if g in shown else g.label,
            f"{prefix}:{int(g)}",
            styles.get(g, Style.DEFAULT),
        )
        for g in Grade
    )


def card_question(card: Card, *, title: str, show_action: str, kind: str) -> Message:
    return Message(
        title=title,
        lines=(card.question,),
        fields=(("Topic", card.topic), ("Level", card.level)),
        buttons=(Button("Show answer", show_action, Style.PRIMARY),),
        kind=kind,
    )


def card_answer(
    card: Card,
    *,
    grade_prefix: str,
    kind: str,
    intervals: Mapping[Grade, timedelta] | None = None,
) -> Message:
    lines = [card.question, "", "Key points:"] + [f"• {p}" for p in card.key_points]
    lines += ["", card.answer, "", "How well did you remember it?"]
    buttons = grade_buttons(grade_prefix, intervals)
    return Message(title="Answer", lines=tuple(lines), buttons=buttons, kind=kind)


def next_review(grade: Grade, due: datetime, now: datetime) -> str:
    days = max(0, round((due - now).total_seconds() / 86400))
    when = "tomorrow" if days <= 1 else f"in {days} days"
    return f"Graded {grade.label}. You will see this card again {when}."


def leaderboard(title: str, points: Board, streaks: Board, on_time: Board) -> Message:
    def block(heading: str, table: Board, one: str, many: str) -> list[str]:
        if not table.rows:
            return [heading, "  nobody yet"]
        lines = [heading] + [
            f"  {r.rank}. {r.name}: {count(r.score, one, many)}" for r in table.rows
        ]
        if table.more_tied:
            tied = count(table.tied_score or 0, one, many)
            lines.append(f"  … and {table.more_tied} more tied at {tied}")
        return lines

    lines = block("Points", points, "pt", "pts")
    lines += ["", *block("Active streaks", streaks, "day", "days")]
    lines += ["", *block("Reviews on time", on_time, "review", "reviews")]
    return Message(title=f"🏆 {title}", lines=tuple(lines), kind="leaderboard")


def help_message(policy: Policy, platform: str = "console") -> Message:
    """What the bot does, how points work, and every command as this platform types it."""
    lines = [
        "Every posting day I ask one question here. Answer in the thread; at reveal time I "
        "post the key points, and you grade yourself by reacting to them: "
        f"{grade_legend(policy)}. Cards you are about to forget come back to you by DM.",
        "",
        "Points:",
        *table_lines(),
    ]
    if platform == "discord":
        admin_only = ", ".join(s.name for s in STUDY if s.admin_only)
        lines += ["", f"{admin_only} are under /{DISCORD_ADMIN_GROUP} (shown to admins only)."]
    fields = [(usage_on(QUIZ, platform), f"{QUIZ.summary} (count 1-20, default 5)")]
    for spec in STUDY:
        who = ""
        if spec.admin and spec.member_forms:
            who = " (the channel: admins; your own DMs: anyone)"
        elif spec.admin:
            who = " (admins)"
        fields.append((usage_on(spec, platform), spec.summary + who))
    return Message(title="studybot help", lines=tuple(lines), fields=tuple(fields))


def schedule_text(settings: ChannelSettings) -> str:
    """``mon-fri at 09:30 (Europe/Berlin), key points 6 hours later``."""
    reveal = settings.reveal
    if reveal.delay is not None:
        when = f"{span_text(reveal.delay)} later"
    else:
        when = f"at {reveal.describe()}"
    return (
        f"{settings.days_text()} at {settings.post_time:%H:%M} ({settings.tz}), key points {when}"
    )


def welcome(channel: ChannelRow, platform: str) -> Message:
    """The one public message of a first setup: how to take part."""
    settings = channel.settings
    first = (
        f"The first question comes {moment(channel.next_post_at, settings.tz)}."
        if channel.next_post_at is not None
        else ""
    )
    return Message(
        title="👋 This channel studies together now",
        lines=(
            f"One question a day: {schedule_text(settings)}. Answer it in the thread, then "
            "grade yourself on the key points with a button or a reaction.",
            "Questions you are about to forget come back to you by DM; streaks and a weekly "
            f"leaderboard keep score, and /quiz gives practice any time. {first}",
            f"{typed(platform, 'help')} lists every command.",
        ),
        kind="welcome",
    )


def settings_summary(channel: ChannelRow, who: str) -> str:
    """The one public line after a burst of setup changes."""
    settings = channel.settings
    scope = [
        f"{name} {value}"
        for name, value in (
            ("decks", ",".join(settings.decks)),
            ("topics", ",".join(settings.topics)),
            ("levels", ",".join(settings.levels)),
        )
        if value
    ]
    extra = f"; {', '.join(scope)}" if scope else ""
    nxt = (
        f" Next question {moment(channel.next_post_at, settings.tz)}."
        if channel.next_post_at is not None
        else ""
    )
    return f"⚙️ {who} changed the study settings: {schedule_text(settings)}{extra}.{nxt}"


def days_text(days: list[date]) -> str:
    """``the question of Tue 3 Mar``, ``… of Mon 3 Mar and Tue 4 Mar``, ``… of 5 days, …``."""
    if len(days) == 1:
        return f"the question of {day_text(days[0])}"
    if len(days) == 2:
        return f"the questions of {day_text(days[0])} and {day_text(days[1])}"
    return f"the questions of {len(days)} days, {day_text(days[0])} to {day_text(days[-1])}"


def span_text(span: timedelta) -> str:
    hours, rest = divmod(int(span.total_seconds()) // 60, 60)
    return count(hours, "hour") if not rest else count(hours * 60 + rest, "minute")


def missed_note(
    days: list[date],
    *,
    due_at: datetime,
    tz: str,
    grace: timedelta,
    today_missed: bool,
    platform: str = "console",
) -> str:
    """The one public note after an outage: what was missed, why, and that it is forgiven."""
    text = (
        f"📭 I missed {days_text(days)}: I could not post at {moment(due_at, tz)} and was "
        f"back only after the {span_text(grace)} I may post late. Missed days are forgiven: "
        "nobody's streak suffers."
    )
    if today_missed:
        late = typed(platform, "post-now", "confirm")
        text += f" An admin can still post today's question late: {late}."
    return text


def shared_reveal(day: date, link: str) -> str:
    """The channel's pointer to a reveal that lives in the thread (where the platform
    cannot show a thread reply in the channel itself)."""
    where = f"in the thread {link}" if link else "in the question's thread"
    return (
        f"💡 The key points of {day_text(day)} are up {where}. Answered or not, have a "
        "look and grade yourself there: it schedules the card for you."
    )


def missed_confirm(day: date, platform: str = "console") -> str:
    return (
        f"Today's question ({day_text(day)}) was missed while I was away. To post it late "
        f"on purpose, type {typed(platform, 'post-now', 'confirm')}; the day stays "
        "forgiven, so nobody's streak suffers from it."
    )


def note_message(text: str) -> Message:
    return Message(lines=(text,))


PAUSE_FIXES = {
    "not_in_channel": "the bot is not a member of the channel: invite it (/invite @studybot)",
    "channel_not_found": "the channel is gone, or the bot cannot see it",
    "is_archived": "the channel is archived: unarchive it",
    "missing_access": "the bot cannot see the channel: give it View Channel there",
    "missing_permissions": (
        "the bot lacks a permission there: Send Messages, Send Messages in Threads, "
        "Create Public Threads, Embed Links, Add Reactions, Read Message History"
    ),
    "unknown_channel": "the channel is gone",
    "forum_channel": "it is a forum channel: pick a text channel",
    "not_a_text_channel": "it is not a text channel: pick a text channel",
}


def pause_fix(reason: str) -> str:
    """What an admin can do about a platform's refusal (``missing_permissions: A, B``)."""
    code, _, detail = reason.partition(": ")
    if code == "missing_permissions" and detail:
        return f"the bot lacks these permissions there: {detail}"
    return PAUSE_FIXES.get(code, f"the platform refused with {reason!r}")


def channel_paused(channel: ChannelRow, reason: str) -> Message:
    """The DM to the admin who set a channel up, when the platform made us pause it."""
    where = f"#{channel.name}" if channel.name else f"channel {channel.channel_ref}"
    fix = pause_fix(reason)
    return Message(
        kind="notice",
        title=f"Daily questions in {where} are paused",
        lines=(
            f"The last post failed: {fix}.",
            f"Then run /study resume in {where}; the schedule goes on from the next day.",
        ),
    )
