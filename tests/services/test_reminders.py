"""Reminders on a real database with a controlled clock: every SPEC §6 boundary, and
at-least-once / never-twice delivery across double runs, crashes and restarts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.bootstrap import Runtime, build_services
from bot.db.engine import create_session_factory
from bot.db.models import ClaimRow, Delivery, Task
from bot.db.queries.sweep import ClaimantNotices
from bot.db.repos.tasks import TaskRepo
from bot.db.uow import Database
from bot.domain.model import Reminder, Status
from bot.jobs.sweep import SweepReport, deliver_pending, sweep
from bot.services.clock import ManualClock
from bot.services.config import GuildConfig
from bot.services.notify import DeliveryFailed, Notice
from bot.services.registry import Services
from bot.services.reminders import EnqueueReport
from bot.services.reminders.phases import Pass, claimant_notices
from tests.perf.stats import QueryCounter
from tests.services.helpers import GUILD, maint, member

BOT = 999
ALICE, BOB, CAROL, DAVE = 11, 12, 13, 14


@dataclass
class FakeNotifier:
    """Stands in for Discord at the Notifier port; records what would be sent."""

    sent: list[tuple[Reminder, int, int]] = field(default_factory=list)  # kind, task number, member
    fail_with: list[DeliveryFailed] = field(default_factory=list)

    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append((notice.kind.name, notice.task.number, notice.member_id))
        return "dm" if notice.member_id else "channel"

    def kinds(self) -> list[Reminder]:
        return [k for k, _n, _m in self.sent]


@pytest.fixture
async def rt(db_url: str, clock: ManualClock) -> Runtime:
    runtime = build_services(db_url, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture
def services(rt: Runtime) -> Services:
    return rt.services


@pytest.fixture
def notifier() -> FakeNotifier:
    return FakeNotifier()


async def run(services: Services, notifier: FakeNotifier, budget: int = 100):
    return await sweep(services, notifier, bot_id=BOT, dm_budget=budget)


async def test_claim_warning_at_half_the_window_once(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Small", points=1)  # 3-day window, warning at 36 h
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(hours=36, seconds=-1)
    await run(services, notifier)
    assert notifier.sent == []
    clock.advance(seconds=1)
    await run(services, notifier)
    assert notifier.sent == [(Reminder.CLAIM_WARNING, 1, ALICE)]
    await run(services, notifier)  # sweep twice -> still one delivery
    assert len(notifier.sent) == 1


async def test_extension_moves_the_warning(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Small")
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(hours=36)
    await run(services, notifier)
    # 36 h were left, and 72 more: warned again halfway through those 108 h, in 54 h.
    await services.tasks.extend(member(ALICE), 1)
    clock.advance(hours=53)
    await run(services, notifier)
    assert notifier.kinds() == [Reminder.CLAIM_WARNING]
    clock.advance(hours=1)
    await run(services, notifier)
    assert notifier.kinds() == [Reminder.CLAIM_WARNING, Reminder.CLAIM_WARNING]


async def test_expiry_releases_and_tells_everyone_once(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Stale")
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(days=3, seconds=-1)
    await run(services, notifier)
    assert (await services.tasks.show(GUILD, 1)).status is Status.CLAIMED
    clock.advance(seconds=1)
    await run(services, notifier)
    view = await services.tasks.show(GUILD, 1)
    assert view.status is Status.OPEN and view.claims == ()
    assert sorted(notifier.sent[1:]) == sorted(
        [(Reminder.CLAIM_EXPIRED, 1, ALICE), (Reminder.BACK_ON_BOARD, 1, 0)]
    )
    await run(services, notifier)
    assert len(notifier.sent) == 3  # warning, expired, back on board


async def test_work_in_review_does_not_expire(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Submitted in time")
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.submit(member(ALICE), 1, notes="done")
    clock.advance(days=4)
    await run(services, notifier)
    assert (await services.tasks.show(GUILD, 1)).status is Status.IN_REVIEW
    assert Reminder.CLAIM_EXPIRED not in notifier.kinds()


async def test_due_soon_and_overdue(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Dated", points=8, due_at=clock.now() + timedelta(days=5))
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(days=3, seconds=-1)
    await run(services, notifier)
    assert Reminder.DUE_SOON not in notifier.kinds()
    clock.advance(seconds=1)  # 48 h before due
    await run(services, notifier)
    assert notifier.kinds().count(Reminder.DUE_SOON) == 1
    clock.advance(days=2)  # at due
    await run(services, notifier)
    await run(services, notifier)
    assert (
        notifier.kinds().count(Reminder.OVERDUE) == 1
        and notifier.kinds().count(Reminder.DUE_SOON) == 1
    )


async def test_review_nudges_then_escalates(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Waiting")
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.submit(member(ALICE), 1, notes="please look")
    clock.advance(hours=48, seconds=-1)
    await run(services, notifier)
    assert notifier.sent == []
    clock.advance(seconds=1)
    await run(services, notifier)
    assert notifier.sent == [(Reminder.REVIEW_NUDGE, 1, 0)]
    clock.advance(hours=48)  # 96 h: nudged again
    await run(services, notifier)
    assert notifier.kinds() == [Reminder.REVIEW_NUDGE, Reminder.REVIEW_NUDGE]
    clock.advance(hours=24)  # 120 h = 5 days: escalated to maintainers
    await run(services, notifier)
    await run(services, notifier)
    assert notifier.kinds()[-1] is Reminder.REVIEW_ESCALATION and len(notifier.sent) == 3
    await services.tasks.approve(maint(), 1)
    clock.advance(days=10)
    await run(services, notifier)
    assert len(notifier.sent) == 3  # done work is never nudged


async def test_unblocked_notice_when_blocker_is_done(services, notifier) -> None:
    await services.tasks.create(maint(), "First")
    await services.tasks.create(maint(), "Second", blocked_by=1)
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.submit(member(ALICE), 1, notes="x")
    await services.tasks.approve(maint(), 1)
    await run(services, notifier)
    assert notifier.sent == [(Reminder.UNBLOCKED, 2, 0)]


async def test_proposal_opens_by_lazy_consensus(services, notifier, clock) -> None:
    await services.tasks.propose(member(ALICE), "Quiet")
    await services.tasks.propose(member(ALICE), "Contested")
    await services.tasks.object(member(BOB), 2, "Not now")
    clock.advance(hours=72, seconds=-1)
    await run(services, notifier)
    assert (await services.tasks.show(GUILD, 1)).status is Status.PROPOSED
    clock.advance(seconds=1)
    await run(services, notifier)
    assert (await services.tasks.show(GUILD, 1)).status is Status.OPEN
    assert (await services.tasks.show(GUILD, 2)).status is Status.PROPOSED
    # The objection told the maintainers once; the quiet one opened.
    assert notifier.sent == [(Reminder.PROPOSAL_CONTESTED, 2, 0), (Reminder.PROPOSAL_OPENED, 1, 0)]


async def test_crash_after_send_delivers_at_most_once_more(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Fragile")
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(hours=36)
    await services.reminders.enqueue_due(BOT)
    [due] = await services.reminders.pending()
    assert await services.reminders.take(due) is not None
    notifier.sent.append(
        (due.kind.name, 1, due.member_id)
    )  # sent... and the process dies before recording
    await run(services, notifier)  # the lease still holds: nothing is sent twice right away
    assert len(notifier.sent) == 1
    clock.advance(minutes=5)
    await run(services, notifier)  # the lease ran out: sent once more, then recorded
    await run(services, notifier)
    clock.advance(minutes=30)
    await run(services, notifier)
    assert notifier.sent == [(Reminder.CLAIM_WARNING, 1, ALICE)] * 2


async def test_a_new_bot_on_the_same_database_sends_nothing_again(
    db_url, services, notifier, clock
) -> None:
    await services.tasks.create(maint(), "Restart")
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(hours=36)
    await run(services, notifier)
    restarted = build_services(db_url, clock=clock)
    try:
        fresh = FakeNotifier()
        await run(restarted.services, fresh)
        assert fresh.sent == []
    finally:
        await restarted.close()


async def test_transient_failures_retry_with_backoff(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Flaky")
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(hours=36)
    notifier.fail_with = [DeliveryFailed("429 rate limited", transient=True)] * 2
    report = await run(services, notifier)
    assert report.retried == 1 and notifier.sent == []
    await run(services, notifier)  # the backoff has not passed
    assert notifier.fail_with and notifier.sent == []
    clock.advance(minutes=1)
    await run(services, notifier)  # second failure: waits 2 minutes
    clock.advance(minutes=2)
    await run(services, notifier)
    assert notifier.sent == [(Reminder.CLAIM_WARNING, 1, ALICE)]


async def test_away_or_muted_members_get_nothing_but_claims_still_expire(
    services, notifier, clock
) -> None:
    await services.tasks.create(maint(), "A")
    await services.tasks.create(maint(), "B")
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.claim(member(BOB), 2)
    await services.reminders.set_away(member(ALICE), clock.now() + timedelta(days=10))
    await services.reminders.set_reminders(member(BOB), False)
    clock.advance(days=3)
    await run(services, notifier)
    assert all(m == 0 for _k, _n, m in notifier.sent)  # only channel posts
    assert (await services.tasks.show(GUILD, 1)).claims == () and (
        await services.tasks.show(GUILD, 2)
    ).claims == ()


async def test_dm_fan_out_is_paced(services, notifier, clock) -> None:
    for i in range(5):
        await services.tasks.create(maint(), f"T{i}")
        await services.tasks.claim(member(100 + i, reviewer=True), i + 1)
    clock.advance(hours=36)
    first = await run(services, notifier, budget=2)
    assert (first.sent, first.deferred) == (2, 3)
    await deliver_pending(services, notifier, dm_budget=2)
    await deliver_pending(services, notifier, dm_budget=2)
    assert len(notifier.sent) == 5 and len(set(notifier.sent)) == 5


async def test_stale_notices_are_skipped(services, notifier, clock) -> None:
    await services.tasks.create(maint(), "Gone")
    await services.tasks.claim(member(ALICE), 1)
    clock.advance(hours=36)
    await services.reminders.enqueue_due(BOT)
    await services.tasks.release(member(ALICE), 1)  # released before the warning went out
    report = await deliver_pending(services, notifier, dm_budget=10)
    assert report.skipped == 1 and notifier.sent == []


async def test_objected_proposals_do_not_hold_up_lazy_consensus(
    services, notifier, clock, monkeypatch
) -> None:
    """Objected proposals wait for a maintainer, however many there are; a full batch of
    them must not stop a quiet proposal from opening."""
    monkeypatch.setattr("bot.services.reminders.BATCH", 2)
    for n in (1, 2, 3):  # by three members: each may have only so many proposals open
        await services.tasks.propose(member(100 + n), f"Contested {n}")
        await services.tasks.object(member(BOB), n, "Not now")
    clock.advance(minutes=1)
    await services.tasks.propose(member(ALICE), "Quiet")
    clock.advance(hours=72, minutes=1)
    await run(services, notifier)
    assert (await services.tasks.show(GUILD, 4)).status is Status.OPEN
    contested = [(Reminder.PROPOSAL_CONTESTED, n, 0) for n in (1, 2, 3)]
    assert notifier.sent == [*contested, (Reminder.PROPOSAL_OPENED, 4, 0)]
    for n in (1, 2, 3):
        assert (await services.tasks.show(GUILD, n)).status is Status.PROPOSED


async def test_proposals_inside_their_window_are_not_tried(
    services, notifier, clock, monkeypatch
) -> None:
    """A sweep does not try to open what its window still protects (each try would be a
    transaction per proposal, every minute)."""
    tried: list[int] = []
    original = services.tasks.open_by_consensus

    async def spy(guild_id: int, number: int, bot_id: int):
        tried.append(number)
        return await original(guild_id, number, bot_id)

    monkeypatch.setattr(services.tasks, "open_by_consensus", spy)
    await services.tasks.propose(member(ALICE), "Quiet")
    clock.advance(hours=2)
    await run(services, notifier)
    clock.advance(hours=69, minutes=59, seconds=59)
    await run(services, notifier)
    assert tried == []
    clock.advance(seconds=1)
    await run(services, notifier)
    assert tried == [1] and (await services.tasks.show(GUILD, 1)).status is Status.OPEN


async def test_due_notices_reach_every_claimant_of_every_task(services, notifier, clock) -> None:
    due = clock.now() + timedelta(hours=30)
    await services.tasks.create(maint(), "Pair", points=8, capacity=2, due_at=due)
    await services.tasks.create(maint(), "Solo", points=8, due_at=due + timedelta(hours=1))
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.claim(member(BOB), 1)
    await services.tasks.claim(member(CAROL, reviewer=True), 2)
    await run(services, notifier)
    assert sorted(notifier.sent) == sorted(
        [(Reminder.DUE_SOON, 1, ALICE), (Reminder.DUE_SOON, 1, BOB), (Reminder.DUE_SOON, 2, CAROL)]
    )
    clock.advance(hours=31)
    await run(services, notifier)
    assert sorted(notifier.sent[3:]) == sorted(
        [(Reminder.OVERDUE, 1, ALICE), (Reminder.OVERDUE, 1, BOB), (Reminder.OVERDUE, 2, CAROL)]
    )


# -- cost: what a sweep reads and writes, counted in statements --------------------------------


async def seed_due_tasks(rt: Runtime, n: int, due_at: datetime, now: datetime) -> None:
    """`n` claimed tasks, each with one claimant, all due at `due_at`: written in bulk."""
    tasks, claims = Task.__table__, ClaimRow.__table__
    async with rt.engine.begin() as conn:
        rows = [
            {
                "guild_id": GUILD,
                "number": 1000 + i,
                "title": f"Dated {i}",
                "description": "",
                "points": 1,
                "tags": "",
                "due_at": due_at,
                "capacity": 1,
                "status": "claimed",
                "creator_id": 1,
                "rework_rounds": 0,
                "review_round": 0,
                "status_changed_at": now,
                "created_at": now,
                "updated_at": now,
                "version": 2,
            }
            for i in range(n)
        ]
        await conn.execute(sa.insert(tasks), rows)
        ids = (await conn.execute(sa.select(tasks.c.id).where(tasks.c.number >= 1000))).scalars()
        await conn.execute(
            sa.insert(claims),
            [
                {
                    "task_id": task_id,
                    "guild_id": GUILD,
                    "member_id": 5000 + i,
                    "claimed_at": now,
                    "expires_at": now + timedelta(days=14),
                    "warn_at": now + timedelta(days=7),
                    "extensions": 0,
                }
                for i, task_id in enumerate(ids)
            ],
        )


async def mark_all_sent(rt: Runtime) -> None:
    """As if every notice in the log had been delivered."""
    async with rt.engine.begin() as conn:
        await conn.execute(sa.update(Delivery.__table__).values(status="sent"))


async def delivery_count(rt: Runtime) -> int:
    async with rt.engine.connect() as conn:
        stmt = sa.select(sa.func.count()).select_from(Delivery.__table__)
        return int((await conn.execute(stmt)).scalar_one())


async def counted(rt: Runtime, action: Any) -> tuple[Any, int, int]:
    """What `action()` returns, and the statements and transactions it sent."""
    counter = QueryCounter(rt.engine)
    try:
        result = await action()
        return result, counter.count, counter.transactions
    finally:
        counter.close()


async def test_due_dates_already_enqueued_cost_a_sweep_nothing(
    rt, services, notifier, clock
) -> None:
    """400 claimed tasks due soon: their notices are enqueued once; after that, sweeps read
    no more and write nothing, as on a board with nothing due (statements counted, not
    timed), and the has-work check reports no work."""
    await services.config.get(GUILD)  # the guild's row
    idle = await counted(rt, lambda: run(services, notifier))
    whole = await counted(rt, lambda: services.reminders.enqueue_due(BOT))  # every phase
    assert idle[0] == SweepReport() and whole[0] == EnqueueReport()

    await seed_due_tasks(rt, 400, clock.now() + timedelta(hours=30), clock.now())
    first = await services.reminders.enqueue_due(BOT)
    assert first.due == 400 and await delivery_count(rt) == 400
    await mark_all_sent(rt)
    for _ in range(2):
        assert not await services.reminders.has_work()
        again = await counted(rt, lambda: run(services, notifier))
        assert again == idle  # one read in one transaction, as on the empty board
        assert await counted(rt, lambda: services.reminders.enqueue_due(BOT)) == whole
    assert await delivery_count(rt) == 400

    clock.advance(hours=31)  # past due: the overdue notices, once
    later = await services.reminders.enqueue_due(BOT)
    assert later.due == 400 and await delivery_count(rt) == 800
    await mark_all_sent(rt)
    assert not await services.reminders.has_work()
    assert await counted(rt, lambda: run(services, notifier)) == idle
    assert await delivery_count(rt) == 800


async def test_a_batch_of_expiries_writes_what_each_expiry_would(services, notifier, clock) -> None:
    """Expiries go through TaskService in one batch: each task's version moves on, each
    expiry has its history row and its notices; a second claim on one task, and a task
    changed by someone else meanwhile, are expired one at a time, once."""
    await services.tasks.create(maint(), "Solo A")
    await services.tasks.create(maint(), "Solo B")
    await services.tasks.create(maint(), "Pair", capacity=2)
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.claim(member(BOB), 2)
    await services.tasks.claim(member(DAVE), 3)
    await services.tasks.claim(member(CAROL, reviewer=True), 3)
    clock.advance(days=3)
    assert (await services.reminders.enqueue_due(BOT)).expired == 4
    for number in (1, 2, 3):
        view = await services.tasks.show(GUILD, number)
        assert view.status is Status.OPEN and view.claims == ()
    _view, history = await services.tasks.history(GUILD, 3)
    assert [h.action for h in history].count("expire") == 2
    report = await run(services, notifier)
    assert report.skipped == 4  # the warnings, due too but the claims have ended
    assert sorted(notifier.sent) == sorted(
        [
            (Reminder.CLAIM_EXPIRED, 1, ALICE),
            (Reminder.CLAIM_EXPIRED, 2, BOB),
            (Reminder.CLAIM_EXPIRED, 3, DAVE),
            (Reminder.CLAIM_EXPIRED, 3, CAROL),
            (Reminder.BACK_ON_BOARD, 1, 0),
            (Reminder.BACK_ON_BOARD, 2, 0),
            (Reminder.BACK_ON_BOARD, 3, 0),
        ]
    )


async def test_an_expiry_that_lost_a_race_is_applied_once_on_its_own(
    services, notifier, clock, monkeypatch
) -> None:
    """Someone else writes the task between the batch's read and its compare-and-set: the
    batch leaves it, and it goes through TaskService.expire from a fresh read."""
    await services.tasks.create(maint(), "Contested")
    await services.tasks.create(maint(), "Quiet")
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.claim(member(BOB), 2)
    clock.advance(days=3)
    original = TaskRepo.compare_and_set_many

    async def racing(self, task_ids, version, values):
        # Another writer gets to task #1 first (its version moves on).
        await self.session.execute(
            sa.update(Task.__table__)
            .where(Task.__table__.c.number == 1)
            .values(version=Task.__table__.c.version + 1)
        )
        monkeypatch.setattr(TaskRepo, "compare_and_set_many", original)
        return await original(self, task_ids, version, values)

    monkeypatch.setattr(TaskRepo, "compare_and_set_many", racing)
    assert (await services.reminders.enqueue_due(BOT)).expired == 2
    for number in (1, 2):
        view = await services.tasks.show(GUILD, number)
        assert view.status is Status.OPEN and view.claims == ()
        _view, history = await services.tasks.history(GUILD, number)
        assert [h.action for h in history].count("expire") == 1


async def test_a_claimant_notices_read_enqueues_each_claimant_once(rt, services, clock) -> None:
    """The generic read a new kind may declare in kinds.py (sweep.ClaimantNotices): one
    notice per active claimant, `after` past the time it keys on, never enqueued twice."""
    read = ClaimantNotices("test_followup", "task.due_at", after=timedelta(days=3))
    await services.tasks.create(
        maint(), "Dated", points=8, capacity=2, due_at=clock.now() + timedelta(days=1)
    )
    await services.tasks.claim(member(ALICE), 1)
    await services.tasks.claim(member(BOB), 1)
    db = Database(create_session_factory(rt.engine))

    async def phase() -> int:
        return await claimant_notices(Pass(db, services.tasks, clock.now(), BOT, None), read)

    clock.advance(days=4, seconds=-1)
    assert await phase() == 0
    clock.advance(seconds=1)
    assert await phase() == 2
    assert await phase() == 0  # in the log already
    async with rt.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(Delivery.kind, Delivery.member_id).where(Delivery.kind == "test_followup")
            )
        ).all()
    assert sorted(rows) == [("test_followup", ALICE), ("test_followup", BOB)]
    clock.advance(days=2)  # past the look-back: nothing more
    assert await phase() == 0
