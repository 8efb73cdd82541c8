"""Under real Discord's conditions (tests/e2e/field.py): the bot holds only invite-url's
permissions, roles are not mentionable, members leave, channels and cards get deleted."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.app import INVITE_PERMISSIONS, PeerBot
from bot.bootstrap import Runtime
from tests.e2e import field as field_conditions
from tests.e2e.conftest import World, card_of, said
from tests.e2e.helpers import CRASH_WORDS, claimed, create, in_review, refused, stored

HOUR = 3600


def dms(member: Any) -> list[discord.Message]:
    return list(member.user.dm_channel.history())


def not_a_crash(result: Any) -> str:
    assert result.acknowledged, "the bot never answered"
    text = said(result)
    for crash in CRASH_WORDS:
        assert crash not in text, text
    return text


# -- the conditions themselves -------------------------------------------------------------


async def test_the_bot_holds_exactly_invite_urls_permissions_and_roles_are_not_mentionable(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    guild = simcord_bot.get_guild(w.guild.id)
    me = guild.me
    [role] = [r for r in me.roles if not r.is_default()]
    # The bot's own role holds exactly the one constant invite-url prints; what it may
    # do is that plus what @everyone may (Discord's defaults), nothing more.
    assert role.permissions == INVITE_PERMISSIONS
    everyone = guild.default_role.permissions
    expected = discord.Permissions(INVITE_PERMISSIONS.value | everyone.value)
    assert field_conditions.bot_permissions_in(w.env, w.guild) == expected
    for channel in (w.tasks, w.review, w.general):
        assert field_conditions.bot_permissions_in(w.env, w.guild, channel) == expected
    assert me.guild_permissions == expected
    for power in ("administrator", "manage_threads", "manage_messages", "manage_channels"):
        assert not getattr(me.guild_permissions, power), power
    # Its role is the invite's: managed, just above @everyone, below the admins' roles.
    assert role.managed and role.position == 1
    assert guild.get_role(w.reviewers.id).position > role.position
    assert guild.get_role(w.maintainers.id).position > role.position
    assert not guild.get_role(w.reviewers.id).mentionable
    assert not guild.get_role(w.maintainers.id).mentionable
    # A role the admins create later lands below the bot's, as on Discord.
    later = w.guild.create_role("Helper")
    await w.env.settle()
    assert guild.get_role(later.id).position < guild.get_role(role.id).position


@pytest.mark.bot_permissions(manage_threads=True)
@pytest.mark.mentionable_roles
async def test_markers_ask_for_more_explicitly(world: World, simcord_bot: PeerBot) -> None:
    me = simcord_bot.get_guild(world.guild.id).me
    expected = discord.Permissions(INVITE_PERMISSIONS.value)
    expected.manage_threads = True
    [role] = [r for r in me.roles if not r.is_default()]
    assert role.permissions == expected and me.guild_permissions.manage_threads
    assert simcord_bot.get_guild(world.guild.id).get_role(world.reviewers.id).mentionable


# -- bug 2: review pings reach the reviewers ------------------------------------------------


async def test_the_ready_for_review_post_notifies_the_reviewer_role(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    post = w.review.last_message
    assert "ready for review" in post.content
    record = stored(w.env, post)
    assert record.allowed_mentions.allows_role(w.reviewers.id)
    # Discord (SimCord) delivered the role ping: the role is not mentionable, so this
    # holds only because invite-url asks for Mention Everyone.
    assert record.ping_role_ids == [w.reviewers.id]
    assert not record.mention_everyone


async def test_the_rework_escalation_notifies_the_maintainer_role(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config roles", maintainer=w.maintainers)
    number = await in_review(w, w.alice)
    for round_ in range(1, 4):
        r = await w.carol.slash(
            w.general, "task request-changes", task=str(number), reason=f"Round {round_}"
        )
        if round_ < 3:
            await w.alice.slash(w.general, "task submit", task=str(number), notes="Fixed")
    assert "maintainers were asked to step in" in said(r)
    escalation = w.review.last_message
    assert escalation.content.startswith(f"<@&{w.maintainers.id}> 🧭")
    assert stored(w.env, escalation).ping_role_ids == [w.maintainers.id]


async def test_the_review_nudge_notifies_the_reviewer_role(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    await in_review(w, w.alice)
    await w.env.advance_time(48 * HOUR)
    await simcord_bot.run_sweep()
    nudge = w.review.last_message
    assert "👀" in nudge.content
    assert stored(w.env, nudge).ping_role_ids == [w.reviewers.id]


WITHOUT_MENTION_EVERYONE = (
    INVITE_PERMISSIONS.value & ~discord.Permissions(mention_everyone=True).value
)


@pytest.mark.bot_permissions(value=WITHOUT_MENTION_EVERYONE)
async def test_config_roles_warns_when_the_bot_cannot_ping_the_role(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "config roles", reviewer=w.reviewers)
    text = said(r)
    assert r.ephemeral
    assert "Saved." in text
    assert "can't ping" in text and f"<@&{w.reviewers.id}>" in text
    assert "Mention Everyone" in text and "mentionable" in text
    r = await w.maint.slash(w.general, "config show")
    assert "can't ping" in said(r)
    # And indeed: a review call reaches nobody.
    await in_review(w, w.alice)
    assert stored(w.env, w.review.last_message).ping_role_ids == []


@pytest.mark.bot_permissions(value=WITHOUT_MENTION_EVERYONE)
@pytest.mark.mentionable_roles
async def test_config_roles_is_quiet_when_the_role_is_mentionable(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "config roles", reviewer=w.reviewers)
    assert "can't ping" not in said(r)
    await in_review(w, w.alice)
    assert stored(w.env, w.review.last_message).ping_role_ids == [w.reviewers.id]


async def test_a_review_channel_that_denies_mention_everyone_is_named_in_the_warning(
    world: World, simcord_bot: PeerBot
) -> None:
    """The check is made where the pings are posted: a channel overwrite counts."""
    w = world
    quiet = w.guild.create_text_channel(
        "review-quiet",
        overwrites={simcord_bot.user: discord.PermissionOverwrite(mention_everyone=False)},
    )
    r = await w.maint.slash(w.general, "config channels", review=quiet)
    text = said(r)
    assert text.startswith("Saved.") and "can't ping" in text
    assert f"<@&{w.reviewers.id}>" in text and f"<#{quiet.id}>" in text
    await in_review(w, w.alice)
    assert stored(w.env, quiet.last_message).ping_role_ids == []
    # Back to the review channel where the bot may ping: no warning.
    r = await w.maint.slash(w.general, "config channels", review=w.review)
    assert "can't ping" not in said(r)


async def test_config_roles_is_quiet_under_invite_urls_permissions(world: World) -> None:
    w = world
    r = await w.maint.slash(
        w.general, "config roles", reviewer=w.reviewers, maintainer=w.maintainers
    )
    assert said(r).startswith("Saved.") and "can't ping" not in said(r)


# -- bug 8: a member who left can't use old DM buttons --------------------------------------


async def warned(w: World, bot: PeerBot) -> discord.Message:
    """Alice holds #1 (3-day window) and got the claim warning DM at 36 h."""
    await claimed(w, w.alice, "Fix the footer", points=1)
    await w.env.advance_time(36 * HOUR)
    await bot.run_sweep()
    [dm] = dms(w.alice)
    return dm


async def test_a_member_who_left_cannot_extend_from_the_dm(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    dm = await warned(w, simcord_bot)
    before = (await runtime.services.tasks.show(w.guild.id, 1)).claims[0]
    await field_conditions.member_leaves(w.env, w.guild, w.alice)

    r = await w.alice.user.click(dm, label="Still on it")
    text = refused(r, "no longer a member of **Commons**")
    assert "Extended" not in text
    [after] = (await runtime.services.tasks.show(w.guild.id, 1)).claims
    assert (after.expires_at, after.extensions) == (before.expires_at, before.extensions)

    r = await w.alice.user.click(dm, label="Release")
    assert r.modal is None  # no form for a button that can't work
    refused(r, "no longer a member of **Commons**")
    assert [c.member_id for c in (await runtime.services.tasks.show(w.guild.id, 1)).claims] == [
        w.alice.id
    ]


async def test_a_member_still_in_the_server_extends_from_the_dm(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    dm = await warned(w, simcord_bot)
    r = await w.alice.user.click(dm, label="Still on it")
    assert "Extended" in not_a_crash(r)
    [claim] = (await runtime.services.tasks.show(w.guild.id, 1)).claims
    assert claim.extensions == 1


# -- channels and messages deleted under the bot --------------------------------------------


async def test_a_deleted_card_does_not_stop_the_work(world: World, runtime: Runtime) -> None:
    w = world
    number = await create(w, "Fix the footer")
    await field_conditions.delete_message(w.env, card_of(w.tasks, number))

    for member, command, options, needle in (
        (w.alice, "task claim", {}, "You claimed"),
        (w.alice, "task submit", {"link": "https://example.org/pr/1"}, "Submitted"),
        (w.carol, "task approve", {}, "Approved"),
        (w.bob, "task show", {}, f"#{number}"),
    ):
        r = await member.slash(w.general, command, task=str(number), **options)
        text = not_a_crash(r)
        assert needle in text or any(needle in (e.title or "") for e in r.response.embeds), text
    assert (await runtime.services.tasks.show(w.guild.id, number)).status.value == "done"
    assert w.env.errors == []


async def test_a_deleted_tasks_channel_does_not_stop_the_work(
    world: World, runtime: Runtime
) -> None:
    w = world
    first = await create(w, "Fix the footer")
    await field_conditions.delete_channel(w.env, w.tasks)

    r = await w.alice.slash(w.general, "task claim", task=str(first))
    assert "You claimed" in not_a_crash(r)
    r = await w.alice.slash(w.general, "task release", task=str(first))
    assert "released" in not_a_crash(r).lower()
    second = await create(w, "Write the FAQ")  # no card can be posted: still created
    assert (await runtime.services.tasks.show(w.guild.id, second)).title == "Write the FAQ"
    r = await w.bob.slash(w.general, "task claim", task=str(second))
    assert "You claimed" in not_a_crash(r)
    assert w.env.errors == []


async def test_a_deleted_review_channel_and_thread_do_not_stop_a_review(
    world: World, runtime: Runtime
) -> None:
    w = world
    number = await claimed(w, w.alice)
    await field_conditions.delete_channel(w.env, w.review)
    thread = next(t for t in w.tasks.threads if t.name.startswith(f"#{number} "))
    await field_conditions.delete_channel(w.env, thread)

    r = await w.alice.slash(
        w.general, "task submit", task=str(number), link="https://example.org/pr/1"
    )
    assert "Submitted" in not_a_crash(r)
    r = await w.carol.click(card_of(w.tasks, number), label="Approve")
    assert "Approved" in not_a_crash(r)
    assert (await runtime.services.tasks.show(w.guild.id, number)).status.value == "done"
    assert w.env.errors == []


async def test_the_sweep_survives_a_deleted_tasks_channel(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    number = await claimed(w, w.alice, points=1)
    await field_conditions.delete_channel(w.env, w.tasks)
    await w.env.advance_time(3 * 24 * HOUR + 1)  # the claim expires: "back on the board"
    await simcord_bot.run_sweep()
    task = await runtime.services.tasks.show(w.guild.id, number)
    assert task.status.value == "open" and task.claims == ()
    assert any("ran out" in m.content for m in dms(w.alice))
    assert w.env.errors == []
