"""Engine and session factory. Built by the composition root, never at import."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.db import dialect
from bot.db.dialect import ensure_sqlite_folder

__all__ = ["create_engine", "create_session_factory", "ensure_sqlite_folder"]


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int | None = None,
    foreign_keys: bool = True,
    synchronous: str = dialect.DEFAULT_SYNCHRONOUS,
) -> AsyncEngine:
    """`foreign_keys=False`: SQLite's foreign keys off, for migrations only (see
    `dialect.foreign_key_violations`). `synchronous`: SQLite's, "full" or "normal" (see
    `dialect.SYNCHRONOUS`)."""
    ensure_sqlite_folder(url)
    options = dialect.engine_options(url, pool_size=pool_size)
    engine = create_async_engine(url, echo=echo, **options)
    dialect.configure(engine, foreign_keys=foreign_keys, synchronous=synchronous)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
