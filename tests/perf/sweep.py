"""Sweep cost: one reminder sweep (enqueue what is due, then deliver) with nothing due and
with 1 % of the active claims due, at 10,000 / 100,000 / 1,000,000 active claims.

The board: `claims` claimed tasks, each with one active claim taken in the last 6 days
(14-day window, warning at day 7), and as many finished tasks again (up to 100,000) with
their ended claims and sent deliveries, which a sweep must never read. 1 % of the claims
are made due at T: half have their warning due, half have run out (an expiry, which goes
through TaskService and its outbox). The idle sweep runs at T - 2 h, when nothing is due;
the due sweeps at T, each on a fresh copy of the seeded database.

Then (JSON "idle_due" only) idle sweeps again with 400 claimed tasks due within the
sweep's window whose notices are already in the delivery log: they must cost an idle
sweep nothing (bot.db.queries.sweep.due_notices_query reads only what is not enqueued).

The sweep is the bot's own (bot.jobs.sweep.sweep) with a notifier that returns at once
and the bot's default DM budget (20 a minute, so 20 a sweep), as PeerBot.run_sweep calls it.
"""

from __future__ import annotations

import shutil
import statistics
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot.bootstrap import build_services
from bot.db.engine import create_engine
from bot.db.models import ClaimRow, Delivery, Task
from bot.jobs.sweep import deliver_pending, sweep
from bot.services.clock import ManualClock
from bot.services.config import GuildConfig
from bot.services.notify import Notice
from tests.perf.stats import QueryCounter, percentiles, unit_of_work_floor
from tests.support.bulk import BoardSpec, analyze, seed_board

GUILD = 77_000_000_000_000_001
BOT = 999
DM_BUDGET = 20  # PeerBot's default: dm_per_minute=20 with a 60 s sweep interval
IDLE_SWEEPS = 30
DUE_TASKS = 400  # claimed tasks due soon, their notices already enqueued


class InstantNotifier:
    """The Notifier port, answering at once: the sweep's own cost, not Discord's."""

    def __init__(self) -> None:
        self.sent = 0

    async def deliver(self, notice: Notice, config: GuildConfig) -> str:
        self.sent += 1
        return "dm" if notice.member_id else "channel"


def spec(claims: int, now: Any) -> BoardSpec:
    done = min(claims, 100_000)
    total = claims + done
    share = round(100 * claims / total)
    return BoardSpec(
        guild_id=GUILD,
        tasks=total,
        members=10_000,
        now=now,
        mix=(("claimed", share), ("done", 100 - share)),
        kudos=0,
        history=False,
    )


async def make_due(engine: Any, now: Any) -> int:
    """1 % of the active claims, spread over the board, a minute before `now`: every
    200th claimed task (by number) has its warning due, and the one 100 after it has run
    out (its warning already sent)."""
    before = now - timedelta(minutes=1)
    claims, tasks = ClaimRow.__table__, Task.__table__
    async with engine.begin() as conn:
        ids = (
            (
                await conn.execute(
                    sa.select(tasks.c.id)
                    .where(tasks.c.status == "claimed")
                    .order_by(tasks.c.number)
                )
            )
            .scalars()
            .all()
        )
        warn, gone = ids[::200], ids[100::200]
        for chunk in range(0, max(len(warn), len(gone)), 5_000):
            await conn.execute(
                sa.update(claims)
                .where(claims.c.task_id.in_(warn[chunk : chunk + 5_000]))
                .values(warn_at=before)
            )
            await conn.execute(
                sa.update(claims)
                .where(claims.c.task_id.in_(gone[chunk : chunk + 5_000]))
                .values(expires_at=before, warn_at=None)
            )
    await analyze(engine)
    return len(warn) + len(gone)


async def one_sweep(url: str, at: Any) -> dict[str, Any]:
    clock = ManualClock(at)
    runtime = build_services(url, clock=clock)
    counter = QueryCounter(runtime.engine)
    notifier = InstantNotifier()
    try:
        services = runtime.services
        # Connect first: the pool's first connection is not the sweep's cost.
        async with runtime.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        counter.reset()
        # What bot.jobs.sweep.sweep does, in its two phases, timed apart.
        t0 = time.perf_counter()
        enqueued = await services.reminders.enqueue_due(BOT)
        t1 = time.perf_counter()
        report = await deliver_pending(services, notifier, dm_budget=DM_BUDGET)
        t2 = time.perf_counter()
        return {
            "seconds": t2 - t0,
            "enqueue_seconds": t1 - t0,
            "deliver_seconds": t2 - t1,
            "queries": counter.count,
            "transactions": counter.transactions,
            "warnings": enqueued.warnings,
            "expired": enqueued.expired,
            "sent": report.sent,
            "skipped": report.skipped,
            "deferred": report.deferred,
        }
    finally:
        counter.close()
        await runtime.close()


async def idle_sweeps(url: str, at: Any, n: int) -> dict[str, Any]:
    clock = ManualClock(at)
    runtime = build_services(url, clock=clock)
    counter = QueryCounter(runtime.engine)
    notifier = InstantNotifier()
    times: list[float] = []
    queries: list[int] = []
    transactions: list[int] = []
    try:
        services = runtime.services
        for k in range(n + 3):  # three to warm the pool and statement caches
            counter.reset()
            t0 = time.perf_counter()
            report = await sweep(services, notifier, bot_id=BOT, dm_budget=DM_BUDGET)
            dt = time.perf_counter() - t0
            assert report.sent == report.skipped == report.deferred == 0, report
            if k >= 3:
                times.append(dt)
                queries.append(counter.count)
                transactions.append(counter.transactions)
    finally:
        counter.close()
        await runtime.close()
    return {
        "times": percentiles(times),
        "median": statistics.median(times),
        "min": min(times),
        "queries": statistics.median(queries),
        "transactions": statistics.median(transactions),
        "runs": n,
    }


async def enqueued_due_dates(url: str, at: Any, n: int = DUE_TASKS) -> dict[str, Any]:
    """Idle sweeps again, with `n` claimed tasks due within the sweep's window (30 h on)
    whose notices are already in the delivery log, sent: the sweep must not read them
    again and again (JSON only: "idle_due")."""
    engine = create_engine(url)
    tasks = Task.__table__
    try:
        async with engine.begin() as conn:
            ids = (
                await conn.execute(
                    sa.select(tasks.c.id)
                    .where(tasks.c.status == "claimed", tasks.c.due_at.is_(None))
                    .order_by(tasks.c.number)
                    .limit(n)
                )
            ).scalars()
            await conn.execute(
                sa.update(tasks)
                .where(tasks.c.id.in_(list(ids)))
                .values(due_at=at + timedelta(hours=30))
            )
    finally:
        await engine.dispose()
    runtime = build_services(url, clock=ManualClock(at))
    try:
        t0 = time.perf_counter()
        enqueued = (await runtime.services.reminders.enqueue_due(BOT)).due
        first = time.perf_counter() - t0
        async with runtime.engine.begin() as conn:  # as if all of them had been delivered
            deliveries = Delivery.__table__
            await conn.execute(
                sa.update(deliveries)
                .where(deliveries.c.status == "pending")
                .values(status="sent", sent_at=at)
            )
    finally:
        await runtime.close()
    return {
        "tasks": n,
        "enqueued": enqueued,
        "first_seconds": first,
        **await idle_sweeps(url, at, IDLE_SWEEPS),
    }


async def copy_database(url: str, name: str) -> str:
    """A fresh copy of the seeded database (file copy; CREATE DATABASE … TEMPLATE)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        source = Path(parsed.database)
        target = source.with_name(f"{name}.db")
        shutil.copyfile(source, target)
        return parsed.set(database=str(target)).render_as_string(hide_password=False)
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.exec_driver_sql(
                f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}" STRATEGY FILE_COPY'
            )
    finally:
        await admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _unlink_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        _unlink_sqlite(parsed.database)
        return
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    finally:
        await admin.dispose()


async def measure_sweep(url: str, claims: int, due_runs: int) -> dict[str, Any]:
    now = ManualClock().now()
    engine = create_engine(url)
    try:
        t0 = time.perf_counter()
        counts = await seed_board(engine, spec(claims, now))
        due = await make_due(engine, now)
        seeded = time.perf_counter() - t0
    finally:
        await engine.dispose()
    engine = create_engine(url)
    try:
        floor = await unit_of_work_floor(engine)
    finally:
        await engine.dispose()
    idle = await idle_sweeps(url, now - timedelta(hours=2), IDLE_SWEEPS)
    runs = []
    for k in range(due_runs):
        copy = await copy_database(url, f"{Path(str(make_url(url).database)).stem}_due{k}")
        try:
            runs.append(await one_sweep(copy, now))
        finally:
            await drop_database(copy)
    idle_due = await enqueued_due_dates(url, now - timedelta(hours=2))
    return {
        "claims": claims,
        "rows": counts,
        "due": due,
        "seed_seconds": seeded,
        "idle": idle,
        "due_runs": runs,
        "uow_floor": floor,
        "idle_due": idle_due,
    }
