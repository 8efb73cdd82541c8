"""A connection to Discord that drops (aiohttp's ServerDisconnectedError, which is not a
discord.HTTPException) in the middle of the bot's work: the sweep delivers everything
else and sends the dropped notice once later; /task create still answers with the task
it made, so the member has no reason to create it again.

SimCord answers every request it receives, so the drop is made at discord.py's public
send method (`Messageable.send`, what the bot calls), for the one channel under test."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime
from tests.e2e.conftest import World, said
from tests.e2e.helpers import claimed, status, thread_lines
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


async def test_a_dropped_connection_while_opening_the_thread_still_records_the_card(
    world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card went out, then opening its thread lost the connection: the card is the
    task's (edited by the next claim), not a stray message nobody updates."""
    w = world
    create_thread: Callable[..., Any] = discord.Message.create_thread
    drops = [1]

    async def dropping(self: discord.Message, *args: Any, **kwargs: Any) -> Any:
        if drops[0] > 0:
            drops[0] -= 1
            raise aiohttp.ServerDisconnectedError()
        return await create_thread(self, *args, **kwargs)

    monkeypatch.setattr(discord.Message, "create_thread", dropping)
    r = await w.maint.slash(w.general, "task create", title="Fix the footer")
    assert drops == [0]  # the drop happened
    text = said(r)
    assert "Something went wrong" not in text
    task = await runtime.services.tasks.show(w.guild.id, 1)
    card = w.tasks.last_message
    assert (task.card_channel_id, task.card_message_id) == (w.tasks.id, card.id)
    assert task.thread_id is None
    r = await w.alice.slash(w.general, "task claim", task="1")
    assert "You claimed" in said(r)
    assert [m.id for m in w.tasks.history()] == [card.id]  # one card, edited in place
    assert status(w, 1) == "🔵 Claimed"


async def test_a_dropped_connection_for_a_thread_line_keeps_it_for_the_sweep(
    world: World, simcord_bot: PeerBot, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    await create_task(w, "Fix the footer")
    task = await runtime.services.tasks.show(w.guild.id, 1)
    assert task.thread_id is not None
    drop_sends(monkeypatch, Counter({task.thread_id: 1}))
    r = await w.alice.slash(w.general, "task claim", task="1")
    assert "You claimed" in said(r)
    before = thread_lines(w, 1)
    await w.env.advance_time(120)
    await simcord_bot.run_sweep()
    after = thread_lines(w, 1)
    assert len(after) == len(before) + 1  # the line Discord never took, posted once
    await w.env.advance_time(HOUR)
    await simcord_bot.run_sweep()
    assert thread_lines(w, 1) == after


async def test_a_delivery_round_that_finds_the_board_busy_leaves_it_for_the_sweep(
    world: World,
    simcord_bot: PeerBot,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """kick() (the round an interaction asks for) meets another writer's lock past the busy
    timeout: one line in the log, no unhandled error, and the sweep sends it later, once."""
    w = world
    await claimed(w, w.bob, "Task 1", points=1)
    await simcord_bot.create_dm(discord.Object(w.bob.id))
    dm = w.bob.user.dm_channel
    drop_sends(monkeypatch, Counter({dm.id: 1}))
    await w.env.advance_time(36 * HOUR)
    report = await simcord_bot.run_sweep()
    assert report.retried == 1  # the claim warning is pending again after its backoff
    await w.env.advance_time(60)

    path = runtime.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        caplog.clear()
        await simcord_bot.deliveries.kick()
        other.execute("ROLLBACK")
    finally:
        other.close()
    lines = [r for r in caplog.records if r.name == "peerboard" and "busy" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None, caplog.text
    assert list(dm.history()) == []
    await simcord_bot.run_sweep()
    assert len(list(dm.history())) == 1
    await w.env.advance_time(HOUR)
    await simcord_bot.run_sweep()
    assert len(list(dm.history())) == 1
