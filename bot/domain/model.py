"""Value types shared by every layer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    PROPOSED = "proposed"
    OPEN = "open"
    CLAIMED = "claimed"
    IN_REVIEW = "in_review"
    DONE = "done"
    CANCELLED = "cancelled"


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
HISTORY_NOTE_MAX = 2000
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
class Bound:
    """The values a setting may take, both ends included."""

    min: int
    max: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.min <= value <= self.max


# The ranges of what maintainers set. Module-level constants, because the cogs' option
# ranges (`app_commands.Range[int, CLAIM_DAYS.min, CLAIM_DAYS.max]`) are evaluated from them.
CLAIM_DAYS = Bound(1, 90)  # a guild's claim window, and a task's own
MAX_EXTENSIONS = Bound(0, 10)
CLAIM_LIMIT = Bound(1, 50)  # each trust level's claim limit
REQUIRED_APPROVALS = Bound(1, 5)
PROPOSAL_LIMIT = Bound(1, 50)  # each trust level's open proposals at a time
MILESTONE_POINTS = Bound(1, 1_000_000)
REGULAR_THRESHOLD = Bound(2, 1000)  # tasks done to be a regular: above a contributor's 1
PROPOSAL_ENDORSEMENTS = Bound(1, 25)
PROPOSAL_WINDOW_HOURS = Bound(1, 24 * 30)
REVIEW_POINTS = Bound(0, 13)  # 0: reviews are thanked, not scored
REWORK_LIMIT = Bound(1, 20)
REVIEW_NUDGE_HOURS = Bound(1, 24 * 14)
KUDOS_WEEKLY_BUDGET = Bound(1, 100)


@dataclass(frozen=True, slots=True)
class Rules:
    """A guild's rule settings, with SPEC defaults: their one declaration.

    The `guild_settings` table has a column of the same name for each field (a test holds
    them in step) and maps to this with `GuildSettings.rules`; `RULE_BOUNDS` holds the
    ranges /config accepts, checked by `rules.check_rule_values`.
    """

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
    review_nudge_hours: int = 48  # a task in review is first nudged this long after submission
    kudos_weekly_budget: int = 5  # kudos a member may give in any 7 days
    # Open proposals a member may have at a time, by trust level (maintainers: no limit).
    proposal_limit_newcomer: int = 2
    proposal_limit_contributor: int = 5
    proposal_limit_regular: int = 10


# The order is the order of the checks (the first value out of range is the one reported).
RULE_BOUNDS: Mapping[str, Bound] = MappingProxyType(
    {
        "claim_days": CLAIM_DAYS,
        "max_extensions": MAX_EXTENSIONS,
        "limit_newcomer": CLAIM_LIMIT,
        "limit_contributor": CLAIM_LIMIT,
        "limit_regular": CLAIM_LIMIT,
        "required_approvals": REQUIRED_APPROVALS,
        "regular_threshold": REGULAR_THRESHOLD,
        "proposal_endorsements": PROPOSAL_ENDORSEMENTS,
        "proposal_window_hours": PROPOSAL_WINDOW_HOURS,
        "review_points": REVIEW_POINTS,
        "rework_limit": REWORK_LIMIT,
        "review_nudge_hours": REVIEW_NUDGE_HOURS,
        "kudos_weekly_budget": KUDOS_WEEKLY_BUDGET,
        "proposal_limit_newcomer": PROPOSAL_LIMIT,
        "proposal_limit_contributor": PROPOSAL_LIMIT,
        "proposal_limit_regular": PROPOSAL_LIMIT,
    }
)


class Reminder(StrEnum):
    """The reminder kinds the domain's changes and the sweep's built-in phases name (SPEC §6).
    Who each goes to, when it is still worth sending and its text: its entry in
    bot/services/reminders/kinds.py, which may also declare kinds of its own."""

    CLAIM_WARNING = "claim_warning"
    CLAIM_EXPIRED = "claim_expired"
    BACK_ON_BOARD = "back_on_board"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    REVIEW_NUDGE = "review_nudge"
    REVIEW_ESCALATION = "review_escalation"
    UNBLOCKED = "unblocked"
    PROPOSAL_OPENED = "proposal_opened"
    PROPOSAL_CONTESTED = "proposal_contested"  # an objection: a maintainer decides


CHANNEL = 0  # member id of a delivery that goes to a channel, not a person
REVIEW_ESCALATE_AFTER_DAYS = 5
REVIEW_REPEAT_HOURS = 48
DUE_SOON_HOURS = 48
