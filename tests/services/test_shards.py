"""Each process works only for the guilds of its shards (issue 15, item 2): the sweep's
reads and the digest select them by Discord's formula `(guild_id >> 22) % count`, in SQL
before the LIMIT, on both backends; and a change another process made to a guild's
settings is seen within one sweep."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from bot.bootstrap import build_services
from bot.domain.digest import Digest
from bot.domain.model import Reminder, Status
from bot.domain.shards import Shards
from bot.jobs.digest import post_due_digests
from bot.jobs.sweep import sweep
from bot.services.clock import ManualClock
from bot.services.config import GuildConfig
from bot.services.notify import Notice
from bot.services.registry import Services
from tests.services.helpers import maint, member

BOT = 999
ALICE, BOB = 11, 12
SHARD_0 = 1001  # (1001 >> 22) % 2 == 0
SHARD_1 = (1 << 22) + 1001  # (… >> 22) % 2 == 1
ZERO, ONE = Shards.only(2, 0), Shards.only(2, 1)
# Mondays 17:00 in Berlin: the digest of 5–11 January 2026 is due 12 January 16:00 UTC.
SLOT = datetime(2026, 1, 12, 16, 0, tzinfo=UTC)


@dataclass
class Sent:
    """Stands in for Discord at the Notifier and DigestPublisher ports."""

    notices: list[tuple[int, Reminder, int]] = field(default_factory=list)  # guild, kind, member
    digests: list[int] = field(default_factory=list)  # channel ids

    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        self.notices.append((notice.task.guild_id, notice.kind.name, notice.member_id))
        return "dm" if notice.member_id else "channel"

    async def publish(self, channel_id: int, digest: Digest) -> int:
        self.digests.append(channel_id)
        return 90_000 + len(self.digests)

    def guilds(self) -> set[int]:
        return {g for g, _k, _m in self.notices}


@pytest.fixture
async def processes(db_url: str, clock: ManualClock) -> AsyncIterator[tuple[Services, Services]]:
    """Two processes' services on one database: one for shard 0 of 2, one for shard 1."""
    first = build_services(db_url, clock=clock)
    second = build_services(db_url, clock=clock)
    try:
        yield first.services, second.services
    finally:
        await first.close()
        await second.close()


def test_the_guilds_are_on_different_shards() -> None:
    assert ZERO.owns(SHARD_0) and not ZERO.owns(SHARD_1)
    assert ONE.owns(SHARD_1) and not ONE.owns(SHARD_0)


async def claimed_in_each_guild(services: Services) -> None:
    for guild, who in ((SHARD_0, ALICE), (SHARD_1, BOB)):
        await services.tasks.create(maint(guild=guild), "Stale")
        await services.tasks.claim(member(who, guild=guild), 1)


async def test_each_shard_sweeps_its_own_guilds_once(
    processes: tuple[Services, Services], clock: ManualClock
) -> None:
    first, second = processes
    await claimed_in_each_guild(first)
    clock.advance(days=3)  # both claims expire (their warnings are due too)
    zero, one = Sent(), Sent()

    assert await first.reminders.has_work(ZERO)
    await sweep(first, zero, bot_id=BOT, dm_budget=100, shards=ZERO)
    assert zero.guilds() == {SHARD_0}
    assert (SHARD_0, Reminder.CLAIM_EXPIRED, ALICE) in zero.notices
    assert (await first.tasks.show(SHARD_0, 1)).status is Status.OPEN
    # Shard 1's guild is untouched: its claim is still on, nothing of it sent.
    assert (await first.tasks.show(SHARD_1, 1)).status is Status.CLAIMED
    assert not await first.reminders.has_work(ZERO)
    assert await second.reminders.has_work(ONE)

    await sweep(second, one, bot_id=BOT, dm_budget=100, shards=ONE)
    assert one.guilds() == {SHARD_1}
    assert (SHARD_1, Reminder.CLAIM_EXPIRED, BOB) in one.notices
    assert (await second.tasks.show(SHARD_1, 1)).status is Status.OPEN

    # Each once: later sweeps of either shard, or of every guild, send nothing again.
    sent = (list(zero.notices), list(one.notices))
    await sweep(first, zero, bot_id=BOT, dm_budget=100, shards=ZERO)
    await sweep(second, one, bot_id=BOT, dm_budget=100, shards=ONE)
    everything = Sent()
    await sweep(first, everything, bot_id=BOT, dm_budget=100)
    assert (zero.notices, one.notices, everything.notices) == (*sent, [])
    assert len(zero.notices) == len(set(zero.notices)) and len(one.notices) == len(set(one.notices))


async def test_a_batch_holds_only_its_shards_work(
    processes: tuple[Services, Services], clock: ManualClock
) -> None:
    """The shard filter is in the SQL, before the LIMIT: shard 1's process is handed shard
    1's delivery even when older ones of shard 0 come first in the index."""
    first, _second = processes
    await first.tasks.create(maint(guild=SHARD_0), "Old")
    await first.tasks.claim(member(ALICE, guild=SHARD_0), 1)
    clock.advance(hours=1)
    await first.tasks.create(maint(guild=SHARD_1), "New")
    await first.tasks.claim(member(BOB, guild=SHARD_1), 1)
    clock.advance(days=3)
    await first.reminders.enqueue_due(BOT, ZERO)
    await first.reminders.enqueue_due(BOT, ONE)
    [older] = await first.reminders.pending(limit=1)
    assert older.guild_id == SHARD_0
    [mine] = await first.reminders.pending(limit=1, shards=ONE)
    assert mine.guild_id == SHARD_1
    assert {d.guild_id for d in await first.reminders.pending(shards=ZERO)} == {SHARD_0}


async def test_each_shard_posts_its_own_guilds_digest_once(
    processes: tuple[Services, Services], clock: ManualClock
) -> None:
    first, second = processes
    for guild, channel in ((SHARD_0, 7000), (SHARD_1, 7001)):
        await first.config.update(
            maint(guild=guild),
            digest_channel_id=channel,
            digest_day=0,
            digest_time="17:00",
            digest_timezone="Europe/Berlin",
        )
    assert [s.guild_id for s in await first.digest.schedules(shards=ONE)] == [SHARD_1]
    clock.set(SLOT)
    zero, one = Sent(), Sent()
    assert (await post_due_digests(second, one, shards=ONE)).posted == [SHARD_1]
    assert one.digests == [7001]
    assert (await post_due_digests(first, zero, shards=ZERO)).posted == [SHARD_0]
    assert zero.digests == [7000]
    for services, shards, sent in ((first, ZERO, zero), (second, ONE, one)):
        assert (await post_due_digests(services, sent, shards=shards)).posted == []
    assert (await post_due_digests(first, Sent())).posted == []
    assert (zero.digests, one.digests) == ([7000], [7001])


async def test_a_change_made_by_another_process_is_seen_within_one_sweep(
    processes: tuple[Services, Services], clock: ManualClock
) -> None:
    bot, cli = processes  # the bot serving the guild, and an operator's CLI
    await bot.config.update(maint(guild=SHARD_0), digest_channel_id=7000)
    assert (await bot.config.get(SHARD_0)).digest_channel_id == 7000  # cached now
    await cli.config.update(maint(guild=SHARD_0), digest_channel_id=7001)
    assert (await bot.config.get(SHARD_0)).digest_channel_id == 7000  # not seen yet
    await sweep(bot, Sent(), bot_id=BOT, dm_budget=100)
    assert (await bot.config.get(SHARD_0)).digest_channel_id == 7001


async def test_every_shard_of_the_count_is_every_guild(
    processes: tuple[Services, Services], clock: ManualClock
) -> None:
    first, _second = processes
    await claimed_in_each_guild(first)
    clock.advance(days=3)
    sent = Sent()
    await sweep(first, sent, bot_id=BOT, dm_budget=100, shards=Shards.only(2, 0, 1))
    assert sent.guilds() == {SHARD_0, SHARD_1}


async def test_the_operators_counts_are_of_the_processs_own_guilds(
    processes: tuple[Services, Services], clock: ManualClock
) -> None:
    """/metrics of each process counts its own guilds' deliveries and cards, not all."""
    first, second = processes
    await claimed_in_each_guild(first)
    for guild in (SHARD_0, SHARD_1):
        await first.tasks.create(maint(guild=guild), "Has a card")
        await first.tasks.set_card(guild, 2, 500, 501, None)
    await first.tasks.claim(member(ALICE, guild=SHARD_1), 2)  # its card is owed an edit
    clock.advance(hours=36)  # a claim warning due in each guild
    await sweep(first, Sent(), bot_id=BOT, dm_budget=100, shards=ZERO)
    warning = (Reminder.CLAIM_WARNING.value, "sent")
    assert (await first.health.delivery_counts(ZERO))[warning] == 1
    assert (await first.health.delivery_counts(ONE))[warning] == 0
    assert (await first.health.delivery_counts())[warning] == 1  # unsharded: every guild
    await sweep(second, Sent(), bot_id=BOT, dm_budget=100, shards=ONE)
    assert (await second.health.delivery_counts(ONE))[warning] == 2  # #1 and #2 there
    assert (await second.health.delivery_counts())[warning] == 3
    assert (await first.cards.pending(ZERO), await first.cards.pending(ONE)) == (0, 1)
    assert await first.cards.pending() == 1
