"""Forms (modals) as members really send them: long after they opened them, or after the
bot restarted in between. Discord keeps a form open on the member's screen for as long
as they like; the bot must answer whenever it arrives."""

from __future__ import annotations

from typing import Any

from bot.app import PeerBot
from tests.e2e.conftest import said

# Longer than discord.py's old 15-minute modal timeout.
LATE = 16 * 60


async def submit_late(
    env: Any, member: Any, shown: Any, values: dict[str, Any], *, seconds: int = LATE
) -> Any:
    """The member fills the form in for `seconds` of virtual time, then sends it."""
    assert shown.modal is not None, said(shown)
    await env.advance_time(seconds)
    return await member.submit_modal(shown, values)


async def submit_after_restart(
    env: Any, member: Any, shown: Any, values: dict[str, Any], *, bot: PeerBot
) -> Any:
    """The bot restarts (as `bot`, a fresh one) while the member's form is open."""
    assert shown.modal is not None, said(shown)
    await env.restart_bot(bot)
    return await member.submit_modal(shown, values)


def no_form(result: Any) -> None:
    """The button answered without opening a form."""
    assert result.modal is None, f"a form opened: {result.modal!r}"
