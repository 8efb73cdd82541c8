"""`peerboard check`: settings, database reachability, token shape."""

from __future__ import annotations

import asyncio
import re

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bot.db.backup import sqlite_path
from bot.db.dialect import read_only_problem, sqlite_file_problem, sqlite_look
from bot.db.engine import create_engine
from bot.db.migrate import schema_problem
from bot.settings import Settings

# A bot token is three dot-separated base64url parts: user id, timestamp, HMAC.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")


def token_problem(settings: Settings) -> str | None:
    token = settings.token_value()
    if not token:
        return "PEERBOARD_DISCORD_TOKEN is not set: create a bot in the Discord developer portal and set it."
    if not TOKEN_SHAPE.match(token):
        return "PEERBOARD_DISCORD_TOKEN does not look like a bot token (three parts separated by dots)."
    return None


def reason(err: BaseException) -> str:
    """A driver's error in one line: its own words, without SQLAlchemy's statement dump."""
    inner = getattr(err, "orig", None) or err
    words = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {words[0]}" if words else type(inner).__name__


def check_everything(settings: Settings) -> list[str]:
    problems = [settings.single_process_problem(), database_problem(settings.database_url_value())]
    token = token_problem(settings)
    return [problem for problem in (*problems, token) if problem]


def cannot_open(problem: str) -> str:
    """The one line for a database that must not be opened (`sqlite_file_problem`'s words)."""
    return (
        f"PEERBOARD_DATABASE_URL: cannot open the database ({problem}). Check that it "
        "is a Peerboard database this user may read and write, or point "
        "PEERBOARD_DATABASE_URL at another one."
    )


def database_problem(database_url: str) -> str | None:
    """The database's problem in one line, or None. Nothing is created or written: a SQLite
    file is checked with the standard library (`sqlite_file_problem`) before an engine may
    open it, and a missing one is reported, not made."""
    path = sqlite_path(database_url)
    if path is not None and not path.exists():
        return (
            f"PEERBOARD_DATABASE_URL: there is no database at {path} yet: run `peerboard migrate`."
        )
    problem = sqlite_file_problem(database_url)
    if problem is not None:
        return cannot_open(problem)
    if path is not None:  # read as it stands: no pragma set, no WAL copied into the file
        engine = sa.create_engine(
            "sqlite://", creator=lambda: sqlite_look(path), poolclass=NullPool
        )
        try:
            with engine.connect() as conn:
                schema = schema_problem(conn)
        finally:
            engine.dispose()
        return f"PEERBOARD_DATABASE_URL: {schema}" if schema else None
    return asyncio.run(_schema_problem(database_url))


async def _schema_problem(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            schema = await conn.run_sync(schema_problem) or await conn.run_sync(read_only_problem)
    except Exception as err:  # any driver error means "not reachable"; show its words
        return f"PEERBOARD_DATABASE_URL: cannot reach the database ({reason(err)})."
    finally:
        await engine.dispose()
    return f"PEERBOARD_DATABASE_URL: {schema}" if schema else None


def client_id_from_token(token: str) -> int | None:
    """A bot token's first part is the bot's user ID (= application ID) in base64."""
    import base64
    import binascii

    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None
