"""APScheduler 3.11 ``AsyncIOScheduler`` with an in-memory job store and a few jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.metrics import Metrics
from bot.scheduler.jobs import Job, run_logged

MIN_INTERVAL = 0.2


class Scheduler:
    """Runs each job every ``job.every / speed`` real seconds (``--clock-speed``)."""

    def __init__(
        self, jobs: Sequence[Job], *, speed: float = 1.0, metrics: Metrics | None = None
    ) -> None:
        self._jobs = list(jobs)
        self._speed = speed
        self._scheduler: AsyncIOScheduler | None = None
        self.ticks = 0
        self.last_tick = time.monotonic()
        self._running: set[asyncio.Task[object]] = set()
        self._metrics = metrics
        self._last_run: dict[str, float] = {}

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        for job in self._jobs:
            seconds = max(MIN_INTERVAL, job.every / self._speed)
            scheduler.add_job(
                self._runner(job),
                IntervalTrigger(seconds=seconds),
                id=job.name,
                name=job.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(seconds)),
            )
        scheduler.start()
        self._scheduler = scheduler

    def _runner(self, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.ticks += 1
            now = self.last_tick = time.monotonic()
            previous = self._last_run.get(job.name)
            self._last_run[job.name] = now
            if self._metrics is not None and previous is not None:
                expected = max(MIN_INTERVAL, job.every / self._speed)
                self._metrics.tick_lag.labels(job.name).set(max(0.0, now - previous - expected))
            task = asyncio.current_task()
            if task is not None:
                self._running.add(task)
            try:
                await run_logged(job)
            finally:
                if task is not None:
                    self._running.discard(task)

        return run

    async def run_all_now(self) -> None:
        """Run every job once, in order (at start, so catch-up does not wait a tick)."""
        for job in self._jobs:
            await run_logged(job)

    def alive(self, within: float) -> bool:
        """Whether a job started in the last ``within`` real seconds (liveness)."""
        return self.running and time.monotonic() - self.last_tick < within

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop starting jobs, then let the ones in flight finish (at most ``grace`` s)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        if self._running:
            _, pending = await asyncio.wait(set(self._running), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
