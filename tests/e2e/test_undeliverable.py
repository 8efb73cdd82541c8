"""Notices nobody can receive, end to end: a member's notice falls back DM → the task's
thread → the tasks channel; when all of them refuse it is a dead letter the maintainers
see in /config show, never a silent success. And every delivery carries its own nonce
with enforce_nonce, so a send retried after a crash is one message to Discord."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from bot.app import PeerBot
from bot.bootstrap import Runtime
from bot.db.models import Delivery
from bot.services.reminders.service import LEASE, MAX_ATTEMPTS
from tests.e2e.conftest import World, said
from tests.e2e.helpers import claimed, requests_to, stored, thread_of

HOUR = 3600
NO_ACCESS = 50001


def messages_path(channel: Any) -> str:
    return f"/channels/{channel.id}/messages"


def dm_path(member: Any) -> str:
    return messages_path(member.user.dm_channel)


def warnings_to(w: World, path: str) -> list[Any]:
    return [
        e for e in requests_to(w.env, "POST", path) if "⏳" in ((e.json or {}).get("content") or "")
    ]


async def deliveries(runtime: Runtime) -> list[tuple[str, str | None, int]]:
    async with runtime.engine.connect() as conn:
        stmt = sa.select(col(Delivery.status), col(Delivery.via), col(Delivery.attempts))
        return [(s, v, a) for s, v, a in (await conn.execute(stmt)).all()]


async def test_dms_closed_and_no_thread_the_warning_falls_back_to_the_tasks_channel(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    thread = thread_of(w, 1)
    w.env.inject_error("POST", dm_path(w.alice), status=403, code=50007, times=None)
    w.env.inject_error("POST", messages_path(thread), status=403, code=NO_ACCESS, times=None)

    await w.env.advance_time(36 * HOUR)
    await simcord_bot.run_sweep()
    assert len(warnings_to(w, dm_path(w.alice))) == 1
    assert len(warnings_to(w, messages_path(thread))) == 1
    [mention] = [m for m in w.tasks.history() if "⏳" in m.content]
    assert mention.content.startswith(f"<@{w.alice.id}> ⏳ Your claim on **#1 · Fix the footer**")
    [sent] = warnings_to(w, messages_path(w.tasks))
    assert sent.json["allowed_mentions"] == {"parse": [], "users": [w.alice.id]}
    pinged = stored(w.env, mention)
    assert pinged.mention_user_ids == [w.alice.id]
    assert pinged.mention_role_ids == [] and not pinged.mention_everyone
    assert ("sent", "channel", 1) in await deliveries(runtime)
    r = await w.maint.slash(w.general, "config show")
    assert "could not be delivered" not in (r.response.content or "")


async def test_a_warning_nobody_can_receive_is_a_dead_letter_the_maintainers_see(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    await claimed(w, w.bob, "Fix the header", points=1)
    for path in (dm_path(w.alice), messages_path(thread_of(w, 1)), messages_path(w.tasks)):
        code = 50007 if path == dm_path(w.alice) else NO_ACCESS
        w.env.inject_error("POST", path, status=403, code=code, times=None)

    await w.env.advance_time(36 * HOUR)
    await simcord_bot.run_sweep()
    # Tried everywhere once, received nowhere: not "sent".
    assert len(warnings_to(w, dm_path(w.alice))) == 1
    assert len(warnings_to(w, messages_path(thread_of(w, 1)))) == 1
    assert len(warnings_to(w, messages_path(w.tasks))) == 1
    assert sorted(await deliveries(runtime)) == [("failed", "", 1), ("sent", "dm", 1)]
    # Bob's went out; Alice's is not retried every few minutes.
    assert len(list(w.bob.user.dm_channel.history())) == 1
    for _ in range(3):
        await w.env.advance_time(HOUR)
        await simcord_bot.run_sweep()
    assert len(warnings_to(w, dm_path(w.alice))) == 1
    # The maintainers see it, in one plain line.
    r = await w.maint.slash(w.general, "config show")
    assert r.ephemeral
    assert r.response.content.startswith(
        "⚠️ 1 notice could not be delivered: nobody could receive it"
    ), said(r)
    assert r.response.embeds[0].title == "Peerboard settings"


async def test_a_send_retried_after_a_crash_carries_the_same_nonce(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    """Sent, then the process died before recording it: the lease runs out and the DM is
    sent again, with the same nonce and enforce_nonce, which Discord answers with the
    first message instead of a second one (SimCord does not deduplicate: the test reads
    what the bot asked of Discord)."""
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    await claimed(w, w.bob, "Fix the header", points=1)
    await w.env.advance_time(36 * HOUR)
    await simcord_bot.run_sweep()
    [first] = warnings_to(w, dm_path(w.alice))
    [bobs] = warnings_to(w, dm_path(w.bob))
    # What a crash between sending and recording leaves: the row pending, its lease held.
    leased = w.env.now() + LEASE
    async with runtime.engine.begin() as conn:
        await conn.execute(
            sa.update(Delivery)
            .where(col(Delivery.member_id) == w.alice.id)
            .values(status="pending", sent_at=None, via="", lease_until=leased)
        )
    await simcord_bot.run_sweep()
    assert len(warnings_to(w, dm_path(w.alice))) == 1  # the lease holds
    await w.env.advance_time(LEASE.total_seconds())
    await simcord_bot.run_sweep()
    again = warnings_to(w, dm_path(w.alice))
    assert len(again) == 2
    assert again[1].json["nonce"] == first.json["nonce"]
    assert again[1].json["enforce_nonce"] is True and first.json["enforce_nonce"] is True
    assert bobs.json["nonce"] != first.json["nonce"]  # one nonce per delivery
    assert len(first.json["nonce"]) <= 25  # Discord's limit


async def test_a_dm_discord_always_refuses_stops_at_its_cap_then_is_a_dead_letter(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    w.env.inject_error("POST", dm_path(w.alice), status=500, times=None)
    await w.env.advance_time(36 * HOUR)
    for _ in range(30):  # a day of sweeps, far past the backoff of every attempt
        await simcord_bot.run_sweep()
        await w.env.advance_time(HOUR)
    assert len(warnings_to(w, dm_path(w.alice))) == MAX_ATTEMPTS
    assert await deliveries(runtime) == [("failed", "", MAX_ATTEMPTS)]
    # A 500 is Discord's trouble, not closed DMs: no fallback to the thread.
    assert warnings_to(w, messages_path(thread_of(w, 1))) == []
    r = await w.maint.slash(w.general, "config show")
    assert r.response.content.startswith("⚠️ 1 notice could not be delivered"), said(r)
