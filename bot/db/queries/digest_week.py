"""The weekly digest's statements about the week: its ledger and history (the board as
it stands: queries/digest_board.py; the repository: repos/digest.py).

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
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.db.models import (
    ClaimRow,
    GuildMember,
    LedgerEntry,
    Task,
    TaskHistory,
)
from bot.db.queries.common import Params
from bot.db.types import UTCDateTime
from bot.domain import digest as d

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

# A time in a statement: a column, or a parameter.
Time = sa.ColumnElement[datetime]


def week_params(guild_id: int, week: d.Week) -> Params:
    return {"guild_id": guild_id, "start": week.start, "end": week.end}


def numbers_params(guild_id: int, week: d.Week, last: d.Week) -> Params:
    return {**week_params(guild_id, week), "last_start": last.start, "last_end": last.end}


def _during(column: Time, start: Time = START, end: Time = END) -> sa.ColumnElement[bool]:
    return sa.and_(column >= start, column < end)


def _hidden() -> sa.Select[int]:
    """Members who chose not to be ranked (/me ranking visible:false)."""
    m = MEMBERS.c
    return sa.select(m.member_id).where(m.guild_id == GUILD, m.ranking_visible == sa.false())


# -- the week: numbers ----------------------------------------------------------------------------


def first_timers_query(start: Time = START, end: Time = END) -> sa.Select[int, datetime]:
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


def _week_numbers(start: Time, end: Time, name: str, *, newcomers: bool) -> sa.Subquery:
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

    def total(value: sa.ColumnElement[int]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(value), 0)

    columns: list[sa.ColumnElement[int]] = [
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
def numbers_query() -> sa.Select[*tuple[int, ...]]:
    """One row: this week's numbers (start, end: tasks done, points, reviews, kudos, the
    members credited; its new contributors are counted by newcomers_query) and last
    week's (last_start, last_end: the same, but new contributors for members)."""
    this = _week_numbers(START, END, "this_week", newcomers=False)
    last = _week_numbers(LAST_START, LAST_END, "last_week", newcomers=True)
    return sa.select(*this.c, *last.c).select_from(this.join(last, sa.true()))  # a row each


# -- the week: who did what -----------------------------------------------------------------------


@functools.cache
def week_done_query() -> sa.Select[int, int]:
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


def _inline_param(name: str) -> sa.BindParameter[int]:
    """An expanding parameter written into the SQL when run (see `_inline`)."""
    return sa.bindparam(name, expanding=True, literal_execute=True, type_=sa.BigInteger())


def _inline(ids: Sequence[int]) -> sa.BindParameter[list[int]]:
    """A long list of ids written into the SQL, not sent as thousands of parameters: with
    parameters, PostgreSQL switches a prepared statement to a generic plan after a few
    runs, and for IN ($4, …, $2500) that plan tests every row against the whole list."""
    return sa.bindparam("ids", [int(i) for i in ids], expanding=True, literal_execute=True)


def tasks_query(ids: Sequence[int]) -> sa.Select[int, int, str, int, int | None, int | None]:
    """(id, number, title, points, card channel, card message) of the guild's tasks `ids`:
    looked up by primary key (a join would let a planner read the whole table)."""
    t = TASKS.c
    return sa.select(t.id, t.number, t.title, t.points, t.card_channel_id, t.card_message_id).where(
        t.guild_id == GUILD, t.id.in_(_inline(ids))
    )


@functools.cache
def credits_query() -> sa.Select[int, str, int | None]:
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
def reviews_query() -> sa.Select[int, int, int]:
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
def newcomers_query() -> sa.Select[int, int]:
    """(member, total): the first `limit` first-time contributors, in the order of their
    first accepted task; and how many there are."""
    firsts = first_timers_query().subquery("firsts")
    return (
        sa.select(firsts.c.member_id, sa.func.count().over().label("total"))
        .order_by(firsts.c.first_at, firsts.c.member_id)
        .limit(LIMIT)
    )


@functools.cache
def kudos_query() -> sa.Select[int, int, str]:
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
def top_query(limit: int) -> sa.Select[int, int, int, int]:
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
) -> Params:
    """The parameters of streaks_query: the week as s0/e0, the ones before as s1/e1, …"""
    spans = [(week.start, week.end), *earlier]
    params: Params = {"guild_id": guild_id}
    for k, (start, end) in enumerate(spans):
        params[f"s{k}"], params[f"e{k}"] = start, end
    return params


@functools.cache
def streaks_query(least: int, weeks: int, limit: int) -> sa.Select[int, int]:
    """(member, weeks): the longest runs of consecutive weeks with credit for work that
    reach the week s0/e0, `least` weeks or more (hidden members left out), over `weeks`
    weeks (s0/e0 latest, then s1/e1, …). A run starts from the members with such credit
    in each of the `least` latest weeks and grows a week at a time: one index probe per
    member still running, not a read of each member's history."""
    ledger = LEDGER.c

    def span(k: int) -> tuple[sa.BindParameter[datetime], sa.BindParameter[datetime]]:
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
