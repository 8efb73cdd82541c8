"""Tasks: reading them for interactions and the sweep, creating them, and writing them
only if nobody changed them since they were read (compare-and-set on their version)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col

from bot.db.models import ClaimRow, GuildSettings, Task
from bot.db.queries import board, suggest, sweep
from bot.db.queries.common import MAX_NUMBER, UNFINISHED
from bot.db.repos.base import Repo, rowcount
from bot.domain.shards import Shards


@dataclass(frozen=True, slots=True)
class NewTask:
    guild_id: int
    number: int
    status: str
    creator_id: int
    title: str
    description: str
    points: int
    tags: str  # as stored (queries.common.tags_to_column)
    capacity: int
    created_at: datetime  # also its first status change and update
    due_at: datetime | None = None
    blocked_by_id: int | None = None
    claim_days: int | None = None
    opens_at: datetime | None = None  # a proposal's lazy consensus


class TaskRepo(Repo):
    __slots__ = ()

    async def task_by_number(self, guild_id: int, number: int) -> Task | None:
        if not 1 <= number <= MAX_NUMBER:  # no such task, and past PostgreSQL's INTEGER
            return None
        stmt, params = board.task_by_number_query(guild_id, number)
        return (await self.session.scalars(stmt, params)).first()

    async def task_for_action(
        self, guild_id: int, number: int
    ) -> tuple[Task, list[ClaimRow], str | None] | None:
        """The task, its active claims (oldest first) and its last handoff note, in one
        statement (task_for_action_query); None when there is no such task."""
        if not 1 <= number <= MAX_NUMBER:
            return None
        stmt, params = board.task_for_action_query(guild_id, number)
        rows = (await self.session.execute(stmt, params)).all()
        if not rows:
            return None
        claims = [claim for _task, claim, _note in rows if claim is not None]
        return rows[0][0], claims, rows[0][2]

    async def task_by_id(self, task_id: int) -> Task | None:
        return await self.session.get(Task, task_id)

    async def tasks_by_ids(self, task_ids: Sequence[int]) -> Sequence[Task]:
        """Tasks by id, loaded into the session (a later task_by_id of one reads no row)."""
        if not task_ids:
            return []
        return (await self.session.scalars(sweep.tasks_by_ids_query(task_ids))).all()

    async def numbers_for_ids(self, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        if not ids:
            return {}
        stmt, params = board.numbers_for_ids_query(ids)
        rows = (await self.session.execute(stmt, params)).all()
        return {int(row[0] or 0): (row[1], row[2]) for row in rows}

    async def list_tasks(
        self,
        guild_id: int,
        statuses: Sequence[str] | None,
        tag: str | None,
        member_id: int | None,
        after_number: int,
        limit: int,
    ) -> tuple[list[Task], dict[int, list[ClaimRow]]]:
        """A page of the board (`limit` tasks at most, by number) and each one's active
        claims (oldest first), in one statement."""
        stmt, params = board.list_tasks_query(
            guild_id, statuses, tag, member_id, after_number, limit
        )
        tasks: list[Task] = []
        claims: dict[int, list[ClaimRow]] = {}
        for task, claim in (await self.session.execute(stmt, params)).all():
            assert task.id is not None
            if task.id not in claims:
                tasks.append(task)
                claims[task.id] = []
            if claim is not None:
                claims[task.id].append(claim)
        return tasks, claims

    async def suggest_tasks(
        self,
        guild_id: int,
        query: str,
        limit: int,
        statuses: Sequence[str] = UNFINISHED,
        max_number: int = MAX_NUMBER,
    ) -> Sequence[tuple[int, str, str]]:
        """Autocomplete: (number, title, status) of tasks by number or title (unfinished
        ones unless told otherwise); the exact number typed first, then open ones, then the
        newest. `max_number`: the guild's highest task number (no need to look past it)."""
        stmt, params = suggest.suggest_tasks_query(
            guild_id, query, limit, statuses, max_number, dialect_name=self.dialect
        )
        return [(n, t, s) for n, t, s in (await self.session.execute(stmt, params)).all()]

    async def highest_task_number(self, guild_id: int) -> int:
        """The guild's newest task number (0 before its first task)."""
        stmt = sa.select(col(GuildSettings.next_task_number)).where(
            col(GuildSettings.guild_id) == guild_id
        )
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        return max(int(found) - 1, 0) if found is not None else 0

    async def tasks_in_review_for(
        self, guild_id: int, member_id: int, limit: int
    ) -> Sequence[Task]:
        """In-review tasks this member did not work on and has not reviewed this round."""
        stmt, params = board.tasks_in_review_for_query(guild_id, member_id, limit)
        return (await self.session.scalars(stmt, params)).all()

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

    async def tasks_to_nudge(
        self, now: datetime, limit: int, shards: Shards | None = None
    ) -> Sequence[Task]:
        return (await self.session.scalars(sweep.tasks_to_nudge_query(now, limit, shards))).all()

    async def open_proposal_count(self, guild_id: int, member_id: int) -> int:
        """The member's proposals still waiting to open."""
        stmt = sa.select(sa.func.count()).where(
            col(Task.guild_id) == guild_id,
            col(Task.status) == "proposed",
            col(Task.creator_id) == member_id,
        )
        return int((await self.session.execute(stmt)).scalar_one())

    async def stale_proposals(
        self, now: datetime, limit: int, shards: Shards | None = None
    ) -> Sequence[Task]:
        stmt = sweep.stale_proposals_query(now, limit, shards)
        return (await self.session.scalars(stmt)).all()

    async def move_proposal_windows(self, guild_id: int, window: timedelta) -> None:
        """The guild's window changed: each of its proposals opens `window` after it was
        proposed."""
        found = await self.session.execute(
            sa.select(col(Task.id), col(Task.status_changed_at)).where(
                col(Task.guild_id) == guild_id, col(Task.status) == "proposed"
            )
        )
        for task_id, proposed_at in found.all():
            await self.session.execute(
                sa.update(Task)
                .where(col(Task.id) == task_id)
                .values(opens_at=proposed_at + window)
                .execution_options(synchronize_session=False)
            )

    # -- writes ----------------------------------------------------------------------------

    async def next_task_number(self, guild_id: int) -> int:
        stmt = (
            sa.update(GuildSettings)
            .where(col(GuildSettings.guild_id) == guild_id)
            .values(next_task_number=GuildSettings.next_task_number + 1)
            .returning(col(GuildSettings.next_task_number))
        )
        value = (await self.session.execute(stmt)).scalar_one()
        return int(value) - 1

    async def insert_task(self, new: NewTask) -> Task:
        """The new task's row, written (it has its id) and kept in the unit of work."""
        task = Task(
            guild_id=new.guild_id,
            number=new.number,
            status=new.status,
            creator_id=new.creator_id,
            title=new.title,
            description=new.description,
            points=new.points,
            tags=new.tags,
            capacity=new.capacity,
            due_at=new.due_at,
            blocked_by_id=new.blocked_by_id,
            claim_days=new.claim_days,
            opens_at=new.opens_at,
            status_changed_at=new.created_at,
            created_at=new.created_at,
            updated_at=new.created_at,
        )
        self.session.add(task)
        await self.session.flush()
        return task

    async def compare_and_set(
        self, task_id: int, version: int, values: Mapping[str, object]
    ) -> bool:
        """Write the task's columns `values` only if nobody changed it since we read
        `version`."""
        stmt = board.compare_and_set_template(tuple(sorted(values)))
        params = {f"v_{key}": value for key, value in values.items()}
        params.update(cas_id=task_id, cas_version=version, cas_next=version + 1)
        return rowcount(await self.session.execute(stmt, params)) == 1

    async def compare_and_set_many(
        self, task_ids: Sequence[int], version: int, values: Mapping[str, object]
    ) -> set[int]:
        """compare_and_set for tasks that share a version and the values written: the ids
        of those nobody changed since they were read at `version` (those written)."""
        if not task_ids:
            return set()
        stmt = sweep.compare_and_set_many_statement(task_ids, version, values)
        return {int(i or 0) for i in (await self.session.execute(stmt)).scalars().all()}

    async def set_card(
        self,
        guild_id: int,
        number: int,
        channel_id: int,
        message_id: int,
        thread_id: int | None,
    ) -> bool:
        """Where the task's card lives (its thread left as it is when None); False when
        there is no such task. The card is no change to the task: its version stays."""
        values: dict[str, object] = {"card_channel_id": channel_id, "card_message_id": message_id}
        if thread_id is not None:
            values["thread_id"] = thread_id
        stmt = (
            sa.update(Task)
            .where(col(Task.guild_id) == guild_id, col(Task.number) == number)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return rowcount(await self.session.execute(stmt)) == 1

    @staticmethod
    def mark_written(task: Task, values: Mapping[str, object]) -> None:
        """After an UPDATE through SQL (compare_and_set): the loaded row holds `values` now,
        as a read would return them, without marking it changed."""
        for key, value in values.items():
            if isinstance(value, datetime):
                value = value.astimezone(UTC)
            set_committed_value(task, key, value)
