"""Cards stay in step with the database.

Every change that alters a task's card marks the task in the same transaction
(`card_dirty_since`, see the writer). The interaction that made the change edits the
card at once and clears the mark; what Discord refused is repaired by the sweep
(`bot.jobs.sweep.repair_cards`) from the task as it stands now, so ten changes while
edits fail are one edit once Discord answers again, and a restart loses nothing (the
mark is a column). The `CardPublisher` port is implemented with Discord in bot/ui.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Protocol

from bot.db.models import ThreadLine
from bot.db.uow import Database
from bot.domain.errors import DomainError
from bot.domain.shards import Shards
from bot.services.clock import Clock
from bot.services.config import GuildConfig
from bot.services.tasks import TaskService
from bot.services.views import TaskView

BATCH: Final = 100  # cards repaired per sweep at most
# How long a sweep holds a card (or a line) it took; a crash mid-repair frees it then.
LEASE: Final = timedelta(minutes=5)
# A card that failed this many times in a row is shown to maintainers (/config show).
STUCK_AFTER: Final = 3


# A thread line Discord refused this many times is given up on (kept, and logged).
LINE_MAX_ATTEMPTS: Final = 10


@dataclass(frozen=True, slots=True)
class Line:
    """A line owed to a task's thread: its text and the members it may ping."""

    id: int
    guild_id: int
    thread_id: int
    content: str
    pings: tuple[int, ...]


class CardOutcome(enum.Enum):
    SHOWN = "shown"  # the card shows the task (edited, or posted again)
    RETRY = "retry"  # Discord or the network failed for now (429, 5xx, a disconnect)
    BLOCKED = "blocked"  # the channel is gone or a permission is missing: maintainers must act


class CardPublisher(Protocol):
    async def repair(self, task: TaskView, config: GuildConfig) -> CardOutcome:
        """Bring the task's card (and its posts in #review) up to date."""
        ...

    async def post_line(self, line: Line) -> CardOutcome:
        """Post a line Discord refused before in its thread."""
        ...

    async def tell_blocked(self, task: TaskView, config: GuildConfig) -> bool:
        """Tell the guild's maintainers that its cards can't be updated; whether it
        reached them."""
        ...


def card_backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, at most an hour, between tries of a card Discord refused."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


class CardService:
    def __init__(self, db: Database, clock: Clock, tasks: TaskService) -> None:
        self._db = db
        self._clock = clock
        self._tasks = tasks

    async def due(self, limit: int = BATCH, shards: Shards | None = None) -> list[TaskView]:
        """The cards owed an update whose next try is due, in the guilds of `shards` (None:
        every guild), as their tasks stand now, each taken for this sweep (a lease:
        another sweep leaves it alone)."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            ids = []
            for t in await uow.cards.cards_to_repair(now, limit, shards):
                assert t.id is not None and t.card_next_attempt_at is not None
                if await uow.cards.lease_card(t.id, t.card_next_attempt_at, now + LEASE):
                    ids.append(t.id)
            await uow.commit()
        views = []
        for task_id in ids:
            assert task_id is not None
            view = await self._tasks.show_by_id(task_id)
            if view is not None:
                views.append(view)
        return views

    async def shown(self, task: TaskView) -> None:
        """The card shows `task`: clear its mark (unless the task changed since) and the
        guild's card problem, if maintainers were told of one."""
        async with self._db.unit() as uow:
            if await uow.cards.card_shown(task.guild_id, task.number, task.version):
                await uow.cards.set_problem(task.guild_id, None)  # if one was told
            await uow.commit()

    async def failed(self, task: TaskView) -> int:
        """Discord refused the card: try again after a backoff. The attempts so far."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            row = await uow.tasks.task_by_number(task.guild_id, task.number)
            if row is None or row.id is None or row.card_dirty_since is None:
                return 0
            attempts = row.card_attempts + 1
            await uow.cards.card_failed(row.id, attempts, now + card_backoff(attempts))
            await uow.commit()
        return attempts

    async def owed(self, guild_id: int, number: int) -> TaskView | None:
        """The task as it stands, if its card is still owed an update (marked); None when
        the card already shows it (or the task is gone)."""
        async with self._db.read() as uow:
            row = await uow.tasks.task_by_number(guild_id, number)
            if row is None or row.card_dirty_since is None:
                return None
        try:
            return await self._tasks.show(guild_id, number)
        except DomainError:
            return None  # deleted since

    # -- thread lines -------------------------------------------------------------------

    async def owe_line(
        self, guild_id: int, number: int, thread_id: int, content: str, pings: tuple[int, ...]
    ) -> None:
        """Discord refused a line for the task's thread: keep it for the sweep."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            task = await uow.tasks.task_by_number(guild_id, number)
            if task is None or task.id is None:
                return
            await uow.cards.owe_line(
                ThreadLine(
                    guild_id=guild_id,
                    task_id=task.id,
                    thread_id=thread_id,
                    content=content[:2000],
                    pings=",".join(str(m) for m in pings),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            await uow.commit()

    async def lines_due(self, limit: int = BATCH, shards: Shards | None = None) -> list[Line]:
        """The thread lines due for a try in the guilds of `shards` (None: every guild),
        oldest first, each taken for this sweep."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            rows = []
            for r in await uow.cards.lines_due(now, limit, shards):
                assert r.id is not None and r.next_attempt_at is not None
                if await uow.cards.lease_line(r.id, r.next_attempt_at, now + LEASE):
                    rows.append(r)
            await uow.commit()
        return [
            Line(
                r.id,
                r.guild_id,
                r.thread_id,
                r.content,
                tuple(int(m) for m in r.pings.split(",") if m),
            )
            for r in rows
            if r.id is not None
        ]

    async def line_posted(self, line: Line) -> None:
        async with self._db.unit() as uow:
            await uow.cards.line_posted(line.id)
            await uow.commit()

    async def line_failed(self, line: Line) -> int:
        """Try again after a backoff (given up after LINE_MAX_ATTEMPTS); the attempts."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            row = await uow.cards.line_by_id(line.id)
            if row is None:
                return 0
            attempts = row.attempts + 1
            next_at = None if attempts >= LINE_MAX_ATTEMPTS else now + card_backoff(attempts)
            await uow.cards.line_failed(row, attempts, next_at)
            await uow.commit()
        return attempts

    async def problem_told(self, guild_id: int) -> bool:
        async with self._db.read() as uow:
            return await uow.cards.problem_told(guild_id)

    async def note_problem_told(self, guild_id: int) -> None:
        async with self._db.unit() as uow:
            await uow.cards.set_problem(guild_id, self._clock.now())
            await uow.commit()

    async def stuck(self, guild_id: int) -> int:
        """The guild's cards Discord refused STUCK_AFTER times or more, still owed."""
        async with self._db.read() as uow:
            return await uow.cards.cards_stuck(guild_id, STUCK_AFTER)

    async def pending(self, shards: Shards | None = None) -> int:
        """Every card owed an update in the guilds of `shards` (None: every guild): the
        operator's gauge, of this process's own guilds."""
        async with self._db.read() as uow:
            return await uow.cards.cards_pending(shards)
