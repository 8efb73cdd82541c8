"""Concurrent claims on one slot: exactly one winner, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from bot.domain.errors import DomainError
from bot.domain.model import Status
from bot.services.tasks import TaskService
from tests.services.helpers import GUILD, maint, member


async def test_twenty_claims_on_the_last_slot(tasks: TaskService) -> None:
    await tasks.create(maint(), "Contested")
    results = await asyncio.gather(
        *(tasks.claim(member(100 + i), 1) for i in range(20)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(e, DomainError) for e in losers), losers
    assert all("taken" in str(e) or "try again" in str(e) for e in losers)
    view = await tasks.show(GUILD, 1)
    assert view.status is Status.CLAIMED and len(view.claims) == 1
    assert view.claimant_ids == winners[0].task.claimant_ids


async def test_one_member_racing_for_two_tasks_respects_the_limit(tasks: TaskService) -> None:
    await tasks.create(maint(), "One")
    await tasks.create(maint(), "Two")
    results = await asyncio.gather(
        tasks.claim(member(7), 1), tasks.claim(member(7), 2), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert (await tasks.standing(member(7))).held_claims == 1


async def test_approve_racing_request_changes_tells_the_loser_what_happened(
    tasks: TaskService,
) -> None:
    """Each order of the race: one verdict wins, and the other reviewer is told what the
    winner did — never "nothing has been submitted yet" about a task that was."""
    for number, first in ((1, "changes"), (2, "approve")):
        await tasks.create(maint(), f"Contested review {number}")
        await tasks.claim(member(70 + number), number)
        await tasks.submit(member(70 + number), number, notes="ready")
        approve = tasks.approve(member(8, reviewer=True), number)
        changes = tasks.request_changes(member(9, reviewer=True), number, "Needs a test")
        racers = (changes, approve) if first == "changes" else (approve, changes)
        results = await asyncio.gather(*racers, return_exceptions=True)
        winners = [r for r in results if not isinstance(r, BaseException)]
        [loser] = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1 and isinstance(loser, DomainError), results
        if winners[0].after is Status.DONE:
            assert str(loser) == f"You can't request changes on #{number}: it is already done."
        else:
            assert winners[0].after is Status.CLAIMED
            assert str(loser).startswith(
                f"#{number} isn't waiting for review any more: changes were asked for"
            ), str(loser)
