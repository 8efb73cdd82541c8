"""The unit of work: one session, one transaction, explicit commit, rollback on exit."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db.repository import Repository


class UnitOfWork:
    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None
        self._repo: Repository | None = None

    @property
    def repo(self) -> Repository:
        assert self._repo is not None, "use the unit of work inside `async with`"
        return self._repo

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._factory()
        await self._session.begin()
        self._repo = Repository(self._session)
        return self

    async def commit(self) -> None:
        assert self._session is not None
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

    def unit(self) -> UnitOfWork:
        return UnitOfWork(self.factory)
