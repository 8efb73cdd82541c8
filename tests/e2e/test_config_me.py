"""End-to-end: /config (every subcommand, its refusals, who may see and use it) and /me tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import discord
import pytest
import simcord

from bot.app import PeerBot
from bot.bootstrap import Runtime
from bot.domain.errors import InvalidInput, PermissionDenied
from bot.domain.model import Actor
from tests.e2e.conftest import World, card_of, field, make_world, said

# -- helpers ---------------------------------------------------------------------------------


async def settings_of(w: World) -> discord.Message:
    """The settings embed as a maintainer sees it right now."""
    r = await w.maint.slash(w.general, "config show")
    assert r.ephemeral
    return r.response


def stamp_in(env: Any, **delta: float) -> str:
    return f"<t:{int((env.now() + timedelta(**delta)).timestamp())}:R>"


async def config_command(bot: PeerBot) -> discord.app_commands.AppCommand:
    return next(c for c in await bot.tree.fetch_commands() if c.name == "config")


# -- /config show ----------------------------------------------------------------------------


async def test_config_show_defaults(simcord_env: Any) -> None:
    w = await make_world(simcord_env, configure=False)
    r = await w.maint.slash(w.general, "config show")
    assert r.ephemeral
    embed = r.response.embeds[0]
    assert embed.title == "Peerboard settings"
    shown = r.response
    assert field(shown, "Channels") == "Tasks: not set\nReview: not set\nDigest: not set"
    assert field(shown, "Roles") == "Maintainers: not set\nReviewers: not set"
    assert field(shown, "Claims") == (
        "Window: by size (3/7/14 days)\nExtensions: 2\n"
        "Limits: newcomer 1, contributor 3, regular 5\nApprovals needed: 1"
    )
    assert field(shown, "Weekly digest") == "Mondays at 17:00 (UTC)"
    assert field(shown, "Milestone roles") == "none"


# -- /config channels ------------------------------------------------------------------------


async def test_config_channels_sets_each_channel(simcord_env: Any) -> None:
    w = await make_world(simcord_env, configure=False)
    digest = w.guild.create_text_channel("digest")
    r = await w.maint.slash(w.general, "config channels", tasks=w.tasks, review=w.review)
    assert r.ephemeral and said(r) == "Saved."
    assert field(r.response, "Channels") == (
        f"Tasks: <#{w.tasks.id}>\nReview: <#{w.review.id}>\nDigest: not set"
    )
    # Options left out keep their value.
    r = await w.maint.slash(w.general, "config channels", digest=digest)
    assert field(r.response, "Channels") == (
        f"Tasks: <#{w.tasks.id}>\nReview: <#{w.review.id}>\nDigest: <#{digest.id}>"
    )
    # The setting is used: a new task's card goes to the tasks channel.
    r = await w.maint.slash(w.general, "task create", title="Write the README")
    assert "Its card is in" in said(r)
    assert card_of(w.tasks, 1).embeds[0].title == "#1 · Write the README"


async def test_config_channels_refusals(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "config channels")
    assert r.ephemeral
    assert said(r) == "Nothing to change: pick at least one option."
    # Discord's channel picker only offers text channels: a voice channel never reaches the bot.
    voice = w.guild.create_voice_channel("hangout")
    with pytest.raises(simcord.OptionError) as caught:
        await w.maint.slash(w.general, "config channels", tasks=voice)
    assert caught.value.code == "option-channel-type"
    assert field(await settings_of(w), "Channels") == (
        f"Tasks: <#{w.tasks.id}>\nReview: <#{w.review.id}>\nDigest: not set"
    )


# -- /config roles ---------------------------------------------------------------------------


async def test_config_roles(world: World) -> None:
    w = world
    stewards = w.guild.create_role("Stewards")
    r = await w.maint.slash(w.general, "config roles", maintainer=stewards)
    assert r.ephemeral and said(r) == "Saved."
    assert field(r.response, "Roles") == (
        f"Maintainers: <@&{stewards.id}>\nReviewers: <@&{w.reviewers.id}>"
    )
    r = await w.maint.slash(w.general, "config roles")
    assert said(r) == "Nothing to change: pick at least one option."
    assert field(await settings_of(w), "Roles") == (
        f"Maintainers: <@&{stewards.id}>\nReviewers: <@&{w.reviewers.id}>"
    )


# -- /config claims --------------------------------------------------------------------------


async def test_config_claims_sets_values_and_they_apply(world: World) -> None:
    w = world
    r = await w.maint.slash(
        w.general,
        "config claims",
        claim_days=10,
        max_extensions=0,
        limit_newcomer=2,
        limit_contributor=4,
        limit_regular=6,
        required_approvals=2,
    )
    assert r.ephemeral and said(r) == "Saved."
    assert field(r.response, "Claims") == (
        "Window: 10 days\nExtensions: 0\n"
        "Limits: newcomer 2, contributor 4, regular 6\nApprovals needed: 2"
    )
    for title in ("One", "Two", "Three"):
        await w.maint.slash(w.general, "task create", title=title, points=1)

    # claim_days: a 1-point task now gets 10 days instead of 3.
    r = await w.alice.slash(w.general, "task claim", task="1")
    assert "You claimed **#1" in said(r)
    assert stamp_in(w.env, days=10) in (field(card_of(w.tasks, 1), "Claimed by") or "")
    # limit_newcomer: a newcomer can hold two claims, not three.
    r = await w.alice.slash(w.general, "task claim", task="2")
    assert "You claimed **#2" in said(r)
    r = await w.alice.slash(w.general, "task claim", task="3")
    assert r.ephemeral
    assert said(r).startswith("You can hold 2 tasks at a time as a newcomer, and you hold 2.")
    # max_extensions=0: no extension at all.
    r = await w.alice.slash(w.general, "task extend", task="1")
    assert r.ephemeral
    assert said(r).startswith("Claims here can't be extended.")


async def test_config_claims_refusals(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "config claims")
    assert said(r) == "Nothing to change: pick at least one option."
    # Out-of-range values are refused by Discord itself (min/max on the option)...
    for option, value in (
        ("claim_days", 0),
        ("claim_days", 91),
        ("max_extensions", -1),
        ("limit_newcomer", 0),
        ("required_approvals", 6),
    ):
        with pytest.raises(simcord.OptionError) as caught:
            await w.maint.slash(w.general, "config claims", **{option: value})
        assert caught.value.code == "option-range", option
    # ...and the bot's service checks again, for callers that are not Discord's picker.
    assert "Window: by size" in (field(await settings_of(w), "Claims") or "")


async def test_config_service_rejects_out_of_range_values(runtime: Runtime) -> None:
    maintainer = Actor(guild_id=1, member_id=2, is_maintainer=True)
    with pytest.raises(InvalidInput, match="Claim days must be between 1 and 90"):
        await runtime.services.config.update(maintainer, claim_days=91)
    with pytest.raises(InvalidInput, match="Unknown setting"):
        await runtime.services.config.update(maintainer, owner_id=5)
    assert (await runtime.services.config.get(1)).rules.claim_days is None


# -- /config digest --------------------------------------------------------------------------


async def test_config_digest_sets_schedule(world: World) -> None:
    w = world
    r = await w.maint.slash(
        w.general, "config digest", day=4, time="7:05", timezone="Europe/Berlin", enabled=True
    )
    assert r.ephemeral and said(r) == "Saved."
    assert field(r.response, "Weekly digest") == "Fridays at 07:05 (Europe/Berlin)"
    r = await w.maint.slash(w.general, "config digest", enabled=False)
    assert field(r.response, "Weekly digest") == "off"
    r = await w.maint.slash(w.general, "config digest", enabled=True)
    assert field(r.response, "Weekly digest") == "Fridays at 07:05 (Europe/Berlin)"


async def test_config_digest_timezone_autocomplete(world: World) -> None:
    w = world
    choices = await w.maint.autocomplete(w.general, "config digest", "timezone", "berl")
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in choices
    choices = await w.maint.autocomplete(w.general, "config digest", "timezone", "America/New")
    assert choices[0] == {"name": "America/New_York", "value": "America/New_York"}
    choices = await w.maint.autocomplete(w.general, "config digest", "timezone", "Europe/")
    assert len(choices) == 25 and all(c["value"].startswith("Europe/") for c in choices)
    assert await w.maint.autocomplete(w.general, "config digest", "timezone", "Mars/") == []


async def test_timezone_autocomplete_with_nothing_typed_starts_with_the_setting(
    world: World,
) -> None:
    w = world
    await w.maint.slash(w.general, "config digest", timezone="Asia/Kathmandu")
    choices = [
        c["value"] for c in await w.maint.autocomplete(w.general, "config digest", "timezone", "")
    ]
    # The current setting first, then zones most communities live in — not Africa/Abidjan.
    assert choices[0] == "Asia/Kathmandu"
    assert {"UTC", "Europe/London", "America/New_York", "Asia/Tokyo"} <= set(choices)
    assert "Africa/Abidjan" not in choices
    assert len(choices) == len(set(choices)) <= 25  # Discord's limit, each once


async def test_config_digest_refusals(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config digest", time="18:30", timezone="Europe/Paris")
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "Europe", "Etc", "zone.tab", "x" * 300):
        r = await w.maint.slash(w.general, "config digest", timezone=bad)
        assert r.ephemeral
        assert "is not a timezone I know" in said(r), bad
        assert r.response.embeds == []
    for bad in ("25:00", "5pm", "12:5", "12:60", "noon", "-1:30"):
        r = await w.maint.slash(w.general, "config digest", time=bad)
        assert said(r) == "Time must be HH:MM in 24-hour form, like 17:00.", bad
    # A refused change writes nothing, not even the valid options sent along with it.
    r = await w.maint.slash(w.general, "config digest", day=2, time="99:99")
    assert "Time must be HH:MM" in said(r)
    r = await w.maint.slash(w.general, "config digest")
    assert said(r) == "Nothing to change: pick at least one option."
    with pytest.raises(simcord.OptionError) as caught:
        await w.maint.slash(w.general, "config digest", day=7)
    assert caught.value.code == "option-choice"
    assert field(await settings_of(w), "Weekly digest") == "Mondays at 18:30 (Europe/Paris)"


# -- /config milestone -----------------------------------------------------------------------


async def test_config_milestone_add_update_remove(world: World) -> None:
    w = world
    helpers = w.guild.create_role("Helper")
    veterans = w.guild.create_role("Veteran")
    r = await w.maint.slash(w.general, "config milestone", points=10, role=helpers)
    assert r.ephemeral
    assert said(r) == f"At 10 points, members get <@&{helpers.id}>."
    r = await w.maint.slash(w.general, "config milestone", points=50, role=veterans)
    assert field(r.response, "Milestone roles") == (
        f"10 points → <@&{helpers.id}>\n50 points → <@&{veterans.id}>"
    )
    # The same threshold again moves it to another role instead of adding a second one.
    r = await w.maint.slash(w.general, "config milestone", points=10, role=w.reviewers)
    assert field(r.response, "Milestone roles") == (
        f"10 points → <@&{w.reviewers.id}>\n50 points → <@&{veterans.id}>"
    )
    r = await w.maint.slash(w.general, "config milestone", points=10, role=helpers, remove=True)
    assert said(r) == "Removed the milestone at 10 points."
    assert field(r.response, "Milestone roles") == f"50 points → <@&{veterans.id}>"
    assert field(await settings_of(w), "Milestone roles") == f"50 points → <@&{veterans.id}>"


async def test_config_milestone_refusals(world: World) -> None:
    w = world
    r = await w.maint.slash(w.general, "config milestone", points=99, role=w.reviewers, remove=True)
    assert r.ephemeral and said(r) == "There is no milestone at 99 points."
    r = await w.maint.slash(w.general, "config milestone", points=5, role=w.guild.default_role)
    assert "Pick a regular role" in said(r)
    bot_role = w.guild.create_role("Some Integration", managed=True)
    r = await w.maint.slash(w.general, "config milestone", points=5, role=bot_role)
    assert "Pick a regular role" in said(r)
    with pytest.raises(simcord.OptionError) as caught:
        await w.maint.slash(w.general, "config milestone", points=0, role=w.reviewers)
    assert caught.value.code == "option-range"
    assert field(await settings_of(w), "Milestone roles") == "none"


# -- who may see and use /config -------------------------------------------------------------


async def test_config_is_hidden_from_members_without_manage_server(world: World) -> None:
    w = world
    for sub in ("show", "channels", "roles", "claims", "digest", "milestone"):
        with pytest.raises(simcord.SetupError, match="default-member-permissions"):
            await w.alice.slash(w.general, f"config {sub}")
    # A member who maintains through the configured role still doesn't see it by default:
    # only Manage Server does (server admins may widen that in Integrations settings).
    stewards = w.guild.create_role("Stewards")
    await w.maint.slash(w.general, "config roles", maintainer=stewards)
    sam = w.guild.add_member(w.env.create_user("sam"), roles=[stewards])
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await sam.slash(w.general, "config show")
    assert not any(name.startswith("config") for name in w.alice.available_commands(w.general))
    assert "config show" in w.maint.available_commands(w.general)


async def test_config_refuses_non_maintainer_even_when_the_command_is_visible(
    world: World, simcord_bot: PeerBot
) -> None:
    """Server admins can make /config visible to anyone (Integrations → command permissions);
    the bot must still refuse, on its own side, everyone who isn't a maintainer."""
    w = world
    w.guild.set_command_permissions(await config_command(simcord_bot), {w.alice: True})
    r = await w.alice.slash(w.general, "config show")
    assert r.ephemeral and said(r) == "Only maintainers can see the settings."
    assert r.response.embeds == []
    r = await w.alice.slash(w.general, "config channels", tasks=w.general)
    assert r.ephemeral and said(r) == "Only maintainers can change the settings."
    r = await w.alice.slash(w.general, "config roles", maintainer=w.reviewers)
    assert said(r) == "Only maintainers can change the settings."
    r = await w.alice.slash(w.general, "config claims", limit_newcomer=50)
    assert said(r) == "Only maintainers can change the settings."
    r = await w.alice.slash(w.general, "config digest", enabled=False)
    assert said(r) == "Only maintainers can change the settings."
    r = await w.alice.slash(w.general, "config milestone", points=1, role=w.reviewers)
    assert said(r) == "Only maintainers can change milestone roles."
    # Nothing was written.
    shown = await settings_of(w)
    assert field(shown, "Channels") == (
        f"Tasks: <#{w.tasks.id}>\nReview: <#{w.review.id}>\nDigest: not set"
    )
    assert field(shown, "Roles") == f"Maintainers: not set\nReviewers: <@&{w.reviewers.id}>"
    assert "newcomer 1," in (field(shown, "Claims") or "")
    assert field(shown, "Weekly digest") == "Mondays at 17:00 (UTC)"
    assert field(shown, "Milestone roles") == "none"


async def test_config_service_refuses_non_maintainer(runtime: Runtime) -> None:
    member = Actor(guild_id=1, member_id=2, is_maintainer=False)
    with pytest.raises(PermissionDenied, match="Only maintainers can change the settings"):
        await runtime.services.config.update(member, limit_newcomer=50)
    with pytest.raises(PermissionDenied, match="Only maintainers can change milestone roles"):
        await runtime.services.config.set_milestone(member, 10, 99)
    assert (await runtime.services.config.get(1)).rules.limit_newcomer == 1


async def test_maintainer_role_without_manage_server_is_a_maintainer(
    world: World, simcord_bot: PeerBot
) -> None:
    w = world
    stewards = w.guild.create_role("Stewards")  # no permissions at all
    sam = w.guild.add_member(w.env.create_user("sam"), roles=[stewards])
    r = await sam.slash(w.general, "task create", title="Before the role is configured")
    assert "Only maintainers can put tasks straight on the board" in said(r)

    await w.maint.slash(w.general, "config roles", maintainer=stewards)
    r = await sam.slash(w.general, "task create", title="Tidy the wiki", points=2)
    assert "Created **#1 · Tidy the wiki**" in said(r)
    r = await sam.slash(w.general, "task assign", task="1", member=w.alice)
    assert "Assigned **#1" in said(r)
    r = await sam.slash(w.general, "task cancel", task="1", reason="Duplicate of the docs task")
    assert "Cancelled **#1" in said(r)
    r = await sam.slash(w.general, "task reopen", task="1")
    assert "Reopened **#1" in said(r)
    # Same commands from a plain member are refused.
    r = await w.bob.slash(w.general, "task cancel", task="1", reason="no")
    assert r.ephemeral and said(r).startswith("Only maintainers")

    # With the admin opening /config to the role, the role is enough there too.
    w.guild.set_command_permissions(await config_command(simcord_bot), {stewards: True})
    r = await sam.slash(w.general, "config claims", limit_newcomer=3)
    assert said(r) == "Saved."
    assert "newcomer 3," in (field(r.response, "Claims") or "")


# -- /me tasks -------------------------------------------------------------------------------


async def test_me_tasks_lists_claims_and_reviews_waiting(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", required_approvals=2)
    for title, points in (("Fix typo", 1), ("Write guide", 3), ("Port tests", 8), ("Spare", 1)):
        await w.maint.slash(w.general, "task create", title=title, points=points)

    await w.alice.slash(w.general, "task claim", task="1")
    alice_ends = stamp_in(w.env, days=3)
    await w.bob.slash(w.general, "task claim", task="2")
    await w.bob.slash(w.general, "task submit", task="2", link="https://example.org/pr/2")
    await w.carol.slash(w.general, "task claim", task="3")
    carol_ends = stamp_in(w.env, days=14)

    # alice: her claim with its expiry; she is a newcomer without the reviewer role, so
    # nothing is waiting for her review even though #2 is in review.
    r = await w.alice.slash(w.general, "me tasks")
    assert r.ephemeral
    working = field(r.response, "You're working on") or ""
    assert "**#1** Fix typo" in working and f"claim ends {alice_ends}" in working
    assert "#2" not in working and "#3" not in working
    assert field(r.response, "Waiting for your review") == "Nothing right now."

    # carol has the reviewer role: #2 waits for her; her own #3 is under "working on".
    r = await w.carol.slash(w.general, "me tasks")
    working = field(r.response, "You're working on") or ""
    assert "**#3** Port tests" in working and f"claim ends {carol_ends}" in working
    waiting = field(r.response, "Waiting for your review") or ""
    assert "**#2** Write guide" in waiting and "#3" not in waiting

    # Carol submits hers: the maintainer sees both, carol still not her own.
    await w.carol.slash(w.general, "task submit", task="3", notes="done")
    r = await w.carol.slash(w.general, "me tasks")
    waiting = field(r.response, "Waiting for your review") or ""
    assert "**#2**" in waiting and "#3" not in waiting
    working = field(r.response, "You're working on") or ""
    assert "**#3**" in working and "claim ends" not in working  # in review: no window running
    r = await w.maint.slash(w.general, "me tasks")
    waiting = field(r.response, "Waiting for your review") or ""
    assert "**#2**" in waiting and "**#3**" in waiting
    assert field(r.response, "You're working on") == "Nothing yet — try `/task list`."

    # bob's own work is not waiting for *his* review (and he can't review yet anyway).
    r = await w.bob.slash(w.general, "me tasks")
    assert "**#2** Write guide" in (field(r.response, "You're working on") or "")
    assert field(r.response, "Waiting for your review") == "Nothing right now."

    # Once carol approves #2 (1 of 2 approvals), it no longer waits for her, but still
    # waits for the maintainer.
    r = await w.carol.slash(w.general, "task approve", task="2")
    assert "1 of 2 approvals" in said(r)
    r = await w.carol.slash(w.general, "me tasks")
    assert field(r.response, "Waiting for your review") == "Nothing right now."
    r = await w.maint.slash(w.general, "me tasks")
    waiting = field(r.response, "Waiting for your review") or ""
    assert "**#2**" in waiting and "**#3**" in waiting


async def test_me_tasks_for_a_newcomer(world: World) -> None:
    w = world
    dave = w.guild.add_member(w.env.create_user("dave"))
    r = await dave.slash(w.general, "me tasks")
    assert r.ephemeral
    assert r.response.embeds[0].title == "Your tasks"
    assert field(r.response, "You're working on") == "Nothing yet — try `/task list`."
    assert field(r.response, "Waiting for your review") == "Nothing right now."
