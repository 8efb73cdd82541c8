"""APScheduler wiring. The database is the source of truth: jobs are sweeps that ask
what is due, so a restart or a missed run loses nothing and a double run sends nothing
twice."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger("peerboard.scheduler")

SWEEP_JOB = "peerboard-sweep"


def build_scheduler(
    sweep: Callable[[], Awaitable[object]], interval_seconds: int
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        _guarded(sweep),
        "interval",
        seconds=interval_seconds,
        id=SWEEP_JOB,
        coalesce=True,  # after a pause, one run catches up; not one per missed interval
        max_instances=1,  # never two sweeps at once in one process
        misfire_grace_time=interval_seconds,
        replace_existing=True,
    )
    return scheduler


def _guarded(sweep: Callable[[], Awaitable[object]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await sweep()
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed sweep must not stop the next one
            log.exception("reminder sweep failed")

    return run
