"""The periodic jobs: each one short, each asks the store what is due.

Never one job per channel: ten thousand channels are ten thousand rows, not ten
thousand timers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog

from bot.metrics import Metrics
from bot.services.clockwatch import ClockWatch
from bot.services.study import StudyBot
from bot.store import backup

log = structlog.get_logger("studybot.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    every: float
    """Seconds between runs, in bot time (divided by the clock speed for real time)."""
    run: Callable[[], Awaitable[object]]


def jobs(study: StudyBot, tick: float, metrics: Metrics | None = None) -> list[Job]:
    clock = ClockWatch(study.deps, streaks=study.streaks)

    async def dispatch() -> object:
        await study.deps.store.keep_registered()  # the lock that says this process lives
        await clock.check()  # first, undo what a clock that ran ahead marked missed
        # What is due now goes first; claims a crash left behind are looked up after, so
        # a slow lookup (429s on a channel's history) never makes another post late.
        report = await study.posting.post_due()
        await study.notices.send_due()  # a missed day's note, right after the day's post
        revealed = await study.posting.reveal_due()
        boards = await study.leaderboards.post_due()
        fixed = await study.posting.reconcile() + await study.leaderboards.reconcile()
        if metrics is not None:
            for outcome, count in (
                ("sent", report.posted),
                ("failed", report.failed),
                ("missed", report.missed),
                ("caught_up", report.caught_up),
                ("reconciled", fixed),
            ):
                if count:
                    metrics.posts.labels(outcome).inc(count)
        return {"posts": report, "reveals": revealed, "leaderboards": boards}

    async def followups() -> object:
        sent = await study.followups.send_due()
        if metrics is not None:
            metrics.followup_backlog.set(await study.followups.backlog())
        return sent

    async def housekeeping() -> object:
        """Old inbox rows and event ids go; table sizes become a metric."""
        pruned = await study.inbox.prune()
        sizes = await study.deps.store.table_sizes()
        if metrics is not None:
            for table, rows in sizes.items():
                metrics.table_rows.labels(table).set(rows)
        return {"pruned": pruned, "rows": sum(sizes.values())}

    return [
        Job("dispatch", tick, dispatch),
        Job("followups", max(tick, 60.0) * 5, followups),
        Job("streaks", 3600.0, study.streaks.roll_over),
        Job("housekeeping", 3600.0, housekeeping),
        Job("tune", 7 * 24 * 3600.0, study.tuning.weekly),
    ]


async def run_logged(job: Job) -> None:
    """Run a job; log and swallow its errors (the next tick tries again)."""
    started = time.perf_counter()
    try:
        result = await job.run()
    except Exception:
        log.exception("job_failed", job=job.name)
        return
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    log.debug("job_done", job=job.name, duration_ms=duration_ms, result=str(result))


def backup_job(
    database: Path, folder: Path, keep: int, now: Callable[[], datetime], metrics: Metrics | None
) -> Job:
    """A backup when the newest is a day old, then retention (checked hourly)."""

    async def run() -> object:
        current = now()
        if not await asyncio.to_thread(_backup_due, folder, current):
            return None
        made_path = await asyncio.to_thread(backup.backup, database, folder, current)
        removed = await asyncio.to_thread(backup.prune, folder, keep)
        log.info("backup_written", path=str(made_path), pruned=len(removed))
        return made_path

    return Job("backup", 3600.0, run)


def _backup_due(folder: Path, now: datetime) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    latest = backup.newest(folder)
    if latest is None:
        return True
    made = datetime.fromtimestamp(latest.stat().st_mtime, tz=UTC)
    return now - made >= timedelta(hours=23)
