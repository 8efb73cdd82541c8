"""The real bot against SimCord on PostgreSQL: numbers past PostgreSQL's INTEGER
(2,147,483,647) and NUL in member text are answered kindly, never "Something went wrong"
(SQLite takes both where PostgreSQL raises)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import PeerBot
from bot.bootstrap import Runtime, build_bot, build_services
from tests.e2e.conftest import card_of, make_world, said, virtual_clock
from tests.e2e.helpers import create, refused

pytestmark = pytest.mark.postgres

PAST_INTEGER = ("2147483648", "#2147483648", "9223372036854775808", "99999999999999999999")


@pytest.fixture
async def runtime(pg_url: str) -> AsyncIterator[Runtime]:
    rt = build_services(pg_url, clock=virtual_clock())
    yield rt
    await rt.close()


@pytest.fixture
async def simcord_bot(runtime: Runtime) -> AsyncIterator[PeerBot]:
    bot = build_bot(runtime.services, scheduler=False)
    yield bot
    await bot.close()


async def test_numbers_past_postgres_integer_are_refused(simcord_env: Any) -> None:
    w = await make_world(simcord_env)
    await create(w, "Fix the footer")
    for raw in PAST_INTEGER:
        for command in ("task show", "task claim", "task history"):
            r = await w.alice.slash(w.general, command, task=raw)
            refused(r, "No task has a number that large")
        r = await w.maint.slash(w.general, "task create", title="Blocked", blocked_by=raw)
        refused(r, "No task has a number that large")
        assert await w.alice.autocomplete(w.general, "task claim", "task", raw) == []
    assert not simcord_env.errors


async def test_nul_in_member_text_is_stripped(simcord_env: Any) -> None:
    w = await make_world(simcord_env)
    number = await create(w, "Fix\x00 the footer", description="De\x00tails", tags="do\x00cs")
    card = card_of(w.tasks, number).embeds[0]
    assert card.title == f"#{number} · Fix the footer" and card.description == "Details"
    r = await w.alice.slash(w.general, "kudos", member=w.bob, reason="Great\x00 review")
    assert "Great review" in r.response.content
    r = await w.maint.slash(w.general, "task cancel", task=str(number), reason="Dup\x00licate")
    assert "Something went wrong" not in said(r)
    assert not simcord_env.errors
