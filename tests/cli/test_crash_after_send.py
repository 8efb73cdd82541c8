"""A crash between sending a notice and recording it: the resend is deduplicated.

`peerboard run` (a real process) sends a claim warning by DM to the local stand-in for
Discord (tests/support/fake_discord.py), which makes the message and never answers; the
process is killed (SIGKILL) while it waits, so the delivery stays leased and unrecorded.
A new `peerboard run` sends it again once the lease has run out, with the same nonce and
`enforce_nonce`: the stand-in, honouring the nonce as Discord documents it, returns the
message it made. Exactly one message exists for that delivery, and it is recorded as sent.

Timing: the lease is the sweep interval (5 s, both public settings), so the second
process's first sweep — one interval after it started, after the kill — finds the lease
run out. A second warning, due after the first, is the sign that the first one's
round is over: the sweep sends its deliveries one after the other, in order of due time.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import make_url

from bot.bootstrap import build_services
from bot.services.clock import ManualClock
from tests.services.helpers import GUILD, maint, member
from tests.support.fake_discord import (
    TIMEOUT,
    FakeDiscord,
    dm_channel_id,
    serving,
    start_peerboard_run,
)

FIRST, SECOND = 2001, 2002  # the members whose claim warnings are due
FAST = {
    "PEERBOARD_SWEEP_INTERVAL_SECONDS": "5",
    "PEERBOARD_DELIVERY_LEASE_SECONDS": "5",
    "PEERBOARD_DM_PER_MINUTE": "600",
}


@pytest.fixture
async def discord_stand_in() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    async with serving(fake) as served:
        yield served


async def seed(url: str) -> None:
    """Two claims whose warnings are due now, the first one's earlier (1-day claims
    warn half-way)."""
    now = datetime.now(UTC)
    for n, (who, claimed) in enumerate(((FIRST, 13), (SECOND, 12.5)), start=1):
        runtime = build_services(url, clock=ManualClock(now - timedelta(hours=claimed)))
        try:
            await runtime.services.tasks.create(maint(), f"Task {n}", claim_days=1)
            await runtime.services.tasks.claim(member(who), n)
        finally:
            await runtime.close()


async def until(fake: FakeDiscord, seen: Callable[[], bool]) -> None:
    while not seen():
        fake.message_posted.clear()
        await fake.message_posted.wait()


def posts(fake: FakeDiscord) -> list[tuple[str, dict[str, Any]]]:
    return [(p, b) for m, p, _h, b in fake.requests if m == "POST" and p.endswith("/messages")]


async def stop(process: asyncio.subprocess.Process, how: signal.Signals) -> int:
    if process.returncode is None:
        process.send_signal(how)
    return await asyncio.wait_for(process.wait(), timeout=TIMEOUT)


async def test_a_dm_sent_before_a_crash_is_not_sent_twice_after_it(
    discord_stand_in: FakeDiscord, sqlite_url: str, tmp_path: Path
) -> None:
    fake = discord_stand_in
    await seed(sqlite_url)
    env = {**FAST, "PEERBOARD_DATABASE_URL": sqlite_url}
    log_file = tmp_path / "output.log"

    with log_file.open("wb") as output:
        fake.hold_answers = True  # Discord makes the message; its answer never arrives
        first = await start_peerboard_run(fake, tmp_path, output, **env)
        try:
            await asyncio.wait_for(until(fake, lambda: len(fake.created) == 1), TIMEOUT * 2)
        finally:
            assert await stop(first, signal.SIGKILL) == -signal.SIGKILL  # the crash
            fake.released.set()
        [(path, body)] = posts(fake)
        assert path == f"/channels/{dm_channel_id(FIRST)}/messages"
        nonce = body["nonce"]
        assert body["enforce_nonce"] is True and nonce.startswith("pb-d")

        fake.hold_answers = False
        second = await start_peerboard_run(fake, tmp_path, output, **env)
        try:
            # The second warning goes out after the first one's round is over.
            await asyncio.wait_for(
                until(fake, lambda: any(b["nonce"] != nonce for _p, b in posts(fake))),
                TIMEOUT * 2,
            )
        finally:
            code = await stop(second, signal.SIGTERM)
    assert code == 0, log_file.read_text()[-3000:]

    made = [m for m in fake.created if m["channel_id"] == str(dm_channel_id(FIRST))]
    assert len(made) == 1, made  # duplicates: 0
    sent = posts(fake)
    resent = [b for _p, b in sent if b["nonce"] == nonce]
    assert len(resent) == 2  # sent again after the crash, with the same nonce
    assert [m["channel_id"] for m in fake.created] == [
        str(dm_channel_id(FIRST)),
        str(dm_channel_id(SECOND)),
    ]
    database = make_url(sqlite_url).database
    assert database is not None
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT member_id, status, via, attempts FROM deliveries"
            " WHERE guild_id = ? AND kind = 'claim_warning' ORDER BY due_at",
            (GUILD,),
        ).fetchall()
    assert rows[0] == (FIRST, "sent", "dm", 2)  # recorded, on its second lease


async def test_the_stand_in_deduplicates_only_an_enforced_nonce(
    discord_stand_in: FakeDiscord,
) -> None:
    """As Discord documents it: a nonce is checked only with enforce_nonce; then the same
    nonce from the same author returns the first message instead of making another."""
    fake = discord_stand_in
    url = f"http://127.0.0.1:{fake.port}/api/v10/channels/77/messages"
    async with aiohttp.ClientSession() as session:

        async def send(**body: Any) -> str:
            async with session.post(url, json={"content": "hi", **body}) as response:
                assert response.status == 200
                return str((await response.json())["id"])

        first = await send(nonce="pb-d1", enforce_nonce=True)
        assert await send(nonce="pb-d1", enforce_nonce=True) == first
        assert await send(nonce="pb-d2", enforce_nonce=True) != first
        assert await send(nonce="pb-d1") != first  # not enforced: a new message
    assert len(fake.created) == 3
