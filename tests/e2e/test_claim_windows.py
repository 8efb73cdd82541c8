"""Extending a claim end to end (SPEC §2): an extension adds a window to the claim as it
stands, a second press changes nothing, and the warning DM offers only what the member
can still do."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import discord

from bot.app import PeerBot
from bot.bootstrap import Runtime
from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import claimed, refused

HOUR = 3600


def dms(member: Any) -> list[discord.Message]:
    return list(member.user.dm_channel.history())


def labels(message: Any) -> list[str]:
    return [c.label for row in message.components for c in row.children]


def ts(moment: datetime, style: str = "R") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


async def claim_of(runtime: Runtime, w: World, number: int) -> tuple[datetime, int]:
    [claim] = (await runtime.services.tasks.show(w.guild.id, number)).claims
    return claim.expires_at, claim.extensions


async def test_still_on_it_twice_extends_once(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, points=1)  # a 3-day window: warned at 36 h
    first_expiry, _ = await claim_of(runtime, w, 1)
    await w.env.advance_time(36 * HOUR)
    await simcord_bot.run_sweep()
    [dm] = dms(w.alice)

    r = await w.alice.user.click(dm, label="Still on it")
    extended_to = first_expiry + timedelta(days=3)  # one more window on top of what was left
    assert said(r) == (
        f"Extended: your claim on **#1 · Fix the footer** now runs until "
        f"{ts(extended_to, 'f')} ({ts(extended_to)})."
    )
    card = card_of(w.tasks, 1).embeds[0].to_dict()
    for _ in range(2):  # pressed again, and once more: nothing changes
        again = await w.alice.user.click(dm, label="Still on it")
        refused(again, "already runs more than 3 days from now", "nothing to extend yet")
        assert await claim_of(runtime, w, 1) == (extended_to, 1)
    assert card_of(w.tasks, 1).embeds[0].to_dict() == card


async def test_extend_right_after_claiming_adds_a_whole_window(
    world: World, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, points=1)
    first_expiry, _ = await claim_of(runtime, w, 1)
    r = await w.alice.slash(w.general, "task extend", task="1")
    assert "Extended" in said(r)
    assert await claim_of(runtime, w, 1) == (first_expiry + timedelta(days=3), 1)
    refused(await w.alice.slash(w.general, "task extend", task="1"), "nothing to extend yet")
    assert await claim_of(runtime, w, 1) == (first_expiry + timedelta(days=3), 1)


async def test_warning_without_extensions_left_offers_only_release(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", max_extensions=0)
    await claimed(w, w.alice, points=1)
    expires, _ = await claim_of(runtime, w, 1)
    await w.env.advance_time(36 * HOUR)
    await simcord_bot.run_sweep()
    [dm] = dms(w.alice)
    assert labels(dm) == ["Release"]
    assert "Still on it" not in dm.content
    assert dm.content == (
        f"⏳ Your claim on **#1 · Fix the footer** ends {ts(expires, 'f')} ({ts(expires)}). "
        "It can't be extended any further: submit your work before then, "
        "or tap **Release** to hand it back."
    )


async def test_warning_after_every_extension_is_used_offers_only_release(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", max_extensions=1)
    await claimed(w, w.alice, points=1)
    await w.env.advance_time(36 * HOUR)
    await simcord_bot.run_sweep()
    [first] = dms(w.alice)
    assert labels(first) == ["Still on it", "Release"]
    await w.alice.user.click(first, label="Still on it")
    expires, used = await claim_of(runtime, w, 1)
    assert used == 1
    # The renewed claim is warned again; this time there is no extension left to offer.
    await w.env.advance_time(3 * 24 * HOUR)
    await simcord_bot.run_sweep()
    [_, second] = dms(w.alice)
    assert labels(second) == ["Release"]
    assert field(card_of(w.tasks, 1), "Claimed by") == (
        f"<@{w.alice.id}> · claim ends {ts(expires)}"
    )
