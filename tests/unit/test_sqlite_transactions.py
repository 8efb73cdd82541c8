"""SQLite transactions as bot.db.dialect sets them up, against a real SQLite file, through
public APIs only: a unit of work takes the write lock with its first statement (BEGIN
IMMEDIATE from the engine's `begin` event), a read takes no lock and sees the last
committed state, and a write inside a read is refused before it reaches the driver."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.dialect import WriteInRead
from bot.db.engine import create_engine, create_session_factory
from bot.db.errors import Duplicate
from bot.db.uow import Database

metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("size", sa.Integer, nullable=False),
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "transactions.db"


@pytest.fixture
async def engine(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@contextmanager
def other_connection(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's view of the file: no busy wait, transactions by hand."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def write_lock_is_free(path: Path) -> bool:
    with other_connection(path) as other:
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
        other.execute("ROLLBACK")
        return True


async def test_a_unit_takes_the_write_lock_with_its_first_statement(
    engine: AsyncEngine, path: Path
) -> None:
    db = Database(create_session_factory(engine))
    async with db.unit() as uow:
        assert write_lock_is_free(path)  # nothing sent yet
        await uow.session.execute(sa.select(things.c.id))  # a read first, still the lock
        assert not write_lock_is_free(path)
        await uow.session.execute(things.insert().values(name="a", size=1))
        await uow.commit()
    assert write_lock_is_free(path)
    async with db.read() as uow:
        assert (await uow.session.execute(sa.select(things.c.name))).scalars().all() == ["a"]


async def test_a_unit_that_fails_rolls_back_and_the_connection_survives(
    engine: AsyncEngine, path: Path
) -> None:
    db = Database(create_session_factory(engine))
    async with db.unit() as uow:
        await uow.session.execute(things.insert().values(name="same", size=1))
        await uow.commit()
    with pytest.raises(Duplicate) as refused:  # the db layer's own error, for services
        async with db.unit() as uow:
            await uow.session.execute(things.insert().values(name="other", size=2))
            await uow.session.execute(things.insert().values(name="same", size=2))
    assert isinstance(refused.value.__cause__, IntegrityError)
    assert write_lock_is_free(path)
    async with db.read() as uow:
        names = (await uow.session.execute(sa.select(things.c.name))).scalars().all()
    assert names == ["same"]


async def test_a_read_takes_no_lock_and_sees_the_last_commit(
    engine: AsyncEngine, path: Path
) -> None:
    db = Database(create_session_factory(engine))
    async with engine.begin() as conn:
        await conn.execute(things.insert(), [{"name": "a", "size": 1}])
    async with db.read() as uow:
        rows = (await uow.session.execute(sa.select(things.c.name))).all()
        assert write_lock_is_free(path)  # no transaction open, no lock held
    assert rows == [("a",)]
    # While a writer holds the write lock, a read still answers (a unit would wait for it).
    with other_connection(path) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE things SET size = 2")
        async with db.read() as uow:
            size = (await uow.session.execute(sa.select(things.c.size))).scalar_one()
        writer.execute("ROLLBACK")
    assert size == 1  # the last committed state
    # The connection goes back to the pool as it was: the next unit is a transaction.
    async with db.unit() as uow:
        await uow.session.execute(things.update().values(size=3))
        assert not write_lock_is_free(path)
        await uow.commit()
    async with db.read() as uow:
        assert (await uow.session.execute(sa.select(things.c.size))).scalar_one() == 3


@pytest.mark.parametrize(
    "write",
    [
        things.insert().values(name="b", size=1),
        things.update().values(size=5),
        things.delete(),
        sa.text("INSERT INTO things (name, size) VALUES ('c', 1)"),
        sa.text("  delete from things"),
        sa.text("CREATE TABLE more (id INTEGER)"),
    ],
    ids=["insert", "update", "delete", "text insert", "text delete", "ddl"],
)
async def test_a_read_refuses_to_write(engine: AsyncEngine, write: sa.Executable) -> None:
    db = Database(create_session_factory(engine))
    async with engine.begin() as conn:
        await conn.execute(things.insert(), [{"name": "a", "size": 1}])
    with pytest.raises(WriteInRead, match="read-only"):
        async with db.read() as uow:
            await uow.session.execute(write)
    async with db.read() as uow:
        rows = (await uow.session.execute(sa.select(things.c.name, things.c.size))).all()
    assert rows == [("a", 1)]
    with pytest.raises(AssertionError, match="writes nothing"):
        async with db.read() as uow:
            await uow.commit()


async def test_a_write_that_reads_first_is_still_refused(engine: AsyncEngine) -> None:
    """Judged by what the statement is, not by its first word."""
    db = Database(create_session_factory(engine))
    source = sa.select(sa.literal("d").label("name"), sa.literal(1).label("size")).cte("source")
    stmt = things.insert().from_select(["name", "size"], sa.select(source)).add_cte(source)
    with pytest.raises(WriteInRead):
        async with db.read() as uow:
            await uow.session.execute(stmt)


async def test_a_unit_left_by_an_error_rolls_back_and_frees_the_lock(
    engine: AsyncEngine, path: Path
) -> None:
    """SQLAlchemy sends no ROLLBACK in autocommit; the engine's rollback event ends the
    transaction BEGIN IMMEDIATE opened (and a read, which opened none, costs nothing)."""
    db = Database(create_session_factory(engine))
    with pytest.raises(LookupError):
        async with db.unit() as uow:
            await uow.session.execute(things.insert().values(name="gone", size=1))
            raise LookupError
    assert write_lock_is_free(path)
    async with db.unit() as uow:  # and the pooled connection begins afresh
        assert (await uow.session.execute(sa.select(things.c.name))).all() == []
        await uow.session.execute(things.insert().values(name="kept", size=1))
        await uow.commit()
    async with db.read() as uow:
        assert (await uow.session.execute(sa.select(things.c.name))).scalars().all() == ["kept"]
