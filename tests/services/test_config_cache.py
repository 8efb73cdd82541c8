"""The guild config cache (ConfigService): a read after the first costs no query, a write
in this process is seen at once, and a change behind the bot's back lapses with the TTL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from bot.db.engine import create_engine, create_session_factory
from bot.db.models import GuildSettings
from bot.db.uow import Database
from bot.services.clock import ManualClock
from bot.services.config import ConfigService
from tests.services.helpers import GUILD, OTHER_GUILD, maint


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Statements:
    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._on)

    def _on(self, *_args: Any) -> None:
        self.count += 1


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[Any]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


async def set_by_sql(engine: Any, guild: int, **values: Any) -> None:
    table = GuildSettings.__table__  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        await conn.execute(sa.update(table).where(table.c.guild_id == guild).values(**values))


async def test_reads_are_cached_and_writes_seen_at_once(engine: Any, clock: ManualClock) -> None:
    ticker = Ticker()
    config = ConfigService(Database(create_session_factory(engine)), clock, monotonic=ticker)
    first = await config.get(GUILD)
    statements = Statements(engine)
    assert await config.get(GUILD) == first
    assert statements.count == 0

    changed = await config.update(maint(), claim_days=9, required_approvals=2)
    assert changed.rules.claim_days == 9
    before = statements.count
    seen = await config.get(GUILD)
    assert (seen.rules.claim_days, seen.rules.required_approvals) == (9, 2)
    assert statements.count == before  # the write refreshed the cache

    await config.set_milestone(maint(), 50, 777)
    assert (await config.get(GUILD)).milestones == ((50, 777),)
    await config.set_milestone(maint(), 50, None)
    assert (await config.get(GUILD)).milestones == ()

    other = await config.get(OTHER_GUILD)  # guilds are cached apart
    assert other.guild_id == OTHER_GUILD and other.rules.claim_days != 9


async def test_a_change_behind_the_bots_back_lapses_with_the_ttl(
    engine: Any, clock: ManualClock
) -> None:
    ticker = Ticker()
    config = ConfigService(
        Database(create_session_factory(engine)), clock, cache_seconds=60, monotonic=ticker
    )
    assert (await config.get(GUILD)).rules.claim_days is None
    await set_by_sql(engine, GUILD, claim_days=21)
    ticker.now += 59
    assert (await config.get(GUILD)).rules.claim_days is None  # still the cached settings
    ticker.now += 2
    assert (await config.get(GUILD)).rules.claim_days == 21
    await set_by_sql(engine, GUILD, claim_days=5)
    config.forget(GUILD)
    assert (await config.get(GUILD)).rules.claim_days == 5


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
async def test_a_read_racing_a_write_does_not_cache_the_old_settings(
    engine: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL only: there a read does not wait for a writer (SQLite's BEGIN IMMEDIATE
    makes the read wait for the write to commit, so it reads the new settings anyway)."""
    config = ConfigService(Database(create_session_factory(engine)), clock, monotonic=Ticker())
    await config.get(GUILD)
    config.forget(GUILD)
    reading, written = asyncio.Event(), asyncio.Event()
    from bot.db.repos.ledger import LedgerRepo

    original = LedgerRepo.milestones

    async def slow_milestones(self: LedgerRepo, guild_id: int) -> Any:
        rows = await original(self, guild_id)
        if not written.is_set():
            reading.set()
            await written.wait()  # the write commits while this read holds the old row
        return rows

    monkeypatch.setattr(LedgerRepo, "milestones", slow_milestones)
    read = asyncio.create_task(config.get(GUILD))
    await reading.wait()
    monkeypatch.setattr(LedgerRepo, "milestones", original)
    await config.update(maint(), claim_days=33)
    written.set()
    old = await read
    assert old.rules.claim_days is None  # that read began before the write: it saw the old row
    assert (await config.get(GUILD)).rules.claim_days == 33  # but did not cache it
