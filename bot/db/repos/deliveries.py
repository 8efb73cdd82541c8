"""The delivery log (the outbox of notices) and the sweep's questions about due work."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from bot.db import dialect
from bot.db.models import Delivery
from bot.db.queries import sweep
from bot.db.queries.common import owned_by
from bot.db.repos.base import Repo, rowcount
from bot.domain.shards import Shards


@dataclass(frozen=True, slots=True)
class Notice:
    """A delivery to enqueue: `kind` about `task_id`, to `member_id` (0: the channel)."""

    guild_id: int
    kind: str
    task_id: int
    member_id: int
    due_at: datetime
    created_at: datetime

    def values(self) -> dict[str, object]:
        return {
            "guild_id": self.guild_id,
            "kind": self.kind,
            "task_id": self.task_id,
            "member_id": self.member_id,
            "due_at": self.due_at,
            "created_at": self.created_at,
        }


@functools.cache
def _enqueue_statement(name: str) -> sa.Insert:
    table = Delivery.__table__  # type: ignore[attr-defined]
    insert = dialect.insert(name, table)
    return insert.on_conflict_do_nothing(index_elements=["kind", "task_id", "member_id", "due_at"])


class DeliveryRepo(Repo):
    __slots__ = ()

    async def enqueue(self, notices: Sequence[Notice]) -> None:
        """Add deliveries to the log; a key already there is left as it is. One statement,
        compiled once, run for all the rows (a multi-row VALUES would be built and
        compiled anew for each batch: ~0.4 ms a row in SQLAlchemy)."""
        if notices:
            rows = [n.values() for n in notices]
            await self.session.execute(_enqueue_statement(self.dialect), rows)

    async def due_notices(
        self,
        now: datetime,
        after: datetime,
        until: datetime,
        limit: int,
        shards: Shards | None = None,
    ) -> Sequence[tuple[int, int, int, datetime, str]]:
        """(guild, task, claimant, due_at, kind) of due-date notices not enqueued yet."""
        stmt = sweep.due_notices_query(now, after, until, limit, shards)
        rows = (await self.session.execute(stmt)).all()
        return [(g, int(t or 0), m, d, k) for g, t, m, d, k in rows if d is not None]

    async def claimant_notices(
        self,
        read: sweep.ClaimantNotices,
        now: datetime,
        limit: int,
        shards: Shards | None = None,
    ) -> Sequence[tuple[int, int, int, datetime]]:
        """(guild, task, claimant, at) of `read`'s notices not enqueued yet."""
        bounds = read.bounds(now)
        stmt = sweep.claimant_notices_query(read, bounds["since"], bounds["until"], limit, shards)
        rows = (await self.session.execute(stmt)).all()
        return [(g, int(t or 0), m, at) for g, t, m, at in rows if at is not None]

    async def sweep_work(
        self, reads: sweep.Reads, now: datetime, shards: Shards | None = None
    ) -> frozenset[str]:
        """The names of `reads` (and sweep.DELIVERIES) that would find something: one
        statement, built from the reminder registry's list of reads."""
        generic = dialect.generic_plan_statement(self.dialect)
        if generic is not None:
            # One plan for any times, made once per connection: planning this statement
            # each minute (~1.5 ms) costs more than running it (~0.2 ms). That plan reads
            # the same indexes (test_sweep_plan.py checks both). Ends with the transaction.
            await self.session.execute(sa.text(generic))
        stmt, params = sweep.sweep_has_work_query(reads, now, shards)
        return frozenset((await self.session.execute(stmt, params)).scalars())

    async def pending_deliveries(
        self, now: datetime, limit: int, shards: Shards | None = None
    ) -> Sequence[Delivery]:
        stmt = sweep.pending_deliveries_query(now, limit, shards)
        return (await self.session.scalars(stmt)).all()

    async def lease_delivery(self, delivery_id: int, now: datetime, until: datetime) -> bool:
        stmt = (
            sa.update(Delivery)
            .where(_pending_and_free(delivery_id, now))
            .values(lease_until=until, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    async def give_up(self, delivery_id: int, now: datetime, why: str) -> bool:
        """Mark a pending delivery whose lease is free a dead letter ('failed')."""
        stmt = (
            sa.update(Delivery)
            .where(_pending_and_free(delivery_id, now))
            .values(status="failed", lease_until=None, last_error=why)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    async def dead_count(self, guild_id: int) -> int:
        """How many of the guild's deliveries are dead letters."""
        stmt = sa.select(sa.func.count()).where(
            col(Delivery.guild_id) == guild_id, col(Delivery.status) == "failed"
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def finish_delivery(
        self,
        delivery_id: int,
        *,
        status: str | None = None,
        sent_at: datetime | None = None,
        via: str | None = None,
        last_error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Free the delivery's lease and write what is given (None: left as it is)."""
        given = {
            "status": status,
            "sent_at": sent_at,
            "via": via,
            "last_error": last_error,
            "next_attempt_at": next_attempt_at,
        }
        values = {key: value for key, value in given.items() if value is not None}
        stmt = (
            sa.update(Delivery)
            .where(col(Delivery.id) == delivery_id)
            .values(lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def counts(self, shards: Shards | None = None) -> list[tuple[str, str, int]]:
        """How many deliveries of the guilds of `shards` (None: every guild) there are of
        each kind in each status (the operator's view)."""
        kind, status = col(Delivery.kind), col(Delivery.status)
        stmt = (
            sa.select(kind, status, sa.func.count())
            .where(owned_by(col(Delivery.guild_id), shards))
            .group_by(kind, status)
        )
        return [(k, s, int(n)) for k, s, n in (await self.session.execute(stmt)).all()]


def _pending_and_free(delivery_id: int, now: datetime) -> sa.ColumnElement[bool]:
    """The delivery is still pending and nobody holds its lease."""
    return sa.and_(
        col(Delivery.id) == delivery_id,
        col(Delivery.status) == "pending",
        sa.or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) <= now),
    )
