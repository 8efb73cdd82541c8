"""The composition root: `peerboard run | migrate | check | invite-url | demo`.

Settings, engine, services and the bot are built here and passed down; nothing is
built at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("peerboard")

EXIT_CONFIG = 2


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as err:
        print(err, file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )


def cmd_migrate(_args: argparse.Namespace) -> int:
    from bot.db.migrate import upgrade

    settings = _settings_or_exit()
    _configure_logging(settings)
    upgrade(settings.database_url)
    print("Database is up to date.")
    return 0


def cmd_check(_args: argparse.Namespace) -> int:
    from bot.checks import check_everything

    settings = _settings_or_exit()
    problems = asyncio.run(check_everything(settings))
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print("Settings, database and token look fine.")
    return 1 if problems else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peerboard", description="Peerboard, the volunteer task board bot."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser(
        "check", help="validate settings, reach the database, check the token's shape"
    ).set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
