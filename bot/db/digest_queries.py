"""All SQL of the weekly digest: the week's ledger and history, the board as it stands,
and the digest_posts log that makes each week's post happen once. Reads and writes
within the caller's unit of work; never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from bot.db.models import (
    ClaimRow,
    DigestPost,
    GuildMember,
    GuildSettings,
    LedgerEntry,
    Task,
    TaskHistory,
)

FINISHED = ("done", "cancelled")


def _inline(ids: Sequence[int]) -> Any:
    """A long list of ids written into the SQL, not sent as thousands of parameters: with
    parameters, PostgreSQL switches a prepared statement to a generic plan after a few
    runs, and for IN ($4, …, $2500) that plan tests every row against the whole list
    (measured: 10 s instead of 0.1 s for 2,500 members on a 100,000-task board)."""
    return sa.bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True)


class DigestQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: Any) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)

    @staticmethod
    def _rowcount(result: Any) -> int:
        return int(result.rowcount)

    # -- settings ---------------------------------------------------------------------------------

    async def guild(self, guild_id: int) -> GuildSettings | None:
        return await self.session.get(GuildSettings, guild_id)

    async def enabled_guilds(self, guild_ids: frozenset[int] | None) -> Sequence[GuildSettings]:
        stmt = sa.select(GuildSettings).where(col(GuildSettings.digest_enabled).is_(True))
        if guild_ids is not None:
            stmt = stmt.where(col(GuildSettings.guild_id).in_(guild_ids))
        return (await self.session.scalars(stmt.order_by(col(GuildSettings.guild_id)))).all()

    # -- the week's facts ----------------------------------------------------------------------

    async def done_events(
        self, guild_id: int, start: datetime, end: datetime
    ) -> Sequence[tuple[int, datetime]]:
        """(task id, when) of every move to done in [start, end)."""
        stmt = (
            sa.select(col(TaskHistory.task_id), col(TaskHistory.created_at))
            .where(
                col(TaskHistory.guild_id) == guild_id,
                col(TaskHistory.to_status) == "done",
                col(TaskHistory.created_at) >= start,
                col(TaskHistory.created_at) < end,
            )
            .order_by(col(TaskHistory.created_at), col(TaskHistory.id))
        )
        return [(t, at) for t, at in (await self.session.execute(stmt)).all()]

    async def ledger(self, guild_id: int, start: datetime, end: datetime) -> Sequence[LedgerEntry]:
        stmt = (
            sa.select(LedgerEntry)
            .where(
                col(LedgerEntry.guild_id) == guild_id,
                col(LedgerEntry.created_at) >= start,
                col(LedgerEntry.created_at) < end,
            )
            .order_by(col(LedgerEntry.created_at), col(LedgerEntry.id))
        )
        return (await self.session.scalars(stmt)).all()

    async def first_task_credits(
        self, guild_id: int, start: datetime, end: datetime
    ) -> dict[int, datetime]:
        """Members whose first accepted task ever falls in [start, end), with its time."""
        first = sa.func.min(col(LedgerEntry.created_at))
        stmt = (
            sa.select(col(LedgerEntry.member_id), first)
            .where(col(LedgerEntry.guild_id) == guild_id, col(LedgerEntry.kind) == "task")
            .group_by(col(LedgerEntry.member_id))
            .having(sa.and_(first >= start, first < end))
        )
        rows = (await self.session.execute(stmt)).all()
        return {int(m): _as_utc(t) for m, t in rows}

    async def credit_times(
        self, guild_id: int, member_ids: Sequence[int], since: datetime, until: datetime
    ) -> dict[int, list[datetime]]:
        if not member_ids:
            return {}
        stmt = sa.select(col(LedgerEntry.member_id), col(LedgerEntry.created_at)).where(
            col(LedgerEntry.guild_id) == guild_id,
            col(LedgerEntry.member_id).in_(_inline(member_ids)),
            col(LedgerEntry.kind).in_(("task", "review")),
            col(LedgerEntry.created_at) >= since,
            col(LedgerEntry.created_at) < until,
        )
        found: dict[int, list[datetime]] = {}
        for member, at in (await self.session.execute(stmt)).all():
            found.setdefault(int(member), []).append(at)
        return found

    async def hidden_members(self, guild_id: int) -> frozenset[int]:
        stmt = sa.select(col(GuildMember.member_id)).where(
            col(GuildMember.guild_id) == guild_id, col(GuildMember.ranking_visible).is_(False)
        )
        return frozenset(int(m) for m in (await self.session.execute(stmt)).scalars().all())

    async def tasks_by_ids(self, guild_id: int, ids: Sequence[int]) -> Sequence[Task]:
        if not ids:
            return []
        stmt = sa.select(Task).where(col(Task.guild_id) == guild_id, col(Task.id).in_(_inline(ids)))
        return (await self.session.scalars(stmt)).all()

    # -- the board as it stands -------------------------------------------------------------------

    def _claimable(self, guild_id: int) -> Any:
        """Open tasks not waiting on an unfinished blocker."""
        blocker = aliased(Task)
        blocked = (
            sa.select(col(blocker.id))
            .where(col(blocker.id) == col(Task.blocked_by_id), col(blocker.status).not_in(FINISHED))
            .exists()
        )
        return sa.and_(col(Task.guild_id) == guild_id, col(Task.status) == "open", ~blocked)

    async def _first_and_total(
        self, where: Any, order: Sequence[Any], limit: int
    ) -> tuple[Sequence[Task], int]:
        """The first `limit` tasks matching `where`, and how many match in all."""
        stmt = sa.select(Task).where(where).order_by(*order).limit(limit)
        total = sa.select(sa.func.count()).select_from(Task).where(where)
        return (
            (await self.session.scalars(stmt)).all(),
            int((await self.session.execute(total)).scalar_one()),
        )

    async def oldest_open(self, guild_id: int, limit: int) -> tuple[Sequence[Task], int]:
        order = (col(Task.created_at), col(Task.number))
        return await self._first_and_total(self._claimable(guild_id), order, limit)

    async def good_first(self, guild_id: int, tags: Sequence[str], limit: int) -> Sequence[Task]:
        # Tags are stored as ",a,b," (see repository.tags_to_column): one exact LIKE per tag.
        any_tag = sa.or_(*(col(Task.tags).contains(f",{t},", autoescape=True) for t in tags))
        stmt = (
            sa.select(Task)
            .where(self._claimable(guild_id), any_tag)
            .order_by(col(Task.created_at), col(Task.number))
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def in_review(self, guild_id: int, limit: int) -> tuple[Sequence[Task], int]:
        where = sa.and_(col(Task.guild_id) == guild_id, col(Task.status) == "in_review")
        order = (col(Task.status_changed_at), col(Task.number))
        return await self._first_and_total(where, order, limit)

    async def unclaimed_since(
        self, guild_id: int, cutoff: datetime, limit: int
    ) -> tuple[Sequence[Task], int]:
        """Open tasks, open since `cutoff` or earlier, that nobody has claimed since then."""
        claimed = (
            sa.select(col(ClaimRow.id))
            .where(
                col(ClaimRow.task_id) == col(Task.id),
                sa.or_(col(ClaimRow.ended_at).is_(None), col(ClaimRow.claimed_at) > cutoff),
            )
            .exists()
        )
        where = sa.and_(
            col(Task.guild_id) == guild_id,
            col(Task.status) == "open",
            col(Task.status_changed_at) <= cutoff,
            ~claimed,
        )
        stmt = (
            sa.select(Task)
            .where(where)
            .order_by(col(Task.status_changed_at), col(Task.number))
            .limit(limit)
        )
        total = sa.select(sa.func.count()).select_from(Task).where(where)
        return (
            (await self.session.scalars(stmt)).all(),
            int((await self.session.execute(total)).scalar_one()),
        )

    # -- the posts log: one row per guild and week ----------------------------------------------

    async def post(self, guild_id: int, week_start: datetime) -> DigestPost | None:
        stmt = (
            sa.select(DigestPost)
            .where(col(DigestPost.guild_id) == guild_id, col(DigestPost.week_start) == week_start)
            # Rows changed by the bulk UPDATEs below must be read again.
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).first()

    async def posts_between(
        self, guild_ids: Sequence[int], start: datetime, end: datetime
    ) -> Sequence[DigestPost]:
        if not guild_ids:
            return []
        stmt = sa.select(DigestPost).where(
            col(DigestPost.guild_id).in_(guild_ids),
            col(DigestPost.week_start) >= start,
            col(DigestPost.week_start) <= end,
        )
        return (await self.session.scalars(stmt)).all()

    async def add_post(self, guild_id: int, week_start: datetime, now: datetime) -> None:
        """Insert the week's row if it is not there yet; an existing row is left as it is."""
        stmt = self._insert(DigestPost).values(
            guild_id=guild_id, week_start=week_start, status="pending", created_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=["guild_id", "week_start"])
        )

    async def lease_post(
        self,
        guild_id: int,
        week_start: datetime,
        now: datetime,
        until: datetime,
        *,
        manual: bool,
    ) -> bool:
        """Take the row for posting. A free pending row, or a failed one whose retry time has
        come; a maintainer's /digest post may also take a failed or skipped one at once."""
        free = sa.or_(col(DigestPost.lease_until).is_(None), col(DigestPost.lease_until) <= now)
        takeable = sa.and_(col(DigestPost.status).in_(("pending", "failed")), free)
        if manual:
            takeable = sa.or_(takeable, col(DigestPost.status).in_(("failed", "skipped")))
        stmt = (
            sa.update(DigestPost)
            .where(
                col(DigestPost.guild_id) == guild_id,
                col(DigestPost.week_start) == week_start,
                takeable,
            )
            .values(status="pending", lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return self._rowcount(await self.session.execute(stmt)) == 1

    async def finish_post(
        self, guild_id: int, week_start: datetime, *, only: Sequence[str], **values: Any
    ) -> bool:
        stmt = (
            sa.update(DigestPost)
            .where(
                col(DigestPost.guild_id) == guild_id,
                col(DigestPost.week_start) == week_start,
                col(DigestPost.status).in_(only),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return self._rowcount(await self.session.execute(stmt)) == 1


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
