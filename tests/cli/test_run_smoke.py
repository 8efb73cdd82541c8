"""The real login path against a local stand-in for Discord (no SimCord, no network).

PEERBOARD_DISCORD_API_BASE / PEERBOARD_DISCORD_GATEWAY point the bot at an aiohttp server on
127.0.0.1 that answers like Discord: login (`GET /users/@me`), application info, the command
sync (`GET` then `PUT /applications/{id}/commands`), and the gateway handshake (HELLO,
IDENTIFY, READY). Everything is awaited through events, under one hard timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import discord.gateway
import discord.http
import pytest
from aiohttp import WSMsgType, web
from discord.ext import commands

from bot.app import point_discord_at
from bot.bootstrap import build_bot, build_services
from bot.settings import load_settings

APP_ID = 1234567890123456789
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GhJkLm.a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"
TIMEOUT = 30.0
BOT_USER = {
    "id": str(APP_ID),
    "username": "Peerboard",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "flags": 0,
}
JSON = {"Content-Type": "application/json"}  # exactly: discord.py compares the whole string


@dataclass
class FakeDiscord:
    """Records what the bot sends; sets an event at each step of a start."""

    port: int = 0
    requests: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)
    identify: dict[str, Any] | None = None
    refuse_token: bool = False
    close_code: int | None = None
    logged_in: asyncio.Event = field(default_factory=asyncio.Event)
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    gateway_closed: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self.rest)
        return app

    @staticmethod
    def reply(body: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, body=json.dumps(body).encode(), headers=JSON)

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await request.json() if request.can_read_body else None
        self.requests.append((request.method, path, dict(request.headers), body))
        route = (request.method, path)
        if route == ("GET", "/users/@me"):
            if self.refuse_token:
                return self.reply({"message": "401: Unauthorized", "code": 0}, status=401)
            self.logged_in.set()
            return self.reply(BOT_USER)
        if route == ("GET", "/oauth2/applications/@me"):
            return self.reply(
                {
                    "id": str(APP_ID),
                    "name": "Peerboard",
                    "description": "",
                    "icon": None,
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "verify_key": "0" * 64,
                    "owner": {**BOT_USER, "id": "42", "username": "owner", "bot": False},
                    "team": None,
                    "flags": 0,
                }
            )
        if route == ("GET", f"/applications/{APP_ID}/commands"):
            return self.reply(self.commands)
        if route == ("PUT", f"/applications/{APP_ID}/commands"):
            self.commands = [
                {**cmd, "id": str(1000 + i), "application_id": str(APP_ID), "version": "1"}
                for i, cmd in enumerate(body)
            ]
            self.synced.set()
            return self.reply(self.commands)
        return self.reply({"message": "404: Not Found", "code": 0}, status=404)

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.requests.append(("WS", request.path_qs, dict(request.headers), None))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        while True:
            message = await ws.receive()
            if message.type is WSMsgType.CLOSE:
                self.close_code = int(message.data)
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 1:  # heartbeat
                await ws.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:  # identify
                self.identify = payload["d"]
                self.identified.set()
                ready = {
                    "v": 10,
                    "user": BOT_USER,
                    "guilds": [],
                    "session_id": "smoke-session",
                    "resume_gateway_url": f"ws://127.0.0.1:{self.port}",
                    "application": {"id": str(APP_ID), "flags": 0},
                }
                if "shard" in self.identify:  # as Discord does: READY names the shard
                    ready["shard"] = self.identify["shard"]
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": ready}))
        self.gateway_closed.set()
        return ws


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = runner.addresses[0][1]
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
def discord_urls_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """point_discord_at() changes class attributes: put them back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


async def step(event: asyncio.Event, running: asyncio.Task[None]) -> None:
    """Wait for the stub to see the next step, or fail at once if the bot stopped instead."""
    waiter = asyncio.ensure_future(event.wait())
    done, _ = await asyncio.wait({waiter, running}, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        running.result()  # raises what stopped the bot
        raise AssertionError("the bot stopped before the next step")


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
    bot = build_bot(runtime.services, dev_guild_id=settings.dev_guild_id)
    # READY with no guilds: don't wait discord.py's default 2 s for GUILD_CREATEs that never come.
    bot._connection.guild_ready_timeout = 0.0
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
    bot = build_bot(runtime.services, scheduler=False, shards=settings.shards())
    assert isinstance(bot, commands.AutoShardedBot)
    assert (bot.shard_count, bot.shard_ids) == (2, [1])
    bot._connection.guild_ready_timeout = 0.0  # READY has no guilds: none to wait for

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
    bot = build_bot(runtime.services, scheduler=False)
    assert not isinstance(bot, commands.AutoShardedBot)
    bot._connection.guild_ready_timeout = 0.0

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


async def start_peerboard_run(
    fake: FakeDiscord, cwd: Path, output: Any, **env: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("peerboard")),
        "run",
        cwd=cwd,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(cwd),
            "PEERBOARD_DISCORD_TOKEN": TOKEN,
            "PEERBOARD_DISCORD_API_BASE": f"http://127.0.0.1:{fake.port}/api/v10",
            "PEERBOARD_DISCORD_GATEWAY": f"ws://127.0.0.1:{fake.port}",
            **env,
        },
        stdout=output,
        stderr=subprocess.STDOUT,
    )


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
