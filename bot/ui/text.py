"""The one place member text is made safe for Discord: markdown and mentions escaped,
length cut to Discord's limits (SPEC §8)."""

from __future__ import annotations

import re
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
    """English only, for the operator's CLI: "1 task", "3 tasks". Members' texts count
    with `tr.plural` (bot/i18n), which knows each language's plural rules."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


_MENTION = re.compile(r"<(@[!&]?|#)(\d+)>")
_MENTION_WORD = {"@": "@member", "@!": "@member", "@&": "@role", "#": "#channel"}


def plain_name(text: str) -> str:
    """Member text for a place Discord shows as plain text and never pings from (a thread's
    name): mention markup reads as what it names, not as escaped code."""
    words = " ".join(_MENTION.sub(lambda m: _MENTION_WORD[m[1]], text).split())
    return discord.utils.escape_mentions(words)  # @everyone stays text (an invisible space)
