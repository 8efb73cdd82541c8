"""Everything of one guild, read page by page for /export and `peerboard export`.

Rows come as plain dicts (column name → value), a page at a time in key order (keyset
pagination: no cursor stays open between pages, on either backend), so an export of a
large guild holds one page in memory, never the guild. Discord IDs (BigInteger columns)
come as strings: JSON readers such as JavaScript's lose digits past 2**53.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from bot.db.models import (
    ClaimRow,
    DigestPost,
    GitHubDelivery,
    GitHubLogin,
    GitHubRepo,
    GuildMember,
    GuildSettings,
    LedgerEntry,
    MemberScore,
    Milestone,
    MilestoneGrant,
    ProposalVote,
    Review,
    Submission,
    Task,
    TaskHistory,
    TaskLink,
)
from bot.db.repos.base import Repo

PAGE: Final = 500

Row = dict[str, Any]


def _table(model: Any) -> sa.Table:
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


# What hangs off a task, by the name it has in an export.
TASK_PARTS: Final = {
    "claims": _table(ClaimRow),
    "submissions": _table(Submission),
    "reviews": _table(Review),
    "votes": _table(ProposalVote),
    "history": _table(TaskHistory),
    "github_links": _table(TaskLink),
}
# What belongs to the guild as a whole.
GUILD_PARTS: Final = {
    "milestones": _table(Milestone),
    "milestone_grants": _table(MilestoneGrant),
    "ledger": _table(LedgerEntry),
    "members": _table(GuildMember),
    "scores": _table(MemberScore),
    "digest_posts": _table(DigestPost),
    "github_repos": _table(GitHubRepo),
    "github_logins": _table(GitHubLogin),
    "github_deliveries": _table(GitHubDelivery),
}
# Never exported: a repository's webhook secret (whoever holds it can forge GitHub's
# deliveries), and a delivery's payload waiting to be handled (GitHub's, not the board's).
HIDDEN: Final = frozenset({"webhook_secret", "payload"})
_LEDGER: Final = _table(LedgerEntry)
# The guild's sections of an export: name → (table, which of its rows); the ledger's
# kudos apart from its points.
GUILD_SECTIONS: Final[dict[str, tuple[sa.Table, sa.ColumnElement[bool] | None]]] = {
    **{name: (table, None) for name, table in GUILD_PARTS.items() if name != "ledger"},
    "ledger": (_LEDGER, _LEDGER.c.kind != "kudos"),
    "kudos": (_LEDGER, _LEDGER.c.kind == "kudos"),
}
TASKS: Final = _table(Task)
SETTINGS: Final = _table(GuildSettings)


def plain(table: sa.Table, row: sa.RowMapping) -> Row:
    out: Row = {}
    for column in table.columns:
        if column.key in HIDDEN:
            continue
        value = row[column.key]
        if value is not None and isinstance(column.type, sa.BigInteger):
            value = str(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[column.key] = value
    return out


def _key(table: sa.Table) -> sa.Column[Any]:
    return table.c.id if "id" in table.c else table.c.member_id


class ExportRepo(Repo):
    __slots__ = ()

    async def settings(self, guild_id: int) -> Row | None:
        result = await self.session.execute(
            sa.select(SETTINGS).where(SETTINGS.c.guild_id == guild_id)
        )
        row = result.mappings().first()
        return None if row is None else plain(SETTINGS, row)

    async def pages(
        self, table: sa.Table, guild_id: int, *, where: sa.ColumnElement[bool] | None = None
    ) -> AsyncIterator[list[Row]]:
        """The guild's rows of a table, PAGE at a time, in key order."""
        key = _key(table)
        last: Any = None
        while True:
            query = sa.select(table).where(table.c.guild_id == guild_id)
            if where is not None:
                query = query.where(where)
            if last is not None:
                query = query.where(key > last)
            result = await self.session.execute(query.order_by(key).limit(PAGE))
            rows = list(result.mappings())
            if not rows:
                return
            last = rows[-1][key.key]
            yield [plain(table, row) for row in rows]
            if len(rows) < PAGE:
                return

    async def parts_of(self, task_ids: Sequence[int]) -> dict[str, dict[int, list[Row]]]:
        """For a page of tasks: each part's rows, by task id, in key order."""
        parts: dict[str, dict[int, list[Row]]] = {}
        for name, table in TASK_PARTS.items():
            by_task: dict[int, list[Row]] = {}
            result = await self.session.execute(
                sa.select(table).where(table.c.task_id.in_(task_ids)).order_by(table.c.id)
            )
            for row in result.mappings():
                by_task.setdefault(int(row["task_id"]), []).append(plain(table, row))
            parts[name] = by_task
        return parts
