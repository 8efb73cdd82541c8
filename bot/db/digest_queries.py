"""All SQL of the weekly digest: the week's ledger and history, the board as it stands,
and the digest_posts log that makes each week's post happen once. Reads and writes
within the caller's unit of work; never commits.

The week is counted, ranked and cut in the database: each statement returns what one
section shows (counts and sums, a top N, the first rows and their total), as plain
columns, never as ORM objects. The lists (done, reviewers, newcomers) come as their
first `limit` rows with their totals, and the credits only for what those rows name: a
week of thousands of tasks moves a few hundred rows, not every credit. The statements
are built once (by the functions below, cached), with named parameters: guild_id,
start and end (the week), last_start and last_end, cutoff, limit, and for streaks
s0/e0, s1/e1, … (the weeks, latest first). tests/services/test_query_plans.py EXPLAINs
exactly what runs: each reads through indexes, however big the board and ledger grow.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from bot.db.models import (
    ClaimRow,
    DigestPost,
    GuildMember,
    GuildSettings,
    LedgerEntry,
    Task,
    TaskHistory,
)
from bot.db.repository import tags_from_column
from bot.db.types import UTCDateTime
from bot.domain import digest as d

FINISHED = ("done", "cancelled")
WORK = (d.CreditKind.TASK.value, d.CreditKind.REVIEW.value)  # credit for work, not kudos


def _table(model: type[SQLModel]) -> sa.Table:
    table = getattr(model, "__table__", None)
    assert isinstance(table, sa.Table)
    return table


TASKS = _table(Task)
LEDGER = _table(LedgerEntry)
HISTORY = _table(TaskHistory)
CLAIMS = _table(ClaimRow)
# Aliases are built once: each alias() of a Table costs milliseconds (column proxies).
EARLIER, PROBE = LEDGER.alias("earlier"), LEDGER.alias("probe")
BLOCKER, COUNTED = TASKS.alias("blocker"), TASKS.alias("counted")
MEMBERS = _table(GuildMember)

GUILD = sa.bindparam("guild_id", type_=sa.BigInteger())
START = sa.bindparam("start", type_=UTCDateTime())
END = sa.bindparam("end", type_=UTCDateTime())
CUTOFF = sa.bindparam("cutoff", type_=UTCDateTime())
LAST_START = sa.bindparam("last_start", type_=UTCDateTime())
LAST_END = sa.bindparam("last_end", type_=UTCDateTime())
LIMIT = sa.bindparam("limit", type_=sa.Integer())


def week_params(guild_id: int, week: d.Week) -> dict[str, Any]:
    return {"guild_id": guild_id, "start": week.start, "end": week.end}


def numbers_params(guild_id: int, week: d.Week, last: d.Week) -> dict[str, Any]:
    return {**week_params(guild_id, week), "last_start": last.start, "last_end": last.end}


def _during(column: Any, start: Any = START, end: Any = END) -> Any:
    return sa.and_(column >= start, column < end)


def _hidden() -> Any:
    """Members who chose not to be ranked (/me ranking visible:false)."""
    m = MEMBERS.c
    return sa.select(m.member_id).where(m.guild_id == GUILD, m.ranking_visible == sa.false())


# -- the week: numbers ----------------------------------------------------------------------------


def first_timers_query(start: Any = START, end: Any = END) -> sa.Select[Any]:
    """(member, first_at): members whose first accepted task ever is in [start, end)."""
    ledger, earlier = LEDGER, EARLIER
    before = (
        sa.select(earlier.c.id)
        .where(
            earlier.c.guild_id == GUILD,
            earlier.c.member_id == ledger.c.member_id,
            earlier.c.kind == d.CreditKind.TASK.value,
            earlier.c.created_at < start,
        )
        .exists()
    )
    return (
        sa.select(ledger.c.member_id, sa.func.min(ledger.c.created_at).label("first_at"))
        .where(
            ledger.c.guild_id == GUILD,
            ledger.c.kind == d.CreditKind.TASK.value,
            _during(ledger.c.created_at, start, end),
        )
        .group_by(ledger.c.member_id)
        .having(~before)
    )


def _week_numbers(start: Any, end: Any, name: str, *, newcomers: bool) -> Any:
    """One row: tasks done, points, reviews, kudos, and (`newcomers`) new contributors in
    [start, end), else the members credited for a task done or for a review. A task is
    done in the week when it moved to done or credited someone (so every task credit is
    for a task done in the week)."""
    h, ledger = HISTORY.c, LEDGER.c
    done_ids = sa.union(
        sa.select(h.task_id).where(
            h.guild_id == GUILD, h.to_status == "done", _during(h.created_at, start, end)
        ),
        sa.select(ledger.task_id).where(
            ledger.guild_id == GUILD,
            ledger.kind == d.CreditKind.TASK.value,
            ledger.task_id.is_not(None),
            _during(ledger.created_at, start, end),
        ),
    ).subquery(f"{name}_done")
    kind = ledger.kind

    def total(value: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(value), 0)

    columns: list[Any] = [
        sa.select(sa.func.count()).select_from(done_ids).scalar_subquery().label("done"),
        total(sa.case((kind.in_(WORK), ledger.points), else_=0)).label("points"),
        total(sa.case((kind == d.CreditKind.REVIEW.value, 1), else_=0)).label("reviews"),
        total(sa.case((kind == d.CreditKind.KUDOS.value, 1), else_=0)).label("kudos"),
    ]
    if newcomers:
        firsts = first_timers_query(start, end).subquery(f"{name}_firsts")
        columns.append(sa.select(sa.func.count()).select_from(firsts).scalar_subquery())
    else:
        worked = sa.or_(
            kind == d.CreditKind.REVIEW.value,
            sa.and_(kind == d.CreditKind.TASK.value, ledger.task_id.is_not(None)),
        )
        people = sa.func.count(sa.distinct(sa.case((worked, ledger.member_id))))
        columns.append(people.label("people"))
    counted = [k.value for k in d.CreditKind]  # every row that counts: read from the index
    return (
        sa.select(*columns)
        .where(
            ledger.guild_id == GUILD,
            ledger.kind.in_(counted),
            _during(ledger.created_at, start, end),
        )
        .subquery(name)
    )


@functools.cache
def numbers_query() -> sa.Select[Any]:
    """One row: this week's numbers (start, end: tasks done, points, reviews, kudos, the
    members credited; its new contributors are counted by newcomers_query) and last
    week's (last_start, last_end: the same, but new contributors for members)."""
    this = _week_numbers(START, END, "this_week", newcomers=False)
    last = _week_numbers(LAST_START, LAST_END, "last_week", newcomers=True)
    return sa.select(*this.c, *last.c).select_from(this.join(last, sa.true()))  # a row each


# -- the week: who did what -----------------------------------------------------------------------


@functools.cache
def week_done_query() -> sa.Select[Any]:
    """(task, total): the first `limit` tasks done in the week, in the order they were
    first finished (by their first done row, else their first task credit), and how many
    were done in all."""
    h, ledger = HISTORY.c, LEDGER.c
    events = sa.union_all(
        sa.select(
            h.task_id.label("task_id"), h.created_at.label("at"), sa.literal(0).label("src")
        ).where(h.guild_id == GUILD, h.to_status == "done", _during(h.created_at)),
        sa.select(ledger.task_id, ledger.created_at, sa.literal(1)).where(
            ledger.guild_id == GUILD,
            ledger.kind == d.CreditKind.TASK.value,
            ledger.task_id.is_not(None),
            _during(ledger.created_at),
        ),
    ).subquery("events")
    e = events.c
    finished = sa.func.coalesce(
        sa.func.min(sa.case((e.src == 0, e.at))), sa.func.min(sa.case((e.src == 1, e.at)))
    )
    return (
        sa.select(e.task_id, sa.func.count().over().label("total"))
        .group_by(e.task_id)
        .order_by(finished, e.task_id)
        .limit(LIMIT)
    )


def _inline_param(name: str) -> Any:
    """An expanding parameter written into the SQL when run (see `_inline`)."""
    return sa.bindparam(name, expanding=True, literal_execute=True, type_=sa.BigInteger())


def _inline(ids: Sequence[int]) -> Any:
    """A long list of ids written into the SQL, not sent as thousands of parameters: with
    parameters, PostgreSQL switches a prepared statement to a generic plan after a few
    runs, and for IN ($4, …, $2500) that plan tests every row against the whole list."""
    return sa.bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True)


def tasks_query(ids: Sequence[int]) -> sa.Select[Any]:
    """(id, number, title, points, card channel, card message) of the guild's tasks `ids`:
    looked up by primary key (a join would let a planner read the whole table)."""
    t = TASKS.c
    return sa.select(t.id, t.number, t.title, t.points, t.card_channel_id, t.card_message_id).where(
        t.guild_id == GUILD, t.id.in_(_inline(ids))
    )


@functools.cache
def credits_query() -> sa.Select[Any]:
    """(member, kind, task) of the week's task and review credits for the tasks `tasks` or
    by the members `members`, in ledger order: who did and who reviewed each task listed,
    what each reviewer listed reviewed, each newcomer's first task. Read from
    ix_ledger_kind_time alone; the lists are written into the SQL (see `_inline`)."""
    ledger = LEDGER.c
    return (
        sa.select(ledger.member_id, ledger.kind, ledger.task_id)
        .where(
            ledger.guild_id == GUILD,
            ledger.kind.in_(WORK),
            _during(ledger.created_at),
            sa.or_(
                ledger.task_id.in_(_inline_param("tasks")),
                ledger.member_id.in_(_inline_param("members")),
            ),
        )
        .order_by(ledger.created_at, ledger.id)
    )


@functools.cache
def reviews_query() -> sa.Select[Any]:
    """(member, reviews, total) of the week's first `limit` reviewers: most first, then by
    first review; and how many reviewed."""
    ledger = LEDGER.c
    reviews = sa.func.count().label("reviews")
    return (
        sa.select(ledger.member_id, reviews, sa.func.count().over().label("total"))
        .where(
            ledger.guild_id == GUILD,
            ledger.kind == d.CreditKind.REVIEW.value,
            _during(ledger.created_at),
        )
        .group_by(ledger.member_id)
        .order_by(sa.desc(reviews), sa.func.min(ledger.created_at), ledger.member_id)
        .limit(LIMIT)
    )


@functools.cache
def newcomers_query() -> sa.Select[Any]:
    """(member, total): the first `limit` first-time contributors, in the order of their
    first accepted task; and how many there are."""
    firsts = first_timers_query().subquery("firsts")
    return (
        sa.select(firsts.c.member_id, sa.func.count().over().label("total"))
        .order_by(firsts.c.first_at, firsts.c.member_id)
        .limit(LIMIT)
    )


@functools.cache
def kudos_query() -> sa.Select[Any]:
    ledger = LEDGER.c
    return (
        sa.select(sa.func.coalesce(ledger.giver_id, 0), ledger.member_id, ledger.reason)
        .where(
            ledger.guild_id == GUILD,
            ledger.kind == d.CreditKind.KUDOS.value,
            _during(ledger.created_at),
        )
        .order_by(ledger.created_at, ledger.id)
    )


@functools.cache
def top_query(limit: int) -> sa.Select[Any]:
    """(member, points, tasks, reviews) of the week's best, hidden members left out."""
    ledger = LEDGER.c
    points = sa.func.sum(ledger.points)
    tasks = sa.func.count(
        sa.distinct(sa.case((ledger.kind == d.CreditKind.TASK.value, ledger.task_id)))
    )
    reviews = sa.func.sum(sa.case((ledger.kind == d.CreditKind.REVIEW.value, 1), else_=0))
    return (
        sa.select(ledger.member_id, points.label("points"), tasks.label("tasks"), reviews)
        .where(
            ledger.guild_id == GUILD,
            ledger.kind.in_(WORK),
            _during(ledger.created_at),
            ledger.member_id.not_in(_hidden()),
        )
        .group_by(ledger.member_id)
        .having(points > 0)
        .order_by(sa.desc("points"), sa.desc("tasks"), ledger.member_id)
        .limit(limit)
    )


def streak_params(
    guild_id: int, week: d.Week, earlier: Sequence[tuple[datetime, datetime]]
) -> dict[str, Any]:
    """The parameters of streaks_query: the week as s0/e0, the ones before as s1/e1, …"""
    spans = [(week.start, week.end), *earlier]
    params: dict[str, Any] = {"guild_id": guild_id}
    for k, (start, end) in enumerate(spans):
        params[f"s{k}"], params[f"e{k}"] = start, end
    return params


@functools.cache
def streaks_query(least: int, weeks: int, limit: int) -> sa.Select[Any]:
    """(member, weeks): the longest runs of consecutive weeks with credit for work that
    reach the week s0/e0, `least` weeks or more (hidden members left out), over `weeks`
    weeks (s0/e0 latest, then s1/e1, …). A run starts from the members with such credit
    in each of the `least` latest weeks and grows a week at a time: one index probe per
    member still running, not a read of each member's history."""
    ledger = LEDGER.c

    def span(k: int) -> tuple[Any, Any]:
        return (
            sa.bindparam(f"s{k}", type_=UTCDateTime()),
            sa.bindparam(f"e{k}", type_=UTCDateTime()),
        )

    firsts = [
        sa.select(ledger.member_id, sa.literal(least - 1).label("k")).where(
            ledger.guild_id == GUILD, ledger.kind.in_(WORK), _during(ledger.created_at, *span(k))
        )
        for k in range(max(least, 1))
    ]
    firsts[0] = firsts[0].where(ledger.member_id.not_in(_hidden()))
    if len(firsts) > 1:
        both = sa.intersect(*firsts).subquery("starters")
        starters = sa.select(both.c.member_id, both.c.k)
    else:
        starters = firsts[0].distinct()
    run = starters.cte("run", recursive=True)
    if weeks > least:
        # The weeks as SELECTs of parameters, not a VALUES list: SQLAlchemy cannot cache
        # a VALUES of parameters, and compiled this statement again on every digest.
        spans = [
            sa.select(
                sa.literal_column(str(k), sa.Integer).label("k"),
                start.label("s"),
                end.label("e"),
            )
            for k in range(least, weeks)
            for start, end in [span(k)]
        ]
        weeks_before = (sa.union_all(*spans) if len(spans) > 1 else spans[0]).cte("weeks")
        probe = PROBE.c
        # A scalar subquery, not EXISTS: PostgreSQL would turn EXISTS into a join and hash
        # the members' whole ledger; this stays one index probe per member and week.
        credited = (
            sa.select(probe.id)
            .where(
                probe.guild_id == GUILD,
                probe.member_id == run.c.member_id,
                probe.kind.in_(WORK),
                probe.created_at >= weeks_before.c.s,
                probe.created_at < weeks_before.c.e,
            )
            .limit(1)
            .scalar_subquery()
            .is_not(None)
        )
        run = run.union_all(
            sa.select(run.c.member_id, run.c.k + 1)
            .join_from(run, weeks_before, weeks_before.c.k == run.c.k + 1)
            .where(credited)
        )
    length = sa.func.max(run.c.k) + 1
    return (
        sa.select(run.c.member_id, length.label("weeks"))
        .group_by(run.c.member_id)
        .order_by(sa.desc("weeks"), run.c.member_id)
        .limit(limit)
    )


# -- the board as it stands ---------------------------------------------------------------------

TASK_COLUMNS: tuple[Any, ...] = (
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


def _count(where: Any, upto: int | None = None) -> Any:
    """How many tasks `where` picks; with `upto`, at most upto + 1 (counting stops there)."""
    if upto is None:
        return sa.select(sa.func.count()).select_from(COUNTED).where(where).scalar_subquery()
    found = sa.select(COUNTED.c.id).where(where).limit(upto + 1).subquery("found")
    return sa.select(sa.func.count()).select_from(found).scalar_subquery()


def _listed(where: Any, order: Sequence[Any], limit: int, total: Any = None) -> sa.Select[Any]:
    """The first `limit` tasks `where` picks; with `total`, how many it picks in all, on
    each row (computed once: it is not correlated)."""
    columns = TASK_COLUMNS if total is None else (*TASK_COLUMNS, total.label("total"))
    return sa.select(*columns).where(where).order_by(*order).limit(limit)


def _claimable() -> Any:
    """Open tasks not waiting on an unfinished blocker."""
    t, blocker = TASKS.c, BLOCKER.c
    blocked = (
        sa.select(blocker.id)
        .where(blocker.id == t.blocked_by_id, blocker.status.not_in(FINISHED))
        .exists()
    )
    return sa.and_(t.guild_id == GUILD, t.status == "open", ~blocked)


@functools.cache
def oldest_open_query(limit: int) -> sa.Select[Any]:
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
def good_first_query(tags: tuple[str, ...], limit: int) -> sa.Select[Any]:
    # Tags are stored as ",a,b," (see repository.tags_to_column): one exact LIKE per tag.
    t = TASKS.c
    any_tag = sa.or_(*(t.tags.contains(f",{tag},", autoescape=True) for tag in tags))
    return _listed(sa.and_(_claimable(), any_tag), (t.created_at, t.number), limit)


@functools.cache
def in_review_query(limit: int) -> sa.Select[Any]:
    t, c = TASKS.c, COUNTED.c
    where = sa.and_(t.guild_id == GUILD, t.status == "in_review")
    total = _count(sa.and_(c.guild_id == GUILD, c.status == "in_review"))
    return _listed(where, (t.status_changed_at, t.number), limit, total)


def _unclaimed(tasks: sa.FromClause) -> Any:
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


def _open_since(tasks: sa.FromClause) -> Any:
    t = tasks.c
    return sa.and_(t.guild_id == GUILD, t.status == "open", t.status_changed_at <= CUTOFF)


@functools.cache
def unclaimed_since_query(limit: int, *, count_from_claims: bool) -> sa.Select[Any]:
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


def _first_and_total(guild_id: int, rows: Sequence[Any]) -> tuple[tuple[d.TaskFact, ...], int]:
    return tuple(_task_fact(guild_id, r) for r in rows), int(rows[0].total) if rows else 0


def _task_fact(guild_id: int, row: Any) -> d.TaskFact:
    return d.TaskFact(
        id=row.id,
        number=row.number,
        title=row.title,
        points=row.points,
        status=row.status,
        tags=tags_from_column(row.tags),
        url=d.card_url(guild_id, row.card_channel_id, row.card_message_id),
        since=row.status_changed_at,
    )


class DigestQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, table: Any) -> Any:
        dialect = self.session.get_bind().dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)

    @staticmethod
    def _rowcount(result: Any) -> int:
        return int(result.rowcount)

    async def _rows(self, stmt: sa.Select[Any], params: dict[str, Any]) -> Sequence[Any]:
        rows: Sequence[Any] = (await self.session.execute(stmt, params)).all()
        return rows

    # -- settings ---------------------------------------------------------------------------------

    async def guild(self, guild_id: int) -> GuildSettings | None:
        return await self.session.get(GuildSettings, guild_id)

    async def timezone(self, guild_id: int) -> str | None:
        stmt = sa.select(col(GuildSettings.digest_timezone)).where(
            col(GuildSettings.guild_id) == guild_id
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def enabled_guilds(self, guild_ids: frozenset[int] | None) -> Sequence[GuildSettings]:
        stmt = sa.select(GuildSettings).where(col(GuildSettings.digest_enabled).is_(True))
        if guild_ids is not None:
            stmt = stmt.where(col(GuildSettings.guild_id).in_(guild_ids))
        return (await self.session.scalars(stmt.order_by(col(GuildSettings.guild_id)))).all()

    # -- the week ---------------------------------------------------------------------------------

    async def numbers(
        self, guild_id: int, week: d.Week, last: d.Week, newcomers: int
    ) -> tuple[d.Numbers, d.Numbers, int]:
        """This week's numbers, last week's, and how many members were credited this week
        for a task done or a review; `newcomers`: this week's, counted already."""
        rows = await self._rows(numbers_query(), numbers_params(guild_id, week, last))
        done, points, reviews, kudos, people, *before = (int(n) for n in rows[0])
        this_week = d.Numbers(done, points, reviews, kudos, newcomers)
        return this_week, d.Numbers(*before), people

    async def week_done(self, guild_id: int, week: d.Week, limit: int) -> d.Listed[int]:
        """The ids of the first `limit` tasks done in the week, in the order they were
        first finished; and how many were done."""
        rows = await self._rows(week_done_query(), {**week_params(guild_id, week), "limit": limit})
        return d.Listed(tuple(i for i, _total in rows), int(rows[0].total) if rows else 0)

    async def week_tasks(self, guild_id: int, ids: Iterable[int]) -> dict[int, d.WeekTask]:
        """The guild's tasks `ids` (those the digest's lists name), by id."""
        wanted = sorted(ids)
        if not wanted:
            return {}
        rows = await self._rows(tasks_query(wanted), {"guild_id": guild_id})
        url = d.card_url
        return {
            i: d.WeekTask(i, d.TaskRef(number, title, url(guild_id, channel, message)), points)
            for i, number, title, points, channel, message in rows
        }

    async def credits(
        self, guild_id: int, week: d.Week, tasks: Iterable[int], members: Iterable[int]
    ) -> tuple[d.WorkCredit, ...]:
        """The week's task and review credits for `tasks` or by `members`, in ledger order."""
        tasks, members = sorted(set(tasks)), sorted(set(members))
        if not tasks and not members:
            return ()
        kinds = {k.value: k for k in d.CreditKind}
        params = {**week_params(guild_id, week), "tasks": tasks, "members": members}
        rows = await self._rows(credits_query(), params)
        return tuple(d.WorkCredit(m, kinds[k], t) for m, k, t in rows)

    async def reviews(self, guild_id: int, week: d.Week, limit: int) -> d.Listed[d.ReviewCount]:
        rows = await self._rows(reviews_query(), {**week_params(guild_id, week), "limit": limit})
        listed = tuple(d.ReviewCount(m, n) for m, n, _total in rows)
        return d.Listed(listed, int(rows[0].total) if rows else 0)

    async def newcomers(self, guild_id: int, week: d.Week, limit: int) -> d.Listed[int]:
        rows = await self._rows(newcomers_query(), {**week_params(guild_id, week), "limit": limit})
        return d.Listed(tuple(m for m, _total in rows), int(rows[0].total) if rows else 0)

    async def kudos(self, guild_id: int, week: d.Week) -> tuple[d.KudosQuote, ...]:
        rows = await self._rows(kudos_query(), week_params(guild_id, week))
        return tuple(d.KudosQuote(g, m, r) for g, m, r in rows)

    async def top(self, guild_id: int, week: d.Week, limit: int) -> tuple[d.TopContributor, ...]:
        rows = await self._rows(top_query(limit), week_params(guild_id, week))
        return tuple(d.TopContributor(m, int(p), int(t), int(r)) for m, p, t, r in rows)

    async def streaks(
        self,
        guild_id: int,
        week: d.Week,
        earlier: Sequence[tuple[datetime, datetime]],
        least: int,
        limit: int,
    ) -> tuple[d.StreakItem, ...]:
        if len(earlier) < least - 1:
            return ()  # no run that long fits in the look-back
        stmt = streaks_query(least, len(earlier) + 1, limit)
        rows = await self._rows(stmt, streak_params(guild_id, week, earlier))
        return tuple(d.StreakItem(m, int(n)) for m, n in rows)

    # -- the board as it stands -------------------------------------------------------------------

    async def _tasks(self, guild_id: int, stmt: sa.Select[Any], **params: Any) -> Sequence[Any]:
        return await self._rows(stmt, {"guild_id": guild_id, **params})

    async def oldest_open(self, guild_id: int, limit: int) -> tuple[tuple[d.TaskFact, ...], int]:
        return _first_and_total(guild_id, await self._tasks(guild_id, oldest_open_query(limit)))

    async def good_first(
        self, guild_id: int, tags: Sequence[str], limit: int
    ) -> tuple[d.TaskFact, ...]:
        rows = await self._tasks(guild_id, good_first_query(tuple(tags), limit))
        return tuple(_task_fact(guild_id, r) for r in rows)

    async def in_review(self, guild_id: int, limit: int) -> tuple[tuple[d.TaskFact, ...], int]:
        return _first_and_total(guild_id, await self._tasks(guild_id, in_review_query(limit)))

    async def unclaimed_since(
        self, guild_id: int, cutoff: datetime, limit: int
    ) -> tuple[tuple[d.TaskFact, ...], int]:
        postgres = self.session.get_bind().dialect.name == "postgresql"
        stmt = unclaimed_since_query(limit, count_from_claims=postgres)
        rows = await self._tasks(guild_id, stmt, cutoff=cutoff)
        return _first_and_total(guild_id, rows)

    # -- the posts log: one row per guild and week ----------------------------------------------

    async def post(self, guild_id: int, week_start: datetime) -> DigestPost | None:
        stmt = (
            sa.select(DigestPost)
            .where(col(DigestPost.guild_id) == guild_id, col(DigestPost.week_start) == week_start)
            # Rows changed by the bulk UPDATEs below must be read again.
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(stmt)).first()

    async def posts_between(
        self, guild_ids: Sequence[int], start: datetime, end: datetime
    ) -> Sequence[DigestPost]:
        if not guild_ids:
            return []
        stmt = sa.select(DigestPost).where(
            col(DigestPost.guild_id).in_(guild_ids),
            col(DigestPost.week_start) >= start,
            col(DigestPost.week_start) <= end,
        )
        return (await self.session.scalars(stmt)).all()

    async def add_post(self, guild_id: int, week_start: datetime, now: datetime) -> None:
        """Insert the week's row if it is not there yet; an existing row is left as it is."""
        stmt = self._insert(DigestPost).values(
            guild_id=guild_id, week_start=week_start, status="pending", created_at=now
        )
        await self.session.execute(
            stmt.on_conflict_do_nothing(index_elements=["guild_id", "week_start"])
        )

    async def lease_post(
        self,
        guild_id: int,
        week_start: datetime,
        now: datetime,
        until: datetime,
        *,
        manual: bool,
    ) -> bool:
        """Take the row for posting. A free pending row, or a failed one whose retry time has
        come; a maintainer's /digest post may also take a failed or skipped one at once."""
        free = sa.or_(col(DigestPost.lease_until).is_(None), col(DigestPost.lease_until) <= now)
        takeable = sa.and_(col(DigestPost.status).in_(("pending", "failed")), free)
        if manual:
            takeable = sa.or_(takeable, col(DigestPost.status).in_(("failed", "skipped")))
        stmt = (
            sa.update(DigestPost)
            .where(
                col(DigestPost.guild_id) == guild_id,
                col(DigestPost.week_start) == week_start,
                takeable,
            )
            .values(status="pending", lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return self._rowcount(await self.session.execute(stmt)) == 1

    async def finish_post(
        self, guild_id: int, week_start: datetime, *, only: Sequence[str], **values: Any
    ) -> bool:
        stmt = (
            sa.update(DigestPost)
            .where(
                col(DigestPost.guild_id) == guild_id,
                col(DigestPost.week_start) == week_start,
                col(DigestPost.status).in_(only),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return self._rowcount(await self.session.execute(stmt)) == 1
