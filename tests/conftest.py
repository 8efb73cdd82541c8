"""Fixtures shared by every tier: a clock, and a migrated database per test.

The service and migration tiers run on both backends: SQLite (a real file in a temp
dir) and PostgreSQL (a throwaway server started once per session, see
tests/support/postgres.py). Each test gets a fresh database copied from a template
that was migrated once with Alembic, so tests exercise the migrated schema.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.db.engine import create_engine, create_session_factory
from bot.db.migrate import upgrade
from bot.db.uow import Database
from bot.services.clock import ManualClock
from bot.services.tasks import TaskService
from tests.support.pg_fixtures import pg_cluster, pg_empty_url, pg_template, pg_url  # noqa: F401


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "peerboard.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated database on each backend."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    engine = create_engine(db_url)
    try:
        yield Database(create_session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
def tasks(database: Database, clock: ManualClock) -> TaskService:
    return TaskService(database, clock)
