"""The composition root: the one place that builds and wires everything.

``build(settings)`` opens resources in order (content, store, HTTP session, platforms,
scheduler) and closes them in reverse; ``run(app)`` serves in one TaskGroup until
SIGINT/SIGTERM or, for the console, the end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

import aiohttp
import structlog

from bot.adapters.base import Adapter
from bot.adapters.console import ConsoleAdapter
from bot.adapters.console.render import Printer
from bot.config import Settings
from bot.core.errors import ConfigError
from bot.core.models import Place
from bot.core.srsbook import SrsBook
from bot.core.tuning import TuneSettings
from bot.decks import DeckLibrary, find_content_dir
from bot.http import HttpServer
from bot.metrics import Metrics
from bot.ports.chat import Chats
from bot.ports.clock import Clock, ScaledClock, SystemClock
from bot.scheduler import Scheduler
from bot.scheduler.jobs import backup_job, jobs
from bot.services.base import Deps
from bot.services.study import StudyBot
from bot.store import backup
from bot.store.engine import check_sqlite_path, sqlite_path
from bot.store.sql import SqlStore
from bot.store.watch import DatabaseWatch

log = structlog.get_logger("studybot.app")


@dataclass
class App:
    settings: Settings
    store: SqlStore
    study: StudyBot
    scheduler: Scheduler
    clock: Clock
    adapters: list[Adapter] = field(default_factory=list)
    http: HttpServer | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    metrics: Metrics = field(default_factory=Metrics)
    runner: asyncio.Task[int] | None = None
    """The task of ``run(app)``, when someone keeps it (tests do)."""
    watch: DatabaseWatch | None = None
    exit_code: int = 0
    """What ``run`` returns: non-zero when the bot stopped because it could not go on."""
    caught_up: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the start-up catch-up has run (the console takes input after it)."""


@contextlib.asynccontextmanager
async def build(
    settings: Settings,
    *,
    console: bool | None = None,
    clock_speed: float = 1.0,
    clock_epoch: datetime | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[App]:
    settings.check_platforms()
    library = DeckLibrary.load(find_content_dir(settings.content_dir))
    settings.check_channels(library.decks, library.topics())  # the file's, as setup checks
    async with contextlib.AsyncExitStack() as stack:
        database = sqlite_path(settings.db_url)
        if database is not None:
            check_sqlite_path(settings.db_url)
            _warn_if_restorable(database, settings.backup_dir)
            stack.enter_context(backup.in_use(database))  # restore refuses while we run
        store = await open_store(settings.db_url)
        stack.push_async_callback(store.close)
        watch = None
        if database is not None:
            watch = store.watch = DatabaseWatch(database)
            watch.arm()
        metrics = Metrics()
        store.on_write = metrics.store_write.observe
        # Auto retention simulates FSRS for a moment: do it before a scaled clock starts.
        book = await asyncio.to_thread(SrsBook, retention=settings.desired_retention)
        if clock is None:
            scaled = clock_speed != 1.0 or clock_epoch is not None
            clock = ScaledClock(clock_speed, clock_epoch) if scaled else SystemClock()
        # From here on this process owns what it claims until it stops or dies (ADR 0011).
        instance = await store.register(clock.now())
        log.info("instance_registered", instance=instance)
        chats = Chats()
        deps = Deps(
            store=store,
            chats=chats,
            clock=clock,
            decks=library,
            srs=book.default,
            policy=settings.policy(),
            book=book,
            tune=TuneSettings(min_reviews=settings.tune_min_reviews),
            item_errors=lambda job: metrics.job_item_errors.labels(job).inc(),
        )
        study = StudyBot(deps)
        await study.tuning.refresh()  # parameters adopted for workspaces and decks
        adapters: list[Adapter] = []
        routes = []
        if settings.slack_bot_token is not None:
            from bot.adapters.slack.adapter import SlackAdapter

            connector = aiohttp.TCPConnector(limit=settings.slack_concurrency)
            session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
            slack = SlackAdapter(
                study,
                bot_token=settings.slack_bot_token.get_secret_value(),
                signing_secret=_secret(settings.slack_signing_secret),
                app_token=_secret(settings.slack_app_token),
                api_url=settings.slack_api_url,
                session=session,
                admins=frozenset(settings.admins),
                metrics=metrics,
                concurrency=settings.slack_concurrency,
            )
            adapters.append(slack)
            chats.add(slack.chat)
            routes += slack.routes()
        if settings.discord_token is not None:
            from bot.adapters.discord.client import DiscordAdapter

            discord_adapter = DiscordAdapter(
                study,
                token=settings.discord_token.get_secret_value(),
                dev_guild=settings.discord_dev_guild,
                admins=frozenset(settings.admins),
                metrics=metrics,
                api_url=settings.discord_api_url,
            )
            adapters.append(discord_adapter)
            chats.add(discord_adapter.chat)
        wanted = console if console is not None else settings.console
        if wanted if wanted is not None else not settings.platforms:
            adapter = ConsoleAdapter(
                study,
                stdin=stdin,
                printer=Printer(stdout) if stdout else None,
                # Exports stay with the data: beside the database (else a private temp folder).
                export_dir=database.parent / "exports" if database is not None else None,
            )
            adapters.append(adapter)
            chats.add(adapter.chat)
        await seed_channels(study, settings)
        job_list = jobs(study, settings.tick_seconds, metrics)
        if settings.backup_dir is not None and database is None:
            log.warning(  # never silent: the nightly copy covers SQLite files only
                "backups_not_run",
                backup_dir=str(settings.backup_dir),
                reason="STUDYBOT_BACKUP_DIR covers SQLite; back up PostgreSQL with pg_dump",
            )
        if settings.backup_dir is not None and database is not None:
            job_list.append(
                backup_job(database, settings.backup_dir, settings.backup_keep, clock.now, metrics)
            )
        scheduler = Scheduler(job_list, speed=clock_speed, metrics=metrics)
        http = None
        if settings.serve_http() or routes:

            async def ready() -> dict[str, bool]:
                usable = watch is None or watch.check() is None
                checks = {"database": usable and await _pings(store)}
                checks.update({a.name: a.connected() for a in adapters})
                return checks

            tick = max(settings.tick_seconds / clock_speed, 0.2)
            http = HttpServer(
                settings.http_host,
                settings.http_port,
                routes,
                alive=lambda: scheduler.alive(within=3 * tick + 5),
                ready=ready,
                metrics=metrics,
            )
        yield App(
            settings, store, study, scheduler, clock, adapters, http, metrics=metrics, watch=watch
        )


async def open_store(url: str) -> SqlStore:
    """The store, or one line saying why the database cannot be used."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    try:
        return await SqlStore.open(url)
    except (sqlite3.DatabaseError, DBAPIError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigError(f"cannot open the database {_safe_url(url)}: {reason}") from None


def _warn_if_restorable(database: Path, backups: Path | None) -> None:
    """A new, empty database where backups exist is worth one line: a lost file?"""
    if database.exists() or backups is None or not backups.is_dir():
        return
    latest = backup.newest(backups)
    if latest is not None:
        log.warning(
            "database_missing_backups_exist",
            database=str(database),
            newest_backup=str(latest),
            hint=f"starting empty; to restore: studybot restore {latest}",
        )


WATCH_SECONDS = 2.0
"""How often the database file is checked (deleted, replaced, unwritable, disk full)."""


async def _watch_database(app: App) -> None:
    """Stop the bot, non-zero, once the database file cannot be trusted."""
    watch = app.watch
    while watch is not None and not app.stop.is_set():
        problem = await asyncio.to_thread(watch.check)
        if problem is not None:
            log.error("database_unusable", problem=problem, action="stopping, to be restarted")
            app.exit_code = EXIT_DATABASE
            app.stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(app.stop.wait(), WATCH_SECONDS)


EXIT_DATABASE = 75
"""EX_TEMPFAIL: the supervisor restarts the bot (systemd ``Restart=on-failure``)."""


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else None


async def _pings(store: SqlStore) -> bool:
    try:
        return await store.ping()
    except Exception:
        return False


async def seed_channels(study: StudyBot, settings: Settings) -> None:
    """Channels from the config file; a channel an admin has set up keeps its settings."""
    for item in settings.channels:
        place = Place(item.platform, item.workspace, item.channel)
        await study.channels.seed(place, item.settings(settings.default_tz))


def settle_heap() -> None:
    """Put what startup built out of the cyclic collector's reach, once, before serving.

    The deck, the SDK modules and the table metadata live as long as the process. Frozen,
    they are no longer walked by every full collection, which trims pauses from the tail
    of handler latency (``bench/engine.py`` does the same before it measures).
    """
    gc.collect()
    gc.freeze()


async def run(app: App) -> int:
    stop = app.stop
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    log.info("starting", adapters=[a.name for a in app.adapters], db=_safe_url(app.settings.db_url))
    for adapter in app.adapters:
        if isinstance(adapter, ConsoleAdapter):
            adapter.ready = app.caught_up
    app.scheduler.start()
    if app.http is not None:
        try:
            await app.http.start()  # healthy from the first request on
        except OSError as exc:
            await app.scheduler.stop(0)
            where = f"{app.settings.http_host}:{app.settings.http_port}"
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ConfigError(f"cannot listen on {where}: {reason} (STUDYBOT_HTTP_PORT)") from None
    try:
        async with asyncio.TaskGroup() as group:
            for adapter in app.adapters:
                group.create_task(_serve(adapter, stop))
            group.create_task(_catch_up(app))
            group.create_task(_watch_database(app))
            group.create_task(stop.wait())
    finally:
        grace = app.settings.shutdown_grace_seconds
        if app.http is not None:
            await app.http.stop()  # first, take no new work
        await app.scheduler.stop(grace)
        if not await app.study.inflight.settle(grace):  # running handlers finish, bounded
            log.warning("shutdown_cut_short", unfinished=app.study.inflight.count)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    log.info("stopped", exit_code=app.exit_code)
    return app.exit_code


CONNECT_WAIT = 30.0
"""How long the start-up catch-up waits for the platforms to connect (then runs anyway:
what a platform cannot take yet stays claimed and is reconciled once it can)."""


async def _catch_up(app: App) -> None:
    """Work that fell due while the bot was down, once the platforms are connected."""
    deadline = asyncio.get_running_loop().time() + CONNECT_WAIT
    while not all(a.connected() for a in app.adapters) and not app.stop.is_set():
        if asyncio.get_running_loop().time() > deadline:
            log.warning(
                "catch_up_before_connected",
                waiting=[a.name for a in app.adapters if not a.connected()],
            )
            break
        await asyncio.sleep(0.05)
    try:
        if not app.stop.is_set():
            await app.scheduler.run_all_now()
    finally:
        app.caught_up.set()


RETRY_FIRST, RETRY_MAX = 1.0, 60.0
"""Back-off, in seconds, between attempts to run a platform that failed."""


async def _serve(adapter: Adapter, stop: asyncio.Event) -> None:
    """Run one adapter; a platform that fails (unreachable, DNS, an SDK error) is run
    again with back-off, and never takes the other platforms or the console down."""
    delay = RETRY_FIRST
    try:
        while not stop.is_set():
            try:
                await adapter.run(stop)
                return
            except Exception as exc:
                if adapter.name == "console":
                    raise
                log.error(
                    "platform_failed",
                    platform=adapter.name,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                    retry_in_s=delay,
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, RETRY_MAX)
    finally:
        if adapter.name == "console":
            stop.set()  # end of input ends the console session


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
