from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col

from bot.db.models import LedgerEntry, TaskHistory
from bot.db.uow import Database


async def history_count(database: Database, guild: int) -> int:
    async with database.unit() as uow:
        stmt = (
            sa.select(sa.func.count())
            .select_from(TaskHistory)
            .where(col(TaskHistory.guild_id) == guild)
        )
        return int((await uow.session.execute(stmt)).scalar_one())


async def ledger(database: Database, guild: int) -> list[tuple[int, str, int]]:
    async with database.unit() as uow:
        stmt = (
            sa.select(col(LedgerEntry.member_id), col(LedgerEntry.kind), col(LedgerEntry.points))
            .where(col(LedgerEntry.guild_id) == guild)
            .order_by(col(LedgerEntry.id))
        )
        return [(m, k, p) for m, k, p in (await uow.session.execute(stmt)).all()]
