"""Credit is once per (task, member, kind of credit): a task reopened and done again pays
nobody twice, in the domain's change and in the ledger's unique index (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.db.errors import Duplicate
from bot.db.repos.ledger import Credit
from bot.db.uow import Database
from bot.services.tasks import TaskService
from tests.services.conftest import ledger
from tests.services.helpers import GUILD, maint, member

ALICE, BOB, CAROL, DAN = 11, 12, 13, 14


async def test_reopen_then_approve_again_pays_nobody_twice(
    tasks: TaskService, database: Database
) -> None:
    await tasks.create(maint(), "Twice", points=3)
    await tasks.claim(member(ALICE), 1)
    await tasks.submit(member(ALICE), 1, notes="v1")
    await tasks.approve(member(CAROL, reviewer=True), 1)
    paid = [(ALICE, "task", 3), (CAROL, "review", 1)]
    assert await ledger(database, GUILD) == paid

    await tasks.reopen(maint(), 1)
    await tasks.claim(member(ALICE), 1)  # the same claimant, the same reviewer
    await tasks.submit(member(ALICE), 1, notes="v2")
    done = await tasks.approve(member(CAROL, reviewer=True), 1)
    assert done.credited == ()  # nobody credited this time: they were paid already
    assert await ledger(database, GUILD) == paid
    standing = await tasks.standing(member(ALICE))
    assert standing.done_tasks == 1


async def test_one_review_credit_per_reviewer_per_task(
    tasks: TaskService, database: Database
) -> None:
    await tasks.create(maint(), "Reworked", points=2)
    await tasks.claim(member(ALICE), 1)
    await tasks.submit(member(ALICE), 1, notes="v1")
    await tasks.request_changes(member(CAROL, reviewer=True), 1, "typo")
    await tasks.submit(member(ALICE), 1, notes="v2")
    done = await tasks.approve(member(CAROL, reviewer=True), 1)
    assert done.credited == (ALICE, CAROL)
    assert await ledger(database, GUILD) == [(ALICE, "task", 2), (CAROL, "review", 1)]


async def test_the_ledger_refuses_a_second_credit_of_a_kind(
    tasks: TaskService, database: Database
) -> None:
    await tasks.create(maint(), "Paid", points=1)
    await tasks.claim(member(ALICE), 1)
    await tasks.submit(member(ALICE), 1, notes="done")
    await tasks.approve(member(CAROL, reviewer=True), 1)
    async with database.unit() as uow:
        task = await uow.tasks.task_by_number(GUILD, 1)
        assert task is not None and task.id is not None
        task_id = task.id
    again = Credit(GUILD, ALICE, "task", 1, datetime.now(UTC), task_id=task_id)
    with pytest.raises(Duplicate):
        async with database.unit() as uow:
            await uow.ledger.add_credits([again])
            await uow.commit()
    # Another kind of credit on the same task, or kudos (no task), are not refused.
    async with database.unit() as uow:
        await uow.ledger.add_credits(
            [
                Credit(GUILD, ALICE, "review", 1, datetime.now(UTC), task_id=task_id),
                Credit(GUILD, ALICE, "kudos", 0, datetime.now(UTC), giver_id=BOB),
                Credit(GUILD, ALICE, "kudos", 0, datetime.now(UTC), giver_id=DAN),
            ]
        )
        await uow.commit()
    assert len(await ledger(database, GUILD)) == 5
