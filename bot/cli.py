"""The command line: ``studybot run | content check | db upgrade | tune``.

Settings are built once here and passed down. Any ``StudyBotError`` at start ends the
process with one readable line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.core.errors import ConfigError, ContentError, StudyBotError

if TYPE_CHECKING:
    from bot.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studybot", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"studybot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the bot (console channel when no token is set)")
    _common(run)
    run.add_argument("--console", action="store_true", help="also run the console channel")
    run.add_argument(
        "--clock-speed",
        type=float,
        default=1.0,
        metavar="N",
        help="run time N times faster (on a demo database of its own unless --db is given)",
    )
    run.add_argument(
        "--clock-epoch",
        metavar="ISO",
        help="with --clock-speed: the UTC instant fast time counts from (same across restarts)",
    )

    content = sub.add_parser("content", help="work with deck content")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate decks; print counts per topic")
    check.add_argument("path", nargs="?", type=Path, help="content folder or deck folder")
    imp = content_sub.add_parser("import", help="turn a CSV of cards into a YAML deck")
    imp.add_argument("csv", type=Path, metavar="FILE.csv")
    imp.add_argument("--deck", required=True, help="the new deck's id (kebab-case)")
    imp.add_argument("--topic", help="topic for rows that have none")
    imp.add_argument("--out", type=Path, help="deck folder to write (default content/decks/ID)")

    save = sub.add_parser("backup", help="copy the database safely, then check the copy")
    save.add_argument("path", type=Path, help="a file, or a folder for a dated name")
    _common(save)
    load = sub.add_parser("restore", help="replace the database with a checked backup")
    load.add_argument("path", type=Path, help="the backup file")
    _common(load)

    tune = sub.add_parser(
        "tune", help="fit FSRS parameters per workspace and deck from the review log"
    )
    tune.add_argument("--dry-run", action="store_true", help="show the comparison; write nothing")
    _common(tune)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply database migrations")
    _common(upgrade)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="a TOML settings file")
    parser.add_argument("--db", type=Path, metavar="PATH", help="the SQLite database file")


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from bot.config import load_settings

    overrides = {}
    if args.db is not None:
        overrides["db_url"] = f"sqlite+aiosqlite:///{args.db}"
    return load_settings(args.config, **overrides)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "content" and args.content_command == "import":
            return content_import(args.csv, args.deck, args.topic, args.out)
        if args.command == "content":
            return content_check(args.path)
        if args.command in ("backup", "restore"):
            return _backup_or_restore(args)
        if args.command == "tune":
            return asyncio.run(_tune(args))
        if args.command == "db":
            return asyncio.run(_db_upgrade(args))
        return _run(args)
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"studybot: {len(exc.problems)} content problem(s)", file=sys.stderr)
        return 1
    except StudyBotError as exc:
        print(f"studybot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def content_check(path: Path | None) -> int:
    from bot.decks import find_content_dir, load_decks

    folder = path or find_content_dir()
    total = 0
    for loaded in load_decks(folder):
        deck = loaded.deck
        total += len(deck.cards)
        print(f"{deck.id}: {len(deck.cards)} cards ({deck.title})")
        for topic, count in sorted(Counter(c.topic for c in deck.cards).items()):
            print(f"  {topic:<16} {count:>4}")
        levels = Counter(c.level for c in deck.cards)
        print("  levels: " + ", ".join(f"{lv} {levels.get(lv, 0)}" for lv in deck.levels))
        if loaded.sources is not None:
            covered = {s for c in deck.cards for s in c.source}
            print(
                f"  sources: {len(covered & set(loaded.sources))} of {len(loaded.sources)} covered"
            )
    print(f"ok: {total} cards")
    return 0


def content_import(path: Path, deck: str, topic: str | None, out: Path | None) -> int:
    from bot.decks import find_content_dir
    from bot.decks.importer import import_csv

    target = out or find_content_dir() / "decks" / deck
    progress = sys.stderr if sys.stderr.isatty() else None  # bars on a terminal only
    written = import_csv(path, deck, target, topic, progress=progress)
    print(f"wrote {written}")
    return content_check(written)


def _backup_or_restore(args: argparse.Namespace) -> int:
    from bot.ports.clock import SystemClock
    from bot.store import backup
    from bot.store.engine import sqlite_path

    settings = _settings(args)
    database = sqlite_path(settings.db_url)
    if database is None:
        raise ConfigError(
            "studybot backup and restore work on an SQLite database file; for PostgreSQL "
            "use pg_dump and pg_restore (e.g. pg_dump -Fc DBNAME > studybot.dump)"
        )
    if args.command == "backup":
        written = backup.backup(database, args.path, SystemClock().now())
        print(f"backed up {database} to {written} (integrity_check ok)")
    else:
        backup.restore(args.path, database)
        print(f"restored {database} from {args.path}")
    return 0


async def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.app import open_store

    settings = _settings(args)
    store = await open_store(settings.db_url)
    await store.close()
    print("database is up to date")
    return 0


async def _tune(args: argparse.Namespace) -> int:
    from bot.app import open_store
    from bot.core.srsbook import SrsBook
    from bot.core.tuning import TuneSettings
    from bot.decks import DeckLibrary, find_content_dir
    from bot.ports.chat import Chats
    from bot.ports.clock import SystemClock
    from bot.services.base import Deps
    from bot.services.tuning import Tuning

    settings = _settings(args)
    book = await asyncio.to_thread(SrsBook, retention=settings.desired_retention)
    store = await open_store(settings.db_url)
    try:
        deps = Deps(
            store=store,
            chats=Chats(),
            clock=SystemClock(),
            decks=DeckLibrary.load(find_content_dir(settings.content_dir)),
            srs=book.default,
            policy=settings.policy(),
            book=book,
            tune=TuneSettings(min_reviews=settings.tune_min_reviews),
        )
        reports = await Tuning(deps).tune(dry_run=args.dry_run)
    finally:
        await store.close()
    for report in reports:
        print("\n".join(report.lines()))
    if not reports:
        print("no reviews to fit parameters from")
    elif args.dry_run:
        print(f"dry run: nothing written ({len(reports)} workspace decks compared)")
    else:
        adopted = sum(r.outcome.adopted for r in reports)
        print(f"recorded {len(reports)} tune results; adopted {adopted}")
    return 0


DEMO_SUFFIX = "-demo"


def _demo_settings(settings: Settings, speed: float) -> Settings:
    """A fast clock gets a database of its own, so a demo cannot use up real days.

    The demo file sits beside the usual one (``studybot.db`` -> ``studybot-demo.db``);
    ``--db`` chooses another. Nightly backups are off: at demo speed they would rotate
    the real backups out of ``STUDYBOT_BACKUP_DIR``.
    """
    from bot.store.engine import sqlite_path

    usual = sqlite_path(settings.db_url)
    if usual is None:
        raise ConfigError(
            "--clock-speed runs on a database of its own, beside an SQLite file, but"
            " STUDYBOT_DB_URL is no SQLite file: give the demo one with --db FILE"
        )
    stem = usual.stem if usual.stem.endswith(DEMO_SUFFIX) else usual.stem + DEMO_SUFFIX
    demo = usual.with_name(stem + (usual.suffix or ".db"))
    print(
        f"studybot: demo clock at {speed:g}x: using {demo} ({usual} is left alone;"
        " --db FILE picks another; backups are off)",
        file=sys.stderr,
    )
    return settings.model_copy(update={"db_url": f"sqlite+aiosqlite:///{demo}", "backup_dir": None})


def _run(args: argparse.Namespace) -> int:
    from bot import app, log
    from bot.store.engine import sqlite_path

    settings = _settings(args)
    if args.clock_speed <= 0:
        raise ConfigError("--clock-speed must be a positive number")
    if args.clock_speed != 1.0 and args.db is None:
        settings = _demo_settings(settings, args.clock_speed)
    key = log.install_key(log.key_path(sqlite_path(settings.db_url)))
    log.configure(settings.log_level, settings.log_format, stream=sys.stderr, pseudonym_key=key)

    epoch = None
    if args.clock_epoch:
        from datetime import datetime

        try:
            epoch = datetime.fromisoformat(args.clock_epoch)
        except ValueError:
            raise ConfigError(
                f"--clock-epoch: not an ISO date-time: {args.clock_epoch!r}"
            ) from None
        if epoch.tzinfo is None:
            raise ConfigError(
                "--clock-epoch needs a UTC offset, for example 2026-03-02T09:00+00:00"
            )

    async def serve() -> int:
        console = True if args.console else None
        async with app.build(
            settings, console=console, clock_speed=args.clock_speed, clock_epoch=epoch
        ) as built:
            app.settle_heap()
            return await app.run(built)

    return asyncio.run(serve())
