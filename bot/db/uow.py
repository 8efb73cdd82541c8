"""The unit of work: one session, one transaction, explicit commit, rollback on exit.

Its repositories, one per aggregate, read and write within it: `uow.tasks`,
`uow.claims`, `uow.reviews` (reviews, submissions, votes), `uow.history`,
`uow.deliveries` (the outbox and the sweep's due work), `uow.ledger` (credits, scores,
kudos, milestones), `uow.guilds` (settings, members), `uow.digest`, `uow.export` (a guild's rows, page
by page) and `uow.github` (repositories, logins, task links, webhook deliveries).

A read (`Database.read`) is a unit that writes nothing, and opens no transaction: each
statement reads the latest committed state on its own (bot.db.dialect). On SQLite a read
so never takes the write lock (BEGIN IMMEDIATE, which made every /task show wait for a
sweep's writes); on PostgreSQL (autocommit) it sends no BEGIN and no ROLLBACK. What one
statement returns is consistent; two statements may see different moments, so reads
whose statements must agree use `unit()`.

A write a constraint refuses (`IntegrityError`, a concurrent duplicate) leaves the unit
as `bot.db.errors.Duplicate`."""

from __future__ import annotations

from types import TracebackType

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.db import dialect
from bot.db.errors import Duplicate
from bot.db.repos.cards import CardRepo
from bot.db.repos.claims import ClaimRepo
from bot.db.repos.deliveries import DeliveryRepo
from bot.db.repos.digest import DigestRepo
from bot.db.repos.export import ExportRepo
from bot.db.repos.github import GitHubRepoRepo
from bot.db.repos.guilds import GuildRepo
from bot.db.repos.history import HistoryRepo
from bot.db.repos.ledger import LedgerRepo
from bot.db.repos.reviews import ReviewRepo
from bot.db.repos.tasks import TaskRepo
from bot.domain.errors import Busy


class UnitOfWork:
    tasks: TaskRepo
    claims: ClaimRepo
    reviews: ReviewRepo
    history: HistoryRepo
    deliveries: DeliveryRepo
    ledger: LedgerRepo
    guilds: GuildRepo
    digest: DigestRepo
    export: ExportRepo
    cards: CardRepo
    github: GitHubRepoRepo

    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        dialect_name: str,
        read: dict[str, object] | None = None,
    ) -> None:
        self._factory = factory
        self._dialect = dialect_name
        self._read = read  # a read's execution options
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The unit's session: for the repositories, and for tests that seed or inspect
        rows directly. Services use the repositories."""
        assert self._session is not None, "use the unit of work inside `async with`"
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        if self._read is not None:
            session = self._factory(execution_options=self._read)
        else:
            session = self._factory()
        await session.begin()
        self._session = session
        name = self._dialect
        self.tasks = TaskRepo(session, name)
        self.claims = ClaimRepo(session, name)
        self.reviews = ReviewRepo(session, name)
        self.history = HistoryRepo(session, name)
        self.deliveries = DeliveryRepo(session, name)
        self.ledger = LedgerRepo(session, name)
        self.guilds = GuildRepo(session, name)
        self.digest = DigestRepo(session, name)
        self.export = ExportRepo(session, name)
        self.cards = CardRepo(session, name)
        self.github = GitHubRepoRepo(session, name)
        return self

    async def flush(self) -> None:
        """Send what the repositories added so far (rows get their ids)."""
        await self.session.flush()

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
        if isinstance(exc, IntegrityError):
            # Whether from a statement, a flush or the commit: the db layer's own error.
            raise Duplicate(str(exc.orig)) from exc
        if isinstance(exc, OperationalError) and dialect.is_busy(exc.orig):
            raise Busy() from exc


class Database:
    """What services hold: a way to open units of work."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        bind = factory.kw.get("bind")
        assert bind is not None, "a session factory bound to an engine (create_session_factory)"
        self.dialect: str = bind.dialect.name
        self._read = dialect.read_options(self.dialect)

    def unit(self) -> UnitOfWork:
        return UnitOfWork(self.factory, self.dialect)

    def read(self) -> UnitOfWork:
        """A unit for reading only (see the module's docstring)."""
        return UnitOfWork(self.factory, self.dialect, self._read)

    async def ping(self) -> None:
        """One trivial statement on the schema (raises if the database does not answer):
        a file replaced by an empty one has no `tasks` table and fails too."""
        async with self.read() as uow:
            await uow.session.execute(sa.text("SELECT 1 FROM tasks LIMIT 1"))

    def snapshot(self) -> UnitOfWork:
        """A read whose statements all see one moment, without blocking writers: for long
        reads that must agree with themselves (an export)."""
        return UnitOfWork(self.factory, self.dialect, dialect.snapshot_options(self.dialect))
