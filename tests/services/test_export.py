"""The export on both backends: a guild larger than one page comes out whole, in order,
and nothing of another guild; a file over the attachment limit is compressed, or said to
be too large."""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import json
from datetime import datetime

import pytest
import sqlalchemy as sa

from bot.db.models import GuildSettings, LedgerEntry, Task, TaskHistory
from bot.db.repos.export import PAGE, TASKS
from bot.db.uow import Database
from bot.domain.errors import PermissionDenied
from bot.services.clock import ManualClock
from bot.services.export import ExportFormat, ExportService, fit
from bot.services.tasks import TaskService
from tests.services.helpers import GUILD, OTHER_GUILD, maint, member

MANY = PAGE * 2 + 7  # three pages of tasks


def task_row(guild: int, number: int, now: datetime) -> dict[str, object]:
    return {
        "guild_id": guild,
        "number": number,
        "title": f"Task {number}",
        "description": "=1+1" if number == 1 else "",
        "points": 1,
        "tags": ",docs,",
        "capacity": 1,
        "status": "open",
        "creator_id": 1,
        "status_changed_at": now,
        "created_at": now,
        "updated_at": now,
    }


async def seed(database: Database, now: datetime) -> None:
    async with database.unit() as uow:
        conn = await uow.session.connection()
        for guild in (GUILD, OTHER_GUILD):
            await conn.execute(
                sa.insert(GuildSettings.__table__),  # type: ignore[arg-type]
                [{"guild_id": guild, "created_at": now, "updated_at": now}],
            )
        rows = [task_row(GUILD, n, now) for n in range(1, MANY + 1)]
        rows.append(task_row(OTHER_GUILD, 1, now))
        await conn.execute(sa.insert(Task.__table__), rows)  # type: ignore[arg-type]
        ids = (await conn.execute(sa.select(Task.__table__.c.id).order_by("id"))).scalars().all()  # type: ignore[attr-defined]
        await conn.execute(
            sa.insert(TaskHistory.__table__),  # type: ignore[arg-type]
            [
                {
                    "guild_id": GUILD if i < MANY else OTHER_GUILD,
                    "task_id": task_id,
                    "actor_id": 1,
                    "action": "create",
                    "to_status": "open",
                    "note": "",
                    "created_at": now,
                }
                for i, task_id in enumerate(ids)
            ],
        )
        await conn.execute(
            sa.insert(LedgerEntry.__table__),  # type: ignore[arg-type]
            [
                {
                    "guild_id": GUILD,
                    "member_id": 2**62 + 5,
                    "kind": "kudos",
                    "giver_id": 7,
                    "task_id": None,
                    "points": 0,
                    "reason": "thanks",
                    "created_at": now,
                },
                {
                    "guild_id": GUILD,
                    "member_id": 9,
                    "kind": "task",
                    "points": 3,
                    "task_id": ids[0],
                    "giver_id": None,
                    "reason": "",
                    "created_at": now,
                },
            ],
        )
        await uow.commit()


async def test_an_export_larger_than_a_page_comes_out_whole_and_alone(
    database: Database, clock: ManualClock
) -> None:
    await seed(database, clock.now())
    service = ExportService(database, clock)
    out = io.BytesIO()
    summary = await service.write(GUILD, ExportFormat.JSON, out)
    board = json.loads(out.getvalue())
    assert summary.tasks == MANY and summary.size == len(out.getvalue())
    assert [t["number"] for t in board["tasks"]] == list(range(1, MANY + 1))
    assert all(len(t["history"]) == 1 and t["tags"] == ["docs"] for t in board["tasks"])
    # Discord IDs as strings: no digit lost past 2**53.
    assert [(k["member_id"], k["giver_id"]) for k in board["kudos"]] == [(str(2**62 + 5), "7")]
    assert [(e["member_id"], e["points"]) for e in board["ledger"]] == [("9", 3)]

    out = io.BytesIO()
    summary = await service.write(GUILD, ExportFormat.CSV, out)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    assert len(rows) == MANY + 1 and summary.tasks == MANY
    assert rows[1][:2] == ["Task 1", "'=1+1"]

    with pytest.raises(PermissionDenied):
        await service.export_for(member(5), ExportFormat.JSON, io.BytesIO())
    other = io.BytesIO()
    assert (await service.export_for(maint(guild=OTHER_GUILD), ExportFormat.CSV, other)).tasks == 1


def test_fit_compresses_over_the_limit_and_says_when_even_that_is_too_large() -> None:
    text = ("title,description\n" + "Fix the footer,again and again\n" * 5000).encode()
    small = fit(io.BytesIO(text), "board.csv", len(text), limit=len(text))
    assert not small.compressed and small.file is not None and small.file.read() == text
    packed = fit(io.BytesIO(text), "board.csv", len(text), limit=len(text) // 10)
    assert packed.compressed and packed.filename == "board.csv.gz" and packed.file is not None
    assert gzip.decompress(packed.file.read()) == text
    assert packed.size < len(text) // 10
    too_big = fit(io.BytesIO(text), "board.csv", len(text), limit=100)
    assert too_big.file is None and too_big.compressed and too_big.size > 100


async def count_tasks(uow: object) -> int:
    session = uow.session  # type: ignore[attr-defined]
    return int((await session.execute(sa.select(sa.func.count()).select_from(Task))).scalar_one())


async def test_an_export_reads_one_moment_while_writers_go_on(
    database: Database, clock: ManualClock
) -> None:
    """The export's snapshot: a task committed while it reads is not half in it, and the
    writer that commits it is not kept waiting."""
    tasks = TaskService(database, clock)
    await tasks.create(maint(), "Fix the footer")
    async with database.snapshot() as snap:
        assert await count_tasks(snap) == 1
        await asyncio.wait_for(tasks.create(maint(), "Written meanwhile"), timeout=5)
        assert await count_tasks(snap) == 1
        assert [t["title"] async for page in snap.export.pages(TASKS, GUILD) for t in page] == [
            "Fix the footer"
        ]
    async with database.read() as now:
        assert await count_tasks(now) == 2
