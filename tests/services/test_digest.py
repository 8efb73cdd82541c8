"""The weekly digest on a real database (SQLite file, and PostgreSQL) with a controlled
clock: built from real work, due at the guild's local time, posted exactly once (double
runs, a second process, crashes, failures, /digest post), and rendered within Discord's
limits, also for a very busy week."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import discord
import pytest
import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import i18n
from bot.bootstrap import Runtime, build_services
from bot.db.engine import create_session_factory
from bot.db.models import ClaimRow, GuildMember, LedgerEntry, Task, TaskHistory
from bot.db.uow import Database
from bot.domain import digest as d
from bot.domain.digest import Digest, week_starting
from bot.domain.errors import PermissionDenied
from bot.jobs.digest import (
    Published,
    cron_for,
    job_id,
    post_due_digests,
    publish,
    schedule_guild,
)
from bot.services.clock import ManualClock
from bot.services.digest import STREAK_LOOKBACK, ClaimOutcome, DigestSchedule, PostState
from bot.services.notify import DeliveryFailed
from bot.services.registry import Services
from bot.ui.digest import as_text, render
from tests.services.helpers import GUILD, OTHER_GUILD, maint, member
from tests.support import digest_oracle as oracle

ALICE, BOB, CAROL, DAN = 11, 12, 13, 14
DIGEST_CHANNEL = 7000
BERLIN = ZoneInfo("Europe/Berlin")
# Mondays 17:00 in Berlin (CET, UTC+1): the digest of 5–11 January is due 12 January 16:00 UTC.
SLOT = datetime(2026, 1, 12, 16, 0, tzinfo=UTC)
WEEK = week_starting(date(2026, 1, 5), BERLIN)


@dataclass
class FakePublisher:
    """Stands in for Discord at the DigestPublisher port."""

    posted: list[tuple[int, Digest]] = field(default_factory=list)
    fail_with: list[DeliveryFailed] = field(default_factory=list)
    next_id: int = 90_000

    async def publish(self, channel_id: int, digest: Digest) -> int:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.posted.append((channel_id, digest))
        self.next_id += 1
        return self.next_id


@pytest.fixture
async def rt(db_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = build_services(db_url, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture
def services(rt: Runtime) -> Services:
    return rt.services


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


async def configure(services: Services, guild: int = GUILD, **changes: object) -> None:
    values: dict[str, object] = {
        "digest_channel_id": DIGEST_CHANNEL,
        "digest_day": 0,
        "digest_time": "17:00",
        "digest_timezone": "Europe/Berlin",
    }
    values.update(changes)
    await services.config.update(maint(guild=guild), **values)


async def finish(
    services: Services, title: str, worker: int, reviewer: int, points: int = 1, card: bool = True
) -> int:
    """A task goes the whole way: created, claimed, submitted, approved."""
    created = await services.tasks.create(maint(), title, points=points)
    number = created.task.number
    if card:
        await services.tasks.set_card(GUILD, number, 500, 8000 + number)
    await services.tasks.claim(member(worker), number)
    await services.tasks.submit(member(worker), number, link="https://example.org/pr")
    await services.tasks.approve(member(reviewer, reviewer=True), number)
    return number


async def run(services: Services, publisher: FakePublisher) -> list[int]:
    report = await post_due_digests(services, publisher)
    return report.posted


# -- building from real work ---------------------------------------------------------------------


async def test_the_digest_is_built_from_the_ledger_and_history_of_the_local_week(
    services: Services, clock: ManualClock
) -> None:
    await configure(services)
    clock.set(datetime(2026, 1, 4, 22, 30, tzinfo=UTC))  # Sunday 23:30 Berlin: the week before
    await finish(services, "Too early", ALICE, CAROL)
    clock.set(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    await finish(services, "Fix the footer", ALICE, CAROL, points=3)
    await finish(services, "Translate the FAQ", DAN, CAROL, points=5, card=False)
    await services.recognition.give_kudos(member(BOB), DAN, False, "Lovely translation")
    clock.set(datetime(2026, 1, 11, 23, 0, tzinfo=UTC))  # Monday 00:00 Berlin: the next week
    await finish(services, "Too late", BOB, CAROL)
    open_task = await services.tasks.create(maint(), "Help wanted here", tags="good first")

    clock.set(SLOT)
    digest = await services.digest.build(GUILD)
    assert digest.week == WEEK
    assert [(d.task.number, d.task.title, d.contributors, d.reviewers) for d in digest.done] == [
        (2, "Fix the footer", (ALICE,), (CAROL,)),
        (3, "Translate the FAQ", (DAN,), (CAROL,)),
    ]
    assert digest.done[0].task.url == f"https://discord.com/channels/{GUILD}/500/8002"
    assert digest.done[1].task.url is None
    assert [(r.member_id, r.reviews) for r in digest.reviewers] == [(CAROL, 2)]
    # Alice did her first task the week before; Dan's first is this week.
    assert [w.member_id for w in digest.newcomers] == [DAN]
    assert [(k.giver_id, k.receiver_id, k.reason) for k in digest.kudos] == [
        (BOB, DAN, "Lovely translation")
    ]
    assert [(t.member_id, t.points) for t in digest.top] == [(DAN, 5), (ALICE, 3), (CAROL, 2)]
    assert [(s.member_id, s.weeks) for s in digest.streaks] == [(ALICE, 2), (CAROL, 2)]
    assert [t.number for t in digest.oldest_open] == [open_task.task.number]
    assert digest.good_first == ()  # already listed as the oldest open task
    assert [(c.label, c.current, c.previous) for c in digest.numbers] == [
        ("Tasks done", 2, 1),
        ("Points", 10, 2),
        ("Reviews", 2, 1),
        ("Kudos", 1, 0),
        ("New contributors", 1, 1),
    ]


async def test_hidden_members_keep_credit_but_leave_the_top_lists(
    services: Services, clock: ManualClock
) -> None:
    await configure(services)
    await finish(services, "Fix the footer", ALICE, CAROL, points=3)
    await services.recognition.set_ranking_visible(member(ALICE), False)
    clock.set(SLOT)
    digest = await services.digest.build(GUILD)
    assert digest.done[0].contributors == (ALICE,)
    assert [w.member_id for w in digest.newcomers] == [ALICE]
    assert [t.member_id for t in digest.top] == [CAROL]


async def test_help_wanted_waiting_for_review_and_the_hygiene_list(
    services: Services, clock: ManualClock
) -> None:
    await configure(services)
    clock.set(datetime(2025, 11, 1, 12, tzinfo=UTC))
    old = (await services.tasks.create(maint(), "Untouched for ages")).task.number
    touched = (await services.tasks.create(maint(), "Claimed once lately")).task.number
    blocker = (await services.tasks.create(maint(), "Blocker")).task.number
    blocked = (
        await services.tasks.create(maint(), "Waits for the blocker", blocked_by=blocker)
    ).task.number
    clock.set(datetime(2026, 1, 8, 12, tzinfo=UTC))
    await services.tasks.claim(member(BOB), touched)
    await services.tasks.release(member(BOB), touched)
    first = (await services.tasks.create(maint(), "Fix a typo", tags="Good first")).task.number
    review = await services.tasks.create(maint(), "In review")
    await services.tasks.claim(member(ALICE), review.task.number)
    await services.tasks.submit(member(ALICE), review.task.number, link="https://x.org")

    clock.set(SLOT)
    digest = await services.digest.build(GUILD)
    assert [t.number for t in digest.oldest_open] == [old, touched, blocker, first]
    assert blocked not in [t.number for t in digest.oldest_open]  # can't be claimed yet
    assert digest.open_total == 4
    assert [t.number for t in digest.good_first] == []  # shown among the oldest already
    assert [w.task.number for w in digest.waiting] == [review.task.number]
    assert digest.waiting[0].since == datetime(2026, 1, 8, 12, tzinfo=UTC)
    # Open for 30+ days with no claim: not the one Bob claimed last week. Never closed.
    assert [w.task.number for w in digest.hygiene] == [old, blocker, blocked]
    assert (await services.tasks.show(GUILD, old)).status.value == "open"


async def test_only_maintainers_preview_or_post(services: Services) -> None:
    with pytest.raises(PermissionDenied, match="Only maintainers can preview the digest"):
        await services.digest.preview(member(ALICE))
    with pytest.raises(PermissionDenied, match="Only maintainers can post the digest"):
        await services.digest.start_post(member(ALICE))
    assert (await services.digest.preview(maint())).guild_id == GUILD


async def test_preview_is_of_the_week_posted_next(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    """Last week's digest until it is posted; then the week in progress (issue 13, bug 18)."""
    await configure(services)
    clock.set(SLOT - timedelta(hours=1))
    assert (await services.digest.preview(maint())).week == WEEK
    clock.set(SLOT)
    assert await run(services, publisher) == [GUILD]
    clock.set(SLOT + timedelta(days=2))  # Wednesday
    following = week_starting(date(2026, 1, 12), BERLIN)
    assert (await services.digest.preview(maint())).week == following
    assert (await services.digest.start_post(maint())) == WEEK  # /digest post: "already"


# -- due at the local time, posted exactly once -------------------------------------------------------


async def test_posted_at_the_local_time_once(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services)
    await finish(services, "Fix the footer", ALICE, CAROL)
    clock.set(SLOT - timedelta(seconds=1))
    assert await run(services, publisher) == []
    clock.set(SLOT)
    assert await run(services, publisher) == [GUILD]
    [(channel, digest)] = publisher.posted
    assert channel == DIGEST_CHANNEL and digest.week == WEEK
    record = await services.digest.record(GUILD, WEEK)
    assert record is not None and record.status is PostState.POSTED
    assert record.url == f"https://discord.com/channels/{GUILD}/{DIGEST_CHANNEL}/90001"
    # Every later check that day, and the next, finds it done.
    for hours in (0, 1, 12, 23.9, 25):
        clock.set(SLOT + timedelta(hours=hours))
        assert await run(services, publisher) == []
    assert len(publisher.posted) == 1
    # A week later, the next week's digest.
    clock.set(SLOT + timedelta(days=7))
    assert await run(services, publisher) == [GUILD]
    assert publisher.posted[-1][1].week.first_day == date(2026, 1, 12)


async def test_a_second_process_posts_nothing(
    services: Services, db_url: str, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services)
    other = build_services(db_url, clock=clock)
    try:
        clock.set(SLOT)
        other_publisher = FakePublisher()
        # Both check at once: one claims the week, the other finds it taken.
        reports = await asyncio.gather(
            post_due_digests(services, publisher), post_due_digests(other.services, other_publisher)
        )
        assert sorted(len(r.posted) for r in reports) == [0, 1]
        assert len(publisher.posted) + len(other_publisher.posted) == 1
        assert await run(other.services, other_publisher) == []
    finally:
        await other.close()


async def test_claims_race_and_exactly_one_wins(
    services: Services, db_url: str, clock: ManualClock
) -> None:
    await configure(services)
    other = build_services(db_url, clock=clock)
    try:
        claims = await asyncio.gather(
            services.digest.claim(GUILD, WEEK), other.services.digest.claim(GUILD, WEEK)
        )
        assert sorted(c.outcome.value for c in claims) == ["busy", "claimed"]
    finally:
        await other.close()


@pytest.mark.parametrize(("late", "posted"), [(23.5, True), (24, False), (70, False)])
async def test_a_bot_that_was_down_posts_when_less_than_a_day_late(
    services: Services, clock: ManualClock, publisher: FakePublisher, late: float, posted: bool
) -> None:
    await configure(services)
    clock.set(SLOT + timedelta(hours=late))
    assert await run(services, publisher) == ([GUILD] if posted else [])


async def test_the_time_follows_the_timezone_and_daylight_saving(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    # Mondays 09:00 in New York; DST starts there on Sunday 8 March 2026.
    await configure(services, digest_time="09:00", digest_timezone="America/New_York")
    clock.set(datetime(2026, 3, 2, 13, 59, tzinfo=UTC))  # 08:59 EST
    assert await run(services, publisher) == []
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # 09:00 EST
    assert await run(services, publisher) == [GUILD]
    clock.set(datetime(2026, 3, 9, 12, 59, tzinfo=UTC))  # 08:59 EDT
    assert await run(services, publisher) == []
    clock.set(datetime(2026, 3, 9, 13, 0, tzinfo=UTC))  # 09:00 EDT
    assert await run(services, publisher) == [GUILD]
    covered = publisher.posted[-1][1].week
    assert covered.first_day == date(2026, 3, 2)
    assert covered.end - covered.start == timedelta(hours=167)


async def test_changing_the_timezone_after_posting_does_not_post_the_week_again(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services)
    clock.set(SLOT)
    assert await run(services, publisher) == [GUILD]
    # Same Monday, 19:00 in Berlin; now it's 17:00 in London: the same local week.
    clock.set(SLOT + timedelta(hours=2))
    await configure(services, digest_timezone="Europe/London")
    assert await run(services, publisher) == []
    assert len(publisher.posted) == 1


async def test_a_disabled_digest_is_never_due(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services, digest_enabled=False)
    clock.set(SLOT)
    assert await run(services, publisher) == []
    assert await services.digest.due() == []


async def test_without_a_digest_channel_the_week_is_skipped_and_recorded(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await services.config.update(maint(), digest_timezone="Europe/Berlin")  # no channel
    clock.set(SLOT)
    report = await post_due_digests(services, publisher)
    assert (report.posted, report.skipped) == ([], [GUILD])
    record = await services.digest.record(GUILD, WEEK)
    assert record is not None and record.status is PostState.SKIPPED
    assert await services.digest.due() == []  # nothing left to ask about
    # A maintainer can still post that week by hand, once.
    first = await publish(services, publisher, GUILD, WEEK, 4242, manual=True)
    assert first.outcome is Published.POSTED
    again = await publish(services, publisher, GUILD, WEEK, 4242, manual=True)
    assert again.outcome is Published.ALREADY
    assert again.record is not None and again.record.url == first.record.url  # type: ignore[union-attr]
    assert len(publisher.posted) == 1


async def test_posting_by_hand_first_means_the_schedule_sends_nothing(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services)
    clock.set(SLOT - timedelta(hours=5))  # Monday morning: last week is complete
    week = await services.digest.start_post(maint())
    assert week == WEEK
    result = await publish(services, publisher, GUILD, week, DIGEST_CHANNEL, manual=True)
    assert result.outcome is Published.POSTED
    clock.set(SLOT)
    assert await run(services, publisher) == []
    assert len(publisher.posted) == 1


async def test_a_failed_post_is_retried_later_and_then_posted_once(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services)
    publisher.fail_with.append(DeliveryFailed("403 50013: Missing Permissions", transient=False))
    clock.set(SLOT)
    report = await post_due_digests(services, publisher)
    assert report.failed == [GUILD]
    record = await services.digest.record(GUILD, WEEK)
    assert record is not None and record.status is PostState.FAILED
    clock.set(SLOT + timedelta(minutes=5))  # waits before trying again
    assert await run(services, publisher) == []
    clock.set(SLOT + timedelta(minutes=10))
    assert await run(services, publisher) == [GUILD]
    clock.set(SLOT + timedelta(minutes=30))
    assert await run(services, publisher) == []
    assert len(publisher.posted) == 1


async def test_a_crash_while_posting_leaves_a_lease_that_runs_out(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services)
    clock.set(SLOT)
    claim = await services.digest.claim(GUILD, WEEK)  # ... and the process dies here
    assert claim.outcome is ClaimOutcome.CLAIMED
    assert await run(services, publisher) == []  # someone holds it
    manual = await publish(services, publisher, GUILD, WEEK, DIGEST_CHANNEL, manual=True)
    assert manual.outcome is Published.BUSY  # a maintainer can't double-post it either
    clock.set(SLOT + timedelta(minutes=5))
    assert await run(services, publisher) == [GUILD]
    assert len(publisher.posted) == 1


async def test_guilds_are_independent(
    services: Services, clock: ManualClock, publisher: FakePublisher
) -> None:
    await configure(services)
    await configure(services, guild=OTHER_GUILD, digest_time="18:00")
    clock.set(SLOT)
    assert await run(services, publisher) == [GUILD]
    clock.set(SLOT + timedelta(hours=1))
    assert await run(services, publisher) == [OTHER_GUILD]
    report = await post_due_digests(services, publisher, guild_ids=frozenset({GUILD}))
    assert report.posted == []


# -- the scheduler's jobs ---------------------------------------------------------------------------


def test_one_cron_job_per_guild_at_its_local_time() -> None:
    schedule = DigestSchedule(GUILD, 0, "17:00", "Europe/Berlin", True, DIGEST_CHANNEL)
    trigger = cron_for(schedule)
    after = datetime(2026, 3, 24, tzinfo=UTC)
    assert trigger.get_next_fire_time(None, after) == datetime(2026, 3, 30, 17, tzinfo=BERLIN)
    assert trigger.get_next_fire_time(None, after).astimezone(UTC).hour == 15  # CEST


async def test_schedule_guild_adds_replaces_and_removes_the_job() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start(paused=True)
    ran: list[int] = []

    async def run_guild(guild_id: int) -> None:
        ran.append(guild_id)

    try:
        schedule = DigestSchedule(GUILD, 0, "17:00", "Europe/Berlin", True, None)
        schedule_guild(scheduler, schedule, run_guild)
        job = scheduler.get_job(job_id(GUILD))
        assert job is not None and job.args == (GUILD,)
        assert str(job.trigger) == "cron[day_of_week='0', hour='17', minute='0']"
        schedule_guild(
            scheduler, DigestSchedule(GUILD, 4, "08:30", "Asia/Tokyo", True, None), run_guild
        )
        job = scheduler.get_job(job_id(GUILD))
        assert str(job.trigger) == "cron[day_of_week='4', hour='8', minute='30']"
        assert str(job.trigger.timezone) == "Asia/Tokyo"
        assert len(scheduler.get_jobs()) == 1
        schedule_guild(
            scheduler, DigestSchedule(GUILD, 4, "08:30", "Asia/Tokyo", False, None), run_guild
        )
        assert scheduler.get_job(job_id(GUILD)) is None
    finally:
        scheduler.shutdown(wait=False)


# -- rendering within Discord's limits -----------------------------------------------------------------


def check_limits(messages: list[list[discord.Embed]]) -> None:
    assert messages
    for embeds in messages:
        assert 1 <= len(embeds) <= 10
        assert sum(len(e) for e in embeds) <= 6000
        for e in embeds:
            assert len(e.title or "") <= 256
            assert len(e.description or "") <= 4096
            assert len(e.fields) <= 25
            for f in e.fields:
                assert len(f.name) <= 256 and len(f.value) <= 1024
            assert len(e.footer.text or "") <= 2048


async def seed_large_week(services: Services, rt: Runtime, done: int = 200) -> None:
    """A very busy week, written straight to the tables: `done` tasks finished, each by
    two people with a long title and reviewed by two more, 60 long kudos, a full board."""
    db = Database(create_session_factory(rt.engine))
    base = WEEK.start + timedelta(hours=1)
    async with db.unit() as uow:
        await uow.guilds.ensure_guild(GUILD, base)
        for i in range(done + 60):
            at = base + timedelta(minutes=20 * i)
            status = "done" if i < done else ("open" if i < done + 40 else "in_review")
            uow.session.add(
                Task(
                    guild_id=GUILD,
                    number=i + 1,
                    title=f"**Task** {i} @everyone " + "x" * 70,
                    points=13,
                    tags=",good first," if i % 2 else "",
                    status=status,
                    creator_id=1,
                    card_channel_id=500,
                    card_message_id=10**17 + i,
                    status_changed_at=at - timedelta(days=40 if status == "open" else 0),
                    created_at=at - timedelta(days=40),
                    updated_at=at,
                )
            )
        await uow.flush()
        tasks = {
            t.number: t for t in (await uow.tasks.list_tasks(GUILD, None, None, None, 0, 1000))[0]
        }
        for i in range(done):
            task = tasks[i + 1]
            assert task.id is not None
            at = base + timedelta(minutes=20 * i)
            uow.session.add(
                TaskHistory(
                    guild_id=GUILD,
                    task_id=task.id,
                    actor_id=3,
                    action="approve",
                    from_status="in_review",
                    to_status="done",
                    created_at=at,
                )
            )
            workers = (10**17 + 2 * i, 10**17 + 2 * i + 1)
            reviewers = (10**17 + 5000 + i, 10**17 + 6000 + i)
            for m in workers:
                uow.session.add(
                    LedgerEntry(
                        guild_id=GUILD, member_id=m, kind="task", points=13, task_id=task.id,
                        created_at=at,
                    )
                )  # fmt: skip
            for m in reviewers:
                uow.session.add(
                    LedgerEntry(
                        guild_id=GUILD, member_id=m, kind="review", points=1, task_id=task.id,
                        created_at=at,
                    )
                )  # fmt: skip
        for i in range(60):
            uow.session.add(
                LedgerEntry(
                    guild_id=GUILD,
                    member_id=10**17 + i,
                    kind="kudos",
                    giver_id=10**17 + 100 + i,
                    reason=f"@here thanks [{i}](https://evil.example) " + "y" * 160,
                    created_at=base + timedelta(hours=i),
                )
            )
        await uow.commit()


async def test_a_week_with_200_done_tasks_stays_within_discords_limits(
    services: Services, rt: Runtime, clock: ManualClock
) -> None:
    await seed_large_week(services, rt)
    clock.set(SLOT)
    digest = await services.digest.build(GUILD)
    # The lists hold the first LIST_LIMIT (more than a section can show) and count the rest.
    assert len(digest.done) == 100 and digest.done_total == 200
    assert len(digest.kudos) == 60 and digest.kudos_total == 60
    assert len(digest.newcomers) == 100 and digest.newcomers_total == 400
    assert digest.people == 800
    messages = render(i18n.texts(), digest)
    check_limits(messages)
    assert len(messages) <= 4
    text = as_text(messages)
    assert "…and " in text and "more tasks done" in text
    # "…and N more" counts against the whole week, not the listed hundred.
    [done_embed] = [e for m in messages for e in m if e.title == "✅ Done this week"]
    assert done_embed.description is not None
    shown = done_embed.description.count("\n")  # one line per task, then the "more" line
    more = re.search(r"…and (\d+) more tasks done", done_embed.description)
    assert more is not None and shown + int(more.group(1)) == 200
    assert "more kudos" in text and "more newcomers" in text
    # Lists cut by the query count against their totals: 40 open tasks, 20 in review.
    assert "…and 35 more open tasks" in text
    assert "…and 16 more in review" in text
    # Member text can't ping or shape links, even in embeds.
    assert "@everyone" not in text and "@here" not in text
    assert re.search(r"(?<!\\)\[\d+\]\(https://evil", text) is None  # no masked links
    assert "\\*\\*Task\\*\\*" in text


async def test_a_quiet_week_says_so_kindly_and_still_lists_help_wanted(
    services: Services, clock: ManualClock
) -> None:
    await configure(services)
    clock.set(datetime(2025, 12, 1, tzinfo=UTC))
    await services.tasks.create(maint(), "Write the docs")
    await services.tasks.create(maint(), "Fix a typo", tags="good first")
    clock.set(SLOT)
    digest = await services.digest.build(GUILD)
    assert digest.quiet
    messages = render(i18n.texts(), digest)
    check_limits(messages)
    [[header, help_wanted, hygiene]] = messages
    assert header.description is not None
    assert header.description.startswith("A quiet week: no tasks were finished")
    assert "That's alright" in header.description
    assert header.fields[0].value == "**0** (= same vs 0)"
    assert help_wanted.title == "🙋 Help wanted"
    assert [f.name for f in help_wanted.fields] == ["Waiting longest"]
    assert "#1 · Write the docs" in help_wanted.fields[0].value
    assert "#2 · Fix a typo" in help_wanted.fields[0].value
    assert hygiene.title == "🧹 For maintainers: tasks nobody has claimed in 30 days"


async def test_render_section_by_section(services: Services, clock: ManualClock) -> None:
    await configure(services)
    clock.set(datetime(2025, 12, 30, 12, tzinfo=UTC))
    await finish(services, "Old one", ALICE, CAROL, points=2)
    clock.set(datetime(2026, 1, 6, 12, tzinfo=UTC))
    n = await finish(services, "Fix [the] *footer* @everyone", ALICE, CAROL, points=3)
    await finish(services, "Translate the FAQ", DAN, ALICE, points=5, card=False)
    await services.recognition.give_kudos(member(BOB), DAN, False, "Great _work_ <@&1> @here")
    clock.set(SLOT)
    [embeds] = render(i18n.texts(), await services.digest.build(GUILD))
    titles = [e.title for e in embeds]
    assert titles == [
        "🌟 Weekly digest · 5–11 January 2026",
        "✅ Done this week",
        "🔍 Reviewers thanked",
        "🌱 First-time contributors",
        "💬 Kudos",
        "🏆 Top contributors",
        "🙋 Help wanted",
    ]
    header, done, reviewers, newcomers, kudos, top, help_wanted = embeds
    assert (
        header.description
        == "2 tasks done by 3 people, with 2 reviews and 1 kudos. Thank you, everyone! 🎉"
    )
    assert [(f.name, f.value) for f in header.fields] == [
        ("Tasks done", "**2** (▲ 1 vs 1)"),
        ("Points", "**10** (▲ 7 vs 3)"),
        ("Reviews", "**2** (▲ 1 vs 1)"),
        ("Kudos", "**1** (▲ 1 vs 0)"),
        ("New contributors", "**1** (= same vs 1)"),
    ]
    card = f"https://discord.com/channels/{GUILD}/500/{8000 + n}"
    assert done.description == (
        f"[#{n} · Fix (the) \\*footer\\* @\u200beveryone]({card}) · 3 pts — by <@{ALICE}> · reviewed by <@{CAROL}>\n"
        f"**#{n + 1} · Translate the FAQ** · 5 pts — by <@{DAN}> · reviewed by <@{ALICE}>"
    )
    assert reviewers.description == (
        "Reviews keep the board honest. Thank you:\n"
        f"<@{ALICE}> — 1 review: **#{n + 1}**\n"  # a tie: same time, then by id
        f"<@{CAROL}> — 1 review: [#{n}]({card})"
    )
    assert (
        newcomers.description
        == f"Welcome, <@{DAN}>! — first task: **#{n + 1} · Translate the FAQ**"
    )
    assert kudos.description == f"“Great \\_work\\_ <@&1> @\u200bhere” — <@{BOB}> to <@{DAN}>"
    assert top.description == (
        f"🥇 <@{DAN}> — 5 points (1 task)\n"
        f"🥈 <@{ALICE}> — 4 points (1 task, 1 review)\n"
        f"🥉 <@{CAROL}> — 1 point (1 review)"
    )
    assert [(f.name, f.value) for f in top.fields] == [
        ("Streaks", f"🔥 <@{ALICE}> — 2 weeks in a row\n🔥 <@{CAROL}> — 2 weeks in a row")
    ]
    assert (
        help_wanted.description
        == "Nothing is open on the board right now. Ideas welcome: `/task propose`."
    )


# -- the database counts what the rows say ----------------------------------------------------------
# DigestService.summary counts, ranks and cuts the week in SQL; the oracle's `summarize`
# computes the same from the raw rows. On random guilds (ties in time, rows on the weeks'
# edges, reopened tasks, gone tasks, hidden members, blockers, claims of every age, a
# second guild's rows as noise), both must agree exactly.

EDGE_WEEK = week_starting(date(2026, 3, 30), BERLIN)  # after a daylight-saving change


async def seed_random_guild(rt: Runtime, rng: random.Random, guild: int, now: datetime) -> None:
    start = EDGE_WEEK.start - timedelta(weeks=12)
    span = (EDGE_WEEK.end + timedelta(days=2) - start).total_seconds()
    last_week = week_starting(date(2026, 3, 23), BERLIN).start
    recent = (EDGE_WEEK.end - last_week).total_seconds()
    moments = [start + timedelta(seconds=rng.randrange(int(span))) for _ in range(15)]
    moments += [last_week + timedelta(seconds=rng.randrange(int(recent))) for _ in range(12)]
    moments += [EDGE_WEEK.start, EDGE_WEEK.end, last_week]  # on the edges

    def when() -> datetime:  # few distinct moments: ties are common
        return rng.choice(moments)

    members = [guild * 100 + i for i in range(12)]
    newcomers = [guild * 100 + 50 + i for i in range(4)]  # credit in the last two weeks only
    async with rt.engine.begin() as conn:
        tasks = []
        for number in range(1, 41):
            created = when() - timedelta(days=rng.randrange(0, 90))
            card = rng.random() < 0.5
            tasks.append(
                {
                    "guild_id": guild,
                    "number": number,
                    "title": f"Task {number}",
                    "points": rng.randrange(0, 6),
                    "tags": rng.choice(["", ",good first,", ",docs,", ",beginner,docs,"]),
                    "capacity": rng.choice([1, 1, 2]),
                    "status": rng.choice(
                        ["open", "open", "open", "claimed", "in_review", "done", "cancelled"]
                    ),
                    "creator_id": members[0],
                    "card_channel_id": 500 if card else None,
                    "card_message_id": 9000 + number if card else None,
                    "status_changed_at": min(now, created + timedelta(days=rng.randrange(60))),
                    "created_at": created,
                    "updated_at": created,
                }
            )
        await conn.execute(sa.insert(Task), tasks)
        ids = list(
            (await conn.execute(sa.select(Task.id).where(Task.guild_id == guild))).scalars()  # type: ignore[arg-type]
        )
        for task_id in rng.sample(ids, 6):
            blocker = rng.choice(ids)
            if blocker != task_id:
                await conn.execute(
                    sa.update(Task).where(Task.id == task_id).values(blocked_by_id=blocker)  # type: ignore[arg-type]
                )
        claims, active = [], set()
        for _ in range(30):
            claimed = now - timedelta(days=rng.choice([30, rng.randrange(0, 70)]))  # 30: cutoff
            ended = rng.choice([None, claimed + timedelta(days=rng.randrange(0, 10))])
            task_id, holder = rng.choice(ids), rng.choice(members)
            if ended is None and (task_id, holder) in active:
                ended = claimed  # one active claim per member and task
            active |= {(task_id, holder)} if ended is None else set()
            claims.append(
                {
                    "task_id": task_id,
                    "guild_id": guild,
                    "member_id": holder,
                    "claimed_at": claimed,
                    "expires_at": claimed + timedelta(days=14),
                    "ended_at": ended,
                }
            )
        await conn.execute(sa.insert(ClaimRow), claims)
        history = [
            {
                "guild_id": guild,
                "task_id": rng.choice(ids),
                "actor_id": rng.choice(members),
                "action": "approve",
                "from_status": "in_review",
                "to_status": rng.choice(["done", "done", "claimed"]),
                "created_at": when(),
            }
            for _ in range(40)
        ]
        await conn.execute(sa.insert(TaskHistory), history)
        ledger = []
        for i in range(140):
            kind = rng.choice(["task", "task", "review", "kudos"])
            newcomer = i >= 120
            ledger.append(
                {
                    "guild_id": guild,
                    "member_id": rng.choice(newcomers if newcomer else members),
                    "kind": kind,
                    "points": rng.randrange(0, 5) if kind != "kudos" else 0,
                    "task_id": None if kind == "kudos" or rng.random() < 0.1 else rng.choice(ids),
                    "giver_id": rng.choice(members) if kind == "kudos" else None,
                    "reason": f"thanks {rng.randrange(100)}" if kind == "kudos" else "",
                    "created_at": rng.choice(moments[15:]) if newcomer else when(),
                }
            )
        # Credit is once per (task, member, kind): the ledger's unique index keeps the first.
        once: dict[tuple[object, ...], dict[str, object]] = {}
        for i, row in enumerate(ledger):
            key = (row["task_id"], row["member_id"], row["kind"])
            once.setdefault(key if row["task_id"] is not None else (i,), row)
        await conn.execute(sa.insert(LedgerEntry), list(once.values()))
        await conn.execute(
            sa.insert(GuildMember),
            [
                {"guild_id": guild, "member_id": m, "ranking_visible": False, "updated_at": now}
                for m in rng.sample(members, 2)
            ],
        )


async def raw_summary(rt: Runtime, guild: int, now: datetime) -> d.WeekSummary:
    """The summary computed in Python from every row of the guild (no SQL counting)."""
    week, tz = EDGE_WEEK, BERLIN

    def fact(t: Any) -> d.TaskFact:
        tags = tuple(x for x in t.tags.split(",") if x)
        url = d.card_url(guild, t.card_channel_id, t.card_message_id)
        return d.TaskFact(
            t.id, t.number, t.title, t.points, t.status, tags, url, t.status_changed_at
        )

    async with rt.engine.connect() as conn:

        async def rows(model: Any, *order: Any) -> list[Any]:
            stmt = sa.select(model.__table__).where(model.guild_id == guild).order_by(*order)
            return list((await conn.execute(stmt)).all())

        tasks = await rows(Task, Task.id)
        claims = await rows(ClaimRow, ClaimRow.id)
        history = await rows(TaskHistory, TaskHistory.id)
        ledger = await rows(LedgerEntry, LedgerEntry.created_at, LedgerEntry.id)
        members = await rows(GuildMember)
    by_id = {t.id: t for t in tasks}
    credits = [
        oracle.CreditFact(r.member_id, d.CreditKind(r.kind), r.points, r.task_id, r.created_at,
                     r.giver_id, r.reason)
        for r in ledger
    ]  # fmt: skip
    first: dict[int, datetime] = {}
    for c in credits:
        if c.kind is d.CreditKind.TASK:
            first[c.member_id] = min(first.get(c.member_id, c.created_at), c.created_at)
    since = week.start - STREAK_LOOKBACK
    times: dict[int, list[datetime]] = {}
    for c in credits:
        if c.kind is not d.CreditKind.KUDOS and since <= c.created_at < week.end:
            times.setdefault(c.member_id, []).append(c.created_at)

    def claimable(t: Any) -> bool:
        blocker = by_id.get(t.blocked_by_id)
        return t.status == "open" and (blocker is None or blocker.status in ("done", "cancelled"))

    cutoff = now - d.STALE_AFTER
    held = {c.task_id for c in claims if c.ended_at is None or c.claimed_at > cutoff}
    open_ = sorted((t for t in tasks if claimable(t)), key=lambda t: (t.created_at, t.number))
    good = [t for t in open_ if d.is_good_first(x for x in t.tags.split(",") if x)]
    review = sorted(
        (t for t in tasks if t.status == "in_review"), key=lambda t: (t.status_changed_at, t.number)
    )
    stale = sorted(
        (
            t
            for t in tasks
            if t.status == "open" and t.status_changed_at <= cutoff and t.id not in held
        ),
        key=lambda t: (t.status_changed_at, t.number),
    )
    facts = oracle.WeekFacts(
        guild_id=guild,
        tz=tz,
        now=now,
        week=week,
        previous=d.previous_week(week, tz),
        tasks={t.id: fact(t) for t in tasks},
        done=[oracle.DoneFact(h.task_id, h.created_at) for h in history if h.to_status == "done"],
        credits=credits,
        first_credit=first,
        credit_times=times,
        hidden=frozenset(m.member_id for m in members if not m.ranking_visible),
        oldest_open=[fact(t) for t in open_[: d.HELP_LIMIT]],
        open_total=len(open_),
        good_first=[fact(t) for t in good[: 2 * d.HELP_LIMIT]],
        in_review=[fact(t) for t in review[: d.WAITING_LIMIT]],
        in_review_total=len(review),
        stale=[fact(t) for t in stale[: d.HYGIENE_LIMIT]],
        stale_total=len(stale),
    )
    return oracle.summarize(facts)


@pytest.mark.parametrize(
    ("seed", "list_limit"), [(1, d.LIST_LIMIT), (2, d.LIST_LIMIT), (3, 3), (4, 2), (5, 1)]
)
async def test_the_sql_summary_equals_the_one_computed_from_the_rows(
    services: Services,
    rt: Runtime,
    clock: ManualClock,
    seed: int,
    list_limit: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With a short list limit, the lists are cut and the credits filtered in both.
    monkeypatch.setattr(d, "LIST_LIMIT", list_limit)
    now = EDGE_WEEK.end + timedelta(days=1, hours=3)
    await configure(services, digest_timezone="Europe/Berlin")
    await configure(services, guild=OTHER_GUILD)
    rng = random.Random(seed)
    await seed_random_guild(rt, rng, GUILD, now)
    await seed_random_guild(rt, rng, OTHER_GUILD, now)  # noise in another guild
    clock.set(now)
    summary, timezone = await services.digest.summary(GUILD, EDGE_WEEK)
    assert timezone == "Europe/Berlin"
    expected = await raw_summary(rt, GUILD, now)
    for name in d.WeekSummary.__dataclass_fields__:
        if name != "tasks":
            assert getattr(summary, name) == getattr(expected, name), name
    # Titles and links are read only for the tasks the lists name.
    listed = d.listed_task_ids(summary.done, summary.credits, summary.reviews, summary.newcomers)
    assert summary.tasks == {i: t for i, t in expected.tasks.items() if i in listed}
    assert summary.credits and summary.done  # the random week is not empty
    if list_limit < 4:  # the cut is exercised: the week lists more than that
        assert summary.done_total > len(summary.done) == list_limit
        assert summary.reviews_total > len(summary.reviews) == list_limit
    assert d.compose(summary, timezone) == d.compose(expected, timezone)
