"""Tables. Discord IDs are BigInteger; datetimes are timezone-aware UTC."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.db.github_models import GitHubDelivery as GitHubDelivery
from bot.db.github_models import GitHubLogin as GitHubLogin
from bot.db.github_models import GitHubRepo as GitHubRepo
from bot.db.github_models import TaskLink as TaskLink
from bot.db.types import UTCDateTime
from bot.domain.model import Rules

ACTIVE_CLAIM = sa.text("ended_at IS NULL")
PENDING_WARNING = sa.text("warn_at IS NOT NULL AND ended_at IS NULL")
HAS_DUE = sa.text("due_at IS NOT NULL")
HAS_NUDGE = sa.text("next_nudge_at IS NOT NULL")
CARD_DIRTY = sa.text("card_dirty_since IS NOT NULL")
PROPOSED = sa.text("status = 'proposed'")
# Spelled as each dialect renders `ranking_visible == sa.false()`, so the planners match it.
HIDDEN_SQLITE = sa.text("ranking_visible = 0")
HIDDEN_PG = sa.text("ranking_visible = false")


def _id(**kw: object) -> int:
    return Field(sa_type=sa.BigInteger, **kw)  # type: ignore[no-any-return, call-overload]


def _when(**kw: object) -> datetime:
    return Field(sa_type=UTCDateTime, **kw)  # type: ignore[no-any-return, call-overload]


_RULE_FIELDS = tuple(f.name for f in fields(Rules))
DEFAULT_RULES = Rules()  # the columns' defaults are the domain's, declared once there


class GuildSettings(SQLModel, table=True):
    """Everything /config sets, with SPEC defaults, plus the guild's task counter.

    The rule columns are `domain.Rules`' fields, of the same names, with the domain's
    defaults (a test holds the names in step); `rules` reads them as one.
    """

    __tablename__ = "guild_settings"

    guild_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    next_task_number: int = Field(default=1)
    tasks_channel_id: int | None = _id(default=None, nullable=True)
    review_channel_id: int | None = _id(default=None, nullable=True)
    digest_channel_id: int | None = _id(default=None, nullable=True)
    maintainer_role_id: int | None = _id(default=None, nullable=True)
    reviewer_role_id: int | None = _id(default=None, nullable=True)
    claim_days: int | None = Field(default=DEFAULT_RULES.claim_days, nullable=True)
    max_extensions: int = DEFAULT_RULES.max_extensions
    limit_newcomer: int = DEFAULT_RULES.limit_newcomer
    limit_contributor: int = DEFAULT_RULES.limit_contributor
    limit_regular: int = DEFAULT_RULES.limit_regular
    required_approvals: int = DEFAULT_RULES.required_approvals
    regular_threshold: int = DEFAULT_RULES.regular_threshold
    regulars_can_create: bool = DEFAULT_RULES.regulars_can_create
    proposal_endorsements: int = DEFAULT_RULES.proposal_endorsements
    proposal_window_hours: int = DEFAULT_RULES.proposal_window_hours
    claim_warning_fraction: float = DEFAULT_RULES.claim_warning_fraction
    review_points: int = DEFAULT_RULES.review_points
    rework_limit: int = DEFAULT_RULES.rework_limit
    review_nudge_hours: int = DEFAULT_RULES.review_nudge_hours
    kudos_weekly_budget: int = DEFAULT_RULES.kudos_weekly_budget
    proposal_limit_newcomer: int = DEFAULT_RULES.proposal_limit_newcomer
    proposal_limit_contributor: int = DEFAULT_RULES.proposal_limit_contributor
    proposal_limit_regular: int = DEFAULT_RULES.proposal_limit_regular
    digest_day: int = 0  # Monday, as in datetime.weekday()
    digest_time: str = Field(default="17:00", max_length=5)
    digest_timezone: str = Field(default="UTC", max_length=64)
    digest_enabled: bool = True
    # The language public posts are in (`/config language`, a catalog code of bot.i18n);
    # None: the guild's Discord preferred locale where Peerboard has it, else English.
    language: str | None = Field(default=None, max_length=16, nullable=True)
    # When maintainers were told that the board's cards can't be updated (the tasks
    # channel gone, a permission missing): told once, cleared when a card updates again.
    cards_problem_at: datetime | None = _when(default=None, nullable=True)
    created_at: datetime = _when()
    updated_at: datetime = _when()

    @property
    def rules(self) -> Rules:
        return Rules(**{name: getattr(self, name) for name in _RULE_FIELDS})


class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"
    __table_args__ = (sa.UniqueConstraint("guild_id", "points", name="uq_milestones_guild_points"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id(foreign_key="guild_settings.guild_id", ondelete="CASCADE")
    points: int
    role_id: int = _id()
    problem_noticed_at: datetime | None = _when(
        default=None, nullable=True
    )  # told maintainers once


class Task(SQLModel, table=True):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.UniqueConstraint("guild_id", "number", name="uq_tasks_guild_number"),
        sa.Index("ix_tasks_board", "guild_id", "status", "number"),
        # Autocomplete by title walks this newest first and tests each title in the index,
        # fetching only the rows that match (a title can match anywhere: no index finds it).
        sa.Index("ix_tasks_titles", "guild_id", "status", "number", "title", "id"),
        sa.Index("ix_tasks_blocked_by", "blocked_by_id"),
        # Reminder sweeps: each reads only what is pending, so finished work leaves the index.
        sa.Index("ix_tasks_due", "due_at", sqlite_where=HAS_DUE, postgresql_where=HAS_DUE),
        sa.Index(
            "ix_tasks_nudge", "next_nudge_at", sqlite_where=HAS_NUDGE, postgresql_where=HAS_NUDGE
        ),
        sa.Index("ix_tasks_status_age", "status", "status_changed_at"),
        # Lazy consensus: only proposals are in it, by the time each opens.
        sa.Index("ix_tasks_opens", "opens_at", sqlite_where=PROPOSED, postgresql_where=PROPOSED),
        # The digest: the oldest claimable tasks (blocker in the index: counted without
        # reading rows), and the review queue and unclaimed tasks by time in status.
        sa.Index("ix_tasks_created", "guild_id", "status", "created_at", "number", "blocked_by_id"),
        sa.Index(
            "ix_tasks_status_since",
            "guild_id",
            "status",
            "status_changed_at",
            "number",
            postgresql_include=["id"],  # SQLite's indexes hold the rowid anyway
        ),
        # Card repair: only cards the board still owes an update are in the index.
        sa.Index(
            "ix_tasks_card_repair",
            "card_next_attempt_at",
            sqlite_where=CARD_DIRTY,
            postgresql_where=CARD_DIRTY,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id(foreign_key="guild_settings.guild_id", ondelete="CASCADE")
    number: int
    title: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    points: int = 1
    tags: str = Field(default="", max_length=400)  # comma-joined, normalised by the domain
    due_at: datetime | None = _when(default=None, nullable=True)
    capacity: int = 1
    status: str = Field(max_length=16)
    creator_id: int = _id()
    blocked_by_id: int | None = Field(
        default=None, foreign_key="tasks.id", ondelete="SET NULL", nullable=True
    )
    claim_days: int | None = Field(default=None, nullable=True)
    rework_rounds: int = 0
    review_round: int = 0
    card_channel_id: int | None = _id(default=None, nullable=True)
    card_message_id: int | None = _id(default=None, nullable=True)
    thread_id: int | None = _id(default=None, nullable=True)
    next_nudge_at: datetime | None = _when(default=None, nullable=True)  # next review reminder
    # A proposal's lazy consensus: when it opens if nobody objected (its guild's window
    # after it was proposed; moved when the window changes). None for other tasks.
    opens_at: datetime | None = _when(default=None, nullable=True)
    # The card shows an older state than the row since then (set with every change that
    # alters the card, cleared once Discord took the edit); the sweep repairs it.
    card_dirty_since: datetime | None = _when(default=None, nullable=True)
    card_attempts: int = 0
    card_next_attempt_at: datetime | None = _when(default=None, nullable=True)
    status_changed_at: datetime = _when()
    created_at: datetime = _when()
    updated_at: datetime = _when()
    version: int = 1


class ClaimRow(SQLModel, table=True):
    __tablename__ = "claims"
    __table_args__ = (
        # The expiry sweep reads only active claims, ordered by expiry.
        sa.Index(
            "ix_claims_active_expiry",
            "expires_at",
            sqlite_where=ACTIVE_CLAIM,
            postgresql_where=ACTIVE_CLAIM,
        ),
        sa.Index(
            "ix_claims_warning",
            "warn_at",
            sqlite_where=PENDING_WARNING,
            postgresql_where=PENDING_WARNING,
        ),
        sa.Index("ix_claims_member_active", "guild_id", "member_id", "ended_at"),
        sa.Index("ix_claims_task", "task_id", "ended_at"),
        # The digest: which tasks the guild's active and recent claims hold.
        sa.Index(
            "ix_claims_guild_active",
            "guild_id",
            "task_id",
            sqlite_where=ACTIVE_CLAIM,
            postgresql_where=ACTIVE_CLAIM,
        ),
        sa.Index("ix_claims_guild_time", "guild_id", "claimed_at", "task_id"),
        # One active claim per member and task, whatever the race.
        sa.Index(
            "uq_claims_active_member",
            "task_id",
            "member_id",
            unique=True,
            sqlite_where=ACTIVE_CLAIM,
            postgresql_where=ACTIVE_CLAIM,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    guild_id: int = _id()
    member_id: int = _id()
    claimed_at: datetime = _when()
    expires_at: datetime = _when()
    warn_at: datetime | None = _when(
        default=None, nullable=True
    )  # cleared once the warning is sent
    extensions: int = 0
    ended_at: datetime | None = _when(default=None, nullable=True)
    end_reason: str | None = Field(default=None, max_length=16, nullable=True)
    handoff_note: str | None = Field(default=None, max_length=1000, nullable=True)


class Submission(SQLModel, table=True):
    __tablename__ = "submissions"
    __table_args__ = (sa.Index("ix_submissions_task", "task_id", "round"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    guild_id: int = _id()
    member_id: int = _id()
    round: int
    link: str = Field(default="", max_length=500)
    notes: str = Field(default="", max_length=1000)
    created_at: datetime = _when()


class Review(SQLModel, table=True):
    __tablename__ = "reviews"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "round", "reviewer_id", name="uq_reviews_round_reviewer"),
        sa.Index("ix_reviews_guild_time", "guild_id", "created_at"),
        # What a member reviewed: /me tasks leaves those out of "waiting for your review".
        sa.Index("ix_reviews_reviewer", "guild_id", "reviewer_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    guild_id: int = _id()
    reviewer_id: int = _id()
    round: int
    verdict: str = Field(max_length=16)
    comment: str = Field(default="", max_length=1000)
    credited: bool = False
    created_at: datetime = _when()


class ProposalVote(SQLModel, table=True):
    __tablename__ = "proposal_votes"
    __table_args__ = (sa.UniqueConstraint("task_id", "member_id", name="uq_proposal_votes_member"),)

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    guild_id: int = _id()
    member_id: int = _id()
    kind: str = Field(max_length=16)  # endorse | object
    reason: str = Field(default="", max_length=500)
    created_at: datetime = _when()


class TaskHistory(SQLModel, table=True):
    """Append-only: one row per applied action."""

    __tablename__ = "task_history"
    __table_args__ = (
        sa.Index("ix_history_guild_time", "guild_id", "created_at"),
        sa.Index("ix_history_task", "task_id", "id"),
        # The digest: the moves to done in a week, read from the index alone.
        sa.Index("ix_history_status_time", "guild_id", "to_status", "created_at", "task_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id()
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    actor_id: int = _id()
    action: str = Field(max_length=24)
    from_status: str | None = Field(default=None, max_length=16, nullable=True)
    to_status: str = Field(max_length=16)
    note: str = Field(default="", max_length=2000)
    created_at: datetime = _when()


class LedgerEntry(SQLModel, table=True):
    """Append-only credit. Every score is a sum over these rows."""

    __tablename__ = "ledger"
    __table_args__ = (
        # A member's credit of a kind, by time: also whether they had any before a moment
        # (first-time contributors) or within a week (streaks), one probe each.
        sa.Index("ix_ledger_member_time", "guild_id", "member_id", "kind", "created_at"),
        sa.Index("ix_ledger_guild_time", "guild_id", "created_at"),
        # The digest: a week's credit of a kind, read from the index alone.
        sa.Index(
            "ix_ledger_kind_time",
            "guild_id",
            "kind",
            "created_at",
            "member_id",
            "task_id",
            "points",
        ),
        sa.Index("ix_ledger_giver", "guild_id", "giver_id", "created_at"),
        # Credit is once per (task, member, kind): a task reopened and done again pays
        # nobody twice (kudos have no task: NULLs never collide).
        sa.Index("uq_ledger_credit_once", "task_id", "member_id", "kind", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id()
    member_id: int = _id()
    kind: str = Field(max_length=16)  # task | review | kudos
    points: int = 0
    task_id: int | None = Field(
        default=None, foreign_key="tasks.id", ondelete="SET NULL", nullable=True
    )
    review_id: int | None = Field(
        default=None, foreign_key="reviews.id", ondelete="SET NULL", nullable=True
    )
    giver_id: int | None = _id(default=None, nullable=True)
    reason: str = Field(default="", max_length=500)
    created_at: datetime = _when()


class MemberScore(SQLModel, table=True):
    """Each member's all-time totals, the ledger's sums kept beside it: rewritten from the
    member's ledger rows in the transaction that adds one, so the all-time leaderboard
    reads the top of an index instead of summing the whole ledger."""

    __tablename__ = "member_scores"
    __table_args__ = (
        sa.Index("ix_member_scores_points", "guild_id", "points"),
        sa.Index("ix_member_scores_tasks", "guild_id", "tasks"),
        sa.Index("ix_member_scores_reviews", "guild_id", "reviews"),
        sa.Index("ix_member_scores_kudos", "guild_id", "kudos"),
    )

    guild_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    member_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    points: int = 0  # task and review points
    tasks: int = 0  # distinct tasks credited
    reviews: int = 0
    kudos: int = 0  # received


class GuildMember(SQLModel, table=True):
    __tablename__ = "guild_members"
    __table_args__ = (
        # Rankings leave out the few members who hid themselves: read them from an index.
        sa.Index(
            "ix_guild_members_hidden",
            "guild_id",
            sqlite_where=HIDDEN_SQLITE,
            postgresql_where=HIDDEN_PG,
        ),
    )

    guild_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    member_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    reminders_enabled: bool = True
    away_until: datetime | None = _when(default=None, nullable=True)
    ranking_visible: bool = True
    # The Discord locale the member last interacted with: the language of their DMs.
    locale: str | None = Field(default=None, max_length=16, nullable=True)
    updated_at: datetime = _when()


class Delivery(SQLModel, table=True):
    """The delivery log: one row per (kind, task, member, due time), so a reminder is sent
    at least once and never twice, across restarts, crashes and double runs."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("kind", "task_id", "member_id", "due_at", name="uq_deliveries_key"),
        sa.Index("ix_deliveries_retry", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id()
    kind: str = Field(max_length=32)
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    member_id: int = _id()  # 0 for a post in a channel
    due_at: datetime = _when()
    status: str = Field(default="pending", max_length=16)  # pending | sent | skipped | failed
    attempts: int = 0
    lease_until: datetime | None = _when(default=None, nullable=True)
    next_attempt_at: datetime | None = _when(default=None, nullable=True)
    last_error: str = Field(default="", max_length=500)
    via: str = Field(default="", max_length=16)  # dm | thread | channel
    created_at: datetime = _when()
    sent_at: datetime | None = _when(default=None, nullable=True)


class ThreadLine(SQLModel, table=True):
    """A line for a task's thread that Discord refused, kept until it is posted (card
    repair retries it after a backoff, in order, across restarts)."""

    __tablename__ = "thread_lines"
    __table_args__ = (sa.Index("ix_thread_lines_retry", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id(foreign_key="guild_settings.guild_id", ondelete="CASCADE")
    task_id: int = Field(foreign_key="tasks.id", ondelete="CASCADE")
    thread_id: int = _id()
    content: str = Field(max_length=2000)
    pings: str = Field(default="", max_length=400)  # member ids it may ping, comma-joined
    attempts: int = 0
    next_attempt_at: datetime | None = _when(default=None, nullable=True)  # None: given up
    created_at: datetime = _when()


class MilestoneGrant(SQLModel, table=True):
    """A milestone role given (or refused by Discord) once per member: the bot never
    grants it again on its own, and never removes it."""

    __tablename__ = "milestone_grants"
    __table_args__ = (
        sa.UniqueConstraint("guild_id", "member_id", "points", name="uq_milestone_grants_member"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id()
    member_id: int = _id()
    points: int
    role_id: int = _id()
    status: str = Field(default="granted", max_length=16)  # granted | refused
    created_at: datetime = _when()


class DigestPost(SQLModel, table=True):
    """One weekly digest per guild and week: the row is claimed before posting."""

    __tablename__ = "digest_posts"
    __table_args__ = (sa.UniqueConstraint("guild_id", "week_start", name="uq_digest_posts_week"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = _id()
    week_start: datetime = _when()  # the covered week's start, in UTC
    status: str = Field(default="pending", max_length=16)  # pending | posted
    channel_id: int | None = _id(default=None, nullable=True)
    message_id: int | None = _id(default=None, nullable=True)
    lease_until: datetime | None = _when(default=None, nullable=True)
    created_at: datetime = _when()
    posted_at: datetime | None = _when(default=None, nullable=True)
