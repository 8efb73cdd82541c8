"""Reminders (SPEC §6) through a delivery log that works as an outbox.

A sweep has two phases. *Enqueue* turns due work into delivery rows, each keyed by
(kind, task, member, due time) and written in the same transaction as whatever made
it due (a claim expiring, a warning falling due, a review going stale). *Deliver*
leases pending rows one by one, sends them through the Notifier, and records the
result. So a reminder is sent at least once (a crash after sending leaves the row
leased, and it is sent once more when the lease runs out: with the same message nonce,
which Discord deduplicates) and never twice (the key is unique, and a sent row is never
sent again), across restarts and double runs.

Every lease counts an attempt. A delivery that fails MAX_ATTEMPTS times — however it
fails, a refusal, a dropped connection, a crash that lets its lease run out — is given up
on: status 'failed', a dead letter the maintainers see in /config show.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.db.models import GuildMember
from bot.db.queries.sweep import CARDS, DELIVERIES, LINES
from bot.db.uow import Database
from bot.domain.model import CHANNEL, Actor
from bot.domain.shards import Shards
from bot.services.clock import Clock
from bot.services.reminders.kinds import KINDS, READS, SCHEDULES, Kind
from bot.services.reminders.phases import BATCH, Pass
from bot.services.tasks import TaskService

log = logging.getLogger("peerboard.reminders")

# How long a sweep holds a delivery it is sending (PEERBOARD_DELIVERY_LEASE_SECONDS): after
# a crash between sending and recording, the next sweep sends it again once it runs out.
LEASE: Final = timedelta(minutes=5)
MAX_ATTEMPTS: Final = 8


@dataclass(frozen=True, slots=True)
class Due:
    """One pending delivery, as the sweep hands it to the notifier."""

    id: int
    guild_id: int
    kind: Kind
    task_id: int
    member_id: int
    due_at: datetime
    attempts: int

    @property
    def to_member(self) -> bool:
        return self.member_id != CHANNEL


@dataclass(frozen=True, slots=True)
class EnqueueReport:
    """What each phase (kinds.SCHEDULES, by name) enqueued or changed; zero when absent,
    so an idle pass reports EnqueueReport()."""

    counts: tuple[tuple[str, int], ...] = ()

    def __getattr__(self, name: str) -> int:
        if name.startswith("_") or name not in _PHASES:
            raise AttributeError(name)
        return dict(self.counts).get(name, 0)


@dataclass(frozen=True, slots=True)
class Work:
    """What a sweep would find: the names of the phases (kinds.SCHEDULES) whose read finds
    something, "deliveries" when a delivery is pending, "cards" and "lines" when a card
    or a thread line is owed. EVERYTHING: enqueue_due, asked without it, looks at
    everything."""

    found: frozenset[str]

    @property
    def to_enqueue(self) -> bool:
        return any(name in self.found for name in _PHASES)

    @property
    def to_deliver(self) -> bool:
        """Something pending, or to enqueue (which makes deliveries)."""
        return DELIVERIES in self.found or self.to_enqueue

    @property
    def cards_owed(self) -> bool:
        return CARDS in self.found or LINES in self.found

    def __bool__(self) -> bool:
        return bool(self.found)


_PHASES: Final = frozenset(s.name for s in SCHEDULES)
EVERYTHING: Final = Work(_PHASES | {DELIVERIES})


@dataclass(frozen=True, slots=True)
class Lease:
    """A delivery taken for sending; `paused`: why its member gets no reminders now."""

    paused: str | None = None


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour, between tries of a failed delivery."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


class ReminderService:
    def __init__(
        self, db: Database, clock: Clock, tasks: TaskService, *, lease: timedelta = LEASE
    ) -> None:
        self._db = db
        self._clock = clock
        self._tasks = tasks
        self._lease = lease

    # -- phase 1: what is due becomes rows in the log ---------------------------------------

    async def has_work(self, shards: Shards | None = None) -> Work:
        """What a sweep would find to enqueue or deliver: one read, so a sweep with nothing
        due (most of them) costs one short transaction, and a busy one only the phases
        with work. It looks at exactly what the phases read (kinds.READS), in the guilds
        of `shards` (None: every guild)."""
        async with self._db.unit() as uow:
            return Work(await uow.deliveries.sweep_work(READS, self._clock.now(), shards))

    async def enqueue_due(
        self, bot_id: int, shards: Shards | None = None, work: Work = EVERYTHING
    ) -> EnqueueReport:
        """Turn what is due in the guilds of `shards` (None: every guild) into work."""
        p = Pass(self._db, self._tasks, self._clock.now(), bot_id, shards)
        counts = []
        for phase in SCHEDULES:
            if phase.name in work.found:
                count = await phase.run(p, phase.read)
                if count:
                    counts.append((phase.name, count))
        return EnqueueReport(tuple(counts))

    # -- phase 2: deliver ------------------------------------------------------------------------

    async def pending(self, limit: int = BATCH, shards: Shards | None = None) -> list[Due]:
        """The deliveries due for a try in the guilds of `shards` (None: every guild)."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            rows = await uow.deliveries.pending_deliveries(now, limit, shards)
        return [
            Due(r.id, r.guild_id, KINDS[r.kind], r.task_id, r.member_id, r.due_at, r.attempts)
            for r in rows
            if r.id is not None
        ]

    async def take(self, due: Due) -> Lease | None:
        """Take the row for one delivery, and for a notice to a member whether they paused
        their reminders, in one unit of work; None when another sweep has the row or it is
        done."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            if due.attempts >= MAX_ATTEMPTS:
                # Every lease ran out (a crash, a cancelled sweep): out of attempts.
                if await uow.deliveries.give_up(due.id, now, "out of attempts"):
                    log.error("giving up on %s for task %s", due.kind.name, due.task_id)
                    await uow.commit()
                return None
            if not await uow.deliveries.lease_delivery(due.id, now, now + self._lease):
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

    async def give_up(self, due: Due, why: str) -> None:
        """A dead letter: nobody can receive it (or it is out of attempts)."""
        await self._finish(due, status="failed", last_error=why[:500])

    async def retry_later(self, due: Due, error: str) -> bool:
        """Try again after a backoff; False when that was its last attempt (a dead
        letter now)."""
        attempts = due.attempts + 1  # the lease counted this one
        if attempts >= MAX_ATTEMPTS:
            log.error(
                "giving up on %s for task %s after %d tries: %s",
                due.kind.name,
                due.task_id,
                attempts,
                error,
            )
            await self.give_up(due, error)
            return False
        await self._finish(
            due,
            next_attempt_at=self._clock.now() + backoff(attempts),
            last_error=error[:500],
        )
        return True

    async def dead_letters(self, guild_id: int) -> int:
        """How many of the guild's notices were given up on."""
        async with self._db.read() as uow:
            return await uow.deliveries.dead_count(guild_id)

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

    async def set_away(self, actor: Actor, until: datetime | None) -> bool:
        """Away until `until` (None: back now). Returns whether the member's reminders are
        on, so that the reply promises only what will happen."""
        async with self._db.unit() as uow:
            await uow.guilds.touch_member(actor.guild_id, actor.member_id, self._clock.now())
            member = await uow.guilds.get_member(actor.guild_id, actor.member_id)
            assert member is not None
            member.away_until = until
            reminders_on = member.reminders_enabled
            await uow.commit()
        return reminders_on
