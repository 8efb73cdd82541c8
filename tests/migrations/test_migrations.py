"""Alembic: one head, a clean round trip, and no drift between models and migrations,
on SQLite and PostgreSQL."""

from __future__ import annotations

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
        "synchronous": 1,
        "foreign_keys": 1,
        "busy_timeout": 10000,
    }
