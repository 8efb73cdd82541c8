"""Open proposals per member are limited by trust level (configurable): a newcomer cannot
file thirty cards that each open by lazy consensus (issue 13, bug 19)."""

from __future__ import annotations

import asyncio

import pytest

from bot.db.uow import Database
from bot.domain.errors import DomainError, LimitReached
from bot.domain.model import Rules, Status
from bot.services.clock import ManualClock
from bot.services.tasks import TaskService
from tests.services.conftest import history_count
from tests.services.helpers import GUILD, maint, member

ALICE, BOB = 11, 12


async def set_rules(database: Database, clock: ManualClock, **values: int) -> None:
    async with database.unit() as uow:
        row = await uow.guilds.ensure_guild(GUILD, clock.now())
        for name, value in values.items():
            setattr(row, name, value)
        await uow.commit()


async def test_a_newcomer_may_hold_two_open_proposals(
    tasks: TaskService, database: Database
) -> None:
    assert (Rules().proposal_limit_newcomer, Rules().proposal_limit_contributor) == (2, 5)
    assert Rules().proposal_limit_regular == 10
    await tasks.propose(member(ALICE), "One")
    await tasks.propose(member(ALICE), "Two")
    before = await history_count(database, GUILD)
    with pytest.raises(LimitReached) as refused:
        await tasks.propose(member(ALICE), "Three")
    assert str(refused.value) == (
        "You have 2 proposals waiting to open, the most a newcomer can have at a time. "
        "Once one of them opens (or you withdraw one with /task cancel), you can propose "
        "another."
    )
    assert await history_count(database, GUILD) == before  # nothing written
    # Someone else is not held by Alice's; once one of hers opens, she may propose again.
    await tasks.propose(member(BOB), "Bob's")
    await tasks.endorse(maint(), 1)
    third = await tasks.propose(member(ALICE), "Three")
    assert third.after is Status.PROPOSED and third.task.number == 4
    # Maintainers have no limit.
    for n in range(3):
        await tasks.propose(maint(), f"Maintainer's {n}")


async def test_the_limit_is_a_setting_per_trust_level(
    tasks: TaskService, database: Database, clock: ManualClock
) -> None:
    await set_rules(database, clock, proposal_limit_newcomer=1, proposal_limit_contributor=3)
    await tasks.propose(member(ALICE), "One")
    with pytest.raises(LimitReached, match="1 proposal waiting to open, the most a newcomer"):
        await tasks.propose(member(ALICE), "Two")
    # A contributor (one task done) has the contributor's limit.
    await tasks.create(maint(), "Work")
    await tasks.claim(member(BOB), 2)
    await tasks.submit(member(BOB), 2, notes="done")
    await tasks.approve(maint(), 2)
    for n in range(3):
        await tasks.propose(member(BOB), f"Idea {n}")
    with pytest.raises(LimitReached, match="3 proposals waiting to open, the most a contributor"):
        await tasks.propose(member(BOB), "One more")


async def test_racing_proposals_respect_the_limit(tasks: TaskService) -> None:
    await tasks.propose(member(ALICE), "One")
    results = await asyncio.gather(
        *(tasks.propose(member(ALICE), f"Race {n}") for n in range(4)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(e, DomainError) for e in losers), losers
