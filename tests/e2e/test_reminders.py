"""Reminders end to end (SPEC §6): the real bot, its sweep and DiscordNotifier against
SimCord, on SimCord's virtual clock.

Most tests move the virtual clock with `env.advance_time(...)` and then run the sweep the
way APScheduler would (`simcord_bot.run_sweep()`); the last two let APScheduler itself
fire the job, with its clock reads patched onto the virtual clock.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, tzinfo
from typing import Any

import discord
import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot
from bot.domain.model import Status
from bot.jobs.scheduler import SWEEP_JOB
from bot.services.views import TaskView
from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import claimed, create, in_review, requests_to, stored, thread_of

HOUR = 3600
DAY = 24 * HOUR


# -- readers -----------------------------------------------------------------------------------


def dms(member: Any) -> list[discord.Message]:
    """What the bot sent to this member privately, oldest first, read fresh."""
    return list(member.user.dm_channel.history())


def labels(message: Any) -> list[str]:
    return [c.label for row in message.components for c in row.children]


def custom_ids(message: Any) -> list[str]:
    return [c.custom_id for row in message.components for c in row.children]


def contents(channel: Any) -> list[str]:
    return [m.content for m in channel.history()]


def ts(moment: datetime, style: str = "R") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


def posts_to(env: Any, channel_id: int) -> list[Any]:
    """Messages the bot posted to a channel (not interaction replies), as sent."""
    return requests_to(env, "POST", f"/channels/{channel_id}/messages")


async def show(runtime: Runtime, w: World, number: int) -> TaskView:
    return await runtime.services.tasks.show(w.guild.id, number)


async def wait_then_sweep(w: World, bot: PeerBot, seconds: float) -> None:
    """Let virtual time pass, then run the sweep once, as the scheduler would."""
    await w.env.advance_time(seconds)
    await bot.run_sweep()


@pytest.fixture
async def new_bots() -> AsyncIterator[list[PeerBot]]:
    """Bots a test starts with env.restart_bot: SimCord never closes a bot (the one it
    replaced is `simcord_bot`, closed by its own fixture). Requested before `world`, so
    these are closed after SimCord's env is torn down, scheduler included."""
    bots: list[PeerBot] = []
    yield bots
    for bot in bots:
        await bot.close()


# -- claim warning -----------------------------------------------------------------------------


async def test_claim_warning_dm_arrives_at_36_hours_not_a_second_before(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)  # 3-day window: warning at 36 h
    claim = (await show(runtime, w, 1)).claims[0]
    assert claim.expires_at - claim.claimed_at == timedelta(days=3)

    await wait_then_sweep(w, simcord_bot, 36 * HOUR - 1)
    assert dms(w.alice) == []

    await wait_then_sweep(w, simcord_bot, 1)
    [dm] = dms(w.alice)
    assert dm.author.id == simcord_bot.user.id
    assert dm.content == (
        f"⏳ Your claim on **#1 · Fix the footer** ends {ts(claim.expires_at, 'f')} "
        f"({ts(claim.expires_at)}). Still on it? Tap **Still on it** to extend it, "
        "or **Release** to hand it back."
    )
    assert labels(dm) == ["Still on it", "Release"]
    assert custom_ids(dm) == [f"pb:t:{w.guild.id}:1:extend", f"pb:t:{w.guild.id}:1:release"]
    # Sweeping again (or many times) sends nothing more; nobody else heard anything.
    await simcord_bot.run_sweep()
    await wait_then_sweep(w, simcord_bot, HOUR)
    assert len(dms(w.alice)) == 1
    assert dms(w.bob) == []


async def test_still_on_it_in_the_dm_extends_the_claim(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    [dm] = dms(w.alice)
    before = card_of(w.tasks, 1)

    expired_at = (await show(runtime, w, 1)).claims[0].expires_at
    r = await w.alice.user.click(dm, label="Still on it")
    extended_to = expired_at + timedelta(days=3)  # one more window on what was left
    assert r.ephemeral
    assert said(r) == (
        f"Extended: your claim on **#1 · Fix the footer** now runs until "
        f"{ts(extended_to, 'f')} ({ts(extended_to)})."
    )
    # The reminder itself is left as it was sent: it is not turned into a card.
    [after] = dms(w.alice)
    assert (after.id, after.content, after.embeds) == (dm.id, dm.content, [])
    assert labels(after) == ["Still on it", "Release"]
    # The service state moved ...
    [claim] = (await show(runtime, w, 1)).claims
    assert (claim.member_id, claim.expires_at, claim.extensions) == (w.alice.id, extended_to, 1)
    # ... and so did the public card, edited in place.
    card = card_of(w.tasks, 1)
    assert card.id == before.id
    assert field(card, "Claimed by") == f"<@{w.alice.id}> · claim ends {ts(extended_to)}"
    assert field(card, "Status") == "🔵 Claimed"

    # The next warning is halfway through the 108 h now left, not at the old expiry.
    await wait_then_sweep(w, simcord_bot, 54 * HOUR - 1)
    assert len(dms(w.alice)) == 1
    assert (await show(runtime, w, 1)).status is Status.CLAIMED  # the old expiry has passed
    await wait_then_sweep(w, simcord_bot, 1)
    assert len(dms(w.alice)) == 2
    assert dms(w.alice)[-1].content.startswith("⏳ Your claim on **#1 · Fix the footer** ends ")


async def test_release_from_the_dm_asks_for_a_note_and_releases(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    [dm] = dms(w.alice)

    shown = await w.alice.user.click(dm, label="Release")
    assert shown.modal is not None and shown.modal["title"] == "Release #1"
    done = await w.alice.user.submit_modal(shown, {"reason": "Out of time, sorry"})
    assert "You released **#1 · Fix the footer**" in said(done)

    view = await show(runtime, w, 1)
    assert view.status is Status.OPEN and view.claims == ()
    assert view.handoff_note == "Out of time, sorry"
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟢 Open"
    assert field(card, "Claimed by") == "Nobody yet"
    assert labels(card) == ["Claim"]
    # Released work is not expired later, and no one is told it ran out.
    await wait_then_sweep(w, simcord_bot, 2 * DAY)
    assert len(dms(w.alice)) == 1
    assert not any("back on the board" in c for c in contents(w.tasks))


# -- expiry ------------------------------------------------------------------------------------


async def test_expiry_at_three_days_releases_tells_the_claimant_and_the_board(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    await wait_then_sweep(w, simcord_bot, 3 * DAY - 1)
    assert (await show(runtime, w, 1)).status is Status.CLAIMED
    assert len(dms(w.alice)) == 1  # the warning
    assert not any("back on the board" in c for c in contents(w.tasks))

    await wait_then_sweep(w, simcord_bot, 1)
    view = await show(runtime, w, 1)
    assert view.status is Status.OPEN and view.claims == ()
    assert dms(w.alice)[-1].content == (
        "⌛ Your claim on **#1 · Fix the footer** ran out, so it's back on the board. "
        "No worries — if you're still on it and it's free, just claim it again."
    )
    assert w.tasks.last_message.content == (
        "🔁 **#1 · Fix the footer** is back on the board — the last claim ran out. Up for it?"
    )
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟢 Open"
    assert field(card, "Claimed by") == "Nobody yet"
    assert labels(card) == ["Claim"]
    # The board post pings nobody.
    [post] = [
        e for e in posts_to(w.env, w.tasks.id) if "back on the board" in e.json.get("content", "")
    ]
    assert post.json["allowed_mentions"] == {"parse": []}
    # Told once; anyone can claim it again.
    await wait_then_sweep(w, simcord_bot, DAY)
    assert len(dms(w.alice)) == 2
    r = await w.bob.slash(w.general, "task claim", task="1")
    assert "You claimed" in said(r)


# -- DMs closed, transient failures ------------------------------------------------------------


async def test_dms_closed_the_warning_is_a_mention_in_the_tasks_thread(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    dm_path = f"/channels/{w.alice.user.dm_channel.id}/messages"
    w.env.inject_error("POST", dm_path, status=403, code=50007, times=None)
    thread = thread_of(w, 1)
    before = len(list(thread.history()))

    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    assert dms(w.alice) == []
    [tried] = requests_to(w.env, "POST", dm_path)  # DM first, once
    assert tried.json["content"].startswith("⏳ Your claim on **#1")
    lines = list(thread.history())[before:]
    [mention] = lines
    assert mention.content.startswith(f"<@{w.alice.id}> ⏳ Your claim on **#1 · Fix the footer**")
    assert labels(mention) == ["Still on it", "Release"]
    # It pings Alice and nobody else: no roles, no @everyone, no other user.
    [sent] = [e for e in posts_to(w.env, thread.id) if "⏳" in e.json["content"]]
    assert sent.json["allowed_mentions"] == {"parse": [], "users": [w.alice.id]}
    pinged = stored(w.env, mention)
    assert pinged.mention_user_ids == [w.alice.id]
    assert pinged.mention_role_ids == [] and not pinged.mention_everyone
    # Delivered once: it is not retried by DM, nor posted again.
    await wait_then_sweep(w, simcord_bot, HOUR)
    assert len(requests_to(w.env, "POST", dm_path)) == 1
    assert len(list(thread.history())) == before + 1
    # The buttons work from the thread too, for the claimant only.
    r = await w.bob.click(mention, label="Still on it")
    assert r.ephemeral and said(r) == "You haven't claimed #1."
    assert (await show(runtime, w, 1)).claims[0].extensions == 0
    r = await w.alice.click(mention, label="Still on it")
    assert r.ephemeral and said(r).startswith("Extended: your claim on **#1 · Fix the footer**")
    assert list(thread.history())[-1].content == mention.content  # the mention is not edited
    assert (await show(runtime, w, 1)).claims[0].extensions == 1


@pytest.mark.parametrize("status", [429, 500])
async def test_a_failed_dm_is_retried_after_the_backoff_and_delivered_once(
    world: World, simcord_bot: PeerBot, status: int
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    dm_path = f"/channels/{w.alice.user.dm_channel.id}/messages"
    w.env.inject_error("POST", dm_path, status=status, code=0, times=1)

    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    assert dms(w.alice) == []
    assert len(requests_to(w.env, "POST", dm_path)) == 1
    # Not before the backoff (1 minute after the first failure) ...
    await wait_then_sweep(w, simcord_bot, 59)
    assert dms(w.alice) == [] and len(requests_to(w.env, "POST", dm_path)) == 1
    # ... then once, and never again.
    await wait_then_sweep(w, simcord_bot, 1)
    [dm] = dms(w.alice)
    assert dm.content.startswith("⏳ Your claim on **#1 · Fix the footer** ends ")
    for _ in range(3):
        await wait_then_sweep(w, simcord_bot, 10 * 60)
    assert len(dms(w.alice)) == 1
    assert len(requests_to(w.env, "POST", dm_path)) == 2
    # A failed DM does not fall back to the thread: only 50007 (DMs closed) does.
    assert not any("⏳" in m.content for m in thread_of(w, 1).history())


# -- away, reminders off -----------------------------------------------------------------------


async def test_an_away_member_gets_no_dm_but_their_claim_still_expires(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    r = await w.alice.slash(w.general, "me away", until="in 10 days")
    assert r.ephemeral and "no reminders until" in said(r)
    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    assert dms(w.alice) == []
    view = await show(runtime, w, 1)
    assert view.status is Status.OPEN and view.claims == ()
    assert "back on the board" in w.tasks.last_message.content  # the board still hears of it
    assert dms(w.alice) == []


async def test_reminders_off_means_no_dm_but_the_claim_still_expires(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)
    r = await w.alice.slash(w.general, "me reminders", enabled=False)
    assert r.ephemeral and said(r).startswith("Reminders are off.")
    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    assert dms(w.alice) == []
    assert (await show(runtime, w, 1)).status is Status.OPEN
    assert "back on the board" in w.tasks.last_message.content
    # Turning them back on brings reminders for new claims.
    await w.alice.slash(w.general, "me reminders", enabled=True)
    await w.alice.slash(w.general, "task claim", task="1")
    await wait_then_sweep(w, simcord_bot, 36 * HOUR)
    [dm] = dms(w.alice)
    assert dm.content.startswith("⏳ Your claim on **#1 · Fix the footer** ends ")


# -- due dates ---------------------------------------------------------------------------------


async def test_due_soon_48_hours_before_then_overdue_at_due(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    # 8 points: a 14-day window, so no claim warning falls inside this test.
    await claimed(w, w.alice, "Write the guide", points=8, due="in 5 days")
    due = (await show(runtime, w, 1)).due_at
    assert due is not None
    until_soon = (due - timedelta(hours=48) - w.env.now()).total_seconds()

    await wait_then_sweep(w, simcord_bot, until_soon - 1)
    assert dms(w.alice) == []
    await wait_then_sweep(w, simcord_bot, 1)
    [soon] = dms(w.alice)
    assert soon.content == f"📅 **#1 · Write the guide** is due {ts(due, 'f')} ({ts(due)})."
    assert soon.components == []

    await wait_then_sweep(w, simcord_bot, 48 * HOUR - 1)
    assert len(dms(w.alice)) == 1
    await wait_then_sweep(w, simcord_bot, 1)
    assert dms(w.alice)[-1].content == (
        f"📅 **#1 · Write the guide** was due {ts(due)}. "
        "If you need more time, say so in the task's thread."
    )
    await wait_then_sweep(w, simcord_bot, HOUR)
    assert len(dms(w.alice)) == 2
    assert dms(w.bob) == []


# -- review ------------------------------------------------------------------------------------


async def test_review_nudge_after_48_hours_then_escalation_to_maintainers_after_5_days(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    await w.maint.slash(w.general, "config roles", maintainer=w.maintainers)
    await in_review(w, w.alice, "Fix the footer")
    submitted = len(list(w.review.history()))  # the "ready for review" post

    await wait_then_sweep(w, simcord_bot, 48 * HOUR - 1)
    assert len(list(w.review.history())) == submitted
    await wait_then_sweep(w, simcord_bot, 1)
    nudge = w.review.last_message
    assert nudge.content.startswith(
        f"<@&{w.reviewers.id}> 👀 **#1 · Fix the footer** has been waiting for review since "
    )
    assert nudge.embeds[0].title == "#1 · Fix the footer"
    assert labels(nudge) == ["Approve", "Request changes"]
    [sent] = [e for e in posts_to(w.env, w.review.id) if "👀" in e.json["content"]]
    assert sent.json["allowed_mentions"] == {"parse": [], "roles": [w.reviewers.id]}
    assert stored(w.env, nudge).mention_role_ids == [w.reviewers.id]
    assert stored(w.env, nudge).mention_user_ids == []

    await wait_then_sweep(w, simcord_bot, 48 * HOUR)  # 96 h: reminded again, same role
    second = w.review.last_message
    assert second.id != nudge.id and "👀" in second.content
    assert second.content.startswith(f"<@&{w.reviewers.id}> ")

    await wait_then_sweep(w, simcord_bot, 24 * HOUR - 1)
    assert w.review.last_message.id == second.id
    await wait_then_sweep(w, simcord_bot, 1)  # 120 h = 5 days: the maintainers are asked
    escalation = w.review.last_message
    assert escalation.content.startswith(
        f"<@&{w.maintainers.id}> 🧭 **#1 · Fix the footer** has waited for review since "
    )
    [sent] = [e for e in posts_to(w.env, w.review.id) if "🧭" in e.json["content"]]
    assert sent.json["allowed_mentions"] == {"parse": [], "roles": [w.maintainers.id]}
    assert stored(w.env, escalation).mention_role_ids == [w.maintainers.id]
    assert len([c for c in contents(w.review) if "🧭" in c]) == 1
    # Every post the bot made to the review channel pings at most one role and no user.
    for entry in posts_to(w.env, w.review.id):
        mentions = entry.json["allowed_mentions"]
        assert mentions["parse"] == [] and "users" not in mentions
        assert len(mentions.get("roles", [])) <= 1

    # Reviewed work is never nudged again.
    r = await w.carol.slash(w.general, "task approve", task="1")
    assert "Approved" in said(r)
    count = len(list(w.review.history()))
    await wait_then_sweep(w, simcord_bot, 10 * DAY)
    assert len(list(w.review.history())) == count


# -- unblocked, proposals ----------------------------------------------------------------------


async def test_unblocked_notice_goes_out_right_away_when_the_blocker_is_done(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    await create(w, "Design the schema")
    await create(w, "Write the migration", blocked_by="1")
    r = await w.bob.slash(w.general, "task claim", task="2")
    assert "#2 is waiting on #1" in said(r)
    await in_review_existing(w, w.alice, 1)

    r = await w.carol.slash(w.general, "task approve", task="1")
    assert "it's done" in said(r)
    # No sweep ran: the approval kicked delivery of what it wrote to the outbox.
    assert w.tasks.last_message.content == (
        "🔓 **#2 · Write the migration** can be claimed now: #1 is done."
    )
    card = card_of(w.tasks, 2)
    assert field(card, "Blocked by") == "#1 (finished)"
    [post] = [e for e in posts_to(w.env, w.tasks.id) if "🔓" in e.json.get("content", "")]
    assert post.json["allowed_mentions"] == {"parse": []}
    # A sweep afterwards sends nothing again.
    await wait_then_sweep(w, simcord_bot, HOUR)
    assert len([c for c in contents(w.tasks) if "🔓" in c]) == 1
    r = await w.bob.slash(w.general, "task claim", task="2")
    assert "You claimed" in said(r)


async def in_review_existing(w: World, member: Any, number: int) -> None:
    r = await member.slash(w.general, "task claim", task=str(number))
    assert "You claimed" in said(r), said(r)
    r = await member.slash(w.general, "task submit", task=str(number), link="https://x.org/1")
    assert "Submitted" in said(r), said(r)


async def test_a_quiet_proposal_opens_after_72_hours_with_an_announcement(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    r = await w.bob.slash(w.general, "task propose", title="Add dark mode")
    assert "Proposed" in said(r)
    r = await w.bob.slash(w.general, "task propose", title="Rewrite it in Rust")
    r = await w.alice.slash(w.general, "task object", task="2", reason="Not now")
    assert "objection" in said(r)

    await wait_then_sweep(w, simcord_bot, 72 * HOUR - 1)
    assert (await show(runtime, w, 1)).status is Status.PROPOSED
    assert not any("is now open" in c for c in contents(w.tasks))

    await wait_then_sweep(w, simcord_bot, 1)
    assert (await show(runtime, w, 1)).status is Status.OPEN
    assert (await show(runtime, w, 2)).status is Status.PROPOSED  # objected: a maintainer decides
    assert (
        w.tasks.last_message.content
        == "💡 Proposal **#1 · Add dark mode** is now open on the board."
    )
    card = card_of(w.tasks, 1)
    assert field(card, "Status") == "🟢 Open"
    assert labels(card) == ["Claim"]
    await wait_then_sweep(w, simcord_bot, 3 * DAY)
    assert len([c for c in contents(w.tasks) if "is now open" in c]) == 1


# -- restart -----------------------------------------------------------------------------------


async def test_after_a_restart_a_sweep_sends_nothing_already_sent(
    new_bots: list[PeerBot], world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await w.maint.slash(w.general, "config roles", maintainer=w.maintainers)
    await claimed(w, w.alice, "Fix the footer", points=1)  # warning at 36 h
    await in_review(w, w.bob, "Review me")  # nudge at 48 h
    await claimed(w, w.bob, "Sort the photos", points=1)  # warning at 36 h, DM fails once
    bob_dms = f"/channels/{w.bob.user.dm_channel.id}/messages"
    w.env.inject_error("POST", bob_dms, status=500, times=1)
    await wait_then_sweep(w, simcord_bot, 48 * HOUR)
    assert len(dms(w.alice)) == 1 and dms(w.bob) == []
    assert "👀" in w.review.last_message.content
    sent_before = _bot_posts(w.env)

    fresh = build_bot(runtime.services, scheduler=False)
    new_bots.append(fresh)
    await w.env.restart_bot(fresh)
    report = await fresh.run_sweep()
    await fresh.run_sweep()
    assert report.sent == 0
    assert _bot_posts(w.env) == sent_before  # nothing sent twice, nothing early
    # What failed before the restart is still owed: sent once its backoff has passed.
    await wait_then_sweep(w, fresh, 60)
    [bob_dm] = dms(w.bob)
    assert bob_dm.content.startswith("⏳ Your claim on **#3 · Sort the photos** ends ")
    assert len(dms(w.alice)) == 1
    assert len([c for c in contents(w.review) if "👀" in c]) == 1

    # The old DM's buttons work with the new bot, and the next warning comes once.
    r = await w.alice.user.click(dms(w.alice)[0], label="Still on it")
    assert "Extended: your claim on **#1 · Fix the footer**" in said(r)
    # Extended from 72 h to 144 h: warned halfway through what is left, 54 h from now.
    await wait_then_sweep(w, fresh, 54 * HOUR)
    await fresh.run_sweep()
    warnings = [m for m in dms(w.alice) if m.content.startswith("⏳")]
    assert len(warnings) == 2 and len(dms(w.alice)) == 2
    assert len(dms(w.bob)) == 2  # his warning, then his claim ran out (72 h)
    assert dms(w.bob)[-1].content.startswith("⌛ Your claim on **#3 · Sort the photos** ran out")


def _bot_posts(env: Any) -> list[tuple[str, Any]]:
    return [
        (e.path, e.json.get("content") if e.json else None)
        for e in env.http_requests
        if e.method == "POST" and e.path.startswith("/channels/") and e.path.endswith("/messages")
    ]


# -- APScheduler fires the job itself -----------------------------------------------------------
#
# APScheduler reads the wall clock (datetime.now) to know when the job is due, and sleeps with
# loop.call_later, which SimCord turns into a virtual timer. With its clock reads patched onto
# SimCord's virtual clock, `advance_time` makes APScheduler wake and run the sweep at the
# virtual instant it was due, with no real waiting. Each wake-up costs real time (SimCord
# settles the loop at every timer), so these tests keep APScheduler running for minutes of
# virtual time, not days: a 60-second sweep over 36 hours would be 2,160 wake-ups.


class VirtualDatetime(datetime):
    """`datetime` for APScheduler's modules: `now()` reads SimCord's virtual clock (through
    discord.utils.utcnow, which SimCord swaps while an env runs)."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = discord.utils.utcnow()
        if tz is None:
            return current.astimezone().replace(tzinfo=None)
        return current.astimezone(tz)


def virtual_apscheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "apscheduler.schedulers.base",
        "apscheduler.executors.base",
        "apscheduler.triggers.interval",
        "apscheduler.triggers.date",
    ):
        monkeypatch.setattr(importlib.import_module(name), "datetime", VirtualDatetime)


def next_sweep_in(bot: PeerBot, env: Any) -> float:
    """Seconds of virtual time until APScheduler's next run of the sweep."""
    job = bot.scheduler.get_job(SWEEP_JOB)
    assert job is not None and job.next_run_time is not None
    return float((job.next_run_time - env.now()).total_seconds())


class TestAPSchedulerFiresTheSweep:
    @pytest.fixture
    async def simcord_bot(
        self, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> AsyncIterator[PeerBot]:
        """The bot as production runs it: its own scheduler, a sweep every 60 s."""
        virtual_apscheduler(monkeypatch)
        bot = build_bot(runtime.services, scheduler=True, sweep_interval=60)
        yield bot
        await bot.close()

    async def test_a_due_soon_dm_arrives_at_the_first_scheduled_sweep(
        self, world: World, simcord_bot: PeerBot
    ) -> None:
        w = world
        assert simcord_bot.scheduler is not None and simcord_bot.scheduler.running
        # Due in 3 hours: the due-soon notice is due as soon as it is claimed.
        await claimed(w, w.alice, "Fix the footer", points=1, due="in 3 hours")
        wait = next_sweep_in(simcord_bot, w.env)
        assert 0 < wait <= 60
        await w.env.advance_time(wait - 1)
        assert dms(w.alice) == []  # claiming does not send it; the sweep does
        await w.env.advance_time(1)
        [dm] = dms(w.alice)
        assert dm.content.startswith("📅 **#1 · Fix the footer** is due ")
        assert next_sweep_in(simcord_bot, w.env) == pytest.approx(60, abs=0.01)
        # The next runs find nothing new to send.
        await w.env.advance_time(3 * 60)
        assert len(dms(w.alice)) == 1


async def test_after_a_restart_apscheduler_sends_the_claim_warning_at_its_next_run(
    new_bots: list[PeerBot],
    world: World,
    simcord_bot: PeerBot,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The claim warning falls due 36 h after the claim. The bot restarts, with its
    scheduler, 30 s before that (so APScheduler does not run 2,160 sweeps to get there):
    once the warning is due nothing is sent until the scheduler's next run, which sends it
    once. No run_sweep() here."""
    w = world
    await claimed(w, w.alice, "Fix the footer", points=1)  # warning at 36 h
    await w.env.advance_time(36 * HOUR - 30)
    assert dms(w.alice) == []

    virtual_apscheduler(monkeypatch)
    fresh = build_bot(runtime.services, scheduler=True, sweep_interval=60)
    new_bots.append(fresh)
    await w.env.restart_bot(fresh)
    assert fresh.scheduler is not None and fresh.scheduler.running
    assert next_sweep_in(fresh, w.env) == 60
    await w.env.advance_time(30)  # the warning is due now ...
    assert dms(w.alice) == []
    await w.env.advance_time(29)  # ... but the sweep has not run yet
    assert dms(w.alice) == []
    await w.env.advance_time(1)  # one interval after the start: APScheduler runs it
    [dm] = dms(w.alice)
    assert dm.content.startswith("⏳ Your claim on **#1 · Fix the footer** ends ")
    assert labels(dm) == ["Still on it", "Release"]
    await w.env.advance_time(2 * 60)  # two more runs: nothing twice
    assert len(dms(w.alice)) == 1
