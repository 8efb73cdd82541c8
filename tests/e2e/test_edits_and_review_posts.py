"""/task edit can clear what it set, a renamed task's thread follows its title, a long
description can be read in full, and the copies of a card in #review never go stale
(issue 13, bugs 13, 14 and 15). The bot holds invite-url's permissions unless a test says."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.helpers import claimed, create, in_review, thread_lines


def buttons(message: Any) -> list[str]:
    return [c.label for row in message.components for c in row.children]


def review_posts(w: World) -> list[Any]:
    """The bot's posts in #review that carry the task's card, oldest first."""
    return [m for m in w.review.history() if m.embeds]


# -- bug 13: /task edit clears, and renames the thread ----------------------------------------


async def test_edit_clears_tags_and_description_with_none(world: World) -> None:
    w = world
    number = await create(w, "Fix the footer", description="Old details", tags="docs, css")
    r = await w.maint.slash(
        w.general, "task edit", task=str(number), tags="none", description="none"
    )
    assert "Updated" in said(r)
    card = card_of(w.tasks, number)
    assert field(card, "Tags") is None
    assert card.embeds[0].description is None
    shown = await w.maint.slash(w.general, "task show", task=str(number))
    assert shown.response.embeds[0].description is None
    assert all(f.name != "Tags" for f in shown.response.embeds[0].fields)
    # "-" clears too, and a real tag is still a tag.
    await w.maint.slash(w.general, "task edit", task=str(number), tags="docs")
    assert field(card_of(w.tasks, number), "Tags") == "`docs`"
    await w.maint.slash(w.general, "task edit", task=str(number), tags="-")
    assert field(card_of(w.tasks, number), "Tags") is None


async def test_edit_describes_how_to_clear(world: World) -> None:
    w = world
    command = next(c for c in w.env.bot.tree.get_commands() if c.name == "task")
    edit = next(c for c in command.commands if c.name == "edit")
    described = {p.name: p.description for p in edit.parameters}
    assert '"none"' in described["tags"] and '"none"' in described["description"]


# SimCord asks Manage Channels to rename a thread (Discord lets its creator do it).
@pytest.mark.bot_permissions(manage_channels=True)
async def test_renaming_a_task_renames_its_thread(world: World) -> None:
    w = world
    number = await create(w, "Fix the footer")
    r = await w.maint.slash(w.general, "task edit", task=str(number), title="Fix the header")
    assert "Updated" in said(r)
    [thread] = w.tasks.threads
    assert thread.name == f"#{number} Fix the header"


async def test_a_rename_discord_refuses_still_edits_and_says_the_new_title(world: World) -> None:
    w = world
    number = await create(w, "Fix the footer")
    w.env.inject_error("PATCH", f"/channels/{w.tasks.threads[0].id}", status=403, code=50013)
    r = await w.maint.slash(w.general, "task edit", task=str(number), title="Fix the header")
    assert "Updated" in said(r)
    assert card_of(w.tasks, number).embeds[0].title == f"#{number} · Fix the header"
    assert "“Fix the header”" in thread_lines(w, number)[-1]


# -- bug 14: a long description is readable in full ------------------------------------------


async def test_a_long_description_can_be_read_in_full_with_task_show(world: World) -> None:
    w = world
    text = "\n".join(
        f"Step {i}: check the page and write down what you find." for i in range(1, 34)
    )
    assert 1500 < len(text) <= 2000
    number = await create(w, "Audit the wiki", description=text)
    card = card_of(w.tasks, number)
    shown_on_card = card.embeds[0].description or ""
    assert len(shown_on_card) < len(text)
    assert f"`/task show task:{number}`" in shown_on_card  # it says where the rest is
    r = await w.alice.slash(w.general, "task show", task=str(number))
    assert r.response.embeds[0].description == text


# -- bug 15: the copies in #review ------------------------------------------------------------


async def test_a_new_round_and_done_close_the_earlier_review_posts(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", required_approvals=2)
    number = await in_review(w, w.alice)
    [first] = review_posts(w)
    assert buttons(first) == ["Approve", "Request changes"]
    await w.carol.slash(w.general, "task request-changes", task=str(number), reason="Typo")
    [first] = review_posts(w)
    assert buttons(first) == []
    assert "this review post is closed" in first.content
    await w.alice.slash(w.general, "task submit", task=str(number), link="https://x.org/2")
    old, new = review_posts(w)
    assert buttons(old) == [] and buttons(new) == ["Approve", "Request changes"]
    assert field(new, "Approvals") == "0 of 2"
    await w.carol.slash(w.general, "task approve", task=str(number))
    [_, new] = review_posts(w)
    assert field(new, "Approvals") == "1 of 2"  # kept up to date, as the card is
    assert buttons(new) == ["Approve", "Request changes"]
    await w.maint.slash(w.general, "task approve", task=str(number))
    for post in review_posts(w):
        assert buttons(post) == [], post.content
        assert field(post, "Approvals") is None
    assert "it's done" in review_posts(w)[-1].content


async def test_request_changes_clicked_on_the_review_post_keeps_it_a_review_post(
    world: World,
) -> None:
    w = world
    number = await in_review(w, w.alice)
    [post] = review_posts(w)
    shown = await w.carol.click(post, label="Request changes")
    done = await w.carol.submit_modal(shown, {"reason": "Typo in line 3"})
    assert "Asked for changes" in said(done)
    [post] = review_posts(w)
    assert "Release" not in buttons(post) and "Submit" not in buttons(post)
    assert buttons(post) == []
    assert "this review post is closed" in post.content
    # The board's card is the one that went back to work.
    assert buttons(card_of(w.tasks, number)) == ["Release", "Submit"]


async def test_approve_clicked_on_the_review_post_updates_it_in_place(world: World) -> None:
    w = world
    await w.maint.slash(w.general, "config claims", required_approvals=2)
    number = await claimed(w, w.alice)
    await w.alice.slash(w.general, "task submit", task=str(number), link="https://x.org/1")
    [post] = review_posts(w)
    r = await w.carol.click(post, label="Approve")
    assert "1 of 2 approvals" in said(r)
    [post] = review_posts(w)
    assert field(post, "Approvals") == "1 of 2"
    assert buttons(post) == ["Approve", "Request changes"]


async def test_a_review_nudge_is_closed_with_the_rest_once_the_task_is_done(
    world: World, simcord_bot: Any
) -> None:
    w = world
    number = await in_review(w, w.alice)
    await w.env.advance_time(48 * 3600)
    await simcord_bot.run_sweep()
    submitted, nudge = review_posts(w)
    assert "👀" in nudge.content and buttons(nudge) == ["Approve", "Request changes"]
    await w.carol.click(submitted, label="Approve")  # the older post still works
    for post in review_posts(w):
        assert buttons(post) == [], post.content
        assert "this review post is closed: it's done 🎉" in post.content
    assert buttons(card_of(w.tasks, number)) == []
