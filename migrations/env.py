"""Alembic environment: async engine, SQLModel metadata, batch mode for SQLite.

On SQLite the migration's connection has foreign keys off (batch mode rebuilds a table by
dropping it, which would cascade into every table pointing at it), and the foreign keys
are checked before COMMIT: a migration that leaves a row pointing at nothing fails and
is rolled back. See bot.db.dialect.foreign_key_violations.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.db.dialect import check_foreign_keys, lock_migrations
from bot.db.engine import create_engine
from bot.db.types import UTCDateTime

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("PEERBOARD_DATABASE_URL")
    if url:
        return str(url)
    from bot.settings import load_settings

    return load_settings().database_url_value()


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    # Migrations stay free of our own imports: UTCDateTime is stored as DateTime(timezone=True).
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj.__class__.__name__ == "AutoString":
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        # SQLite runs DDL in a transaction (the engine begins with BEGIN IMMEDIATE, see
        # bot.db.dialect): one transaction for the whole upgrade, so a failed step or the
        # foreign key check rolls every step back, as on PostgreSQL.
        transactional_ddl=True,
        render_item=render_item,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        lock_migrations(connection)  # before Alembic reads the revision
        context.run_migrations()
        check_foreign_keys(connection)


async def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # The caller's connection: on SQLite it must have foreign keys off already.
        _run_sync(connection)
        return
    engine = create_engine(database_url(), foreign_keys=False)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run_sync)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
