"""A member's last seen Discord locale (LanguageService): stored when it changes, and only
then — an interaction in the locale already stored writes nothing, in this process or in
the next one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.db.engine import create_engine, create_session_factory
from bot.db.uow import Database
from bot.services.clock import ManualClock
from bot.services.languages import LanguageService
from tests.services.helpers import GUILD, OTHER_GUILD

WRITES = ("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")


class Statements:
    """What reaches the database, split into writes and the rest."""

    def __init__(self, engine: Any) -> None:
        self.writes: list[str] = []
        self.all = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._on)

    def _on(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.all += 1
        if statement.lstrip().upper().startswith(WRITES):
            self.writes.append(statement)


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[Any]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


def service(engine: Any, clock: ManualClock) -> LanguageService:
    return LanguageService(Database(create_session_factory(engine)), clock)


async def test_a_locale_is_written_only_when_it_changes(engine: Any, clock: ManualClock) -> None:
    languages = service(engine, clock)
    statements = Statements(engine)
    await languages.seen(GUILD, 7, "es-ES")
    assert statements.writes, "the first locale seen is stored"
    assert await languages.locale_of(GUILD, 7) == "es-ES"

    statements.writes.clear()
    before = statements.all
    for _ in range(5):
        assert languages.known(GUILD, 7, "es-ES")
        await languages.seen(GUILD, 7, "es-ES")
    assert statements.all == before  # not even a read: the process remembers it

    # The next process reads what is stored once, and writes nothing while it is the same.
    restarted = service(engine, clock)
    assert not restarted.known(GUILD, 7, "es-ES")
    await restarted.seen(GUILD, 7, "es-ES")
    assert statements.writes == []
    assert restarted.known(GUILD, 7, "es-ES")

    await restarted.seen(GUILD, 7, "de")
    assert statements.writes, "a new locale is stored"
    assert await service(engine, clock).locale_of(GUILD, 7) == "de"


async def test_locales_are_per_member_and_guild(engine: Any, clock: ManualClock) -> None:
    languages = service(engine, clock)
    await languages.seen(GUILD, 7, "fr")
    await languages.seen(OTHER_GUILD, 7, "pt-BR")
    await languages.seen(GUILD, 8, "en-US")
    fresh = service(engine, clock)
    assert await fresh.locale_of(GUILD, 7) == "fr"
    assert await fresh.locale_of(OTHER_GUILD, 7) == "pt-BR"
    assert await fresh.locale_of(GUILD, 8) == "en-US"
    assert await fresh.locale_of(GUILD, 9) is None
