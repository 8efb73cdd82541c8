"""Past one process (issue 15, item 3): real `peerboard run` processes, sharded, on one
throwaway PostgreSQL, against the local stand-in for Discord (tests/support/fake_discord.py)
that routes guilds to shards by Discord's formula and enforces IDENTIFY's `shard`.

- Two processes, shards 0 and 1 of 2: each gets its shard's guilds; slash commands in
  guilds of both shards are delivered to the owning process and answered; a claim
  expiry and a digest in a guild of each shard go out once, by the owner.
- One of them killed with SIGKILL: work of its guilds that falls due while it is down
  is not done by the other, and is done once by its replacement.
- The misconfiguration of two processes both running shard 0: every reminder and the
  digest still go out once (the delivery log's leases, the digest's row per week).

Each process has its own token (`token_for`), so the stand-in can tell which one made a
call. Time is not driven: work is seeded already due (claims made a day ago, a digest
time two minutes ago), the sweep runs every 5 s (its smallest interval), and the test
awaits what arrives at the stand-in — and, before saying "never twice", two more sweeps of
every process (APScheduler's own INFO line when a sweep has run).
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.bootstrap import build_services
from bot.domain.model import Actor
from bot.services.clock import ManualClock
from tests.support.fake_discord import (
    FakeDiscord,
    FakeGuild,
    dm_channel_id,
    guild_id_on,
    sender,
    serving,
)
from tests.support.processes import Peerboard

pytestmark = pytest.mark.postgres

COUNT = 2
FAST = {
    "PEERBOARD_SWEEP_INTERVAL_SECONDS": "5",
    "PEERBOARD_DELIVERY_LEASE_SECONDS": "5",
    "PEERBOARD_DM_PER_MINUTE": "600",
    "PEERBOARD_SHARD_COUNT": str(COUNT),
    "PEERBOARD_LOG_LEVEL": "INFO",
}
SWEPT = r"interval\[0:00:05\].*executed successfully"  # APScheduler, after each sweep
EXPIRED = "ran out, so it's back on the board"
BACK = "is back on the board"


def claimant(guild: FakeGuild, k: int = 0) -> int:
    return guild.id % 10**9 * 10 + k + 1


def helper(guild: FakeGuild) -> int:
    return guild.id % 10**9 * 10 + 9


def world(fake: FakeDiscord, per_shard: int) -> list[list[FakeGuild]]:
    """`per_shard` guilds on each shard, each with two claimants and a helper."""
    shards: list[list[FakeGuild]] = []
    for shard in range(COUNT):
        guilds = []
        for n in range(per_shard):
            gid = guild_id_on(shard, COUNT, n)
            base = gid % 10**9 * 10
            guilds.append(fake.add_guild(gid, f"S{shard}G{n}", [base + 1, base + 2, base + 9]))
        shards.append(guilds)
    return shards


async def configure(url: str, guild: FakeGuild, *, digest_due: bool) -> None:
    """The guild's channels, and its digest time: two minutes ago (due now) or three days
    away (not due)."""
    now = datetime.now(UTC)
    at = now - timedelta(minutes=2) if digest_due else now + timedelta(days=3)
    runtime = build_services(url)
    try:
        await runtime.services.config.update(
            Actor(guild.id, guild.maintainer, is_maintainer=True),
            tasks_channel_id=guild.channels["tasks"],
            review_channel_id=guild.channels["review"],
            digest_channel_id=guild.channels["digest"],
            digest_day=at.weekday(),
            digest_time=at.strftime("%H:%M"),
        )
    finally:
        await runtime.close()


async def expired_claim(url: str, guild: FakeGuild, member_id: int, title: str) -> None:
    """A one-day claim made 25 hours ago: its expiry is due."""
    runtime = build_services(url, clock=ManualClock(datetime.now(UTC) - timedelta(hours=25)))
    try:
        maint = Actor(guild.id, guild.maintainer, is_maintainer=True)
        made = await runtime.services.tasks.create(maint, title, claim_days=1)
        await runtime.services.tasks.claim(Actor(guild.id, member_id), made.task.number)
    finally:
        await runtime.close()


def made(fake: FakeDiscord, channel_id: int, text: str = "") -> list[dict[str, Any]]:
    return [m for m in fake.in_channel(channel_id) if text in m["content"]]


def digests(fake: FakeDiscord, guild: FakeGuild) -> list[dict[str, Any]]:
    return [m for m in fake.in_channel(guild.channels["digest"]) if m["embeds"]]


def expiry_done(fake: FakeDiscord, guild: FakeGuild, k: int = 0) -> bool:
    return bool(made(fake, dm_channel_id(claimant(guild, k)), EXPIRED)) and any(
        BACK in m["content"] and f"Expiring {k}" in m["content"]
        for m in made(fake, guild.channels["tasks"])
    )


def callers(fake: FakeDiscord, guilds: Iterable[FakeGuild]) -> set[str]:
    """Which processes (token labels) called Discord about these guilds: their channels,
    their threads, their members' DMs."""
    channels: set[int] = set()
    for guild in guilds:
        channels |= set(guild.channels.values())
        channels |= {dm_channel_id(m) for m in guild.members}
        channels |= {t for t, v in fake.threads.items() if int(v["guild_id"]) == guild.id}
    return {
        sender(headers)
        for _method, path, headers, _body in fake.requests
        if path.startswith("/channels/") and int(path.split("/")[2]) in channels
    }


async def swept_twice_more(*processes: Peerboard) -> None:
    """Every process ran two more sweeps (and digest checks) from now on."""
    for process in processes:
        await process.line(SWEPT, process.count(SWEPT) + 2)


def no_message_twice(fake: FakeDiscord) -> None:
    nonces = [m["nonce"] for m in fake.created if m["nonce"] is not None]
    assert len(nonces) == len(set(nonces)), nonces
    texts = [(m["channel_id"], m["content"]) for m in fake.created if m["content"]]
    assert len(texts) == len(set(texts)), texts


async def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


# What a claim that ran out leaves in the delivery log: its warning skipped (the claim
# is over), the member's DM and the tasks channel's note sent.
KINDS = (("claim_warning", "skipped"), ("claim_expired", "sent"), ("back_on_board", "sent"))


async def delivery_log(url: str) -> dict[tuple[int, str, str, int], int]:
    """(guild, kind, status, attempts) -> how many rows: attempts 1 is one lease, one send."""
    found = await rows(
        url,
        "SELECT guild_id, kind, status, attempts, count(*) FROM deliveries"
        " GROUP BY guild_id, kind, status, attempts",
    )
    return {(g, k, s, a): n for g, k, s, a, n in found}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with serving(FakeDiscord(shard_count=COUNT)) as served:
        yield served


async def command(
    fake: FakeDiscord, processes: list[Peerboard], guild: FakeGuild, user: int, name: str, **o: Any
) -> list[str]:
    """A slash command, answered (a /task create: and its answer edited to link the card
    it posted): what the member was shown."""
    sent = await fake.slash(guild.id, user, name, **o)
    done = (lambda: bool(sent.edits)) if name == "task create" else (lambda: sent.answered)
    await fake.until(done, *(p.running() for p in processes))
    return sent.texts()


async def test_two_processes_of_two_shards_each_serve_their_guilds_once(
    fake: FakeDiscord, pg_url: str, tmp_path: Path
) -> None:
    (a0, b0), (a1, b1) = world(fake, per_shard=2)
    for guild in (a0, a1):
        await configure(pg_url, guild, digest_due=True)
        await expired_claim(pg_url, guild, claimant(guild), "Expiring 0")
    for guild in (b0, b1):
        await configure(pg_url, guild, digest_due=False)
    env = {"PEERBOARD_DATABASE_URL": pg_url, **FAST}
    p0 = await Peerboard.start(fake, tmp_path / "p0", "p0", PEERBOARD_SHARD_IDS="0", **env)
    p1 = await Peerboard.start(fake, tmp_path / "p1", "p1", PEERBOARD_SHARD_IDS="1", **env)
    live = [p0, p1]
    try:
        await fake.until(lambda: len(fake.sessions) == 2, *(p.running() for p in live))
        owned = {s.label: (s.shard, set(s.guild_ids)) for s in fake.sessions}
        assert owned == {"p0": ((0, 2), {a0.id, b0.id}), "p1": ((1, 2), {a1.id, b1.id})}

        # Commands in guilds of both shards, each answered by the process that owns it.
        for guild, number in ((a0, 2), (a1, 2), (b0, 1), (b1, 1)):
            created = await command(
                fake, live, guild, guild.maintainer, "task create", title="Map the river"
            )
            assert created[0] == f"Created **#{number} · Map the river** (1 point)."
            assert "Its card is in https://discord.com/channels/" in created[-1]
            claimed = await command(
                fake, live, guild, helper(guild), "task claim", task=str(number)
            )
            assert claimed[0].startswith(f"You claimed **#{number} · Map the river**")
        by_guild = {i.guild_id: i.session.label for i in fake.interactions.values()}
        assert by_guild == {a0.id: "p0", b0.id: "p0", a1.id: "p1", b1.id: "p1"}

        # The claim expiry and the digest of a guild of each shard: by the owner, once.
        await fake.until(
            lambda: all(expiry_done(fake, g) and digests(fake, g) for g in (a0, a1)),
            *(p.running() for p in live),
        )
        assert callers(fake, (a0, b0)) == {"p0"} and callers(fake, (a1, b1)) == {"p1"}

        # Shard 1's process dies; work of its guilds falls due while it is down.
        assert await p1.stop(signal.SIGKILL) == -signal.SIGKILL
        live = [p0]
        [gone] = [s for s in fake.sessions if s.label == "p1"]
        await fake.until(lambda: not gone.open, p0.running())
        await configure(pg_url, b1, digest_due=True)
        await expired_claim(pg_url, b1, claimant(b1), "Expiring 0")
        await expired_claim(pg_url, b0, claimant(b0), "Expiring 0")
        await fake.until(lambda: expiry_done(fake, b0), p0.running())
        await p0.line(SWEPT, p0.count(SWEPT) + 1)  # that sweep saw shard 1's work too
        assert not made(fake, dm_channel_id(claimant(b1))) and not digests(fake, b1)

        # Its replacement, with the same shard, gets its guilds and does that work, once.
        p1b = await Peerboard.start(fake, tmp_path / "p1b", "p1b", PEERBOARD_SHARD_IDS="1", **env)
        live = [p0, p1b]
        await fake.until(
            lambda: expiry_done(fake, b1) and digests(fake, b1), *(p.running() for p in live)
        )
        assert (fake.sessions[-1].label, set(fake.sessions[-1].guild_ids)) == (
            "p1b",
            {a1.id, b1.id},
        )
        await swept_twice_more(*live)
    finally:
        codes = {p.label: await p.stop() for p in live}
    assert codes == {p.label: 0 for p in live}, "\n".join(p.output() for p in live)

    no_message_twice(fake)
    for guild in (a0, a1, b0, b1):
        assert len(made(fake, dm_channel_id(claimant(guild)), EXPIRED)) == 1
        assert len(made(fake, guild.channels["tasks"], BACK)) == 1
        assert len(digests(fake, guild)) == (0 if guild is b0 else 1)
    assert callers(fake, (a0, b0)) == {"p0"}
    assert callers(fake, (a1, b1)) == {"p1", "p1b"}
    assert {
        sender(h) for _m, p, h, _b in fake.requests if str(dm_channel_id(claimant(b1))) in p
    } == {"p1b"}
    log = await delivery_log(pg_url)
    # Every delivery once. The survivor's are one lease and one send each; a delivery of
    # the killed process's guild may have been in flight at the SIGKILL (sent, not yet
    # recorded): its replacement leases it again (attempts 2) and finds it sent.
    assert {(g, k, s): n for (g, k, s, _a), n in log.items()} == {
        (guild.id, kind, status): 1 for guild in (a0, a1, b0, b1) for kind, status in KINDS
    }
    assert {a for (g, *_r, a) in log if g in (a0.id, b0.id, b1.id)} == {1}
    assert {a for (g, *_r, a) in log if g == a1.id} <= {1, 2}
    posted = await rows(pg_url, "SELECT guild_id, status FROM digest_posts ORDER BY guild_id")
    assert sorted(posted) == sorted((g.id, "posted") for g in (a0, a1, b1))


async def test_two_processes_that_both_claim_shard_0_still_send_everything_once(
    fake: FakeDiscord, pg_url: str, tmp_path: Path
) -> None:
    """A misconfiguration (both processes run shard 0; shard 1 has none): the two sweep
    the same guilds at the same moments, and every reminder and digest still goes out
    once — the delivery log's leases and unique keys, the digest's row per week."""
    (a0, b0), _shard1 = world(fake, per_shard=2)
    for guild in (a0, b0):
        await configure(pg_url, guild, digest_due=True)
        for k in range(2):
            await expired_claim(pg_url, guild, claimant(guild, k), f"Expiring {k}")
    env = {"PEERBOARD_DATABASE_URL": pg_url, "PEERBOARD_SHARD_IDS": "0", **FAST}
    live = [await Peerboard.start(fake, tmp_path / label, label, **env) for label in ("p0", "q0")]
    try:
        await fake.until(lambda: len(fake.sessions) == 2, *(p.running() for p in live))
        assert [s.guild_ids for s in fake.sessions] == [[a0.id, b0.id]] * 2
        await fake.until(
            lambda: all(
                expiry_done(fake, g, k) and digests(fake, g) for g in (a0, b0) for k in range(2)
            ),
            *(p.running() for p in live),
        )
        await swept_twice_more(*live)
    finally:
        codes = {p.label: await p.stop() for p in live}
    assert codes == {"p0": 0, "q0": 0}, "\n".join(p.output() for p in live)

    no_message_twice(fake)
    for guild in (a0, b0):
        for k in range(2):
            assert len(made(fake, dm_channel_id(claimant(guild, k)), EXPIRED)) == 1
        assert len(made(fake, guild.channels["tasks"], BACK)) == 2
        assert len(digests(fake, guild)) == 1
    assert await delivery_log(pg_url) == {
        (guild.id, kind, status, 1): 2 for guild in (a0, b0) for kind, status in KINDS
    }
    posted = await rows(pg_url, "SELECT status, count(*) FROM digest_posts GROUP BY status")
    assert posted == [("posted", 2)]
