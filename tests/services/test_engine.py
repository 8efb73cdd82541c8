"""What bot.db.engine sets on each backend's connections."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from bot.db.engine import create_engine
from bot.db.uow import Database


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


async def test_a_read_opens_no_transaction_and_a_unit_does(database: Database) -> None:
    """Database.read: each statement on its own (no BEGIN, nothing to end); a unit: one
    transaction. On PostgreSQL a transaction's now() stays put, a read's moves on; on
    SQLite a read does not wait for another writer's lock (tests/unit/test_sqlite_transactions)."""
    session_bind = database.factory.kw["bind"]
    if session_bind.dialect.name != "postgresql":
        # SQLite: a read holds no lock; a unit holds the write lock from its first statement
        # (tests/unit/test_sqlite_transactions.py has the rest).
        path = session_bind.url.database

        def lock_is_free() -> bool:
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                return False
            finally:
                other.close()

        async with database.read() as uow:
            await uow.session.execute(sa.text("SELECT 1"))
            assert lock_is_free()
        async with database.unit() as uow:
            await uow.session.execute(sa.text("SELECT 1"))
            assert not lock_is_free()
        return
    clock = sa.text("SELECT now(), pg_sleep(0.002)")
    async with database.read() as uow:
        first = (await uow.session.execute(clock)).scalar()
        second = (await uow.session.execute(clock)).scalar()
    assert second > first
    async with database.unit() as uow:
        first = (await uow.session.execute(clock)).scalar()
        second = (await uow.session.execute(clock)).scalar()
    assert second == first


async def test_a_write_a_unique_index_refuses_leaves_the_unit_as_duplicate(
    database: Database,
) -> None:
    """Services retry on the db layer's own error, not SQLAlchemy's (on both backends,
    whether a statement, a flush or the commit hits the index)."""
    from datetime import UTC, datetime

    from bot.db.errors import Duplicate

    now = datetime(2026, 1, 1, tzinfo=UTC)
    async with database.unit() as uow:
        await uow.guilds.ensure_guild(1, now)
        uow.ledger.add_milestone(1, 10, 100)
        await uow.commit()
    with pytest.raises(Duplicate):
        async with database.unit() as uow:
            uow.ledger.add_milestone(1, 10, 200)
            await uow.commit()
    async with database.unit() as uow:  # the unit rolled back: the database is usable
        assert [m.role_id for m in await uow.ledger.milestones(1)] == [100]
