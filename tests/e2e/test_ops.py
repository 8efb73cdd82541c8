"""The operator's view (PEERBOARD_HTTP_PORT): /healthz, /readyz and /metrics served by
aiohttp beside the real bot, on a free loopback port, asked with aiohttp's client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import simcord
from prometheus_client.parser import text_string_to_metric_families

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot
from bot.ops.server import HttpOptions
from tests.e2e.conftest import World, card_of, check_traffic, said
from tests.e2e.helpers import claimed, create, refused


def ops_bot(runtime: Runtime) -> PeerBot:
    bot = build_bot(runtime.services, scheduler=False, http=HttpOptions("127.0.0.1", 0))
    runtime.count_errors(bot.metrics)
    return bot


@pytest.fixture
async def simcord_bot(runtime: Runtime) -> AsyncIterator[PeerBot]:
    bot = ops_bot(runtime)
    yield bot
    await bot.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # One connection per request: a kept-alive connection is a handler task in the bot's
    # loop waiting for the next request, which SimCord's settling would wait for.
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True),
        timeout=aiohttp.ClientTimeout(total=10),
    ) as session:
        yield session


async def get(http: aiohttp.ClientSession, bot: PeerBot, path: str) -> tuple[int, Any]:
    assert bot.ops is not None
    async with http.get(bot.ops.url + path) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, parsed by prometheus_client's own parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def interactions(text: str, command: str, outcome: str) -> float:
    key = ("peerboard_interactions_total", (("command", command), ("outcome", outcome)))
    return samples(text).get(key, 0.0)


def not_a_database(path: Path) -> None:
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 512)


async def test_readyz_is_503_until_the_gateway_is_ready_then_200_and_503_at_close(
    runtime: Runtime, http: aiohttp.ClientSession
) -> None:
    bot = ops_bot(runtime)
    try:
        assert bot.ops is not None
        await bot.ops.start()  # as setup_hook does at login, before the gateway's READY
        assert bot.ops.port > 0  # port 0: the system chose a free one
        status, body = await get(http, bot, "/readyz")
        assert (status, body) == (
            503,
            {"status": "not ready", "reason": "not connected to the Discord gateway yet"},
        )
        assert await get(http, bot, "/healthz") == (200, {"status": "ok"})
        async with simcord.run(bot) as env:
            assert await get(http, bot, "/readyz") == (200, {"status": "ready"})
            bot.dispatch("disconnect")  # what discord.py dispatches when the socket drops
            status, body = await get(http, bot, "/readyz")
            assert status == 503 and "disconnected" in body["reason"], body
            bot.dispatch("resumed")
            assert await get(http, bot, "/readyz") == (200, {"status": "ready"})
            _status, text = await get(http, bot, "/metrics")
            found = samples(text)
            assert found[("peerboard_gateway_reconnects_total", ())] == 1.0
            assert found[("peerboard_gateway_events_total", (("event", "disconnect"),))] == 1.0
            check_traffic(env.http_requests)
        url = bot.ops.url
    finally:
        await bot.close()
    assert not bot.ops.running  # stopped with the bot: nothing listens any more
    assert bot.not_ready() == "shutting down"  # what /readyz said while close() ran
    with pytest.raises(aiohttp.ClientConnectionError):
        await http.get(url + "/readyz")


async def test_metrics_count_interactions_by_command_and_outcome(
    world: World, simcord_bot: PeerBot, http: aiohttp.ClientSession
) -> None:
    _status, before = await get(http, simcord_bot, "/metrics")
    assert interactions(before, "task claim", "ok") == 0
    number = await claimed(world, world.alice)  # /task create, then /task claim
    refused(await world.bob.slash(world.general, "task claim", task=str(number)))
    await create(world, "Write the docs")

    status, text = await get(http, simcord_bot, "/metrics")
    assert status == 200
    assert interactions(text, "task create", "ok") == 2
    assert interactions(text, "task claim", "ok") == 1
    assert interactions(text, "task claim", "refused") == 1  # bob: already claimed
    found = samples(text)
    latency = ("peerboard_interaction_duration_seconds_count", (("command", "task claim"),))
    assert found[latency] == 2
    # Deliveries by kind and state, read from the database: every kind has its dead letters.
    dead = [k for k in found if k[0] == "peerboard_deliveries" and ("state", "dead") in k[1]]
    assert dead and all(found[k] == 0 for k in dead)
    assert found[("peerboard_database_errors_total", ())] == 0


async def test_a_button_click_is_counted_as_the_button(
    world: World, simcord_bot: PeerBot, http: aiohttp.ClientSession
) -> None:
    number = await create(world, "Fix the footer")
    r = await world.alice.click(card_of(world.tasks, number), label="Claim")
    assert "You claimed" in said(r), said(r)
    _status, text = await get(http, simcord_bot, "/metrics")
    assert interactions(text, "button claim", "ok") == 1


async def test_healthz_is_503_with_a_reason_when_the_database_is_gone(
    world: World, simcord_bot: PeerBot, runtime: Runtime, http: aiohttp.ClientSession
) -> None:
    number = await create(world, "Fix the footer")
    assert await get(http, simcord_bot, "/healthz") == (200, {"status": "ok"})
    # The file is replaced by something that is not a database, and the pool's open
    # connections are let go: the next statement opens the file anew.
    path = Path(runtime.engine.url.database or "")
    await runtime.engine.dispose()
    not_a_database(path)

    status, body = await get(http, simcord_bot, "/healthz")
    assert status == 503, body
    assert body["status"] == "unhealthy"
    assert body["reason"].startswith("the database did not answer"), body
    assert str(path) not in body["reason"]  # details go to the log, not to the port
    assert await get(http, simcord_bot, "/readyz") == (200, {"status": "ready"})
    # A member's command fails too, and is counted as an error.
    r = await world.alice.slash(world.general, "task show", task=str(number))
    assert "Something went wrong" in said(r), said(r)
    assert world.env.errors  # seen by the tree's handler (and so acknowledged here)
    _status, text = await get(http, simcord_bot, "/metrics")
    assert samples(text)[("peerboard_database_errors_total", ())] >= 2
    assert interactions(text, "task show", "error") == 1
    assert interactions(text, "task show", "ok") == 0


async def test_the_sweep_is_timed_and_digest_posts_counted(
    world: World, simcord_bot: PeerBot, http: aiohttp.ClientSession
) -> None:
    digest = world.guild.create_text_channel("digest")
    assert "Saved." in said(
        await world.maint.slash(world.general, "config channels", digest=digest)
    )
    await simcord_bot.run_sweep()
    await simcord_bot.run_sweep()
    r = await world.maint.slash(world.general, "digest post")
    assert "Something went wrong" not in said(r), said(r)
    assert digest.last_message is not None  # the week's digest, posted

    _status, text = await get(http, simcord_bot, "/metrics")
    found = samples(text)
    assert found[("peerboard_sweep_duration_seconds_count", ())] == 2
    assert found[("peerboard_digest_posts_total", (("outcome", "posted"),))] == 1
    assert found[("peerboard_digest_posts_total", (("outcome", "failed"),))] == 0
    assert interactions(text, "digest post", "ok") == 1


async def test_card_edits_pending_counts_cards_discord_refused_until_repaired(
    world: World, simcord_bot: PeerBot, http: aiohttp.ClientSession
) -> None:
    number = await create(world, "Fix the footer")
    _status, text = await get(http, simcord_bot, "/metrics")
    assert samples(text)[("peerboard_card_edits_pending", ())] == 0
    world.env.inject_error("PATCH", f"/channels/{world.tasks.id}/messages/*", status=500)
    r = await world.alice.slash(world.general, "task claim", task=str(number))
    assert "You claimed" in said(r)
    _status, text = await get(http, simcord_bot, "/metrics")
    assert samples(text)[("peerboard_card_edits_pending", ())] == 1
    await world.env.advance_time(60)
    await simcord_bot.run_sweep()  # Discord answers again: the card is repaired
    _status, text = await get(http, simcord_bot, "/metrics")
    assert samples(text)[("peerboard_card_edits_pending", ())] == 0
