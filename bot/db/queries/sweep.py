"""The reminder sweep's statements (SPEC §6): its reads of due work, its batch writes,
and the one statement that says whether a sweep has anything to do.

Each read runs every sweep and must stay an index range read however large the tables
grow: tests/services/test_sweep_plan.py EXPLAINs them on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col

from bot.db.models import ClaimRow, Delivery, ProposalVote, Task
from bot.db.queries.common import ACTIVE, Bound
from bot.db.types import UTCDateTime
from bot.domain.model import Reminder

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
    task_ids: Sequence[int], version: int, values: Mapping[str, object]
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
) -> Bound[sa.CompoundSelect[str]]:
    """One statement answering "what would a sweep find?": a row naming each of the reads
    above (SWEEP_WORK) that finds something, over every guild; and its values."""
    values = (now, due_after, due_until, proposed_before)
    return _sweep_work_template(), dict(zip(SWEEP_WORK_PARAMS, values, strict=True))
