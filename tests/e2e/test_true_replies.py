"""Replies that say what actually happened (issue 13, bugs 11 and 17): nobody is told
"reviewers have been told" when nothing was sent, an import says which cards it could not
post, and /task create and /task propose answer before they post the card.

The bot holds exactly invite-url's permissions here, as in every end-to-end test."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import World, card_of, make_world, said
from tests.e2e.helpers import claimed, in_review, requests_to

HEADER = "title,description,points,tags,due,capacity"


async def field_world(env: Any, **channels: Any) -> World:
    w = await make_world(env, configure=False)
    if channels:
        chosen = {name: getattr(w, name) for name in channels}
        await w.maint.slash(w.general, "config channels", **chosen)
    await w.maint.slash(w.general, "config roles", reviewer=w.reviewers)
    return w


# -- bug 11: confirmations that are true -----------------------------------------------------


async def test_submit_without_a_review_channel_says_nobody_was_told(simcord_env: Any) -> None:
    w = await field_world(simcord_env, tasks=True)
    number = await claimed(w, w.alice)
    r = await w.alice.slash(w.general, "task submit", task=str(number), link="https://x.org/1")
    text = said(r)
    assert r.ephemeral
    assert "Reviewers have been told" not in text
    assert "No review channel is set, so nobody was told" in text
    assert "/config channels" in text


async def test_submit_says_so_when_discord_refuses_the_review_post(simcord_env: Any) -> None:
    w = await field_world(simcord_env, tasks=True, review=True)
    number = await claimed(w, w.alice)
    w.env.inject_error("POST", f"/channels/{w.review.id}/messages", status=403, code=50013)
    r = await w.alice.slash(w.general, "task submit", task=str(number), link="https://x.org/1")
    text = said(r)
    assert "I'm letting reviewers know" in text  # what it set out to do, and then:
    assert f"I couldn't post in <#{w.review.id}>, so reviewers haven't been told" in text
    assert list(w.review.history()) == []


async def test_submit_with_a_review_channel_still_says_reviewers_were_told(
    simcord_env: Any,
) -> None:
    w = await field_world(simcord_env, tasks=True, review=True)
    number = await claimed(w, w.alice)
    r = await w.alice.slash(w.general, "task submit", task=str(number), link="https://x.org/1")
    assert said(r) == (
        "Submitted **#1 · Fix the footer** for review — thank you! "
        f"I'm letting reviewers know in <#{w.review.id}>."
    )
    assert "is ready for review" in w.review.last_message.content


async def test_request_changes_without_a_thread_says_the_claimant_was_not_told(
    simcord_env: Any,
) -> None:
    w = await field_world(simcord_env)  # no channels: the card lives in #general, no thread
    number = await in_review(w, w.alice)
    r = await w.carol.slash(
        w.general, "task request-changes", task=str(number), reason="Add a test"
    )
    text = said(r)
    assert "has been told" not in text
    assert f"the claimant hasn't been told: please let <@{w.alice.id}> know" in text


async def test_request_changes_with_a_thread_says_where_the_claimant_was_told(
    simcord_env: Any,
) -> None:
    w = await field_world(simcord_env, tasks=True, review=True)
    number = await in_review(w, w.alice)
    r = await w.carol.slash(
        w.general, "task request-changes", task=str(number), reason="Add a test"
    )
    assert said(r) == (
        "Asked for changes on **#1 · Fix the footer**; I'm letting the claimant know in "
        "the task's thread."
    )


async def test_request_changes_says_so_when_the_thread_refuses_the_line(
    simcord_env: Any,
) -> None:
    w = await field_world(simcord_env, tasks=True, review=True)
    number = await in_review(w, w.alice)
    thread = w.tasks.threads[0]
    w.env.inject_error("POST", f"/channels/{thread.id}/messages", status=403, code=50013)
    r = await w.carol.slash(
        w.general, "task request-changes", task=str(number), reason="Add a test"
    )
    assert (
        "I couldn't post in the task's thread, so the claimant hasn't been told: "
        f"please let <@{w.alice.id}> know."
    ) in said(r)


async def test_import_whose_cards_could_not_be_posted_says_so(simcord_env: Any) -> None:
    w = await field_world(simcord_env, tasks=True)
    w.env.inject_error(
        "POST", f"/channels/{w.tasks.id}/messages", status=403, code=50013, times=None
    )
    rows = "\n".join([HEADER, "One,,,,,", "Two,,,,,", "Three,,,,,"]) + "\n"
    r = await w.maint.slash(w.general, "task import", file=("tasks.csv", rows.encode()))
    text = said(r)
    assert text.startswith("Imported 3 tasks (#1, #2, #3)")
    assert f"but I couldn't post their cards in <#{w.tasks.id}>" in text
    assert "`/task list`" in text


async def test_import_without_a_tasks_channel_says_there_are_no_cards(simcord_env: Any) -> None:
    w = await field_world(simcord_env)
    rows = "\n".join([HEADER, "One,,,,,", "Two,,,,,"]) + "\n"
    r = await w.maint.slash(w.general, "task import", file=("tasks.csv", rows.encode()))
    text = said(r)
    assert text.startswith("Imported 2 tasks (#1, #2)")
    assert "No tasks channel is set, so they have no cards" in text


# -- bug 17: answer first, then post ---------------------------------------------------------


def first_index(env: Any, method: str, part: str, since: int) -> int:
    for i, entry in enumerate(env.http_requests[since:], start=since):
        if entry.method == method and part in entry.path:
            return i
    raise AssertionError(f"no {method} {part}")


async def test_create_answers_before_it_posts_the_card(simcord_env: Any) -> None:
    w = await field_world(simcord_env, tasks=True)
    mark = len(w.env.http_requests)
    r = await w.maint.slash(w.general, "task create", title="Fix the footer")
    answered = first_index(w.env, "POST", "/callback", mark)
    posted = first_index(w.env, "POST", f"/channels/{w.tasks.id}/messages", mark)
    assert answered < posted
    card = card_of(w.tasks, 1)
    assert said(r) == f"Created **#1 · Fix the footer** (1 point). Its card is in {card.jump_url}"


async def test_propose_answers_before_it_posts_the_card(simcord_env: Any) -> None:
    w = await field_world(simcord_env, tasks=True)
    mark = len(w.env.http_requests)
    r = await w.alice.slash(w.general, "task propose", title="A glossary")
    answered = first_index(w.env, "POST", "/callback", mark)
    posted = first_index(w.env, "POST", f"/channels/{w.tasks.id}/messages", mark)
    assert answered < posted
    assert said(r).startswith("Proposed **#1 · A glossary**")
    assert card_of(w.tasks, 1).jump_url in said(r)


async def test_create_under_the_channel_rate_limit_answers_and_creates_once(
    simcord_env: Any,
) -> None:
    w = await field_world(simcord_env, tasks=True)
    w.env.inject_error("POST", f"/channels/{w.tasks.id}/messages", status=429, times=None)
    r = await w.maint.slash(w.general, "task create", title="Fix the footer")
    assert r.acknowledged and r.ephemeral
    text = said(r)
    assert text.startswith("Created **#1 · Fix the footer**")
    assert f"I couldn't post its card in <#{w.tasks.id}>" in text
    assert "`/task show task:1`" in text
    # Created once: the next task is #2, and #1 shows.
    shown = await w.maint.slash(w.general, "task show", task="1")
    assert shown.response.embeds[0].title == "#1 · Fix the footer"
    assert requests_to(w.env, "POST", f"/channels/{w.tasks.id}/messages")  # it tried


async def test_create_whose_answer_came_too_late_still_posts_the_card_once(
    simcord_env: Any,
) -> None:
    w = await field_world(simcord_env, tasks=True)
    w.env.inject_error("POST", "/interactions/*/callback", status=404, code=10062)
    await w.maint.slash(w.general, "task create", title="Fix the footer")
    card = card_of(w.tasks, 1)
    assert card.embeds[0].title == "#1 · Fix the footer"
    assert len([m for m in w.tasks.history() if m.embeds]) == 1
    assert len(w.tasks.threads) == 1
