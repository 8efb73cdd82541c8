"""A burst of claims against a stand-in for Discord that rate-limits as Discord does
(tests/support/ratelimit_fake.py): the real discord.py client, interactions delivered over
the gateway, Discord's headers and 429s on REST. Everything the test asserts on time is
the fake's own record (when an interaction was delivered, when its callback came)."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator

import pytest

from bot.app import INVITE_PERMISSIONS, PeerBot, point_discord_at
from bot.bootstrap import Runtime, build_bot, build_services
from bot.ui.ids import ButtonId, CardAction
from bot.ui.publish import refresh_card
from tests.cli.test_run_smoke import discord_urls_restored  # noqa: F401 — a fixture
from tests.services.helpers import maint
from tests.support.fake_discord import TIMEOUT, TOKEN, serving, step
from tests.support.ratelimit_fake import CHANNEL_LIMIT, DEADLINE, RateLimitedDiscord, snowflake

CARDS = 12  # each claimed twice: a Claim button, then or before, a /task claim
PRESSER, TYPER = 3_000, 4_000  # member ids: PRESSER + n presses card n, TYPER + n types


@pytest.fixture
async def board(sqlite_url: str) -> AsyncIterator[tuple[RateLimitedDiscord, Runtime, PeerBot]]:
    fake = RateLimitedDiscord(bot_permissions=INVITE_PERMISSIONS.value)
    runtime = build_services(sqlite_url)
    guild = fake.guild_id
    services = runtime.services
    await services.config.update(maint(guild=guild), tasks_channel_id=fake.tasks_channel_id)
    for n in range(1, CARDS + 1):
        await services.tasks.create(maint(guild=guild), f"Task {n}", capacity=2)
        thread = snowflake()
        card = fake.card(n, thread, str(ButtonId(guild, n, CardAction.CLAIM)))
        await services.tasks.set_card(guild, n, fake.tasks_channel_id, int(card["id"]), thread)
    bot = build_bot(services, scheduler=False)
    async with serving(fake):
        point_discord_at(f"http://127.0.0.1:{fake.port}/api/v10", f"ws://127.0.0.1:{fake.port}")
        running = asyncio.create_task(bot.start(TOKEN))
        try:
            await step(fake.synced, running)
            await step(fake.guild_ready, running)
            await asyncio.wait_for(bot.wait_until_ready(), TIMEOUT)
            yield fake, runtime, bot
        finally:
            await bot.close()
            await running
            await runtime.close()


def claimants(fake: RateLimitedDiscord, message_id: int) -> set[int]:
    """The members a card names as claimants (mentions in its embed)."""
    text = json.dumps(fake.messages[message_id]["embeds"])
    return {m for n in range(1, CARDS + 1) for m in (PRESSER + n, TYPER + n) if f"<@{m}>" in text}


@pytest.mark.usefixtures("discord_urls_restored")
async def test_a_burst_stays_within_the_limits_and_every_answer_within_the_deadline(
    board: tuple[RateLimitedDiscord, Runtime, PeerBot],
) -> None:
    fake, runtime, bot = board
    cards = {n: int(m["id"]) for n, m in enumerate(fake.messages.values(), start=1)}
    started = len(fake.calls)
    # Half the cards are typed for first, half pressed first; all delivered at once.
    for n in range(1, CARDS + 1):
        press = fake.press(PRESSER + n, cards[n], str(ButtonId(fake.guild_id, n, CardAction.CLAIM)))
        typed = fake.slash(TYPER + n, "task", "claim", task=n)
        for delivery in (press, typed) if n % 2 else (typed, press):
            await delivery

    async def everyone_answered() -> None:
        while any(a.answer is None for a in fake.interactions.values()):
            fake.answered.clear()
            await fake.answered.wait()

    await asyncio.wait_for(everyone_answered(), TIMEOUT)
    await asyncio.wait_for(bot.pacer.idle(), TIMEOUT)

    # Every member heard within Discord's deadline, as the fake measured it.
    assert fake.late() == 0
    waits = [a.answer - a.delivered for a in fake.interactions.values() if a.answer is not None]
    assert len(waits) == 2 * CARDS and max(waits) < DEADLINE
    # Not one 429: the bot never went over a bucket (the global one included).
    assert dict(fake.limited) == {}
    # Every card shows the truth: both of its claimants.
    for n, message_id in cards.items():
        assert claimants(fake, message_id) == {PRESSER + n, TYPER + n}, n
    # ... and the database agrees that no card is owed an update.
    assert await runtime.services.cards.pending() == 0
    # The channel's edits (those not made through an interaction) were coalesced, never
    # more than one per typed claim, and paced: more than 5 took the windows they need.
    edits = [
        c for c in fake.calls[started:] if c.method == "PATCH" and c.bucket.startswith("PATCH")
    ]
    assert 0 < len(edits) <= CARDS
    assert bot.pacer.edits == len(edits)
    limit, per = CHANNEL_LIMIT
    windows = math.ceil(len(edits) / limit)
    assert edits[-1].at - edits[0].at >= (windows - 1) * per * 0.99


@pytest.mark.usefixtures("discord_urls_restored")
async def test_a_card_changed_while_its_channel_waits_is_edited_once_with_its_newest_state(
    board: tuple[RateLimitedDiscord, Runtime, PeerBot],
) -> None:
    fake, runtime, bot = board
    services, boss = runtime.services, maint(guild=fake.guild_id)
    cards = {n: int(m["id"]) for n, m in enumerate(fake.messages.values(), start=1)}
    limit, _per = CHANNEL_LIMIT
    # Cards 1..limit take the channel's budget (the last of them from the worker) ...
    for n in range(1, limit + 1):
        changed = await services.tasks.edit(boss, n, title=f"Task {n}, renamed")
        await refresh_card(bot, changed.task)
    assert bot.pacer.queued() >= 1  # the budget is spent: the next edits wait
    # ... so card 6, changed five times meanwhile, waits: then it is edited once, as it is.
    for k in range(1, 6):
        changed = await services.tasks.edit(boss, 6, title=f"Version {k}")
        await refresh_card(bot, changed.task)
    await asyncio.wait_for(bot.pacer.idle(), TIMEOUT)
    edits = [c for c in fake.calls if c.method == "PATCH" and c.path.endswith(f"/{cards[6]}")]
    assert len(edits) == 1
    assert "Version 5" in fake.shows(cards[6])
    assert dict(fake.limited) == {}
    assert await services.cards.pending() == 0
    for n in range(1, limit + 1):
        assert f"Task {n}, renamed" in fake.shows(cards[n])
