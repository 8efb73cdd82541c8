"""Cards stay in step with the database (issue 14, §4): a card edit Discord refused
(429, 5xx) is repaired by the next sweep from the task as it stands — one edit however
many changes it missed, also after a restart; a deleted card is posted again; a tasks
channel the bot can't reach is told to the maintainers once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot, build_services
from tests.e2e import field as field_conditions
from tests.e2e.conftest import World, card_of, said, virtual_clock
from tests.e2e.helpers import create, in_review, requests_to, status, thread_lines, thread_of

CLAIMED = "🔵 Claimed"
OPEN = "🟢 Open"
BLOCKED_LINE = "I can't update the task cards in"


def card_path(w: World, message_id: int) -> str:
    return f"/channels/{w.tasks.id}/messages/{message_id}"


def edits_of(w: World, message_id: int) -> list[Any]:
    return [
        e
        for e in requests_to(w.env, "PATCH", card_path(w, message_id))
        if e.path.endswith(str(message_id))
    ]


async def sweep_after(w: World, bot: PeerBot, seconds: float) -> None:
    await w.env.advance_time(seconds)
    await bot.run_sweep()


@pytest.fixture
async def later() -> AsyncIterator[list[Any]]:
    """What a test starts after the first bot (runtimes, bots), closed after SimCord."""
    started: list[Any] = []
    yield started
    for thing in reversed(started):
        await thing.close()


async def test_cards_refused_during_an_outage_show_the_truth_after_one_sweep(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    members = [w.guild.add_member(w.env.create_user(f"volunteer{i}")) for i in range(5)]
    numbers = [await create(w, f"Task {i}") for i in range(5)]
    w.env.inject_error("PATCH", f"/channels/{w.tasks.id}/messages/*", status=500, times=5)
    for member, number in zip(members, numbers, strict=True):
        r = await member.slash(w.general, "task claim", task=str(number))
        assert "You claimed" in said(r)
    assert [status(w, n) for n in numbers] == [OPEN] * 5  # Discord refused every edit

    await sweep_after(w, simcord_bot, 60)
    assert [status(w, n) for n in numbers] == [CLAIMED] * 5
    for member, number in zip(members, numbers, strict=True):
        card = card_of(w.tasks, number)
        assert f"<@{member.id}>" in str(card.embeds[0].to_dict())
        assert len(edits_of(w, card.id)) == 2  # the refused edit, and the repair
    # Repaired means clean: the next sweeps edit nothing more.
    mark = len(requests_to(w.env, "PATCH", f"/channels/{w.tasks.id}/messages/"))
    await sweep_after(w, simcord_bot, 3600)
    assert len(requests_to(w.env, "PATCH", f"/channels/{w.tasks.id}/messages/")) == mark


async def test_a_claim_that_expired_during_an_outage_reopens_its_card(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    number = await create(w, "Fix the footer", points=1)  # a 3-day claim window
    r = await w.alice.slash(w.general, "task claim", task=str(number))
    assert "You claimed" in said(r)
    assert status(w, number) == CLAIMED
    # Discord refuses the expiry sweep's edits (its notice's and the repair's) ...
    w.env.inject_error("PATCH", f"/channels/{w.tasks.id}/messages/*", status=503, times=2)
    await sweep_after(w, simcord_bot, 3 * 86400 + 1)
    assert status(w, number) == CLAIMED
    # ... and once it answers again (the repair's backoff: a minute), the card is open.
    await sweep_after(w, simcord_bot, 60)
    assert status(w, number) == OPEN
    r = await w.bob.click(card_of(w.tasks, number), label="Claim")
    assert "You claimed" in said(r)
    assert status(w, number) == CLAIMED


async def test_ten_changes_during_an_outage_are_one_edit_after_a_restart(
    world: World, simcord_bot: PeerBot, sqlite_url: str, later: list[Any]
) -> None:
    w = world
    number = await create(w, "Translate the FAQ")
    card = card_of(w.tasks, number)
    w.env.inject_error("PATCH", card_path(w, card.id), status=429, times=10)
    for i in range(10):
        verb = "claim" if i % 2 == 0 else "release"
        r = await w.alice.slash(w.general, f"task {verb}", task=str(number))
        assert "Something went wrong" not in said(r)
    assert len(edits_of(w, card.id)) == 10  # every edit refused
    assert status(w, number) == OPEN  # as it was before the first claim

    # A new process on the same database file: the mark is in the database.
    runtime = build_services(sqlite_url, clock=virtual_clock())
    later.append(runtime)
    bot = build_bot(runtime.services, scheduler=False)
    later.append(bot)
    await w.env.restart_bot(bot)
    await sweep_after(w, bot, 60)
    assert len(edits_of(w, card.id)) == 11  # one edit for ten changes
    assert status(w, number) == OPEN  # the newest state: released
    # A last claim (after the outage) shows at once, and the card is clean again.
    r = await w.alice.slash(w.general, "task claim", task=str(number))
    assert status(w, number) == CLAIMED
    await sweep_after(w, bot, 3600)
    assert len(edits_of(w, card.id)) == 12


async def test_a_deleted_card_is_posted_again(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    mods = field_conditions.create_role(
        w.guild, "Mods", permissions=discord.Permissions(manage_messages=True)
    )
    mod = w.guild.add_member(w.env.create_user("moss"), roles=[mods])
    number = await create(w, "Fix the footer")
    old = card_of(w.tasks, number)
    await mod.delete(old)
    r = await w.alice.slash(w.general, "task claim", task=str(number))
    assert "You claimed" in said(r)
    assert len(edits_of(w, old.id)) == 1  # refused: Unknown Message

    await sweep_after(w, simcord_bot, 60)
    new = card_of(w.tasks, number)
    assert new.id != old.id
    assert status(w, number) == CLAIMED
    assert (await runtime.services.tasks.show(w.guild.id, number)).card_message_id == new.id
    # The card posted again is the board's card: the next change edits it.
    r = await w.alice.slash(w.general, "task release", task=str(number))
    assert "released" in said(r).lower()
    assert status(w, number) == OPEN
    assert card_of(w.tasks, number).id == new.id
    assert len(edits_of(w, new.id)) == 1
    await sweep_after(w, simcord_bot, 3600)
    assert len([m for m in w.tasks.history() if m.embeds]) == 1  # one card, no duplicate


async def test_a_tasks_channel_out_of_reach_is_told_to_maintainers_once(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    number = await create(w, "Fix the footer")
    w.env.inject_error(
        "PATCH", f"/channels/{w.tasks.id}/messages/*", status=404, code=10003, times=3
    )
    r = await w.alice.slash(w.general, "task claim", task=str(number))
    assert "You claimed" in said(r)
    await sweep_after(w, simcord_bot, 60)
    await sweep_after(w, simcord_bot, 3600)  # refused again: not told again
    told = [m for m in w.review.history() if BLOCKED_LINE in m.content]
    assert [m.content for m in told] == [
        f"⚠️ I can't update the task cards in <#{w.tasks.id}>: the channel is gone or I may "
        "not post there. A maintainer can restore my access or pick another with "
        "`/config channels`."
    ]
    assert status(w, number) == OPEN
    # Fixed: the card catches up, and a later problem would be told again.
    await sweep_after(w, simcord_bot, 3600)
    assert status(w, number) == CLAIMED
    assert len([m for m in w.review.history() if BLOCKED_LINE in m.content]) == 1


async def test_config_show_tells_maintainers_of_cards_discord_keeps_refusing(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    number = await create(w, "Fix the footer")
    w.env.inject_error("PATCH", f"/channels/{w.tasks.id}/messages/*", status=502, times=None)
    await w.alice.slash(w.general, "task claim", task=str(number))
    shown = await w.maint.slash(w.general, "config show")
    assert "could not be updated" not in said(shown)  # one refusal is not news
    for wait in (60, 60, 120):  # the backoff: 1, then 2 minutes
        await sweep_after(w, simcord_bot, wait)
    edits = edits_of(w, card_of(w.tasks, number).id)
    assert len(edits) == 4  # the claim's, then three repairs
    shown = await w.maint.slash(w.general, "config show")
    assert shown.response.ephemeral
    assert said(shown).startswith(
        "⚠️ 1 task card could not be updated: Discord keeps refusing. I keep trying; "
        "check that I can see the tasks channel and post there."
    )


async def test_a_review_post_discord_refused_to_close_is_closed_by_the_sweep(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    number = await in_review(w, w.alice)
    post = w.review.last_message
    assert post.components  # Approve, Request changes
    w.env.inject_error("PATCH", f"/channels/{w.review.id}/messages/{post.id}", status=500)
    r = await w.carol.slash(w.general, "task approve", task=str(number))
    assert "done" in said(r)
    assert status(w, number) == "✅ Done"
    assert w.review.last_message.components  # still offers a review of finished work

    await sweep_after(w, simcord_bot, 60)
    closed = w.review.last_message
    assert closed.id == post.id
    assert closed.components == []
    assert "this review post is closed" in closed.content


async def test_a_card_a_finished_blocker_unblocks_is_repaired_by_the_sweep(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    first = await in_review(w, w.alice, "Write the glossary")
    second = await create(w, "Translate the glossary", blocked_by=str(first))
    waiting = card_of(w.tasks, second)
    assert "(waiting)" in str(waiting.embeds[0].to_dict())
    w.env.inject_error("PATCH", card_path(w, waiting.id), status=500)
    r = await w.carol.slash(w.general, "task approve", task=str(first))
    assert "done" in said(r)
    assert "(waiting)" in str(card_of(w.tasks, second).embeds[0].to_dict())

    await sweep_after(w, simcord_bot, 60)
    assert "(finished)" in str(card_of(w.tasks, second).embeds[0].to_dict())
    assert len(edits_of(w, waiting.id)) == 2


async def test_thread_lines_discord_refused_are_posted_by_the_sweep_in_order(
    world: World, simcord_bot: PeerBot, sqlite_url: str, later: list[Any]
) -> None:
    w = world
    number = await create(w, "Fix the footer")
    thread = thread_of(w, number)
    before = thread_lines(w, number)
    w.env.inject_error("POST", f"/channels/{thread.id}/messages", status=500, times=3)
    await w.alice.slash(w.general, "task claim", task=str(number))
    await w.alice.slash(w.general, "task release", task=str(number))
    assert thread_lines(w, number) == before  # both refused
    await sweep_after(w, simcord_bot, 60)  # refused once more: the first waits, and the second
    assert thread_lines(w, number) == before

    # A restart in between: the lines are in the database.
    runtime = build_services(sqlite_url, clock=virtual_clock())
    later.append(runtime)
    bot = build_bot(runtime.services, scheduler=False)
    later.append(bot)
    await w.env.restart_bot(bot)
    await sweep_after(w, bot, 60)
    added = thread_lines(w, number)[len(before) :]
    assert len(added) == 2
    assert added[0] == f"<@{w.alice.id}> claimed this task."
    assert "released" in added[1]
    await sweep_after(w, bot, 3600)
    assert len(thread_lines(w, number)) == len(before) + 2  # each line once
