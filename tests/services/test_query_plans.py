"""Every read an interaction runs on a hot path goes through an index, however large the
board grows: on a board seeded in bulk (a few thousand tasks, claims, history and ledger
rows, beside a smaller guild) and ANALYZEd, each statement is EXPLAINed on SQLite and on
PostgreSQL, and a full scan of a big table fails the test.

SQLite: `SCAN <table>` fails; `SCAN <table> USING [COVERING] INDEX …` and `SEARCH …` pass.
PostgreSQL: a `Seq Scan` on a big table fails, in the plan for the values given (custom)
and in the plan for any values (generic), as asyncpg prepares each statement. The
statements are the repositories' own (bot/db/queries/ builds each with a small
function, most once, with bound parameters), with the parameters the driver gets. The plans are printed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine
from bot.db.models import ClaimRow, LedgerEntry, Task
from bot.db.queries import board as reads
from bot.db.queries import common, digest_board, digest_week, ledger, suggest, sweep
from bot.domain import digest
from bot.services.digest import STREAK_LOOKBACK
from bot.services.reminders.kinds import READS
from bot.services.tasks import ACTIVE_STATUSES, HISTORY_LIMIT, PAGE_SIZE
from tests.support.bulk import BoardSpec, analyze, seed_board
from tests.support.plans import PG_PLAN_MODES, describe_pg, pg_plan, sqlite_plan

GUILD = 1001
OTHER = 2002
ACTOR = 5_000_000_000_000_001
BIG = (
    "tasks",
    "claims",
    "task_history",
    "ledger",
    "reviews",
    "submissions",
    "deliveries",
    "guild_members",
    "member_scores",
)


@dataclass(frozen=True)
class Facts:
    """Real keys from the seeded board, so each statement is EXPLAINed as it would run."""

    task_id: int
    task_number: int
    task_ids: tuple[int, ...]
    member: int  # holds active claims and has credit
    giver: int  # has given kudos
    now: Any


@pytest.fixture
async def board(db_url: str) -> AsyncIterator[tuple[AsyncEngine, Facts]]:
    engine = create_engine(db_url)
    try:
        spec = BoardSpec(guild_id=GUILD, tasks=4_000, members=600, actors=(ACTOR,))
        await seed_board(engine, spec)
        await seed_board(engine, BoardSpec(guild_id=OTHER, tasks=1_000, members=200))
        await analyze(engine)
        async with engine.connect() as conn:
            tasks, claims, ledger = Task.__table__, ClaimRow.__table__, LedgerEntry.__table__
            number = 2_345
            task_id = (
                await conn.execute(
                    sa.select(tasks.c.id).where(tasks.c.guild_id == GUILD, tasks.c.number == number)
                )
            ).scalar_one()
            page = (
                await conn.execute(
                    sa.select(tasks.c.id)
                    .where(tasks.c.guild_id == GUILD, tasks.c.status == "open")
                    .order_by(tasks.c.number)
                    .limit(PAGE_SIZE)
                )
            ).scalars()
            member = (
                await conn.execute(
                    sa.select(claims.c.member_id)
                    .where(claims.c.guild_id == GUILD, claims.c.ended_at.is_(None))
                    .order_by(claims.c.id)
                    .limit(1)
                )
            ).scalar_one()
            giver = (
                await conn.execute(
                    sa.select(ledger.c.giver_id)
                    .where(ledger.c.guild_id == GUILD, ledger.c.kind == "kudos")
                    .limit(1)
                )
            ).scalar_one()
        yield engine, Facts(task_id, number, tuple(page), member, giver, spec.now)
    finally:
        await engine.dispose()


def hot_path_statements(f: Facts) -> dict[str, Callable[[], Any]]:
    """What the interactions run, by use: /task show, /task list (and its filters), claims,
    autocomplete, /me tasks, /profile, /leaderboard, /kudos, /task history."""
    week = f.now - timedelta(days=7)
    return {
        "task by number": lambda: reads.task_by_number_query(GUILD, f.task_number),
        "board: open": lambda: reads.list_tasks_query(
            GUILD, ("open",), None, None, 0, PAGE_SIZE + 1
        ),
        "board: open, page 3": lambda: reads.list_tasks_query(
            GUILD, ("open",), None, None, 900, PAGE_SIZE + 1
        ),
        "board: all": lambda: reads.list_tasks_query(GUILD, None, None, None, 0, PAGE_SIZE + 1),
        "board: claimed": lambda: reads.list_tasks_query(
            GUILD, ("claimed",), None, None, 0, PAGE_SIZE + 1
        ),
        "board: tag": lambda: reads.list_tasks_query(
            GUILD, ("open",), "docs", None, 0, PAGE_SIZE + 1
        ),
        "board: member": lambda: reads.list_tasks_query(
            GUILD, ACTIVE_STATUSES, None, f.member, 0, 26
        ),
        "active claims of a task": lambda: reads.active_claims_query(f.task_id),
        "active claims for tasks": lambda: reads.active_claims_for_tasks_query(f.task_ids),
        "task for an action": lambda: reads.task_for_action_query(GUILD, f.task_number),
        "approvals on a page": lambda: reads.approvals_query(f.task_ids),
        "votes on a page": lambda: reads.vote_counts_query(f.task_ids),
        "blockers' numbers": lambda: reads.numbers_for_ids_query(f.task_ids[:3]),
        "held claims count": lambda: reads.count_held_claims_query(GUILD, f.member),
        "last handoff note": lambda: reads.last_handoff_note_query(f.task_id),
        "latest submission": lambda: reads.latest_submission_query(f.task_id),
        "suggest: number 23": lambda: suggest.suggest_tasks_query(GUILD, "23", 25),
        "suggest: number 1": lambda: suggest.suggest_tasks_query(GUILD, "1", 25),
        "suggest: title": lambda: suggest.suggest_tasks_query(GUILD, "transl", 25),
        "suggest: title (sqlite)": lambda: suggest.suggest_tasks_query(
            GUILD, "transl", 25, dialect_name="sqlite"
        ),
        "suggest: nothing typed": lambda: suggest.suggest_tasks_query(GUILD, "", 25),
        "reviews waiting": lambda: reads.tasks_in_review_for_query(GUILD, f.member, 10),
        "done task count": lambda: reads.done_task_count_query(GUILD, f.member),
        "claim standing": lambda: reads.claim_standing_query(GUILD, f.member),
        "profile figures": lambda: ledger.profile_figures_query(GUILD, f.member),
        "member totals": lambda: ledger.member_totals_query(GUILD, f.member),
        "credit times": lambda: ledger.credit_times_query(
            GUILD, f.member, f.now - timedelta(days=400)
        ),
        "leaderboard: week, points": lambda: ledger.leaderboard_query(
            GUILD, week, "points", 10, until=f.now
        ),
        "leaderboard: all time, points": lambda: ledger.leaderboard_query(
            GUILD, None, "points", 10
        ),
        "leaderboard: all time, tasks": lambda: ledger.leaderboard_query(GUILD, None, "tasks", 10),
        "leaderboard: all time, kudos": lambda: ledger.leaderboard_query(GUILD, None, "kudos", 10),
        "kudos budget count": lambda: ledger.kudos_given_since_query(GUILD, f.giver, week),
        "history of a task": lambda: reads.history_query(f.task_id, HISTORY_LIMIT),
        # Every idle sweep asks this first (the sweep's own reads: test_sweep_plan.py).
        "sweep: anything to do?": lambda: sweep.sweep_has_work_query(READS, f.now),
    }


def sqlite_full_scans(plan: list[str]) -> list[str]:
    """`SCAN tasks` reads the table; `SCAN tasks USING [COVERING] INDEX i` reads an index."""
    bad = []
    for line in plan:
        words = line.split()
        if words[:1] == ["SCAN"] and len(words) > 1 and words[1] in BIG and "INDEX" not in words:
            bad.append(line)
    return bad


def pg_full_scans(nodes: list[dict[str, Any]]) -> list[str]:
    return [
        f"Seq Scan on {n['Relation Name']}"
        for n in nodes
        if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG
    ]


async def check_plans(
    engine: AsyncEngine,
    statements: dict[str, tuple[Any, dict[str, Any] | None]],
    title: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """EXPLAIN each statement (with its values) as the bot runs it, print the plans, and
    fail on any full scan of a big table (on PostgreSQL, in custom and generic plans)."""
    seen: dict[str, list[str]] = {}
    scans: dict[str, list[str]] = {}
    async with engine.connect() as conn:
        for name, (stmt, values) in statements.items():
            if engine.dialect.name == "sqlite":
                seen[name] = await sqlite_plan(conn, stmt, values)
                if bad := sqlite_full_scans(seen[name]):
                    scans[name] = bad
                continue
            for mode in PG_PLAN_MODES:
                nodes = await pg_plan(conn, stmt, mode, values)
                label = f"{name} ({mode.split('_')[1]})"
                seen[label] = describe_pg(nodes)
                if bad := pg_full_scans(nodes):
                    scans[label] = bad
    with capsys.disabled():
        print(f"\n[{title} plans, {engine.dialect.name}]")
        for name, plan in seen.items():
            print(f"  {name:30} {' | '.join(plan)}")
    assert not scans, "full scans of big tables:\n" + "\n".join(
        f"  {name}: {bad} — plan: {seen[name]}" for name, bad in scans.items()
    )


async def test_every_hot_path_read_uses_an_index(
    board: tuple[AsyncEngine, Facts], capsys: pytest.CaptureFixture[str]
) -> None:
    engine, facts = board
    statements = {name: build() for name, build in hot_path_statements(facts).items()}
    await check_plans(engine, statements, "hot-path", capsys)


# -- the weekly digest ---------------------------------------------------------------------------


def digest_statements(f: Facts, dialect: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """What DigestService.build runs (bot/db/queries/digest_week.py, digest_board.py), with its parameters, for
    the last full week before `now`: it counts and ranks the week in SQL."""
    postgres = dialect == "postgresql"
    week = digest.last_full_week(f.now, UTC)
    earlier = digest.streak_weeks(week, UTC, week.start - STREAK_LOOKBACK)
    this = digest_week.week_params(GUILD, week)
    listed = {**this, "limit": digest.LIST_LIMIT}
    board = {"guild_id": GUILD}
    return {
        "digest: numbers": (
            digest_week.numbers_query(),
            digest_week.numbers_params(GUILD, week, digest.previous_week(week, UTC)),
        ),
        "digest: done in the week": (digest_week.week_done_query(), listed),
        "digest: those tasks": (digest_week.tasks_query(f.task_ids), board),
        "digest: credits": (
            digest_week.credits_query(),
            {**this, "tasks": list(f.task_ids), "members": [f.member, f.giver, ACTOR]},
        ),
        "digest: reviewers": (digest_week.reviews_query(), listed),
        "digest: newcomers": (digest_week.newcomers_query(), listed),
        "digest: kudos": (digest_week.kudos_query(), this),
        "digest: top": (digest_week.top_query(digest.TOP_LIMIT), this),
        "digest: streaks": (
            digest_week.streaks_query(digest.STREAK_MIN, len(earlier) + 1, digest.STREAK_LIMIT),
            digest_week.streak_params(GUILD, week, earlier),
        ),
        "digest: oldest open": (digest_board.oldest_open_query(digest.HELP_LIMIT), board),
        "digest: good first": (
            digest_board.good_first_query(digest.GOOD_FIRST_TAGS, 2 * digest.HELP_LIMIT),
            board,
        ),
        "digest: in review": (digest_board.in_review_query(digest.WAITING_LIMIT), board),
        "digest: unclaimed": (
            digest_board.unclaimed_since_query(digest.HYGIENE_LIMIT, count_from_claims=postgres),
            {**board, "cutoff": f.now - digest.STALE_AFTER},
        ),
    }


async def test_every_digest_read_uses_an_index(
    board: tuple[AsyncEngine, Facts], capsys: pytest.CaptureFixture[str]
) -> None:
    engine, facts = board
    await check_plans(engine, digest_statements(facts, engine.dialect.name), "digest", capsys)


# -- the reshaped statements answer as the simple ones did --------------------------------------


async def test_suggest_matches_the_plain_query(board: tuple[AsyncEngine, Facts]) -> None:
    """The bounded autocomplete returns exactly what the plain filter-and-sort returns."""
    engine, _facts = board
    number = sa.cast(Task.__table__.c.number, sa.String)

    def plain(text: str, statuses: tuple[str, ...] = common.UNFINISHED) -> Any:
        t = Task.__table__.c
        stmt = sa.select(Task).where(t.guild_id == GUILD, t.status.in_(statuses))
        order: list[Any] = []
        if text.isdigit():
            stmt = stmt.where(sa.or_(t.number == int(text), number.startswith(text)))
            order.append(sa.case((t.number == int(text), 0), else_=1))
        elif text:
            stmt = stmt.where(t.title.icontains(text, autoescape=True))
        order.append(sa.case((t.status == "open", 0), else_=1))
        return stmt.order_by(*order, t.number.desc()).limit(25)

    from sqlalchemy.ext.asyncio import AsyncSession

    async with AsyncSession(engine) as session:
        texts = ("1", "23", "234", "2345", "0", "012", "99999", "transl", "DOCS", "%", "_", "")
        for text in texts:
            for statuses in (common.UNFINISHED, ("done", "cancelled")):
                want = [t.number for t in (await session.scalars(plain(text, statuses))).all()]
                for highest in (common.MAX_NUMBER, 4_000):  # the guild's highest number, or none
                    stmt, params = suggest.suggest_tasks_query(
                        GUILD, text, 25, statuses, highest, dialect_name=engine.dialect.name
                    )
                    rows = (await session.execute(stmt, params)).all()
                    got = [n for n, _title, _status in rows]
                    assert got == want, (text, statuses, highest)


def test_number_prefix_ranges() -> None:
    assert suggest.number_prefix_ranges("12")[:3] == [(12, 12), (120, 129), (1200, 1299)]
    assert suggest.number_prefix_ranges("12")[-1] == (120_000_000, 129_999_999)
    assert suggest.number_prefix_ranges("012") == [(12, 12)]
    assert suggest.number_prefix_ranges("0") == []
    assert suggest.number_prefix_ranges("1234567890") == []
