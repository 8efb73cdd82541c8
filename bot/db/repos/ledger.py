"""The ledger (credits for tasks and reviews, kudos), the scores kept from it, and the
milestone roles those scores reach."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from bot.db import dialect
from bot.db.models import LedgerEntry, MemberScore, Milestone, MilestoneGrant
from bot.db.queries import board, ledger
from bot.db.queries.common import SCORE_COLUMNS
from bot.db.repos.base import Repo

_CREDIT = (
    "guild_id",
    "member_id",
    "kind",
    "points",
    "task_id",
    "review_id",
    "giver_id",
    "reason",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class Credit:
    """A ledger row: `kind` (task, review, kudos) for `member_id`."""

    guild_id: int
    member_id: int
    kind: str
    points: int
    created_at: datetime
    task_id: int | None = None
    review_id: int | None = None
    giver_id: int | None = None
    reason: str = ""

    def values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _CREDIT}


@functools.cache
def _insert_credit() -> sa.Insert:
    return board.insert_template(LedgerEntry.__table__, _CREDIT)  # type: ignore[attr-defined]


@functools.cache
def _refresh_score_statement(name: str) -> sa.Insert:
    """Upsert a member's all-time totals (member_scores) from their ledger rows."""
    table = MemberScore.__table__  # type: ignore[attr-defined]
    stmt = dialect.insert(name, table).from_select(
        [*SCORE_COLUMNS, "guild_id", "member_id"], ledger.score_totals_select()
    )
    excluded = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["guild_id", "member_id"],
        set_={name: excluded[name] for name in SCORE_COLUMNS},
    )


class LedgerRepo(Repo):
    __slots__ = ()

    async def member_totals(self, guild_id: int, member_id: int) -> tuple[int, int, int, int]:
        """(points, tasks done, reviews given, kudos received), from the ledger only."""
        stmt, params = ledger.member_totals_query(guild_id, member_id)
        row = (await self.session.execute(stmt, params)).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def done_task_count(self, guild_id: int, member_id: int) -> int:
        stmt, params = board.done_task_count_query(guild_id, member_id)
        return int((await self.session.execute(stmt, params)).scalar_one())

    async def profile_figures(
        self, guild_id: int, member_id: int
    ) -> tuple[int, int, int, int, int, bool]:
        stmt, params = ledger.profile_figures_query(guild_id, member_id)
        points, done, reviews, kudos, held, visible = (
            await self.session.execute(stmt, params)
        ).one()
        return int(points), int(done), int(reviews), int(kudos), int(held), bool(visible)

    async def credit_times(
        self, guild_id: int, member_id: int, since: datetime
    ) -> Sequence[datetime]:
        stmt, params = ledger.credit_times_query(guild_id, member_id, since)
        return (await self.session.execute(stmt, params)).scalars().all()

    async def leaderboard(
        self,
        guild_id: int,
        since: datetime | None,
        by: str,
        limit: int,
        until: datetime | None = None,
    ) -> Sequence[tuple[int, int]]:
        """(member, score) best first; members who hid themselves are left out."""
        stmt, params = ledger.leaderboard_query(guild_id, since, by, limit, until)
        return [(int(m), int(sc)) for m, sc in (await self.session.execute(stmt, params)).all()]

    async def kudos_given_since(self, guild_id: int, giver_id: int, since: datetime) -> int:
        stmt, params = ledger.kudos_given_since_query(guild_id, giver_id, since)
        return int((await self.session.execute(stmt, params)).scalar_one())

    async def task_credits(self, task_id: int) -> list[tuple[int, str]]:
        """(member, kind) of each credit a task already gave."""
        stmt = sa.select(col(LedgerEntry.member_id), col(LedgerEntry.kind)).where(
            col(LedgerEntry.task_id) == task_id
        )
        return [(m, k) for m, k in (await self.session.execute(stmt)).all()]

    async def add_credits(self, credits: Sequence[Credit]) -> None:
        """Append ledger rows and bring the credited members' all-time totals (member_scores)
        up to date from their ledger rows, in the same transaction."""
        if not credits:
            return
        await self.session.execute(_insert_credit(), [c.values() for c in credits])
        refresh = _refresh_score_statement(self.dialect)
        for guild_id, member_id in dict.fromkeys((c.guild_id, c.member_id) for c in credits):
            await self.session.execute(refresh, {"guild_id": guild_id, "member_id": member_id})

    # -- milestone roles -------------------------------------------------------------------

    async def milestones(self, guild_id: int) -> Sequence[Milestone]:
        stmt = (
            sa.select(Milestone)
            .where(col(Milestone.guild_id) == guild_id)
            .order_by(col(Milestone.points))
        )
        return (await self.session.scalars(stmt)).all()

    def add_milestone(self, guild_id: int, points: int, role_id: int) -> None:
        self.session.add(Milestone(guild_id=guild_id, points=points, role_id=role_id))

    async def remove_milestone(self, milestone: Milestone) -> None:
        await self.session.delete(milestone)

    @staticmethod
    def set_milestone_role(milestone: Milestone, role_id: int) -> None:
        """Written with the unit of work's commit."""
        milestone.role_id = role_id

    @staticmethod
    def note_milestone_problem(milestone: Milestone, now: datetime) -> bool:
        """Remember when maintainers were first told a milestone's role can't be given;
        True when this is that first time (written with the unit of work's commit)."""
        if milestone.problem_noticed_at is not None:
            return False
        milestone.problem_noticed_at = now
        return True

    async def milestone_grants(self, guild_id: int, member_id: int) -> set[int]:
        stmt = sa.select(col(MilestoneGrant.points)).where(
            col(MilestoneGrant.guild_id) == guild_id, col(MilestoneGrant.member_id) == member_id
        )
        return set((await self.session.execute(stmt)).scalars().all())

    def add_grant(
        self,
        *,
        guild_id: int,
        member_id: int,
        points: int,
        role_id: int,
        granted: bool,
        created_at: datetime,
    ) -> None:
        """The outcome of giving a milestone's role (granted, or refused by Discord)."""
        self.session.add(
            MilestoneGrant(
                guild_id=guild_id,
                member_id=member_id,
                points=points,
                role_id=role_id,
                status="granted" if granted else "refused",
                created_at=created_at,
            )
        )
