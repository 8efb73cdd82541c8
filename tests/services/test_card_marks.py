"""The card mark (issue 14, §4) on a real database, SQLite and PostgreSQL: written with
every change that alters a card, in its transaction; cleared only by a card showing the
newest state; retried with a backoff; counted for maintainers and operators."""

from __future__ import annotations

from datetime import timedelta

from bot.db.uow import Database
from bot.domain.shards import Shards
from bot.services.cards import STUCK_AFTER, CardService
from bot.services.clock import ManualClock
from bot.services.tasks import TaskService
from tests.services.helpers import GUILD, OTHER_GUILD, maint, member

ALICE = 11


async def test_a_change_marks_the_card_and_only_the_newest_state_clears_it(
    tasks: TaskService, database: Database, clock: ManualClock
) -> None:
    cards = CardService(database, clock, tasks)
    await tasks.create(maint(), "Translate the FAQ")
    await tasks.create(maint(), "No card: nothing to keep in step")
    await tasks.set_card(GUILD, 1, 500, 501, None)
    assert await cards.pending() == 0  # posting the card is no change

    claimed = (await tasks.claim(member(ALICE), 1)).task
    assert await cards.pending() == 1  # #2 has no card: never marked
    await tasks.claim(maint(), 2)
    assert await cards.pending() == 1
    assert await cards.due() == []  # the interaction edits it first
    clock.advance(seconds=30)
    assert await cards.due(shards=Shards.only(2, 1 - (GUILD >> 22) % 2)) == []  # another shard's
    [due] = await cards.due()
    assert (due.number, due.claimant_ids) == (1, (ALICE,))
    # Taken by this sweep: another sweep leaves it, until the lease runs out (a crash).
    assert await cards.due() == []
    clock.advance(minutes=5)
    [again] = await cards.due()
    assert again.number == 1

    released = (await tasks.release(member(ALICE), 1)).task
    await cards.shown(claimed)  # an edit that showed an older state
    assert await cards.pending() == 1
    await cards.shown(released)
    assert await cards.pending() == 0
    clock.advance(hours=1)
    assert await cards.due() == []


async def test_a_change_while_the_card_was_being_posted_marks_it_at_once(
    tasks: TaskService, database: Database, clock: ManualClock
) -> None:
    """A claim a moment after /task create, before its card was recorded: the claim found
    no card to mark, and the card went out showing the task as created. Recording it
    (`shows`: the version it was drawn from) marks it, due for the sweep's repair now."""
    cards = CardService(database, clock, tasks)
    created = (await tasks.create(maint(), "Translate the FAQ")).task
    unchanged = (await tasks.create(maint(), "Posted as it stands")).task
    claimed = (await tasks.claim(member(ALICE), 1)).task  # while the card is on its way
    assert await cards.pending() == 0  # no card yet: nothing marked
    await tasks.set_card(GUILD, 1, 500, 501, None, shows=created.version)
    await tasks.set_card(GUILD, 2, 500, 502, None, shows=unchanged.version)  # shows the truth
    [due] = await cards.due()  # at once, no grace: nobody else will edit it
    assert (due.number, due.claimant_ids) == (1, (ALICE,))
    await cards.shown(claimed)
    assert await cards.pending() == 0


async def test_a_refused_card_is_retried_after_a_growing_backoff_and_counted(
    tasks: TaskService, database: Database, clock: ManualClock
) -> None:
    cards = CardService(database, clock, tasks)
    await tasks.create(maint(), "Translate the FAQ")
    await tasks.set_card(GUILD, 1, 500, 501, None)
    await tasks.create(maint(guild=OTHER_GUILD), "Elsewhere")
    await tasks.set_card(OTHER_GUILD, 1, 600, 601, None)
    await tasks.claim(member(ALICE), 1)
    clock.advance(seconds=30)
    for attempt, wait in enumerate((1, 2, 4), start=1):
        [task] = await cards.due()
        assert await cards.failed(task) == attempt
        clock.advance(minutes=wait, seconds=-1)
        assert await cards.due() == []
        clock.advance(seconds=1)
    assert await cards.stuck(GUILD) == 1 and STUCK_AFTER == 3
    assert await cards.stuck(OTHER_GUILD) == 0
    # A new change starts the count again; maintainers told once, cleared when shown.
    task = (await tasks.release(member(ALICE), 1)).task
    assert await cards.stuck(GUILD) == 0
    assert not await cards.problem_told(GUILD)
    await cards.note_problem_told(GUILD)
    assert await cards.problem_told(GUILD)
    await cards.shown(task)
    assert not await cards.problem_told(GUILD)
    assert await cards.pending() == 0
    clock.advance(timedelta(days=1))
    assert await cards.due() == []
