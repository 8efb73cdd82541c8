"""A sharded bot against a loopback gateway that sends its shards' guilds (GUILD_CREATE, by
Discord's formula): it caches exactly its own guilds and logs one line once it serves
them (what an operator, and tests/perf/many_guilds.py, wait for)."""

from __future__ import annotations

import asyncio
import logging

import discord
import discord.gateway
import discord.http
import pytest

from bot.app import point_discord_at, ready_line
from bot.bootstrap import build_bot, build_services
from bot.domain.shards import Shards, shard_of
from tests.support.fake_discord import TIMEOUT, TOKEN, serving, step
from tests.support.guild_gateway import (
    GuildGateway,
    balanced_guild_ids,
    guild_payload,
    numbered,
    shards_of,
)


@pytest.fixture
def discord_urls_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """point_discord_at() changes class attributes: put them back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


def test_balanced_guild_ids_take_turns_over_the_shards() -> None:
    ids = balanced_guild_ids(10, 4)
    assert [shard_of(g, 4) for g in ids] == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert shards_of(ids, 4) == {0: 3, 1: 3, 2: 2, 3: 2}
    assert len(set(ids)) == 10


def test_the_ready_line_counts_guilds_and_names_the_shards() -> None:
    assert ready_line(1, None) == "ready: serving 1 guild"
    assert (
        ready_line(2500, Shards.only(4, 1, 0)) == "ready: serving 2,500 guilds on shards 0, 1 of 4"
    )
    assert ready_line(0, Shards.only(2, 1)) == "ready: serving 0 guilds on shard 1 of 2"


@pytest.mark.usefixtures("discord_urls_restored")
async def test_a_process_of_two_shards_caches_its_guilds_and_says_it_is_ready(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ids = balanced_guild_ids(12, 4)
    gateway = GuildGateway(shard_count=4, guilds=numbered(ids))
    gateway.prepare()
    mine = Shards.only(4, 2, 3)
    caplog.set_level(logging.INFO, logger="peerboard")
    async with serving(gateway):
        point_discord_at(
            f"http://127.0.0.1:{gateway.port}/api/v10", f"ws://127.0.0.1:{gateway.port}"
        )
        runtime = build_services(sqlite_url)
        bot = build_bot(runtime.services, scheduler=False, shards=mine, guild_ready_timeout=0.05)

        async def scenario() -> None:
            running = asyncio.create_task(bot.start(TOKEN))
            try:
                await step(gateway.identified, running)
                await bot.wait_until_ready()
                assert {g.id for g in bot.guilds} == {g for g in ids if mine.owns(g)}
                guild = bot.get_guild(ids[2])
                assert guild is not None and guild.shard_id == 2
                me = guild.me
                assert me is not None and not me.guild_permissions.administrator
                assert me.guild_permissions.mention_everyone
                assert {c.name for c in guild.text_channels} == {
                    "general",
                    "tasks",
                    "review",
                    "digest",
                }
            finally:
                await bot.close()
            await running

        try:
            await asyncio.wait_for(scenario(), timeout=TIMEOUT)
        finally:
            await asyncio.wait_for(runtime.close(), timeout=TIMEOUT)
    assert sorted(i["shard"] for i in gateway.identifies) == [[2, 4], [3, 4]]
    assert {s: gateway.starts[s].guilds for s in gateway.starts} == {2: 3, 3: 3}
    assert "ready: serving 6 guilds on shards 2, 3 of 4" in caplog.messages


def test_a_guild_payload_names_its_roles_unmentionable() -> None:
    payload = guild_payload(balanced_guild_ids(1, 4)[0], 0)
    assert all(not r["mentionable"] for r in payload["roles"])
    assert [m["user"]["bot"] for m in payload["members"]] == [True]
