"""The one place member text is made safe for Discord: markdown and mentions escaped,
length cut to Discord's limits (SPEC §8)."""

from __future__ import annotations

from datetime import datetime

import discord

MESSAGE_MAX = 2000
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELD_MAX = 1024
ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def safe(text: str | None, limit: int = MESSAGE_MAX, *, markdown: bool = True) -> str:
    """Member text as plain text: no formatting tricks, no pings, within `limit`."""
    value = text or ""
    if markdown:
        value = discord.utils.escape_markdown(value)
    value = discord.utils.escape_mentions(value)
    return clip(value, limit)


def stamp(when: datetime, style: str = "R") -> str:
    """A Discord timestamp: each reader sees it in their own timezone."""
    return f"<t:{int(when.timestamp())}:{style}>"


def when(moment: datetime) -> str:
    return f"{stamp(moment, 'f')} ({stamp(moment, 'R')})"


def user(member_id: int) -> str:
    return f"<@{member_id}>"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
