"""The unit of work: one session, one transaction, explicit commit, rollback on exit.

A read (`Database.read`) is a unit that writes nothing, and opens no transaction: each
statement reads the latest committed state on its own. On SQLite a read so neither
takes the write lock (BEGIN IMMEDIATE, which made every /task show wait for a sweep's
writes) nor needs a second thread hop to end; on PostgreSQL (autocommit) it sends no
BEGIN and no ROLLBACK. What one statement returns is
consistent; two statements may see different moments, so reads whose statements must
agree use `unit()`."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.repository import Repository

# The execution option a read's connection carries (see bot.db.engine's begin hook).
READ_ONLY = "peerboard_read_only"


class UnitOfWork:
    def __init__(
        self, factory: async_sessionmaker[AsyncSession], read: dict[str, Any] | None = None
    ) -> None:
        self._factory = factory
        self._read = read  # a read's execution options
        self._session: AsyncSession | None = None
        self._repo: Repository | None = None

    @property
    def repo(self) -> Repository:
        assert self._repo is not None, "use the unit of work inside `async with`"
        return self._repo

    async def __aenter__(self) -> UnitOfWork:
        if self._read is not None:
            self._session = self._factory(execution_options=self._read)
        else:
            self._session = self._factory()
        await self._session.begin()
        self._repo = Repository(self._session)
        return self

    async def commit(self) -> None:
        assert self._session is not None
        assert self._read is None, "a read writes nothing: use Database.unit()"
        await self._session.commit()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            # On error, roll back explicitly. Otherwise close() ends any uncommitted
            # transaction without expiring what was read, so results stay usable.
            if exc_type is not None and self._session.in_transaction():
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None
            self._repo = None


class Database:
    """What services hold: a way to open units of work."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        bind = factory.kw.get("bind")
        self._read: dict[str, Any] = {READ_ONLY: True}
        if bind is not None and bind.dialect.name == "postgresql":
            self._read["isolation_level"] = "AUTOCOMMIT"

    def unit(self) -> UnitOfWork:
        return UnitOfWork(self.factory)

    def read(self) -> UnitOfWork:
        """A unit for reading only (see the module's docstring)."""
        return UnitOfWork(self.factory, self._read)
