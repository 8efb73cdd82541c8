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
from typing import Final

from bot.db.models import GuildMember
from bot.db.repos.deliveries import Notice
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


def _mine(guild_id: int, guilds: frozenset[int] | None) -> bool:
    return guilds is None or guild_id in guilds


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


@dataclass(frozen=True, slots=True)
class Work:
    """What a sweep would find, one flag per read (bot.db.queries.sweep.SWEEP_WORK). All set
    by default: enqueue_due, asked without it, looks at everything."""

    warnings: bool = True
    expiries: bool = True
    due: bool = True
    nudges: bool = True
    proposals: bool = True
    deliveries: bool = True

    @property
    def to_enqueue(self) -> bool:
        return self.warnings or self.expiries or self.due or self.nudges or self.proposals

    def __bool__(self) -> bool:
        return self.to_enqueue or self.deliveries


EVERYTHING: Final = Work()


@dataclass(frozen=True, slots=True)
class Lease:
    """A delivery taken for sending; `paused`: why its member gets no reminders now."""

    paused: str | None = None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour, between tries of a failed delivery."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


class ReminderService:
    def __init__(self, db: Database, clock: Clock, tasks: TaskService) -> None:
        self._db = db
        self._clock = clock
        self._tasks = tasks

    # -- phase 1: what is due becomes rows in the log ---------------------------------------

    async def has_work(self) -> Work:
        """What a sweep would find to enqueue or deliver: one read, so a sweep with nothing
        due (most of them) costs one short transaction, and a busy one only the phases
        with work. It looks at exactly what the phases below read, over every guild."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            found = await uow.deliveries.sweep_work(
                now,
                due_after=now - timedelta(days=1),  # the overdue look-back of _due_dates
                due_until=now + timedelta(hours=DUE_SOON_HOURS),
                proposed_before=now - timedelta(hours=1),  # as _proposals asks
            )
        return Work(**found)

    async def enqueue_due(
        self, bot_id: int, guild_ids: frozenset[int] | None = None, work: Work = EVERYTHING
    ) -> EnqueueReport:
        now = self._clock.now()
        return EnqueueReport(
            warnings=await self._warnings(now, guild_ids) if work.warnings else 0,
            expired=await self._expire(now, bot_id, guild_ids) if work.expiries else 0,
            due=await self._due_dates(now, guild_ids) if work.due else 0,
            nudges=await self._nudges(now, guild_ids) if work.nudges else 0,
            proposals=await self._proposals(now, bot_id, guild_ids) if work.proposals else 0,
        )

    @staticmethod
    def _row(
        guild_id: int, kind: Reminder, task_id: int, member_id: int, due_at: datetime, now: datetime
    ) -> Notice:
        return Notice(guild_id, kind.value, task_id, member_id, due_at, now)

    async def _warnings(self, now: datetime, guilds: frozenset[int] | None) -> int:
        """A batch of warnings in three statements: read (and lock) the claims, clear their
        warnings, write their delivery rows; one transaction."""
        async with self._db.unit() as uow:
            due = [w for w in await uow.claims.claims_to_warn(now, BATCH) if _mine(w[1], guilds)]
            # Sent work leaves the warning index, so an idle sweep reads nothing.
            await uow.claims.clear_warnings([claim_id for claim_id, *_rest in due])
            await uow.deliveries.enqueue(
                [
                    self._row(guild_id, Reminder.CLAIM_WARNING, task_id, member_id, warn_at, now)
                    for _claim, guild_id, task_id, member_id, warn_at in due
                ]
            )
            await uow.commit()
        return len(due)

    async def _expire(self, now: datetime, bot_id: int, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            expired = [
                (task_id, member_id)
                for guild_id, task_id, _number, member_id, _expires in await uow.claims.expired_claims(
                    now, BATCH
                )
                if _mine(guild_id, guilds)
            ]
        # Each expiry and its notices are written together (TaskService writes the outbox);
        # a claim extended, released or submitted in the meantime is left alone.
        return await self._tasks.expire_many(expired, bot_id)

    async def _due_dates(self, now: datetime, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            # Only notices not in the log yet: once enqueued, a due task costs a sweep an
            # index probe per claimant, not a row offered again. Overdue notices look back
            # a day: a bot that was down longer than that skips them.
            notices = await uow.deliveries.due_notices(
                now, now - timedelta(days=1), now + timedelta(hours=DUE_SOON_HOURS), BATCH
            )
            rows = [
                self._row(guild_id, Reminder(kind), task_id, member_id, due_at, now)
                for guild_id, task_id, member_id, due_at, kind in notices
                if _mine(guild_id, guilds)
            ]
            await uow.deliveries.enqueue(rows)
            await uow.commit()
        return len(rows)

    async def _nudges(self, now: datetime, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            tasks = [
                t for t in await uow.tasks.tasks_to_nudge(now, BATCH) if _mine(t.guild_id, guilds)
            ]
            rows = []
            for task in tasks:
                assert task.id is not None and task.next_nudge_at is not None
                waited = task.next_nudge_at - task.status_changed_at
                kind = (
                    Reminder.REVIEW_ESCALATION
                    if waited >= timedelta(days=REVIEW_ESCALATE_AFTER_DAYS)
                    else Reminder.REVIEW_NUDGE
                )
                rows.append(
                    self._row(task.guild_id, kind, task.id, CHANNEL, task.next_nudge_at, now)
                )
                following = task.next_nudge_at + timedelta(hours=REVIEW_REPEAT_HOURS)
                escalate_at = task.status_changed_at + timedelta(days=REVIEW_ESCALATE_AFTER_DAYS)
                if task.next_nudge_at < escalate_at < following:
                    following = (
                        escalate_at  # the escalation comes on day 5, not at the next 48 h mark
                    )
                task.next_nudge_at = max(following, now)
            await uow.deliveries.enqueue(rows)
            await uow.commit()
        return len(tasks)

    async def _proposals(self, now: datetime, bot_id: int, guilds: frozenset[int] | None) -> int:
        async with self._db.unit() as uow:
            candidates = [
                t
                for t in await uow.tasks.stale_proposals(now - timedelta(hours=1), BATCH)
                if _mine(t.guild_id, guilds)
            ]
            windows: dict[int, timedelta] = {}
            for guild_id in {t.guild_id for t in candidates}:
                settings = await uow.guilds.get_guild(guild_id)
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
            rows = await uow.deliveries.pending_deliveries(now, limit)
        return [
            Due(r.id, r.guild_id, Reminder(r.kind), r.task_id, r.member_id, r.due_at, r.attempts)
            for r in rows
            if r.id is not None and (guild_ids is None or r.guild_id in guild_ids)
        ]

    async def lease(self, due: Due) -> bool:
        """Take the row for one delivery; False when another sweep has it or it is done."""
        return await self.take(due) is not None

    async def take(self, due: Due) -> Lease | None:
        """lease, and for a notice to a member whether they paused their reminders, in one
        unit of work; None when another sweep has the row or it is done."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            if not await uow.deliveries.lease_delivery(due.id, now, now + LEASE):
                return None
            paused = None
            if due.to_member:
                paused = self._pause(await uow.guilds.get_member(due.guild_id, due.member_id), now)
            await uow.commit()
        return Lease(paused)

    async def mark_sent(self, due: Due, via: str) -> None:
        await self._finish(due, status="sent", sent_at=self._clock.now(), via=via)

    async def mark_skipped(self, due: Due, why: str) -> None:
        await self._finish(due, status="skipped", last_error=why[:500])

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
            await self._finish(due, status="failed", last_error=error[:500])
            return
        await self._finish(
            due,
            next_attempt_at=self._clock.now() + backoff(attempts),
            last_error=error[:500],
        )

    async def _finish(
        self,
        due: Due,
        *,
        status: str | None = None,
        sent_at: datetime | None = None,
        via: str | None = None,
        last_error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Free the delivery's lease and record what became of it."""
        async with self._db.unit() as uow:
            await uow.deliveries.finish_delivery(
                due.id,
                status=status,
                sent_at=sent_at,
                via=via,
                last_error=last_error,
                next_attempt_at=next_attempt_at,
            )
            await uow.commit()

    async def paused(self, guild_id: int, member_id: int) -> str | None:
        """Why this member gets no reminders now, if they don't."""
        async with self._db.unit() as uow:
            member = await uow.guilds.get_member(guild_id, member_id)
        return self._pause(member, self._clock.now())

    @staticmethod
    def _pause(member: GuildMember | None, now: datetime) -> str | None:
        if member is None:
            return None
        if not member.reminders_enabled:
            return "reminders off"
        if member.away_until is not None and member.away_until > now:
            return "away"
        return None

    # -- member control ----------------------------------------------------------------------------

    async def set_reminders(self, actor: Actor, enabled: bool) -> None:
        async with self._db.unit() as uow:
            await uow.guilds.touch_member(actor.guild_id, actor.member_id, self._clock.now())
            member = await uow.guilds.get_member(actor.guild_id, actor.member_id)
            assert member is not None
            member.reminders_enabled = enabled
            await uow.commit()

    async def set_away(self, actor: Actor, until: datetime | None) -> None:
        async with self._db.unit() as uow:
            await uow.guilds.touch_member(actor.guild_id, actor.member_id, self._clock.now())
            member = await uow.guilds.get_member(actor.guild_id, actor.member_id)
            assert member is not None
            member.away_until = until
            await uow.commit()
