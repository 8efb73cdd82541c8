"""Cards the board owes an update: the per-task mark (`card_dirty_since`) that every
change altering a card sets in its own transaction, read and cleared by card repair."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col

from bot.db.models import GuildSettings, Task, ThreadLine
from bot.db.queries import sweep
from bot.db.queries.common import owned_by
from bot.db.repos.base import Repo, rowcount
from bot.domain.shards import Shards


def card_mark(now: datetime, grace: timedelta) -> dict[str, object]:
    """The columns that mark a task's card as owed an update, first repaired at
    `now + grace` (the interaction that made the change tries the edit itself first)."""
    return {
        "card_dirty_since": now,
        "card_attempts": 0,
        "card_next_attempt_at": now + grace,
    }


class CardRepo(Repo):
    __slots__ = ()

    async def mark_cards(
        self, guild_id: int, numbers: Sequence[int], mark: dict[str, object]
    ) -> None:
        """Mark the cards of other tasks a change alters (those it unblocks)."""
        if not numbers:
            return
        stmt = (
            sa.update(Task)
            .where(col(Task.guild_id) == guild_id, col(Task.number).in_(numbers))
            .where(col(Task.card_message_id).is_not(None))
            .values(**mark)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def mark_if_changed(
        self, guild_id: int, number: int, shown: int, mark: dict[str, object]
    ) -> None:
        """Mark the task's card if the task changed since the version `shown` (and is not
        marked already)."""
        stmt = (
            sa.update(Task)
            .where(col(Task.guild_id) == guild_id, col(Task.number) == number)
            .where(col(Task.version) != shown, col(Task.card_dirty_since).is_(None))
            .values(**mark)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def owe_line(self, line: ThreadLine) -> None:
        self.session.add(line)
        await self.session.flush()

    async def lines_due(
        self, now: datetime, limit: int, shards: Shards | None = None
    ) -> Sequence[ThreadLine]:
        """Thread lines due for a try, oldest first (in the order they were written)."""
        stmt = sweep.thread_lines_due_query(now, limit, shards)
        return (await self.session.execute(stmt)).scalars().all()

    async def line_posted(self, line_id: int) -> None:
        await self.session.execute(sa.delete(ThreadLine).where(col(ThreadLine.id) == line_id))

    async def line_failed(self, line: ThreadLine, attempts: int, next_at: datetime | None) -> None:
        """The line waits (None: given up), and the later lines of its thread with it, so
        the thread gets them in order."""
        assert line.id is not None
        await self.session.execute(
            sa.update(ThreadLine)
            .where(col(ThreadLine.id) == line.id)
            .values(attempts=attempts, next_attempt_at=next_at)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(
            sa.update(ThreadLine)
            .where(col(ThreadLine.thread_id) == line.thread_id, col(ThreadLine.id) > line.id)
            .where(col(ThreadLine.next_attempt_at).is_not(None))
            .values(next_attempt_at=next_at)
            .execution_options(synchronize_session=False)
        )

    async def line_by_id(self, line_id: int) -> ThreadLine | None:
        return await self.session.get(ThreadLine, line_id)

    async def cards_to_repair(
        self, now: datetime, limit: int, shards: Shards | None = None
    ) -> Sequence[Task]:
        """Tasks whose card is marked and due for a try, oldest mark first."""
        stmt = sweep.cards_to_repair_query(now, limit, shards)
        return (await self.session.execute(stmt)).scalars().all()

    async def card_shown(self, guild_id: int, number: int, version: int) -> bool:
        """Clear the mark, if the card now shows the task at `version` (a change since
        leaves it marked, so the newest state is sent next)."""
        stmt = (
            sa.update(Task)
            .where(col(Task.guild_id) == guild_id, col(Task.number) == number)
            .where(col(Task.version) == version)
            .where(col(Task.card_dirty_since).is_not(None))
            .values(card_dirty_since=None, card_attempts=0, card_next_attempt_at=None)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    async def lease_card(self, task_id: int, seen: datetime, until: datetime) -> bool:
        """Take the card's repair (its next try moved to `until`) if nobody took it since
        it was read due at `seen`: two sweeps never repair (or re-post) one card at once."""
        stmt = (
            sa.update(Task)
            .where(col(Task.id) == task_id, col(Task.card_next_attempt_at) == seen)
            .values(card_next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    async def lease_line(self, line_id: int, seen: datetime, until: datetime) -> bool:
        stmt = (
            sa.update(ThreadLine)
            .where(col(ThreadLine.id) == line_id, col(ThreadLine.next_attempt_at) == seen)
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    async def card_failed(self, task_id: int, attempts: int, next_at: datetime) -> None:
        stmt = (
            sa.update(Task)
            .where(col(Task.id) == task_id, col(Task.card_dirty_since).is_not(None))
            .values(card_attempts=attempts, card_next_attempt_at=next_at)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def cards_stuck(self, guild_id: int, attempts: int) -> int:
        """The guild's cards marked and failed at least `attempts` times."""
        stmt = (
            sa.select(sa.func.count())
            .select_from(Task)
            .where(col(Task.guild_id) == guild_id, col(Task.card_dirty_since).is_not(None))
            .where(col(Task.card_attempts) >= attempts)
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def cards_pending(self, shards: Shards | None = None) -> int:
        stmt = (
            sa.select(sa.func.count())
            .select_from(Task)
            .where(col(Task.card_dirty_since).is_not(None), owned_by(col(Task.guild_id), shards))
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def set_problem(self, guild_id: int, at: datetime | None) -> bool:
        """Record (or, with None, clear) that maintainers were told the cards can't be
        updated; whether it changed anything."""
        told = col(GuildSettings.cards_problem_at)
        stmt = (
            sa.update(GuildSettings)
            .where(col(GuildSettings.guild_id) == guild_id)
            .where(told.is_(None) if at is not None else told.is_not(None))
            .values(cards_problem_at=at)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    async def problem_told(self, guild_id: int) -> bool:
        stmt = sa.select(col(GuildSettings.cards_problem_at)).where(
            col(GuildSettings.guild_id) == guild_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None
