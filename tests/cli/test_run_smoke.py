"""The real login path against a local stand-in for Discord (no SimCord, no network).

PEERBOARD_DISCORD_API_BASE / PEERBOARD_DISCORD_GATEWAY point the bot at an aiohttp server on
127.0.0.1 that answers like Discord: login (`GET /users/@me`), application info, the command
sync (`GET` then `PUT /applications/{id}/commands`), and the gateway handshake (HELLO,
IDENTIFY, READY). Everything is awaited through events, under one hard timeout.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest
from discord.ext import commands

from bot.app import point_discord_at
from bot.bootstrap import build_bot, build_services
from bot.settings import load_settings
from tests.support.fake_discord import (
    APP_ID,
    TIMEOUT,
    TOKEN,
    FakeDiscord,
    serving,
    start_peerboard_run,
    step,
)


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    async with serving(fake) as served:
        yield served


@pytest.fixture
def discord_urls_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """point_discord_at() changes class attributes: put them back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


@pytest.mark.usefixtures("discord_urls_restored")
async def test_login_sync_and_gateway_handshake_against_a_local_stub(
    fake_discord: FakeDiscord,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)  # no .env or config/peerboard.toml from the repo
    monkeypatch.setenv("PEERBOARD_DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("PEERBOARD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv(
        "PEERBOARD_DISCORD_API_BASE", f"http://127.0.0.1:{fake_discord.port}/api/v10"
    )
    monkeypatch.setenv("PEERBOARD_DISCORD_GATEWAY", f"ws://127.0.0.1:{fake_discord.port}")
    settings = load_settings()
    point_discord_at(settings.discord_api_base, settings.discord_gateway)
    base = discord.http.Route.BASE
    assert base == f"http://127.0.0.1:{fake_discord.port}/api/v10"

    runtime = build_services(settings.database_url_value())
    # READY with no guilds: don't wait discord.py's default 2 s for GUILD_CREATEs that never come.
    bot = build_bot(runtime.services, dev_guild_id=settings.dev_guild_id, guild_ready_timeout=0.0)
    token = settings.token_value()
    assert token == TOKEN

    async def scenario() -> None:
        running = asyncio.create_task(bot.start(token))
        try:
            await step(fake_discord.logged_in, running)
            await step(fake_discord.synced, running)
            await step(fake_discord.identified, running)
            await bot.wait_until_ready()
            assert bot.is_ready()
            assert bot.user is not None and bot.user.id == APP_ID
            assert bot.synced is True
        finally:
            await bot.close()
        await running
        await fake_discord.gateway_closed.wait()
        # A close frame arrived. (discord.py's close() wakes its own pending read first, and
        # that read closes with 4000 before close() can send 1000: either means "closed".)
        assert fake_discord.close_code in (1000, 4000)

    async def shutdown() -> None:
        await bot.close()
        await runtime.close()

    try:
        await asyncio.wait_for(scenario(), timeout=TIMEOUT)
    finally:
        await asyncio.wait_for(shutdown(), timeout=TIMEOUT)

    rest = [(m, p) for m, p, _h, _b in fake_discord.requests if m != "WS"]
    assert rest == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("GET", f"/applications/{APP_ID}/commands"),
        ("PUT", f"/applications/{APP_ID}/commands"),
    ]
    headers = fake_discord.requests[0][2]
    assert headers["Authorization"] == f"Bot {TOKEN}"
    assert headers["User-Agent"].startswith("DiscordBot")
    [ws_path] = [p for m, p, _h, _b in fake_discord.requests if m == "WS"]
    assert ws_path.startswith("/?v=10&encoding=json")

    assert {c["name"] for c in fake_discord.commands} >= {"task", "config", "me"}
    assert fake_discord.identify is not None
    assert fake_discord.identify["token"] == TOKEN
    # No privileged intents (SPEC §8).
    intents = discord.Intents._from_value(fake_discord.identify["intents"])
    assert intents == discord.Intents.default()
    assert not (intents.members or intents.presences or intents.message_content)
    # The token is a secret: never logged.
    assert TOKEN not in caplog.text
    assert TOKEN.split(".")[-1] not in caplog.text


@pytest.mark.usefixtures("discord_urls_restored")
async def test_a_sharded_bot_identifies_as_its_shard(
    fake_discord: FakeDiscord, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PEERBOARD_SHARD_COUNT=2 and PEERBOARD_SHARD_IDS=1: discord.py's AutoShardedBot for
    shard 1 of 2, whose IDENTIFY says so (Discord then sends it only that shard's guilds)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_SHARD_COUNT", "2")
    monkeypatch.setenv("PEERBOARD_SHARD_IDS", "1")
    settings = load_settings()
    point_discord_at(
        f"http://127.0.0.1:{fake_discord.port}/api/v10", f"ws://127.0.0.1:{fake_discord.port}"
    )
    runtime = build_services(sqlite_url)
    bot = build_bot(  # READY has no guilds: none to wait for
        runtime.services, scheduler=False, shards=settings.shards(), guild_ready_timeout=0.0
    )
    assert isinstance(bot, commands.AutoShardedBot)
    assert (bot.shard_count, bot.shard_ids) == (2, [1])

    async def scenario() -> None:
        running = asyncio.create_task(bot.start(TOKEN))
        try:
            await step(fake_discord.identified, running)
            await bot.wait_until_ready()
        finally:
            await bot.close()
        await running

    try:
        await asyncio.wait_for(scenario(), timeout=TIMEOUT)
    finally:
        await asyncio.wait_for(runtime.close(), timeout=TIMEOUT)
    assert fake_discord.identify is not None
    assert fake_discord.identify["shard"] == [1, 2]


@pytest.mark.usefixtures("discord_urls_restored")
async def test_an_unsharded_bot_identifies_without_a_shard(
    fake_discord: FakeDiscord, sqlite_url: str
) -> None:
    """Without the shard settings, one plain commands.Bot, as before sharding."""
    point_discord_at(
        f"http://127.0.0.1:{fake_discord.port}/api/v10", f"ws://127.0.0.1:{fake_discord.port}"
    )
    runtime = build_services(sqlite_url)
    bot = build_bot(runtime.services, scheduler=False, guild_ready_timeout=0.0)
    assert not isinstance(bot, commands.AutoShardedBot)

    async def scenario() -> None:
        running = asyncio.create_task(bot.start(TOKEN))
        try:
            await step(fake_discord.identified, running)
        finally:
            await bot.close()
        await running

    try:
        await asyncio.wait_for(scenario(), timeout=TIMEOUT)
    finally:
        await asyncio.wait_for(runtime.close(), timeout=TIMEOUT)
    assert fake_discord.identify is not None
    assert "shard" not in fake_discord.identify


@pytest.mark.usefixtures("discord_urls_restored")
async def test_a_second_start_does_not_sync_again(
    fake_discord: FakeDiscord, sqlite_url: str
) -> None:
    point_discord_at(
        f"http://127.0.0.1:{fake_discord.port}/api/v10", f"ws://127.0.0.1:{fake_discord.port}"
    )
    runtime = build_services(sqlite_url)
    try:
        for expected in (True, False):
            bot = build_bot(runtime.services, scheduler=False)
            try:
                # login() runs setup_hook, and so the sync, without opening the gateway.
                await asyncio.wait_for(bot.login(TOKEN), timeout=TIMEOUT)
                assert bot.synced is expected
            finally:
                await bot.close()
    finally:
        await runtime.close()
    puts = [p for m, p, _h, _b in fake_discord.requests if m == "PUT"]
    gets = [p for m, p, _h, _b in fake_discord.requests if m == "GET" and p.endswith("/commands")]
    assert (len(gets), len(puts)) == (2, 1)


@pytest.mark.usefixtures("discord_urls_restored")
async def test_a_refused_token_is_a_login_failure(
    fake_discord: FakeDiscord, sqlite_url: str
) -> None:
    fake_discord.refuse_token = True
    point_discord_at(
        f"http://127.0.0.1:{fake_discord.port}/api/v10", f"ws://127.0.0.1:{fake_discord.port}"
    )
    runtime = build_services(sqlite_url)
    bot = build_bot(runtime.services, scheduler=False)
    try:
        with pytest.raises(discord.LoginFailure):
            await asyncio.wait_for(bot.login(TOKEN), timeout=TIMEOUT)
    finally:
        await bot.close()
        await runtime.close()
    assert [(m, p) for m, p, _h, _b in fake_discord.requests] == [("GET", "/users/@me")]


async def test_peerboard_run_as_a_process(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    """`peerboard run` itself: migrates, logs in, syncs, joins the gateway; SIGTERM (docker
    stop, systemd) stops it cleanly; the token shows up nowhere in what it prints, even at
    DEBUG."""
    log_file = tmp_path / "output.log"
    with log_file.open("wb") as output:  # a file, not a pipe: DEBUG output would fill a pipe
        process = await start_peerboard_run(
            fake_discord, tmp_path, output, PEERBOARD_LOG_LEVEL="DEBUG", PYTHONFAULTHANDLER="1"
        )
        running = asyncio.ensure_future(process.wait())

        async def scenario() -> None:
            await step(fake_discord.logged_in, running)
            await step(fake_discord.synced, running)
            await step(fake_discord.identified, running)
            process.send_signal(signal.SIGTERM)
            await running

        try:
            await asyncio.wait_for(scenario(), timeout=TIMEOUT * 2)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: dump every thread
                try:
                    await asyncio.wait_for(process.wait(), timeout=10)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    text = log_file.read_text()
    assert process.returncode == 0, text[-6000:]
    assert "Traceback" not in text
    assert TOKEN not in text and TOKEN.split(".")[-1] not in text
    assert (tmp_path / "data" / "peerboard.db").is_file()  # migrations ran first
    assert fake_discord.identify is not None and fake_discord.identify["token"] == TOKEN
    await asyncio.wait_for(fake_discord.gateway_closed.wait(), timeout=TIMEOUT)
    assert fake_discord.close_code in (1000, 4000)  # it closed the gateway on the way out


async def test_peerboard_run_with_a_refused_token(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    fake_discord.refuse_token = True
    log_file = tmp_path / "output.log"
    with log_file.open("wb") as output:
        process = await start_peerboard_run(fake_discord, tmp_path, output)
        try:
            await asyncio.wait_for(process.wait(), timeout=TIMEOUT * 2)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = log_file.read_text()
    assert process.returncode == 2, text[-3000:]
    assert text.strip().splitlines()[-1] == (
        "Discord refused the token: check PEERBOARD_DISCORD_TOKEN."
    )
    assert "Traceback" not in text
    assert TOKEN not in text


async def test_a_bot_built_to_freeze_its_heap_does_so_once_ready(tmp_path: Path) -> None:
    """freeze_heap (what `peerboard run` asks for): on ready, what was cached at login
    leaves the garbage collector's full collections (short pauses on a big guild)."""
    import gc

    runtime = build_services(f"sqlite+aiosqlite:///{tmp_path / 'freeze.db'}")
    bot = build_bot(runtime.services, scheduler=False, freeze_heap=True)
    try:
        gc.unfreeze()
        await bot.on_ready()
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        await bot.on_ready()  # a reconnect's READY does not freeze again
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        await runtime.close()
    quiet = build_bot(runtime.services, scheduler=False)
    await quiet.on_ready()
    assert gc.get_freeze_count() == 0


async def test_restore_waits_for_a_running_bot_and_backup_does_not(
    fake_discord: FakeDiscord, tmp_path: Path
) -> None:
    """While `peerboard run` serves the board, `peerboard backup` copies it and `peerboard
    restore` refuses; once the bot stopped, the restore goes through."""

    async def peerboard(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("peerboard")),
            *args,
            cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)
        assert process.returncode is not None
        return process.returncode, out.decode()

    log_file = tmp_path / "output.log"
    with log_file.open("wb") as output:
        process = await start_peerboard_run(fake_discord, tmp_path, output)
        running = asyncio.ensure_future(process.wait())
        try:
            await asyncio.wait_for(step(fake_discord.identified, running), timeout=TIMEOUT * 2)
            code, text = await peerboard("backup", "board.db")
            assert code == 0 and "Backed up the database to board.db" in text, text
            code, text = await peerboard("restore", "board.db")
            assert code == 1 and "A bot is running on" in text, text
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(running, timeout=TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, log_file.read_text()[-3000:]
    code, text = await peerboard("restore", "board.db")
    assert code == 0 and "Restored the database from board.db" in text, text
