"""The sweep's enqueue phases: each turns what its read (kinds.py) finds due into work,
in the same transaction as whatever made it due. Delivery rows are made by `notice`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.db.queries import sweep
from bot.db.repos.deliveries import Notice
from bot.db.uow import Database
from bot.domain.errors import DomainError
from bot.domain.model import (
    CHANNEL,
    REVIEW_ESCALATE_AFTER_DAYS,
    REVIEW_REPEAT_HOURS,
    Reminder,
    Rules,
)
from bot.domain.shards import Shards
from bot.services.tasks import TaskService

BATCH: Final = 500
DEFAULT_WINDOW_HOURS: Final = Rules().proposal_window_hours


@dataclass(frozen=True, slots=True)
class Pass:
    """One enqueue pass of a sweep: its time, and the shards whose guilds it serves (None:
    every guild). Each read selects the shards' guilds in SQL, before its LIMIT: a batch
    is never filled with another process's work."""

    db: Database
    tasks: TaskService
    now: datetime
    bot_id: int
    shards: Shards | None

    def notice(
        self, guild_id: int, kind: str, task_id: int, member_id: int, due: datetime
    ) -> Notice:
        """The delivery row for (kind, task, member, due time), enqueued now."""
        return Notice(guild_id, kind, task_id, member_id, due, self.now)


async def warnings(p: Pass, read: sweep.Read) -> int:
    """A batch of warnings in three statements: read (and lock) the claims, clear their
    warnings, write their delivery rows; one transaction."""
    async with p.db.unit() as uow:
        due = await uow.claims.claims_to_warn(p.now, BATCH, p.shards)
        # Sent work leaves the warning index, so an idle sweep reads nothing.
        await uow.claims.clear_warnings([claim_id for claim_id, *_rest in due])
        await uow.deliveries.enqueue(
            [
                p.notice(guild_id, Reminder.CLAIM_WARNING, task_id, member_id, warn_at)
                for _claim, guild_id, task_id, member_id, warn_at in due
            ]
        )
        await uow.commit()
    return len(due)


async def expiries(p: Pass, read: sweep.Read) -> int:
    async with p.db.unit() as uow:
        expired = [
            (task_id, member_id)
            for _guild, task_id, _number, member_id, _expires in await uow.claims.expired_claims(
                p.now, BATCH, p.shards
            )
        ]
    # Each expiry and its notices are written together (TaskService writes the outbox);
    # a claim extended, released or submitted in the meantime is left alone.
    return await p.tasks.expire_many(expired, p.bot_id)


async def due_dates(p: Pass, read: sweep.Read) -> int:
    assert isinstance(read, sweep.DueDates)
    bounds = read.bounds(p.now)
    async with p.db.unit() as uow:
        # Only notices not in the log yet: once enqueued, a due task costs a sweep an
        # index probe per claimant, not a row offered again. Overdue notices look back
        # a day: a bot that was down longer than that skips them.
        found = await uow.deliveries.due_notices(
            p.now, bounds["after"], bounds["until"], BATCH, p.shards
        )
        rows = [
            p.notice(guild_id, kind, task_id, member_id, due_at)
            for guild_id, task_id, member_id, due_at, kind in found
        ]
        await uow.deliveries.enqueue(rows)
        await uow.commit()
    return len(rows)


async def nudges(p: Pass, read: sweep.Read) -> int:
    now = p.now
    async with p.db.unit() as uow:
        tasks = await uow.tasks.tasks_to_nudge(now, BATCH, p.shards)
        rows = []
        for task in tasks:
            assert task.id is not None and task.next_nudge_at is not None
            waited = task.next_nudge_at - task.status_changed_at
            kind = (
                Reminder.REVIEW_ESCALATION
                if waited >= timedelta(days=REVIEW_ESCALATE_AFTER_DAYS)
                else Reminder.REVIEW_NUDGE
            )
            rows.append(p.notice(task.guild_id, kind, task.id, CHANNEL, task.next_nudge_at))
            following = task.next_nudge_at + timedelta(hours=REVIEW_REPEAT_HOURS)
            escalate_at = task.status_changed_at + timedelta(days=REVIEW_ESCALATE_AFTER_DAYS)
            if task.next_nudge_at < escalate_at < following:
                following = escalate_at  # the escalation comes on day 5, not at the next 48 h mark
            task.next_nudge_at = max(following, now)
        await uow.deliveries.enqueue(rows)
        await uow.commit()
    return len(tasks)


async def proposals(p: Pass, read: sweep.Read) -> int:
    assert isinstance(read, sweep.StaleProposals)
    now = p.now
    async with p.db.unit() as uow:
        candidates = await uow.tasks.stale_proposals(now, BATCH, p.shards)
        # One read for all their guilds: a read per guild cost up to BATCH statements a
        # sweep, every sweep, while proposals wait inside their windows (many guilds).
        hours = await uow.guilds.proposal_windows({t.guild_id for t in candidates})
    windows = {
        t.guild_id: timedelta(hours=hours.get(t.guild_id, DEFAULT_WINDOW_HOURS)) for t in candidates
    }
    # Only those past their guild's window: trying the others (the domain refuses them)
    # would cost a write transaction per proposal, every sweep.
    stale = [
        (t.guild_id, t.number)
        for t in candidates
        if t.status_changed_at + windows[t.guild_id] <= now
    ]
    opened = 0
    for guild_id, number in stale:
        try:
            await p.tasks.open_by_consensus(guild_id, number, p.bot_id)
            opened += 1
        except DomainError:
            continue  # still inside its window, or someone objected
    return opened


async def claimant_notices(p: Pass, read: sweep.Read) -> int:
    """A kind that needs only a notice to each claimant (sweep.ClaimantNotices)."""
    assert isinstance(read, sweep.ClaimantNotices)
    async with p.db.unit() as uow:
        found = await uow.deliveries.claimant_notices(read, p.now, BATCH, p.shards)
        rows = [
            p.notice(guild_id, read.kind, task_id, member_id, at)
            for guild_id, task_id, member_id, at in found
        ]
        await uow.deliveries.enqueue(rows)
        await uow.commit()
    return len(rows)
