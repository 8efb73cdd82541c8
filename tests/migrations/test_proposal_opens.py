"""Migration 0009 (lazy consensus by time): a proposal on the board before the upgrade
opens its guild's window after it was proposed — and no other task gets a time — on
SQLite and PostgreSQL, with every other row kept (the board of board.py, in every
table)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db.engine import create_engine
from bot.db.migrate import upgrade
from tests.migrations.board import GUILD, lost_rows, seed, snapshot

PROPOSED_AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/board.db"
    return str(request.getfixturevalue("pg_empty_url"))


async def _sql(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            rows: list[tuple[object, ...]] = []
            for statement in statements:
                result = await conn.exec_driver_sql(statement)
                if result.returns_rows:
                    rows = [tuple(r) for r in result.all()]
            return rows
    finally:
        await engine.dispose()


def _when(value: object) -> datetime:
    if isinstance(value, str):  # SQLite keeps the text SQLAlchemy wrote
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def test_a_waiting_proposal_gets_the_time_it_opens(empty_url: str) -> None:
    upgrade(empty_url, "0008")
    seed(empty_url)
    stamp = (
        PROPOSED_AT.isoformat()
        if empty_url.startswith("postgresql")
        else PROPOSED_AT.replace(tzinfo=None).isoformat(sep=" ") + ".000000"
    )
    asyncio.run(
        _sql(
            empty_url,
            f"UPDATE tasks SET status = 'proposed', status_changed_at = '{stamp}' WHERE id = 4",
            f"UPDATE guild_settings SET proposal_window_hours = 48 WHERE guild_id = {GUILD}",
        )
    )
    before = snapshot(empty_url)

    upgrade(empty_url, "head")

    assert lost_rows(before, snapshot(empty_url)) == {}
    rows = asyncio.run(_sql(empty_url, "SELECT id, opens_at FROM tasks ORDER BY id"))
    opens = {int(str(i)): (None if at is None else _when(at)) for i, at in rows}
    assert opens == {1: None, 2: None, 3: None, 4: PROPOSED_AT + timedelta(hours=48)}


def test_the_index_holds_only_proposals() -> None:
    from bot.db.models import Task

    index = next(i for i in Task.__table__.indexes if i.name == "ix_tasks_opens")  # type: ignore[attr-defined]
    where = index.dialect_options["postgresql"]["where"]
    assert isinstance(where, sa.TextClause) and where.text == "status = 'proposed'"
