"""Refusals that say what actually stands in the way (issue 13, bug 20)."""

from __future__ import annotations

from tests.e2e.conftest import World, card_of
from tests.e2e.helpers import claimed, create, in_review, refused


async def test_endorsing_a_task_on_the_board_says_it_is_no_proposal(world: World) -> None:
    w = world
    await claimed(w, w.alice)
    await create(w, "Open one")
    for number in ("1", "2"):
        card = card_of(w.tasks, int(number)).embeds[0].to_dict()
        for command, options in (("task endorse", {}), ("task object", {"reason": "no"})):
            text = refused(
                await w.bob.slash(w.general, command, task=number, **options),
                f"#{number} is already on the board",
                "only proposals",
            )
            assert "slot" not in text
        assert card_of(w.tasks, int(number)).embeds[0].to_dict() == card


async def test_approving_after_changes_were_asked_says_so(world: World) -> None:
    w = world
    await in_review(w, w.alice)
    await w.carol.slash(w.general, "task request-changes", task="1", reason="Add a test")
    text = refused(
        await w.maint.slash(w.general, "task approve", task="1"),
        "#1 isn't waiting for review any more: changes were asked for",
    )
    assert "nothing has been submitted" not in text


async def test_away_until_a_past_date_names_the_date(world: World) -> None:
    w = world
    text = refused(
        await w.alice.slash(w.general, "me away", until="2020-01-01"),
        "That “away until” date is in the past",
    )
    assert "due date" not in text
