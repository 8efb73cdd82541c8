"""End-to-end: forms (Submit, Request changes, Object, Release with a note) survive what
real members do — send them 16 minutes later, or after the bot restarted — a refused
form gives the member back what they typed, and a form a member would be refused on
does not open at all."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot
from tests.e2e.conftest import World, card_of, field, said
from tests.e2e.forms import no_form, submit_after_restart, submit_late
from tests.e2e.helpers import claimed, in_review, refused, status

NOTE = (
    "Reworded the intro, split the install section in three, and checked every link. "
    "The screenshots are from the current release. "
) * 7  # a long note someone would hate to lose (about 900 characters)


@pytest.fixture
async def fresh_bot(runtime: Runtime) -> AsyncIterator[Callable[[], PeerBot]]:
    """Bots for restarts, on the same database as the first; closed once SimCord is done."""
    built: list[PeerBot] = []

    def make() -> PeerBot:
        bot = build_bot(runtime.services, scheduler=False)
        built.append(bot)
        return bot

    yield make
    for bot in built:
        await bot.close()


# -- forms arrive whenever the member sends them ---------------------------------------------


async def test_a_submit_form_sent_after_a_restart_lands(
    world: World, fresh_bot: Callable[[], PeerBot]
) -> None:
    w = world
    number = await claimed(w, w.alice)
    shown = await w.alice.click(card_of(w.tasks, number), label="Submit")
    done = await submit_after_restart(
        w.env, w.alice, shown, {"link": "https://example.org/pr/1", "notes": NOTE}, bot=fresh_bot()
    )
    assert "Submitted **#1" in said(done), said(done)
    assert status(w, number) == "🟡 In review"
    assert "ready for review" in w.review.last_message.content


async def test_a_submit_form_sent_16_minutes_later_lands(world: World) -> None:
    w = world
    number = await claimed(w, w.alice)
    shown = await w.alice.slash(w.general, "task submit", task=str(number))
    done = await submit_late(w.env, w.alice, shown, {"notes": NOTE})
    assert "Submitted **#1" in said(done), said(done)
    assert status(w, number) == "🟡 In review"


async def test_a_request_changes_form_sent_after_a_restart_lands(
    world: World, fresh_bot: Callable[[], PeerBot]
) -> None:
    w = world
    number = await in_review(w, w.alice)
    shown = await w.carol.click(card_of(w.tasks, number), label="Request changes")
    done = await submit_after_restart(
        w.env, w.carol, shown, {"reason": "The second link is broken"}, bot=fresh_bot()
    )
    assert "Asked for changes on **#1" in said(done), said(done)
    assert status(w, number) == "🔵 Claimed"


async def test_an_objection_form_sent_16_minutes_later_lands(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Rewrite it in Rust")
    shown = await w.bob.click(card_of(w.tasks, 1), label="Object")
    done = await submit_late(w.env, w.bob, shown, {"reason": "We have no Rust reviewers"})
    assert "Your objection to **#1" in said(done), said(done)
    assert "1 objection" in (field(card_of(w.tasks, 1), "Proposal") or "")


async def test_a_release_note_sent_after_a_restart_lands(
    world: World, fresh_bot: Callable[[], PeerBot]
) -> None:
    w = world
    number = await claimed(w, w.alice)
    shown = await w.alice.click(card_of(w.tasks, number), label="Release")
    done = await submit_after_restart(
        w.env, w.alice, shown, {"reason": "Half done: see the branch"}, bot=fresh_bot()
    )
    assert "You released **#1" in said(done), said(done)
    assert status(w, number) == "🟢 Open"


async def test_a_form_is_answered_once(world: World) -> None:
    w = world
    number = await claimed(w, w.alice)
    shown = await w.alice.click(card_of(w.tasks, number), label="Submit")
    done = await w.alice.submit_modal(shown, {"link": "https://example.org/pr/1"})
    # The card is edited in place and the member told once (a second answer would fail).
    assert said(done).count("Submitted **#1") == 1
    assert status(w, number) == "🟡 In review"


# -- a refused form gives back what was typed -------------------------------------------------


async def test_a_refused_submission_gives_the_notes_back(world: World) -> None:
    w = world
    number = await claimed(w, w.alice)
    shown = await w.alice.click(card_of(w.tasks, number), label="Submit")
    await w.maint.slash(w.general, "task cancel", task=str(number), reason="Out of scope")
    done = await w.alice.submit_modal(shown, {"link": "https://example.org/pr/9", "notes": NOTE})
    text = refused(done, "#1")
    assert NOTE.strip() in text
    assert "https://example.org/pr/9" in text
    assert all(
        len(m) <= 2000 for m in [done.response.content, *(f.content for f in done.followups)]
    )


async def test_a_refused_change_request_gives_the_reason_back(
    world: World, fresh_bot: Callable[[], PeerBot]
) -> None:
    w = world
    number = await in_review(w, w.alice)
    shown = await w.carol.click(card_of(w.tasks, number), label="Request changes")
    await w.maint.slash(w.general, "task approve", task=str(number))  # done meanwhile
    reason = "Line 3:\n- the `install` step\n- the ```code``` sample\nboth need an update."
    done = await submit_after_restart(w.env, w.carol, shown, {"reason": reason}, bot=fresh_bot())
    text = refused(done, f"#{number}")
    for line in ("Line 3:", "- the `install` step", "both need an update."):
        assert line in text, text
    assert status(w, number) == "✅ Done"


# -- forms open only for those who may send them ----------------------------------------------


async def test_a_newcomer_is_refused_before_the_request_changes_form(world: World) -> None:
    w = world
    number = await in_review(w, w.alice)
    r = await w.bob.click(card_of(w.tasks, number), label="Request changes")
    no_form(r)
    refused(r, "Reviewing opens up once one of your own tasks is accepted")


async def test_a_proposer_is_refused_before_the_objection_form(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Rewrite it in Rust")
    r = await w.alice.click(card_of(w.tasks, 1), label="Object")
    no_form(r)
    refused(r, "You proposed this task")


async def test_a_second_objection_is_refused_before_the_form(world: World) -> None:
    w = world
    await w.alice.slash(w.general, "task propose", title="Rewrite it in Rust")
    await w.bob.slash(w.general, "task object", task="1", reason="We have no Rust reviewers")
    r = await w.bob.click(card_of(w.tasks, 1), label="Object")
    no_form(r)
    refused(r, "You already objected to #1")
