"""A connection to Discord that drops (aiohttp's ServerDisconnectedError, which is not a
discord.HTTPException) in the middle of the bot's work: the sweep delivers everything
else and sends the dropped notice once later; /task create still answers with the task
it made, so the member has no reason to create it again.

SimCord answers every request it receives, so the drop is made at discord.py's public
send method (`Messageable.send`, what the bot calls), for the one channel under test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime
from tests.e2e.conftest import World, said
from tests.e2e.helpers import claimed
from tests.e2e.helpers import create as create_task

HOUR = 3600


def drop_sends(monkeypatch: pytest.MonkeyPatch, drops: Counter[int]) -> None:
    """The next `drops[channel_id]` sends to each channel lose their connection."""
    send: Callable[..., Any] = discord.abc.Messageable.send

    async def dropping(self: discord.abc.Messageable, *args: Any, **kwargs: Any) -> Any:
        channel_id = getattr(self, "id", 0)  # a channel's, a thread's, a DM channel's
        if drops[channel_id] > 0:
            drops[channel_id] -= 1
            raise aiohttp.ServerDisconnectedError()
        return await send(self, *args, **kwargs)

    monkeypatch.setattr(discord.abc.Messageable, "send", dropping)


async def test_a_dropped_connection_for_one_dm_does_not_stop_the_sweep(
    world: World, simcord_bot: PeerBot, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    members = [w.alice, w.bob, w.carol, w.maint]
    extra = [w.guild.add_member(w.env.create_user(name)) for name in ("dana", "eli")]
    members += extra
    for n, who in enumerate(members, start=1):
        await claimed(w, who, f"Task {n}", points=1)
    for who in members:  # their DM channels exist before the drop is aimed at one
        await simcord_bot.create_dm(discord.Object(who.id))
    dropped = w.bob
    drop_sends(monkeypatch, Counter({dropped.user.dm_channel.id: 1}))

    await w.env.advance_time(36 * HOUR)
    report = await simcord_bot.run_sweep()
    got = {who.id: len(list(who.user.dm_channel.history())) for who in members}
    assert got == {who.id: 0 if who is dropped else 1 for who in members}
    assert (report.sent, report.retried) == (5, 1)
    await w.env.advance_time(60)  # the backoff after a first failure
    await simcord_bot.run_sweep()
    for _ in range(3):
        await w.env.advance_time(HOUR)
        await simcord_bot.run_sweep()
    # Exactly once each, overall.
    got = {who.id: len(list(who.user.dm_channel.history())) for who in members}
    assert got == {who.id: 1 for who in members}


async def test_a_dropped_connection_while_posting_the_card_still_answers_with_the_task(
    world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    await create_task(w, "Warm up")
    drop_sends(monkeypatch, Counter({w.tasks.id: 1}))
    r = await w.maint.slash(w.general, "task create", title="Fix the footer")
    text = said(r)
    assert r.ephemeral
    assert text.startswith("Created **#2 · Fix the footer**"), text
    assert "`/task show task:2`" in text and "Something went wrong" not in text
    # One task, not two: nothing told the maintainer to try again.
    listed = await runtime.services.tasks.show(w.guild.id, 2)
    assert listed.title == "Fix the footer"
    with pytest.raises(Exception, match="#3"):
        await runtime.services.tasks.show(w.guild.id, 3)
