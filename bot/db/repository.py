"""All SQL lives here. Methods read or write within the caller's unit of work; none commits."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, ParamSpec, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import visitors
from sqlmodel import col

from bot.db.models import (
    ClaimRow,
    Delivery,
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
)
from bot.db.types import UTCDateTime
from bot.domain.model import Reminder

P = ParamSpec("P")
S = TypeVar("S")

ACTIVE = ("open", "claimed")


def tags_to_column(tags: Sequence[str]) -> str:
    """Stored as ",a,b," so a tag filter is one exact LIKE."""
    return f",{','.join(tags)}," if tags else ""


def tags_from_column(value: str) -> tuple[str, ...]:
    return tuple(t for t in value.split(",") if t)


class Prepared(Generic[P, S]):
    """A query builder whose statement is built once, with a bound parameter for each of
    its arguments, and then run with values. Building a select costs SQLAlchemy about
    0.1–0.2 ms (more than SQLite takes to answer it), and a claim runs a dozen. Calling it
    still gives the statement with the values bound, for the EXPLAIN tests."""

    def __init__(self, build: Callable[P, S]) -> None:
        self._build = build
        self._names = tuple(inspect.signature(build).parameters)
        self._template: S | None = None
        functools.update_wrapper(self, build)

    def build(self, *args: P.args, **kwargs: P.kwargs) -> S:
        """The builder itself (to compose it into another statement)."""
        return self._build(*args, **kwargs)

    def template(self) -> S:
        if self._template is None:
            placeholders: Any = [sa.bindparam(name) for name in self._names]
            self._template = cast(Any, self._build)(*placeholders)
        return self._template

    def values(self, *args: P.args, **kwargs: P.kwargs) -> dict[str, Any]:
        return {**dict(zip(self._names, args, strict=False)), **kwargs}

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> S:
        return cast(S, with_values(self.template(), self.values(*args, **kwargs)))


def with_values(stmt: Any, values: dict[str, Any]) -> Any:
    """A copy of `stmt` whose bound parameters hold `values` (as if built with them), so it
    compiles on its own, for EXPLAIN. (Select.params() keeps the values apart in 2.1.)"""

    def visit(bind: Any) -> None:
        if bind.key in values:
            bind.value = values[bind.key]
            bind.required = False

    return visitors.cloned_traverse(stmt, {}, {"bindparam": visit})


# -- the interactions' reads (hot paths) ------------------------------------------------------
# Built by these functions so tests/services/test_query_plans.py can EXPLAIN exactly what
# runs, on SQLite and PostgreSQL: each must read through an index, never a whole big table.

UNFINISHED = ("open", "proposed", "claimed", "in_review")
MAX_NUMBER = 999_999_999  # task numbers in custom ids have at most 9 digits
SCORE_COLUMNS = ("points", "tasks", "reviews", "kudos")
MAX_TIME = datetime(9999, 12, 31, tzinfo=UTC)


@Prepared
def task_by_number_query(guild_id: int, number: int) -> sa.Select[Task]:
    return sa.select(Task).where(col(Task.guild_id) == guild_id, col(Task.number) == number)


@Prepared
def numbers_for_ids_query(ids: Sequence[int]) -> sa.Select[int | None, int, str]:
    return sa.select(col(Task.id), col(Task.number), col(Task.status)).where(col(Task.id).in_(ids))


def list_tasks_query(
    guild_id: int,
    statuses: Sequence[str] | None,
    tag: str | None,
    member_id: int | None,
    after_number: int,
    limit: int,
) -> sa.Select[Task, ClaimRow]:
    """The board's page with its values bound (to EXPLAIN it): built with them, as the
    template's parameters sit inside a subquery that with_values cannot reach."""
    _stmt, values = list_tasks_statement(guild_id, statuses, tag, member_id, after_number, limit)
    return _list_build(member_id is not None, bool(statuses), bool(tag), values)


def list_tasks_statement(
    guild_id: int,
    statuses: Sequence[str] | None,
    tag: str | None,
    member_id: int | None,
    after_number: int,
    limit: int,
) -> tuple[sa.Select[Task, ClaimRow], dict[str, Any]]:
    """A page of the board and the active claims of its tasks, one row per claim (a task
    with none: one row, no claim), by number, then oldest claim first: the statement
    (built once per shape of filter) and its values."""
    values: dict[str, Any] = {"guild": guild_id, "after": after_number, "limit": limit}
    if member_id is not None:
        values["member"] = member_id
    if statuses:
        values["statuses"] = list(statuses)
    if tag:
        escaped = tag.replace("/", "//").replace("%", "/%").replace("_", "/_")
        values["tag"] = f"%,{escaped},%"
    return _list_template(member_id is not None, bool(statuses), bool(tag)), values


@functools.lru_cache(maxsize=16)
def _list_template(by_member: bool, by_status: bool, by_tag: bool) -> sa.Select[Task, ClaimRow]:
    return _list_build(by_member, by_status, by_tag)


def _list_build(
    by_member: bool, by_status: bool, by_tag: bool, values: dict[str, Any] | None = None
) -> sa.Select[Task, ClaimRow]:
    """The page (`limit` tasks after the number `after`, by number) as a subquery, joined
    to the active claims of its tasks. With `values`, the parameters hold them."""

    def param(name: str, **kw: Any) -> Any:
        if values is None:
            return sa.bindparam(name, **kw)
        return sa.bindparam(name, values[name], **kw)

    page = _page_build(by_member, by_status, by_tag, param).subquery("page")
    task = aliased(Task, page)
    active = sa.and_(col(ClaimRow.task_id) == col(task.id), col(ClaimRow.ended_at).is_(None))
    return (
        sa.select(task, ClaimRow)
        .outerjoin(ClaimRow, active)
        .order_by(col(task.number), col(ClaimRow.claimed_at), col(ClaimRow.id))
    )


def _page_build(
    by_member: bool, by_status: bool, by_tag: bool, param: Callable[..., Any]
) -> sa.Select[Task]:
    guild = param("guild", type_=sa.BigInteger)
    stmt = sa.select(Task).where(col(Task.guild_id) == guild, col(Task.number) > param("after"))
    if by_member:
        # Driven from the member's few active claims (one per task, a unique index says so),
        # not from every task of the board.
        stmt = stmt.join(ClaimRow, col(ClaimRow.task_id) == col(Task.id)).where(
            col(ClaimRow.guild_id) == guild,
            col(ClaimRow.member_id) == param("member"),
            col(ClaimRow.ended_at).is_(None),
        )
    if by_status:
        stmt = stmt.where(col(Task.status).in_(param("statuses", expanding=True)))
    if by_tag:
        stmt = stmt.where(col(Task.tags).like(param("tag"), escape="/"))
    # The limit written into the SQL: with it a parameter, PostgreSQL's generic plan does not
    # know the page is short, and hashes every claim instead of probing the page's.
    return stmt.order_by(col(Task.number)).limit(
        param("limit", type_=sa.Integer, literal_execute=True)
    )


@Prepared
def active_claims_query(task_id: int) -> sa.Select[ClaimRow]:
    return (
        sa.select(ClaimRow)
        .where(col(ClaimRow.task_id) == task_id, col(ClaimRow.ended_at).is_(None))
        .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
    )


@Prepared
def active_claims_for_tasks_query(task_ids: Sequence[int]) -> sa.Select[ClaimRow]:
    return (
        sa.select(ClaimRow)
        .where(col(ClaimRow.task_id).in_(task_ids), col(ClaimRow.ended_at).is_(None))
        .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
        # Rows changed by bulk UPDATEs in this transaction must be re-read.
        .execution_options(populate_existing=True)
    )


@Prepared
def count_held_claims_query(guild_id: int, member_id: int) -> sa.Select[int]:
    return (
        sa.select(sa.func.count())
        .select_from(ClaimRow)
        .join(Task, col(Task.id) == col(ClaimRow.task_id))
        .where(
            col(ClaimRow.guild_id) == guild_id,
            col(ClaimRow.member_id) == member_id,
            col(ClaimRow.ended_at).is_(None),
            col(Task.status).in_(ACTIVE),
        )
    )


@Prepared
def claim_standing_query(guild_id: int, member_id: int) -> sa.Select[int, int]:
    """(claims held, tasks done): count_held_claims_query and done_task_count_query at once."""
    return sa.select(
        count_held_claims_query.build(guild_id, member_id).scalar_subquery(),
        done_task_count_query.build(guild_id, member_id).scalar_subquery(),
    )


@Prepared
def last_handoff_note_query(task_id: int) -> sa.Select[str | None]:
    return (
        sa.select(col(ClaimRow.handoff_note))
        .where(col(ClaimRow.task_id) == task_id, col(ClaimRow.end_reason) == "released")
        .order_by(col(ClaimRow.ended_at).desc(), col(ClaimRow.id).desc())
        .limit(1)
    )


@Prepared
def task_for_action_query(guild_id: int, number: int) -> sa.Select[Task, ClaimRow, str | None]:
    """What an action on a task reads first, in one statement: the task, each of its
    active claims on a row of its own (none: one row with no claim), oldest first, and
    the note its last releaser left (last_handoff_note_query)."""
    handoff = (
        sa.select(col(ClaimRow.handoff_note))
        .where(col(ClaimRow.task_id) == col(Task.id), col(ClaimRow.end_reason) == "released")
        .order_by(col(ClaimRow.ended_at).desc(), col(ClaimRow.id).desc())
        .limit(1)
        .correlate(Task)
        .scalar_subquery()
    )
    active = sa.and_(col(ClaimRow.task_id) == col(Task.id), col(ClaimRow.ended_at).is_(None))
    return (
        sa.select(Task, ClaimRow, handoff.label("handoff"))
        .outerjoin(ClaimRow, active)
        .where(col(Task.guild_id) == guild_id, col(Task.number) == number)
        .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
    )


def approvals_query(task_ids: Sequence[int]) -> sa.Select[int, int]:
    """(task, approvals) in each task's current review round, for tasks with any."""
    return (
        sa.select(col(Review.task_id), sa.func.count())
        .join(Task, col(Task.id) == col(Review.task_id))
        .where(
            col(Review.task_id).in_(task_ids),
            col(Review.round) == col(Task.review_round),
            col(Review.verdict) == "approve",
        )
        .group_by(col(Review.task_id))
    )


def vote_counts_query(task_ids: Sequence[int]) -> sa.Select[int, int, int]:
    """(task, endorsements, objections) of proposals with any vote."""
    kind = col(ProposalVote.kind)
    return (
        sa.select(
            col(ProposalVote.task_id),
            sa.func.count().filter(kind == "endorse"),
            sa.func.count().filter(kind == "object"),
        )
        .where(col(ProposalVote.task_id).in_(task_ids))
        .group_by(col(ProposalVote.task_id))
    )


@Prepared
def latest_submission_query(task_id: int) -> sa.Select[Submission]:
    return (
        sa.select(Submission)
        .where(col(Submission.task_id) == task_id)
        .order_by(col(Submission.id).desc())
        .limit(1)
    )


@Prepared
def history_query(task_id: int, limit: int) -> sa.Select[TaskHistory]:
    return (
        sa.select(TaskHistory)
        .where(col(TaskHistory.task_id) == task_id)
        .order_by(col(TaskHistory.id))
        .limit(limit)
    )


@Prepared
def done_task_count_query(guild_id: int, member_id: int) -> sa.Select[int]:
    return sa.select(sa.func.count(sa.distinct(col(LedgerEntry.task_id)))).where(
        col(LedgerEntry.guild_id) == guild_id,
        col(LedgerEntry.member_id) == member_id,
        col(LedgerEntry.kind) == "task",
    )


def number_prefix_ranges(text: str, max_number: int = MAX_NUMBER) -> list[tuple[int, int]]:
    """The numbers up to `max_number` whose decimal form starts with `text`, as ranges:
    12 → 12, 120–129, 1200–1299, … "012" starts no number; it still names #12."""
    value = int(text)
    top = min(max_number, MAX_NUMBER)
    if value < 1 or value > top:
        return []
    if text.startswith("0"):
        return [(value, value)]
    ranges, low, high = [], value, value
    while low <= top:
        ranges.append((low, min(high, top)))
        low, high = low * 10, high * 10 + 9
    return ranges


def typed_number(query: str) -> bool:
    """Whether autocomplete was given a task number (or its start), not title words."""
    return query.strip().lstrip("#").isdigit()


def suggest_tasks_statement(
    guild_id: int,
    query: str,
    limit: int,
    statuses: Sequence[str] = UNFINISHED,
    max_number: int = MAX_NUMBER,
    *,
    dialect: str = "postgresql",
) -> tuple[sa.Select[int, str, str], dict[str, Any]]:
    """Autocomplete: tasks by number or title (unfinished ones unless told otherwise); the
    exact number typed first, then open ones, then the newest. The statement (built once
    per shape and kept) and its parameters.

    Bounded however large the board: for each status (and, for a number, each range of
    numbers starting with what was typed, up to the guild's highest number) only the
    newest `limit` matches are read, walking an index backwards, and the best `limit` of
    those are kept. That is exactly the best `limit` overall: within one status and range
    every row ranks the same but for its number. A title can match anywhere in it (no
    index finds that): its words are tested in ix_tasks_titles, newest first, until
    `limit` match, so a rare word reads that status's index entries, never finished ones.
    `dialect`: the database's, for how a title is matched without regard to case."""
    text = query.strip().lstrip("#")
    values: dict[str, Any] = {"guild": guild_id}
    if text and not text.isdigit():
        escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
        values["title"] = f"%{escaped}%"
        like = "like" if dialect == "sqlite" else "ilike"
        return _suggest_template("title", tuple(statuses), 1, limit, like), values
    if not text:
        return _suggest_template("newest", tuple(statuses), 1, limit), values
    ranges = number_prefix_ranges(text, max_number)
    if not ranges:  # a number no task has
        return _suggest_template("none", tuple(statuses), 0, limit), {}
    for k, (low, high) in enumerate(ranges):
        values[f"low{k}"], values[f"high{k}"] = low, high
    values["exact"] = int(text)
    return _suggest_template("number", tuple(statuses), len(ranges), limit), values


def suggest_tasks_query(
    guild_id: int,
    query: str,
    limit: int,
    statuses: Sequence[str] = UNFINISHED,
    max_number: int = MAX_NUMBER,
    *,
    dialect: str = "postgresql",
) -> sa.Select[int, str, str]:
    """The autocomplete statement with its values bound (to EXPLAIN it)."""
    stmt, values = suggest_tasks_statement(
        guild_id, query, limit, statuses, max_number, dialect=dialect
    )
    return cast(sa.Select[int, str, str], with_values(stmt, values))


@functools.lru_cache(maxsize=256)
def _suggest_template(
    kind: str, statuses: tuple[str, ...], ranges: int, limit: int, like: str = "ilike"
) -> sa.Select[int, str, str]:
    # Dozens of subqueries take SQLAlchemy milliseconds to build: each shape is built
    # once, with bound parameters, and reused (statements are immutable).
    number, status = col(Task.number), col(Task.status)
    if kind == "none":  # a number no task has
        return sa.select(number, col(Task.title), status).where(sa.false()).limit(limit)
    groups: list[list[Any]] = [[]]
    if kind == "title":
        # Tested on the titles in ix_tasks_titles while walking it newest first: ILIKE on
        # PostgreSQL; on SQLite a plain LIKE, which ignores case as SQLite's lower() does
        # (ASCII letters only, both), at a third of the cost of lower() LIKE lower().
        title = col(Task.title)
        pattern = sa.bindparam("title", type_=sa.String)
        match = (
            title.like(pattern, escape="/") if like == "like" else title.ilike(pattern, escape="/")
        )
        groups = [[match]]
    elif kind == "number":
        groups = [
            [number.between(sa.bindparam(f"low{k}"), sa.bindparam(f"high{k}"))]
            for k in range(ranges)
        ]
    # Candidates from the indexes alone (id, number, status), the newest `limit` of each
    # status and range; the best `limit` of them; then only those rows are read.
    guild = sa.bindparam("guild", type_=sa.BigInteger)
    keys = sa.select(col(Task.id), number, status)
    parts = [_newest(keys, guild, st, limit, *where) for st in statuses for where in groups]
    found = _union(parts).subquery()
    ranks: list[Any] = []
    if kind == "number":  # the number typed, exactly, comes first
        ranks.append(sa.case((found.c.number == sa.bindparam("exact"), 0), else_=1).label("exact"))
    ranks.append(sa.case((found.c.status == "open", 0), else_=1).label("open"))
    best = (
        sa.select(found.c.id, found.c.number, *ranks)
        .order_by(*ranks, found.c.number.desc())
        .limit(limit)
        .subquery()
    )
    order = [best.c[r.name] for r in ranks]
    return (
        sa.select(number, col(Task.title), status)
        .join(best, col(Task.id) == best.c.id)
        .order_by(*order, best.c.number.desc())
    )


def _newest(columns: Any, guild: Any, status: str, limit: int, *where: Any) -> Any:
    """The newest `limit` tasks of one status matching `where`, as a subquery to union."""
    top = (
        columns.where(col(Task.guild_id) == guild, col(Task.status) == status, *where)
        .order_by(col(Task.number).desc())
        .limit(limit)
        .subquery()
    )
    return sa.select(*top.columns)


def _union(parts: list[Any]) -> Any:
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def tasks_in_review_for_query(guild_id: int, member_id: int, limit: int) -> sa.Select[Task]:
    mine = sa.select(col(ClaimRow.task_id)).where(
        col(ClaimRow.guild_id) == guild_id,
        col(ClaimRow.member_id) == member_id,
        col(ClaimRow.ended_at).is_(None),
    )
    reviewed = sa.select(col(Review.task_id)).where(
        col(Review.guild_id) == guild_id,
        col(Review.reviewer_id) == member_id,
        col(Review.round) == col(Task.review_round),
        col(Review.task_id) == col(Task.id),
    )
    return (
        sa.select(Task)
        .where(
            col(Task.guild_id) == guild_id,
            col(Task.status) == "in_review",
            col(Task.id).not_in(mine),
            ~sa.exists(reviewed),
        )
        .order_by(col(Task.status_changed_at))
        .limit(limit)
    )


@Prepared
def member_totals_query(guild_id: int, member_id: int) -> sa.Select[int, int, int, int]:
    """(points, tasks done, reviews given, kudos received), from the member's ledger rows."""
    kind = col(LedgerEntry.kind)
    return sa.select(
        sa.func.coalesce(
            sa.func.sum(sa.case((kind.in_(("task", "review")), col(LedgerEntry.points)), else_=0)),
            0,
        ),
        sa.func.count(sa.distinct(sa.case((kind == "task", col(LedgerEntry.task_id)), else_=None))),
        sa.func.coalesce(sa.func.sum(sa.case((kind == "review", 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((kind == "kudos", 1), else_=0)), 0),
    ).where(col(LedgerEntry.guild_id) == guild_id, col(LedgerEntry.member_id) == member_id)


@Prepared
def profile_figures_query(
    guild_id: int, member_id: int
) -> sa.Select[int, int, int, int, int, bool]:
    """(points, tasks done, reviews given, kudos received, claims held, ranking visible):
    the totals from member_scores (the ledger's sums, kept with it), zeros without a row."""

    def score(column: Any) -> Any:
        found = sa.select(column).where(
            col(MemberScore.guild_id) == guild_id, col(MemberScore.member_id) == member_id
        )
        return sa.func.coalesce(found.scalar_subquery(), 0)

    visible = sa.select(col(GuildMember.ranking_visible)).where(
        col(GuildMember.guild_id) == guild_id, col(GuildMember.member_id) == member_id
    )
    return sa.select(
        score(col(MemberScore.points)),
        score(col(MemberScore.tasks)),
        score(col(MemberScore.reviews)),
        score(col(MemberScore.kudos)),
        count_held_claims_query.build(guild_id, member_id).scalar_subquery(),
        sa.func.coalesce(visible.scalar_subquery(), sa.true()),
    )


@Prepared
def credit_times_query(guild_id: int, member_id: int, since: datetime) -> sa.Select[datetime]:
    return sa.select(col(LedgerEntry.created_at)).where(
        col(LedgerEntry.guild_id) == guild_id,
        col(LedgerEntry.member_id) == member_id,
        col(LedgerEntry.kind).in_(("task", "review")),
        col(LedgerEntry.created_at) >= since,
    )


def hidden_members_query(guild_id: int) -> sa.Select[int]:
    return sa.select(col(GuildMember.member_id)).where(
        col(GuildMember.guild_id) == guild_id, col(GuildMember.ranking_visible) == sa.false()
    )


def leaderboard_query(
    guild_id: int, since: datetime | None, by: str, limit: int, until: datetime | None = None
) -> sa.Select[int, int]:
    """(member, score) best first, members who hid themselves left out. A period sums the
    ledger rows of that period (an index range on time: `until`, now, bounds it on both
    sides, so SQLite's planner, which has no histograms, sees a narrow range rather than
    a quarter of the ledger); all time reads member_scores, the ledger's sums kept per
    member, from the top of its index for that score."""
    hidden = hidden_members_query(guild_id)
    if since is None:
        score_col = getattr(MemberScore, by)
        return (
            sa.select(col(MemberScore.member_id), score_col.label("score"))
            .where(
                col(MemberScore.guild_id) == guild_id,
                score_col > 0,
                col(MemberScore.member_id).not_in(hidden),
            )
            .order_by(score_col.desc(), col(MemberScore.member_id))
            .limit(limit)
        )
    kind = col(LedgerEntry.kind)
    score = {
        "points": sa.func.sum(
            sa.case((kind.in_(("task", "review")), col(LedgerEntry.points)), else_=0)
        ),
        "tasks": sa.func.count(
            sa.distinct(sa.case((kind == "task", col(LedgerEntry.task_id)), else_=None))
        ),
        "reviews": sa.func.sum(sa.case((kind == "review", 1), else_=0)),
        "kudos": sa.func.sum(sa.case((kind == "kudos", 1), else_=0)),
    }[by]
    return (
        sa.select(col(LedgerEntry.member_id), score.label("score"))
        .where(
            col(LedgerEntry.guild_id) == guild_id,
            col(LedgerEntry.created_at) >= since,
            col(LedgerEntry.created_at) <= (until or MAX_TIME),
            col(LedgerEntry.member_id).not_in(hidden),
        )
        .group_by(col(LedgerEntry.member_id))
        .having(score > 0)
        .order_by(sa.desc("score"), col(LedgerEntry.member_id))
        .limit(limit)
    )


@Prepared
def kudos_given_since_query(guild_id: int, giver_id: int, since: datetime) -> sa.Select[int]:
    return sa.select(sa.func.count()).where(
        col(LedgerEntry.guild_id) == guild_id,
        col(LedgerEntry.giver_id) == giver_id,
        col(LedgerEntry.kind) == "kudos",
        col(LedgerEntry.created_at) >= since,
    )


@functools.lru_cache(maxsize=64)
def _compare_and_set_template(keys: tuple[str, ...]) -> sa.Update:
    """UPDATE tasks SET … WHERE id = ? AND version = ?, built once per set of columns."""
    table = Task.__table__  # type: ignore[attr-defined]
    columns = {key: sa.bindparam(f"v_{key}", type_=table.c[key].type) for key in keys}
    return (
        sa.update(Task)
        .where(col(Task.id) == sa.bindparam("cas_id"))
        .where(col(Task.version) == sa.bindparam("cas_version"))
        .values(version=sa.bindparam("cas_next"), **columns)
        .execution_options(synchronize_session=False)
    )


@functools.lru_cache(maxsize=16)
def _insert_template(model: Any, keys: tuple[str, ...]) -> Any:
    """INSERT INTO table (keys) VALUES (…), built once per table and set of columns."""
    table = model.__table__
    return sa.insert(table).values({k: sa.bindparam(k, type_=table.c[k].type) for k in keys})


@functools.lru_cache(maxsize=4)
def _touch_member_template(dialect: str) -> Any:
    table = GuildMember.__table__  # type: ignore[attr-defined]
    now = sa.bindparam("now", type_=table.c.updated_at.type)
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(GuildMember)
    stmt = insert.values(
        guild_id=sa.bindparam("guild", type_=sa.BigInteger),
        member_id=sa.bindparam("member", type_=sa.BigInteger),
        updated_at=now,
    )
    return stmt.on_conflict_do_update(
        index_elements=["guild_id", "member_id"], set_={"updated_at": now}
    )


class Repository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        bind = self.session.get_bind()
        return bind.dialect.name

    def _insert(self, table: Any) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    # -- guild settings ----------------------------------------------------------------

    async def ensure_guild(self, guild_id: int, now: datetime) -> GuildSettings:
        found = await self.session.get(GuildSettings, guild_id)
        if found is not None:  # nearly always: one read, no write
            return found
        stmt = self._insert(GuildSettings).values(guild_id=guild_id, created_at=now, updated_at=now)
        await self.session.execute(stmt.on_conflict_do_nothing(index_elements=["guild_id"]))
        settings = await self.session.get(GuildSettings, guild_id)
        assert settings is not None
        return settings

    async def get_guild(self, guild_id: int) -> GuildSettings | None:
        return await self.session.get(GuildSettings, guild_id)

    async def next_task_number(self, guild_id: int) -> int:
        stmt = (
            sa.update(GuildSettings)
            .where(col(GuildSettings.guild_id) == guild_id)
            .values(next_task_number=GuildSettings.next_task_number + 1)
            .returning(col(GuildSettings.next_task_number))
        )
        value = (await self.session.execute(stmt)).scalar_one()
        return int(value) - 1

    async def milestones(self, guild_id: int) -> Sequence[Milestone]:
        stmt = (
            sa.select(Milestone)
            .where(col(Milestone.guild_id) == guild_id)
            .order_by(col(Milestone.points))
        )
        return (await self.session.scalars(stmt)).all()

    # -- members -------------------------------------------------------------------------

    async def touch_member(self, guild_id: int, member_id: int, now: datetime) -> None:
        """Upsert and write the member's row: on PostgreSQL the row lock serialises one
        member's concurrent claims, so two claims at once cannot both pass the limit."""
        stmt = _touch_member_template(self.dialect)
        await self.session.execute(stmt, {"guild": guild_id, "member": member_id, "now": now})

    async def get_member(self, guild_id: int, member_id: int) -> GuildMember | None:
        return await self.session.get(GuildMember, (guild_id, member_id))

    # -- tasks ---------------------------------------------------------------------------

    async def task_by_number(self, guild_id: int, number: int) -> Task | None:
        return (
            await self.session.scalars(
                task_by_number_query.template(), task_by_number_query.values(guild_id, number)
            )
        ).first()

    async def task_for_action(
        self, guild_id: int, number: int
    ) -> tuple[Task, list[ClaimRow], str | None] | None:
        """The task, its active claims (oldest first) and its last handoff note, in one
        statement (task_for_action_query); None when there is no such task."""
        rows = (
            await self.session.execute(
                task_for_action_query.template(), task_for_action_query.values(guild_id, number)
            )
        ).all()
        if not rows:
            return None
        claims = [claim for _task, claim, _note in rows if claim is not None]
        return rows[0][0], claims, rows[0][2]

    async def task_by_id(self, task_id: int) -> Task | None:
        return await self.session.get(Task, task_id)

    async def numbers_for_ids(self, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
        if not ids:
            return {}
        rows = (
            await self.session.execute(
                numbers_for_ids_query.template(), numbers_for_ids_query.values(ids)
            )
        ).all()
        return {int(row[0] or 0): (row[1], row[2]) for row in rows}

    def add(self, row: Any) -> None:
        self.session.add(row)

    async def insert_claim(self, **values: Any) -> None:
        """A new claim, through Core: nothing in the transaction reads it back as an object."""
        await self.session.execute(_insert_template(ClaimRow, tuple(sorted(values))), values)

    async def insert_history(self, **values: Any) -> None:
        await self.session.execute(_insert_template(TaskHistory, tuple(sorted(values))), values)

    async def flush(self) -> None:
        await self.session.flush()

    @staticmethod
    def mark_written(row: Any, values: dict[str, Any]) -> None:
        """After an UPDATE through SQL (compare_and_set): the loaded row holds `values` now,
        as a read would return them, without marking it changed."""
        for key, value in values.items():
            if isinstance(value, datetime):
                value = value.astimezone(UTC)
            set_committed_value(row, key, value)

    async def compare_and_set(self, task_id: int, version: int, values: dict[str, Any]) -> bool:
        """Write the task only if nobody changed it since we read `version`."""
        stmt = _compare_and_set_template(tuple(sorted(values)))
        params = {f"v_{key}": value for key, value in values.items()}
        params.update(cas_id=task_id, cas_version=version, cas_next=version + 1)
        result = await self.session.execute(stmt, params)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def list_tasks(
        self,
        guild_id: int,
        statuses: Sequence[str] | None,
        tag: str | None,
        member_id: int | None,
        after_number: int,
        limit: int,
    ) -> tuple[list[Task], dict[int, list[ClaimRow]]]:
        """A page of the board (`limit` tasks at most, by number) and each one's active
        claims (oldest first), in one statement."""
        stmt, values = list_tasks_statement(guild_id, statuses, tag, member_id, after_number, limit)
        tasks: list[Task] = []
        claims: dict[int, list[ClaimRow]] = {}
        for task, claim in (await self.session.execute(stmt, values)).all():
            assert task.id is not None
            if task.id not in claims:
                tasks.append(task)
                claims[task.id] = []
            if claim is not None:
                claims[task.id].append(claim)
        return tasks, claims

    # -- claims --------------------------------------------------------------------------

    async def active_claims(self, task_id: int) -> Sequence[ClaimRow]:
        return (
            await self.session.scalars(
                active_claims_query.template(), active_claims_query.values(task_id)
            )
        ).all()

    async def active_claims_for_tasks(self, task_ids: Sequence[int]) -> Sequence[ClaimRow]:
        if not task_ids:
            return []
        return (
            await self.session.scalars(
                active_claims_for_tasks_query.template(),
                active_claims_for_tasks_query.values(task_ids),
            )
        ).all()

    async def claim_standing(self, guild_id: int, member_id: int) -> tuple[int, int]:
        """(claims held, tasks done) in one statement: what a claim's limit depends on."""
        stmt = claim_standing_query.template()
        row = (
            await self.session.execute(stmt, claim_standing_query.values(guild_id, member_id))
        ).one()
        return int(row[0]), int(row[1])

    async def count_held_claims(self, guild_id: int, member_id: int) -> int:
        """Claims that count against the limit: work in hand, not work waiting for review."""
        stmt = count_held_claims_query.template()
        return int(
            (
                await self.session.execute(
                    stmt, count_held_claims_query.values(guild_id, member_id)
                )
            ).scalar_one()
        )

    async def last_handoff_note(self, task_id: int) -> str | None:
        note = (
            await self.session.execute(
                last_handoff_note_query.template(), last_handoff_note_query.values(task_id)
            )
        ).scalar_one_or_none()
        return note or None

    async def end_claims(
        self, task_id: int, member_ids: Sequence[int], now: datetime, reason: str, note: str | None
    ) -> None:
        stmt = (
            sa.update(ClaimRow)
            .where(
                col(ClaimRow.task_id) == task_id,
                col(ClaimRow.member_id).in_(member_ids),
                col(ClaimRow.ended_at).is_(None),
            )
            .values(ended_at=now, end_reason=reason, handoff_note=note or None)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def renew_claim(
        self, task_id: int, member_id: int, expires_at: datetime, extensions: int, warn_at: datetime
    ) -> None:
        stmt = (
            sa.update(ClaimRow)
            .where(
                col(ClaimRow.task_id) == task_id,
                col(ClaimRow.member_id) == member_id,
                col(ClaimRow.ended_at).is_(None),
            )
            .values(expires_at=expires_at, extensions=extensions, warn_at=warn_at)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    # -- reviews, submissions, votes -------------------------------------------------------

    async def reviews_in_round(self, task_id: int, round_: int) -> Sequence[Review]:
        stmt = sa.select(Review).where(col(Review.task_id) == task_id, col(Review.round) == round_)
        return (await self.session.scalars(stmt)).all()

    async def uncredited_reviews(self, task_id: int) -> Sequence[Review]:
        stmt = (
            sa.select(Review)
            .where(col(Review.task_id) == task_id, col(Review.credited).is_(False))
            .order_by(col(Review.id))
        )
        return (await self.session.scalars(stmt)).all()

    async def mark_reviews_credited(self, review_ids: Sequence[int]) -> None:
        if review_ids:
            await self.session.execute(
                sa.update(Review)
                .where(col(Review.id).in_(review_ids))
                .values(credited=True)
                .execution_options(synchronize_session=False)
            )

    async def latest_submission(self, task_id: int) -> Submission | None:
        return (
            await self.session.scalars(
                latest_submission_query.template(), latest_submission_query.values(task_id)
            )
        ).first()

    async def approvals(self, task_ids: Sequence[int]) -> dict[int, int]:
        """Approvals in each task's current review round (tasks with none left out)."""
        if not task_ids:
            return {}
        rows = (await self.session.execute(approvals_query(task_ids))).all()
        return {task_id: int(n) for task_id, n in rows}

    async def vote_counts(self, task_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(endorsements, objections) of each proposal (proposals with no vote left out)."""
        if not task_ids:
            return {}
        rows = (await self.session.execute(vote_counts_query(task_ids))).all()
        return {task_id: (int(e), int(o)) for task_id, e, o in rows}

    async def votes(self, task_id: int) -> Sequence[ProposalVote]:
        stmt = sa.select(ProposalVote).where(col(ProposalVote.task_id) == task_id)
        return (await self.session.scalars(stmt)).all()

    # -- history and ledger ----------------------------------------------------------------

    async def history(self, task_id: int, limit: int) -> Sequence[TaskHistory]:
        return (
            await self.session.scalars(
                history_query.template(), history_query.values(task_id, limit)
            )
        ).all()

    async def done_task_count(self, guild_id: int, member_id: int) -> int:
        stmt = done_task_count_query.template()
        return int(
            (
                await self.session.execute(stmt, done_task_count_query.values(guild_id, member_id))
            ).scalar_one()
        )

    # -- adapters' lookups -------------------------------------------------------------------

    async def suggest_tasks(
        self,
        guild_id: int,
        query: str,
        limit: int,
        statuses: Sequence[str] = UNFINISHED,
        max_number: int = MAX_NUMBER,
    ) -> Sequence[tuple[int, str, str]]:
        """Autocomplete: (number, title, status) of tasks by number or title (unfinished ones unless told otherwise);
        the exact number typed first, then open ones, then the newest. `max_number`: the
        guild's highest task number (no need to look past it)."""
        stmt, values = suggest_tasks_statement(
            guild_id, query, limit, statuses, max_number, dialect=self.dialect
        )
        return [(n, t, s) for n, t, s in (await self.session.execute(stmt, values)).all()]

    async def highest_task_number(self, guild_id: int) -> int:
        """The guild's newest task number (0 before its first task)."""
        stmt = sa.select(col(GuildSettings.next_task_number)).where(
            col(GuildSettings.guild_id) == guild_id
        )
        found = (await self.session.execute(stmt)).scalar_one_or_none()
        return max(int(found) - 1, 0) if found is not None else 0

    async def tasks_in_review_for(
        self, guild_id: int, member_id: int, limit: int
    ) -> Sequence[Task]:
        """In-review tasks this member did not work on and has not reviewed this round."""
        stmt = tasks_in_review_for_query(guild_id, member_id, limit)
        return (await self.session.scalars(stmt)).all()

    async def waiting_on(self, task_id: int) -> Sequence[int]:
        """Numbers of unfinished tasks blocked by this one."""
        stmt = (
            sa.select(col(Task.number))
            .where(
                col(Task.blocked_by_id) == task_id, col(Task.status).not_in(("done", "cancelled"))
            )
            .order_by(col(Task.number))
        )
        return (await self.session.execute(stmt)).scalars().all()

    # -- reminders: due work and the delivery log --------------------------------------------
    # The statements are built by the module-level functions below, so a test can EXPLAIN
    # exactly what the sweep runs. Each batch is read and written in a few statements,
    # whatever its size.

    async def claims_to_warn(
        self, now: datetime, limit: int
    ) -> Sequence[tuple[int, int, int, int, datetime]]:
        """(claim, guild, task, member, warn_at) of the warnings due, oldest first. On
        PostgreSQL the claims are locked until the transaction ends (rows another
        transaction is changing are skipped, for the next sweep), so clear_warnings clears
        exactly the warnings read; SQLite's write transaction holds the database already."""
        rows = (await self.session.execute(claims_to_warn_query(now, limit, lock=True))).all()
        return [(int(i or 0), g, t, m, w) for i, g, t, m, w in rows if w is not None]

    async def clear_warnings(self, claim_ids: Sequence[int]) -> None:
        """Sent work leaves the warning index, so an idle sweep reads nothing."""
        if claim_ids:
            await self.session.execute(clear_warnings_statement(claim_ids))

    async def expired_claims(
        self, now: datetime, limit: int
    ) -> Sequence[tuple[int, int, int, int, datetime]]:
        """(guild, task, task number, member, expires_at) of active claims past their
        window, on tasks still being worked on (work in review does not expire)."""
        rows = (await self.session.execute(expired_claims_query(now, limit))).all()
        return [(g, int(t or 0), n, m, e) for g, t, n, m, e in rows]

    async def due_notices(
        self, now: datetime, after: datetime, until: datetime, limit: int
    ) -> Sequence[tuple[int, int, int, datetime, str]]:
        """(guild, task, claimant, due_at, kind) of due-date notices not enqueued yet."""
        rows = (await self.session.execute(due_notices_query(now, after, until, limit))).all()
        return [(g, int(t or 0), m, d, k) for g, t, m, d, k in rows if d is not None]

    async def tasks_to_nudge(self, now: datetime, limit: int) -> Sequence[Task]:
        return (await self.session.scalars(tasks_to_nudge_query(now, limit))).all()

    async def stale_proposals(self, older_than: datetime, limit: int) -> Sequence[Task]:
        return (await self.session.scalars(stale_proposals_query(older_than, limit))).all()

    async def tasks_by_ids(self, task_ids: Sequence[int]) -> Sequence[Task]:
        """Tasks by id, loaded into the session (a later task_by_id of one reads no row)."""
        if not task_ids:
            return []
        return (await self.session.scalars(tasks_by_ids_query(task_ids))).all()

    async def compare_and_set_many(
        self, task_ids: Sequence[int], version: int, values: dict[str, Any]
    ) -> set[int]:
        """compare_and_set for tasks that share a version and the values written: the ids
        of those nobody changed since they were read at `version` (those written)."""
        if not task_ids:
            return set()
        stmt = compare_and_set_many_statement(task_ids, version, values)
        return {int(i or 0) for i in (await self.session.execute(stmt)).scalars().all()}

    async def end_claims_by_id(self, claim_ids: Sequence[int], now: datetime, reason: str) -> None:
        if claim_ids:
            await self.session.execute(end_claims_by_id_statement(claim_ids, now, reason))

    async def add_history(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append task_history rows (a sweep's batch of actions): one statement run for all
        of them (the driver's executemany), built and compiled once."""
        if rows:
            table = TaskHistory.__table__  # type: ignore[attr-defined]
            await self.session.execute(sa.insert(table), list(rows))

    async def enqueue(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add deliveries to the log; a key already there is left as it is. One statement,
        compiled once, run for all the rows (a multi-row VALUES would be built and
        compiled anew for each batch: ~0.4 ms a row in SQLAlchemy)."""
        if rows:
            await self.session.execute(_enqueue_statement(self.dialect), list(rows))

    async def sweep_work(
        self, now: datetime, due_after: datetime, due_until: datetime, proposed_before: datetime
    ) -> dict[str, bool]:
        """What each of the sweep's reads would find, as a flag per SWEEP_WORK name."""
        if self.dialect == "postgresql":
            # One plan for any times, made once per connection: planning this statement
            # each minute (~1.5 ms) costs more than running it (~0.2 ms). That plan reads
            # the same indexes (test_sweep_plan.py checks both). Ends with the transaction.
            await self.session.execute(sa.text("SET LOCAL plan_cache_mode = force_generic_plan"))
        values = (now, due_after, due_until, proposed_before)
        params = dict(zip(SWEEP_WORK_PARAMS, values, strict=True))
        found = set((await self.session.execute(_sweep_work_template(), params)).scalars())
        return {name: name in found for name in SWEEP_WORK}

    async def pending_deliveries(self, now: datetime, limit: int) -> Sequence[Delivery]:
        return (await self.session.scalars(pending_deliveries_query(now, limit))).all()

    async def lease_delivery(self, delivery_id: int, now: datetime, until: datetime) -> bool:
        stmt = (
            sa.update(Delivery)
            .where(
                col(Delivery.id) == delivery_id,
                col(Delivery.status) == "pending",
                sa.or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) <= now),
            )
            .values(lease_until=until, attempts=Delivery.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        return bool((await self.session.execute(stmt)).rowcount == 1)  # type: ignore[attr-defined]

    async def finish_delivery(self, delivery_id: int, **values: Any) -> None:
        stmt = (
            sa.update(Delivery)
            .where(col(Delivery.id) == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    # -- recognition ---------------------------------------------------------------------------

    async def member_totals(self, guild_id: int, member_id: int) -> tuple[int, int, int, int]:
        """(points, tasks done, reviews given, kudos received), from the ledger only."""
        row = (
            await self.session.execute(
                member_totals_query.template(), member_totals_query.values(guild_id, member_id)
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def profile_figures(
        self, guild_id: int, member_id: int
    ) -> tuple[int, int, int, int, int, bool]:
        stmt = profile_figures_query.template()
        row = (
            await self.session.execute(stmt, profile_figures_query.values(guild_id, member_id))
        ).one()
        points, done, reviews, kudos, held, visible = row
        return int(points), int(done), int(reviews), int(kudos), int(held), bool(visible)

    async def credit_times(
        self, guild_id: int, member_id: int, since: datetime
    ) -> Sequence[datetime]:
        stmt = credit_times_query.template()
        return (
            (
                await self.session.execute(
                    stmt, credit_times_query.values(guild_id, member_id, since)
                )
            )
            .scalars()
            .all()
        )

    async def leaderboard(
        self,
        guild_id: int,
        since: datetime | None,
        by: str,
        limit: int,
        until: datetime | None = None,
    ) -> Sequence[tuple[int, int]]:
        """(member, score) best first; members who hid themselves are left out."""
        stmt = leaderboard_query(guild_id, since, by, limit, until)
        return [(int(m), int(sc)) for m, sc in (await self.session.execute(stmt)).all()]

    async def kudos_given_since(self, guild_id: int, giver_id: int, since: datetime) -> int:
        stmt = kudos_given_since_query.template()
        return int(
            (
                await self.session.execute(
                    stmt, kudos_given_since_query.values(guild_id, giver_id, since)
                )
            ).scalar_one()
        )

    async def add_credits(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ledger rows and bring the credited members' all-time totals (member_scores)
        up to date from their ledger rows, in the same transaction."""
        if not entries:
            return
        for entry in entries:
            self.session.add(entry)
        await self.session.flush()
        for guild_id, member_id in dict.fromkeys((e.guild_id, e.member_id) for e in entries):
            await self._refresh_score(guild_id, member_id)

    async def _refresh_score(self, guild_id: int, member_id: int) -> None:
        totals = member_totals_query(guild_id, member_id).add_columns(
            sa.literal(guild_id, sa.BigInteger), sa.literal(member_id, sa.BigInteger)
        )
        stmt = self._insert(MemberScore).from_select(
            ["points", "tasks", "reviews", "kudos", "guild_id", "member_id"], totals
        )
        excluded = stmt.excluded
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["guild_id", "member_id"],
                set_={name: getattr(excluded, name) for name in SCORE_COLUMNS},
            )
        )

    async def milestone_grants(self, guild_id: int, member_id: int) -> set[int]:
        stmt = sa.select(col(MilestoneGrant.points)).where(
            col(MilestoneGrant.guild_id) == guild_id, col(MilestoneGrant.member_id) == member_id
        )
        return set((await self.session.execute(stmt)).scalars().all())


# -- the reminder sweep's reads (SPEC §6) ------------------------------------------------------
# Each runs every sweep and must stay an index range read however large the tables grow:
# tests/services/test_sweep_plan.py EXPLAINs them on SQLite and PostgreSQL. A time may be a
# value or a bound parameter: the has-work check is built once, with parameters.

When = datetime | sa.ColumnElement[datetime]


def claims_to_warn_query(
    now: When, limit: int, *, lock: bool = False
) -> sa.Select[int | None, int, int, int, datetime | None]:
    """(claim, guild, task, member, warn_at) of the warnings due, oldest first; `lock`: as
    the sweep reads them to clear them (FOR NO KEY UPDATE SKIP LOCKED, on PostgreSQL)."""
    stmt = (
        sa.select(
            col(ClaimRow.id),
            col(ClaimRow.guild_id),
            col(ClaimRow.task_id),
            col(ClaimRow.member_id),
            col(ClaimRow.warn_at),
        )
        .where(
            col(ClaimRow.warn_at).is_not(None),
            col(ClaimRow.ended_at).is_(None),
            col(ClaimRow.warn_at) <= now,
        )
        .order_by(col(ClaimRow.warn_at))
        .limit(limit)
    )
    return stmt.with_for_update(skip_locked=True, key_share=True) if lock else stmt


def expired_claims_query(now: When, limit: int) -> sa.Select[int, int | None, int, int, datetime]:
    """(guild, task, task number, member, expires_at) of active claims past their window,
    on tasks still being worked on (work in review does not expire)."""
    return (
        sa.select(
            col(ClaimRow.guild_id),
            col(Task.id),
            col(Task.number),
            col(ClaimRow.member_id),
            col(ClaimRow.expires_at),
        )
        .join(Task, col(Task.id) == col(ClaimRow.task_id))
        .where(
            col(ClaimRow.ended_at).is_(None),
            col(ClaimRow.expires_at) <= now,
            col(Task.status).in_(ACTIVE),
        )
        .order_by(col(ClaimRow.expires_at))
        .limit(limit)
    )


def due_notices_query(
    now: When, after: When, until: When, limit: int
) -> sa.Select[int, int | None, int, datetime | None, str]:
    """(guild, task, claimant, due_at, kind) of the due-date notices not in the delivery log
    yet: one per active claim on an unfinished task due in (after, until], "overdue" once
    the due time has passed, "due_soon" before. A notice enqueued once (whatever became of
    it) leaves this read, so a sweep reads each due task's keys and writes nothing again."""
    kind = sa.case(
        (col(Task.due_at) <= now, sa.literal(Reminder.OVERDUE.value)),
        else_=sa.literal(Reminder.DUE_SOON.value),
    )
    # The delivery log's unique key (uq_deliveries_key), probed once per claimant.
    enqueued = sa.select(col(Delivery.id)).where(
        col(Delivery.kind) == kind,
        col(Delivery.task_id) == col(Task.id),
        col(Delivery.member_id) == col(ClaimRow.member_id),
        col(Delivery.due_at) == col(Task.due_at),
    )
    return (
        sa.select(
            col(Task.guild_id),
            col(Task.id),
            col(ClaimRow.member_id),
            col(Task.due_at),
            kind.label("kind"),
        )
        .join(
            ClaimRow,
            sa.and_(col(ClaimRow.task_id) == col(Task.id), col(ClaimRow.ended_at).is_(None)),
        )
        .where(
            col(Task.due_at).is_not(None),
            col(Task.due_at) > after,
            col(Task.due_at) <= until,
            col(Task.status).in_(ACTIVE),
            ~sa.exists(enqueued),
        )
        .order_by(col(Task.due_at))
        .limit(limit)
    )


def tasks_to_nudge_query(now: When, limit: int) -> sa.Select[Task]:
    return (
        sa.select(Task)
        .where(col(Task.next_nudge_at).is_not(None), col(Task.next_nudge_at) <= now)
        .order_by(col(Task.next_nudge_at))
        .limit(limit)
    )


def stale_proposals_query(older_than: When, limit: int) -> sa.Select[Task]:
    """Proposals old enough for lazy consensus. An objected one waits for a maintainer:
    left in, the oldest of them would fill every batch and no other proposal would open."""
    objected = sa.select(col(ProposalVote.id)).where(
        col(ProposalVote.task_id) == col(Task.id), col(ProposalVote.kind) == "object"
    )
    return (
        sa.select(Task)
        .where(
            col(Task.status) == "proposed",
            col(Task.status_changed_at) <= older_than,
            ~sa.exists(objected),
        )
        .order_by(col(Task.status_changed_at))
        .limit(limit)
    )


def pending_deliveries_query(now: When, limit: int) -> sa.Select[Delivery]:
    return (
        sa.select(Delivery)
        .where(
            col(Delivery.status) == "pending",
            sa.or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
        )
        .order_by(col(Delivery.due_at), col(Delivery.id))
        .limit(limit)
    )


# -- the sweep's batch writes (and the read before them), by primary key ---------------------


def clear_warnings_statement(claim_ids: Sequence[int]) -> sa.Update:
    return (
        sa.update(ClaimRow)
        .where(col(ClaimRow.id).in_(claim_ids))
        .values(warn_at=None)
        .execution_options(synchronize_session=False)
    )


def tasks_by_ids_query(task_ids: Sequence[int]) -> sa.Select[Task]:
    return sa.select(Task).where(col(Task.id).in_(task_ids)).order_by(col(Task.id))


def compare_and_set_many_statement(
    task_ids: Sequence[int], version: int, values: dict[str, Any]
) -> sa.Update:
    return (
        sa.update(Task)
        .where(col(Task.id).in_(task_ids), col(Task.version) == version)
        .values(version=version + 1, **values)
        .returning(col(Task.id))
        .execution_options(synchronize_session=False)
    )


def end_claims_by_id_statement(claim_ids: Sequence[int], now: datetime, reason: str) -> sa.Update:
    return (
        sa.update(ClaimRow)
        .where(col(ClaimRow.id).in_(claim_ids), col(ClaimRow.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason, handoff_note=None)
        .execution_options(synchronize_session=False)
    )


@functools.cache
def _enqueue_statement(dialect: str) -> Any:
    table = Delivery.__table__  # type: ignore[attr-defined]
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["kind", "task_id", "member_id", "due_at"])


# -- has the sweep anything to do? --------------------------------------------------------------

# What the has-work check answers, one flag each, in this order.
SWEEP_WORK = ("warnings", "expiries", "due", "nudges", "proposals", "deliveries")


def _sweep_work(
    now: When, due_after: When, due_until: When, proposed_before: When
) -> sa.CompoundSelect[str]:
    pending = sa.select(col(Delivery.id)).where(
        # pending_deliveries_query's condition, with 'pending' written into the SQL: a plan
        # made for any parameters (PostgreSQL's generic plan) then still knows how few
        # rows it names, and reads them from ix_deliveries_retry.
        col(Delivery.status) == sa.literal_column("'pending'"),
        sa.or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
    )
    reads = (
        claims_to_warn_query(now, 1),
        expired_claims_query(now, 1),
        due_notices_query(now, due_after, due_until, 1),
        tasks_to_nudge_query(now, 1),
        stale_proposals_query(proposed_before, 1),
        pending,
    )
    # Each read as it is, to its first row, under its own name. LIMIT 1 is written into
    # the SQL: a plan made for any parameters (PostgreSQL's generic plan, which it keeps
    # instead of planning this statement every time) then knows only one row is wanted,
    # and walks each read's index in order. (Not EXISTS: PostgreSQL drops the ORDER BY
    # there, and may then look for a first row in a whole table.)
    return sa.union_all(
        *(
            sa.select(sa.literal_column(f"'{name}'").label("work")).select_from(
                read.limit(sa.literal_column("1")).subquery()
            )
            for name, read in zip(SWEEP_WORK, reads, strict=True)
        )
    )


SWEEP_WORK_PARAMS = ("now", "due_after", "due_until", "proposed_before")


@functools.cache
def _sweep_work_template() -> sa.CompoundSelect[str]:
    """Built once, with bound parameters: building this statement and its cache key costs
    SQLAlchemy more (~1.5 ms) than SQLite takes to run it; and one SQL text lets
    PostgreSQL keep one plan for it instead of planning it again (~3 ms) every minute."""
    return _sweep_work(*(sa.bindparam(name, type_=UTCDateTime) for name in SWEEP_WORK_PARAMS))


def sweep_has_work_query(
    now: datetime, due_after: datetime, due_until: datetime, proposed_before: datetime
) -> sa.CompoundSelect[str]:
    """One statement answering "what would a sweep find?": a row naming each of the reads
    above (SWEEP_WORK) that finds something, over every guild. This is the statement the sweep runs, with its
    values in (to EXPLAIN it)."""
    values = (now, due_after, due_until, proposed_before)
    return _sweep_work(
        *(
            sa.bindparam(name, value, type_=UTCDateTime)
            for name, value in zip(SWEEP_WORK_PARAMS, values, strict=True)
        )
    )
