"""Small steps the /task end-to-end tests share (fixtures and readers live in conftest)."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import World, card_of, said

# Wording the bot uses only for unexpected errors: a refusal must never read like this.
CRASH_WORDS = ("Something went wrong", "Sorry, that failed")


async def create(w: World, title: str, **options: Any) -> int:
    """A maintainer puts a task on the board; returns its number."""
    r = await w.maint.slash(w.general, "task create", title=title, **options)
    text = said(r)
    match = re.search(r"Created \*\*#(\d+)", text)
    assert match, text
    return int(match[1])


async def claimed(w: World, member: Any, title: str = "Fix the footer", **options: Any) -> int:
    number = await create(w, title, **options)
    r = await member.slash(w.general, "task claim", task=str(number))
    assert "You claimed" in said(r), said(r)
    return number


async def in_review(w: World, member: Any, title: str = "Fix the footer", **options: Any) -> int:
    number = await claimed(w, member, title, **options)
    r = await member.slash(
        w.general, "task submit", task=str(number), link="https://example.org/pr/1"
    )
    assert "Submitted" in said(r), said(r)
    return number


def refused(result: Any, *needles: str) -> str:
    """The member got an ephemeral explanation (not a crash) that says each needle."""
    assert result.acknowledged, "the bot never answered"
    text = said(result)
    assert result.ephemeral, f"a refusal must be ephemeral: {text!r}"
    for crash in CRASH_WORDS:
        assert crash not in text, text
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text!r}"
    return text


def status(w: World, number: int) -> str | None:
    card = card_of(w.tasks, number)
    return next((f.value for f in card.embeds[0].fields if f.name == "Status"), None)


def thread_of(w: World, number: int) -> Any:
    return next(t for t in w.tasks.threads if t.name.startswith(f"#{number} "))


def thread_lines(w: World, number: int) -> list[str]:
    return [m.content for m in thread_of(w, number).history()]


def stored(env: Any, message: Any) -> Any:
    """SimCord's own record of a message: who it really pinged, whatever its text says."""
    channel_id = message.channel_id if hasattr(message, "channel_id") else message.channel.id
    return env.backend.get_message(channel_id, message.id)


def requests_to(env: Any, method: str, path_part: str) -> list[Any]:
    return [e for e in env.http_requests if e.method == method and path_part in e.path]
