"""Task history: one row per action applied to a task."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa

from bot.db.models import TaskHistory
from bot.db.queries import board
from bot.db.repos.base import Repo
from bot.domain.change import HistoryEntry

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


def _values(guild_id: int, task_id: int, entry: HistoryEntry) -> dict[str, object]:
    """The row of `entry`, on task `task_id` of guild `guild_id` (in _COLUMNS' order)."""
    return {
        "guild_id": guild_id,
        "task_id": task_id,
        "actor_id": entry.actor_id,
        "action": entry.action.value,
        "from_status": entry.from_status.value if entry.from_status is not None else None,
        "to_status": entry.to_status.value,
        "note": entry.note,
        "created_at": entry.at,
    }


@functools.cache
def _insert() -> sa.Insert:
    return board.insert_template(TaskHistory.__table__, _COLUMNS)  # type: ignore[attr-defined]


class HistoryRepo(Repo):
    __slots__ = ()

    async def history(self, task_id: int, limit: int) -> Sequence[TaskHistory]:
        stmt, params = board.history_query(task_id, limit)
        return (await self.session.scalars(stmt, params)).all()

    async def add(self, guild_id: int, task_id: int, entry: HistoryEntry) -> None:
        await self.session.execute(_insert(), _values(guild_id, task_id, entry))

    async def add_many(self, entries: Sequence[tuple[int, int, HistoryEntry]]) -> None:
        """Append rows, (guild, task, entry) each (a sweep's batch of actions): one
        statement run for all of them (the driver's executemany), built and compiled once."""
        if entries:
            await self.session.execute(_insert(), [_values(g, t, e) for g, t, e in entries])
