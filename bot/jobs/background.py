"""The bot's background work, in one object: the APScheduler sweep, the weekly digest
jobs, the check for a late digest at start-up, and the delivery round an interaction
asks for. `PeerBot` starts and stops it; it never imports discord (the Notifier and the
DigestPublisher are ports the UI implements)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.domain.digest import Week
from bot.domain.errors import Busy
from bot.domain.shards import Shards
from bot.jobs.digest import (
    DigestReport,
    Published,
    PublishResult,
    post_due_digests,
    publish,
    reschedule,
    schedule_all,
)
from bot.jobs.scheduler import build_scheduler
from bot.jobs.sweep import SweepReport, deliver_pending, sweep
from bot.ops.metrics import Metrics
from bot.services.cards import CardPublisher
from bot.services.digest import DigestPublisher
from bot.services.notify import Notifier
from bot.services.registry import Services

log = logging.getLogger("peerboard")

# What a call to Discord can raise besides an HTTP error (as bot/ui/errors.NETWORK_ERRORS;
# the jobs don't import the UI): a dropped connection, a timeout, a socket error.
NETWORK_ERRORS: Final = (aiohttp.ClientError, asyncio.TimeoutError, OSError)

# How long close() lets background work (a delivery round, a digest check) finish.
SHUTDOWN_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class JobOptions:
    sweep_interval: int = 60
    dm_per_minute: int = 20
    scheduler: bool = True  # off in tests and the demo, which run the sweep themselves

    @property
    def dm_budget(self) -> int:
        # DMs are paced to respect Discord's rules on opening DMs: a budget per sweep.
        return max(1, self.dm_per_minute * self.sweep_interval // 60)


class BackgroundJobs:
    def __init__(
        self,
        services: Services,
        notifier: Notifier,
        publisher: DigestPublisher,
        bot_id: Callable[[], int],
        options: JobOptions,
        metrics: Metrics | None = None,
        cards: CardPublisher | None = None,
        shards: Shards | None = None,
    ) -> None:
        self.services = services
        self.shards = shards  # whose guilds this process works for (None: every guild)
        self.cards = cards
        self.metrics = metrics
        self.notifier = notifier
        self.publisher = publisher
        self.options = options
        self._bot_id = bot_id
        self.scheduler: AsyncIOScheduler | None = None
        self._delivering = asyncio.Lock()
        self._digesting = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        if not self.options.scheduler:
            return
        self.scheduler = build_scheduler(self._scheduled_sweep, self.options.sweep_interval)
        self.scheduler.start()
        # One cron job per guild for its digest, and a late digest posted at start-up.
        await schedule_all(self.scheduler, self.services, self._run_guild_digest, self.shards)
        self._spawn(self._digests_quietly())

    async def close(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # also cancels a sweep in flight
        background = [t for t in self._background if t is not asyncio.current_task()]
        # Background work (a delivery round, the start-up digest check) is short: let it
        # finish rather than cut a transaction in half, which leaves the pool rolling
        # back a connection inside a cancelled task (an error in the log at every stop).
        # What is still running after the grace period is cancelled.
        _done, pending = (
            await asyncio.wait(background, timeout=SHUTDOWN_GRACE) if background else ((), ())
        )
        for task in pending:
            task.cancel()
        # Let cancelled work unwind (roll back, give its connection back) before the caller
        # disposes the engine: a task cancelled mid-query after that waits forever, and the
        # process never exits.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await asyncio.gather(*pending, return_exceptions=True)
                async with self._delivering, self._digesting:
                    pass

    # -- reminders ------------------------------------------------------------------------

    async def run_sweep(self) -> SweepReport:
        """Enqueue what is due and deliver it. Also what APScheduler runs."""
        async with self._delivering:
            started = time.perf_counter()
            try:
                return await sweep(
                    self.services,
                    self.notifier,
                    bot_id=self._bot_id(),
                    dm_budget=self.options.dm_budget,
                    shards=self.shards,
                    cards=self.cards,
                )
            finally:
                if self.metrics is not None:
                    self.metrics.sweep_seconds.observe(time.perf_counter() - started)

    def kick(self) -> asyncio.Task[None]:
        """Deliver what an interaction just enqueued, without waiting for the next sweep.
        The round runs in the background; the task is returned for who wants to await it."""
        return self._spawn(self._deliver())

    async def _deliver(self) -> None:
        """What the sweep leaves pending is the sweep's again: a busy board or a dropped
        connection is a line in the log, not an error nobody awaits."""
        async with self._delivering:
            try:
                await deliver_pending(
                    self.services,
                    self.notifier,
                    dm_budget=self.options.dm_budget,
                    shards=self.shards,
                )
            except Busy:
                log.warning("delivery round: the board is busy; the sweep will deliver")
            except NETWORK_ERRORS as err:
                log.warning(
                    "delivery round: lost the connection (%s); the sweep will deliver",
                    type(err).__name__,
                )

    # -- weekly digest --------------------------------------------------------------------

    async def run_digests(self, guild_ids: frozenset[int] | None = None) -> DigestReport:
        """Post every digest that is due now (at most a day late), each once."""
        async with self._digesting:
            report = await post_due_digests(
                self.services, self.publisher, guild_ids=guild_ids, shards=self.shards
            )
        if self.metrics is not None:
            for outcome, guilds in (
                ("posted", report.posted),
                ("failed", report.failed),
                ("skipped", report.skipped),
            ):
                if guilds:
                    self.metrics.digest_posts.labels(outcome).inc(len(guilds))
        return report

    async def post_digest(self, guild_id: int, week: Week, channel_id: int) -> PublishResult:
        """/digest post: the week, now, unless it is out already."""
        result = await publish(
            self.services, self.publisher, guild_id, week, channel_id, manual=True
        )
        if self.metrics is not None and result.outcome in (Published.POSTED, Published.FAILED):
            self.metrics.digest_posts.labels(result.outcome.value).inc()
        return result

    async def reschedule_digest(self, guild_id: int) -> None:
        """Rebuild the guild's digest job after /config digest. Without a scheduler (tests,
        the demo) the check on every sweep reads the new settings anyway."""
        if self.scheduler is None:
            return
        try:
            await reschedule(self.scheduler, self.services, guild_id, self._run_guild_digest)
        except Exception:  # the settings are saved; the sweep's check still covers the digest
            log.exception("could not reschedule the digest of guild %s", guild_id)

    async def _run_guild_digest(self, guild_id: int) -> DigestReport:
        return await self.run_digests(frozenset({guild_id}))

    async def _digests_quietly(self) -> None:
        try:
            await self.run_digests()
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed check must not stop the sweep; the next one retries
            log.exception("digest check failed")

    async def _scheduled_sweep(self) -> SweepReport:
        """What APScheduler runs every interval: reminders, then the digest check."""
        try:
            return await self.run_sweep()
        finally:
            await self._digests_quietly()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task
