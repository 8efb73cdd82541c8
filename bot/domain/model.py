"""Value types shared by every layer."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    PROPOSED = "proposed"
    OPEN = "open"
    CLAIMED = "claimed"
    IN_REVIEW = "in_review"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    Status.PROPOSED: "Proposed",
    Status.OPEN: "Open",
    Status.CLAIMED: "Claimed",
    Status.IN_REVIEW: "In review",
    Status.DONE: "Done",
    Status.CANCELLED: "Cancelled",
}


class Action(StrEnum):
    CREATE = "create"
    PROPOSE = "propose"
    ENDORSE = "endorse"
    OBJECT = "object"
    ACCEPT = "accept"  # a proposal opens (endorsements, a maintainer, or lazy consensus)
    CLAIM = "claim"
    RELEASE = "release"
    EXTEND = "extend"
    EXPIRE = "expire"
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    ASSIGN = "assign"
    EDIT = "edit"
    CANCEL = "cancel"
    REOPEN = "reopen"


class TrustLevel(StrEnum):
    NEWCOMER = "newcomer"
    CONTRIBUTOR = "contributor"
    REGULAR = "regular"

    @property
    def rank(self) -> int:
        return _TRUST_RANK[self]


_TRUST_RANK = {TrustLevel.NEWCOMER: 0, TrustLevel.CONTRIBUTOR: 1, TrustLevel.REGULAR: 2}


class ClaimEnd(StrEnum):
    RELEASED = "released"
    EXPIRED = "expired"
    DONE = "done"
    CANCELLED = "cancelled"


class Verdict(StrEnum):
    APPROVE = "approve"
    CHANGES = "changes"


class LedgerKind(StrEnum):
    TASK = "task"
    REVIEW = "review"
    KUDOS = "kudos"


POINT_CHOICES: tuple[int, ...] = (1, 2, 3, 5, 8, 13)
TITLE_MAX = 100
DESCRIPTION_MAX = 2000
NOTE_MAX = 1000
REASON_MAX = 500
LINK_MAX = 500
CAPACITY_MIN, CAPACITY_MAX = 1, 10
TAGS_MAX = 10
TAG_MAX = 32


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, as the adapter saw it in Discord at the moment of the action.

    Role-based facts come from Discord (the adapter resolves them); trust comes from
    the ledger (the service resolves it).
    """

    guild_id: int
    member_id: int
    is_maintainer: bool = False
    has_reviewer_role: bool = False
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Rules:
    """A guild's rule settings, with SPEC defaults."""

    claim_days: int | None = None
    max_extensions: int = 2
    limit_newcomer: int = 1
    limit_contributor: int = 3
    limit_regular: int = 5
    required_approvals: int = 1
    regular_threshold: int = 5
    regulars_can_create: bool = False
    proposal_endorsements: int = 2
    proposal_window_hours: int = 72
    claim_warning_fraction: float = 0.5
    review_points: int = 1
    rework_limit: int = 3


class Reminder(StrEnum):
    """What the bot tells people without being asked (SPEC §6)."""

    CLAIM_WARNING = "claim_warning"  # to the claimant, with Still on it / Release
    CLAIM_EXPIRED = "claim_expired"  # to the claimant
    BACK_ON_BOARD = "back_on_board"  # tasks channel
    DUE_SOON = "due_soon"  # to claimants, 48 h before due
    OVERDUE = "overdue"  # to claimants, at due
    REVIEW_NUDGE = "review_nudge"  # review channel, reviewer role
    REVIEW_ESCALATION = "review_escalation"  # review channel, maintainer role
    UNBLOCKED = "unblocked"  # claimants of the unblocked task, and the tasks channel
    PROPOSAL_OPENED = "proposal_opened"  # tasks channel

    @property
    def to_member(self) -> bool:
        return self in (
            Reminder.CLAIM_WARNING,
            Reminder.CLAIM_EXPIRED,
            Reminder.DUE_SOON,
            Reminder.OVERDUE,
            Reminder.UNBLOCKED,
        )


CHANNEL = 0  # member id of a delivery that goes to a channel, not a person
REVIEW_ESCALATE_AFTER_DAYS = 5
REVIEW_REPEAT_HOURS = 48
DUE_SOON_HOURS = 48
