"""Posting the weekly digest, and when.

Two things ask for it, and both end in the same claim on the week's digest_posts row, so
however often they run, a week is posted once per guild:

- the check that runs with every sweep ("is a digest due for any guild now?"), driven by
  the database: it catches a missed time after a restart (up to a day late) and a
  schedule changed in another process;
- one APScheduler cron job per guild at its configured day, time and timezone, so the
  digest goes out on the minute; /config digest rebuilds it (PeerBot.reschedule_digest).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from apscheduler.triggers.cron import CronTrigger

from bot.domain.digest import Week, parse_hhmm
from bot.domain.shards import Shards
from bot.services.digest import (
    ClaimOutcome,
    DigestPublisher,
    DigestSchedule,
    PostRecord,
    zone,
)
from bot.services.notify import DeliveryFailed
from bot.services.registry import Services

log = logging.getLogger("peerboard.digest")

JOB_PREFIX: Final = "peerboard-digest-"
MISFIRE_GRACE: Final = 3600  # later than this, the sweep's check posts it instead

RunGuild = Callable[[int], Awaitable[object]]


class Published(StrEnum):
    POSTED = "posted"  # posted now
    ALREADY = "already"  # was posted before; nothing sent
    BUSY = "busy"  # being posted by someone else right now, or waiting for a retry
    SKIPPED = "skipped"  # the week was recorded as nothing to do
    FAILED = "failed"  # Discord refused; retried later


@dataclass(frozen=True, slots=True)
class PublishResult:
    outcome: Published
    record: PostRecord | None = None
    error: str = ""


@dataclass
class DigestReport:
    posted: list[int] = field(default_factory=list)  # guild ids
    skipped: list[int] = field(default_factory=list)  # no digest channel
    failed: list[int] = field(default_factory=list)
    busy: list[int] = field(default_factory=list)


async def publish(
    services: Services,
    publisher: DigestPublisher,
    guild_id: int,
    week: Week,
    channel_id: int,
    *,
    manual: bool = False,
) -> PublishResult:
    """Claim the week, post it, record the message. Sends nothing for a week already
    posted or being posted."""
    claim = await services.digest.claim(guild_id, week, manual=manual)
    if claim.outcome is ClaimOutcome.POSTED:
        return PublishResult(Published.ALREADY, claim.record)
    if claim.outcome is ClaimOutcome.BUSY:
        return PublishResult(Published.BUSY, claim.record)
    if claim.outcome is ClaimOutcome.SKIPPED:
        return PublishResult(Published.SKIPPED, claim.record)
    try:
        digest = await services.digest.build(guild_id, week)
        message_id = await publisher.publish(channel_id, digest)
    except DeliveryFailed as err:
        log.warning("digest for guild %s not posted: %s", guild_id, err)
        await services.digest.retry_later(guild_id, week)
        return PublishResult(Published.FAILED, error=str(err))
    except Exception:
        # Free the week for the next try; the error itself is the caller's to report.
        await services.digest.retry_later(guild_id, week)
        raise
    record = await services.digest.mark_posted(guild_id, week, channel_id, message_id)
    return PublishResult(Published.POSTED, record)


async def post_due_digests(
    services: Services,
    publisher: DigestPublisher,
    *,
    guild_ids: frozenset[int] | None = None,
    shards: Shards | None = None,
) -> DigestReport:
    """Post every digest whose time has come, of `guild_ids` in the guilds of `shards`
    (None: any); a guild without a digest channel has its week recorded as nothing to do."""
    report = DigestReport()
    for due in await services.digest.due(guild_ids, shards):
        if due.channel_id is None:
            await services.digest.mark_skipped(due.guild_id, due.week)
            report.skipped.append(due.guild_id)
            continue
        try:
            result = await publish(services, publisher, due.guild_id, due.week, due.channel_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # one guild's trouble must not hold up the others
            log.exception("digest for guild %s failed", due.guild_id)
            report.failed.append(due.guild_id)
            continue
        if result.outcome is Published.POSTED:
            report.posted.append(due.guild_id)
        elif result.outcome is Published.FAILED:
            report.failed.append(due.guild_id)
        elif result.outcome is Published.BUSY:
            report.busy.append(due.guild_id)
    return report


# -- APScheduler: one cron job per guild --------------------------------------------------------------


def job_id(guild_id: int) -> str:
    return f"{JOB_PREFIX}{guild_id}"


def cron_for(schedule: DigestSchedule) -> Any:
    at = parse_hhmm(schedule.time)
    return CronTrigger(
        day_of_week=schedule.day,  # APScheduler 3 counts from Monday = 0, like datetime
        hour=at.hour,
        minute=at.minute,
        timezone=zone(schedule.timezone),
    )


def schedule_guild(scheduler: Any, schedule: DigestSchedule, run: RunGuild) -> None:
    """Add, replace or remove the guild's job to match its settings."""
    if not schedule.enabled:
        unschedule_guild(scheduler, schedule.guild_id)
        return
    try:
        trigger = cron_for(schedule)
    except ValueError:
        log.warning("guild %s has a bad digest time %r", schedule.guild_id, schedule.time)
        unschedule_guild(scheduler, schedule.guild_id)
        return
    scheduler.add_job(
        _guarded(run),
        trigger,
        args=[schedule.guild_id],
        id=job_id(schedule.guild_id),
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE,
    )


def unschedule_guild(scheduler: Any, guild_id: int) -> None:
    if scheduler.get_job(job_id(guild_id)) is not None:
        scheduler.remove_job(job_id(guild_id))


async def schedule_all(
    scheduler: Any, services: Services, run: RunGuild, shards: Shards | None = None
) -> int:
    """A job for each guild of `shards` (None: every guild) with the digest on."""
    schedules = await services.digest.schedules(shards=shards)
    for schedule in schedules:
        schedule_guild(scheduler, schedule, run)
    return len(schedules)


async def reschedule(scheduler: Any, services: Services, guild_id: int, run: RunGuild) -> None:
    schedule = await services.digest.schedule(guild_id)
    if schedule is None:
        unschedule_guild(scheduler, guild_id)
    else:
        schedule_guild(scheduler, schedule, run)


def _guarded(run: RunGuild) -> Callable[[int], Awaitable[None]]:
    async def job(guild_id: int) -> None:
        try:
            await run(guild_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed run must not stop the next one
            log.exception("digest job for guild %s failed", guild_id)

    return job
