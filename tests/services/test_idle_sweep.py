"""An idle sweep is one unit of work, card repair included (issue 15, the many-guilds
benchmark): the has-work check also asks whether a card or a thread line is owed, so a
sweep that finds nothing opens no other transaction — and one that finds a card or a line
owed still repairs it. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bot.bootstrap import Runtime, build_services
from bot.db.models import Task, ThreadLine
from bot.domain.shards import Shards
from bot.jobs.sweep import sweep
from bot.services.cards import CardOutcome, Line
from bot.services.clock import ManualClock
from bot.services.config import GuildConfig
from bot.services.notify import Notice
from bot.services.reminders import EnqueueReport
from bot.services.views import TaskView
from tests.services.helpers import maint, member

BOT = 999
GUILD = 1001  # shard 0 of 2
MINE = Shards.only(2, 0)


@dataclass
class Discord:
    """Stands in for Discord at the Notifier and CardPublisher ports."""

    notices: list[Notice] = field(default_factory=list)
    cards: list[int] = field(default_factory=list)  # task numbers
    lines: list[str] = field(default_factory=list)

    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        self.notices.append(notice)
        return "dm" if notice.member_id else "channel"

    async def repair(self, task: TaskView, config: GuildConfig) -> CardOutcome:
        self.cards.append(task.number)
        return CardOutcome.SHOWN

    async def post_line(self, line: Line) -> CardOutcome:
        self.lines.append(line.content)
        return CardOutcome.SHOWN

    async def tell_blocked(self, task: TaskView, config: GuildConfig) -> bool:
        return True


@pytest.fixture
async def runtime(db_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    built = build_services(db_url, clock=clock)
    try:
        yield built
    finally:
        await built.close()


class Transactions:
    def __init__(self, runtime: Runtime) -> None:
        self.count = 0
        event.listen(runtime.engine.sync_engine, "begin", self._begun)

    def _begun(self, _conn: Any) -> None:
        self.count += 1


async def one_sweep(runtime: Runtime, discord: Discord, shards: Shards | None = MINE) -> int:
    transactions = Transactions(runtime)
    await sweep(runtime.services, discord, bot_id=BOT, dm_budget=20, shards=shards, cards=discord)
    return transactions.count


async def a_task_with_a_card(runtime: Runtime) -> int:
    await runtime.services.tasks.create(maint(guild=GUILD), "Write the docs")
    await runtime.services.tasks.create(maint(guild=GUILD), "Fix the footer")
    async with runtime.engine.begin() as conn:
        await conn.execute(
            sa.update(Task.__table__).values(card_channel_id=77, card_message_id=88, thread_id=99)
        )
        found = await conn.execute(sa.select(Task.__table__.c.id).order_by(Task.__table__.c.id))
        return int(found.scalars().first() or 0)


async def test_an_idle_sweep_is_one_unit_of_work_and_touches_no_card(runtime: Runtime) -> None:
    await a_task_with_a_card(runtime)
    discord = Discord()
    await one_sweep(runtime, discord)  # warm-up: the pool's first connection
    for shards in (MINE, None):
        assert await one_sweep(runtime, discord, shards) == 1
    assert (discord.notices, discord.cards, discord.lines) == ([], [], [])


async def test_a_card_owed_an_update_is_found_and_repaired(
    runtime: Runtime, clock: ManualClock
) -> None:
    task_id = await a_task_with_a_card(runtime)
    async with runtime.engine.begin() as conn:
        await conn.execute(
            sa.update(Task.__table__)
            .where(Task.__table__.c.id == task_id)
            .values(card_dirty_since=clock.now(), card_next_attempt_at=clock.now())
        )
    assert "cards" in (await runtime.services.reminders.has_work(MINE)).found
    assert not await runtime.services.reminders.has_work(Shards.only(2, 1))  # not its guild
    discord = Discord()
    assert await one_sweep(runtime, discord) > 1
    assert discord.cards == [1]
    assert await one_sweep(runtime, discord) == 1  # shown: nothing owed any more
    assert discord.cards == [1]


async def test_a_thread_line_owed_is_found_and_posted(runtime: Runtime, clock: ManualClock) -> None:
    task_id = await a_task_with_a_card(runtime)
    async with runtime.engine.begin() as conn:
        await conn.execute(
            sa.insert(ThreadLine.__table__).values(
                guild_id=GUILD,
                task_id=task_id,
                thread_id=99,
                content="Alice claimed this task.",
                pings="",
                attempts=1,
                next_attempt_at=clock.now(),
                created_at=clock.now(),
            )
        )
    assert "lines" in (await runtime.services.reminders.has_work(MINE)).found
    discord = Discord()
    assert await one_sweep(runtime, discord) > 1
    assert discord.lines == ["Alice claimed this task."]
    assert await one_sweep(runtime, discord) == 1
    assert not await runtime.services.reminders.has_work(MINE)


class Statements:
    def __init__(self, runtime: Runtime) -> None:
        self.count = 0
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", self._sent)

    def _sent(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:5].upper() != "BEGIN":
            self.count += 1


async def test_proposals_inside_their_windows_cost_the_same_in_one_guild_or_many(
    runtime: Runtime, clock: ManualClock
) -> None:
    """Proposals wait up to their guild's window (72 hours by default) for lazy consensus:
    the sweep finds no work in them until one's time has come, however many guilds they
    are in; none opens early, every one opens once its window is over."""
    guilds = [GUILD + (k << 23) for k in range(6)]  # all on shard 0 of 2
    assert all(MINE.owns(g) for g in guilds)
    for guild in guilds[:1]:
        await runtime.services.tasks.propose(member(31, guild=guild), "Translate the FAQ")
    clock.advance(hours=2)  # over an hour old: read by the sweep, inside the window
    statements = Statements(runtime)
    assert await runtime.services.reminders.enqueue_due(BOT, MINE) == EnqueueReport()
    one_guild = statements.count
    for guild in guilds[1:]:
        await runtime.services.tasks.propose(member(31, guild=guild), "Translate the FAQ")
    clock.advance(hours=2)
    statements.count = 0
    assert await runtime.services.reminders.enqueue_due(BOT, MINE) == EnqueueReport()
    assert statements.count == one_guild
    # Waiting inside their windows, they are no work for the sweep at all (ix_tasks_opens).
    assert not await runtime.services.reminders.has_work(MINE)
    clock.advance(hours=72)
    report = await runtime.services.reminders.enqueue_due(BOT, MINE)
    assert report.proposals == len(guilds)


async def test_a_shorter_window_opens_the_waiting_proposals_sooner(
    runtime: Runtime, clock: ManualClock
) -> None:
    await runtime.services.tasks.propose(member(31, guild=GUILD), "Translate the FAQ")
    clock.advance(hours=2)
    assert not await runtime.services.reminders.has_work(MINE)  # 70 hours to go
    await runtime.services.config.update(maint(guild=GUILD), proposal_window_hours=3)
    assert not await runtime.services.reminders.has_work(MINE)
    clock.advance(hours=1)  # three hours after it was proposed
    assert "proposals" in (await runtime.services.reminders.has_work(MINE)).found
    assert (await runtime.services.reminders.enqueue_due(BOT, MINE)).proposals == 1
    view = await runtime.services.tasks.show(GUILD, 1)
    assert view.status.value == "open"
