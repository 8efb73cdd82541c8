"""What the operator's view reads from the data, on SQLite and PostgreSQL: the database
ping, and the delivery log counted by kind and state (a given-up delivery is dead)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from bot.bootstrap import Runtime, build_services
from bot.domain.model import Reminder
from bot.jobs.sweep import sweep
from bot.services.clock import ManualClock
from bot.services.notify import DeliveryFailed
from bot.services.reminders.service import MAX_ATTEMPTS
from tests.services.helpers import maint, member
from tests.services.test_reminders import BOT, FakeNotifier

ALICE, BOB = 11, 12


@pytest.fixture
async def rt(db_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = build_services(db_url, clock=clock)
    yield runtime
    await runtime.close()


async def test_an_empty_log_shows_every_kind_at_zero(rt: Runtime) -> None:
    await rt.services.health.ping()
    counts = await rt.services.health.delivery_counts()
    assert counts[(Reminder.CLAIM_WARNING.value, "dead")] == 0
    assert {state for _kind, state in counts} == {"pending", "sent", "dead"}
    assert set(counts.values()) == {0}


async def test_sent_pending_and_dead_deliveries_are_counted(
    rt: Runtime, clock: ManualClock
) -> None:
    services = rt.services
    notifier = FakeNotifier()
    await services.tasks.create(maint(), "Flaky")
    await services.tasks.create(maint(), "Fine")
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(hours=36)  # half of the 3-day window: a warning for alice
    notifier.fail_with = [DeliveryFailed("503", transient=True)] * MAX_ATTEMPTS
    for _ in range(MAX_ATTEMPTS):
        await sweep(services, notifier, bot_id=BOT, dm_budget=100)
        clock.advance(hours=1)  # past every backoff
    assert notifier.sent == []
    await services.tasks.claim(member(BOB), 2)
    clock.advance(hours=36)
    notifier.fail_with = []
    await sweep(services, notifier, bot_id=BOT, dm_budget=100)
    assert (Reminder.CLAIM_WARNING, 2, BOB) in notifier.sent

    counts = await services.health.delivery_counts()
    assert counts[(Reminder.CLAIM_WARNING.value, "dead")] == 1  # stored as `failed`
    assert counts[(Reminder.CLAIM_WARNING.value, "sent")] == 1
    assert counts[(Reminder.CLAIM_WARNING.value, "pending")] == 0
    assert sum(counts.values()) == len(notifier.sent) + 1


async def test_the_ping_fails_when_the_schema_is_gone(rt: Runtime) -> None:
    """A database that answers but is not Peerboard's (an empty file, a wrong URL)."""
    cascade = " CASCADE" if rt.engine.dialect.name == "postgresql" else ""
    async with rt.engine.begin() as connection:
        await connection.execute(sa.text("DROP TABLE tasks" + cascade))
    with pytest.raises(sa.exc.DBAPIError):
        await rt.services.health.ping()
