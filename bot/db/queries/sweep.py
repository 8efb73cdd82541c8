"""The reminder sweep's statements (SPEC §6): its reads of due work, its batch writes,
and the one statement that says whether a sweep has anything to do.

Each read runs every sweep and must stay an index range read however large the tables
grow: tests/services/test_sweep_plan.py EXPLAINs them on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeAlias, cast

import sqlalchemy as sa
from sqlmodel import col

from bot.db.models import ClaimRow, Delivery, ProposalVote, Task, ThreadLine
from bot.db.queries.common import ACTIVE, Bound, owned_by
from bot.db.types import UTCDateTime
from bot.domain.model import Reminder
from bot.domain.shards import Shards

# -- the reminder sweep's reads (SPEC §6) ------------------------------------------------------
# Each runs every sweep and must stay an index range read however large the tables grow:
# tests/services/test_sweep_plan.py EXPLAINs them on SQLite and PostgreSQL. A time may be a
# value or a bound parameter: the has-work check is built once, with parameters.

When = datetime | sa.ColumnElement[datetime]


def claims_to_warn_query(
    now: When, limit: int, *, lock: bool = False, shards: Shards | None = None
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
            owned_by(col(ClaimRow.guild_id), shards),
        )
        .order_by(col(ClaimRow.warn_at))
        .limit(limit)
    )
    return stmt.with_for_update(skip_locked=True, key_share=True) if lock else stmt


def expired_claims_query(
    now: When, limit: int, shards: Shards | None = None
) -> sa.Select[int, int | None, int, int, datetime]:
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
            owned_by(col(ClaimRow.guild_id), shards),
        )
        .order_by(col(ClaimRow.expires_at))
        .limit(limit)
    )


def due_notices_query(
    now: When, after: When, until: When, limit: int, shards: Shards | None = None
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
            owned_by(col(Task.guild_id), shards),
            ~sa.exists(enqueued),
        )
        .order_by(col(Task.due_at))
        .limit(limit)
    )


def tasks_to_nudge_query(now: When, limit: int, shards: Shards | None = None) -> sa.Select[Task]:
    return (
        sa.select(Task)
        .where(
            col(Task.next_nudge_at).is_not(None),
            col(Task.next_nudge_at) <= now,
            owned_by(col(Task.guild_id), shards),
        )
        .order_by(col(Task.next_nudge_at))
        .limit(limit)
    )


def cards_to_repair_query(now: When, limit: int, shards: Shards | None = None) -> sa.Select[Task]:
    """Cards owed an update whose next try is due (ix_tasks_card_repair: marked only)."""
    return (
        sa.select(Task)
        .where(
            col(Task.card_dirty_since).is_not(None),
            col(Task.card_next_attempt_at) <= now,
            owned_by(col(Task.guild_id), shards),
        )
        .order_by(col(Task.card_next_attempt_at))
        .limit(limit)
    )


def thread_lines_due_query(
    now: When, limit: int, shards: Shards | None = None
) -> sa.Select[ThreadLine]:
    return (
        sa.select(ThreadLine)
        .where(col(ThreadLine.next_attempt_at) <= now, owned_by(col(ThreadLine.guild_id), shards))
        .order_by(col(ThreadLine.next_attempt_at), col(ThreadLine.id))
        .limit(limit)
    )


def stale_proposals_query(now: When, limit: int, shards: Shards | None = None) -> sa.Select[Task]:
    """Proposals whose lazy-consensus time has come (ix_tasks_opens): those still inside
    their window are not read at all, however many guilds have some waiting. An objected
    one waits for a maintainer: left in, the oldest of them would fill every batch and no
    other proposal would open."""
    objected = sa.select(col(ProposalVote.id)).where(
        col(ProposalVote.task_id) == col(Task.id), col(ProposalVote.kind) == "object"
    )
    return (
        sa.select(Task)
        .where(
            # 'proposed' written into the SQL, not bound: a plan made for any parameters
            # (PostgreSQL's generic plan) can then read the partial index ix_tasks_opens.
            col(Task.status) == sa.literal_column("'proposed'"),
            col(Task.opens_at) <= now,
            owned_by(col(Task.guild_id), shards),
            ~sa.exists(objected),
        )
        .order_by(col(Task.opens_at))
        .limit(limit)
    )


def pending_deliveries_query(
    now: When, limit: int, shards: Shards | None = None
) -> sa.Select[Delivery]:
    return (
        sa.select(Delivery)
        .where(
            col(Delivery.status) == "pending",
            sa.or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
            owned_by(col(Delivery.guild_id), shards),
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


# -- the reads the reminder registry declares ------------------------------------------------
# bot/services/reminders/kinds.py declares which read each scheduled reminder makes, with one
# of these specs: values, no SQL. Each spec turns itself into its statement here, so the
# SQL stays in bot/db, and the has-work check below is built from the registry's list.


# A read as the has-work check runs it: its columns do not matter there.
Probe: TypeAlias = "sa.Select[*tuple[Any, ...]]"


@dataclass(frozen=True, slots=True)
class Read:
    """A sweep read: `probe` is the read itself (to its first row, in the has-work check);
    `bounds` the times it reads by besides `now`, as values for a given `now`."""

    def bounds(self, now: datetime) -> dict[str, datetime]:
        return {}

    def probe(self, now: When, bounds: Mapping[str, When], shards: Shards | None = None) -> Probe:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class ClaimsToWarn(Read):
    def probe(self, now: When, bounds: Mapping[str, When], shards: Shards | None = None) -> Probe:
        return claims_to_warn_query(now, 1, shards=shards)


@dataclass(frozen=True, slots=True)
class ExpiredClaims(Read):
    def probe(self, now: When, bounds: Mapping[str, When], shards: Shards | None = None) -> Probe:
        return expired_claims_query(now, 1, shards)


@dataclass(frozen=True, slots=True)
class DueDates(Read):
    """Claimants of tasks due within `soon`, or overdue by at most `look_back`."""

    soon: timedelta
    look_back: timedelta

    def bounds(self, now: datetime) -> dict[str, datetime]:
        return {"after": now - self.look_back, "until": now + self.soon}

    def probe(self, now: When, bounds: Mapping[str, When], shards: Shards | None = None) -> Probe:
        return due_notices_query(now, bounds["after"], bounds["until"], 1, shards)


@dataclass(frozen=True, slots=True)
class ReviewWaiting(Read):
    def probe(self, now: When, bounds: Mapping[str, When], shards: Shards | None = None) -> Probe:
        return tasks_to_nudge_query(now, 1, shards)


@dataclass(frozen=True, slots=True)
class StaleProposals(Read):
    """Proposals past their lazy-consensus time (`tasks.opens_at`)."""

    def probe(self, now: When, bounds: Mapping[str, When], shards: Shards | None = None) -> Probe:
        return stale_proposals_query(now, 1, shards)


# The times a ClaimantNotices read may key on (each with an index to read it by).
NOTICE_TIMES: Final[Mapping[str, sa.ColumnElement[datetime | None]]] = {
    "task.due_at": cast("sa.ColumnElement[datetime | None]", col(Task.due_at)),
}


@dataclass(frozen=True, slots=True)
class ClaimantNotices(Read):
    """A notice of `kind` to each active claimant of an unfinished task once the time `at`
    (a NOTICE_TIMES name) is `after` past, looking back at most `look_back`, and only
    if it is not in the delivery log yet (its key: kind, task, member, the time `at`)."""

    kind: str
    at: str
    after: timedelta = timedelta(0)
    look_back: timedelta = timedelta(days=1)

    def bounds(self, now: datetime) -> dict[str, datetime]:
        return {"since": now - self.after - self.look_back, "until": now - self.after}

    def probe(self, now: When, bounds: Mapping[str, When], shards: Shards | None = None) -> Probe:
        return claimant_notices_query(self, bounds["since"], bounds["until"], 1, shards)


def claimant_notices_query(
    read: ClaimantNotices, since: When, until: When, limit: int, shards: Shards | None = None
) -> sa.Select[int, int | None, int, datetime | None]:
    """(guild, task, claimant, at) of `read`'s notices not in the delivery log yet."""
    at = NOTICE_TIMES[read.at]
    enqueued = sa.select(col(Delivery.id)).where(
        col(Delivery.kind) == sa.literal(read.kind),
        col(Delivery.task_id) == col(Task.id),
        col(Delivery.member_id) == col(ClaimRow.member_id),
        col(Delivery.due_at) == at,
    )
    return (
        sa.select(col(Task.guild_id), col(Task.id), col(ClaimRow.member_id), at)
        .join(
            ClaimRow,
            sa.and_(col(ClaimRow.task_id) == col(Task.id), col(ClaimRow.ended_at).is_(None)),
        )
        .where(
            at.is_not(None),
            at > since,
            at <= until,
            col(Task.status).in_(ACTIVE),
            owned_by(col(Task.guild_id), shards),
            ~sa.exists(enqueued),
        )
        .order_by(at)
        .limit(limit)
    )


# -- has the sweep anything to do? --------------------------------------------------------------

# The has-work check's name for the delivery phase (a registry read has its own name).
DELIVERIES: Final = "deliveries"
# Its names for the card repair's reads: cards owed an update, thread lines owed a post.
CARDS: Final = "cards"
LINES: Final = "lines"

Reads = tuple[tuple[str, Read], ...]


def _pending_probe(now: When, shards: Shards | None) -> Probe:
    return sa.select(col(Delivery.id)).where(
        # pending_deliveries_query's condition, with 'pending' written into the SQL: a plan
        # made for any parameters (PostgreSQL's generic plan) then still knows how few
        # rows it names, and reads them from ix_deliveries_retry.
        col(Delivery.status) == sa.literal_column("'pending'"),
        sa.or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now),
        owned_by(col(Delivery.guild_id), shards),
    )


def _param(name: str, bound: str) -> str:
    return f"{name}_{bound}"


@functools.cache
def _sweep_work_template(reads: Reads, shards: Shards | None) -> sa.CompoundSelect[str]:
    """Built once per registry, with bound parameters: building this statement and its
    cache key costs SQLAlchemy more (~1.5 ms) than SQLite takes to run it; and one SQL text
    lets PostgreSQL keep one plan for it instead of planning it again (~3 ms) every minute.

    Each read as it is, to its first row, under its own name. LIMIT 1 is written into the
    SQL: a plan made for any parameters (PostgreSQL's generic plan, which it keeps instead
    of planning this statement every time) then knows only one row is wanted, and walks
    each read's index in order. (Not EXISTS: PostgreSQL drops the ORDER BY there, and may
    then look for a first row in a whole table.)"""
    now = sa.bindparam("now", type_=UTCDateTime)
    probes: list[tuple[str, Probe]] = []
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    for name, read in reads:
        bounds = {
            key: sa.bindparam(_param(name, key), type_=UTCDateTime) for key in read.bounds(epoch)
        }
        probes.append((name, read.probe(now, bounds, shards)))
    probes.append((DELIVERIES, _pending_probe(now, shards)))
    # The card repair's reads too: without them, an idle sweep ran two more units of work
    # (each a round trip to the database and back) to find no card and no line owed.
    probes.append((CARDS, cards_to_repair_query(now, 1, shards)))
    probes.append((LINES, thread_lines_due_query(now, 1, shards)))
    return sa.union_all(
        *(
            sa.select(sa.literal_column(f"'{name}'").label("work")).select_from(
                probe.limit(sa.literal_column("1")).subquery()
            )
            for name, probe in probes
        )
    )


def sweep_has_work_query(
    reads: Reads, now: datetime, shards: Shards | None = None
) -> Bound[sa.CompoundSelect[str]]:
    """One statement answering "what would a sweep find?": a row naming each of `reads`
    (and DELIVERIES, CARDS, LINES) that finds something, in the guilds of `shards` (None: every
    guild); and its values."""
    values: dict[str, object] = {"now": now}
    for name, read in reads:
        values.update({_param(name, key): at for key, at in read.bounds(now).items()})
    return _sweep_work_template(reads, shards), values
