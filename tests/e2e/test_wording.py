"""End-to-end: what members read, read as a volunteer would — one phrasing for open
spots, plurals that agree, nothing a member can't act on, thread lines that say what
happened and reach whom it concerns, and text that shows as written."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import claimed, create, in_review, refused, stored, thread_lines, thread_of
from tests.e2e.test_digest import DUE_IN, HOUR, embeds_of, section, set_up_digest


def list_lines(result: Any) -> list[str]:
    return (result.response.embeds[0].description or "").splitlines()


# -- open spots and sizes ------------------------------------------------------------------------


async def test_the_list_says_spots_open_or_full_and_sizes_in_pts(world: World) -> None:
    w = world
    await create(w, "Test the beta", capacity=2, points=3)
    await create(w, "Fix a typo")
    r = await w.alice.slash(w.general, "task list")
    assert list_lines(r) == [
        "🟢 **#1** Test the beta · 3 pts — 2 spots open",
        "🟢 **#2** Fix a typo · 1 pt",
    ]
    await w.alice.slash(w.general, "task claim", task="1")
    await w.bob.slash(w.general, "task claim", task="1")
    r = await w.alice.slash(w.general, "task list", status="claimed")
    assert list_lines(r) == [
        f"🔵 **#1** Test the beta · 3 pts — <@{w.alice.id}>, <@{w.bob.id}> · Full"
    ]
    assert (field(card_of(w.tasks, 1), "Claimed by") or "").endswith("\nFull")


# -- plurals ---------------------------------------------------------------------------------------


async def test_leaderboards_and_milestones_count_in_the_singular_for_one(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    await w.carol.slash(w.general, "task approve", task="1")
    for by, unit in (("points", "1 point"), ("tasks", "1 task done"), ("reviews", "1 review")):
        r = await w.bob.slash(w.general, "leaderboard", period="all", by=by)
        who = w.carol if by == "reviews" else w.alice
        assert any(line.endswith(f"<@{who.id}> — {unit}") for line in list_lines(r)), by
    r = await w.maint.slash(w.general, "config milestone", points=1, role=w.reviewers)
    assert said(r) == f"At 1 point, members get <@&{w.reviewers.id}>."
    assert field(r.response, "Milestone roles") == f"1 point → <@&{w.reviewers.id}>"


async def test_milestone_remove_needs_no_role(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config milestone", points=10, role=w.reviewers)
    r = await w.maint.slash(w.general, "config milestone", points=10, remove=True)
    assert said(r) == "Removed the milestone at 10 points."
    assert field(r.response, "Milestone roles") == "none"
    r = await w.maint.slash(w.general, "config milestone", points=10)
    refused(r, "Pick the role members get")


# -- what a member is told they can do -------------------------------------------------------------


async def test_next_level_promises_reviewing_only_to_those_who_cant_review_yet(
    world: World,
) -> None:
    w = world

    async def next_level(actor: Any, member: Any = None) -> str:
        options = {"member": member} if member is not None else {}
        r = await actor.slash(w.general, "profile", **options)
        return {f.name: f.value for f in r.response.embeds[0].fields}["Next level"]

    assert await next_level(w.alice) == (
        "1 accepted task to become a contributor: hold up to 3 tasks at once and review "
        "others' work."
    )
    for reviewer_already in (w.maint, w.carol):  # a maintainer; the reviewer role
        text = await next_level(reviewer_already)
        assert text == "1 accepted task to become a contributor: hold up to 3 tasks at once."
        assert "review" not in await next_level(w.alice, reviewer_already)


async def test_an_in_review_card_does_not_count_down_a_claim(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    await w.env.advance_time(5 * 86400)  # past the 3-day window of a 1-point task
    await w.maint.slash(w.general, "task edit", task="1", tags="docs")  # the card is redrawn
    assert field(card_of(w.tasks, 1), "Claimed by") == f"<@{w.alice.id}>"


# -- thread lines: what happened, to whom it concerns -----------------------------------------------


async def test_a_cancelled_proposal_tells_its_proposer_why(world: World) -> None:
    w = world
    await w.bob.slash(w.general, "task propose", title="Add dark mode")
    r = await w.maint.slash(w.general, "task cancel", task="1", reason="We have one already")
    assert said(r) == "Cancelled **#1 · Add dark mode**."
    line = thread_of(w, 1).last_message
    assert line.content == (
        f"<@{w.bob.id}> — <@{w.maint.id}> cancelled this proposal:\n> We have one already"
    )
    assert stored(w.env, line).ping_user_ids == [w.bob.id]


async def test_a_first_approval_of_two_tells_the_claimant(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", required_approvals=2)
    await in_review(w, w.alice)
    await w.carol.slash(w.general, "task approve", task="1")
    line = thread_of(w, 1).last_message
    assert line.content == f"<@{w.alice.id}> — <@{w.carol.id}> approved this (1 of 2 approvals)."
    assert stored(w.env, line).ping_user_ids == [w.alice.id]


async def test_the_digest_counts_reviews_and_tasks_apart(world: World) -> None:
    w = world
    await set_up_digest(w)
    await in_review(w, w.alice)
    await w.carol.slash(w.general, "task request-changes", task="1", reason="Add a test")
    await w.alice.slash(w.general, "task submit", task="1", link="https://example.org/pr/2")
    await w.carol.slash(w.general, "task approve", task="1")
    await w.env.advance_time(DUE_IN - HOUR)
    r = await w.maint.slash(w.general, "digest preview")
    reviewers = section(embeds_of([r.response, *r.followups]), "🔍 Reviewers thanked")
    link = f"https://discord.com/channels/{w.guild.id}/{w.tasks.id}/{card_of(w.tasks, 1).id}"
    # Credit is once per task, member and kind (bug 9): two rounds on one task are one
    # review credited, and the count agrees with the tasks listed.
    assert f"<@{w.carol.id}> — 1 review: [#1]({link})" in (reviewers.description or "")


# -- text as written -------------------------------------------------------------------------------


async def test_a_thread_name_shows_mentions_as_words_not_markup(world: World) -> None:
    w = world
    await create(w, f"Ask <@&{w.reviewers.id}> and <@{w.alice.id}> in <#{w.general.id}>")
    assert thread_of(w, 1).name == "#1 Ask @role and @member in #channel"
    assert thread_lines(w, 1) == []


async def test_every_tag_is_shown_whole(world: World) -> None:
    w = world
    tags = [f"{i}-{'x' * 29}" for i in range(10)]  # ten tags of 31 characters
    await claimed(w, w.alice, tags=", ".join(tags))
    shown = field(card_of(w.tasks, 1), "Tags") or ""
    assert shown == " ".join(f"`{t}`" for t in tags)
    assert "…" not in shown
