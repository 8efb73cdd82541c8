"""A big, realistic board written in bulk through SQL: INSERT … SELECT over a series of
numbers (a recursive CTE on SQLite, generate_series on PostgreSQL), never through the
services. Used by the query-plan test (a few thousand rows) and by the benchmarks in
tests/perf (up to 1,000,000 rows).

Everything is deterministic: task #i's status, members and times are functions of i, so
two seeds of the same size are the same board. Times are offsets in seconds from `now`.

The mix (per 100 tasks): 45 done, 5 cancelled, 35 open, 10 claimed, 3 in review,
2 proposed. Done work has its history, ended claim, submission, approving review,
ledger credit (task + review) and a sent delivery; claimed and in-review work has an
active claim. Members are `members` synthetic ids plus the `actors` given (e.g. SimCord
users), whose own credit is added explicitly (`actor_done` done tasks each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

DAY = 86_400
SYNTH_BASE = 7_000_000_000_000  # synthetic member ids: far from real snowflakes' range
MAINTAINER = 6_000_000_000_001
PRIME_A = 104_729
PRIME_B = 15_485_863

# (status, share of 100): the board a community has after a year or two.
MIX: tuple[tuple[str, int], ...] = (
    ("done", 45),
    ("cancelled", 5),
    ("open", 35),
    ("claimed", 10),
    ("in_review", 3),
    ("proposed", 2),
)
WORDS = (
    "docs",
    "translate",
    "footer",
    "login",
    "onboarding",
    "tests",
    "release notes",
    "accessibility",
    "design",
    "newsletter",
)
TAGS = ("docs", "good first", "design", "infra", "events", "outreach", "translation")


@dataclass(frozen=True)
class BoardSpec:
    guild_id: int
    tasks: int
    members: int = 10_000  # synthetic members, plus the actors
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    actors: tuple[int, ...] = ()
    actor_done: int = 6  # done tasks credited to each actor: "regular" with the defaults
    mix: tuple[tuple[str, int], ...] = MIX
    kudos: int | None = None  # kudos rows; default tasks // 5
    history: bool = True

    @property
    def epoch(self) -> int:
        return int(self.now.timestamp())


# -- dialect helpers ------------------------------------------------------------------------


def series(dialect: str, n: int) -> tuple[str, str]:
    """(prefix, from-item) giving rows i = 1..n."""
    if dialect == "postgresql":
        return "", f"generate_series(1::bigint, {int(n)}::bigint) AS n(i)"
    return (
        f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {int(n)}) ",
        "n",
    )


def ts(dialect: str, epoch: int, offset_sql: str) -> str:
    """A timestamp `offset_sql` seconds after `epoch`, stored the way UTCDateTime stores it."""
    if dialect == "postgresql":
        return f"to_timestamp({epoch} + ({offset_sql}))"
    # SQLAlchemy's SQLite DateTime: 'YYYY-MM-DD HH:MM:SS.ffffff', naive UTC.
    return f"(strftime('%Y-%m-%d %H:%M:%S', {epoch} + ({offset_sql}), 'unixepoch') || '.000000')"


def status_case(mix: tuple[tuple[str, int], ...], expr: str) -> str:
    total = sum(share for _s, share in mix)
    parts, upto = [], 0
    for status, share in mix:
        upto += share
        parts.append(f"WHEN (({expr}) * 7919) % {total} < {upto} THEN '{status}'")
    return "CASE " + " ".join(parts) + f" ELSE '{mix[-1][0]}' END"


def member_sql(spec: BoardSpec, expr: str, prime: int = PRIME_A) -> str:
    return f"({SYNTH_BASE} + (CAST(({expr}) AS BIGINT) * {prime}) % {max(spec.members, 1)})"


# -- the seed --------------------------------------------------------------------------------


async def seed_board(engine: AsyncEngine, spec: BoardSpec) -> dict[str, int]:
    """Write the board; returns row counts. Runs ANALYZE at the end."""
    dialect = engine.dialect.name
    async with engine.begin() as conn:
        if dialect == "postgresql":
            # Bulk load: skip the per-row foreign-key triggers (the rows are consistent by
            # construction). Needs a superuser, which the throwaway cluster's user is.
            await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        await _seed(conn, dialect, spec)
        counts = {
            table: int((await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in (
                "tasks",
                "claims",
                "task_history",
                "ledger",
                "reviews",
                "guild_members",
                "deliveries",
                "member_scores",
            )
        }
    await analyze(engine)
    return counts


async def analyze(engine: AsyncEngine) -> None:
    if engine.dialect.name == "postgresql":
        # VACUUM cannot run in a transaction; it also sets the visibility map, as autovacuum
        # would on a live server, so index-only scans are costed as they would be there.
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE")
            # Pages the first pass pruned (the seed's UPDATEs) are marked all-visible only
            # by a second one; without it, how many are left unmarked varied from run to
            # run, and with them PostgreSQL's choice between an index-only and a full scan.
            await conn.exec_driver_sql("VACUUM")
    else:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")


async def _seed(conn: AsyncConnection, dialect: str, spec: BoardSpec) -> None:
    e = spec.epoch
    g = spec.guild_id
    n = spec.tasks
    run = conn.exec_driver_sql
    prefix, src = series(dialect, n)
    now = ts(dialect, e, "0")
    await run(
        f"INSERT INTO guild_settings (guild_id, next_task_number, max_extensions, limit_newcomer, "
        "limit_contributor, limit_regular, required_approvals, regular_threshold, "
        "regulars_can_create, proposal_endorsements, proposal_window_hours, "
        "claim_warning_fraction, review_points, rework_limit, review_nudge_hours, "
        "kudos_weekly_budget, digest_day, digest_time, digest_timezone, digest_enabled, "
        f"created_at, updated_at) VALUES ({g}, {n + 1}, 2, 1, 3, 5, 1, 5, FALSE, 2, 72, 0.5, 1, "
        f"3, 48, 5, 0, '17:00', 'UTC', TRUE, {now}, {now})"
    )

    # Tasks: status from i; older numbers changed status longer ago.
    status = status_case(spec.mix, "i")
    # Seconds before now: the board's history spans 400 days whatever its size.
    age = f"(({n} - i) * {400 * DAY // max(n, 1)} + (i * 13) % 3600) % (400 * {DAY})"
    changed = ts(dialect, e, f"-({age})")
    title_case = (
        "CASE "
        + " ".join(f"WHEN i % {len(WORDS)} = {k} THEN '{w}'" for k, w in enumerate(WORDS))
        + " END"
    )
    tags_case = (
        "CASE "
        + " ".join(f"WHEN i % 11 = {k} THEN ',{t},'" for k, t in enumerate(TAGS))
        + " ELSE '' END"
    )
    await run(
        prefix + "INSERT INTO tasks (guild_id, number, title, description, points, tags, due_at, "
        "capacity, status, creator_id, blocked_by_id, claim_days, rework_rounds, review_round, "
        "card_channel_id, card_message_id, thread_id, next_nudge_at, opens_at, "
        "status_changed_at, created_at, updated_at, version) "
        f"SELECT {g}, i, 'Task ' || i || ': ' || {title_case}, 'Seeded for benchmarks.', "
        "CASE i % 5 WHEN 0 THEN 5 WHEN 1 THEN 1 WHEN 2 THEN 2 WHEN 3 THEN 3 ELSE 8 END, "
        f"{tags_case}, NULL, 1, s, {MAINTAINER}, NULL, NULL, 0, "
        "CASE WHEN s IN ('done', 'in_review') THEN 1 ELSE 0 END, NULL, NULL, NULL, "
        f"CASE WHEN s = 'in_review' THEN {ts(dialect, e, f'(i % {DAY}) + {DAY}')} ELSE NULL END, "
        # A proposal opens by lazy consensus 72 hours (the default window) after it was made.
        f"CASE WHEN s = 'proposed' THEN {ts(dialect, e, f'-({age}) + 72 * 3600')} ELSE NULL END, "
        f"{changed}, {ts(dialect, e, f'-({age}) - {DAY}')}, {changed}, 1 "
        f"FROM (SELECT i, {status} AS s FROM {src}) AS b"
    )
    # Due dates on some open and claimed work, days to weeks ahead.
    await run(
        f"UPDATE tasks SET due_at = {ts(dialect, e, f'(number % 60 + 3) * {DAY}')} "
        f"WHERE guild_id = {g} AND number % 5 = 0 AND status IN ('open', 'claimed')"
    )

    # Active claims: claimed within the last 6 days, 14-day windows, warning at half.
    claimed = f"-((number * 37) % (6 * {DAY}))"
    await run(
        "INSERT INTO claims (task_id, guild_id, member_id, claimed_at, expires_at, warn_at, "
        "extensions, ended_at, end_reason, handoff_note) "
        f"SELECT id, guild_id, {member_sql(spec, 'number')}, {ts(dialect, e, claimed)}, "
        f"{ts(dialect, e, f'{claimed} + 14 * {DAY}')}, "
        f"CASE WHEN status = 'claimed' THEN {ts(dialect, e, f'{claimed} + 7 * {DAY}')} END, "
        f"0, NULL, NULL, NULL FROM tasks WHERE guild_id = {g} AND status IN ('claimed', 'in_review')"
    )
    # Finished work: its ended claim, submission, review, credit and a sent delivery.
    await run(
        "INSERT INTO claims (task_id, guild_id, member_id, claimed_at, expires_at, warn_at, "
        "extensions, ended_at, end_reason, handoff_note) "
        f"SELECT id, guild_id, {member_sql(spec, 'number')}, created_at, created_at, NULL, 0, "
        f"status_changed_at, 'done', NULL FROM tasks WHERE guild_id = {g} AND status = 'done'"
    )
    await run(
        "INSERT INTO submissions (task_id, guild_id, member_id, round, link, notes, created_at) "
        f"SELECT id, guild_id, {member_sql(spec, 'number')}, 1, 'https://example.org/pr/' || number, "
        f"'', created_at FROM tasks WHERE guild_id = {g} AND status IN ('done', 'in_review')"
    )
    await run(
        "INSERT INTO reviews (task_id, guild_id, reviewer_id, round, verdict, comment, credited, "
        f"created_at) SELECT id, guild_id, {member_sql(spec, 'number', PRIME_B)}, 1, 'approve', "
        f"'', TRUE, status_changed_at FROM tasks WHERE guild_id = {g} AND status = 'done'"
    )
    await run(
        "INSERT INTO ledger (guild_id, member_id, kind, points, task_id, review_id, giver_id, "
        f"reason, created_at) SELECT guild_id, {member_sql(spec, 'number')}, 'task', points, id, "
        f"NULL, NULL, '', status_changed_at FROM tasks WHERE guild_id = {g} AND status = 'done'"
    )
    await run(
        "INSERT INTO ledger (guild_id, member_id, kind, points, task_id, review_id, giver_id, "
        "reason, created_at) SELECT r.guild_id, r.reviewer_id, 'review', 1, r.task_id, r.id, "
        f"NULL, '', r.created_at FROM reviews r WHERE r.guild_id = {g}"
    )
    kudos = spec.tasks // 5 if spec.kudos is None else spec.kudos
    if kudos:
        kprefix, ksrc = series(dialect, kudos)
        await run(
            kprefix + "INSERT INTO ledger (guild_id, member_id, kind, points, task_id, review_id, "
            f"giver_id, reason, created_at) SELECT {g}, {member_sql(spec, 'i')}, 'kudos', 0, NULL, "
            f"NULL, {member_sql(spec, 'i + 1', PRIME_B)}, 'thanks for the help', "
            f"{ts(dialect, e, f'-((i * 7919) % (365 * {DAY}))')} FROM {ksrc}"
        )
    await run(
        "INSERT INTO deliveries (guild_id, kind, task_id, member_id, due_at, status, attempts, "
        "lease_until, next_attempt_at, last_error, via, created_at, sent_at) "
        f"SELECT guild_id, 'claim_warning', id, {member_sql(spec, 'number')}, created_at, 'sent', "
        "1, NULL, NULL, '', 'dm', created_at, created_at "
        f"FROM tasks WHERE guild_id = {g} AND status = 'done'"
    )
    if spec.history:
        await _history(conn, dialect, spec)

    # Members: every synthetic id (1 % hidden from rankings), then the actors.
    mprefix, msrc = series(dialect, spec.members)
    await run(
        mprefix + "INSERT INTO guild_members (guild_id, member_id, reminders_enabled, away_until, "
        f"ranking_visible, updated_at) SELECT {g}, {SYNTH_BASE} + i - 1, TRUE, NULL, "
        f"CASE WHEN i % 100 = 7 THEN FALSE ELSE TRUE END, {now} FROM {msrc}"
    )
    await _actors(conn, dialect, spec)
    # The ledger's sums per member, as the bot keeps them (and migration 0004 fills them).
    await run(
        "INSERT INTO member_scores (guild_id, member_id, points, tasks, reviews, kudos) "
        "SELECT guild_id, member_id, "
        "COALESCE(SUM(CASE WHEN kind IN ('task', 'review') THEN points ELSE 0 END), 0), "
        "COUNT(DISTINCT CASE WHEN kind = 'task' THEN task_id END), "
        "COALESCE(SUM(CASE WHEN kind = 'review' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN kind = 'kudos' THEN 1 ELSE 0 END), 0) "
        f"FROM ledger WHERE guild_id = {g} GROUP BY guild_id, member_id"
    )


async def _history(conn: AsyncConnection, dialect: str, spec: BoardSpec) -> None:
    g = spec.guild_id
    rows = (
        # (action, from, to, which tasks, actor expression)
        ("create", "NULL", "'open'", "status <> 'proposed'", str(MAINTAINER)),
        ("propose", "NULL", "'proposed'", "status = 'proposed'", member_sql(spec, "number")),
        (
            "claim",
            "'open'",
            "'claimed'",
            "status IN ('claimed', 'in_review', 'done')",
            member_sql(spec, "number"),
        ),
        (
            "submit",
            "'claimed'",
            "'in_review'",
            "status IN ('in_review', 'done')",
            member_sql(spec, "number"),
        ),
        (
            "approve",
            "'in_review'",
            "'done'",
            "status = 'done'",
            member_sql(spec, "number", PRIME_B),
        ),
        ("cancel", "'open'", "'cancelled'", "status = 'cancelled'", str(MAINTAINER)),
    )
    for action, before, after, where, actor in rows:
        when = "created_at" if action in ("create", "propose") else "status_changed_at"
        await conn.exec_driver_sql(
            "INSERT INTO task_history (guild_id, task_id, actor_id, action, from_status, "
            f"to_status, note, created_at) SELECT guild_id, id, {actor}, '{action}', {before}, "
            f"{after}, '', {when} FROM tasks WHERE guild_id = {g} AND {where}"
        )


async def _actors(conn: AsyncConnection, dialect: str, spec: BoardSpec) -> None:
    """Each actor: a member row and credit for `actor_done` done tasks (no active claims)."""
    if not spec.actors:
        return
    g = spec.guild_id
    now = ts(dialect, spec.epoch, "0")
    for k, actor in enumerate(spec.actors):
        await conn.exec_driver_sql(
            "INSERT INTO guild_members (guild_id, member_id, reminders_enabled, away_until, "
            f"ranking_visible, updated_at) VALUES ({g}, {int(actor)}, TRUE, NULL, TRUE, {now})"
        )
        await conn.exec_driver_sql(
            "INSERT INTO ledger (guild_id, member_id, kind, points, task_id, review_id, giver_id, "
            f"reason, created_at) SELECT guild_id, {int(actor)}, 'task', points, id, NULL, NULL, "
            f"'', status_changed_at FROM tasks WHERE guild_id = {g} AND status = 'done' "
            f"ORDER BY (number * 7 + {k * 13}) % 1009, number LIMIT {int(spec.actor_done)}"
        )


async def numbers_with_status(conn: AsyncConnection, guild_id: int, status: str) -> list[int]:
    rows = await conn.exec_driver_sql(
        f"SELECT number FROM tasks WHERE guild_id = {int(guild_id)} AND status = '{status}' "
        "ORDER BY number"
    )
    return [int(r[0]) for r in rows.all()]


def describe(counts: dict[str, Any]) -> str:
    return ", ".join(f"{v:,} {k}" for k, v in counts.items())
