"""Engine and session factory. Built by the composition root, never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db.sqlite_driver import begin, begin_read, use_one_hop_cursors
from bot.db.uow import READ_ONLY

SQLITE_BUSY_TIMEOUT_MS = 10_000


def ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, pool_size: int | None = None) -> AsyncEngine:
    ensure_sqlite_folder(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        # Writers take the lock up front (BEGIN IMMEDIATE): a deferred transaction that
        # reads and then writes fails at once with SQLITE_BUSY when another writer got in
        # between, and the busy timeout cannot help it.
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        engine = create_async_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if pool_size is not None:
        kwargs["pool_size"] = pool_size
    kwargs["pool_pre_ping"] = True
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "asyncpg":
        # No JIT compilation: the bot's statements are short, and a planner estimate far
        # above a query's real cost (the digest's recursive streak query) made PostgreSQL
        # spend ~35 ms compiling a ~10 ms query.
        kwargs["connect_args"] = {"server_settings": {"jit": "off"}}
    return create_async_engine(url, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        use_one_hop_cursors(dbapi_conn)
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            # A read: each statement on its own (autocommit), no lock, nothing to end.
            begin_read(conn.connection.dbapi_connection)
            return
        # Sent with the transaction's first statement (one thread hop, not two).
        begin(conn.connection.dbapi_connection, "BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
