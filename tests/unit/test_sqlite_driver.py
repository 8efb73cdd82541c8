"""The one-hop SQLite cursor (bot/db/sqlite_driver.py) against a real SQLite file: the
same results as SQLAlchemy's own aiosqlite cursor, in one worker-thread call per
statement, and the same errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.db.engine import create_engine, create_session_factory
from bot.db.sqlite_driver import OneHopConnection
from bot.db.uow import Database

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("size", sa.Integer, nullable=False),
)


class Hops:
    """Counts calls onto aiosqlite's worker thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = aiosqlite.Connection._execute

        async def counted(conn: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await original(conn, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


@pytest.fixture
async def engine(tmp_path: Path) -> Any:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


async def test_connections_use_the_one_hop_cursor(engine: Any) -> None:
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert type(raw.dbapi_connection) is OneHopConnection


async def test_each_statement_is_one_hop(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async with engine.begin() as conn:
        await conn.execute(things.insert(), [{"name": f"t{k}", "size": k} for k in range(10)])
    hops = Hops(monkeypatch)
    async with engine.connect() as conn:
        await conn.execute(sa.select(1))  # BEGIN IMMEDIATE (one hop) and a first statement
        before = hops.count
        rows = (await conn.execute(sa.select(things.c.name).order_by(things.c.id))).all()
        assert hops.count - before == 1
        assert [r.name for r in rows] == [f"t{k}" for k in range(10)]
        before = hops.count
        await conn.execute(things.update().where(things.c.size < 3).values(size=0))
        assert hops.count - before == 1
        await conn.rollback()


async def test_results_match_sqlalchemys_cursor(engine: Any) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(things.insert().values(name="a", size=1))
        assert inserted.inserted_primary_key == (1,)  # lastrowid
        returned = await conn.execute(
            things.insert().values(name="b", size=2).returning(things.c.id, things.c.name)
        )
        assert returned.one() == (2, "b")
        await conn.execute(things.insert(), [{"name": "c", "size": 3}, {"name": "d", "size": 4}])
        updated = await conn.execute(things.update().where(things.c.size >= 2).values(size=9))
        assert updated.rowcount == 3
        deleted = await conn.execute(things.delete().where(things.c.name == "nobody"))
        assert deleted.rowcount == 0
        empty = await conn.execute(sa.select(things).where(things.c.id < 0))
        assert empty.all() == []
        assert list(empty.keys()) == ["id", "name", "size"]
        streamed = await conn.stream(sa.select(things.c.name).order_by(things.c.name))
        assert [r.name async for r in streamed] == ["a", "b", "c", "d"]


async def test_orm_session_reads_and_writes(engine: Any) -> None:
    factory = create_session_factory(engine)
    async with factory() as session, session.begin():
        await session.execute(things.insert().values(name="x", size=5))
    async with factory() as session:
        assert (await session.scalars(sa.select(things.c.size))).all() == [5]


async def test_errors_are_sqlalchemys_errors_and_the_connection_survives(engine: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(things.insert().values(name="same", size=1))
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(things.insert().values(name="same", size=2))
    with pytest.raises(OperationalError):
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT * FROM no_such_table")
    async with engine.connect() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(things))).scalar() == 1


async def test_begin_rides_with_the_first_statement_and_still_takes_the_write_lock(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = Hops(monkeypatch)
    async with engine.connect() as conn:
        before = hops.count
        await conn.execute(sa.select(things.c.id))  # BEGIN IMMEDIATE + SELECT: one hop
        assert hops.count - before == 1
        # The lock is ours from that first statement, as with a BEGIN sent alone: another
        # writer (no busy wait) is refused.
        other = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        before = hops.count
        await conn.commit()
        assert hops.count - before == 1
    # A transaction that runs nothing costs nothing, and the pool's reset after a commit
    # (no transaction open) does not cross to the worker thread either.
    before = hops.count
    async with engine.connect() as conn:
        await conn.begin()
        await conn.rollback()
    assert hops.count == before


# -- reads: no transaction, no lock, no second hop, no writes ------------------------------------


async def test_a_read_is_one_hop_per_statement_and_takes_no_lock(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(create_session_factory(engine))
    async with engine.begin() as conn:
        await conn.execute(things.insert(), [{"name": "a", "size": 1}])
    hops = Hops(monkeypatch)
    async with db.read() as uow:
        rows = (await uow.repo.session.execute(sa.select(things.c.name))).all()
    assert rows == [("a",)] and hops.count == 1  # no BEGIN, no ROLLBACK of its own
    # While a writer holds the write lock, a read still answers (a unit would wait for it).
    writer = sqlite3.connect(tmp_path / "driver.db")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE things SET size = 2")
    try:
        async with db.read() as uow:
            size = (await uow.repo.session.execute(sa.select(things.c.size))).scalar_one()
        assert size == 1  # the last committed state
    finally:
        writer.rollback()
        writer.close()
    # The connection goes back to the pool as it was: the next unit is a transaction.
    async with db.unit() as uow:
        await uow.repo.session.execute(things.update().values(size=3))
        await uow.commit()
    async with db.read() as uow:
        assert (await uow.repo.session.execute(sa.select(things.c.size))).scalar_one() == 3


async def test_a_read_refuses_to_write(engine: Any) -> None:
    db = Database(create_session_factory(engine))
    with pytest.raises(sa.exc.ProgrammingError, match="read-only"):
        async with db.read() as uow:
            await uow.repo.session.execute(things.insert().values(name="b", size=1))
    async with db.read() as uow:
        assert (
            await uow.repo.session.execute(sa.select(sa.func.count()).select_from(things))
        ).scalar_one() == 0
    with pytest.raises(AssertionError, match="writes nothing"):
        async with db.read() as uow:
            await uow.commit()
