"""The operator's view on the real start path: settings → composition root → a bot that
logs in and joins a (local, stand-in) gateway; JSON log lines from `peerboard run`."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import point_discord_at
from bot.bootstrap import build
from bot.settings import load_settings
from tests.cli.test_run_smoke import (
    discord_urls_restored,  # noqa: F401 — a fixture
    fake_discord,  # noqa: F401 — a fixture
)
from tests.support.fake_discord import TIMEOUT, TOKEN, FakeDiscord, start_peerboard_run, step


def test_no_port_no_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/p.db")
    assert (settings.http_port, settings.http_host, settings.log_format) == (
        None,
        "127.0.0.1",
        "text",
    )
    _runtime, bot = build(settings)
    assert bot.ops is None


@pytest.mark.usefixtures("discord_urls_restored")
async def test_the_configured_server_follows_the_gateway(
    fake_discord: FakeDiscord,  # noqa: F811
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PEERBOARD_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PEERBOARD_HTTP_PORT", "0")  # any free port; the bot says which
    settings = load_settings()
    point_discord_at(
        f"http://127.0.0.1:{fake_discord.port}/api/v10", f"ws://127.0.0.1:{fake_discord.port}"
    )
    runtime, bot = build(settings)
    assert bot.ops is not None and not bot.ops.running
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))

    async def scenario() -> None:
        running = asyncio.create_task(bot.start(TOKEN))
        try:
            await step(fake_discord.identified, running)
            await bot.wait_until_ready()
            assert bot.ops is not None and bot.ops.url.startswith("http://127.0.0.1:")
            async with session.get(bot.ops.url + "/readyz") as r:
                assert (r.status, await r.json()) == (200, {"status": "ready"})
            async with session.get(bot.ops.url + "/healthz") as r:
                assert (r.status, await r.json()) == (200, {"status": "ok"})
            async with session.get(bot.ops.url + "/metrics") as r:
                assert r.status == 200
                assert r.headers["Content-Type"].startswith("text/plain; version=")
                text = await r.text()
            events = {
                s.labels["event"]: s.value
                for family in text_string_to_metric_families(text)
                for s in family.samples
                if s.name == "peerboard_gateway_events_total"
            }
            # discord.py's own events, from a real gateway handshake; no reconnect yet.
            assert events == {"connect": 1, "ready": 1, "resume": 0, "disconnect": 0}
            assert "peerboard_gateway_reconnects_total 0.0" in text
            assert "peerboard_gateway_latency_seconds" in text
        finally:
            await bot.close()
        await running

    try:
        await asyncio.wait_for(scenario(), timeout=TIMEOUT)
    finally:
        await session.close()
        await bot.close()
        await runtime.close()
    assert not bot.ops.running


async def test_peerboard_run_logs_json_lines(
    fake_discord: FakeDiscord,  # noqa: F811
    tmp_path: Path,
) -> None:
    log_file = tmp_path / "output.log"
    with log_file.open("wb") as output:
        process = await start_peerboard_run(
            fake_discord, tmp_path, output, PEERBOARD_LOG_FORMAT="json", PEERBOARD_LOG_LEVEL="DEBUG"
        )
        running = asyncio.ensure_future(process.wait())

        async def scenario() -> None:
            await step(fake_discord.identified, running)
            process.send_signal(signal.SIGTERM)
            await running

        try:
            await asyncio.wait_for(scenario(), timeout=TIMEOUT * 2)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    lines = [line for line in log_file.read_text().splitlines() if line.strip()]
    assert process.returncode == 0, lines[-40:]
    assert len(lines) > 5
    for line in lines:
        record = json.loads(line)  # every line is one JSON object
        assert {"time", "level", "logger", "message"} <= record.keys(), record
    assert any(json.loads(line)["logger"].startswith("discord") for line in lines)
    assert all(TOKEN not in line for line in lines)


async def test_a_taken_port_is_one_line_and_a_non_zero_exit(
    fake_discord: FakeDiscord,  # noqa: F811
    tmp_path: Path,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        log_file = tmp_path / "output.log"
        with log_file.open("wb") as output:
            process = await start_peerboard_run(
                fake_discord, tmp_path, output, PEERBOARD_HTTP_PORT=str(port)
            )
            try:
                await asyncio.wait_for(process.wait(), timeout=TIMEOUT * 2)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    text = log_file.read_text()
    assert process.returncode == 2, text[-3000:]
    assert (
        text.strip()
        .splitlines()[-1]
        .startswith(f"PEERBOARD_HTTP_PORT: cannot listen on 127.0.0.1:{port} (")
    ), text[-3000:]
    assert "Traceback" not in text
