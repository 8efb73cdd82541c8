"""Many guilds on PostgreSQL, written in bulk: one board is seeded with tests/support/bulk.py
for a template guild, then copied to every guild in a few INSERT … SELECT statements per
table (the template's rows joined to a table of the new guild ids), and the template is
deleted. Every guild then has the same board (tasks, claims, submissions, reviews, ledger,
history, deliveries, members, scores) and its own settings, which vary from guild to
guild: channels and roles, claim windows, approvals, digest day, time and time zone,
and a digest left off in one guild of ten.

Times are offsets from `now` (as in bulk.py). Proposals are made younger than their
window (they open by lazy consensus after it; a running bot would have opened older
ones), and digest days are none of yesterday, today or tomorrow (in any time zone), so
a bot started just after the seed has no digest to catch up on: a start-up measures the
start, not a week's digests.

PostgreSQL only (generate_series, DISTINCT ON, session_replication_role)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import bot.db.models  # noqa: F401  (the tables' metadata)
from tests.support.bulk import BoardSpec, analyze, seed_board, ts
from tests.support.guild_gateway import DIGEST, MAINTAINERS, REVIEW, REVIEWERS, TASKS

TEMPLATE = 5_000_000_000_000_000_001  # a guild id none of the seeded guilds has
CHUNK = 1_000  # guilds per statement
# Proposals waiting for lazy consensus, 10 minutes to 45 hours old: inside every guild's
# window (48 or 72 hours), as on a board whose bot opens each once its window is over.
PROPOSAL_AGE = "-(number % 40) * 4200 - 600"
WINDOW = "CASE WHEN g.k % 3 = 0 THEN 48 ELSE 72 END"  # a guild's proposal window, hours
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "America/Sao_Paulo")
TABLES = (
    "tasks",
    "claims",
    "submissions",
    "reviews",
    "ledger",
    "task_history",
    "deliveries",
    "guild_members",
    "member_scores",
    "guild_settings",
)
# Rows of these tables belong to a task: copied by joining the template's task to the new
# guild's task with the same number.
BY_TASK = ("claims", "submissions", "reviews", "task_history", "deliveries")


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def digest_days(now: datetime) -> tuple[int, ...]:
    """Week days (Monday = 0) at least two days from `now`'s, whichever the time zone."""
    today = now.weekday()
    return tuple(d for d in range(7) if (d - today) % 7 not in (6, 0, 1))


def _settings_overrides(now: datetime) -> dict[str, str]:
    days = digest_days(now)
    day = "CASE g.k % {n} {whens} END".format(
        n=len(days), whens=" ".join(f"WHEN {i} THEN {d}" for i, d in enumerate(days))
    )
    zone = "CASE g.k % {n} {whens} END".format(
        n=len(ZONES), whens=" ".join(f"WHEN {i} THEN '{z}'" for i, z in enumerate(ZONES))
    )
    return {
        "guild_id": "g.guild_id",
        "tasks_channel_id": f"g.guild_id + {TASKS}",
        "review_channel_id": f"g.guild_id + {REVIEW}",
        "digest_channel_id": f"g.guild_id + {DIGEST}",
        "maintainer_role_id": f"g.guild_id + {MAINTAINERS}",
        "reviewer_role_id": f"CASE WHEN g.k % 3 = 0 THEN g.guild_id + {REVIEWERS} END",
        "claim_days": "CASE g.k % 5 WHEN 0 THEN 7 WHEN 1 THEN 14 ELSE NULL END",
        "required_approvals": "CASE WHEN g.k % 4 = 0 THEN 2 ELSE 1 END",
        "regulars_can_create": "g.k % 2 = 0",
        "proposal_window_hours": WINDOW,
        "digest_day": day,
        "digest_time": "lpad((9 + g.k % 12)::text, 2, '0') || ':' || lpad((g.k * 15 % 60)::text, 2, '0')",
        "digest_timezone": zone,
        "digest_enabled": "g.k % 10 <> 9",
    }


def _copy(name: str, overrides: dict[str, str], source: str, where: str) -> str:
    columns = [c.name for c in _table(name).columns if c.name != "id"]
    values = ", ".join(overrides.get(c, f"t.{c}") for c in columns)
    return (
        f"INSERT INTO {name} ({', '.join(columns)}) SELECT {values} FROM {source} "
        f"WHERE t.guild_id = {TEMPLATE} AND {where}"
    )


def copy_statements(now: datetime, lo: int, hi: int) -> list[str]:
    """The statements that copy the template to the guilds numbered lo <= k < hi."""
    guilds = f"(SELECT k, guild_id FROM seed_guilds WHERE k >= {lo} AND k < {hi}) AS g"
    new_task = (
        "JOIN tasks ot ON ot.id = t.task_id "
        f"CROSS JOIN {guilds} JOIN tasks nt ON nt.guild_id = g.guild_id AND nt.number = ot.number"
    )
    out = [
        _copy(
            "guild_settings",
            _settings_overrides(now),
            f"guild_settings t CROSS JOIN {guilds}",
            "TRUE",
        ),
        _copy(
            "tasks",
            {
                "guild_id": "g.guild_id",
                # Cards posted in the guild's #tasks, a thread on each claimed one.
                "card_channel_id": f"CASE WHEN t.status <> 'proposed' THEN g.guild_id + {TASKS} END",
                # A proposal opens its guild's window after it was made.
                "opens_at": "CASE WHEN t.status = 'proposed' THEN t.status_changed_at "
                f"+ make_interval(hours => {WINDOW}) END",
                "card_message_id": "CASE WHEN t.status <> 'proposed' THEN g.guild_id + 1000 + t.number END",
                "thread_id": "CASE WHEN t.status IN ('claimed', 'in_review', 'done') "
                "THEN g.guild_id + 200000 + t.number END",
            },
            f"tasks t CROSS JOIN {guilds}",
            "TRUE",
        ),
    ]
    for name in BY_TASK:
        out.append(
            _copy(
                name, {"guild_id": "g.guild_id", "task_id": "nt.id"}, f"{name} t {new_task}", "TRUE"
            )
        )
    ledger = {"guild_id": "g.guild_id", "task_id": "nt.id"}
    out.append(_copy("ledger", ledger, f"ledger t {new_task}", "t.review_id IS NULL"))
    out.append(
        _copy(
            "ledger",
            {**ledger, "review_id": "nr.id"},
            f"ledger t {new_task} JOIN reviews orv ON orv.id = t.review_id JOIN reviews nr "
            "ON nr.task_id = nt.id AND nr.round = orv.round AND nr.reviewer_id = orv.reviewer_id",
            "t.review_id IS NOT NULL",
        )
    )
    out.append(
        _copy(
            "ledger",
            {"guild_id": "g.guild_id"},
            f"ledger t CROSS JOIN {guilds}",
            "t.task_id IS NULL",
        )
    )
    for name in ("guild_members", "member_scores"):
        out.append(_copy(name, {"guild_id": "g.guild_id"}, f"{name} t CROSS JOIN {guilds}", "TRUE"))
    return out


async def seed_guilds(
    engine: AsyncEngine,
    guild_ids: Sequence[int],
    *,
    tasks: int,
    members: int,
    now: datetime,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Seed `tasks` tasks in each of `guild_ids`; returns the row counts of every table."""
    assert engine.dialect.name == "postgresql", "bulk_guilds seeds PostgreSQL only"
    started = time.perf_counter()
    spec = BoardSpec(guild_id=TEMPLATE, tasks=tasks, members=members, now=now, kudos=tasks // 10)
    await seed_board(engine, spec)
    recent = ts("postgresql", spec.epoch, PROPOSAL_AGE)
    async with engine.begin() as conn:
        run = conn.exec_driver_sql
        await run(
            f"UPDATE tasks SET status_changed_at = {recent}, created_at = {recent}, "
            f"updated_at = {recent} WHERE guild_id = {TEMPLATE} AND status = 'proposed'"
        )
        await run("CREATE TABLE seed_guilds (k integer PRIMARY KEY, guild_id bigint NOT NULL)")
        await run(
            "INSERT INTO seed_guilds (k, guild_id) SELECT k - 1, (ARRAY["
            + ",".join(str(int(g)) for g in guild_ids)
            + f"]::bigint[])[k] FROM generate_series(1, {len(guild_ids)}) AS s(k)"
        )
    for lo in range(0, len(guild_ids), CHUNK):
        async with engine.begin() as conn:
            # The rows are consistent by construction: skip the per-row foreign-key triggers.
            await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            for statement in copy_statements(now, lo, lo + CHUNK):
                await conn.exec_driver_sql(statement)
        if progress is not None:
            done = min(lo + CHUNK, len(guild_ids))
            progress(f"{done:,} guilds in {time.perf_counter() - started:.0f} s")
    async with engine.begin() as conn:
        await conn.exec_driver_sql("DROP TABLE seed_guilds")
        # The template goes, with every row of it (the foreign keys cascade).
        for name in reversed(TABLES):
            await conn.exec_driver_sql(f"DELETE FROM {name} WHERE guild_id = {TEMPLATE}")
        counts = {
            name: int((await conn.exec_driver_sql(f"SELECT count(*) FROM {name}")).scalar_one())
            for name in TABLES
        }
    await analyze(engine)
    return counts


def one_week_ago(now: datetime) -> datetime:
    return now - timedelta(days=7)
