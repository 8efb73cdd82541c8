"""The weekly digest's statements about the board as it stands: the oldest claimable
tasks, good first tasks, work waiting for review, tasks nobody claimed for a while.
Each returns the first `limit` tasks (TASK_COLUMNS) and, where a section shows it, how
many there are in all; parameters as in queries/digest_week.py (guild_id, cutoff)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa

from bot.db.queries.common import FINISHED
from bot.db.queries.digest_week import BLOCKER, CLAIMS, COUNTED, CUTOFF, GUILD, TASKS
from bot.domain import digest as d

TASK_COLUMNS: tuple[sa.ColumnElement[object], ...] = (
    TASKS.c.id,
    TASKS.c.number,
    TASKS.c.title,
    TASKS.c.points,
    TASKS.c.status,
    TASKS.c.tags,
    TASKS.c.card_channel_id,
    TASKS.c.card_message_id,
    TASKS.c.status_changed_at,
)


def _count(where: sa.ColumnElement[bool], upto: int | None = None) -> sa.ScalarSelect[int]:
    """How many tasks `where` picks; with `upto`, at most upto + 1 (counting stops there)."""
    if upto is None:
        return sa.select(sa.func.count()).select_from(COUNTED).where(where).scalar_subquery()
    found = sa.select(COUNTED.c.id).where(where).limit(upto + 1).subquery("found")
    return sa.select(sa.func.count()).select_from(found).scalar_subquery()


def _listed(
    where: sa.ColumnElement[bool],
    order: Sequence[sa.ColumnElement[object]],
    limit: int,
    total: sa.ColumnElement[int] | None = None,
) -> sa.Select[*tuple[object, ...]]:
    """The first `limit` tasks `where` picks; with `total`, how many it picks in all, on
    each row (computed once: it is not correlated)."""
    columns = TASK_COLUMNS if total is None else (*TASK_COLUMNS, total.label("total"))
    return sa.select(*columns).where(where).order_by(*order).limit(limit)


def _claimable() -> sa.ColumnElement[bool]:
    """Open tasks not waiting on an unfinished blocker."""
    t, blocker = TASKS.c, BLOCKER.c
    blocked = (
        sa.select(blocker.id)
        .where(blocker.id == t.blocked_by_id, blocker.status.not_in(FINISHED))
        .exists()
    )
    return sa.and_(t.guild_id == GUILD, t.status == "open", ~blocked)


@functools.cache
def oldest_open_query(limit: int) -> sa.Select[*tuple[object, ...]]:
    """The oldest claimable tasks, and how many are claimable: the open ones less those
    with an unfinished blocker (found from the few that have a blocker at all)."""
    t, c, blocker = TASKS.c, COUNTED.c, BLOCKER.c
    is_open = sa.and_(c.guild_id == GUILD, c.status == "open")
    blocked = (
        sa.select(sa.func.count())
        .select_from(COUNTED.join(BLOCKER, blocker.id == c.blocked_by_id))
        .where(is_open, c.blocked_by_id.is_not(None), blocker.status.not_in(FINISHED))
        .scalar_subquery()
    )
    order = (t.created_at, t.number)
    return _listed(_claimable(), order, limit, _count(is_open) - blocked)


@functools.cache
def good_first_query(tags: tuple[str, ...], limit: int) -> sa.Select[*tuple[object, ...]]:
    # Tags are stored as ",a,b," (see queries/common.tags_to_column): one exact LIKE per tag.
    t = TASKS.c
    any_tag = sa.or_(*(t.tags.contains(f",{tag},", autoescape=True) for tag in tags))
    return _listed(sa.and_(_claimable(), any_tag), (t.created_at, t.number), limit)


@functools.cache
def in_review_query(limit: int) -> sa.Select[*tuple[object, ...]]:
    t, c = TASKS.c, COUNTED.c
    where = sa.and_(t.guild_id == GUILD, t.status == "in_review")
    total = _count(sa.and_(c.guild_id == GUILD, c.status == "in_review"))
    return _listed(where, (t.status_changed_at, t.number), limit, total)


def _unclaimed(tasks: sa.FromClause) -> sa.ColumnElement[bool]:
    """Open, open since `cutoff` or earlier, and nobody has claimed it since: no active
    claim, none made after `cutoff`."""
    t, claims = tasks.c, CLAIMS.c
    claimed = (
        sa.select(claims.id)
        .where(
            claims.task_id == t.id,
            sa.or_(claims.ended_at.is_(None), claims.claimed_at > CUTOFF),
        )
        .exists()
    )
    return sa.and_(_open_since(tasks), ~claimed)


def _open_since(tasks: sa.FromClause) -> sa.ColumnElement[bool]:
    t = tasks.c
    return sa.and_(t.guild_id == GUILD, t.status == "open", t.status_changed_at <= CUTOFF)


@functools.cache
def unclaimed_since_query(limit: int, *, count_from_claims: bool) -> sa.Select[*tuple[object, ...]]:
    """Open tasks nobody has claimed since `cutoff`, oldest first, and how many there are.
    SQLite counts them by probing each one's claims (an index seek each: cheapest there).
    PostgreSQL would turn that into hashing every claim ever made, so there the count
    tests each task against the guild's active and recent claims, each set read once
    from its index (a claim is in its task's guild)."""
    t, c, claims = TASKS.c, COUNTED.c, CLAIMS.c
    if count_from_claims:
        active = sa.select(claims.task_id).where(
            claims.guild_id == GUILD, claims.ended_at.is_(None)
        )
        recent = sa.select(claims.task_id).where(
            claims.guild_id == GUILD, claims.claimed_at > CUTOFF
        )
        where = sa.and_(_open_since(COUNTED), c.id.not_in(active), c.id.not_in(recent))
    else:
        where = _unclaimed(COUNTED)
    # Counted up to a limit: "1,000+" tells maintainers enough, and a board with tens of
    # thousands of forgotten tasks does not make every digest count them all.
    total = _count(where, d.STALE_COUNT_LIMIT)
    return _listed(_unclaimed(TASKS), (t.status_changed_at, t.number), limit, total)
