"""`peerboard check`: settings, database reachability, token shape."""

from __future__ import annotations

import re

import sqlalchemy as sa

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


async def check_everything(settings: Settings) -> list[str]:
    problems: list[str] = []
    engine = create_engine(settings.database_url_value())
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            schema = await conn.run_sync(schema_problem)
        if schema:
            problems.append(f"PEERBOARD_DATABASE_URL: {schema}")
    except Exception as err:  # any driver error means "not reachable"; show its words
        problems.append(f"PEERBOARD_DATABASE_URL: cannot reach the database ({reason(err)}).")
    finally:
        await engine.dispose()
    token = token_problem(settings)
    if token:
        problems.append(token)
    return problems


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
