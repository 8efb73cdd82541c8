"""Member text and task numbers on a real database, SQLite and PostgreSQL alike.

PostgreSQL refuses NUL in text and numbers past its 32-bit INTEGER, where SQLite takes
both: the same input must be cleaned (or refused) the same way on each backend, before a
statement is ever sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from bot.bootstrap import Runtime, build_services
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.inputs import TASK_NUMBER_MAX, parse_task_number
from bot.domain.model import Actor
from bot.services.clock import ManualClock
from bot.services.registry import Services
from tests.services.helpers import GUILD, maint, member

ALICE, BOB, CAROL = 11, 12, 13
NUL = "\x00"


@pytest.fixture
async def rt(db_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = build_services(db_url, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture
def services(rt: Runtime) -> Services:
    return rt.services


async def stored_text(rt: Runtime) -> list[str]:
    """Every text value in every table."""
    found: list[str] = []
    async with rt.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, AutoString | sa.String)]
            if not columns:
                continue
            rows = (await conn.execute(sa.select(*columns))).all()
            found += [v for row in rows for v in row if isinstance(v, str)]
    return found


async def test_nul_is_stripped_from_every_member_text(services: Services, rt: Runtime) -> None:
    tasks = services.tasks
    boss = maint()
    first = await tasks.create(
        boss, f"Fix{NUL} the footer", f"Details{NUL} here", 2, f"docs{NUL}, web"
    )
    assert first.task.title == "Fix the footer"
    assert first.task.description == "Details here"
    assert first.task.tags == ("docs", "web")
    number = first.task.number
    await tasks.edit(boss, number, title=f"Fix the{NUL} footer", description=f"{NUL}More")
    await tasks.claim(member(ALICE), number)
    await tasks.release(member(ALICE), number, f"Half{NUL} done")
    await tasks.claim(member(BOB), number)
    await tasks.submit(member(BOB), number, f"https://example.org/{NUL}pr/1", f"Notes{NUL} here")
    await tasks.request_changes(member(CAROL, reviewer=True), number, f"Needs{NUL} tests")
    await tasks.submit(member(BOB), number, None, f"Tests{NUL} added")
    await tasks.approve(member(CAROL, reviewer=True), number, f"Nice{NUL}!")
    proposal = await tasks.propose(member(ALICE), f"Trans{NUL}late", None, 1, None)
    await tasks.object(member(BOB), proposal.task.number, f"Not{NUL} now")
    await tasks.cancel(boss, proposal.task.number, f"Dup{NUL}licate")
    imported = await tasks.import_csv(
        boss,
        f"title,description,tags\nRow{NUL} one,Desc{NUL},a{NUL}b\n".encode(),
        UTC,
    )
    assert [v.title for v in imported] == ["Row one"]
    kudos = await services.recognition.give_kudos(
        Actor(GUILD, ALICE), BOB, False, f"Great{NUL} review"
    )
    assert kudos.reason == "Great review"
    view, history = await tasks.history(GUILD, number)
    assert view.title == "Fix the footer" and view.description == "More"
    notes = [h.note for h in history if h.note]
    assert "Half done" in notes and "Needs tests" in notes and "Nice!" in notes
    texts = await stored_text(rt)
    assert "https://example.org/pr/1" in texts and "Tests added" in texts
    assert not [t for t in texts if NUL in t]


async def test_text_with_nothing_visible_is_refused_on_both_backends(
    services: Services, rt: Runtime
) -> None:
    tasks = services.tasks
    for blank in (NUL, "\u200b\u200d", "\u3164", "\u2800", "\u202e", "\ufeff\u200e"):
        with pytest.raises(InvalidInput, match="needs a title"):
            await tasks.create(maint(), blank)
    number = (await tasks.create(maint(), "Real")).task.number
    with pytest.raises(InvalidInput, match="reason"):
        await tasks.cancel(maint(), number, f"\u200b{NUL}")
    with pytest.raises(InvalidInput, match="thanking"):
        await services.recognition.give_kudos(Actor(GUILD, ALICE), BOB, False, "\u200b")
    assert (await tasks.show(GUILD, number)).status.value == "open"


@pytest.mark.parametrize("number", [2_147_483_648, 9_223_372_036_854_775_808, 10**20])
async def test_numbers_past_postgres_integer_are_no_task(services: Services, number: int) -> None:
    """Past the bound no task exists: NotFound, on both backends, never a database error."""
    tasks = services.tasks
    await tasks.create(maint(), "Real")
    with pytest.raises(NotFound, match=f"no task #{number}"):
        await tasks.show(GUILD, number)
    with pytest.raises(NotFound):
        await tasks.claim(member(ALICE), number)
    with pytest.raises(NotFound):
        await tasks.history(GUILD, number)
    with pytest.raises(NotFound):
        await tasks.create(maint(), "Blocked", blocked_by=number)
    with pytest.raises(InvalidInput, match="that large"):
        parse_task_number(str(number))
    assert await tasks.suggest(GUILD, str(number), which="any") == ()


async def test_the_largest_number_fits_every_backend(services: Services) -> None:
    assert TASK_NUMBER_MAX < 2**31
    with pytest.raises(NotFound):
        await services.tasks.show(GUILD, TASK_NUMBER_MAX)
    assert await services.tasks.suggest(GUILD, str(TASK_NUMBER_MAX), which="any") == ()
