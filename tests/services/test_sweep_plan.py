"""The reminder sweep stays cheap as the board grows (SPEC §6, §7): with 10,000 active
claims and nothing due, each of its statements (the has-work check, the reads, and the
batch writes by primary key) is an index read on SQLite and on PostgreSQL, with the
values (custom plan) and for any values (generic plan), and an idle sweep enqueues nothing.

The statements EXPLAINed are the ones the repositories run (bot/db/queries/sweep.py
builds each with a small function). The wall times of an idle sweep are printed as benchmark
figures; they are not asserted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.bootstrap import Runtime, build_services
from bot.db.engine import create_session_factory
from bot.db.models import ClaimRow, Delivery, GuildSettings, ProposalVote, Task
from bot.db.queries import board as reads
from bot.db.queries import sweep
from bot.db.uow import Database
from bot.domain.model import DUE_SOON_HOURS, Reminder
from bot.domain.shards import Shards
from bot.services.cards import BATCH as CARD_BATCH
from bot.services.clock import ManualClock
from bot.services.reminders import BATCH, EnqueueReport
from bot.services.reminders.kinds import READS
from tests.services.helpers import GUILD
from tests.support.plans import PG_PLAN_MODES, describe_pg, pg_plan, sqlite_plan

BOT = 999
ACTIVE_CLAIMS = 10_000
DONE_TASKS = 5_000  # finished work with its ended claims and sent deliveries: history
OPEN_TASKS = 2_000
IN_REVIEW = 300
PROPOSALS = 50
VOTES = 10_000  # endorsements of proposals that opened long ago
SENT_DELIVERIES = 10_000
CHUNK = 2_000

# The tables a sweep must never read in full (proposal_votes: every endorsement ever made).
WATCHED = ("claims", "tasks", "deliveries", "proposal_votes")


# Index names that differ between the backends. "a|b": either will do.
ALIASES = {
    "deliveries key": {
        "sqlite": "sqlite_autoindex_deliveries_1",
        "postgresql": "uq_deliveries_key",
    },
    "claims pk": {"sqlite": "INTEGER PRIMARY KEY", "postgresql": "claims_pkey"},
    "tasks pk": {"sqlite": "INTEGER PRIMARY KEY", "postgresql": "tasks_pkey"},
}


def sweep_queries(
    now: datetime, ids: Ids, shards: Shards | None = None
) -> dict[str, tuple[Any, tuple[str, ...]]]:
    """Each statement of one sweep, as ReminderService (and TaskService.expire_many) runs
    it for a process of `shards` (None: every guild), and the indexes it should read
    through. The shard filter is no index of its own: it filters the rows each read
    finds through its index (what is due), and must not turn that into a full read."""
    due_after, due_until = now - timedelta(days=1), now + timedelta(hours=DUE_SOON_HOURS)
    expired = {"status": "open", "updated_at": now, "next_nudge_at": None}
    return {
        "has work": (
            sweep.sweep_has_work_query(READS, now, shards),
            (
                "ix_claims_warning",
                "ix_claims_active_expiry",
                "ix_tasks_due",
                "ix_tasks_nudge",
                "ix_tasks_opens",
                "ix_deliveries_retry",
                # (and thread_lines: only lines still owed, deleted once posted: a small
                # table, read by whichever plan PostgreSQL prefers for it)
                "ix_tasks_card_repair",
            ),
        ),
        "claims_to_warn": (
            sweep.claims_to_warn_query(now, BATCH, lock=True, shards=shards),
            ("ix_claims_warning",),
        ),
        "clear_warnings": (sweep.clear_warnings_statement(ids.claims), ("claims pk",)),
        "expired_claims": (
            sweep.expired_claims_query(now, BATCH, shards),
            ("ix_claims_active_expiry",),
        ),
        "expire: tasks": (sweep.tasks_by_ids_query(ids.tasks), ("tasks pk",)),
        "expire: claims": (
            reads.active_claims_for_tasks_query(ids.tasks),
            ("ix_claims_task|uq_claims_active_member",),
        ),
        "expire: compare and set": (
            sweep.compare_and_set_many_statement(ids.tasks, 1, expired),
            ("tasks pk",),
        ),
        "expire: end claims": (
            sweep.end_claims_by_id_statement(ids.claims, now, "expired"),
            ("claims pk",),
        ),
        "due_notices": (
            sweep.due_notices_query(now, due_after, due_until, BATCH, shards),
            ("ix_tasks_due", "deliveries key"),
        ),
        "tasks_to_nudge": (sweep.tasks_to_nudge_query(now, BATCH, shards), ("ix_tasks_nudge",)),
        "stale_proposals": (
            sweep.stale_proposals_query(now, BATCH, shards),
            ("ix_tasks_opens",),
        ),
        # The generic read a new kind may declare (kinds.py), keyed on a task's due time.
        "claimant_notices": (
            sweep.claimant_notices_query(
                sweep.ClaimantNotices("a_kind", "task.due_at", after=timedelta(days=3)),
                now - timedelta(days=4),
                now - timedelta(days=3),
                BATCH,
                shards,
            ),
            ("ix_tasks_due", "deliveries key"),
        ),
        "pending_deliveries": (
            sweep.pending_deliveries_query(now, BATCH, shards),
            ("ix_deliveries_retry",),
        ),
        # Card repair (bot/services/cards.py): only marked cards are in its index.
        "cards_to_repair": (
            sweep.cards_to_repair_query(now, CARD_BATCH, shards),
            ("ix_tasks_card_repair",),
        ),
    }


# A batch's share of the board as on a big one: 500 of 1,000,000 claims is 0.05 %; 500 of
# this board's 15,000 would be 3 %, where a whole-table read is what PostgreSQL should do.
BATCH_SAMPLE = 20


@dataclass(frozen=True)
class Ids:
    """Ids for the batch statements: a few claimed tasks and their claims."""

    tasks: list[int]
    claims: list[int]


async def some_ids(conn: AsyncConnection) -> Ids:
    claims = ClaimRow.__table__
    rows = (
        await conn.execute(
            sa.select(claims.c.id, claims.c.task_id)
            .where(claims.c.ended_at.is_(None))
            .order_by(claims.c.id)
            .limit(BATCH_SAMPLE)
        )
    ).all()
    return Ids(tasks=[t for _c, t in rows], claims=[c for c, _t in rows])


# -- a big, idle board --------------------------------------------------------------------------


async def insert(conn: AsyncConnection, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        await conn.execute(sa.insert(table.__table__), rows[i : i + CHUNK])


def task_row(number: int, status: str, now: datetime, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "guild_id": GUILD,
        "number": number,
        "title": f"Task {number}",
        "description": "",
        "points": 3,
        "tags": "",
        "due_at": None,
        "capacity": 1,
        "status": status,
        "creator_id": 1,
        "blocked_by_id": None,
        "claim_days": None,
        "rework_rounds": 0,
        "review_round": 0,
        "next_nudge_at": None,
        "opens_at": None,
        "status_changed_at": now,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    row.update(extra)
    return row


def claim_row(task_id: int, member: int, claimed_at: datetime, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "task_id": task_id,
        "guild_id": GUILD,
        "member_id": member,
        "claimed_at": claimed_at,
        "expires_at": claimed_at + timedelta(days=14),
        "warn_at": claimed_at + timedelta(days=7),
        "extensions": 0,
        "ended_at": None,
        "end_reason": None,
        "handoff_note": None,
    }
    row.update(extra)
    return row


async def seed(database: Database, now: datetime) -> dict[str, int]:
    """10,000 active claims, none near a warning or expiry, on a board with history:
    finished tasks, ended claims, sent deliveries, old endorsements, work in review not yet
    due a nudge, fresh proposals (some objected). Written in bulk through the repository's
    session."""
    async with database.unit() as uow:
        await uow.guilds.ensure_guild(GUILD, now)
        conn = await uow.session.connection()
        rows: list[dict[str, Any]] = []
        number = 0
        for i in range(ACTIVE_CLAIMS):  # claimed in the last 6 days; due dates weeks away
            number += 1
            due = now + timedelta(days=10 + i % 50) if i % 2 else None
            since = now - timedelta(minutes=(i * 37) % (6 * 24 * 60))
            rows.append(task_row(number, "claimed", since, due_at=due))
        for i in range(DONE_TASKS):  # done long ago, some with due dates long past
            number += 1
            when = now - timedelta(days=30 + i % 300)
            due = when - timedelta(days=1) if i % 3 == 0 else None
            rows.append(task_row(number, "done", when, due_at=due))
        for i in range(OPEN_TASKS):
            number += 1
            rows.append(task_row(number, "open", now - timedelta(days=i % 40)))
        for i in range(IN_REVIEW):  # submitted within the last 47 h: no nudge due yet
            number += 1
            since = now - timedelta(minutes=(i * 7) % (47 * 60))
            rows.append(
                task_row(number, "in_review", since, next_nudge_at=since + timedelta(hours=48))
            )
        for i in range(PROPOSALS):  # proposed in the last two days: inside their window
            number += 1
            since = now - timedelta(minutes=(i * 13) % (48 * 60))
            rows.append(task_row(number, "proposed", since, opens_at=since + timedelta(hours=72)))
        await insert(conn, Task, rows)
        await conn.execute(
            sa.update(GuildSettings.__table__)
            .where(GuildSettings.__table__.c.guild_id == GUILD)
            .values(next_task_number=number + 1)
        )

        ids = dict(
            (await conn.execute(sa.select(Task.__table__.c.number, Task.__table__.c.id))).all()
        )
        claims: list[dict[str, Any]] = []
        for i, n in enumerate(range(1, ACTIVE_CLAIMS + 1)):
            since = now - timedelta(minutes=(i * 37) % (6 * 24 * 60))
            claims.append(claim_row(ids[n], 10_000 + i % 3_000, since))
        first_done = ACTIVE_CLAIMS + 1
        for i, n in enumerate(range(first_done, first_done + DONE_TASKS)):  # ended claims
            ended = now - timedelta(days=30 + i % 300)
            claims.append(
                claim_row(
                    ids[n],
                    20_000 + i % 3_000,
                    ended - timedelta(days=5),
                    warn_at=None,
                    ended_at=ended,
                    end_reason="done",
                )
            )
        first_review = ACTIVE_CLAIMS + DONE_TASKS + OPEN_TASKS + 1
        for i, n in enumerate(range(first_review, first_review + IN_REVIEW)):
            # Submitted work keeps its claim; many are past their window (review does not expire).
            claimed_at = now - timedelta(days=2 + i % 20)
            claims.append(claim_row(ids[n], 30_000 + i, claimed_at, warn_at=None))
        await insert(conn, ClaimRow, claims)

        votes = [
            {
                "task_id": ids[first_done + i % DONE_TASKS],
                "guild_id": GUILD,
                "member_id": 40_000 + i // DONE_TASKS,
                "kind": "endorse",
                "reason": "",
                "created_at": now - timedelta(days=40),
            }
            for i in range(VOTES)
        ]
        first_proposal = first_review + IN_REVIEW
        for i, n in enumerate(range(first_proposal, first_proposal + PROPOSALS, 10)):
            votes.append(
                {
                    "task_id": ids[n],
                    "guild_id": GUILD,
                    "member_id": 50_000 + i,
                    "kind": "object",
                    "reason": "Not now",
                    "created_at": now,
                }
            )
        await insert(conn, ProposalVote, votes)

        kinds = [k.value for k in Reminder]
        deliveries = [
            {
                "guild_id": GUILD,
                "kind": kinds[i % len(kinds)],
                "task_id": ids[first_done + i % DONE_TASKS],
                "member_id": 20_000 + i % 3_000,
                "due_at": now - timedelta(days=30, minutes=i),
                "status": "sent" if i % 50 else "skipped",
                "attempts": 1,
                "lease_until": None,
                "next_attempt_at": None,
                "last_error": "",
                "via": "dm",
                "created_at": now - timedelta(days=30, minutes=i),
                "sent_at": now - timedelta(days=30, minutes=i),
            }
            for i in range(SENT_DELIVERIES)
        ]
        await insert(conn, Delivery, deliveries)
        await uow.commit()
    return {
        "tasks": len(rows),
        "claims": len(claims),
        "active claims": ACTIVE_CLAIMS + IN_REVIEW,
        "deliveries": len(deliveries),
        "votes": len(votes),
    }


@pytest.fixture
async def board(db_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    runtime = build_services(db_url, clock=clock)
    try:
        counts = await seed(Database(create_session_factory(runtime.engine)), clock.now())
        assert counts["active claims"] >= ACTIVE_CLAIMS
        async with runtime.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()
        yield runtime
    finally:
        await runtime.close()


# -- plans ------------------------------------------------------------------------------------


def check_sqlite(name: str, plan: list[str], indexes: tuple[str, ...]) -> None:
    shown = f"{name}: {plan}"
    for line in plan:
        words = line.split()
        if words[:1] == ["SCAN"] and words[1] in WATCHED:
            # "SCAN t" reads the table; "SCAN t USING INDEX i" reads all of i: neither is a range.
            raise AssertionError(f"full scan of {words[1]} in {shown}")
    for wanted in indexes:
        names = [ALIASES.get(i, {}).get("sqlite", i) for i in wanted.split("|")]
        used = (
            line.startswith("SEARCH") and any(f" {i} " in line + " " for i in names)
            for line in plan
        )
        assert any(used), f"{wanted} not used as a range in {shown}"


def check_postgres(name: str, nodes: list[dict[str, Any]], indexes: tuple[str, ...]) -> None:
    shown = f"{name}: {describe_pg(nodes)}"
    for node in nodes:
        if node["Node Type"] != "Seq Scan" or node.get("Relation Name") not in WATCHED:
            continue
        # One exception: the objection check of stale_proposals may read the objections
        # once per query into a Materialize (an anti join; not run at all unless a proposal
        # is over an hour old). PostgreSQL prefers that to a probe of the (task_id,
        # member_id) index per proposal; a partial index on objections would avoid it.
        once = node["Relation Name"] == "proposal_votes" and node["Parent"] == "Materialize"
        assert once, f"Seq Scan in {shown}"
    for wanted in indexes:
        names = [ALIASES.get(i, {}).get("postgresql", i) for i in wanted.split("|")]
        assert any(node.get("Index Name") in names for node in nodes), (
            f"{wanted} not used in {shown}"
        )


async def explain_all(
    runtime: Runtime, now: datetime, shards: Shards | None = None
) -> dict[str, list[str]]:
    """EXPLAIN each sweep statement (for a process of `shards`); fail on a full read of a
    watched table or a missed index. (EXPLAIN without ANALYZE: the writes are planned, not
    run.)"""
    seen: dict[str, list[str]] = {}
    async with runtime.engine.connect() as conn:
        ids = await some_ids(conn)
        for name, (built, indexes) in sweep_queries(now, ids, shards).items():
            # A statement with its values in, or one built once and its values (Bound).
            stmt, params = built if isinstance(built, tuple) else (built, None)
            if conn.dialect.name == "sqlite":
                plan = await sqlite_plan(conn, stmt, params)
                check_sqlite(name, plan, indexes)
                seen[name] = plan
                continue
            for mode in PG_PLAN_MODES:
                nodes = await pg_plan(conn, stmt, mode, params)
                check_postgres(f"{name} ({mode})", nodes, indexes)
                seen[f"{name} ({mode.split('_')[1]})"] = describe_pg(nodes)
    return seen


async def idle_sweep_times(runtime: Runtime, runs: int = 5) -> tuple[list[float], list[float]]:
    """Wall times, after one warm-up, of the has-work check (what an idle sweep runs) and
    of every phase anyway (enqueue_due + pending): none may find or enqueue anything."""
    reminders = runtime.services.reminders

    async def phases() -> tuple[EnqueueReport, int]:
        report = await reminders.enqueue_due(BOT)
        return report, len(await reminders.pending())

    assert not await reminders.has_work()  # warm-up: connections, statement caches
    assert await phases() == (EnqueueReport(), 0)
    checks, full = [], []
    for _ in range(runs):
        started = time.perf_counter()
        work = await reminders.has_work()
        checks.append(time.perf_counter() - started)
        assert not work, work
        started = time.perf_counter()
        result = await phases()
        full.append(time.perf_counter() - started)
        assert result == (EnqueueReport(), 0)
    return checks, full


async def count_deliveries(runtime: Runtime) -> int:
    async with runtime.engine.connect() as conn:
        counted = (await conn.execute(sa.select(sa.func.count()).select_from(Delivery))).scalar()
        return int(counted or 0)


# One test per backend: seeding 10,000 claims with their history is the slow part.
async def test_sweep_reads_use_indexes_and_an_idle_sweep_enqueues_nothing(
    board: Runtime, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = await explain_all(board, clock.now())
    # A process of some shards reads through the same indexes: the board's guild is on
    # shard 0 of 2 (every row passes the filter) and on none of 1 and 3 of 4 (none does).
    assert Shards.only(2, 0).owns(GUILD) and not Shards.only(4, 1, 3).owns(GUILD)
    for shards in (Shards.only(2, 0), Shards.only(4, 1, 3)):
        await explain_all(board, clock.now(), shards)
        assert not await board.services.reminders.has_work(shards)
    before = await count_deliveries(board)
    checks, full = await idle_sweep_times(board)
    assert await count_deliveries(board) == before  # nothing enqueued, nothing written
    backend = board.engine.dialect.name
    with capsys.disabled():  # the benchmark figures and the plans, shown in every run
        for label, timings in (("has_work (the sweep)", checks), ("every phase", full)):
            print(
                f"\n[idle sweep, {backend}, {ACTIVE_CLAIMS:,} active claims] {label}: "
                f"median {statistics.median(timings) * 1000:.1f} ms, "
                f"min {min(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms "
                f"({len(timings)} runs)",
                end="",
            )
        print()
        for name, plan in plans.items():
            print(f"  {name:18} {' | '.join(plan)}")
