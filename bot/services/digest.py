"""The weekly recognition digest (SPEC §3): built from the ledger and history of the
last full week in the guild's timezone, posted once per guild and week.

Posting once works like the reminders' delivery log: a digest_posts row keyed by
(guild, week start) is inserted if absent and leased before anything is sent, and marked
posted with the message id after. A double run finds the row posted or leased and sends
nothing; a crash between sending and marking leaves a lease that runs out, and the digest
is posted again then (at least once, like reminders: the window is one HTTP call wide).
A failed post is retried on later sweeps, at most a day after its time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.db.models import DigestPost, GuildSettings
from bot.db.repos.digest import DigestRepo
from bot.db.uow import Database
from bot.domain import digest as d
from bot.domain.model import Actor
from bot.domain.rules import check_maintainer
from bot.domain.shards import Shards
from bot.services.clock import Clock

log = logging.getLogger("peerboard.digest")

LEASE: Final = timedelta(minutes=5)
RETRY_AFTER: Final = timedelta(minutes=10)
STREAK_LOOKBACK: Final = timedelta(days=400)
# Two weeks of the same guild start 7 days apart; a timezone change moves the start by
# at most 26 hours. A row this close to a week's start is that week's.
SAME_WEEK: Final = timedelta(days=2)


class DigestPublisher(Protocol):
    """The port the digest goes out through (implemented with Discord in bot/ui)."""

    async def publish(self, channel_id: int, digest: d.Digest) -> int:
        """Post it in the channel; return the id of its first message. Raise
        services.notify.DeliveryFailed when nothing could be posted."""
        ...


class PostState(StrEnum):
    PENDING = "pending"  # claimed (leased) or waiting to be
    POSTED = "posted"
    FAILED = "failed"  # retried when lease_until passes
    SKIPPED = "skipped"  # nothing to do (no digest channel at the time)


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # ours to post now
    POSTED = "posted"  # already posted
    BUSY = "busy"  # someone else is posting it right now, or it waits for a retry
    SKIPPED = "skipped"  # the scheduled run found nothing to do for that week


@dataclass(frozen=True, slots=True)
class PostRecord:
    guild_id: int
    week_start: datetime
    status: PostState
    channel_id: int | None
    message_id: int | None
    posted_at: datetime | None

    @property
    def url(self) -> str | None:
        return d.card_url(self.guild_id, self.channel_id, self.message_id)


@dataclass(frozen=True, slots=True)
class Claim:
    outcome: ClaimOutcome
    record: PostRecord | None = None


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    guild_id: int
    day: int  # 0 = Monday
    time: str  # HH:MM, local
    timezone: str
    enabled: bool
    channel_id: int | None


@dataclass(frozen=True, slots=True)
class DueDigest:
    guild_id: int
    week: d.Week
    slot: datetime  # the posting moment it is due for
    channel_id: int | None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        log.warning("unknown digest timezone %r; using UTC", name)
        return ZoneInfo("UTC")


def _record(row: DigestPost) -> PostRecord:
    return PostRecord(
        row.guild_id,
        row.week_start,
        PostState(row.status),
        row.channel_id,
        row.message_id,
        row.posted_at,
    )


def _schedule(row: GuildSettings) -> DigestSchedule:
    return DigestSchedule(
        row.guild_id,
        row.digest_day,
        row.digest_time,
        row.digest_timezone,
        row.digest_enabled,
        row.digest_channel_id,
    )


class DigestService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # -- building ---------------------------------------------------------------------------------

    async def week_of_now(self, guild_id: int) -> d.Week:
        """The last full week before now, in the guild's timezone."""
        async with self._db.unit() as uow:
            tz_name = await uow.digest.timezone(guild_id)
        tz = zone(tz_name or "UTC")
        return d.last_full_week(self._clock.now(), tz)

    async def preview(self, actor: Actor) -> d.Digest:
        """The digest that goes out next, as it stands now: last week's while it has not
        been posted; once it has, the week in progress, with what has happened so far."""
        check_maintainer(actor, "preview the digest")
        return await self.build(actor.guild_id, await self.next_week(actor.guild_id))

    async def next_week(self, guild_id: int) -> d.Week:
        """The week whose digest is posted next (by the schedule or by /digest post)."""
        async with self._db.unit() as uow:
            tz = zone(await uow.digest.timezone(guild_id) or "UTC")
            week = d.last_full_week(self._clock.now(), tz)
            if await self._posted_near(uow.digest, guild_id, week) is None:
                return week
        return d.week_starting(week.first_day + timedelta(days=7), tz)

    async def start_post(self, actor: Actor) -> d.Week:
        """A maintainer's /digest post: which week it is for."""
        check_maintainer(actor, "post the digest")
        return await self.week_of_now(actor.guild_id)

    async def build(self, guild_id: int, week: d.Week | None = None) -> d.Digest:
        """The digest of `week` (default: the last full week before now); help wanted and
        the review queue as they stand now."""
        summary, timezone = await self.summary(guild_id, week)
        return d.compose(summary, timezone)

    async def summary(self, guild_id: int, week: d.Week | None = None) -> tuple[d.WeekSummary, str]:
        """What the digest of `week` is made of, counted in the database; and the name of
        the guild's timezone."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            q = uow.digest
            tz_name = await q.timezone(guild_id) or "UTC"
            tz = zone(tz_name)
            week = week or d.last_full_week(now, tz)
            earlier = d.streak_weeks(week, tz, week.start - STREAK_LOOKBACK)
            # The lists' first rows and totals; then only the credits and the titles those
            # rows need (a busy week names thousands of tasks and credits).
            limit = d.LIST_LIMIT
            done = await q.week_done(guild_id, week, limit)
            reviews = await q.reviews(guild_id, week, limit)
            newcomers = await q.newcomers(guild_id, week, limit)
            credits = await q.credits(
                guild_id,
                week,
                done.items,
                (*(m for m, _n in reviews.items), *newcomers.items),
            )
            tasks = await q.week_tasks(
                guild_id,
                d.listed_task_ids(done.items, credits, reviews.items, newcomers.items),
            )
            this_week, last_week, people = await q.numbers(
                guild_id, week, d.previous_week(week, tz), newcomers.total
            )
            oldest, open_total = await q.oldest_open(guild_id, d.HELP_LIMIT)
            in_review, review_total = await q.in_review(guild_id, d.WAITING_LIMIT)
            stale, stale_total = await q.unclaimed_since(
                guild_id, now - d.STALE_AFTER, d.HYGIENE_LIMIT
            )
            summary = d.WeekSummary(
                guild_id=guild_id,
                now=now,
                week=week,
                this_week=this_week,
                last_week=last_week,
                done=done.items,
                tasks=tasks,
                credits=credits,
                reviews=reviews.items,
                newcomers=newcomers.items,
                done_total=done.total,
                reviews_total=reviews.total,
                newcomers_total=newcomers.total,
                people=people,
                kudos=await q.kudos(guild_id, week),
                top=await q.top(guild_id, week, d.TOP_LIMIT),
                streaks=await q.streaks(guild_id, week, earlier, d.STREAK_MIN, d.STREAK_LIMIT),
                oldest_open=oldest,
                open_total=open_total,
                good_first=await q.good_first(guild_id, d.GOOD_FIRST_TAGS, 2 * d.HELP_LIMIT),
                in_review=in_review,
                in_review_total=review_total,
                stale=stale,
                stale_total=stale_total,
            )
        return summary, tz_name

    # -- schedule ---------------------------------------------------------------------------------

    async def schedules(
        self, guild_ids: frozenset[int] | None = None, shards: Shards | None = None
    ) -> list[DigestSchedule]:
        """Every guild with the digest on (of `guild_ids`, on `shards`; None: any)."""
        async with self._db.unit() as uow:
            rows = await uow.digest.enabled_guilds(guild_ids, shards)
            return [_schedule(row) for row in rows]

    async def schedule(self, guild_id: int) -> DigestSchedule | None:
        async with self._db.unit() as uow:
            row = await uow.digest.guild(guild_id)
            return _schedule(row) if row is not None else None

    async def due(
        self, guild_ids: frozenset[int] | None = None, shards: Shards | None = None
    ) -> list[DueDigest]:
        """Digests whose time has come (less than a day ago) and that nobody has posted,
        skipped, or is posting right now; of `guild_ids`, in the guilds of `shards` (None:
        any)."""
        now = self._clock.now()
        found: list[DueDigest] = []
        async with self._db.unit() as uow:
            q = uow.digest
            for row in await q.enabled_guilds(guild_ids, shards):
                tz = zone(row.digest_timezone)
                try:
                    at = d.parse_hhmm(row.digest_time)
                except ValueError:
                    log.warning("guild %s has a bad digest time %r", row.guild_id, row.digest_time)
                    continue
                slot = d.due_slot(now, tz, row.digest_day, at)
                if slot is not None:
                    week = d.last_full_week(slot, tz)
                    found.append(DueDigest(row.guild_id, week, slot, row.digest_channel_id))
            if not found:
                return []
            starts = [x.week.start for x in found]
            posts = await q.posts_between(
                [x.guild_id for x in found], min(starts) - SAME_WEEK, max(starts) + SAME_WEEK
            )
        return [x for x in found if not any(_blocks(p, x, now) for p in posts)]

    # -- posting once -----------------------------------------------------------------------------

    async def claim(self, guild_id: int, week: d.Week, *, manual: bool = False) -> Claim:
        """Take the (guild, week) row for posting, inserting it if it is not there."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            q = uow.digest
            posted = await self._posted_near(q, guild_id, week)
            if posted is not None:
                return Claim(ClaimOutcome.POSTED, posted)
            await q.add_post(guild_id, week.start, now)
            leased = await q.lease_post(guild_id, week.start, now, now + LEASE, manual=manual)
            row = await q.post(guild_id, week.start)
            assert row is not None
            record = _record(row)
            await uow.commit()
        if leased:
            return Claim(ClaimOutcome.CLAIMED, record)
        if record.status is PostState.POSTED:
            return Claim(ClaimOutcome.POSTED, record)
        if record.status is PostState.SKIPPED:
            return Claim(ClaimOutcome.SKIPPED, record)
        return Claim(ClaimOutcome.BUSY, record)

    async def mark_posted(
        self, guild_id: int, week: d.Week, channel_id: int, message_id: int
    ) -> PostRecord:
        now = self._clock.now()
        async with self._db.unit() as uow:
            q = uow.digest
            await q.finish_post(
                guild_id,
                week.start,
                only=(PostState.PENDING.value,),
                status=PostState.POSTED.value,
                channel_id=channel_id,
                message_id=message_id,
                posted_at=now,
                lease_until=None,
            )
            row = await q.post(guild_id, week.start)
            assert row is not None
            await uow.commit()
            return _record(row)

    async def retry_later(
        self, guild_id: int, week: d.Week, delay: timedelta = RETRY_AFTER
    ) -> None:
        """Posting failed: free the row, to be tried again after `delay`."""
        async with self._db.unit() as uow:
            await uow.digest.finish_post(
                guild_id,
                week.start,
                only=(PostState.PENDING.value,),
                status=PostState.FAILED.value,
                lease_until=self._clock.now() + delay,
            )
            await uow.commit()

    async def mark_skipped(self, guild_id: int, week: d.Week) -> bool:
        """Nothing to do this week (no digest channel): recorded, so the check stops asking.
        A maintainer's /digest post can still post that week."""
        now = self._clock.now()
        async with self._db.unit() as uow:
            q = uow.digest
            await q.add_post(guild_id, week.start, now)
            row = await q.post(guild_id, week.start)
            assert row is not None
            lease_free = row.lease_until is None or row.lease_until <= now
            skipped = False
            if row.status in (PostState.PENDING, PostState.FAILED) and lease_free:
                skipped = await q.finish_post(
                    guild_id,
                    week.start,
                    only=(PostState.PENDING.value, PostState.FAILED.value),
                    status=PostState.SKIPPED.value,
                    lease_until=None,
                )
            await uow.commit()
        return skipped

    async def record(self, guild_id: int, week: d.Week) -> PostRecord | None:
        async with self._db.unit() as uow:
            row = await uow.digest.post(guild_id, week.start)
            return _record(row) if row is not None else None

    @staticmethod
    async def _posted_near(q: DigestRepo, guild_id: int, week: d.Week) -> PostRecord | None:
        """The week's post, also when it was keyed under another timezone's Monday."""
        rows = await q.posts_between([guild_id], week.start - SAME_WEEK, week.start + SAME_WEEK)
        posted = [r for r in rows if r.status == PostState.POSTED]
        return _record(posted[0]) if posted else None


def _blocks(post: DigestPost, due: DueDigest, now: datetime) -> bool:
    """Whether an existing row means the due digest must not be (re)tried now."""
    if post.guild_id != due.guild_id or abs(post.week_start - due.week.start) > SAME_WEEK:
        return False
    if post.status in (PostState.POSTED, PostState.SKIPPED):
        return True
    return post.lease_until is not None and post.lease_until > now
