"""Reviews, submissions and proposal votes of tasks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from bot.db.models import ProposalVote, Review, Submission
from bot.db.queries import board
from bot.db.repos.base import Repo


class ReviewRepo(Repo):
    __slots__ = ()

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

    async def approvals(self, task_ids: Sequence[int]) -> dict[int, int]:
        """Approvals in each task's current review round (tasks with none left out)."""
        if not task_ids:
            return {}
        stmt, params = board.approvals_query(task_ids)
        rows = (await self.session.execute(stmt, params)).all()
        return {task_id: int(n) for task_id, n in rows}

    async def latest_submission(self, task_id: int) -> Submission | None:
        stmt, params = board.latest_submission_query(task_id)
        return (await self.session.scalars(stmt, params)).first()

    async def votes(self, task_id: int) -> Sequence[ProposalVote]:
        stmt = sa.select(ProposalVote).where(col(ProposalVote.task_id) == task_id)
        return (await self.session.scalars(stmt)).all()

    async def vote_counts(self, task_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(endorsements, objections) of each proposal (proposals with no vote left out)."""
        if not task_ids:
            return {}
        stmt, params = board.vote_counts_query(task_ids)
        rows = (await self.session.execute(stmt, params)).all()
        return {task_id: (int(e), int(o)) for task_id, e, o in rows}

    # -- writes (sent with the unit of work's next flush) --------------------------------------

    def add_review(
        self,
        *,
        task_id: int,
        guild_id: int,
        reviewer_id: int,
        round_: int,
        verdict: str,
        comment: str,
        created_at: datetime,
        credited: bool = False,
    ) -> None:
        """`credited`: a review that earns nothing (GitHub's merge, by nobody linked)."""
        self.session.add(
            Review(
                credited=credited,
                task_id=task_id,
                guild_id=guild_id,
                reviewer_id=reviewer_id,
                round=round_,
                verdict=verdict,
                comment=comment,
                created_at=created_at,
            )
        )

    async def mark_reviews_credited(self, review_ids: Sequence[int]) -> None:
        if review_ids:
            await self.session.execute(
                sa.update(Review)
                .where(col(Review.id).in_(review_ids))
                .values(credited=True)
                .execution_options(synchronize_session=False)
            )

    def add_submission(
        self,
        *,
        task_id: int,
        guild_id: int,
        member_id: int,
        round_: int,
        link: str,
        notes: str,
        created_at: datetime,
    ) -> None:
        self.session.add(
            Submission(
                task_id=task_id,
                guild_id=guild_id,
                member_id=member_id,
                round=round_,
                link=link,
                notes=notes,
                created_at=created_at,
            )
        )

    def add_vote(
        self,
        *,
        task_id: int,
        guild_id: int,
        member_id: int,
        kind: str,
        created_at: datetime,
        reason: str = "",
    ) -> None:
        self.session.add(
            ProposalVote(
                task_id=task_id,
                guild_id=guild_id,
                member_id=member_id,
                kind=kind,
                reason=reason,
                created_at=created_at,
            )
        )
