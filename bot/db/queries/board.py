"""The interactions' reads of tasks, claims, reviews and history (hot paths), and the
task writes a unit of work sends most. Each must read through an index, never a whole
big table: tests/services/test_query_plans.py EXPLAINs them on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col

from bot.db.models import (
    ClaimRow,
    LedgerEntry,
    ProposalVote,
    Review,
    Submission,
    Task,
    TaskHistory,
)
from bot.db.queries.common import ACTIVE, Bound, Params, escape_like


def _param(name: str, type_: sa.types.TypeEngine[int] | None = None) -> sa.BindParameter[int]:
    return sa.bindparam(name, type_=type_ if type_ is not None else sa.Integer())


GUILD = _param("guild_id", sa.BigInteger())
MEMBER = _param("member_id", sa.BigInteger())
TASK = _param("task_id")


# -- one task --------------------------------------------------------------------------------


@functools.cache
def _task_by_number() -> sa.Select[Task]:
    return sa.select(Task).where(col(Task.guild_id) == GUILD, col(Task.number) == _param("number"))


def task_by_number_query(guild_id: int, number: int) -> Bound[sa.Select[Task]]:
    return _task_by_number(), {"guild_id": guild_id, "number": number}


@functools.cache
def _task_for_action() -> sa.Select[Task, ClaimRow, str | None]:
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
        .where(col(Task.guild_id) == GUILD, col(Task.number) == _param("number"))
        .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
    )


def task_for_action_query(
    guild_id: int, number: int
) -> Bound[sa.Select[Task, ClaimRow, str | None]]:
    """What an action on a task reads first, in one statement: the task, each of its
    active claims on a row of its own (none: one row with no claim), oldest first, and
    the note its last releaser left (last_handoff_note_query)."""
    return _task_for_action(), {"guild_id": guild_id, "number": number}


@functools.cache
def _numbers_for_ids() -> sa.Select[int | None, int, str]:
    ids: sa.BindParameter[int] = sa.bindparam("ids", expanding=True)
    return sa.select(col(Task.id), col(Task.number), col(Task.status)).where(col(Task.id).in_(ids))


def numbers_for_ids_query(ids: Sequence[int]) -> Bound[sa.Select[int | None, int, str]]:
    return _numbers_for_ids(), {"ids": list(ids)}


# -- the board's page -----------------------------------------------------------------------------


def list_tasks_query(
    guild_id: int,
    statuses: Sequence[str] | None,
    tag: str | None,
    member_id: int | None,
    after_number: int,
    limit: int,
) -> Bound[sa.Select[Task, ClaimRow]]:
    """A page of the board and the active claims of its tasks, one row per claim (a task
    with none: one row, no claim), by number, then oldest claim first: the statement
    (built once per shape of filter) and its values."""
    values: Params = {"guild_id": guild_id, "after": after_number, "limit": limit}
    if member_id is not None:
        values["member_id"] = member_id
    if statuses:
        values["statuses"] = list(statuses)
    if tag:
        values["tag"] = f"%,{escape_like(tag)},%"
    return _list_template(member_id is not None, bool(statuses), bool(tag)), values


@functools.lru_cache(maxsize=16)
def _list_template(by_member: bool, by_status: bool, by_tag: bool) -> sa.Select[Task, ClaimRow]:
    """The page (`limit` tasks after the number `after`, by number) as a subquery, joined
    to the active claims of its tasks."""
    stmt = sa.select(Task).where(col(Task.guild_id) == GUILD, col(Task.number) > _param("after"))
    if by_member:
        # Driven from the member's few active claims (one per task, a unique index says so),
        # not from every task of the board.
        stmt = stmt.join(ClaimRow, col(ClaimRow.task_id) == col(Task.id)).where(
            col(ClaimRow.guild_id) == GUILD,
            col(ClaimRow.member_id) == MEMBER,
            col(ClaimRow.ended_at).is_(None),
        )
    if by_status:
        stmt = stmt.where(col(Task.status).in_(sa.bindparam("statuses", expanding=True)))
    if by_tag:
        stmt = stmt.where(col(Task.tags).like(sa.bindparam("tag", type_=sa.String()), escape="/"))
    # The limit written into the SQL: with it a parameter, PostgreSQL's generic plan does not
    # know the page is short, and hashes every claim instead of probing the page's.
    limit = sa.bindparam("limit", type_=sa.Integer(), literal_execute=True)
    page = stmt.order_by(col(Task.number)).limit(limit).subquery("page")
    task = aliased(Task, page)
    active = sa.and_(col(ClaimRow.task_id) == col(task.id), col(ClaimRow.ended_at).is_(None))
    return (
        sa.select(task, ClaimRow)
        .outerjoin(ClaimRow, active)
        .order_by(col(task.number), col(ClaimRow.claimed_at), col(ClaimRow.id))
    )


# -- claims -----------------------------------------------------------------------------------------


@functools.cache
def _active_claims() -> sa.Select[ClaimRow]:
    return (
        sa.select(ClaimRow)
        .where(col(ClaimRow.task_id) == TASK, col(ClaimRow.ended_at).is_(None))
        .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
    )


def active_claims_query(task_id: int) -> Bound[sa.Select[ClaimRow]]:
    return _active_claims(), {"task_id": task_id}


@functools.cache
def _active_claims_for_tasks() -> sa.Select[ClaimRow]:
    ids: sa.BindParameter[int] = sa.bindparam("task_ids", expanding=True)
    return (
        sa.select(ClaimRow)
        .where(col(ClaimRow.task_id).in_(ids), col(ClaimRow.ended_at).is_(None))
        .order_by(col(ClaimRow.claimed_at), col(ClaimRow.id))
        # Rows changed by bulk UPDATEs in this transaction must be re-read.
        .execution_options(populate_existing=True)
    )


def active_claims_for_tasks_query(task_ids: Sequence[int]) -> Bound[sa.Select[ClaimRow]]:
    return _active_claims_for_tasks(), {"task_ids": list(task_ids)}


def _count_held_claims() -> sa.Select[int]:
    return (
        sa.select(sa.func.count())
        .select_from(ClaimRow)
        .join(Task, col(Task.id) == col(ClaimRow.task_id))
        .where(
            col(ClaimRow.guild_id) == GUILD,
            col(ClaimRow.member_id) == MEMBER,
            col(ClaimRow.ended_at).is_(None),
            col(Task.status).in_(ACTIVE),
        )
    )


def _done_task_count() -> sa.Select[int]:
    return sa.select(sa.func.count(sa.distinct(col(LedgerEntry.task_id)))).where(
        col(LedgerEntry.guild_id) == GUILD,
        col(LedgerEntry.member_id) == MEMBER,
        col(LedgerEntry.kind) == "task",
    )


_held_template = functools.cache(_count_held_claims)
_done_template = functools.cache(_done_task_count)


def count_held_claims_query(guild_id: int, member_id: int) -> Bound[sa.Select[int]]:
    """Claims that count against the limit: work in hand, not work waiting for review."""
    return _held_template(), {"guild_id": guild_id, "member_id": member_id}


def held_claims_subquery() -> sa.ScalarSelect[int]:
    """count_held_claims_query inside another statement (same parameters)."""
    return _count_held_claims().scalar_subquery()


def done_task_count_query(guild_id: int, member_id: int) -> Bound[sa.Select[int]]:
    return _done_template(), {"guild_id": guild_id, "member_id": member_id}


@functools.cache
def _claim_standing() -> sa.Select[int, int]:
    return sa.select(_count_held_claims().scalar_subquery(), _done_task_count().scalar_subquery())


def claim_standing_query(guild_id: int, member_id: int) -> Bound[sa.Select[int, int]]:
    """(claims held, tasks done): count_held_claims_query and done_task_count_query at once."""
    return _claim_standing(), {"guild_id": guild_id, "member_id": member_id}


@functools.cache
def _last_handoff_note() -> sa.Select[str | None]:
    return (
        sa.select(col(ClaimRow.handoff_note))
        .where(col(ClaimRow.task_id) == TASK, col(ClaimRow.end_reason) == "released")
        .order_by(col(ClaimRow.ended_at).desc(), col(ClaimRow.id).desc())
        .limit(1)
    )


def last_handoff_note_query(task_id: int) -> Bound[sa.Select[str | None]]:
    return _last_handoff_note(), {"task_id": task_id}


# -- reviews, votes, submissions, history -----------------------------------------------------------


def approvals_query(task_ids: Sequence[int]) -> Bound[sa.Select[int, int]]:
    """(task, approvals) in each task's current review round, for tasks with any."""
    stmt = (
        sa.select(col(Review.task_id), sa.func.count())
        .join(Task, col(Task.id) == col(Review.task_id))
        .where(
            col(Review.task_id).in_(task_ids),
            col(Review.round) == col(Task.review_round),
            col(Review.verdict) == "approve",
        )
        .group_by(col(Review.task_id))
    )
    return stmt, {}


def vote_counts_query(task_ids: Sequence[int]) -> Bound[sa.Select[int, int, int]]:
    """(task, endorsements, objections) of proposals with any vote."""
    kind = col(ProposalVote.kind)
    stmt = (
        sa.select(
            col(ProposalVote.task_id),
            sa.func.count().filter(kind == "endorse"),
            sa.func.count().filter(kind == "object"),
        )
        .where(col(ProposalVote.task_id).in_(task_ids))
        .group_by(col(ProposalVote.task_id))
    )
    return stmt, {}


@functools.cache
def _latest_submission() -> sa.Select[Submission]:
    return (
        sa.select(Submission)
        .where(col(Submission.task_id) == TASK)
        .order_by(col(Submission.id).desc())
        .limit(1)
    )


def latest_submission_query(task_id: int) -> Bound[sa.Select[Submission]]:
    return _latest_submission(), {"task_id": task_id}


@functools.cache
def _history() -> sa.Select[TaskHistory]:
    return (
        sa.select(TaskHistory)
        .where(col(TaskHistory.task_id) == TASK)
        .order_by(col(TaskHistory.id))
        .limit(_param("limit"))
    )


def history_query(task_id: int, limit: int) -> Bound[sa.Select[TaskHistory]]:
    return _history(), {"task_id": task_id, "limit": limit}


def tasks_in_review_for_query(guild_id: int, member_id: int, limit: int) -> Bound[sa.Select[Task]]:
    """In-review tasks this member did not work on and has not reviewed this round."""
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
    stmt = (
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
    return stmt, {}


# -- writes ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def compare_and_set_template(keys: tuple[str, ...]) -> sa.Update:
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
def insert_template(table: sa.Table, keys: tuple[str, ...]) -> sa.Insert:
    """INSERT INTO table (keys) VALUES (…), built once per table and set of columns."""
    return sa.insert(table).values({k: sa.bindparam(k, type_=table.c[k].type) for k in keys})
