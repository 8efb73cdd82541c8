"""Alembic: one head, a clean round trip, and no drift between models and migrations,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from bot.db.engine import create_engine
from bot.db.migrate import alembic_config, downgrade, upgrade


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/nested/fresh.db"
    return str(request.getfixturevalue("pg_empty_url"))


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite:///unused.db"))
    assert len(script.get_heads()) == 1


def test_round_trip_and_no_drift(empty_url: str) -> None:
    upgrade(empty_url)
    command.check(alembic_config(empty_url))  # raises when models and migrations differ
    downgrade(empty_url, "base")
    tables = _tables(empty_url)
    assert tables <= {"alembic_version"}, tables
    upgrade(empty_url)
    command.check(alembic_config(empty_url))
    assert {"tasks", "claims", "task_history", "ledger", "guild_settings"} <= _tables(empty_url)


def _tables(url: str) -> set[str]:
    import asyncio

    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def test_sqlite_pragmas(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            values = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        await engine.dispose()
    assert values == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL, the default (PEERBOARD_SQLITE_SYNCHRONOUS)
        "foreign_keys": 1,
        "busy_timeout": 2000,  # inside Discord's 3-second deadline
    }


def test_credit_once_upgrade_removes_duplicate_credits(db_url: str) -> None:
    """0006 on a ledger that paid a reopened task twice: the extra rows go, the kept sums
    (member_scores) follow, kudos stay, and the unique index holds from then on."""
    import asyncio

    from bot.db.engine import create_session_factory
    from bot.db.uow import Database
    from bot.services.clock import ManualClock
    from bot.services.recognition import RecognitionService
    from bot.services.tasks import TaskService
    from tests.services.helpers import maint, member

    async def run(statements: Sequence[str]) -> list[list[tuple[object, ...]]]:
        engine = create_engine(db_url)
        try:
            async with engine.begin() as conn:
                results = [await conn.exec_driver_sql(s) for s in statements]
                return [list(r.fetchall()) if r.returns_rows else [] for r in results]
        finally:
            await engine.dispose()

    async def pay_once() -> None:
        engine = create_engine(db_url)
        try:
            db, clock = Database(create_session_factory(engine)), ManualClock()
            tasks = TaskService(db, clock)
            await tasks.create(maint(), "Paid", points=3)
            await tasks.claim(member(11), 1)
            await tasks.submit(member(11), 1, notes="done")
            await tasks.approve(member(13, reviewer=True), 1)
            await RecognitionService(db, clock).give_kudos(member(12), 11, False, "thanks!")
        finally:
            await engine.dispose()

    ledger = "SELECT member_id, kind, points FROM ledger ORDER BY id"
    scores = "SELECT member_id, points, tasks, reviews, kudos FROM member_scores ORDER BY member_id"
    asyncio.run(pay_once())
    [paid, kept] = asyncio.run(run([ledger, scores]))
    assert paid == [(11, "task", 3), (13, "review", 1), (11, "kudos", 0)]

    downgrade(db_url, "0005")
    columns = "guild_id, member_id, kind, points, task_id, review_id, giver_id, reason, created_at"
    asyncio.run(
        run(
            [  # what paying a reopened task again wrote: every row twice, and sums to match
                f"INSERT INTO ledger ({columns}) SELECT {columns} FROM ledger",
                "UPDATE member_scores SET points = 2 * points, reviews = 2 * reviews, "
                "kudos = 2 * kudos",
            ]
        )
    )
    upgrade(db_url)
    command.check(alembic_config(db_url))
    limits = (
        "SELECT proposal_limit_newcomer, proposal_limit_contributor, proposal_limit_regular "
        "FROM guild_settings"
    )
    [after, rescored, settings, tasks] = asyncio.run(
        run([ledger, scores, limits, "SELECT number, status FROM tasks"])
    )
    # 0007 gave the existing guild the default proposal limits, and kept its tasks.
    assert settings == [(2, 5, 10)] and tasks == [(1, "done")]
    assert after == [*paid, (11, "kudos", 0)]  # the second kudos is a kudos of its own
    assert rescored == [(11, 3, 1, 0, 2), (13, 1, 0, 1, 0)]
    assert kept == [(11, 3, 1, 0, 1), (13, 1, 0, 1, 0)]


def test_processes_that_start_together_migrate_once(empty_url: str, tmp_path: Path) -> None:
    """Several processes started at once on a fresh database (a sharded deploy whose
    `peerboard run`s each migrate first): one does the work, the others wait for it and
    find it done."""
    import os
    import subprocess
    import sys

    peerboard = Path(sys.executable).with_name("peerboard")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "PEERBOARD_DATABASE_URL": empty_url,
        "PEERBOARD_LOG_LEVEL": "WARNING",
    }
    runs = [
        subprocess.Popen(
            [str(peerboard), "migrate"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(run.wait(timeout=120), *run.communicate()) for run in runs]
    assert [code for code, _out, _err in results] == [0, 0, 0], [err for *_, err in results]
    command.check(alembic_config(empty_url))  # at head, and no drift


@pytest.mark.postgres
async def test_a_migration_waits_for_the_one_already_running(
    pg_empty_url: str, tmp_path: Path
) -> None:
    """While another migration holds the migration lock, `peerboard migrate` says it waits
    for it, waits, and goes on once it is free."""
    import asyncio
    import os
    import sys

    import asyncpg

    from bot.db.dialect import MIGRATION_LOCK_KEY

    libpq = pg_empty_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    holder = await asyncpg.connect(libpq)
    try:
        await holder.execute("BEGIN")
        await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "PEERBOARD_DATABASE_URL": pg_empty_url,
            "PEERBOARD_LOG_LEVEL": "WARNING",
        }
        run = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("peerboard")),
            "migrate",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert run.stderr is not None
        # The process says it waits (its first line), and it does: it is still running.
        line = await asyncio.wait_for(run.stderr.readline(), timeout=60)
        assert b"another Peerboard is migrating this database" in line, line
        assert run.returncode is None, "migrated while another migration held the lock"
        await holder.execute("COMMIT")  # the other migration is done
        _out, err = await asyncio.wait_for(run.communicate(), timeout=120)
        assert run.returncode == 0, err.decode()
    finally:
        await holder.close()
    await asyncio.to_thread(command.check, alembic_config(pg_empty_url))
