"""Digest cost: DigestService.build for a guild whose last full week has 10,000 history
rows, on a big board (the board's size matters too: the digest also reads the open
tasks, the review queue and each member's first credit).

The week's activity is added to a bulk-seeded board: 2,500 open tasks claimed, submitted
and approved during the week (3 history rows each, their claims ended, a task and a
review credit each), 2,500 more claimed during the week (1 history row each) and 500
kudos: 10,000 history rows and 5,500 ledger rows in the week.
"""

from __future__ import annotations

import gc
import statistics
import time
from datetime import UTC, timedelta
from typing import Any

import sqlalchemy as sa

from bot.bootstrap import build_services
from bot.db.engine import create_engine
from bot.db.models import ClaimRow, LedgerEntry, Review, Task, TaskHistory
from bot.domain import digest as d
from bot.services.clock import ManualClock
from tests.perf.stats import QueryCounter, percentiles, unit_of_work_floor
from tests.support.bulk import SYNTH_BASE, BoardSpec, analyze, numbers_with_status, seed_board

GUILD = 88_000_000_000_000_001
DONE_IN_WEEK = 2_500
CLAIMED_IN_WEEK = 2_500
KUDOS_IN_WEEK = 500


async def seed_week(engine: Any, now: Any, week: d.Week) -> int:
    span = (week.end - week.start).total_seconds() - 4 * 3600
    async with engine.begin() as conn:
        numbers = await numbers_with_status(conn, GUILD, "open")
        chosen = numbers[: DONE_IN_WEEK + CLAIMED_IN_WEEK]
        tasks = Task.__table__
        ids = dict(
            (
                await conn.execute(
                    sa.select(tasks.c.number, tasks.c.id).where(
                        tasks.c.guild_id == GUILD, tasks.c.number.in_(chosen)
                    )
                )
            ).all()
        )
        history: list[dict[str, Any]] = []
        claims: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        ledger: list[dict[str, Any]] = []
        for k, number in enumerate(chosen):
            member = SYNTH_BASE + (k * 7919) % 10_000
            reviewer = SYNTH_BASE + (k * 104_729 + 1) % 10_000
            at = week.start + timedelta(seconds=span * k / len(chosen))
            task_id = ids[number]
            done = k < DONE_IN_WEEK

            def step(
                task_id: int, action: str, before: str, after: str, actor: int, when: Any
            ) -> None:
                history.append(
                    {
                        "guild_id": GUILD,
                        "task_id": task_id,
                        "actor_id": actor,
                        "action": action,
                        "from_status": before,
                        "to_status": after,
                        "note": "",
                        "created_at": when,
                    }
                )

            step(task_id, "claim", "open", "claimed", member, at)
            claims.append(
                {
                    "task_id": task_id,
                    "guild_id": GUILD,
                    "member_id": member,
                    "claimed_at": at,
                    "expires_at": at + timedelta(days=14),
                    "warn_at": None if done else at + timedelta(days=7),
                    "extensions": 0,
                    "ended_at": at + timedelta(hours=2) if done else None,
                    "end_reason": "done" if done else None,
                    "handoff_note": None,
                }
            )
            status, changed = "claimed", at
            if done:
                step(task_id, "submit", "claimed", "in_review", member, at + timedelta(hours=1))
                step(task_id, "approve", "in_review", "done", reviewer, at + timedelta(hours=2))
                status, changed = "done", at + timedelta(hours=2)
                reviews.append(
                    {
                        "task_id": task_id,
                        "guild_id": GUILD,
                        "reviewer_id": reviewer,
                        "round": 1,
                        "verdict": "approve",
                        "comment": "",
                        "credited": True,
                        "created_at": changed,
                    }
                )
                for who, kind, points in ((member, "task", 3), (reviewer, "review", 1)):
                    ledger.append(
                        {
                            "guild_id": GUILD,
                            "member_id": who,
                            "kind": kind,
                            "points": points,
                            "task_id": task_id,
                            "review_id": None,
                            "giver_id": None,
                            "reason": "",
                            "created_at": changed,
                        }
                    )
            await conn.execute(
                sa.update(tasks)
                .where(tasks.c.id == task_id)
                .values(
                    status=status,
                    status_changed_at=changed,
                    updated_at=changed,
                    review_round=1 if done else 0,
                )
            )
        for k in range(KUDOS_IN_WEEK):
            ledger.append(
                {
                    "guild_id": GUILD,
                    "member_id": SYNTH_BASE + (k * 31) % 10_000,
                    "kind": "kudos",
                    "points": 0,
                    "task_id": None,
                    "review_id": None,
                    "giver_id": SYNTH_BASE + (k * 37 + 5) % 10_000,
                    "reason": "thanks!",
                    "created_at": week.start + timedelta(seconds=span * k / KUDOS_IN_WEEK),
                }
            )
        for table, rows in (
            (TaskHistory, history),
            (ClaimRow, claims),
            (Review, reviews),
            (LedgerEntry, ledger),
        ):
            for i in range(0, len(rows), 2_000):
                await conn.execute(sa.insert(table.__table__), rows[i : i + 2_000])  # type: ignore[attr-defined]
        in_week = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(TaskHistory.__table__)
                .where(
                    TaskHistory.__table__.c.guild_id == GUILD,
                    TaskHistory.__table__.c.created_at >= week.start,
                    TaskHistory.__table__.c.created_at < week.end,
                )
            )
        ).scalar_one()
    await analyze(engine)
    return int(in_week)


async def measure_digest(url: str, board: int, runs: int) -> dict[str, Any]:
    clock = ManualClock()
    now = clock.now()
    week = d.last_full_week(now, UTC)
    engine = create_engine(url)
    try:
        t0 = time.perf_counter()
        counts = await seed_board(
            engine, BoardSpec(guild_id=GUILD, tasks=board, now=week.start - timedelta(days=1))
        )
        in_week = await seed_week(engine, now, week)
        seeded = time.perf_counter() - t0
        floor = await unit_of_work_floor(engine)
    finally:
        await engine.dispose()
    runtime = build_services(url, clock=clock)
    digest_service = runtime.services.digest
    if not hasattr(digest_service, "build"):
        await runtime.close()
        return {"todo": "DigestService.build does not exist yet", "history_in_week": in_week}
    # As `peerboard run` does once ready (PeerBot.freeze_startup_heap): what the process
    # holds now (here mostly the seeding's leftovers) is kept out of full collections.
    gc.collect()
    gc.freeze()
    counter = QueryCounter(runtime.engine)
    times: list[float] = []
    queries: list[int] = []
    sections = 0
    try:
        for k in range(runs + 2):  # two to warm the pool and the statement caches
            counter.reset()
            t = time.perf_counter()
            digest = await digest_service.build(GUILD, week)
            dt = time.perf_counter() - t
            if k >= 2:
                times.append(dt)
                queries.append(counter.count)
            sections = len(getattr(digest, "sections", ()) or ())
    finally:
        counter.close()
        await runtime.close()
    return {
        "board": board,
        "rows": counts,
        "history_in_week": in_week,
        "seed_seconds": seeded,
        "times": percentiles(times),
        "median": statistics.median(times),
        "min": min(times),
        "queries": statistics.median(queries),
        "runs": runs,
        "sections": sections,
        "uow_floor": floor,
    }
