"""The reminder sweep stays cheap as the board grows (SPEC §6, §7): with 10,000 active
claims and nothing due, each of its reads is an index range read on SQLite and on
PostgreSQL, and a full idle sweep enqueues nothing.

The statements EXPLAINed are the ones the repository runs (bot/db/repository.py builds
each with a small function). The wall time of one idle sweep is printed as a benchmark
figure; it is not asserted.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app import Runtime, build_services
from bot.db import repository as q
from bot.db.engine import create_session_factory
from bot.db.models import ClaimRow, Delivery, GuildSettings, ProposalVote, Task
from bot.db.uow import Database
from bot.domain.model import DUE_SOON_HOURS, Reminder
from bot.services.clock import ManualClock
from bot.services.reminders import BATCH, EnqueueReport
from tests.services.helpers import GUILD

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


def sweep_queries(now: datetime) -> dict[str, tuple[sa.Select[Any], str]]:
    """Each read of one sweep, as ReminderService calls it, and the index it should use."""
    return {
        "claims_to_warn": (q.claims_to_warn_query(now, BATCH), "ix_claims_warning"),
        "expired_claims": (q.expired_claims_query(now, BATCH), "ix_claims_active_expiry"),
        "tasks_due_soon": (
            q.tasks_due_between_query(now, now + timedelta(hours=DUE_SOON_HOURS), BATCH),
            "ix_tasks_due",
        ),
        "tasks_overdue": (
            q.tasks_due_between_query(now - timedelta(days=1), now, BATCH),
            "ix_tasks_due",
        ),
        "tasks_to_nudge": (q.tasks_to_nudge_query(now, BATCH), "ix_tasks_nudge"),
        "stale_proposals": (
            q.stale_proposals_query(now - timedelta(hours=1), BATCH),
            "ix_tasks_status_age",
        ),
        "pending_deliveries": (q.pending_deliveries_query(now, BATCH), "ix_deliveries_retry"),
    }


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
        await uow.repo.ensure_guild(GUILD, now)
        conn = await uow.repo.session.connection()
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
        for i in range(PROPOSALS):  # proposed in the last half hour
            number += 1
            rows.append(task_row(number, "proposed", now - timedelta(seconds=30 * i)))
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


def bound(stmt: sa.Select[Any], dialect: Any) -> tuple[str, list[Any]]:
    """The SQL text SQLAlchemy sends for `stmt` on this dialect, and its positional
    parameters as the driver gets them (after the column types' bind processing)."""
    comp = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    values = []
    for name in comp.positiontup or ():
        value = comp.params[name]
        bind = comp.binds.get(name)  # expanded IN (...) members have no bind of their own
        process = None if bind is None else bind.type.dialect_impl(dialect).bind_processor(dialect)
        values.append(process(value) if process else value)
    return comp.string, values


async def sqlite_plan(conn: AsyncConnection, stmt: sa.Select[Any]) -> list[str]:
    sql, params = bound(stmt, conn.dialect)
    rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, tuple(params))).all()
    return [str(row[-1]) for row in rows]


def pg_nodes(node: dict[str, Any], parent: str = "") -> list[dict[str, Any]]:
    """The plan's nodes, depth first, each with its parent's node type under "Parent"."""
    found = [{**node, "Parent": parent}]
    for child in node.get("Plans", []):
        found.extend(pg_nodes(child, node["Node Type"]))
    return found


def pg_literal(value: Any) -> str:
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    assert isinstance(value, int), value
    return str(value)


PG_PLAN_MODES = ("force_custom_plan", "force_generic_plan")


async def pg_plan(conn: AsyncConnection, stmt: sa.Select[Any], mode: str) -> list[dict[str, Any]]:
    """The plan PostgreSQL uses for the statement as asyncpg runs it: a prepared statement
    (`$1::TIMESTAMP WITH TIME ZONE`, ...). PostgreSQL plans the first executions with the
    values (a custom plan) and may then switch to one generic plan for any values: both
    must read through an index."""
    sql, params = bound(stmt, conn.dialect)
    await conn.exec_driver_sql(f"SET plan_cache_mode = {mode}")
    await conn.exec_driver_sql(f"PREPARE sweep_read AS {sql}")
    try:
        args = ", ".join(pg_literal(v) for v in params)
        explain = f"EXPLAIN (FORMAT JSON) EXECUTE sweep_read({args})"
        raw = (await conn.exec_driver_sql(explain)).scalar_one()
    finally:
        await conn.exec_driver_sql("DEALLOCATE sweep_read")
        await conn.exec_driver_sql("RESET plan_cache_mode")
    doc = json.loads(raw) if isinstance(raw, str) else raw
    return pg_nodes(doc[0]["Plan"])


def describe_pg(nodes: list[dict[str, Any]]) -> list[str]:
    return [
        " ".join(
            str(part)
            for part in (
                n["Node Type"],
                f"({n['Join Type']})" if n.get("Join Type", "Inner") != "Inner" else "",
                n.get("Index Name", ""),
                f"on {n['Relation Name']}" if "Relation Name" in n else "",
            )
            if part
        )
        for n in nodes
    ]


def check_sqlite(name: str, plan: list[str], index: str) -> None:
    shown = f"{name}: {plan}"
    for line in plan:
        words = line.split()
        if words[:1] == ["SCAN"] and words[1] in WATCHED:
            # "SCAN t" reads the table; "SCAN t USING INDEX i" reads all of i: neither is a range.
            raise AssertionError(f"full scan of {words[1]} in {shown}")
    assert any(line.startswith("SEARCH") and f"INDEX {index} " in line + " " for line in plan), (
        f"{index} not used as a range in {shown}"
    )


def check_postgres(name: str, nodes: list[dict[str, Any]], index: str) -> None:
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
    assert any(node.get("Index Name") == index for node in nodes), f"{index} not used in {shown}"


async def explain_all(runtime: Runtime, now: datetime) -> dict[str, list[str]]:
    """EXPLAIN each sweep read; fail on a full read of a watched table or a missed index."""
    seen: dict[str, list[str]] = {}
    async with runtime.engine.connect() as conn:
        for name, (stmt, index) in sweep_queries(now).items():
            if conn.dialect.name == "sqlite":
                plan = await sqlite_plan(conn, stmt)
                check_sqlite(name, plan, index)
                seen[name] = plan
                continue
            for mode in PG_PLAN_MODES:
                nodes = await pg_plan(conn, stmt, mode)
                check_postgres(f"{name} ({mode})", nodes, index)
                seen[f"{name} ({mode.split('_')[1]})"] = describe_pg(nodes)
    return seen


async def idle_sweep_times(runtime: Runtime, runs: int = 5) -> list[float]:
    """Wall time of enqueue_due + pending, after one warm-up; each must enqueue nothing."""
    reminders = runtime.services.reminders

    async def once() -> tuple[EnqueueReport, int]:
        report = await reminders.enqueue_due(BOT)
        return report, len(await reminders.pending())

    assert await once() == (EnqueueReport(), 0)  # warm-up: connections, statement caches
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await once()
        timings.append(time.perf_counter() - started)
        assert result == (EnqueueReport(), 0)
    return timings


async def count_deliveries(runtime: Runtime) -> int:
    async with runtime.engine.connect() as conn:
        counted = (await conn.execute(sa.select(sa.func.count()).select_from(Delivery))).scalar()
        return int(counted or 0)


# One test per backend: seeding 10,000 claims with their history is the slow part.
async def test_sweep_reads_use_indexes_and_an_idle_sweep_enqueues_nothing(
    board: Runtime, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = await explain_all(board, clock.now())
    before = await count_deliveries(board)
    timings = await idle_sweep_times(board)
    assert await count_deliveries(board) == before  # nothing enqueued, nothing written
    backend = board.engine.dialect.name
    with capsys.disabled():  # the benchmark figure and the plans, shown in every run
        print(
            f"\n[idle sweep, {backend}, {ACTIVE_CLAIMS:,} active claims] enqueue_due + pending: "
            f"median {statistics.median(timings) * 1000:.1f} ms, "
            f"min {min(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms "
            f"({len(timings)} runs)"
        )
        for name, plan in plans.items():
            print(f"  {name:18} {' | '.join(plan)}")
