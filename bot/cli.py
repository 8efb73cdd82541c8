"""`peerboard run | migrate | check | invite-url | demo | backup | restore | export`.

Settings are read here; the engine, the services and the bot are built by the
composition root, `bot/bootstrap.py`. Nothing is built at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("peerboard")

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 1  # Discord or the database could not be reached


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _configure_logging(settings: Settings) -> None:
    from bot.logs import configure_logging

    configure_logging(settings)  # secrets and SQL parameters redacted


def _database_refusal(settings: Settings) -> str | None:
    """Why `run` and `migrate` must not touch the database, in one line; None when they may.
    Read-only: a damaged, emptied, unwritable or newer database is left exactly as it is.
    A missing SQLite file is fine: migrating starts a new board there."""
    from bot.checks import cannot_open
    from bot.db.dialect import sqlite_file_problem
    from bot.db.migrate import newer_problem

    url = settings.database_url_value()
    problem = sqlite_file_problem(url)
    if problem is not None:
        return cannot_open(problem)
    newer = newer_problem(url)
    return f"PEERBOARD_DATABASE_URL: {newer}" if newer else None


def _migrated(settings: Settings) -> bool:
    """Apply migrations; a database that can't be opened is one line on stderr, no traceback.
    Call `_database_refusal` first."""
    import sqlalchemy.exc

    from bot.checks import cannot_open, reason
    from bot.db.migrate import upgrade

    try:
        upgrade(settings.database_url_value())
    except (sqlalchemy.exc.SQLAlchemyError, OSError) as err:
        print(cannot_open(reason(err)), file=sys.stderr)
        return False
    return True


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = _settings_or_exit()
    refusal = _database_refusal(settings)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return EXIT_UNAVAILABLE
    _configure_logging(settings)
    if not _migrated(settings):
        return EXIT_UNAVAILABLE
    print("Database is up to date.")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    from bot.checks import check_everything

    settings = _settings_or_exit()
    problems = check_everything(settings)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print("Settings, database and token look fine.")
    return 1 if problems else 0


def cmd_run(_args: argparse.Namespace) -> int:
    from bot.app import point_discord_at
    from bot.bootstrap import build
    from bot.settings import DISCORD_API, DISCORD_GATEWAY

    settings = _settings_or_exit()
    token = settings.token_value()
    if not token:
        print(
            "PEERBOARD_DISCORD_TOKEN is not set: put the bot token in the environment or .env.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    # Before the lock (a refusal writes nothing) and before logging: one line, only.
    refusal = settings.single_process_problem() or _database_refusal(settings)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return EXIT_UNAVAILABLE
    _configure_logging(settings)
    _run_lock_or_exit(settings.database_url_value())
    log.info("database: %s", settings.database_url)  # shown with its password hidden
    if not _migrated(settings):
        return EXIT_UNAVAILABLE
    if settings.discord_api_base != DISCORD_API or settings.discord_gateway != DISCORD_GATEWAY:
        point_discord_at(settings.discord_api_base, settings.discord_gateway)
        log.info("using Discord at %s and %s", settings.discord_api_base, settings.discord_gateway)

    async def run() -> None:
        runtime, bot = build(settings)
        # `docker stop` and systemd send SIGTERM: close the gateway and the database cleanly
        # instead of dying mid-write. (Ctrl-C is handled by asyncio.run.)
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
            loop.add_signal_handler(
                signal.SIGTERM, lambda: stopping.append(loop.create_task(bot.close()))
            )
        try:
            async with bot:
                await bot.start(token)
        finally:
            await runtime.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except Exception as err:  # what a person can fix: one line, no traceback
        problem = _run_problem(err, settings)
        if problem is None:
            raise
        print(problem[1], file=sys.stderr)
        return problem[0]
    return 0


def _run_problem(err: Exception, settings: Settings) -> tuple[int, str] | None:
    """The exit code and the one line for an error a person can act on; None for a bug."""
    import aiohttp
    import discord
    import sqlalchemy.exc

    from bot.checks import reason
    from bot.ops.server import CannotListen

    if isinstance(err, discord.LoginFailure):
        return EXIT_CONFIG, "Discord refused the token: check PEERBOARD_DISCORD_TOKEN."
    if isinstance(err, CannotListen):  # PEERBOARD_HTTP_PORT taken or not allowed
        return EXIT_CONFIG, str(err)
    if isinstance(err, sqlalchemy.exc.SQLAlchemyError):
        return EXIT_UNAVAILABLE, (
            f"PEERBOARD_DATABASE_URL: the database failed ({reason(err)}). "
            "Run `peerboard check` to see what is wrong with it."
        )
    if isinstance(err, discord.DiscordServerError):
        return EXIT_UNAVAILABLE, (
            f"Discord answered with an error ({err.status}): it may be having trouble; "
            "try again in a few minutes."
        )
    if isinstance(err, aiohttp.ClientError | OSError | TimeoutError):
        return EXIT_UNAVAILABLE, (
            f"Cannot reach Discord at {settings.discord_api_base} ({reason(err)}). Check this "
            "machine's network connection (and PEERBOARD_DISCORD_API_BASE, if set), then try "
            "again."
        )
    return None


_HELD: list[object] = []  # the run lock, held until the process ends


def _run_lock_or_exit(database_url: str) -> None:
    """`peerboard run` holds the database's lock while it runs (SQLite): `peerboard restore`
    refuses while it is held, and a second bot on the same file is refused here."""
    from bot.db.backup import RunLock, sqlite_path

    path = sqlite_path(database_url)
    if path is None:
        return
    lock = RunLock(path)
    if not lock.acquire():
        print(f"Another Peerboard is already running on {path}{lock.holder()}.", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG)
    _HELD.append(lock)


def cmd_backup(args: argparse.Namespace) -> int:
    from bot.db.backup import BackupError, backup

    settings = _settings_or_exit()
    try:
        result = backup(settings.database_url_value(), Path(args.path))
    except BackupError as err:
        print(err, file=sys.stderr)
        return 1
    at = f" at revision {result.revision}" if result.revision else ""
    print(f"Backed up the database to {result.path} ({result.size} bytes{at}).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from bot.db.backup import BackupError, restore
    from bot.db.migrate import head_revision, known_revisions

    settings = _settings_or_exit()
    try:
        result = restore(settings.database_url_value(), Path(args.path), known_revisions())
    except BackupError as err:
        print(err, file=sys.stderr)
        return 1
    kept = f" The database as it was is kept at {result.saved_as}." if result.saved_as else ""
    print(f"Restored the database from {args.path} (revision {result.revision}).{kept}")
    if result.revision != head_revision():
        print(
            "The backup is from an older Peerboard: run `peerboard migrate` "
            "(or `peerboard run`, which migrates first)."
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.bootstrap import build_services
    from bot.services.export import ExportFormat
    from bot.ui.text import plural

    settings = _settings_or_exit()
    fmt = ExportFormat(args.format)

    async def export(out: IO[bytes]) -> int:
        runtime = build_services(settings.database_url_value())
        try:
            return (await runtime.services.export.write(args.guild, fmt, out)).tasks
        finally:
            await runtime.close()

    async def knows() -> bool:
        runtime = build_services(settings.database_url_value())
        try:
            return await runtime.services.export.knows(args.guild)
        finally:
            await runtime.close()

    if not asyncio.run(knows()):
        print(
            f"Peerboard holds nothing of guild {args.guild} in this database: check the ID "
            "(Discord: right-click the server → Copy Server ID).",
            file=sys.stderr,
        )
        return 1

    if args.output in (None, "-"):
        tasks = asyncio.run(export(sys.stdout.buffer))
        sys.stdout.buffer.flush()
        print(f"Exported {plural(tasks, 'task')} of guild {args.guild}.", file=sys.stderr)
        return 0
    target = Path(args.output)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as out:
            tasks = asyncio.run(export(out))
        partial.replace(target)
    except OSError as err:
        print(f"Could not write {target}: {err.strerror or err}.", file=sys.stderr)
        return 1
    finally:
        partial.unlink(missing_ok=True)
    print(f"Exported {plural(tasks, 'task')} of guild {args.guild} to {target}.", file=sys.stderr)
    return 0


def cmd_invite_url(args: argparse.Namespace) -> int:
    from bot.app import invite_url
    from bot.checks import client_id_from_token

    client_id = args.client_id
    if client_id is None:
        settings = _settings_or_exit()
        client_id = client_id_from_token(settings.token_value() or "")
    if client_id is None:
        print(
            "Give --client-id (the application ID from the developer portal) or set PEERBOARD_DISCORD_TOKEN.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    print(invite_url(client_id))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from bot import i18n
    from bot.demo import run_demo

    language = i18n.language_of(args.locale) or args.locale
    if language not in i18n.LANGUAGES:
        print(
            f"--locale {args.locale}: the demo speaks {', '.join(i18n.LANGUAGES)}.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        return run_demo(args.seed, preview=args.preview, language=language)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peerboard", description="Peerboard, the volunteer task board bot."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser(
        "check", help="validate settings, reach the database, check the token's shape"
    ).set_defaults(func=cmd_check)
    sub.add_parser("run", help="connect to Discord and serve the board").set_defaults(func=cmd_run)
    invite = sub.add_parser("invite-url", help="print the OAuth2 URL to add the bot to a server")
    invite.add_argument(
        "--client-id", type=int, default=None, help="application ID (default: from the token)"
    )
    invite.set_defaults(func=cmd_invite_url)
    demo = sub.add_parser(
        "demo",
        help="play a community week against a simulated Discord (no token, no network)",
        description="Runs the real bot against SimCord's simulated Discord on this machine and "
        "prints what members see during a scripted week. Needs the demo extra: "
        'pip install -e ".[demo]".',
    )
    demo.add_argument(
        "--seed", type=int, default=1, help="which community: names, parts and tasks (default 1)"
    )
    demo.add_argument(
        "--locale",
        default="en",
        help="the server's language: en, es, fr, de or pt_BR (or a Discord locale such as "
        "es-ES); public posts follow it, members' own replies stay en-US (default en)",
    )
    demo.add_argument(
        "--preview",
        action="store_true",
        help="afterwards, serve SimCord's page of #tasks on 127.0.0.1 until Ctrl-C",
    )
    demo.set_defaults(func=cmd_demo)
    backup = sub.add_parser(
        "backup",
        help="write a consistent copy of the database, safe while the bot runs",
        description="SQLite: an online copy with SQLite's backup API, checked with "
        "integrity_check. PostgreSQL: pg_dump's custom format (needs pg_dump).",
    )
    backup.add_argument("path", help="the backup file to write")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser(
        "restore",
        help="replace the database with a backup (SQLite; the bot must be stopped)",
        description="Checks the backup (integrity and migration revision) first and keeps "
        "the current database beside it as <database>.before-restore-<time>.",
    )
    restore.add_argument("path", help="the backup file to restore")
    restore.set_defaults(func=cmd_restore)
    export = sub.add_parser(
        "export",
        help="write everything of one server (JSON) or its tasks (CSV, for /task import)",
    )
    export.add_argument("--guild", type=int, required=True, help="the server's (guild's) ID")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--output", default=None, help="file to write (default: standard output)")
    export.set_defaults(func=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
