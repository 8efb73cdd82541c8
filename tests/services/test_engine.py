"""What bot.db.engine sets on each backend's connections."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.db.engine import create_engine


@pytest.mark.postgres
async def test_postgresql_connections_do_not_jit_compile(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SHOW jit"))).scalar() == "off"
    finally:
        await engine.dispose()


async def test_sqlite_connections_use_wal_and_foreign_keys(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
            assert (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
    finally:
        await engine.dispose()
