"""All SQL lives here. Methods read or write within the caller's unit of work; none commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.db.models import (
    ClaimRow,
    Delivery,
    GuildMember,
    GuildSettings,
    LedgerEntry,
    Milestone,
    MilestoneGrant,
    ProposalVote,
    Review,
    Submission,
    Task,
    TaskHistory,
)

ACTIVE = ("open", "claimed")


def tags_to_column(tags: Sequence[str]) -> str:
    """Stored as ",a,b," so a tag filter is one exact LIKE."""
    return f",{','.join(tags)}," if tags else ""


def tags_from_column(value: str) -> tuple[str, ...]:
    return tuple(t for t in value.split(",") if t)


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        bind = self.session.get_bind()
        return bind.dialect.name

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- guild settings ----------------------------------------------------------------

    async def ensure_guild(self, guild_id: int, now: datetime) -> GuildSettings:
        stmt = self._insert(GuildSettings).values(guild_id=guild_id, created_at=now, updated_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["guild_id"]))
        settings = await self.session.get(GuildSettings, guild_id)
        assert settings is not None
        return settings

    async def get_guild(self, guild_id: int) -> GuildSettings | None:
        return await self.session.get(GuildSettings, guild_id)

    async def next_task_number(self, guild_id: int) -> int:
        stmt = (
            sa.update(GuildSettings)
            .where(col(GuildSettings.guild_id) == guild_id)
            .values(next_task_number=GuildSettings.next_task_number + 1)
            .returning(col(GuildSettings.next_task_number))
        )
        value = (await self.session.execute(stmt)).scalar_one()
        return int(value) - 1

    async def milestones(self, guild_id: int) -> Sequence[Milestone]:
        stmt = (
            sa.select(Milestone)
            .where(col(Milestone.guild_id) == guild_id)
            .order_by(col(Milestone.points))
        )
        return (await self.session.scalars(stmt)).all()

    # -- members -------------------------------------------------------------------------

    async def touch_member(self, guild_id: int, member_id: int, now: datetime) -> None:
        """Upsert and write the member's row: on PostgreSQL the row lock serialises one
        member's concurrent claims, so two claims at once cannot both pass the limit."""
        stmt = self._insert(GuildMember).values(
            guild_id=guild_id, member_id=member_id, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["guild_id", "member_id"], set_={"updated_at": now}
        )
        await self.session.execute(stmt)

    async def get_member(self, guild_id: int, member_id: int) -> GuildMember | None:
        return await self.session.get(GuildMember, (guild_id, member_id))

    # -- tasks ---------------------------------------------------------------------------

    async def task_by_number(self, guild_id: int, number: int) -> Task | None:
        stmt = sa.select(Task).where(col(Task.guild_id) == guild_id, col(Task.number) == number)
        return (await self.session.scalars(stmt)).first()

    async def task_by_id(self, task_id: int) -> Task | None:
        return await self.session.get(Task, task_id)

    async def numbers_for_ids(self, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        if not ids:
            return {}
        stmt = sa.select(col(Task.id), col(Task.number), col(Task.status)).where(
            col(Task.id).in_(ids)
        )
        return {
            int(row[0] or 0): (row[1], row[2]) for row in (await self.session.execute(stmt)).all()
        }

    def add(self, row: Any) -> None:
        self.session.add(row)

    async def flush(self) -> None:
        await self.session.flush()

    async def compare_and_set(self, task_id: int, version: int, values: dict[str, Any]) -> bool:
        """Write the task only if nobody changed it since we read `version`."""
        stmt = (
            sa.update(Task)
            .where(col(Task.id) == task_id, col(Task.version) == version)
            .values(version=version + 1, **values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(stmt)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def list_tasks(
        self,
        guild_id: int,
        statuses: Sequence[str] | None,
        tag: str | None,
        member_id: int | None,
        after_number: int,
        limit: int,
    ) -> Sequence[Task]:
        stmt = sa.select(Task).where(
            col(Task.guild_id) == guild_id, col(Task.number) > after_number
        )
        if statuses:
            stmt = stmt.where(col(Task.status).in_(statuses))
        if tag:
            stmt = stmt.where(col(Task.tags).contains(f",{tag},", autoescape=True))
        if member_id is not None:
            held = sa.select(col(ClaimRow.task_id)).where(
                col(ClaimRow.guild_id) == guild_id,
                col(ClaimRow.member_id) == member_id,
                col(ClaimRow.ended_at).is_(None),
            )
            stmt = stmt.where(col(Task.id).in_(held))
        stmt = stmt.order_by(col(Task.number)).limit(limit)
        return (await self.session.scalars(stmt)).all()

    # -- claims --------------------------------------------------------------------------

    async def active_claims(self, task_id: int) -> Sequence[ClaimRow]:
        stmt = (
            sa.select(ClaimRow)
            .where(col(ClaimRow.task_id) == task_id, col(ClaimRow.ended_at).is_(None))
            .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
        )
        return (await self.session.scalars(stmt)).all()

    async def active_claims_for_tasks(self, task_ids: Sequence[int]) -> Sequence[ClaimRow]:
        if not task_ids:
            return []
        stmt = (
            sa.select(ClaimRow)
            .where(col(ClaimRow.task_id).in_(task_ids), col(ClaimRow.ended_at).is_(None))
            .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
            # Rows changed by bulk UPDATEs in this transaction must be re-read.
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).all()

    async def count_held_claims(self, guild_id: int, member_id: int) -> int:
        """Claims that count against the limit: work in hand, not work waiting for review."""
        stmt = (
            sa.select(sa.func.count())
            .select_from(ClaimRow)
            .join(Task, col(Task.id) == col(ClaimRow.task_id))
            .where(
                col(ClaimRow.guild_id) == guild_id,
                col(ClaimRow.member_id) == member_id,
                col(ClaimRow.ended_at).is_(None),
                col(Task.status).in_(ACTIVE),
            )
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def last_handoff_note(self, task_id: int) -> str | None:
        stmt = (
            sa.select(col(ClaimRow.handoff_note))
            .where(col(ClaimRow.task_id) == task_id, col(ClaimRow.end_reason) == "released")
            .order_by(col(ClaimRow.ended_at).desc(), col(ClaimRow.id).desc())
            .limit(1)
        )
        note = (await self.session.execute(stmt)).scalar_one_or_none()
        return note or None

    async def end_claims(
        self, task_id: int, member_ids: Sequence[int], now: datetime, reason: str, note: str | None
    ) -> None:
        stmt = (
            sa.update(ClaimRow)
            .where(
                col(ClaimRow.task_id) == task_id,
                col(ClaimRow.member_id).in_(member_ids),
                col(ClaimRow.ended_at).is_(None),
            )
            .values(ended_at=now, end_reason=reason, handoff_note=note or None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def renew_claim(
        self, task_id: int, member_id: int, expires_at: datetime, extensions: int, warn_at: datetime
    ) -> None:
        stmt = (
            sa.update(ClaimRow)
            .where(
                col(ClaimRow.task_id) == task_id,
                col(ClaimRow.member_id) == member_id,
                col(ClaimRow.ended_at).is_(None),
            )
            .values(expires_at=expires_at, extensions=extensions, warn_at=warn_at)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    # -- reviews, submissions, votes -------------------------------------------------------

    async def reviews_in_round(self, task_id: int, round_: int) -> Sequence[Review]:
        stmt = sa.select(Review).where(col(Review.task_id) == task_id, col(Review.round) == round_)
        return (await self.session.scalars(stmt)).all()

    async def uncredited_reviews(self, task_id: int) -> Sequence[Review]:
        stmt = (
            sa.select(Review)
            .where(col(Review.task_id) == task_id, col(Review.credited).is_(False))
            .order_by(col(Review.id))
        )
        return (await self.session.scalars(stmt)).all()

    async def mark_reviews_credited(self, review_ids: Sequence[int]) -> None:
        if review_ids:
            await self.session.execute(
                sa.update(Review)
                .where(col(Review.id).in_(review_ids))
                .values(credited=True)
                .execution_options(synchronize_session=False)
            )

    async def latest_submission(self, task_id: int) -> Submission | None:
        stmt = (
            sa.select(Submission)
            .where(col(Submission.task_id) == task_id)
            .order_by(col(Submission.id).desc())
            .limit(1)
        )
        return (await self.session.scalars(stmt)).first()

    async def votes(self, task_id: int) -> Sequence[ProposalVote]:
        stmt = sa.select(ProposalVote).where(col(ProposalVote.task_id) == task_id)
        return (await self.session.scalars(stmt)).all()

    # -- history and ledger ----------------------------------------------------------------

    async def history(self, task_id: int, limit: int) -> Sequence[TaskHistory]:
        stmt = (
            sa.select(TaskHistory)
            .where(col(TaskHistory.task_id) == task_id)
            .order_by(col(TaskHistory.id))
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def done_task_count(self, guild_id: int, member_id: int) -> int:
        stmt = sa.select(sa.func.count(sa.distinct(col(LedgerEntry.task_id)))).where(
            col(LedgerEntry.guild_id) == guild_id,
            col(LedgerEntry.member_id) == member_id,
            col(LedgerEntry.kind) == "task",
        )
        return int((await self.session.execute(stmt)).scalar_one())

    # -- adapters' lookups -------------------------------------------------------------------

    async def suggest_tasks(
        self,
        guild_id: int,
        query: str,
        limit: int,
        statuses: Sequence[str] = ("open", "proposed", "claimed", "in_review"),
    ) -> Sequence[Task]:
        """Autocomplete: tasks by number or title (unfinished ones unless told otherwise);
        the exact number typed first, then open ones, then the newest."""
        stmt = sa.select(Task).where(col(Task.guild_id) == guild_id, col(Task.status).in_(statuses))
        text = query.strip().lstrip("#")
        order: list[Any] = []
        if text.isdigit():
            stmt = stmt.where(
                sa.or_(
                    col(Task.number) == int(text),
                    sa.cast(col(Task.number), sa.String).startswith(text),
                )
            )
            order.append(sa.case((col(Task.number) == int(text), 0), else_=1))
        elif text:
            stmt = stmt.where(col(Task.title).icontains(text, autoescape=True))
        order.append(sa.case((col(Task.status) == "open", 0), else_=1))
        stmt = stmt.order_by(*order, col(Task.number).desc()).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def tasks_in_review_for(
        self, guild_id: int, member_id: int, limit: int
    ) -> Sequence[Task]:
        """In-review tasks this member did not work on and has not reviewed this round."""
        mine = sa.select(col(ClaimRow.task_id)).where(
            col(ClaimRow.guild_id) == guild_id,
            col(ClaimRow.member_id) == member_id,
            col(ClaimRow.ended_at).is_(None),
        )
        reviewed = sa.select(col(Review.task_id)).where(
            col(Review.guild_id) == guild_id,
            col(Review.reviewer_id) == member_id,
            col(Review.round) == col(Task.review_round),
            col(Review.task_id) == col(Task.id),
        )
        stmt = (
            sa.select(Task)
            .where(
                col(Task.guild_id) == guild_id,
                col(Task.status) == "in_review",
                col(Task.id).not_in(mine),
                ~sa.exists(reviewed),
            )
            .order_by(col(Task.status_changed_at))
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def waiting_on(self, task_id: int) -> Sequence[int]:
        """Numbers of unfinished tasks blocked by this one."""
        stmt = (
            sa.select(col(Task.number))
            .where(
                col(Task.blocked_by_id) == task_id, col(Task.status).not_in(("done", "cancelled"))
            )
            .order_by(col(Task.number))
        )
        return (await self.session.execute(stmt)).scalars().all()

    # -- reminders: due work and the delivery log --------------------------------------------
    # The statements are built by the module-level functions below, so a test can EXPLAIN
    # exactly what the sweep runs.

    async def claims_to_warn(self, now: datetime, limit: int) -> Sequence[ClaimRow]:
        return (await self.session.scalars(claims_to_warn_query(now, limit))).all()

    async def clear_warning(self, claim_id: int, warn_at: datetime) -> bool:
        stmt = (
            sa.update(ClaimRow)
            .where(col(ClaimRow.id) == claim_id, col(ClaimRow.warn_at) == warn_at)
            .values(warn_at=None)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def expired_claims(
        self, now: datetime, limit: int
    ) -> Sequence[tuple[int, int, int, datetime]]:
        """(guild, task number, member, expires_at) of active claims past their window,
        on tasks still being worked on (work in review does not expire)."""
        rows = (await self.session.execute(expired_claims_query(now, limit))).all()
        return [(g, n, m, e) for g, n, m, e in rows]

    async def tasks_due_between(self, start: datetime, end: datetime, limit: int) -> Sequence[Task]:
        return (await self.session.scalars(tasks_due_between_query(start, end, limit))).all()

    async def tasks_to_nudge(self, now: datetime, limit: int) -> Sequence[Task]:
        return (await self.session.scalars(tasks_to_nudge_query(now, limit))).all()

    async def stale_proposals(self, older_than: datetime, limit: int) -> Sequence[Task]:
        return (await self.session.scalars(stale_proposals_query(older_than, limit))).all()

    async def enqueue(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add deliveries to the log; a key already there is left as it is."""
        if rows:
            stmt = self._insert(Delivery).values(list(rows))
            await self.session.execute(
                stmt.on_conflict_do_nothing(
                    index_elements=["kind", "task_id", "member_id", "due_at"]
                )
            )

    async def pending_deliveries(self, now: datetime, limit: int) -> Sequence[Delivery]:
        return (await self.session.scalars(pending_deliveries_query(now, limit))).all()

    async def lease_delivery(self, delivery_id: int, now: datetime, until: datetime) -> bool:
        stmt = (
            sa.update(Delivery)
            .where(
                col(Delivery.id) == delivery_id,
                col(Delivery.status) == "pending",
                sa.or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) <= now),
            )
            .values(lease_until=until, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def finish_delivery(self, delivery_id: int, **values: Any) -> None:
        stmt = (
            sa.update(Delivery)
            .where(col(Delivery.id) == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    # -- recognition ---------------------------------------------------------------------------

    async def member_totals(self, guild_id: int, member_id: int) -> tuple[int, int, int, int]:
        """(points, tasks done, reviews given, kudos received), from the ledger only."""
        kind = col(LedgerEntry.kind)
        stmt = sa.select(
            sa.func.coalesce(
                sa.func.sum(
                    sa.case((kind.in_(("task", "review")), col(LedgerEntry.points)), else_=0)
                ),
                0,
            ),
            sa.func.count(
                sa.distinct(sa.case((kind == "task", col(LedgerEntry.task_id)), else_=None))
            ),
            sa.func.coalesce(sa.func.sum(sa.case((kind == "review", 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((kind == "kudos", 1), else_=0)), 0),
        ).where(col(LedgerEntry.guild_id) == guild_id, col(LedgerEntry.member_id) == member_id)
        row = (await self.session.execute(stmt)).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def credit_times(
        self, guild_id: int, member_id: int, since: datetime
    ) -> Sequence[datetime]:
        stmt = sa.select(col(LedgerEntry.created_at)).where(
            col(LedgerEntry.guild_id) == guild_id,
            col(LedgerEntry.member_id) == member_id,
            col(LedgerEntry.kind).in_(("task", "review")),
            col(LedgerEntry.created_at) >= since,
        )
        return (await self.session.execute(stmt)).scalars().all()

    async def leaderboard(
        self, guild_id: int, since: datetime | None, by: str, limit: int
    ) -> Sequence[tuple[int, int]]:
        """(member, score) best first; members who hid themselves are left out."""
        kind = col(LedgerEntry.kind)
        score = {
            "points": sa.func.sum(
                sa.case((kind.in_(("task", "review")), col(LedgerEntry.points)), else_=0)
            ),
            "tasks": sa.func.count(
                sa.distinct(sa.case((kind == "task", col(LedgerEntry.task_id)), else_=None))
            ),
            "reviews": sa.func.sum(sa.case((kind == "review", 1), else_=0)),
            "kudos": sa.func.sum(sa.case((kind == "kudos", 1), else_=0)),
        }[by]
        hidden = sa.select(col(GuildMember.member_id)).where(
            col(GuildMember.guild_id) == guild_id, col(GuildMember.ranking_visible).is_(False)
        )
        stmt = sa.select(col(LedgerEntry.member_id), score.label("score")).where(
            col(LedgerEntry.guild_id) == guild_id, col(LedgerEntry.member_id).not_in(hidden)
        )
        if since is not None:
            stmt = stmt.where(col(LedgerEntry.created_at) >= since)
        stmt = (
            stmt.group_by(col(LedgerEntry.member_id))
            .having(score > 0)
            .order_by(sa.desc("score"), col(LedgerEntry.member_id))
            .limit(limit)
        )
        return [(int(m), int(s)) for m, s in (await self.session.execute(stmt)).all()]

    async def kudos_given_since(self, guild_id: int, giver_id: int, since: datetime) -> int:
        stmt = sa.select(sa.func.count()).where(
            col(LedgerEntry.guild_id) == guild_id,
            col(LedgerEntry.giver_id) == giver_id,
            col(LedgerEntry.kind) == "kudos",
            col(LedgerEntry.created_at) >= since,
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def milestone_grants(self, guild_id: int, member_id: int) -> set[int]:
        stmt = sa.select(col(MilestoneGrant.points)).where(
            col(MilestoneGrant.guild_id) == guild_id, col(MilestoneGrant.member_id) == member_id
        )
        return set((await self.session.execute(stmt)).scalars().all())


# -- the reminder sweep's reads (SPEC §6) ------------------------------------------------------
# Each runs every sweep and must stay an index range read however large the tables grow:
# tests/services/test_sweep_plan.py EXPLAINs them on SQLite and PostgreSQL.


def claims_to_warn_query(now: datetime, limit: int) -> sa.Select[ClaimRow]:
    return (
        sa.select(ClaimRow)
        .where(
            col(ClaimRow.warn_at).is_not(None),
            col(ClaimRow.ended_at).is_(None),
            col(ClaimRow.warn_at) <= now,
        )
        .order_by(col(ClaimRow.warn_at))
        .limit(limit)
    )


def expired_claims_query(now: datetime, limit: int) -> sa.Select[int, int, int, datetime]:
    return (
        sa.select(
            col(ClaimRow.guild_id),
            col(Task.number),
            col(ClaimRow.member_id),
            col(ClaimRow.expires_at),
        )
        .join(Task, col(Task.id) == col(ClaimRow.task_id))
        .where(
            col(ClaimRow.ended_at).is_(None),
            col(ClaimRow.expires_at) <= now,
            col(Task.status).in_(ACTIVE),
        )
        .order_by(col(ClaimRow.expires_at))
        .limit(limit)
    )


def tasks_due_between_query(start: datetime, end: datetime, limit: int) -> sa.Select[Task]:
    return (
        sa.select(Task)
        .where(
            col(Task.due_at).is_not(None),
            col(Task.due_at) > start,
            col(Task.due_at) <= end,
            col(Task.status).in_(ACTIVE),
        )
        .order_by(col(Task.due_at))
        .limit(limit)
    )


def tasks_to_nudge_query(now: datetime, limit: int) -> sa.Select[Task]:
    return (
        sa.select(Task)
        .where(col(Task.next_nudge_at).is_not(None), col(Task.next_nudge_at) <= now)
        .order_by(col(Task.next_nudge_at))
        .limit(limit)
    )


def stale_proposals_query(older_than: datetime, limit: int) -> sa.Select[Task]:
    """Proposals old enough for lazy consensus. An objected one waits for a maintainer:
    left in, the oldest of them would fill every batch and no other proposal would open."""
    objected = sa.select(col(ProposalVote.id)).where(
        col(ProposalVote.task_id) == col(Task.id), col(ProposalVote.kind) == "object"
    )
    return (
        sa.select(Task)
        .where(
            col(Task.status) == "proposed",
            col(Task.status_changed_at) <= older_than,
            ~sa.exists(objected),
        )
        .order_by(col(Task.status_changed_at))
        .limit(limit)
    )


def pending_deliveries_query(now: datetime, limit: int) -> sa.Select[Delivery]:
    return (
        sa.select(Delivery)
        .where(
            col(Delivery.status) == "pending",
            sa.or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
        )
        .order_by(col(Delivery.due_at), col(Delivery.id))
        .limit(limit)
    )
