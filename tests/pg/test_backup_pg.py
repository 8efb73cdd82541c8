"""`peerboard backup` on PostgreSQL: pg_dump's custom format, which pg_restore reads back."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import asyncpg
import pytest

from bot.db.backup import backup, find_pg_tool
from bot.db.engine import create_engine, create_session_factory
from bot.db.uow import Database
from bot.services.clock import ManualClock
from bot.services.tasks import TaskService
from tests.services.helpers import maint
from tests.support.postgres import PostgresCluster, unique_db_name

pytestmark = pytest.mark.postgres


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_pg_backup_restores_into_a_fresh_database(
    pg_url: str, pg_cluster: PostgresCluster, tmp_path: Path
) -> None:
    engine = create_engine(pg_url)
    try:
        tasks = TaskService(Database(create_session_factory(engine)), ManualClock())
        for title in ("Fix the footer", "Write the FAQ"):
            await tasks.create(maint(), title)
        await tasks.claim(maint(7), 1)
    finally:
        await engine.dispose()

    dump = tmp_path / "board.dump"
    result = await asyncio.to_thread(backup, pg_url, dump)
    assert result.size > 0 and dump.read_bytes().startswith(b"PGDMP")

    pg_restore = find_pg_tool("pg_restore")
    assert pg_restore is not None
    name = unique_db_name("restored")
    copy = pg_cluster.create_database(name)
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [pg_restore, "--no-owner", f"--dbname={libpq(copy)}", str(dump)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        conn = await asyncpg.connect(libpq(copy))
        try:
            rows = await conn.fetch("SELECT number, title, status FROM tasks ORDER BY number")
            claims = await conn.fetchval("SELECT count(*) FROM claims")
        finally:
            await conn.close()
        assert [tuple(r) for r in rows] == [
            (1, "Fix the footer", "claimed"),
            (2, "Write the FAQ", "open"),
        ]
        assert claims == 1
    finally:
        pg_cluster.drop_database(name)
