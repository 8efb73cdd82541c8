"""End-to-end: the rules SPEC makes configurable, each reached by a /config subcommand
(or, for a task's own claim window, by /task create and /task edit): the value is stored,
shown, takes effect, and a value out of its range is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import simcord

from bot.app import PeerBot
from bot.bootstrap import Runtime
from bot.domain.errors import InvalidInput
from bot.domain.model import RULE_BOUNDS, Actor, Status
from tests.e2e.conftest import World, field, said
from tests.e2e.helpers import claimed, create, in_review, refused

HOUR = 3600


async def settings(w: World) -> Any:
    r = await w.maint.slash(w.general, "config show")
    return r.response


async def claim_window(runtime: Runtime, w: World, number: int, member_id: int) -> timedelta:
    view = await runtime.services.tasks.show(w.guild.id, number)
    mine = next(c for c in view.claims if c.member_id == member_id)
    return mine.expires_at - mine.claimed_at


async def done_by(w: World, member: Any, title: str) -> None:
    number = await in_review(w, member, title)
    r = await w.carol.slash(w.general, "task approve", task=str(number))
    assert "it's done" in said(r), said(r)


# -- out of range: refused by Discord's picker, and by the service ------------------------------

NEW_OPTIONS = {
    "config trust": ("regular_threshold",),
    "config proposals": ("proposal_endorsements", "proposal_window_hours"),
    "config reviews": ("review_points", "review_nudge_hours", "rework_limit"),
    "config kudos": ("kudos_weekly_budget",),
}


async def test_each_new_setting_refuses_values_out_of_its_range(
    world: World, runtime: Runtime
) -> None:
    w = world
    before = (await settings(w)).embeds[0].to_dict()
    for command, options in NEW_OPTIONS.items():
        for option in options:
            bound = RULE_BOUNDS[option]
            for wrong in (bound.min - 1, bound.max + 1):
                with pytest.raises(simcord.OptionError) as caught:
                    await w.maint.slash(w.general, command, **{option: wrong})
                assert caught.value.code == "option-range", (option, wrong)
    assert (await settings(w)).embeds[0].to_dict() == before
    # The service checks again, for callers that are not Discord's picker.
    maintainer = Actor(guild_id=w.guild.id, member_id=w.maint.id, is_maintainer=True)
    for option in (o for options in NEW_OPTIONS.values() for o in options):
        with pytest.raises(InvalidInput, match="must be between"):
            await runtime.services.config.update(
                maintainer, **{option: RULE_BOUNDS[option].max + 1}
            )
    assert (await runtime.services.config.get(w.guild.id)).rules.review_points == 1


async def test_the_new_settings_are_shown_and_kept(world: World) -> None:
    w = world
    r = await w.maint.slash(
        w.general, "config trust", regular_threshold=3, regulars_can_create=True
    )
    assert said(r) == "Saved." and r.ephemeral
    await w.maint.slash(w.general, "config proposals", proposal_endorsements=1)
    await w.maint.slash(w.general, "config reviews", review_points=2, rework_limit=1)
    await w.maint.slash(w.general, "config kudos", kudos_weekly_budget=1)
    shown = await settings(w)
    assert field(shown, "Trust") == "Regular after 3 tasks done\nCreating tasks: regulars too"
    assert field(shown, "Proposals") == (
        "Open at 1 endorsement\nor after 72 hours with no objection\n"
        "Waiting at a time: newcomer 2, contributor 5, regular 10"
    )
    assert field(shown, "Reviews") == (
        "2 points per task reviewed\nFirst nudge after 48 hours\nMaintainers asked after 1 round of changes"
    )
    assert field(shown, "Kudos") == "1 kudos per member in any 7 days"
    r = await w.maint.slash(w.general, "config trust")
    assert said(r) == "Nothing to change: pick at least one option."
    with pytest.raises(simcord.SetupError, match="default-member-permissions"):
        await w.alice.slash(w.general, "config reviews", review_points=5)  # hidden from members
    assert "2 points per task reviewed" in (field(await settings(w), "Reviews") or "")


# -- each setting takes effect ------------------------------------------------------------------


async def test_regulars_can_create_at_the_configured_threshold(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", limit_newcomer=3, limit_contributor=3)
    await done_by(w, w.alice, "First")
    r = await w.alice.slash(w.general, "task create", title="Mine")
    refused(r, "Only maintainers")
    await w.maint.slash(w.general, "config trust", regular_threshold=2, regulars_can_create=True)
    r = await w.alice.slash(w.general, "task create", title="Still mine")
    refused(r, "Regulars may create tasks here too")  # one done: a contributor still
    await done_by(w, w.alice, "Second")
    r = await w.alice.slash(w.general, "task create", title="Now mine")
    assert said(r).startswith("Created **#3 · Now mine**"), said(r)


async def test_proposal_endorsements_open_a_proposal_sooner(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config proposals", proposal_endorsements=1)
    await w.bob.slash(w.general, "task propose", title="Add dark mode")
    r = await w.alice.slash(w.general, "task endorse", task="1")
    assert said(r) == "Endorsed **#1 · Add dark mode** — it's now open on the board."


async def test_proposal_window_hours_open_a_quiet_proposal(
    world: World, simcord_bot: PeerBot, runtime: Runtime
) -> None:
    w = world
    await w.maint.slash(w.general, "config proposals", proposal_window_hours=2)
    await w.bob.slash(w.general, "task propose", title="Add dark mode")
    await w.env.advance_time(2 * HOUR - 1)
    await simcord_bot.run_sweep()
    assert (await runtime.services.tasks.show(w.guild.id, 1)).status is Status.PROPOSED
    await w.env.advance_time(1)
    await simcord_bot.run_sweep()
    assert (await runtime.services.tasks.show(w.guild.id, 1)).status is Status.OPEN


async def test_review_points_are_what_a_review_earns(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config reviews", review_points=3)
    await done_by(w, w.alice, "Fix the footer")
    r = await w.carol.slash(w.general, "profile")
    assert {f.name: f.value for f in r.response.embeds[0].fields}["Points"] == "3"


async def test_rework_limit_asks_maintainers_sooner(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config reviews", rework_limit=1)
    await in_review(w, w.alice)
    r = await w.carol.slash(w.general, "task request-changes", task="1", reason="Needs tests")
    assert "the maintainers were asked to step in" in said(r)
    assert "has been through 1 round of changes" in w.review.last_message.content


async def test_review_nudge_hours_nudge_sooner(world: World, simcord_bot: PeerBot) -> None:
    w = world
    await w.maint.slash(w.general, "config reviews", review_nudge_hours=6)
    await in_review(w, w.alice)
    await w.env.advance_time(6 * HOUR - 1)
    await simcord_bot.run_sweep()
    assert "waiting for review" not in w.review.last_message.content
    await w.env.advance_time(1)
    await simcord_bot.run_sweep()
    assert "has been waiting for review since" in w.review.last_message.content


async def test_kudos_weekly_budget_limits_kudos(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config kudos", kudos_weekly_budget=1)
    r = await w.alice.slash(w.general, "kudos", member=w.bob, reason="Thanks")
    assert "That was your last kudos for now" in r.followups[0].content
    r = await w.alice.slash(w.general, "kudos", member=w.carol, reason="Thanks too")
    refused(r, "You've given 1 kudos in the last 7 days", "the budget is 1 in any 7 days")


# -- claim windows: the guild's (and back to by size), and a task's own --------------------------


async def test_claim_window_goes_back_to_by_size(world: World, runtime: Runtime) -> None:
    w = world
    r = await w.maint.slash(w.general, "config claims", claim_days=1)
    assert (field(r.response, "Claims") or "").startswith("Window: 1 day\n")
    await w.maint.slash(w.general, "config claims", claim_days=10)
    await claimed(w, w.alice, "Ten days")
    assert await claim_window(runtime, w, 1, w.alice.id) == timedelta(days=10)
    r = await w.maint.slash(w.general, "config claims", window_by_size=True)
    assert said(r) == "Saved."
    assert (field(r.response, "Claims") or "").startswith("Window: by size (3/7/14 days)\n")
    await claimed(w, w.bob, "Back to size", points=8)
    assert await claim_window(runtime, w, 2, w.bob.id) == timedelta(days=14)
    r = await w.maint.slash(w.general, "config claims", claim_days=5, window_by_size=True)
    refused(r, "Pick one")
    assert (field(await settings(w), "Claims") or "").startswith("Window: by size")


async def test_a_task_has_its_own_claim_window(world: World, runtime: Runtime) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", claim_days=10)
    await claimed(w, w.alice, "Quick fix", claim_days=2)
    assert await claim_window(runtime, w, 1, w.alice.id) == timedelta(days=2)
    await w.alice.slash(w.general, "task release", task="1")
    r = await w.maint.slash(w.general, "task edit", task="1", claim_days=4)
    assert said(r) == "Updated **#1 · Quick fix**: changed the claim window."
    await w.bob.slash(w.general, "task claim", task="1")
    assert await claim_window(runtime, w, 1, w.bob.id) == timedelta(days=4)
    await w.bob.slash(w.general, "task release", task="1")
    await w.maint.slash(w.general, "task edit", task="1", claim_days=0)  # the server's again
    await w.carol.slash(w.general, "task claim", task="1")
    assert await claim_window(runtime, w, 1, w.carol.id) == timedelta(days=10)
    for wrong in (0, 91):
        with pytest.raises(simcord.OptionError) as caught:
            await w.maint.slash(w.general, "task create", title="Too long", claim_days=wrong)
        assert caught.value.code == "option-range"
    with pytest.raises(simcord.OptionError):
        await w.maint.slash(w.general, "task edit", task="1", claim_days=91)
    number = await create(w, "Default window")
    assert number == 2
