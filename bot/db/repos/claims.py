"""Claims: who works on which task, until when; and the sweep's warnings and expiries."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from bot.db.models import ClaimRow
from bot.db.queries import board, sweep
from bot.db.repos.base import Repo
from bot.domain.change import EndedClaims, NewClaim, RenewedClaim
from bot.domain.model import ClaimEnd
from bot.domain.shards import Shards

_NEW_CLAIM = ("task_id", "guild_id", "member_id", "claimed_at", "expires_at", "warn_at")


@functools.cache
def _insert_claim() -> sa.Insert:
    return board.insert_template(ClaimRow.__table__, _NEW_CLAIM)  # type: ignore[attr-defined]


class ClaimRepo(Repo):
    __slots__ = ()

    async def active_claims(self, task_id: int) -> Sequence[ClaimRow]:
        stmt, params = board.active_claims_query(task_id)
        return (await self.session.scalars(stmt, params)).all()

    async def active_claims_for_tasks(self, task_ids: Sequence[int]) -> Sequence[ClaimRow]:
        if not task_ids:
            return []
        stmt, params = board.active_claims_for_tasks_query(task_ids)
        return (await self.session.scalars(stmt, params)).all()

    async def claim_standing(self, guild_id: int, member_id: int) -> tuple[int, int]:
        """(claims held, tasks done) in one statement: what a claim's limit depends on."""
        stmt, params = board.claim_standing_query(guild_id, member_id)
        row = (await self.session.execute(stmt, params)).one()
        return int(row[0]), int(row[1])

    async def count_held_claims(self, guild_id: int, member_id: int) -> int:
        """Claims that count against the limit: work in hand, not work waiting for review."""
        stmt, params = board.count_held_claims_query(guild_id, member_id)
        return int((await self.session.execute(stmt, params)).scalar_one())

    async def last_handoff_note(self, task_id: int) -> str | None:
        stmt, params = board.last_handoff_note_query(task_id)
        note = (await self.session.execute(stmt, params)).scalar_one_or_none()
        return note or None

    # -- writes ----------------------------------------------------------------------------

    async def insert_claim(self, guild_id: int, task_id: int, new: NewClaim) -> None:
        """A new claim, through Core: nothing in the transaction reads it back as an object."""
        params = {
            "task_id": task_id,
            "guild_id": guild_id,
            "member_id": new.member_id,
            "claimed_at": new.claimed_at,
            "expires_at": new.expires_at,
            "warn_at": new.warn_at,
        }
        await self.session.execute(_insert_claim(), params)

    async def end_claims(self, task_id: int, ended: EndedClaims) -> None:
        stmt = (
            sa.update(ClaimRow)
            .where(
                col(ClaimRow.task_id) == task_id,
                col(ClaimRow.member_id).in_(ended.members),
                col(ClaimRow.ended_at).is_(None),
            )
            .values(
                ended_at=ended.ended_at,
                end_reason=ended.reason.value,
                handoff_note=ended.handoff_note or None,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def renew_claim(self, task_id: int, renewed: RenewedClaim) -> None:
        stmt = (
            sa.update(ClaimRow)
            .where(
                col(ClaimRow.task_id) == task_id,
                col(ClaimRow.member_id) == renewed.member_id,
                col(ClaimRow.ended_at).is_(None),
            )
            .values(
                expires_at=renewed.expires_at,
                extensions=renewed.extensions,
                warn_at=renewed.warn_at,
            )
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    # -- the sweep -------------------------------------------------------------------------
    # Each batch is read and written in a few statements, whatever its size.

    async def claims_to_warn(
        self, now: datetime, limit: int, shards: Shards | None = None
    ) -> Sequence[tuple[int, int, int, int, datetime]]:
        """(claim, guild, task, member, warn_at) of the warnings due, oldest first. On
        PostgreSQL the claims are locked until the transaction ends (rows another
        transaction is changing are skipped, for the next sweep), so clear_warnings clears
        exactly the warnings read; SQLite's write transaction holds the database already."""
        stmt = sweep.claims_to_warn_query(now, limit, lock=True, shards=shards)
        rows = (await self.session.execute(stmt)).all()
        return [(int(i or 0), g, t, m, w) for i, g, t, m, w in rows if w is not None]

    async def clear_warnings(self, claim_ids: Sequence[int]) -> None:
        """Sent work leaves the warning index, so an idle sweep reads nothing."""
        if claim_ids:
            await self.session.execute(sweep.clear_warnings_statement(claim_ids))

    async def expired_claims(
        self, now: datetime, limit: int, shards: Shards | None = None
    ) -> Sequence[tuple[int, int, int, int, datetime]]:
        """(guild, task, task number, member, expires_at) of active claims past their
        window, on tasks still being worked on (work in review does not expire)."""
        rows = (await self.session.execute(sweep.expired_claims_query(now, limit, shards))).all()
        return [(g, int(t or 0), n, m, e) for g, t, n, m, e in rows]

    async def end_claims_by_id(
        self, claim_ids: Sequence[int], now: datetime, reason: ClaimEnd
    ) -> None:
        if claim_ids:
            stmt = sweep.end_claims_by_id_statement(claim_ids, now, reason.value)
            await self.session.execute(stmt)
