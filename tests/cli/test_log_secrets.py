"""Secrets stay out of what Peerboard prints: its settings and its logs, even at DEBUG.

The DEBUG session is `peerboard run` as a process against the local stand-in for Discord
of test_run_smoke (discord.py's real gateway and HTTP code, which is what logs the
gateway's event payloads and the interaction webhook URLs): READY, then an autocomplete
interaction whose typed text reaches SQL as a parameter. Its output is scanned for the
bot token, the interaction token, the typed text and the database password.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import WSMsgType, web

from bot.logs import RedactingFilter, secrets_of
from bot.settings import load_settings
from tests.support.fake_discord import (
    APP_ID,
    BOT_USER,
    TIMEOUT,
    TOKEN,
    FakeDiscord,
    serving,
    start_peerboard_run,
    step,
)

GUILD = "1300000000000000001"
CHANNEL = "1300000000000000002"
INTERACTION_ID = "1300000000000000003"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTMwMDAwMDAwMDAwMDAwMDAwMzpzZWNyZXQ-part_two.three"
TYPED = "zebra-typed-9931"
PASSWORD = "pw-Sup3r-s3cret"
PG_URL = f"postgresql+asyncpg://peerboard:{PASSWORD}@db.example.org:5432/peerboard"


@dataclass
class InteractingDiscord(FakeDiscord):
    """After READY, sends one autocomplete interaction for `/task show task:<TYPED>`."""

    answered: asyncio.Event = field(default_factory=asyncio.Event)

    async def rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        if path == f"/interactions/{INTERACTION_ID}/{INTERACTION_TOKEN}/callback":
            self.requests.append((request.method, path, {}, await request.json()))
            self.answered.set()
            return web.Response(status=204)
        return await super().rest(request)

    async def gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        async for message in ws:
            if message.type is not WSMsgType.TEXT:
                break
            payload = json.loads(message.data)
            if payload["op"] == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif payload["op"] == 2:
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
                await ws.send_str(json.dumps({"op": 0, "s": 1, "t": "READY", "d": ready}))
                event = {"op": 0, "s": 2, "t": "INTERACTION_CREATE", "d": self.interaction()}
                await ws.send_str(json.dumps(event))
        self.gateway_closed.set()
        return ws

    def interaction(self) -> dict[str, object]:
        task = next(c for c in self.commands if c["name"] == "task")
        user = {**BOT_USER, "id": "1300000000000000009", "username": "alice", "bot": False}
        return {
            "id": INTERACTION_ID,
            "application_id": str(APP_ID),
            "type": 4,
            "token": INTERACTION_TOKEN,
            "version": 1,
            "guild_id": GUILD,
            "channel_id": CHANNEL,
            "member": {
                "user": user,
                "roles": [],
                "joined_at": "2026-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": "1024",
            },
            "data": {
                "id": task["id"],
                "name": "task",
                "type": 1,
                "options": [
                    {
                        "type": 1,
                        "name": "show",
                        "options": [{"type": 3, "name": "task", "value": TYPED, "focused": True}],
                    }
                ],
            },
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": "0",
            "entitlements": [],
            "authorizing_integration_owners": {"0": GUILD},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }


@pytest.fixture
async def interacting_discord() -> object:
    fake = InteractingDiscord()
    async with serving(fake) as served:
        yield served


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_with_password(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL carrying PASSWORD (the throwaway server trusts local connections and
    ignores it; on SQLite there is none to leak)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/data/peerboard.db"
    url = str(request.getfixturevalue("pg_empty_url"))
    return url.replace("://peerboard@", f"://peerboard:{PASSWORD}@", 1)


async def test_a_debug_run_prints_no_token_no_interaction_token_no_sql_parameter(
    interacting_discord: InteractingDiscord, tmp_path: Path, database_with_password: str
) -> None:
    fake = interacting_discord
    log_file = tmp_path / "output.log"
    with log_file.open("wb") as output:
        process = await start_peerboard_run(
            fake,
            tmp_path,
            output,
            PEERBOARD_LOG_LEVEL="DEBUG",
            PEERBOARD_DATABASE_URL=database_with_password,
        )
        running = asyncio.ensure_future(process.wait())

        async def scenario() -> None:
            await step(fake.identified, running)
            await step(fake.answered, running)
            process.send_signal(signal.SIGTERM)
            await running

        try:
            await asyncio.wait_for(scenario(), timeout=TIMEOUT * 2)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    text = log_file.read_text()
    assert process.returncode == 0, text[-6000:]
    [callback] = [body for m, p, _h, body in fake.requests if p.endswith("/callback")]
    assert callback["type"] == 8  # the autocomplete was answered: the typed text was looked up
    assert "WebSocket Event" in text and "INTERACTION_CREATE" in text  # DEBUG really was on
    assert "database: " in text  # the URL is logged, its password hidden
    for secret in (TOKEN, TOKEN.split(".")[-1], INTERACTION_TOKEN, PASSWORD):
        assert secret not in text, secret
    if database_with_password.startswith("sqlite"):
        # aiosqlite logs each call at DEBUG: the SQL stays, its parameters (the typed text
        # among them; it is in the gateway's event, as the member sent it) do not.
        sql = [line for line in text.splitlines() if " aiosqlite: executing" in line]
        assert any("SELECT" in line for line in sql)
        assert not [line for line in sql if TYPED in line]
    assert "[redacted]" in text


def test_settings_print_the_database_password_and_the_token_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env or config/peerboard.toml from the repo
    settings = load_settings(discord_token=TOKEN, database_url=PG_URL)
    shown = [
        repr(settings),
        str(settings),
        str(settings.model_dump()),
        settings.model_dump_json(),
        repr(settings.database_url),
        str(settings.database_url),
    ]
    for text in shown:
        assert PASSWORD not in text and TOKEN not in text, text
    assert "db.example.org" in repr(settings)  # still says which database
    assert settings.database_url.get_secret_value() == PG_URL


def test_the_log_filter_redacts_what_it_is_given(tmp_path: Path) -> None:
    """Peerboard's handler on records carrying the secrets in every shape they come in."""
    settings = load_settings(discord_token=TOKEN, database_url=PG_URL)
    records = [
        ("peerboard", "connecting to %s", (PG_URL,)),
        ("sqlalchemy.engine.Engine", "[%s] %r", ("generated in 0.001s", (TYPED, 3))),
        ("discord.gateway", "event: %s", ({"token": INTERACTION_TOKEN, "id": 1},)),
        ("discord.webhook.async_", "POST %s", (f"/webhooks/1/{INTERACTION_TOKEN}/messages",)),
        ("peerboard", "Authorization: Bot %s", (TOKEN,)),
    ]
    handler_filter = RedactingFilter(secrets_of(settings))
    for name, msg, args in records:
        record = logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args, None)
        assert handler_filter.filter(record)
        text = record.getMessage()
        for secret in (PASSWORD, TYPED, INTERACTION_TOKEN, TOKEN):
            assert secret not in text, (name, text)
    try:
        raise RuntimeError(f"cannot reach {PG_URL}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("peerboard", logging.ERROR, __file__, 1, "x", (), sys.exc_info())
    handler_filter.filter(record)
    assert record.exc_text is not None and PASSWORD not in record.exc_text
    assert "RuntimeError" in record.exc_text
