"""Reminders (SPEC §6) through a delivery log that works as an outbox.

A sweep has two phases. *Enqueue* turns due work into delivery rows, each keyed by
(kind, task, member, due time) and written in the same transaction as whatever made
it due (a claim expiring, a warning falling due, a review going stale). *Deliver*
leases pending rows one by one, sends them through the Notifier, and records the
result. So a reminder is sent at least once (a crash after sending leaves the row
leased, and it is sent once more when the lease runs out) and never twice (the key is
unique, and a sent row is never sent again), across restarts and double runs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from bot.db.uow import Database
from bot.domain.errors import DomainError
from bot.domain.model import (
    CHANNEL,
    DUE_SOON_HOURS,
    REVIEW_ESCALATE_AFTER_DAYS,
    REVIEW_REPEAT_HOURS,
    Actor,
    Reminder,
    Rules,
)
from bot.services.clock import Clock
from bot.services.tasks import TaskService

log = logging.getLogger("peerboard.reminders")

BATCH: Final = 500
DEFAULT_WINDOW_HOURS: Final = Rules().proposal_window_hours
LEASE: Final = timedelta(minutes=5)
MAX_ATTEMPTS: Final = 8


@dataclass(frozen=True, slots=True)
class Due:
    """One pending delivery, as the sweep hands it to the notifier."""

    id: int
    guild_id: int
    kind: Reminder
    task_id: int
    member_id: int
    due_at: datetime
    attempts: int

    @property
    def to_member(self) -> bool:
        return self.member_id != CHANNEL


@dataclass(frozen=True, slots=True)
class EnqueueReport:
    warnings: int = 0
    expired: int = 0
    due: int = 0
    nudges: int = 0
    proposals: int = 0


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour, between tries of a failed delivery."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


class ReminderService:
    def __init__(self, db: Database, clock: Clock, tasks: TaskService) -> None:
        self._db = db
        self._clock = clock
        self._tasks = tasks

    # -- phase 1: what is due becomes rows in the log ---------------------------------------

    async def has_work(self) -> bool:
        """Whether a sweep would find anything to enqueue or deliver: one read, so a sweep
        with nothing due (most of them) costs one short transaction, not six. It looks at
        exactly what the phases below read, over every guild."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            return await uow.repo.sweep_has_work(
                now,
                due_after=now - timedelta(days=1),  # the overdue look-back of _due_dates
                due_until=now + timedelta(hours=DUE_SOON_HOURS),
                proposed_before=now - timedelta(hours=1),  # as _proposals asks
            )

    async def enqueue_due(
        self, bot_id: int, guild_ids: frozenset[int] | None = None
    ) -> EnqueueReport:
        now = self._clock.now()
        return EnqueueReport(
            warnings=await self._warnings(now, guild_ids),
            expired=await self._expire(now, bot_id, guild_ids),
            due=await self._due_dates(now, guild_ids),
            nudges=await self._nudges(now, guild_ids),
            proposals=await self._proposals(now, bot_id, guild_ids),
        )

    @staticmethod
    def _row(
        guild_id: int, kind: Reminder, task_id: int, member_id: int, due_at: datetime, now: datetime
    ) -> dict[str, Any]:
        return {
            "guild_id": guild_id,
            "kind": kind.value,
            "task_id": task_id,
            "member_id": member_id,
            "due_at": due_at,
            "created_at": now,
        }

    async def _warnings(self, now: datetime, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            claims = [
                c
                for c in await uow.repo.claims_to_warn(now, BATCH)
                if guilds is None or c.guild_id in guilds
            ]
            for claim in claims:
                assert claim.id is not None and claim.warn_at is not None
                await uow.repo.enqueue(
                    [
                        self._row(
                            claim.guild_id,
                            Reminder.CLAIM_WARNING,
                            claim.task_id,
                            claim.member_id,
                            claim.warn_at,
                            now,
                        )
                    ]
                )
                # Sent work leaves the warning index, so an idle sweep reads nothing.
                await uow.repo.clear_warning(claim.id, claim.warn_at)
            await uow.commit()
        return len(claims)

    async def _expire(self, now: datetime, bot_id: int, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            expired = [
                e
                for e in await uow.repo.expired_claims(now, BATCH)
                if guilds is None or e[0] in guilds
            ]
        count = 0
        for guild_id, number, member_id, _expires in expired:
            try:
                # The expiry and its notices are one transaction (TaskService writes the outbox).
                await self._tasks.expire(guild_id, number, member_id, bot_id)
                count += 1
            except DomainError:
                continue  # someone extended, released or submitted in the meantime
        return count

    async def _due_dates(self, now: datetime, guilds: frozenset[int] | None) -> int:
        count = 0
        async with self._db.unit() as uow:
            soon = await uow.repo.tasks_due_between(
                now, now + timedelta(hours=DUE_SOON_HOURS), BATCH
            )
            # Overdue notices look back a day: a bot that was down longer than that skips them.
            late = await uow.repo.tasks_due_between(now - timedelta(days=1), now, BATCH)
            mine = [t for t in (*soon, *late) if guilds is None or t.guild_id in guilds]
            # One read for every claimant (not one per task: up to 2 x BATCH reads a sweep).
            claimants: dict[int, list[int]] = {}
            for claim in await uow.repo.active_claims_for_tasks(
                [t.id for t in mine if t.id is not None]
            ):
                claimants.setdefault(claim.task_id, []).append(claim.member_id)
            rows = []
            for kind, tasks in ((Reminder.DUE_SOON, soon), (Reminder.OVERDUE, late)):
                for task in tasks:
                    if guilds is not None and task.guild_id not in guilds:
                        continue
                    assert task.id is not None and task.due_at is not None
                    for member_id in claimants.get(task.id, []):
                        rows.append(
                            self._row(task.guild_id, kind, task.id, member_id, task.due_at, now)
                        )
            await uow.repo.enqueue(rows)
            count = len(rows)
            await uow.commit()
        return count

    async def _nudges(self, now: datetime, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            tasks = [
                t
                for t in await uow.repo.tasks_to_nudge(now, BATCH)
                if guilds is None or t.guild_id in guilds
            ]
            for task in tasks:
                assert task.id is not None and task.next_nudge_at is not None
                waited = task.next_nudge_at - task.status_changed_at
                kind = (
                    Reminder.REVIEW_ESCALATION
                    if waited >= timedelta(days=REVIEW_ESCALATE_AFTER_DAYS)
                    else Reminder.REVIEW_NUDGE
                )
                await uow.repo.enqueue(
                    [self._row(task.guild_id, kind, task.id, CHANNEL, task.next_nudge_at, now)]
                )
                following = task.next_nudge_at + timedelta(hours=REVIEW_REPEAT_HOURS)
                escalate_at = task.status_changed_at + timedelta(days=REVIEW_ESCALATE_AFTER_DAYS)
                if task.next_nudge_at < escalate_at < following:
                    following = (
                        escalate_at  # the escalation comes on day 5, not at the next 48 h mark
                    )
                task.next_nudge_at = max(following, now)
            await uow.commit()
        return len(tasks)

    async def _proposals(self, now: datetime, bot_id: int, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            candidates = [
                t
                for t in await uow.repo.stale_proposals(now - timedelta(hours=1), BATCH)
                if guilds is None or t.guild_id in guilds
            ]
            windows: dict[int, timedelta] = {}
            for guild_id in {t.guild_id for t in candidates}:
                settings = await uow.repo.get_guild(guild_id)
                hours = settings.proposal_window_hours if settings else DEFAULT_WINDOW_HOURS
                windows[guild_id] = timedelta(hours=hours)
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
                await self._tasks.open_by_consensus(guild_id, number, bot_id)
                opened += 1
            except DomainError:
                continue  # still inside its window, or someone objected
        return opened

    # -- phase 2: deliver ------------------------------------------------------------------------

    async def pending(
        self, limit: int = BATCH, guild_ids: frozenset[int] | None = None
    ) -> list[Due]:
        now = self._clock.now()
        async with self._db.unit() as uow:
            rows = await uow.repo.pending_deliveries(now, limit)
        return [
            Due(r.id, r.guild_id, Reminder(r.kind), r.task_id, r.member_id, r.due_at, r.attempts)
            for r in rows
            if r.id is not None and (guild_ids is None or r.guild_id in guild_ids)
        ]

    async def lease(self, due: Due) -> bool:
        """Take the row for one delivery; False when another sweep has it or it is done."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            taken = await uow.repo.lease_delivery(due.id, now, now + LEASE)
            await uow.commit()
        return taken

    async def mark_sent(self, due: Due, via: str) -> None:
        await self._finish(due, status="sent", sent_at=self._clock.now(), via=via, lease_until=None)

    async def mark_skipped(self, due: Due, why: str) -> None:
        await self._finish(due, status="skipped", last_error=why[:500], lease_until=None)

    async def retry_later(self, due: Due, error: str) -> None:
        attempts = due.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            log.error(
                "giving up on %s for task %s after %d tries: %s",
                due.kind,
                due.task_id,
                attempts,
                error,
            )
            await self._finish(due, status="failed", last_error=error[:500], lease_until=None)
            return
        await self._finish(
            due,
            next_attempt_at=self._clock.now() + backoff(attempts),
            last_error=error[:500],
            lease_until=None,
        )

    async def _finish(self, due: Due, **values: Any) -> None:
        async with self._db.unit() as uow:
            await uow.repo.finish_delivery(due.id, **values)
            await uow.commit()

    async def paused(self, guild_id: int, member_id: int) -> str | None:
        """Why this member gets no reminders now, if they don't."""
        async with self._db.unit() as uow:
            member = await uow.repo.get_member(guild_id, member_id)
        if member is None:
            return None
        if not member.reminders_enabled:
            return "reminders off"
        if member.away_until is not None and member.away_until > self._clock.now():
            return "away"
        return None

    # -- member control ----------------------------------------------------------------------------

    async def set_reminders(self, actor: Actor, enabled: bool) -> None:
        async with self._db.unit() as uow:
            await uow.repo.touch_member(actor.guild_id, actor.member_id, self._clock.now())
            member = await uow.repo.get_member(actor.guild_id, actor.member_id)
            assert member is not None
            member.reminders_enabled = enabled
            await uow.commit()

    async def set_away(self, actor: Actor, until: datetime | None) -> None:
        async with self._db.unit() as uow:
            await uow.repo.touch_member(actor.guild_id, actor.member_id, self._clock.now())
            member = await uow.repo.get_member(actor.guild_id, actor.member_id)
            assert member is not None
            member.away_until = until
            await uow.commit()
