"""Task history: one row per action applied to a task."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.db.models import TaskHistory
from bot.db.queries import board
from bot.db.repos.base import Repo

_COLUMNS = (
    "guild_id",
    "task_id",
    "actor_id",
    "action",
    "from_status",
    "to_status",
    "note",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    guild_id: int
    task_id: int
    actor_id: int
    action: str
    from_status: str | None
    to_status: str
    note: str
    created_at: datetime

    def values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in _COLUMNS}


@functools.cache
def _insert() -> sa.Insert:
    return board.insert_template(TaskHistory.__table__, _COLUMNS)  # type: ignore[attr-defined]


class HistoryRepo(Repo):
    __slots__ = ()

    async def history(self, task_id: int, limit: int) -> Sequence[TaskHistory]:
        stmt, params = board.history_query(task_id, limit)
        return (await self.session.scalars(stmt, params)).all()

    async def add(self, entry: HistoryEntry) -> None:
        await self.session.execute(_insert(), entry.values())

    async def add_many(self, entries: Sequence[HistoryEntry]) -> None:
        """Append rows (a sweep's batch of actions): one statement run for all of them (the
        driver's executemany), built and compiled once."""
        if entries:
            await self.session.execute(_insert(), [e.values() for e in entries])
