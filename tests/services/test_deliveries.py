"""Deliveries under faults, on a real database with a controlled clock: a dropped
connection for one delivery never stops the others, and a delivery that always fails
stops at its attempt cap as a dead letter, however it fails."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import aiohttp
import pytest
import sqlalchemy as sa
from sqlmodel import col

from bot.bootstrap import Runtime, build_services
from bot.db.models import Delivery
from bot.domain.model import Reminder
from bot.jobs.sweep import SweepReport, sweep
from bot.services.clock import ManualClock
from bot.services.config import GuildConfig
from bot.services.notify import DeliveryFailed, Notice
from bot.services.registry import Services
from bot.services.reminders.service import LEASE, MAX_ATTEMPTS
from tests.services.helpers import GUILD, maint, member

BOT = 999
MEMBERS = (11, 12, 13, 14, 15, 16)


@dataclass
class FlakyNotifier:
    """Discord at the Notifier port: records what reached whom; `drop` members whose next
    delivery loses its connection; `poison`: every delivery to them raises `poison_error`."""

    sent: list[tuple[Reminder, int]] = field(default_factory=list)
    drop: set[int] = field(default_factory=set)
    poison: set[int] = field(default_factory=set)
    poison_error: Exception = field(default_factory=lambda: aiohttp.ServerDisconnectedError())
    calls: Counter[int] = field(default_factory=Counter)

    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        self.calls[notice.member_id] += 1
        if notice.member_id in self.drop:
            self.drop.discard(notice.member_id)
            raise aiohttp.ServerDisconnectedError()
        if notice.member_id in self.poison:
            raise self.poison_error
        self.sent.append((notice.kind.name, notice.member_id))
        return "dm"


@pytest.fixture
async def rt(db_url: str, clock: ManualClock) -> Runtime:
    runtime = build_services(db_url, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture
def services(rt: Runtime) -> Services:
    return rt.services


async def run(services: Services, notifier: FlakyNotifier) -> SweepReport:
    return await sweep(services, notifier, bot_id=BOT, dm_budget=100)


async def six_claims_at_their_warning(services: Services, clock: ManualClock) -> None:
    for n, who in enumerate(MEMBERS, start=1):
        await services.tasks.create(maint(), f"Task {n}")
        await services.tasks.claim(member(who), n)
    clock.advance(hours=36)


async def deliveries(rt: Runtime) -> list[tuple[int, str, int]]:
    async with rt.engine.connect() as conn:
        stmt = sa.select(
            col(Delivery.member_id), col(Delivery.status), col(Delivery.attempts)
        ).order_by(col(Delivery.member_id))
        return [(m, s, a) for m, s, a in (await conn.execute(stmt)).all()]


async def test_a_dropped_connection_for_one_delivery_does_not_stop_the_sweep(
    services, clock
) -> None:
    await six_claims_at_their_warning(services, clock)
    notifier = FlakyNotifier(drop={MEMBERS[2]})
    report = await run(services, notifier)
    # The other five went out in this sweep; the dropped one waits for its backoff.
    assert sorted(m for _k, m in notifier.sent) == sorted(set(MEMBERS) - {MEMBERS[2]})
    assert (report.sent, report.retried) == (5, 1)
    clock.advance(minutes=1)
    report = await run(services, notifier)
    assert (report.sent, report.retried) == (1, 0)
    for _ in range(3):
        clock.advance(minutes=10)
        await run(services, notifier)
    # Exactly once each, overall.
    assert Counter(notifier.sent) == {(Reminder.CLAIM_WARNING, who): 1 for who in MEMBERS}


@pytest.mark.parametrize(
    "error",
    [
        aiohttp.ServerDisconnectedError(),
        TimeoutError(),
        DeliveryFailed("503 Service Unavailable", transient=True),
    ],
    ids=["disconnect", "timeout", "5xx"],
)
async def test_a_poison_delivery_stops_at_its_cap_as_a_dead_letter(
    rt, services, clock, error
) -> None:
    await six_claims_at_their_warning(services, clock)
    poisoned = MEMBERS[0]
    notifier = FlakyNotifier(poison={poisoned}, poison_error=error)
    for _ in range(40):  # far more sweeps than the backoff needs, over about a day
        await run(services, notifier)
        clock.advance(minutes=45)
    assert notifier.calls[poisoned] == MAX_ATTEMPTS
    rows = await deliveries(rt)
    assert (poisoned, "failed", MAX_ATTEMPTS) in rows
    assert [s for m, s, _a in rows if m != poisoned] == ["sent"] * 5
    assert await services.reminders.dead_letters(GUILD) == 1
    counts = await services.health.delivery_counts()
    assert counts[("claim_warning", "dead")] == 1


async def test_a_delivery_whose_lease_keeps_running_out_is_given_up_at_the_cap(
    rt, services, clock
) -> None:
    """A crash (or a cancelled sweep) between taking a delivery and recording it leaves the
    lease to run out; each lease is an attempt, and the cap holds for them too."""
    await services.tasks.create(maint(), "Crashy")
    await services.tasks.claim(member(MEMBERS[0]), 1)
    clock.advance(hours=36)
    await services.reminders.enqueue_due(BOT)
    taken = 0
    for _ in range(MAX_ATTEMPTS + 5):
        for due in await services.reminders.pending():
            if await services.reminders.take(due) is not None:
                taken += 1  # ...and the process dies before it records anything
        clock.advance(LEASE)
    assert taken == MAX_ATTEMPTS
    assert await deliveries(rt) == [(MEMBERS[0], "failed", MAX_ATTEMPTS)]
    assert await services.reminders.dead_letters(GUILD) == 1


async def test_a_notice_nobody_can_receive_is_a_dead_letter_at_once(rt, services, clock) -> None:
    await services.tasks.create(maint(), "Unreachable")
    await services.tasks.claim(member(MEMBERS[0]), 1)
    clock.advance(hours=36)
    notifier = FlakyNotifier(
        poison={MEMBERS[0]},
        poison_error=DeliveryFailed("nobody could receive it", transient=False),
    )
    report = await run(services, notifier)
    assert (report.sent, report.retried, report.dead) == (0, 0, 1)
    clock.advance(hours=2)
    await run(services, notifier)
    assert notifier.calls[MEMBERS[0]] == 1
    assert await deliveries(rt) == [(MEMBERS[0], "failed", 1)]
