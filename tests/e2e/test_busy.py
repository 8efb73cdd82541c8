"""Another writer holds the database's write lock past the busy timeout (a backup tool,
a second process, a long migration): a member's command answers within Discord's
3-second deadline that the board is busy, plainly, and changes nothing."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator

from sqlalchemy.engine import make_url

from bot.bootstrap import Runtime
from bot.db.dialect import SQLITE_BUSY_TIMEOUT_MS
from bot.domain.model import Status
from tests.e2e.conftest import World, said
from tests.e2e.helpers import create

DISCORD_DEADLINE_S = 3.0


@contextlib.contextmanager
def write_lock(sqlite_url: str) -> Iterator[None]:
    """Another connection's write transaction on the same file, held until the block ends."""
    path = make_url(sqlite_url).database
    assert path
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def test_a_claim_while_another_writer_holds_the_lock_says_the_board_is_busy(
    world: World, runtime: Runtime, sqlite_url: str
) -> None:
    w = world
    number = await create(w, "Fix the footer")
    assert SQLITE_BUSY_TIMEOUT_MS / 1000 < DISCORD_DEADLINE_S - 0.5
    with write_lock(sqlite_url):
        started = time.monotonic()
        r = await w.alice.slash(w.general, "task claim", task=str(number))
        waited = time.monotonic() - started
    assert r.ephemeral
    assert said(r) == "The board is busy — try again in a moment.", said(r)
    assert waited < DISCORD_DEADLINE_S
    view = await runtime.services.tasks.show(w.guild.id, number)
    assert view.status is Status.OPEN and view.claims == ()
    # Once the lock is free, the same command works.
    r = await w.alice.slash(w.general, "task claim", task=str(number))
    assert "You claimed" in said(r), said(r)
