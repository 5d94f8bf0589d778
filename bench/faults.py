"""Crash safety, proven: kill the bot with SIGKILL at random moments and check invariants.

    python bench/faults.py [--kills 200] [--json] [--seed N]

The bot runs as a subprocess in Slack HTTP mode against a local fake Slack Web API, in
fast time (1 bot hour = 3 s), with channels from configuration posting daily. A driver
plays Slack: it sends answers in the daily threads and grades on the reveals, signed
like Slack and redelivered (same event_id, X-Slack-Retry-Num) whenever a delivery got
no 200. A killer sends SIGKILL at random moments and restarts the bot on the same
database each time. Afterwards:

  duplicate_posts       daily posts that reached Slack more than once (by their key)
  missed_posts          required local days due (past the grace window) with no post
  invariant_violations  answers/grades not counted exactly once, duplicate follow-up
                        DMs, stored streaks that differ from their replay, acked events
                        left unhandled in the inbox, or a failed PRAGMA integrity_check

events_taken_over_after_a_kill counts events acked by a process killed before it handled
them, which a restarted process then handled (from the inbox).

All three must be 0. `make faults` runs 1,000 kills; `make test` runs 20.

Platform faults (``tests/slack/fake_faults.py``) come on top of the kills: each Web API
call may get a 503 before it takes effect, a 500 after it took effect, its connection
dropped after it took effect, or start a 429 storm; and Slack may never see the bot's 200
for an event (it delivers it again). Kills fall between claim, send and record of posts,
reveals, follow-ups and event handling alike. ``platform_faults`` counts them by kind.

A day's post is required only if the bot was up for a while inside its grace window, in
one stretch free of 429 waits: a harness too loaded to restart the bot in time, or a
platform that told it to wait, is not a missed post by the bot. ``posts_required`` says
how many channel-days were judged that way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.slack.fake_faults import PlatformFaults  # noqa: E402
from tests.slack.fake_slack import FakeSlack, event_body, signed  # noqa: E402

SECRET = "faults-signing-secret"
SPEED = 2400.0  # one bot hour every 1.5 real seconds
MEMBERS = [f"U{n}" for n in range(1, 6)]
CHANNELS = [f"C{n}" for n in range(1, 5)]
GRADES = ["x", "grimacing", "white_check_mark", "rocket"]
FAULT_RATE = 0.15
"""Share of Web API calls (and of event acks) that meet a platform fault."""
GRACE = timedelta(hours=8)
"""How late a post may still go out. The bot's clock runs 2,400 times faster than the
platform's own waits: one 429 costs a real second, 40 bot minutes, and a storm on a
lookup after a failed send can cost hours of bot time. Eight bot hours (12 real seconds)
keep the window in proportion; a post the bot never sends is still a missed post."""
UP_AT_LEAST = timedelta(hours=1)
"""A post is due from the bot only if it ran this long in one go within the grace window
(one bot hour is 1.5 real seconds: ample for a tick, a catch-up and a send)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Run:
    folder: Path
    api_url: str
    epoch: datetime
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    up: list[tuple[datetime, datetime]] = field(default_factory=list)
    """Bot-time intervals from healthy to killed (or stopped)."""
    up_since: datetime | None = None
    log_level: str = "warning"

    @property
    def db(self) -> Path:
        return self.folder / "faults.db"

    def env(self) -> dict[str, str]:
        start = self.epoch + timedelta(minutes=20)
        channels = [
            {
                "platform": "slack",
                "workspace": "T1",
                "channel": channel,
                "tz": "UTC",
                "time": (start + timedelta(hours=3 * i)).strftime("%H:%M"),
                "days": "daily",
                "reveal": "+2h",
            }
            for i, channel in enumerate(CHANNELS)
        ]
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("STUDYBOT_", "SLACK_", "DISCORD_"))
        }
        return {
            **base,
            "SLACK_BOT_TOKEN": "xoxb-faults",
            "SLACK_SIGNING_SECRET": SECRET,
            "STUDYBOT_SLACK_API_URL": self.api_url,
            "STUDYBOT_HTTP_HOST": "127.0.0.1",
            "STUDYBOT_HTTP_PORT": str(self.port),
            "STUDYBOT_CHANNELS": json.dumps(channels),
            "STUDYBOT_TICK_SECONDS": "60",
            "STUDYBOT_LOG_FORMAT": "json",
            "STUDYBOT_LOG_LEVEL": self.log_level,
            "STUDYBOT_CONTENT_DIR": str(ROOT / "tests" / "data" / "content"),
            "STUDYBOT_WAKING_HOURS": "00:00-23:59",
            "STUDYBOT_GRACE_HOURS": str(GRACE.total_seconds() / 3600),
        }

    def start(self) -> None:
        log = (self.folder / "bot.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "run",
                "--db",
                str(self.db),
                "--clock-speed",
                str(SPEED),
                "--clock-epoch",
                self.epoch.isoformat(),
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.folder,
        )
        log.close()

    def healthy(self) -> None:
        self.up_since = self.bot_now()

    def _down(self) -> None:
        if self.up_since is not None:
            self.up.append((self.up_since, self.bot_now()))
            self.up_since = None

    def kill(self) -> None:
        if self.proc is not None:
            self._down()
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.restarts += 1

    def stop(self) -> int:
        assert self.proc is not None
        self._down()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def was_up(
        self,
        start: datetime,
        end: datetime,
        at_least: timedelta,
        waits: Sequence[tuple[datetime, datetime]] = (),
    ) -> bool:
        """Whether the bot was up for ``at_least`` in one stretch within [start, end], with
        no wait the platform imposed (a 429's ``Retry-After``) inside that stretch."""
        return any(min(b, end) - max(a, start) >= at_least for a, b in _clear(self.up, waits))

    def bot_now(self) -> datetime:
        return self.epoch + (datetime.now(UTC) - self.epoch) * SPEED

    def bot_time(self, monotonic: float) -> datetime:
        """A ``time.monotonic()`` reading (the fake's clock) in bot time."""
        wall = datetime.now(UTC) - timedelta(seconds=time.monotonic() - monotonic)
        return self.epoch + (wall - self.epoch) * SPEED


def _clear(
    spans: Sequence[tuple[datetime, datetime]], waits: Sequence[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """The parts of ``spans`` outside every wait."""
    out = []
    for a, b in spans:
        cursor = a
        for w0, w1 in sorted(w for w in waits if w[1] > a and w[0] < b):
            if w0 > cursor:
                out.append((cursor, w0))
            cursor = max(cursor, w1)
        if cursor < b:
            out.append((cursor, b))
    return out


@dataclass
class Driver:
    fake: FakeSlack
    run: Run
    rng: random.Random
    delivered_answers: set[tuple[str, str]] = field(default_factory=set)
    delivered_grades: dict[tuple[str, str], str] = field(default_factory=dict)
    pending: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    sent_answers: set[tuple[str, str]] = field(default_factory=set)
    sent_grades: set[tuple[str, str]] = field(default_factory=set)
    counter: int = 0
    lost_acks: float = 0.0
    """How often Slack does not see the bot's 200 for an event (and delivers it again)."""
    acks_lost: int = 0

    def _posts(self, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        found = []
        for channel, messages in list(self.fake.messages.items()):
            for message in messages:
                key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
                if key.startswith(prefix):
                    found.append((channel, message))
        return found

    def next_event(self) -> tuple[str, dict[str, Any]] | None:
        revealed = {m.get("thread_ts") for _, m in self._posts("studybot:reveal:")}
        if self.rng.random() < 0.5:
            options = [
                (c, m, u)
                for c, m in self._posts("studybot:post:")
                for u in MEMBERS
                if m["ts"] not in revealed and (m["ts"], u) not in self.sent_answers
            ]
            if options:
                channel, post, user = self.rng.choice(options)
                self.sent_answers.add((post["ts"], user))
                self.counter += 1
                return "answer", {
                    "type": "message",
                    "channel": channel,
                    "user": user,
                    "text": f"answer {self.counter}",
                    "ts": f"{1800000000 + self.counter}.000001",
                    "thread_ts": post["ts"],
                }
        options = [
            (c, m, u)
            for c, m in self._posts("studybot:reveal:")
            for u in MEMBERS
            if (m["ts"], u) not in self.sent_grades
        ]
        if not options:
            return None
        channel, reveal, user = self.rng.choice(options)
        self.sent_grades.add((reveal["ts"], user))
        return "grade", {
            "type": "reaction_added",
            "user": user,
            "reaction": self.rng.choice(GRADES),
            "item_user": "UBOT",
            "item": {"type": "message", "channel": channel, "ts": reveal["ts"]},
            "event_ts": "1.1",
        }

    async def deliver(
        self, http: aiohttp.ClientSession, event_id: str, event: dict[str, Any], attempt: int
    ) -> bool:
        body = event_body(event, event_id)
        headers = {"Content-Type": "application/json", **signed(SECRET, body)}
        if attempt:
            headers.update(
                {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"}
            )
        try:
            async with http.post(
                f"http://127.0.0.1:{self.run.port}/slack/events",
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=3),
            ) as response:
                await response.read()
                ok = response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            ok = False
        if ok and self.rng.random() < self.lost_acks:
            self.acks_lost += 1  # handled, but the 200 never reached Slack: sent again
            if event["type"] == "message":
                self.delivered_answers.add((event["thread_ts"], event["user"]))
            else:
                self.delivered_grades[(event["item"]["ts"], event["user"])] = event["reaction"]
            return False
        if ok:
            if event["type"] == "message":
                self.delivered_answers.add((event["thread_ts"], event["user"]))
            else:
                self.delivered_grades[(event["item"]["ts"], event["user"])] = event["reaction"]
        return ok

    async def step(self, http: aiohttp.ClientSession) -> None:
        still = []
        for event_id, event, attempt in self.pending:  # Slack redelivers what got no 200
            if not await self.deliver(http, event_id, event, attempt + 1):
                still.append((event_id, event, attempt + 1))
        self.pending = still
        made = self.next_event()
        if made is not None:
            self.counter += 1
            event_id = f"Ev{self.counter}"
            if not await self.deliver(http, event_id, made[1], 0):
                self.pending.append((event_id, made[1], 0))


async def wait_healthy(run: Run, http: aiohttp.ClientSession, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            async with http.get(
                f"http://127.0.0.1:{run.port}/healthz", timeout=aiohttp.ClientTimeout(total=1)
            ) as r:
                if r.status == 200:
                    run.healthy()
                    return
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the bot did not become healthy; see bot.log")


async def exercise(
    folder: Path,
    kills: int,
    seed: int,
    *,
    fault_rate: float = FAULT_RATE,
    log_level: str = "warning",
) -> dict[str, Any]:
    rng = random.Random(seed)
    faults = PlatformFaults(random.Random(seed + 1), rate=fault_rate) if fault_rate else None
    # The bot was invited to the channels it serves. users.info answers slowly, so events
    # are often acked and not yet handled when a kill comes (the inbox's case).
    fake = FakeSlack(joined=set(CHANNELS), method_latency={"users.info": 0.3}, faults=faults)
    await fake.start()
    epoch = datetime.now(UTC).replace(microsecond=0)
    run = Run(folder, fake.api_url, epoch, log_level=log_level)
    driver = Driver(fake, run, rng, lost_acks=fault_rate)
    started_bot = run.bot_now()
    async with aiohttp.ClientSession() as http:
        run.start()
        await wait_healthy(run, http)
        for _ in range(kills):
            deadline = time.monotonic() + rng.uniform(0.3, 3.0)
            while time.monotonic() < deadline:
                await driver.step(http)
                await asyncio.sleep(rng.uniform(0.01, 0.1))
            run.kill()
            run.start()
            await wait_healthy(run, http)
        for _ in range(60):  # a quiet stretch: retries land, due work catches up
            await driver.step(http)
            await asyncio.sleep(0.05)
        while driver.pending:
            await driver.step(http)
        await _inbox_settles(run.db)  # events acked by the last process: handled, not cut off
        ended_bot = run.bot_now()
        code = run.stop()
    await fake.stop()
    result = await check(run, fake, driver, started_bot, ended_bot, code)
    injected = dict(faults.injected) if faults is not None else {}
    result["platform_faults"] = injected | {"event_ack_lost": driver.acks_lost}
    return result


async def _inbox_settles(db: Path, within: float = 60.0) -> None:
    """Wait until the running bot has handled every event it acked (or the time is up)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as conn:
            if not conn.execute("SELECT count(*) FROM inbox WHERE handled_at IS NULL").fetchone()[
                0
            ]:
                return
        await asyncio.sleep(0.2)


async def check(
    run: Run, fake: FakeSlack, driver: Driver, started: datetime, ended: datetime, code: int
) -> dict[str, Any]:
    violations: list[str] = []
    keys = Counter(
        ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
        for messages in fake.messages.values()
        for m in messages
    )
    keys.pop(None, None)
    duplicate_posts = sum(
        n - 1 for k, n in keys.items() if str(k).startswith("studybot:post:") and n > 1
    )
    violations += [
        f"posted {n} times: {k}"
        for k, n in keys.items()
        if str(k).startswith(("studybot:reveal:", "studybot:leaderboard:", "studybot:notice:"))
        and n > 1
    ]
    env = run.env()
    grace = GRACE
    missed = 0
    required_posts = 0
    missed_days: list[str] = []
    # Every 429 made the bot wait its Retry-After (one real second, 40 bot minutes): time
    # the platform took, not the bot. Real Slack asks for seconds; the bench's fast clock
    # turns them into bot hours, so they do not count as time the bot had to post.
    waits = [
        (run.bot_time(call.at), run.bot_time(call.at + call.retry_after)) for call in fake.throttled
    ]
    with sqlite3.connect(run.db) as conn:  # due days count from when the channels existed
        created = conn.execute("SELECT min(created_at) FROM channels").fetchone()[0]
    started = max(started, datetime.fromisoformat(created).replace(tzinfo=UTC))
    for channel in json.loads(env["STUDYBOT_CHANNELS"]):
        hour, minute = map(int, channel["time"].split(":"))
        day = started.date()
        while day <= ended.date():
            due = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
            required = run.was_up(due, due + grace, UP_AT_LEAST, waits)
            if started < due < ended - grace and required:
                required_posts += 1
                ids = [
                    k
                    for k in keys
                    if str(k).startswith("studybot:post:") and str(k).endswith(day.isoformat())
                ]
                channel_keys = [k for k in ids if _channel_of(run.db, str(k)) == channel["channel"]]
                if not channel_keys:
                    missed += 1
                    missed_days.append(f"{channel['channel']} {due.isoformat()}")
            day += timedelta(days=1)
    conn = sqlite3.connect(run.db)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            violations.append("integrity_check failed")
        answers = Counter(r[0] for r in conn.execute("SELECT message_ref FROM answers"))
        stored = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT p.thread_ref, m.user_ref FROM answers a JOIN daily_posts p ON p.id = a.post_id "
                "JOIN members m ON m.id = a.member_id"
            )
        }
        if any(n > 1 for n in answers.values()):
            violations.append("an answer message stored twice")
        if stored != driver.delivered_answers:
            violations.append(
                f"answers: {len(driver.delivered_answers)} delivered, {len(stored)} stored"
            )
        grades = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                "SELECT p.reveal_ref, m.user_ref, g.emoji FROM grades g JOIN daily_posts p ON p.id = g.post_id "
                "JOIN members m ON m.id = g.member_id"
            )
        }
        if grades != driver.delivered_grades:
            violations.append(
                f"grades: {len(driver.delivered_grades)} delivered, {len(grades)} stored"
            )
        activity = Counter(
            (r[0], r[1], r[2]) for r in conn.execute("SELECT member_id, kind, ref FROM activity")
        )
        if any(n > 1 for n in activity.values()):
            violations.append("an activity counted twice")
        # Events acked, then the process killed before they were handled: the inbox rows
        # a later process took over (attempts > 1). None may be left unhandled.
        drained = conn.execute("SELECT count(*) FROM inbox WHERE attempts > 1").fetchone()[0]
        unhandled = conn.execute("SELECT count(*) FROM inbox WHERE handled_at IS NULL").fetchone()[
            0
        ]
        if unhandled:
            violations.append(f"{unhandled} acked events never handled")
    finally:
        conn.close()
    violations += _followup_dms(run.db, fake)
    violations += await _streaks(run.db, ended)
    if code != 0:
        violations.append(f"the final SIGTERM exited with {code}")
    return {
        "restarts": run.restarts,
        "duplicate_posts": duplicate_posts,
        "missed_posts": missed,
        "missed_days": missed_days[:10],
        "posts_required": required_posts,
        "invariant_violations": len(violations),
        "violations": violations[:20],
        "posts": sum(1 for k in keys if str(k).startswith("studybot:post:")),
        "reveals": sum(1 for k in keys if str(k).startswith("studybot:reveal:")),
        "leaderboards": sum(1 for k in keys if str(k).startswith("studybot:leaderboard:")),
        "answers_delivered": len(driver.delivered_answers),
        "grades_delivered": len(driver.delivered_grades),
        "followup_dms": len(_dm_messages(fake)),
        "events_taken_over_after_a_kill": drained,
        "bot_hours": round((ended - started).total_seconds() / 3600, 1),
    }


def _dm_key(message: dict[str, Any]) -> str:
    payload = (message.get("metadata") or {}).get("event_payload") or {}
    return str(payload.get("key") or "")


def _dm_messages(fake: FakeSlack) -> list[dict[str, Any]]:
    """Every follow-up DM the fake holds: a message in a D channel carrying a follow-up's
    key (kept when a press edits the DM)."""
    return [
        m
        for channel, messages in fake.messages.items()
        if channel.startswith("D")
        for m in messages
        if _dm_key(m).startswith("followup:")
    ]


def _followup_dms(db: Path, fake: FakeSlack) -> list[str]:
    """Each DM went out once, under its own key, and the store knows it: a DM that no
    follow-up row points at is one the bot lost track of (and will likely send again)."""
    dms = _dm_messages(fake)
    keys = Counter(_dm_key(m) for m in dms)
    found = [f"follow-up DM sent {n} times: {k}" for k, n in keys.items() if n > 1]
    conn = sqlite3.connect(db)
    try:
        refs = {
            r[0]
            for r in conn.execute("SELECT message_ref FROM followups WHERE message_ref IS NOT NULL")
        }
    finally:
        conn.close()
    lost = [_dm_key(m) for m in dms if m["ts"] not in refs]
    if lost:
        found.append(f"{len(lost)} follow-up DMs no row points at: {', '.join(lost[:5])}")
    return found


def _channel_of(db: Path, key: str) -> str | None:
    channel_id = key.split(":")[2]
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT channel_ref FROM channels WHERE id = ?", (int(channel_id),)
        ).fetchone()
    finally:
        conn.close()
    return row[0] if row else None


async def _streaks(db: Path, now: datetime) -> list[str]:
    """Each stored streak, folded to the same day, equals the streak replayed from history."""
    from bot.core.srs import Srs
    from bot.core.streaks import advance
    from bot.decks import DeckLibrary
    from bot.ports.chat import Chats
    from bot.services.base import Deps
    from bot.services.policy import Policy, default_channel_settings
    from bot.services.streaks import Streaks
    from bot.store.sql import SqlStore
    from tests.fakes import FakeClock

    async def run() -> list[str]:
        store = await SqlStore.open(f"sqlite+aiosqlite:///{db}")
        try:
            library = DeckLibrary.load(ROOT / "tests" / "data" / "content")
            deps = Deps(
                store,
                Chats(),
                FakeClock(now),
                library,
                Srs(),
                Policy(defaults=default_channel_settings()),
            )
            streaks = Streaks(deps)

            def unit(tx: Any) -> list[str]:
                problems = []
                for channel_ref in CHANNELS:
                    channel = tx.channels.find("slack", "T1", channel_ref)
                    if channel is None:
                        continue
                    for membership in tx.members.memberships(channel_id=channel.id):
                        replayed = streaks.recomputed(tx, channel, membership)
                        history = streaks.history(tx, channel, membership)
                        through = replayed.evaluated_through
                        stored = (
                            advance(membership.streak, history, through)
                            if through
                            else membership.streak
                        )
                        if stored.current != replayed.current or stored.best != replayed.best:
                            problems.append(
                                f"streak of {membership.member.user_ref} in {channel_ref}: {stored} != {replayed}"
                            )
                return problems

            return await store.read(unit)
        finally:
            await store.close()

    return await run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument(
        "--fault-rate", type=float, default=FAULT_RATE, help="share of API calls faulted"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it")
    parser.add_argument("--log-level", default="warning", help="the bot's, in bot.log")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(args.keep or temporary)  # --keep: the database and bot.log stay
        folder.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(
            exercise(
                folder,
                args.kills,
                args.seed,
                fault_rate=args.fault_rate,
                log_level=args.log_level,
            )
        )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    bad = result["duplicate_posts"] or result["missed_posts"] or result["invariant_violations"]
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
