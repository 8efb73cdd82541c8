"""The local stand-in for Discord as several processes meet it (tests/support/fake_discord.py):
guilds on shards by Discord's formula, READY then GUILD_CREATE for the shard's guilds only,
and IDENTIFY's `shard` enforced with Discord's close codes — against the real discord.py
client, as `peerboard run` builds it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import discord.gateway
import discord.http
import pytest

from bot.app import point_discord_at
from bot.bootstrap import build_bot, build_services
from bot.domain.shards import Shards, shard_of
from tests.support.fake_discord import (
    INVALID_SHARD,
    SHARDING_REQUIRED,
    TIMEOUT,
    TOKEN,
    FakeDiscord,
    guild_id_on,
    serving,
    step,
)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    """Two guilds on each of 2 shards; point_discord_at's class attributes put back after."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )
    stand_in = FakeDiscord(shard_count=2)
    for shard in range(2):
        for n in range(2):
            stand_in.add_guild(guild_id_on(shard, 2, n), f"S{shard}G{n}", [])
    async with serving(stand_in) as served:
        point_discord_at(f"http://127.0.0.1:{served.port}/api/v10", f"ws://127.0.0.1:{served.port}")
        yield served


def test_guild_ids_land_on_the_shard_asked_for() -> None:
    for count in (1, 2, 3, 7, 16):
        for shard in range(count):
            assert {shard_of(guild_id_on(shard, count, n), count) for n in range(5)} == {shard}


async def test_a_shard_gets_the_guilds_of_its_shard_only(
    fake: FakeDiscord, sqlite_url: str
) -> None:
    runtime = build_services(sqlite_url)
    bot = build_bot(runtime.services, scheduler=False, shards=Shards.only(2, 1))

    async def scenario() -> None:
        running = asyncio.create_task(bot.start(TOKEN))
        try:
            await step(fake.identified, running)
            await bot.wait_until_ready()  # after the GUILD_CREATEs: none left to wait for
            assert {g.id for g in bot.guilds} == {guild_id_on(1, 2, 0), guild_id_on(1, 2, 1)}
            guild = bot.get_guild(guild_id_on(1, 2, 0))
            assert guild is not None and guild.shard_id == 1
            assert {c.name for c in guild.text_channels} == {"tasks", "review", "digest"}
            assert guild.me.guild_permissions.mention_everyone  # invite-url's permissions
            assert not any(r.mentionable for r in guild.roles)
        finally:
            await bot.close()
        await running

    try:
        await asyncio.wait_for(scenario(), timeout=TIMEOUT)
    finally:
        await runtime.close()
    [session] = fake.sessions
    assert session.shard == (1, 2)


@pytest.mark.parametrize(
    ("shards", "asked", "code"),
    [
        (None, None, SHARDING_REQUIRED),  # an unsharded bot where sharding is required
        (Shards.only(3, 1), [1, 3], INVALID_SHARD),  # a count that is not Discord's
    ],
)
async def test_a_wrong_shard_is_refused_with_discords_close_code(
    fake: FakeDiscord,
    sqlite_url: str,
    shards: Shards | None,
    asked: list[int] | None,
    code: int,
) -> None:
    runtime = build_services(sqlite_url)
    bot = build_bot(runtime.services, scheduler=False, shards=shards)
    try:
        with pytest.raises(discord.ConnectionClosed) as closed:
            await asyncio.wait_for(bot.start(TOKEN), timeout=TIMEOUT)
    finally:
        await bot.close()
        await runtime.close()
    assert closed.value.code == code
    assert fake.refused == [(asked, code)]
    assert fake.sessions == []  # no READY, no guilds
