"""A realistic board written straight into the tables of any revision, and the check that
a migration kept every row of it.

`seed` reflects the schema as it stands (whatever revision the database is at) and writes
rows into every table that exists: one guild's settings and members, tasks in several
states (one blocked by another), claims active and ended, submissions, reviews, votes,
history, ledger credits pointing at tasks and reviews, deliveries, milestones and their
grants, a digest post and member scores. Columns the seed does not name get a value
derived from their type and the row, so a column a later revision adds is filled too.

`snapshot` reads every row of every table; `lost_rows(before, after)` says, per table,
how many rows of `before` are not in `after` (a row whose kept columns changed counts as
lost), comparing only the columns both snapshots have.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.db.engine import create_engine

GUILD = 1_000_000_000_000_001
ALICE, BOB, CAROL = 2_000_000_000_000_001, 2_000_000_000_000_002, 2_000_000_000_000_003
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

# Rows each table gets, by the columns that matter to the board; the rest are filled.
BOARD: Mapping[str, list[dict[str, Any]]] = {
    "guild_settings": [{"guild_id": GUILD, "next_task_number": 5, "claim_days": 7}],
    "guild_members": [
        {"guild_id": GUILD, "member_id": ALICE, "ranking_visible": True, "away_until": None},
        {"guild_id": GUILD, "member_id": BOB, "ranking_visible": False},
        {"guild_id": GUILD, "member_id": CAROL, "reminders_enabled": False},
    ],
    "milestones": [
        {"id": 1, "guild_id": GUILD, "points": 10, "role_id": 3_000_000_000_000_010},
        {"id": 2, "guild_id": GUILD, "points": 50, "role_id": 3_000_000_000_000_050},
    ],
    "tasks": [
        {"id": 1, "number": 1, "title": "Write the FAQ", "status": "done", "points": 5},
        {"id": 2, "number": 2, "title": "Fix the logo", "status": "claimed", "points": 3},
        {"id": 3, "number": 3, "title": "Translate the guide", "status": "in_review"},
        {"id": 4, "number": 4, "title": "Plan the meetup", "status": "open", "blocked_by_id": 2},
    ],
    "claims": [
        {"id": 1, "task_id": 1, "member_id": ALICE, "end_reason": "done"},
        {"id": 2, "task_id": 2, "member_id": BOB, "ended_at": None, "end_reason": None},
        {"id": 3, "task_id": 3, "member_id": CAROL, "end_reason": "submitted"},
        {"id": 4, "task_id": 2, "member_id": ALICE, "end_reason": "released"},
    ],
    "submissions": [
        {"id": 1, "task_id": 1, "member_id": ALICE, "round": 1, "link": "https://ex.org/1"},
        {"id": 2, "task_id": 3, "member_id": CAROL, "round": 1, "link": "https://ex.org/3"},
    ],
    "reviews": [
        {"id": 1, "task_id": 1, "reviewer_id": BOB, "round": 1, "verdict": "approve"},
        {"id": 2, "task_id": 1, "reviewer_id": CAROL, "round": 1, "verdict": "approve"},
    ],
    "proposal_votes": [
        {"id": 1, "task_id": 4, "member_id": ALICE, "kind": "endorse"},
        {"id": 2, "task_id": 4, "member_id": CAROL, "kind": "object"},
    ],
    "task_history": [
        {"id": n, "task_id": task, "actor_id": ALICE, "action": action, "to_status": to}
        for n, (task, action, to) in enumerate(
            [
                (1, "create", "open"),
                (1, "claim", "claimed"),
                (1, "submit", "in_review"),
                (1, "approve", "done"),
                (2, "create", "open"),
                (2, "claim", "claimed"),
                (3, "create", "open"),
                (3, "submit", "in_review"),
                (4, "propose", "open"),
            ],
            start=1,
        )
    ],
    "ledger": [
        {"id": 1, "member_id": ALICE, "kind": "task", "points": 5, "task_id": 1},
        {"id": 2, "member_id": BOB, "kind": "review", "points": 1, "task_id": 1, "review_id": 1},
        {"id": 3, "member_id": CAROL, "kind": "review", "points": 1, "task_id": 1, "review_id": 2},
        {"id": 4, "member_id": ALICE, "kind": "kudos", "points": 1, "giver_id": BOB},
        {"id": 5, "member_id": BOB, "kind": "kudos", "points": 1, "giver_id": CAROL},
    ],
    "deliveries": [
        {"id": 1, "task_id": 2, "member_id": BOB, "kind": "claim_warning", "status": "pending"},
        {"id": 2, "task_id": 3, "member_id": CAROL, "kind": "review_nudge", "status": "sent"},
    ],
    "thread_lines": [{"id": 1, "task_id": 2, "thread_id": 5_000_000_000_000_002}],
    "milestone_grants": [{"id": 1, "member_id": ALICE, "points": 10, "status": "granted"}],
    "digest_posts": [{"id": 1, "status": "posted", "channel_id": 4_000_000_000_000_001}],
    "github_repos": [
        {"id": 1, "full_name": "commons/handbook", "label": "peerboard", "connected_by": ALICE},
        {"id": 2, "full_name": "commons/site", "label": "", "connected_by": BOB},
    ],
    "github_logins": [
        {"member_id": ALICE, "login": "alice-gh", "set_by": ALICE},
        {"member_id": BOB, "login": "bobcodes", "set_by": ALICE},
    ],
    "task_links": [
        {
            "id": 1,
            "task_id": 2,
            "url": "https://github.com/commons/handbook/issues/7",
            "kind": "issue",
            "full_name": "commons/handbook",
            "number": 7,
            "origin": "source",
        },
        {
            "id": 2,
            "task_id": 3,
            "url": "https://github.com/commons/handbook/pull/9",
            "kind": "pull",
            "full_name": "commons/handbook",
            "number": 9,
            "origin": "submitted",
        },
    ],
    "github_deliveries": [
        {
            "id": 1,
            "delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "event": "ping",
            "status": "done",
            "payload": None,
        },
        {
            "id": 2,
            "delivery": "8a9b1c2d-cc78-11e3-81ab-4c9367dc0958",
            "event": "issues",
            "status": "failed",
            "outcome": "could not create the task",
            "payload": "{}",
        },
    ],
    "member_scores": [
        {"member_id": ALICE, "points": 6, "tasks": 1, "reviews": 0, "kudos": 1},
        {"member_id": BOB, "points": 1, "tasks": 0, "reviews": 1, "kudos": 1},
    ],
}

# Columns that point at other rows: never invented, only set where BOARD says so.
REFERENCES = frozenset({"blocked_by_id", "review_id", "giver_id"})


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


Snapshot = dict[str, Table]


def _value(column: sa.Column[Any], row: int) -> Any:
    """A value for a column the seed does not name: non-null, distinct per row."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return row % 2 == 0
    if isinstance(kind, sa.Integer):
        return 1 + row
    if isinstance(kind, sa.Float):
        return 0.25 * (row + 1)
    if isinstance(kind, sa.DateTime):
        return T0 + timedelta(days=row, minutes=len(column.name))
    if isinstance(kind, sa.String):
        text = f"{column.name} {row}"
        return text[: kind.length] if kind.length else text
    raise AssertionError(f"no seed value for {column.table.name}.{column.name} ({kind})")


def _row(table: sa.Table, given: Mapping[str, Any], row: int) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given:
            values[column.name] = given[column.name]
        elif column.name == "guild_id":
            values[column.name] = GUILD
        elif column.name in REFERENCES or column.name in {"task_id"}:
            values[column.name] = None
        elif column.name == "digest_time":
            values[column.name] = "18:00"
        elif column.name == "digest_timezone":
            values[column.name] = "Europe/Paris"
        else:
            values[column.name] = _value(column, row)
    return values


def _reflect(conn: sa.Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(conn)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _seed(conn: sa.Connection) -> dict[str, int]:
    metadata = _reflect(conn)
    written: dict[str, int] = {}
    for table in metadata.sorted_tables:
        rows = BOARD.get(table.name)
        assert rows, f"the seed has no rows for table {table.name}: add them to BOARD"
        conn.execute(table.insert(), [_row(table, given, n) for n, given in enumerate(rows)])
        written[table.name] = len(rows)
    if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for table in metadata.sorted_tables:
            if "id" in table.columns and table.columns["id"].autoincrement is not False:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT MAX(id) FROM {table.name}))"
                )
    return written


def _snapshot(conn: sa.Connection) -> Snapshot:
    tables: Snapshot = {}
    for table in _reflect(conn).sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = conn.execute(sa.select(table).order_by(*order)).all()
        tables[table.name] = Table(tuple(table.columns.keys()), tuple(tuple(r) for r in rows))
    return tables


async def _run(url: str, work: Any) -> Any:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def seed(url: str) -> dict[str, int]:
    """Write the board into every table of the database; the rows written, per table."""
    return asyncio.run(_run(url, _seed))  # type: ignore[no-any-return]


def snapshot(url: str) -> Snapshot:
    return asyncio.run(_run(url, _snapshot))  # type: ignore[no-any-return]


def lost_rows(
    before: Snapshot, after: Snapshot, *, dropped: frozenset[str] = frozenset()
) -> dict[str, int]:
    """Rows of `before` missing from `after`, per table (tables in `dropped` excepted)."""
    lost: dict[str, int] = {}
    for name, old in before.items():
        if name in dropped:
            continue
        new = after.get(name)
        if new is None:
            lost[name] = len(old.rows)
            continue
        kept = [c for c in old.columns if c in new.columns]
        project_old = [tuple(r[old.columns.index(c)] for c in kept) for r in old.rows]
        project_new = [tuple(r[new.columns.index(c)] for c in kept) for r in new.rows]
        missing = Counter(project_old) - Counter(project_new)
        if missing:
            lost[name] = sum(missing.values())
    return lost
